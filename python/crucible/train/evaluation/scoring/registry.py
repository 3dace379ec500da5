"""Scorers by name, as experiment files and the evaluate stage name them.

Optional libraries load when a scorer that needs them is built, and a scorer that needs an
embedding client fails with a clear error when none is given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from crucible.errors import ConfigurationError, InvalidArgumentError
from crucible.train.evaluation.scoring.base import Scorer
from crucible.train.evaluation.scoring.likelihood import ReferenceNLL, ReferencePerplexity
from crucible.train.evaluation.scoring.overlap import BleuScorer, RougeScorer
from crucible.train.evaluation.scoring.semantic import SemanticSimilarity
from crucible.train.evaluation.scoring.text import (
    CaseInsensitiveMatch,
    Contains,
    ExactMatch,
    NormalizedMatch,
    TokenF1,
)
from crucible.train.ports.retrieval import EmbeddingClient

__all__ = ["SCORER_NAMES", "build_scorer", "build_scorers"]

_NEEDS_EMBEDDER = "semantic_similarity"

_FACTORIES: dict[str, Callable[[], Scorer]] = {
    "exact_match": ExactMatch,
    "contains": Contains,
    "case_insensitive": CaseInsensitiveMatch,
    "normalized": NormalizedMatch,
    "f1": TokenF1,
    "bleu": BleuScorer,
    "rouge1": lambda: RougeScorer("rouge1"),
    "rouge2": lambda: RougeScorer("rouge2"),
    "rougeL": lambda: RougeScorer("rougeL"),
    "nll": ReferenceNLL,
    "perplexity": ReferencePerplexity,
}

SCORER_NAMES: tuple[str, ...] = (*_FACTORIES, _NEEDS_EMBEDDER)


def build_scorer(name: str, *, embedder: EmbeddingClient | None = None) -> Scorer:
    """The scorer called ``name`` (see :data:`SCORER_NAMES`)."""
    if name == _NEEDS_EMBEDDER:
        if embedder is None:
            raise ConfigurationError(f"the {name} scorer needs an embedding client")
        return SemanticSimilarity(embedder)
    factory = _FACTORIES.get(name)
    if factory is None:
        raise InvalidArgumentError(f"unknown scorer {name!r}; known: {', '.join(SCORER_NAMES)}")
    return factory()


def build_scorers(names: Sequence[str], *, embedder: EmbeddingClient | None = None) -> list[Scorer]:
    """One scorer per name, in order; a name given twice is an error (scores are keyed by
    name)."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InvalidArgumentError(f"scorer {name!r} listed twice")
        seen.add(name)
    return [build_scorer(name, embedder=embedder) for name in names]
