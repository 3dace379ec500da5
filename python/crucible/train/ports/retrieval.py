"""Retrieval ports: text embeddings and a vector index."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import msgspec
import numpy as np
import numpy.typing as npt

__all__ = ["EmbeddingClient", "VectorHit", "VectorStore"]


@runtime_checkable
class EmbeddingClient(Protocol):
    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One row per text, ``[len(texts), dimension]``."""
        ...


class VectorHit(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    score: float
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)


@runtime_checkable
class VectorStore(Protocol):
    def upsert(
        self,
        ids: Sequence[str],
        vectors: npt.NDArray[np.float32],
        metadata: Sequence[Mapping[str, Any]] | None = None,
    ) -> None: ...

    def query(self, vector: npt.NDArray[np.float32], k: int = 10) -> list[VectorHit]:
        """The ``k`` nearest entries, best first."""
        ...

    def get(self, id: str) -> VectorHit | None: ...

    def delete(self, ids: Sequence[str]) -> int: ...

    def count(self) -> int: ...

    def clear(self) -> None: ...
