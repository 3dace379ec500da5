"""A vector store in one SQLite file, searched exactly with NumPy.

Each row holds an id, the vector as a little-endian float32 blob, and its metadata as JSON.
The store's dimension is fixed by its first vector (or the constructor) and kept in the file,
so a store reopened later still refuses vectors of another size. Search is exact cosine
similarity: the rows are loaded once into an L2-normalised float32 matrix (kept until the
next write), a batch of queries is one matrix product against it, and the top ``k`` come
from ``argpartition`` (linear time) before only those ``k`` are sorted. Exact search stays
fast well past 10^5 rows of a few hundred dimensions; an approximate index (HNSW, IVF) is
left out on purpose until a store outgrows that. Rows of all zeros score 0 against anything.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from crucible.errors import InvalidArgumentError, NotFoundError, StorageError
from crucible.train.ports.retrieval import VectorHit

__all__ = ["SqliteVectorStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS store_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS vectors (
    id TEXT PRIMARY KEY,
    vector BLOB NOT NULL,
    metadata TEXT NOT NULL
);
"""
_F32 = np.dtype("<f4")


class SqliteVectorStore:
    def __init__(self, path: str | Path, *, dimension: int | None = None) -> None:
        if dimension is not None and (not isinstance(dimension, int) or dimension < 1):
            raise InvalidArgumentError(f"dimension must be a positive integer, got {dimension!r}")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the vector store {self.path}: {exc}") from exc
        self._lock = threading.RLock()
        self._matrix: npt.NDArray[np.float32] | None = None
        self._ids: list[str] = []
        stored = self._db.execute("SELECT value FROM store_info WHERE key='dimension'").fetchone()
        self._dimension: int | None = int(stored[0]) if stored else None
        if dimension is not None:
            if self._dimension is not None and self._dimension != dimension:
                raise InvalidArgumentError(
                    f"{self.path} holds {self._dimension}-dimensional vectors, not {dimension}"
                )
            self._set_dimension(dimension)

    @property
    def dimension(self) -> int | None:
        """``None`` until the first vector (or the constructor) fixes it."""
        return self._dimension

    def _set_dimension(self, dimension: int) -> None:
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO store_info (key, value) VALUES ('dimension', ?)",
                (str(dimension),),
            )
        self._dimension = dimension

    def _as_matrix(self, vectors: Any, what: str) -> npt.NDArray[np.float32]:
        array = np.asarray(vectors, dtype=np.float32)
        if array.ndim == 1:
            array = array[None, :]
        if array.ndim != 2:
            raise InvalidArgumentError(f"{what} must be 1-D or 2-D, got shape {array.shape}")
        if self._dimension is not None and array.shape[1] != self._dimension:
            raise InvalidArgumentError(
                f"{what} have dimension {array.shape[1]}, the store holds {self._dimension}"
            )
        if not np.isfinite(array).all():
            raise InvalidArgumentError(f"{what} contain NaN or infinite values")
        return array

    def upsert(
        self,
        ids: Sequence[str],
        vectors: npt.NDArray[np.float32],
        metadata: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        """Insert or replace rows; all of them or none (one transaction)."""
        if isinstance(ids, str):
            raise InvalidArgumentError("ids must be a sequence of strings, not one string")
        ids = list(ids)
        matrix = self._as_matrix(vectors, "vectors")
        if matrix.shape[0] != len(ids):
            raise InvalidArgumentError(f"{len(ids)} ids for {matrix.shape[0]} vectors")
        if any(not isinstance(i, str) or not i for i in ids) or len(set(ids)) != len(ids):
            raise InvalidArgumentError("ids must be unique, non-empty strings")
        metas = [{} for _ in ids] if metadata is None else list(metadata)
        if len(metas) != len(ids):
            raise InvalidArgumentError(f"{len(metas)} metadata entries for {len(ids)} ids")
        try:
            texts = [json.dumps(dict(m), allow_nan=False, sort_keys=True) for m in metas]
        except (TypeError, ValueError) as exc:
            raise InvalidArgumentError(f"metadata must be JSON-serialisable: {exc}") from None
        rows = [(id_, matrix[i].astype(_F32).tobytes(), texts[i]) for i, id_ in enumerate(ids)]
        with self._lock:
            if self._dimension is None and rows:
                self._set_dimension(matrix.shape[1])
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO vectors (id, vector, metadata) VALUES (?, ?, ?)", rows
                )
            self._matrix = None

    def _load(self) -> tuple[npt.NDArray[np.float32], list[str]]:
        with self._lock:
            if self._matrix is None:
                rows = self._db.execute("SELECT id, vector FROM vectors ORDER BY id").fetchall()
                dim = self._dimension or 0
                matrix = np.empty((len(rows), dim), dtype=np.float32)
                for i, (_, blob) in enumerate(rows):
                    matrix[i] = np.frombuffer(blob, dtype=_F32)
                norms = np.linalg.norm(matrix, axis=1, keepdims=True)
                np.divide(matrix, norms, out=matrix, where=norms > 0)
                self._matrix, self._ids = matrix, [r[0] for r in rows]
            return self._matrix, self._ids

    def query_many(self, vectors: npt.NDArray[np.float32], k: int = 10) -> list[list[VectorHit]]:
        """The ``k`` most cosine-similar rows for each query row, best first (ties by id)."""
        if not isinstance(k, int) or k < 1:
            raise InvalidArgumentError(f"k must be a positive integer, got {k!r}")
        queries = self._as_matrix(vectors, "query vectors")
        norms = np.linalg.norm(queries, axis=1, keepdims=True)
        if (norms == 0).any():
            raise InvalidArgumentError("a query vector is all zeros: cosine is undefined")
        matrix, ids = self._load()
        if not ids:
            return [[] for _ in range(queries.shape[0])]
        scores = (queries / norms) @ matrix.T
        take = min(k, len(ids))
        top = np.argpartition(-scores, take - 1, axis=1)[:, :take]
        hits: list[list[VectorHit]] = []
        for row, candidates in enumerate(top):
            order = sorted(candidates.tolist(), key=lambda j: (-scores[row, j], ids[j]))
            chosen = [ids[j] for j in order]
            metas = self._metadata(chosen)
            hits.append(
                [
                    VectorHit(id=ids[j], score=float(scores[row, j]), metadata=metas[ids[j]])
                    for j in order
                ]
            )
        return hits

    def query(self, vector: npt.NDArray[np.float32], k: int = 10) -> list[VectorHit]:
        if np.asarray(vector).ndim != 1:
            raise InvalidArgumentError("query takes one vector; use query_many for a batch")
        return self.query_many(vector, k)[0]

    def _metadata(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        marks = ",".join("?" * len(ids))
        rows = self._db.execute(f"SELECT id, metadata FROM vectors WHERE id IN ({marks})", ids)
        return {id_: json.loads(text) for id_, text in rows}

    def get(self, id: str) -> VectorHit | None:
        """The row's metadata, with ``score`` 1.0 (its similarity to itself)."""
        row = self._db.execute("SELECT metadata FROM vectors WHERE id = ?", (id,)).fetchone()
        return None if row is None else VectorHit(id=id, score=1.0, metadata=json.loads(row[0]))

    def get_vector(self, id: str) -> npt.NDArray[np.float32]:
        """The stored vector, exactly as given (not normalised)."""
        row = self._db.execute("SELECT vector FROM vectors WHERE id = ?", (id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no vector {id!r} in {self.path}")
        return np.frombuffer(row[0], dtype=_F32).astype(np.float32)

    def delete(self, ids: Sequence[str]) -> int:
        """How many of ``ids`` were there."""
        if isinstance(ids, str):
            raise InvalidArgumentError("ids must be a sequence of strings, not one string")
        with self._lock, self._db:
            removed = self._db.executemany("DELETE FROM vectors WHERE id = ?", [(i,) for i in ids])
            self._matrix = None
            return int(removed.rowcount)

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])

    def clear(self) -> None:
        """Remove every row; the dimension stays fixed."""
        with self._lock, self._db:
            self._db.execute("DELETE FROM vectors")
            self._matrix = None

    def close(self) -> None:
        self._db.close()
