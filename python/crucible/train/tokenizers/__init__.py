"""Tokenizers: the :class:`Tokenizer` port, a built-in :class:`ByteTokenizer` and an adapter
over local Hugging Face ``tokenizers`` files (:class:`HFTokenizer`)."""

from __future__ import annotations

from collections.abc import Iterable

from crucible.train.tokenizers.base import Tokenizer, single_token
from crucible.train.tokenizers.byte import ByteTokenizer
from crucible.train.tokenizers.hf import HFTokenizer

__all__ = ["ByteTokenizer", "HFTokenizer", "Tokenizer", "get_tokenizer", "single_token"]


def get_tokenizer(spec: str, special_tokens: Iterable[str] = ()) -> Tokenizer:
    """``"byte"`` for the built-in byte tokenizer (with ``special_tokens`` registered,
    typically a renderer's), else a path to a ``tokenizer.json`` or its directory."""
    if spec == "byte":
        return ByteTokenizer(special_tokens)
    return HFTokenizer.from_path(spec)
