"""Per-sample scorers for generated answers (see :mod:`.base` for the contract)."""

from __future__ import annotations

from crucible.train.evaluation.scoring.answers import (
    as_number,
    extract_answer,
    final_number,
    normalize_text,
)
from crucible.train.evaluation.scoring.base import Candidate, Scorer, TextScorer
from crucible.train.evaluation.scoring.likelihood import (
    ReferenceNLL,
    ReferencePerplexity,
    perplexity_from_nll,
)
from crucible.train.evaluation.scoring.overlap import BleuScorer, RougeScorer
from crucible.train.evaluation.scoring.registry import SCORER_NAMES, build_scorer, build_scorers
from crucible.train.evaluation.scoring.semantic import SemanticSimilarity
from crucible.train.evaluation.scoring.text import (
    CaseInsensitiveMatch,
    Contains,
    ExactMatch,
    NormalizedMatch,
    TokenF1,
)

__all__ = [
    "SCORER_NAMES",
    "BleuScorer",
    "Candidate",
    "CaseInsensitiveMatch",
    "Contains",
    "ExactMatch",
    "NormalizedMatch",
    "ReferenceNLL",
    "ReferencePerplexity",
    "RougeScorer",
    "Scorer",
    "SemanticSimilarity",
    "TextScorer",
    "TokenF1",
    "as_number",
    "build_scorer",
    "build_scorers",
    "extract_answer",
    "final_number",
    "normalize_text",
    "perplexity_from_nll",
]
