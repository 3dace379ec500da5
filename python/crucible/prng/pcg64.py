"""``PCG64``: NumPy's default bit generator, bit for bit, with the state kept in Rust.

An instance speaks NumPy's BitGenerator C interface (``capsule`` and ``lock``), so
``numpy.random.Generator(crucible.prng.PCG64(seed))`` draws exactly the streams of
``numpy.random.Generator(numpy.random.PCG64(seed))`` for every distribution NumPy has.
Every call into the Rust core happens under ``lock``, the same re-entrant lock NumPy's
``Generator`` holds while it draws from our capsule without the GIL.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Protocol, SupportsInt, TypeAlias, cast, overload

import numpy as np
import numpy.typing as npt

from crucible import _core
from crucible.errors import InvalidArgumentError, InvalidTypeError, NotFoundError, OutOfRangeError
from crucible.prng.seed_sequence import EntropyLike, SeedSequence

__all__ = ["PCG64", "SeedLike"]

_U128 = 1 << 128
_JUMP_STEP = 0x9E3779B97F4A7C15F39CC0605CEDC835


class _SeedSource(Protocol):
    def generate_state(self, n_words: int, dtype: npt.DTypeLike = ...) -> Any: ...


SeedLike: TypeAlias = EntropyLike | SeedSequence | _SeedSource | None


def _checked_uint(value: object, bits: int, name: str) -> int:
    if isinstance(value, (float, np.floating)) and not float(value).is_integer():
        raise InvalidTypeError(f"{name} must be an integer, not {value!r}")
    try:
        number = int(cast("SupportsInt", value))
    except (TypeError, ValueError) as exc:
        raise InvalidTypeError(f"{name} must be an integer, not {value!r}") from exc
    if not 0 <= number < (1 << bits):
        raise OutOfRangeError(f"{name} must be in [0, 2**{bits}), got {number}")
    return number


class PCG64:
    """PCG-64 (XSL-RR) with NumPy's seeding, state format, ``advance`` and ``jumped``."""

    def __init__(self, seed: SeedLike = None) -> None:
        self.lock = threading.RLock()
        # Duck-typed like NumPy's ISeedSequence; a runtime Protocol check costs ~10 µs.
        if hasattr(seed, "generate_state"):
            self._seed_seq: _SeedSource = cast("_SeedSource", seed)
        else:
            self._seed_seq = SeedSequence(seed)
        words = np.asarray(self._seed_seq.generate_state(4, np.uint64), dtype=np.uint64)
        self._core = _core.Pcg64Core(words.tolist())

    @property
    def capsule(self) -> object:
        """The "BitGenerator" PyCapsule of NumPy's C API."""
        return self._core.capsule

    @property
    def seed_seq(self) -> _SeedSource:
        return self._seed_seq

    @property
    def state(self) -> dict[str, Any]:
        """The state in NumPy's dict format (interchangeable with ``numpy.random.PCG64``)."""
        with self.lock:
            state, inc, has_uint32, uinteger = self._core.get_state()
        return {
            "bit_generator": "PCG64",
            "state": {"state": state, "inc": inc},
            "has_uint32": int(has_uint32),
            "uinteger": uinteger,
        }

    @state.setter
    def state(self, value: Mapping[str, Any]) -> None:
        if not isinstance(value, Mapping):
            raise InvalidTypeError("state must be a dict")
        if value.get("bit_generator", "") != "PCG64":
            raise InvalidArgumentError("state must be for a PCG64 RNG")
        try:
            inner = value["state"]
            state = _checked_uint(inner["state"], 128, "state")
            inc = _checked_uint(inner["inc"], 128, "inc")
            has_uint32 = _checked_uint(value["has_uint32"], 32, "has_uint32")
            uinteger = _checked_uint(value["uinteger"], 32, "uinteger")
        except KeyError as exc:
            raise NotFoundError(f"PCG64 state is missing the key {exc}") from exc
        with self.lock:
            self._core.set_state(state, inc, bool(has_uint32), uinteger)

    @overload
    def random_raw(self, size: None = None, output: bool = True) -> int: ...
    @overload
    def random_raw(
        self, size: int | tuple[int, ...], output: bool = True
    ) -> npt.NDArray[np.uint64]: ...

    def random_raw(
        self, size: int | tuple[int, ...] | None = None, output: bool = True
    ) -> int | npt.NDArray[np.uint64] | None:
        """Raw 64-bit outputs; with ``output=False`` the draws are skipped in O(log n)."""
        if not output:
            count = 1 if size is None else int(np.asarray(size).sum())  # NumPy sums size
            with self.lock:
                self._core.skip(count % _U128)
            return None
        if size is None:
            with self.lock:
                return self._core.next_raw()
        out = np.empty(size, dtype=np.uint64)
        with self.lock:
            self._core.fill_raw(out)
        return out

    def advance(self, delta: int) -> PCG64:
        """Jump ``delta`` draws ahead (modulo 2**128, so negative goes back) in O(log n)."""
        with self.lock:
            self._core.advance(int(delta) % _U128)
        return self

    def jumped(self, jumps: int = 1) -> PCG64:
        """A copy advanced by ``jumps`` * (phi - 1) * 2**128 draws (for parallel streams)."""
        copy = type(self)()
        copy.state = self.state
        copy.advance(_JUMP_STEP * int(jumps))
        return copy

    def spawn(self, n_children: int) -> list[PCG64]:
        """Independent bit generators from the seed sequence's children."""
        spawn = getattr(self._seed_seq, "spawn", None)
        if spawn is None:
            raise InvalidTypeError("The underlying SeedSequence does not implement spawning.")
        return [type(self)(child) for child in spawn(n_children)]

    def __getstate__(self) -> tuple[dict[str, Any], _SeedSource]:
        return self.state, self._seed_seq

    def __setstate__(self, pickled: tuple[dict[str, Any], _SeedSource]) -> None:
        state, seed_seq = pickled
        self.__init__(seed_seq)  # type: ignore[misc]
        self.state = state

    def __repr__(self) -> str:
        return f"PCG64() at 0x{id(self):X}"
