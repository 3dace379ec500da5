"""An adapter over a Hugging Face ``tokenizers`` file read from local disk.

Nothing is downloaded: give a ``tokenizer.json`` (or a directory holding one, and optionally
``tokenizer_config.json`` naming ``bos_token``/``eos_token``). The ``tokenizers`` package is
an optional extra, imported when the adapter is built.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from crucible.errors import ConfigurationError, NotFoundError

__all__ = ["HFTokenizer"]


def _import_tokenizers() -> Any:
    try:
        import tokenizers
    except ImportError:  # pragma: no cover - depends on the environment
        raise ConfigurationError(
            "reading Hugging Face tokenizer files needs the 'tokenizers' package: "
            "pip install 'crucible[hf]'"
        ) from None
    return tokenizers


def _token_text(value: Any) -> str | None:
    if isinstance(value, dict):
        content = value.get("content")
        return content if isinstance(content, str) else None
    return value if isinstance(value, str) else None


class HFTokenizer:
    """A ``tokenizers.Tokenizer`` behind the :class:`~crucible.train.tokenizers.Tokenizer`
    port. Added tokens marked special are this port's special tokens."""

    def __init__(
        self, tokenizer: Any, *, name: str = "hf", bos: str | None = None, eos: str | None = None
    ) -> None:
        self._tok = tokenizer
        self._name = name
        self._special = {
            added.content: int(i)
            for i, added in tokenizer.get_added_tokens_decoder().items()
            if added.special
        }
        self._bos = self._lookup(bos)
        self._eos = self._lookup(eos)

    def _lookup(self, token: str | None) -> int | None:
        if token is None:
            return None
        tid = self._tok.token_to_id(token)
        if tid is None:
            raise NotFoundError(f"token {token!r} is not in the vocabulary of {self._name}")
        return int(tid)

    @classmethod
    def from_path(
        cls, path: str | Path, *, bos: str | None = None, eos: str | None = None
    ) -> HFTokenizer:
        """Load ``tokenizer.json`` (a file, or a directory holding it)."""
        lib = _import_tokenizers()
        p = Path(path)
        file = p / "tokenizer.json" if p.is_dir() else p
        if not file.is_file():
            raise NotFoundError(f"no tokenizer file at {file}")
        config = file.parent / "tokenizer_config.json"
        if config.is_file() and (bos is None or eos is None):
            meta = json.loads(config.read_text(encoding="utf-8"))
            bos = bos if bos is not None else _token_text(meta.get("bos_token"))
            eos = eos if eos is not None else _token_text(meta.get("eos_token"))
        return cls(lib.Tokenizer.from_file(str(file)), name=str(file), bos=bos, eos=eos)

    @property
    def name(self) -> str:
        return self._name

    @property
    def vocab_size(self) -> int:
        return int(self._tok.get_vocab_size(with_added_tokens=True))

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
        ids = [int(i) for i in self._tok.encode(text, add_special_tokens=False).ids]
        if add_special_tokens and self._bos is not None:
            ids.insert(0, self._bos)
        return ids

    def decode(self, tokens: Sequence[int]) -> str:
        return str(self._tok.decode([int(t) for t in tokens], skip_special_tokens=False))

    def __repr__(self) -> str:
        return f"HFTokenizer({self._name!r}, vocab_size={self.vocab_size})"
