"""``SeedSequence``: NumPy's entropy mixer, with the mixing done in Rust.

The Python half turns whatever the user passed as entropy (an int of any size, a sequence
of ints, a decimal or hex string, ``None`` for fresh OS entropy) into 32-bit words exactly
as NumPy does; the Rust half mixes them into the pool and draws state words from it. Our
instances are registered as NumPy ``ISpawnableSeedSequence`` objects, so they seed NumPy's
own bit generators too, and NumPy's ``SeedSequence`` seeds ours.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from crucible import _core
from crucible.errors import InvalidArgumentError, InvalidTypeError

__all__ = ["DEFAULT_POOL_SIZE", "EntropyLike", "SeedSequence"]

DEFAULT_POOL_SIZE = 4
_MASK32 = 0xFFFF_FFFF
_DECIMAL = re.compile(r"[0-9]+")

EntropyLike: TypeAlias = int | np.integer[Any] | Sequence[Any] | npt.NDArray[np.integer[Any]]


def _int_words(value: int) -> list[int]:
    if value < 0:
        raise InvalidArgumentError("expected non-negative integer")
    words = [value & _MASK32]
    value >>= 32
    while value:
        words.append(value & _MASK32)
        value >>= 32
    return words


def _words(x: object) -> list[int]:
    """NumPy's ``_coerce_to_uint32_array``, returning plain ints."""
    if isinstance(x, int):
        return _int_words(x)
    if isinstance(x, tuple) and not x:
        return []
    if isinstance(x, np.ndarray) and x.dtype == np.uint32:
        return [int(v) for v in x.ravel()]
    if isinstance(x, str):
        if x.startswith("0x"):
            x = int(x, base=16)
        elif _DECIMAL.match(x):
            x = int(x)
        else:
            raise InvalidArgumentError("unrecognized seed string")
    if isinstance(x, (int, np.integer)):
        return _int_words(int(x))
    if isinstance(x, (float, np.inexact)):
        raise InvalidTypeError("seed must be integer")
    if not isinstance(x, (Sequence, np.ndarray, range)):
        raise InvalidTypeError(f"seed must be an int or a sequence of ints, not {type(x).__name__}")
    words: list[int] = []
    for item in x:
        words.extend(_words(item))
    return words


class SeedSequence:
    """Mixes entropy into a pool and hands out well-spread state words; spawns children."""

    def __init__(
        self,
        entropy: EntropyLike | None = None,
        *,
        spawn_key: Sequence[int] = (),
        pool_size: int = DEFAULT_POOL_SIZE,
        n_children_spawned: int = 0,
    ) -> None:
        if pool_size < DEFAULT_POOL_SIZE:
            raise InvalidArgumentError(
                f"The size of the entropy pool should be at least {DEFAULT_POOL_SIZE}"
            )
        if entropy is None:
            entropy = secrets.randbits(pool_size * 32)
        elif not isinstance(entropy, (int, np.integer, list, tuple, range, np.ndarray)):
            raise InvalidTypeError(
                f"SeedSequence expects int or sequence of ints for entropy not {entropy}"
            )
        self.entropy: EntropyLike = entropy
        self.spawn_key: tuple[int, ...] = tuple(spawn_key)
        self.pool_size = int(pool_size)
        self.n_children_spawned = int(n_children_spawned)
        self._pool: list[int] = _core.seed_mix_entropy(
            _words(entropy), _words(self.spawn_key), self.pool_size
        )

    @property
    def pool(self) -> npt.NDArray[np.uint32]:
        """The mixed entropy pool (NumPy exposes the same array)."""
        return np.array(self._pool, dtype=np.uint32)

    @property
    def state(self) -> dict[str, Any]:
        return {
            "entropy": self.entropy,
            "spawn_key": self.spawn_key,
            "pool_size": self.pool_size,
            "n_children_spawned": self.n_children_spawned,
        }

    def generate_state(
        self, n_words: int, dtype: npt.DTypeLike = np.uint32
    ) -> npt.NDArray[np.uint32] | npt.NDArray[np.uint64]:
        """``n_words`` words of ``dtype`` (uint32 or uint64) derived from the pool."""
        out_dtype = np.dtype(dtype)
        if n_words < 0:
            raise InvalidArgumentError("n_words must be non-negative")
        if out_dtype == np.uint32:
            return _core.seed_generate_state_u32(self._pool, int(n_words))
        if out_dtype == np.uint64:
            return _core.seed_generate_state_u64(self._pool, int(n_words))
        raise InvalidArgumentError("only support uint32 or uint64")

    def spawn(self, n_children: int) -> list[SeedSequence]:
        """Independent children: same entropy, spawn keys extended by a running counter."""
        first = self.n_children_spawned
        children = [
            type(self)(self.entropy, spawn_key=(*self.spawn_key, i), pool_size=self.pool_size)
            for i in range(first, first + n_children)
        ]
        self.n_children_spawned += n_children
        return children

    def __repr__(self) -> str:
        parts = [f"entropy={self.entropy!r}"]
        if self.spawn_key:
            parts.append(f"spawn_key={self.spawn_key!r}")
        if self.pool_size != DEFAULT_POOL_SIZE:
            parts.append(f"pool_size={self.pool_size!r}")
        if self.n_children_spawned:
            parts.append(f"n_children_spawned={self.n_children_spawned!r}")
        return f"SeedSequence({', '.join(parts)})"


def _register_with_numpy() -> None:
    from numpy.random.bit_generator import ISpawnableSeedSequence

    ISpawnableSeedSequence.register(SeedSequence)


_register_with_numpy()
