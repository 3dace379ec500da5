"""A local text embedder with no model weights: signed feature hashing.

Why not a neural model: no package on PyPI ships all-MiniLM-L6-v2 (or a similar sentence
encoder) in a form that runs here without PyTorch or a download from the Hugging Face hub,
which this project cannot reach at run time. This embedder is the honest local stand-in: it
captures lexical and sub-word overlap (shared words, shared spellings, typos), not meaning.

How: the text is NFKC-normalised and lower-cased, split into word tokens (``\\w+``), and
each word contributes itself plus its character n-grams (``ngram_range``, fastText-style
with ``<``/``>`` boundary marks, so ``run`` and ``running`` share ``<ru``, ``run``). Each feature
is hashed with BLAKE2b (keyed by ``salt``: stable across processes and machines, unlike
Python's ``hash``) to a bucket in ``[0, dimension)`` and a sign, so collisions cancel out
in expectation instead of piling up (Weinberger et al., 2009). Words weigh ``word_weight``,
n-grams share a weight of 1 per word. Rows are L2-normalised, so a dot product is the cosine;
a text with no word characters embeds to the zero vector.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from crucible.errors import InvalidArgumentError, InvalidTypeError

__all__ = ["HashingEmbedder"]

_WORD = re.compile(r"\w+")


class HashingEmbedder:
    def __init__(
        self,
        dimension: int = 384,
        *,
        ngram_range: tuple[int, int] = (3, 5),
        word_weight: float = 1.0,
        salt: str = "crucible",
    ) -> None:
        if not isinstance(dimension, int) or dimension < 2:
            raise InvalidArgumentError(f"dimension must be an integer >= 2, got {dimension!r}")
        low, high = ngram_range
        if not 1 <= low <= high:
            raise InvalidArgumentError(f"ngram_range must satisfy 1 <= low <= high: {ngram_range}")
        if not word_weight >= 0.0:
            raise InvalidArgumentError(f"word_weight must be >= 0, got {word_weight}")
        self._dimension = dimension
        self.ngram_range = (low, high)
        self.word_weight = float(word_weight)
        self._key = hashlib.sha256(salt.encode("utf-8")).digest()[:32]
        self._cache: dict[str, tuple[int, float]] = {}

    @property
    def dimension(self) -> int:
        return self._dimension

    def _bucket(self, feature: str) -> tuple[int, float]:
        """(index, sign) of one feature; memoised, as words repeat across texts."""
        hit = self._cache.get(feature)
        if hit is None:
            digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8, key=self._key)
            value = int.from_bytes(digest.digest(), "little")
            hit = (value >> 1) % self._dimension, 1.0 if value & 1 else -1.0
            if len(self._cache) < 1_000_000:
                self._cache[feature] = hit
        return hit

    def _features(self, word: str) -> list[tuple[str, float]]:
        marked = f"<{word}>"
        low, high = self.ngram_range
        grams = [
            marked[i : i + n]
            for n in range(low, high + 1)
            for i in range(len(marked) - n + 1)
            if marked[i : i + n] != marked
        ]
        weighted = [("w:" + word, self.word_weight)]
        if grams:
            share = 1.0 / len(grams)
            weighted.extend(("c:" + g, share) for g in grams)
        return weighted

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if isinstance(texts, str):
            raise InvalidTypeError("embed takes a sequence of texts, not one string")
        out = np.zeros((len(texts), self._dimension), dtype=np.float64)
        for row, text in enumerate(texts):
            if not isinstance(text, str):
                raise InvalidTypeError(f"text {row} is a {type(text).__name__}, not a str")
            normalised = unicodedata.normalize("NFKC", text).lower()
            for word in _WORD.findall(normalised):
                for feature, weight in self._features(word):
                    index, sign = self._bucket(feature)
                    out[row, index] += sign * weight
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out.astype(np.float32)
