"""String-matching scorers: exact, contained, case-insensitive, normalised, token F1.

Every one returns 1.0 or 0.0 except :class:`TokenF1`, SQuAD's bag-of-tokens F1 between the
normalised prediction and reference. Surrounding whitespace never counts (a sampled reply
often starts with a space), so "exact" means equal after ``strip()``.
"""

from __future__ import annotations

from collections import Counter

from crucible.train.evaluation.scoring.answers import (
    as_number,
    extract_answer,
    final_number,
    normalize_text,
    normalized_tokens,
)
from crucible.train.evaluation.scoring.base import TextScorer

__all__ = ["CaseInsensitiveMatch", "Contains", "ExactMatch", "NormalizedMatch", "TokenF1"]


class ExactMatch(TextScorer):
    name = "exact_match"

    def score(self, prediction: str, reference: str) -> float:
        return float(prediction.strip() == reference.strip())


class Contains(TextScorer):
    """Whether the reference appears verbatim inside the prediction."""

    name = "contains"

    def score(self, prediction: str, reference: str) -> float:
        return float(reference.strip() in prediction)


class CaseInsensitiveMatch(TextScorer):
    name = "case_insensitive"

    def score(self, prediction: str, reference: str) -> float:
        return float(prediction.strip().casefold() == reference.strip().casefold())


class NormalizedMatch(TextScorer):
    """Match after answer extraction: when the reference's answer is a number, the
    prediction's final number must equal it; otherwise the normalised texts must."""

    name = "normalized"

    def score(self, prediction: str, reference: str) -> float:
        pred, ref = extract_answer(prediction), extract_answer(reference)
        ref_number = as_number(ref)
        if ref_number is not None:
            return float(final_number(pred) == ref_number)
        return float(normalize_text(pred) == normalize_text(ref))


class TokenF1(TextScorer):
    """SQuAD F1: harmonic mean of token precision and recall after normalisation; two
    empty answers agree (1.0), one empty answer scores 0.0."""

    name = "f1"

    def score(self, prediction: str, reference: str) -> float:
        pred, ref = normalized_tokens(prediction), normalized_tokens(reference)
        if not pred or not ref:
            return float(pred == ref)
        overlap = sum((Counter(pred) & Counter(ref)).values())
        if overlap == 0:
            return 0.0
        precision, recall = overlap / len(pred), overlap / len(ref)
        return 2 * precision * recall / (precision + recall)
