"""Rule-based prompt-injection and jailbreak detection with a score.

Text is normalized first (Unicode NFKC, zero-width characters removed, case folded, runs
of spaces and tabs collapsed; line breaks kept, since some attacks need a line start),
which defeats the cheapest obfuscations. Rules are grouped into categories, each with a
weight, the probability-like strength of its evidence:

- ``instruction_override`` (0.9): "ignore / disregard / forget ... previous instructions",
  "new instructions:";
- ``system_prompt_exfiltration`` (0.85): "reveal / print / repeat ... your system prompt",
  "repeat everything above";
- ``delimiter_attack`` (0.8): chat-template tokens (``<|im_start|>``, ``[INST]``,
  ``</system>``), fake section ends ("--- end of system prompt"), a line opening with
  ``system:`` (0.6);
- ``role_override`` (0.7): "you are now ...", "from now on you will ...", "act as an
  unrestricted ...", "pretend to be" (0.5);
- ``jailbreak`` (0.8, only with jailbreak detection on): "developer mode", "do anything
  now", "without any restrictions", "jailbreak".

The score combines the strongest rule of each matched category as independent evidence,
``1 - prod(1 - w)``, so one strong signal scores its weight and two categories score more
than either. Text is flagged when the score reaches the threshold (profiles: ``strict``
0.3, ``default``/``moderate`` 0.5, ``permissive`` 0.7).
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

__all__ = [
    "CATEGORIES",
    "PROFILE_THRESHOLDS",
    "InjectionResult",
    "normalize_text",
    "score_injection",
]

PROFILE_THRESHOLDS: dict[str, float] = {
    "strict": 0.3,
    "default": 0.5,
    "moderate": 0.5,
    "permissive": 0.7,
}

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile(r"[ \t\f\v]+")
_ANY = r"(?:\s+\S+){0,3}?"


class _Rule(NamedTuple):
    category: str
    name: str
    weight: float
    pattern: re.Pattern[str]


def _rule(category: str, name: str, weight: float, pattern: str) -> _Rule:
    return _Rule(category, name, weight, re.compile(pattern, re.MULTILINE))


_RULES: tuple[_Rule, ...] = (
    _rule(
        "instruction_override",
        "ignore_instructions",
        0.9,
        r"\b(?:ignore|disregard|forget|skip|override|bypass)\b"
        + _ANY
        + r"\s+(?:previous|prior|above|earlier|preceding|all|any|your|the|system|those)\b"
        + r"(?:\s+\S+){0,2}?\s+(?:instructions?|prompts?|rules|directions|guidelines|context)\b",
    ),
    _rule("instruction_override", "new_instructions", 0.6, r"\bnew instructions?\s*:"),
    _rule(
        "system_prompt_exfiltration",
        "reveal_system_prompt",
        0.85,
        r"\b(?:reveal|show|print|display|output|repeat|leak|dump|tell me|what (?:is|are))\b"
        + _ANY
        + r"\s+(?:system|hidden|initial|original|secret)\s+(?:prompt|instructions?|message)",
    ),
    _rule(
        "system_prompt_exfiltration",
        "repeat_above",
        0.85,
        r"\brepeat (?:everything|all|the (?:text|words|lines)) (?:above|before)\b",
    ),
    _rule(
        "delimiter_attack",
        "template_token",
        0.8,
        r"<\|(?:im_start|im_end|endoftext|system)\|>|\[/?(?:inst|sys)\]|</?(?:system|instructions?)>",
    ),
    _rule(
        "delimiter_attack",
        "fake_section_end",
        0.8,
        r"-{3,}\s*(?:end|begin) of (?:the )?(?:system|prompt|instructions)",
    ),
    _rule("delimiter_attack", "system_line", 0.6, r"^\s*(?:#+\s*)?system\s*:"),
    _rule("role_override", "you_are_now", 0.7, r"\byou are (?:now|no longer)\b"),
    _rule("role_override", "from_now_on", 0.7, r"\bfrom now on,? you (?:will|are|must|shall)\b"),
    _rule(
        "role_override",
        "act_as_unrestricted",
        0.7,
        r"\b(?:act|behave|respond) as (?:if you were |an? )?(?:an? )?"
        r"(?:unrestricted|unfiltered|uncensored|jailbroken|evil)\b",
    ),
    _rule("role_override", "pretend", 0.5, r"\bpretend (?:to be|you are)\b"),
    _rule("jailbreak", "mode_switch", 0.8, r"\b(?:developer|dan|god) mode\b"),
    _rule("jailbreak", "do_anything_now", 0.8, r"\bdo anything now\b"),
    _rule(
        "jailbreak",
        "no_restrictions",
        0.8,
        r"\bwithout (?:any )?(?:restrictions|filters|limitations|censorship)\b",
    ),
    _rule("jailbreak", "jailbreak_word", 0.8, r"\bjailbreak"),
)

CATEGORIES: tuple[str, ...] = tuple(dict.fromkeys(rule.category for rule in _RULES))


class InjectionResult(NamedTuple):
    score: float
    flagged: bool
    matches: dict[str, list[str]]
    """Matched rule names per category."""


def normalize_text(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text)
    folded = _ZERO_WIDTH.sub("", folded).casefold()
    return _SPACES.sub(" ", folded)


def score_injection(
    text: str, *, threshold: float = 0.5, jailbreak: bool = True
) -> InjectionResult:
    """Score ``text`` (see the module docstring)."""
    normalized = normalize_text(text)
    matches: dict[str, list[str]] = {}
    strongest: dict[str, float] = {}
    for rule in _RULES:
        if rule.category == "jailbreak" and not jailbreak:
            continue
        if rule.pattern.search(normalized):
            matches.setdefault(rule.category, []).append(rule.name)
            strongest[rule.category] = max(strongest.get(rule.category, 0.0), rule.weight)
    remaining = 1.0
    for weight in strongest.values():
        remaining *= 1.0 - weight
    score = 1.0 - remaining
    return InjectionResult(score, bool(matches) and score >= threshold, matches)
