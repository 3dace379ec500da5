"""Semantic similarity: the cosine of the prediction's and the reference's embeddings.

Embeddings come through the :class:`~crucible.train.ports.EmbeddingClient` port, one call
per chunk for predictions and references together. A zero vector (an embedder's answer to
empty text, say) has no direction: its similarity is 0.0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from crucible.errors import InvalidArgumentError
from crucible.train.evaluation.scoring.base import Candidate
from crucible.train.ports.retrieval import EmbeddingClient

__all__ = ["SemanticSimilarity"]


class SemanticSimilarity:
    name = "semantic_similarity"
    needs_logprobs = False

    def __init__(self, embedder: EmbeddingClient) -> None:
        self.embedder = embedder

    def score_batch(self, candidates: Sequence[Candidate]) -> list[float]:
        if not candidates:
            return []
        texts = [c.prediction for c in candidates] + [c.reference for c in candidates]
        vectors = np.asarray(self.embedder.embed(texts), dtype=np.float64)
        if vectors.shape != (len(texts), self.embedder.dimension):
            raise InvalidArgumentError(
                f"embedder returned shape {vectors.shape}, expected "
                f"({len(texts)}, {self.embedder.dimension})"
            )
        pred, ref = vectors[: len(candidates)], vectors[len(candidates) :]
        norms = np.linalg.norm(pred, axis=1) * np.linalg.norm(ref, axis=1)
        dots = np.einsum("ij,ij->i", pred, ref)
        with np.errstate(invalid="ignore", divide="ignore"):
            cosine = np.where(norms > 0, dots / np.where(norms > 0, norms, 1.0), 0.0)
        return [float(x) for x in np.clip(cosine, -1.0, 1.0)]
