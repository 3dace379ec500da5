"""Write the small conversational data set bundled with crucible.train.

Run: python tools/make_conversations.py  (rewrites python/crucible/train/data/conversations.jsonl)

Every conversation is made here from facts and phrasings written for this project, so the
data set is ours, small (a few hundred conversations), offline, and regular enough for the
NumPy backend to learn in seconds: question templates, fixed answer shapes, a few
multi-turn exchanges and system prompts. The output is deterministic (seeded).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from crucible import prng

OUT = Path(__file__).parents[1] / "python/crucible/train/data/conversations.jsonl"
SEED = 20260101

CAPITALS = {
    "France": "Paris",
    "Spain": "Madrid",
    "Italy": "Rome",
    "Germany": "Berlin",
    "Portugal": "Lisbon",
    "Japan": "Tokyo",
    "Canada": "Ottawa",
    "Egypt": "Cairo",
    "Kenya": "Nairobi",
    "Peru": "Lima",
    "Chile": "Santiago",
    "Norway": "Oslo",
    "Sweden": "Stockholm",
    "Finland": "Helsinki",
    "Poland": "Warsaw",
    "Greece": "Athens",
    "Austria": "Vienna",
    "Ireland": "Dublin",
    "Cuba": "Havana",
    "India": "New Delhi",
    "China": "Beijing",
    "Russia": "Moscow",
    "Mexico": "Mexico City",
    "Brazil": "Brasilia",
    "Argentina": "Buenos Aires",
    "Turkey": "Ankara",
    "Iran": "Tehran",
    "Iraq": "Baghdad",
    "Vietnam": "Hanoi",
    "Thailand": "Bangkok",
    "Denmark": "Copenhagen",
    "Belgium": "Brussels",
}
COLORS = {
    "the sky": "blue",
    "grass": "green",
    "snow": "white",
    "coal": "black",
    "a banana": "yellow",
    "a tomato": "red",
    "an orange": "orange",
    "a lemon": "yellow",
    "the sea": "blue",
    "a carrot": "orange",
    "milk": "white",
    "a plum": "purple",
    "chocolate": "brown",
    "a strawberry": "red",
    "a leaf": "green",
    "night": "black",
}
SOUNDS = {
    "cow": "moo",
    "dog": "woof",
    "cat": "meow",
    "duck": "quack",
    "sheep": "baa",
    "owl": "hoot",
    "lion": "roar",
    "pig": "oink",
    "frog": "croak",
    "horse": "neigh",
    "bee": "buzz",
    "mouse": "squeak",
    "snake": "hiss",
    "crow": "caw",
}
OPPOSITES = {
    "hot": "cold",
    "big": "small",
    "up": "down",
    "fast": "slow",
    "happy": "sad",
    "light": "dark",
    "early": "late",
    "open": "closed",
    "full": "empty",
    "hard": "soft",
    "old": "new",
    "long": "short",
    "rich": "poor",
    "strong": "weak",
    "wet": "dry",
    "loud": "quiet",
    "near": "far",
    "high": "low",
    "thick": "thin",
    "clean": "dirty",
}
PLURALS = {
    "mouse": "mice",
    "child": "children",
    "foot": "feet",
    "tooth": "teeth",
    "goose": "geese",
    "man": "men",
    "woman": "women",
    "cat": "cats",
    "box": "boxes",
    "city": "cities",
    "leaf": "leaves",
    "knife": "knives",
    "bus": "buses",
    "baby": "babies",
    "day": "days",
    "story": "stories",
    "wolf": "wolves",
    "dish": "dishes",
}
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
WORDS = [
    "cat",
    "dog",
    "sun",
    "tree",
    "book",
    "fish",
    "moon",
    "star",
    "bird",
    "rain",
    "milk",
    "lamp",
    "door",
    "ship",
    "frog",
    "cake",
    "hand",
    "rose",
    "wind",
    "gold",
]
UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
SYSTEMS = [
    "You are a helpful assistant.",
    "Answer in one short sentence.",
    "You are a friendly tutor for children.",
]


def number_word(n: int) -> str:
    teens = [
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ]
    tens = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
    if n < 10:
        return UNITS[n]
    if n < 20:
        return teens[n - 10]
    word = tens[n // 10]
    return word if n % 10 == 0 else f"{word}-{UNITS[n % 10]}"


def main() -> None:
    rng = prng.default_rng(SEED)

    def pick(seq: list[str]) -> str:
        return seq[int(rng.integers(0, len(seq)))]

    def capital() -> tuple[str, str]:
        country = pick(list(CAPITALS))
        q = pick(
            [
                f"What is the capital of {country}?",
                f"Which city is the capital of {country}?",
                f"Name the capital of {country}.",
            ]
        )
        return q, f"The capital of {country} is {CAPITALS[country]}."

    def color() -> tuple[str, str]:
        thing = pick(list(COLORS))
        q = pick([f"What color is {thing}?", f"What colour is {thing}?"])
        return q, f"{thing[0].upper()}{thing[1:]} is {COLORS[thing]}."

    def sound() -> tuple[str, str]:
        animal = pick(list(SOUNDS))
        q = pick([f"What sound does a {animal} make?", f"What does a {animal} say?"])
        return q, f"A {animal} says {SOUNDS[animal]}."

    def opposite() -> tuple[str, str]:
        word = pick(list(OPPOSITES))
        q = pick([f"What is the opposite of {word}?", f"Give me the opposite of {word}."])
        return q, f"The opposite of {word} is {OPPOSITES[word]}."

    def plural() -> tuple[str, str]:
        word = pick(list(PLURALS))
        q = pick([f"What is the plural of {word}?", f"How do you say more than one {word}?"])
        return q, f"The plural of {word} is {PLURALS[word]}."

    def add() -> tuple[str, str]:
        a, b = int(rng.integers(0, 10)), int(rng.integers(0, 10))
        q = pick([f"What is {a} plus {b}?", f"Add {a} and {b}.", f"What is {a} + {b}?"])
        return q, f"{a} plus {b} is {a + b}."

    def next_day() -> tuple[str, str]:
        i = int(rng.integers(0, 7))
        q = pick([f"What day comes after {DAYS[i]}?", f"Which day follows {DAYS[i]}?"])
        return q, f"The day after {DAYS[i]} is {DAYS[(i + 1) % 7]}."

    def next_month() -> tuple[str, str]:
        i = int(rng.integers(0, 12))
        q = pick([f"What month comes after {MONTHS[i]}?", f"Which month follows {MONTHS[i]}?"])
        return q, f"The month after {MONTHS[i]} is {MONTHS[(i + 1) % 12]}."

    def spell() -> tuple[str, str]:
        word = pick(WORDS)
        q = pick([f"How do you spell {word}?", f"Spell the word {word}."])
        return q, f"{word} is spelled {'-'.join(word)}."

    def count() -> tuple[str, str]:
        a = int(rng.integers(1, 8))
        b = a + int(rng.integers(2, 5))
        q = pick([f"Count from {a} to {b}.", f"Please count from {a} to {b}."])
        return q, ", ".join(str(n) for n in range(a, b + 1)) + "."

    def words() -> tuple[str, str]:
        n = int(rng.integers(0, 100))
        q = pick([f"Write {n} in words.", f"How do you write the number {n} in words?"])
        return q, f"{n} is written {number_word(n)}."

    def shout() -> tuple[str, str]:
        phrase = f"{pick(WORDS)} and {pick(WORDS)}"
        q = f"Say '{phrase}' in capital letters."
        return q, phrase.upper() + "."

    def greet() -> tuple[str, str]:
        q = pick(["Hello!", "Hi there.", "Good morning!", "Hey, how are you?"])
        a = pick(
            [
                "Hello! How can I help you today?",
                "Hi! What would you like to know?",
                "Good to see you. How can I help?",
            ]
        )
        return q, a

    makers: list[Callable[[], tuple[str, str]]] = [
        capital,
        color,
        sound,
        opposite,
        plural,
        add,
        next_day,
        next_month,
        spell,
        count,
        words,
        shout,
        greet,
    ]
    rows = []
    for _ in range(640):
        messages = []
        if rng.random() < 0.25:
            messages.append({"role": "system", "content": pick(SYSTEMS)})
        turns = 2 if rng.random() < 0.2 else 1
        for _ in range(turns):
            q, a = makers[int(rng.integers(0, len(makers)))]()
            messages += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
        rows.append(json.dumps({"messages": messages}, ensure_ascii=False))
    OUT.write_text("\n".join(rows) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} conversations to {OUT}")


if __name__ == "__main__":
    main()
