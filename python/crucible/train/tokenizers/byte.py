"""A byte-level tokenizer that needs no files: ids 0-255 are UTF-8 bytes, special tokens
follow. Every string round-trips, so any renderer and data set works offline, and the
vocabulary is small enough for the NumPy backend's output layer."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from crucible.errors import InvalidArgumentError

__all__ = ["ByteTokenizer"]

_BYTES = 256


class ByteTokenizer:
    """UTF-8 bytes plus special tokens (ids 256, 257, ... in the order given).

    ``bos``/``eos`` name special tokens (added to the specials if missing).
    """

    def __init__(
        self,
        special_tokens: Iterable[str] = (),
        *,
        bos: str | None = None,
        eos: str | None = None,
    ) -> None:
        names: list[str] = []
        for tok in [*special_tokens, *(t for t in (bos, eos) if t is not None)]:
            if not tok:
                raise InvalidArgumentError("a special token cannot be empty")
            if tok not in names:
                names.append(tok)
        self._special = {tok: _BYTES + i for i, tok in enumerate(names)}
        self._by_id = dict(enumerate(names, _BYTES))
        self._bos = self._special[bos] if bos is not None else None
        self._eos = self._special[eos] if eos is not None else None
        # Longest first, so "<|im_start|>" wins over a shorter special that prefixes it.
        alternatives = sorted(names, key=len, reverse=True)
        self._split = re.compile("|".join(map(re.escape, alternatives))) if names else None

    @property
    def name(self) -> str:
        return "byte"

    @property
    def vocab_size(self) -> int:
        return _BYTES + len(self._special)

    @property
    def special_tokens(self) -> Mapping[str, int]:
        return dict(self._special)

    @property
    def bos_token_id(self) -> int | None:
        return self._bos

    @property
    def eos_token_id(self) -> int | None:
        return self._eos

    def encode(self, text: str, *, add_special_tokens: bool = False) -> list[int]:
        out: list[int] = [self._bos] if add_special_tokens and self._bos is not None else []
        if self._split is None:
            out.extend(text.encode("utf-8"))
            return out
        pos = 0
        for match in self._split.finditer(text):
            out.extend(text[pos : match.start()].encode("utf-8"))
            out.append(self._special[match.group()])
            pos = match.end()
        out.extend(text[pos:].encode("utf-8"))
        return out

    def decode(self, tokens: Sequence[int]) -> str:
        parts: list[str] = []
        run = bytearray()
        for tok in tokens:
            t = int(tok)
            if 0 <= t < _BYTES:
                run.append(t)
                continue
            special = self._by_id.get(t)
            if special is None:
                raise InvalidArgumentError(f"token id {t} is outside the vocabulary")
            parts.append(run.decode("utf-8", errors="replace"))
            run.clear()
            parts.append(special)
        parts.append(run.decode("utf-8", errors="replace"))
        return "".join(parts)

    def __repr__(self) -> str:
        return f"ByteTokenizer(vocab_size={self.vocab_size})"
