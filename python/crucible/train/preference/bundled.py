"""The bundled preference set, generated here so anyone can check it is what it claims.

``preferences.jsonl`` in :mod:`crucible.train.data` is ``generate_preferences()`` written
with :func:`~.comparisons.write_comparisons` (``python -m crucible.train.preference.bundled``
rewrites it; a test checks the file matches). Each prompt is a short question about a small
fact (capitals, sums, colours, animal sounds, opposites) in one of several phrasings; the
chosen answer is correct, polite and concise, the rejected one is rude, rambling, or the
same polite sentence with a wrong fact. Style is learnable from the completion alone, the
wrong-fact pairs need the prompt, so held-out pairs test more than a token-frequency trick.
"""

from __future__ import annotations

import sys
from pathlib import Path

from crucible import prng
from crucible.train.preference.comparisons import (
    BUNDLED_PREFERENCES,
    Comparison,
    write_comparisons,
)
from crucible.train.renderers.messages import Message

__all__ = ["generate_preferences"]

_CAPITALS = {
    "France": "Paris", "Italy": "Rome", "Spain": "Madrid", "Germany": "Berlin",
    "Japan": "Tokyo", "Egypt": "Cairo", "Peru": "Lima", "Kenya": "Nairobi",
    "Norway": "Oslo", "Greece": "Athens", "Canada": "Ottawa", "Chile": "Santiago",
    "Poland": "Warsaw", "Cuba": "Havana", "Ireland": "Dublin", "Austria": "Vienna",
}  # fmt: skip
_COLOURS = {
    "the sky": "blue", "grass": "green", "snow": "white", "a banana": "yellow",
    "coal": "black", "a tomato": "red", "a carrot": "orange", "a plum": "purple",
}  # fmt: skip
_SOUNDS = {
    "a cow": "moo", "a dog": "woof", "a cat": "meow", "a duck": "quack",
    "a sheep": "baa", "an owl": "hoot", "a lion": "roar", "a snake": "hiss",
}  # fmt: skip
_OPPOSITES = {
    "hot": "cold", "up": "down", "big": "small", "fast": "slow", "day": "night",
    "open": "closed", "wet": "dry", "early": "late", "full": "empty", "loud": "quiet",
}  # fmt: skip
_NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
            "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
            "seventeen", "eighteen"]  # fmt: skip

_QUESTIONS = {
    "capital": ("What is the capital of {x}?", "Name the capital city of {x}.",
                "Which city is the capital of {x}?"),
    "colour": ("What colour is {x}?", "Tell me the colour of {x}.", "Which colour is {x}?"),
    "sound": ("What sound does {x} make?", "What does {x} say?", "Which noise does {x} make?"),
    "opposite": ("What is the opposite of {x}?", "Give me the opposite of {x}.",
                 "Which word means the opposite of {x}?"),
    "sum": ("What is {x}?", "Please compute {x}.", "How much is {x}?"),
}  # fmt: skip
_GOOD = ("{a}.", "Sure, it is {a}.", "The answer is {a}.", "Happy to help: {a}.")
_RUDE = (
    "Figure it out yourself.",
    "Not my problem, go away.",
    "Ugh, stop asking me things.",
    "Why would I tell you that?",
    "Look it up, I am busy.",
)
_RAMBLE = (
    "Well, hmm, let me think about it for a while, it might be {a}, or maybe not, who knows.",
    "Oh, that is a long story, and honestly I am not sure, but perhaps {a}, I guess, maybe.",
    "So, um, people say many things about this, some say {a}, some say other things, hard to say.",
)


def _facts() -> dict[str, dict[str, str]]:
    sums = {}
    for a in range(1, 10):
        for b in range(1, 10):
            if a <= b:
                sums[f"{_NUMBERS[a]} plus {_NUMBERS[b]}"] = _NUMBERS[a + b]
    return {
        "capital": _CAPITALS,
        "colour": _COLOURS,
        "sound": _SOUNDS,
        "opposite": _OPPOSITES,
        "sum": sums,
    }


def generate_preferences(count: int = 400, seed: int = 20240) -> list[Comparison]:
    """``count`` distinct comparisons, a pure function of ``seed``: about 45% rude, 35%
    rambling and 20% wrong-fact rejections."""
    rng = prng.default_rng(seed)
    facts = _facts()
    kinds = sorted(facts)
    seen: set[tuple[str, str, str]] = set()
    out: list[Comparison] = []
    while len(out) < count:
        kind = kinds[int(rng.integers(0, len(kinds)))]
        table = facts[kind]
        keys = sorted(table)
        subject = keys[int(rng.integers(0, len(keys)))]
        answer = table[subject]
        templates = _QUESTIONS[kind]
        question = templates[int(rng.integers(0, len(templates)))].format(x=subject)
        good = _GOOD[int(rng.integers(0, len(_GOOD)))]
        chosen = good.format(a=answer)
        u = float(rng.random())
        if u < 0.45:
            rejected = _RUDE[int(rng.integers(0, len(_RUDE)))]
            style = "rude"
        elif u < 0.80:
            rejected = _RAMBLE[int(rng.integers(0, len(_RAMBLE)))].format(a=answer)
            style = "rambling"
        else:
            others = sorted({v for v in table.values() if v != answer})
            rejected = good.format(a=others[int(rng.integers(0, len(others)))])
            style = "wrong"
        key = (question, chosen, rejected)
        if key in seen:
            continue
        seen.add(key)
        out.append(
            Comparison(
                prompt=[Message(role="user", content=question)],
                chosen=[Message(role="assistant", content=chosen)],
                rejected=[Message(role="assistant", content=rejected)],
                id=f"{kind}-{style}-{len(out):04d}",
            )
        )
    return out


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else BUNDLED_PREFERENCES["preferences"]
    write_comparisons(generate_preferences(), path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
