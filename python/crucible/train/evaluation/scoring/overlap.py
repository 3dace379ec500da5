"""N-gram overlap scorers: sentence BLEU (sacrebleu) and ROUGE-1/2/L F-measure
(rouge-score).

Both libraries are optional (the ``eval`` extra) and imported when a scorer is built, so a
missing one fails at configuration time with the extra to install, not mid-run. Scores are
on a 0-1 scale (sacrebleu reports BLEU in percent; it is divided by 100 here) so every
scorer's mean reads the same way.
"""

from __future__ import annotations

from typing import Any, Literal

from crucible.errors import ConfigurationError, InvalidArgumentError
from crucible.train.evaluation.scoring.base import TextScorer

__all__ = ["ROUGE_VARIANTS", "BleuScorer", "RougeScorer"]

RougeVariant = Literal["rouge1", "rouge2", "rougeL"]
ROUGE_VARIANTS: tuple[RougeVariant, ...] = ("rouge1", "rouge2", "rougeL")


def _missing(library: str) -> ConfigurationError:
    return ConfigurationError(f"the {library} scorer needs {library}: pip install 'crucible[eval]'")


class BleuScorer(TextScorer):
    """Smoothed sentence BLEU (sacrebleu's defaults: exponential smoothing, 13a tokens)."""

    name = "bleu"

    def __init__(self) -> None:
        try:
            from sacrebleu.metrics.bleu import BLEU
        except ImportError:  # pragma: no cover - depends on the environment
            raise _missing("sacrebleu") from None
        self._bleu: Any = BLEU(effective_order=True)

    def score(self, prediction: str, reference: str) -> float:
        return float(self._bleu.sentence_score(prediction, [reference]).score) / 100.0


class RougeScorer(TextScorer):
    """ROUGE F-measure of one variant (``rouge1``, ``rouge2`` or ``rougeL``)."""

    name = "rouge"

    def __init__(self, variant: RougeVariant = "rougeL", *, use_stemmer: bool = False) -> None:
        if variant not in ROUGE_VARIANTS:
            raise InvalidArgumentError(f"unknown ROUGE variant {variant!r}; use {ROUGE_VARIANTS}")
        try:
            from rouge_score import rouge_scorer  # type: ignore[import-untyped]
        except ImportError:  # pragma: no cover - depends on the environment
            raise _missing("rouge-score") from None
        self.variant = variant
        self.name = variant  # type: ignore[misc]
        self._scorer: Any = rouge_scorer.RougeScorer([variant], use_stemmer=use_stemmer)

    def score(self, prediction: str, reference: str) -> float:
        result = self._scorer.score(reference, prediction)
        return float(result[self.variant].fmeasure)

    def __repr__(self) -> str:
        return f"RougeScorer({self.variant!r})"
