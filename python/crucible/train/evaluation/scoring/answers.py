"""Answer extraction and normalisation, the SQuAD / GSM8K conventions.

Generated answers wrap the answer in prose ("The answer is 42."); references are often the
bare answer. :func:`extract_answer` pulls the answer out of the usual markers
(``\\boxed{...}``, then the text after the last ``answer:``), :func:`normalize_text`
removes what should not decide a match (case, punctuation, the articles a/an/the, extra
whitespace), and :func:`final_number` reads the last number, for numeric answers.
"""

from __future__ import annotations

import re
import string

__all__ = ["as_number", "extract_answer", "final_number", "normalize_text", "normalized_tokens"]

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)
_ANSWER_MARK = re.compile(r"answer\s*(?:is)?\s*:", re.IGNORECASE)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")
_BOXED = "\\boxed{"


def _last_boxed(text: str) -> str | None:
    """The contents of the last ``\\boxed{...}``, braces balanced; None when absent or
    unclosed."""
    start = text.rfind(_BOXED)
    if start < 0:
        return None
    depth = 0
    begin = start + len(_BOXED)
    for i in range(begin, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            if depth == 0:
                return text[begin:i]
            depth -= 1
    return None


def extract_answer(text: str) -> str:
    """The answer part of ``text``: a ``\\boxed{}`` body, else what follows the last
    ``answer:`` (``the answer is: x`` too), else the whole text; stripped."""
    boxed = _last_boxed(text)
    if boxed is not None:
        return boxed.strip()
    marks = list(_ANSWER_MARK.finditer(text))
    if marks:
        return text[marks[-1].end() :].strip()
    return text.strip()


def normalize_text(text: str) -> str:
    """Lower case, no punctuation, no articles, single spaces (SQuAD's normalisation)."""
    lowered = text.lower().translate(_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", lowered).split())


def normalized_tokens(text: str) -> list[str]:
    return normalize_text(text).split()


def final_number(text: str) -> float | None:
    """The last number written in ``text`` (thousands separators allowed), or None."""
    found = _NUMBER.findall(text)
    if not found:
        return None
    try:
        return float(found[-1].replace(",", ""))
    except ValueError:
        return None


def as_number(text: str) -> float | None:
    """``text`` as a number when it is nothing but one (a trailing full stop allowed)."""
    bare = text.strip().rstrip(".").strip()
    if not _NUMBER.fullmatch(bare):
        return None
    return float(bare.replace(",", ""))
