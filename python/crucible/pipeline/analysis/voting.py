"""Ensemble voting: several models answer the same sample; one answer is chosen.

Answers are compared after normalization (``lowercase_trim`` by default: case-folded,
whitespace collapsed and trimmed), so ``" Paris"`` and ``"paris"`` are one vote. The
strategies are the IR's :class:`~crucible.ir.enums.EnsembleStrategy` values:

- ``majority``: one vote per model; the most frequent answer wins.
- ``weighted``: each model votes with its weight (1.0 when not given).
- ``best_confidence``: the single answer with the highest confidence wins. A ballot's
  confidence is the per-prediction ``confidence`` of its sample row when the producer
  wrote one, else its model's weight (so with neither, it is the first model's answer).
- ``unanimous``: the answer when every model gives it, else the ensemble abstains.

Ties are broken by model order: among equally supported answers, the one given by the
earliest model in the ensemble's ``models`` list wins (list your most trusted model
first). ``support`` is the winning answer's share of the vote (weight share for
``weighted``, share of models agreeing otherwise); with ``min_agreement`` set, a winner
below it makes the ensemble abstain (``answer`` None) rather than guess.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal, NamedTuple

from crucible.errors import InvalidArgumentError

__all__ = [
    "Ballot",
    "Normalization",
    "Strategy",
    "VoteResult",
    "normalize_answer",
    "vote",
]

Strategy = Literal["majority", "weighted", "best_confidence", "unanimous"]
Normalization = Literal["none", "strip", "lowercase_trim"]

_SPACE = re.compile(r"\s+")


class Ballot(NamedTuple):
    """One model's answer; ``confidence`` None means the row carried none."""

    model: str
    answer: str
    weight: float = 1.0
    confidence: float | None = None


class VoteResult(NamedTuple):
    """``answer`` is the chosen ballot's original text (None: abstained); ``model`` the
    ballot it came from; ``tally`` the support per normalized answer."""

    answer: str | None
    model: str | None
    support: float
    unanimous: bool
    tally: dict[str, float]


def normalize_answer(text: str, how: Normalization = "lowercase_trim") -> str:
    if how == "none":
        return text
    if how == "strip":
        return text.strip()
    return _SPACE.sub(" ", text).strip().casefold()


def _tally(ballots: Sequence[Ballot], keys: list[str], weighted: bool) -> dict[str, float]:
    tally: dict[str, float] = {}
    for ballot, key in zip(ballots, keys, strict=True):
        tally[key] = tally.get(key, 0.0) + (ballot.weight if weighted else 1.0)
    return tally


def _winner(tally: dict[str, float]) -> str:
    """The top answer; dicts keep insertion order, so the first inserted (earliest
    model's) answer wins a tie."""
    best = max(tally.values())
    return next(key for key, value in tally.items() if value == best)


def vote(
    ballots: Sequence[Ballot],
    strategy: Strategy,
    *,
    normalization: Normalization = "lowercase_trim",
    min_agreement: float | None = None,
) -> VoteResult:
    """Combine ``ballots`` (in model-priority order) with ``strategy``."""
    if not ballots:
        raise InvalidArgumentError("a vote needs at least one ballot")
    keys = [normalize_answer(b.answer, normalization) for b in ballots]
    counts = _tally(ballots, keys, weighted=False)
    unanimous = len(counts) == 1
    if strategy == "weighted":
        tally = _tally(ballots, keys, weighted=True)
        chosen = _winner(tally)
        support = tally[chosen] / sum(tally.values())
    elif strategy == "best_confidence":
        scores = [b.weight if b.confidence is None else b.confidence for b in ballots]
        top = max(scores)
        chosen = keys[scores.index(top)]
        tally, support = counts, counts[chosen] / len(ballots)
    elif strategy in ("majority", "unanimous"):
        tally = counts
        chosen = _winner(counts)
        support = counts[chosen] / len(ballots)
        if strategy == "unanimous" and not unanimous:
            return VoteResult(None, None, support, False, tally)
    else:
        raise InvalidArgumentError(f"unknown voting strategy {strategy!r}")
    if min_agreement is not None and support < min_agreement:
        return VoteResult(None, None, support, unanimous, tally)
    source = keys.index(chosen)
    return VoteResult(ballots[source].answer, ballots[source].model, support, unanimous, tally)
