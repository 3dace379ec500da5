"""The tokenizer port: what renderers, datasets and samplers need from a tokenizer.

Renderers write special tokens (``<|im_start|>``, ``<|eot_id|>``) into the text they encode,
so ``encode`` must map a registered special token to its single id wherever it appears, as
Hugging Face tokenizers do for added tokens; :func:`single_token` checks that.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from crucible.errors import InvalidArgumentError

__all__ = ["Tokenizer", "single_token"]


@runtime_checkable
class Tokenizer(Protocol):
    """Text to token ids and back."""

    @property
    def name(self) -> str:
        """Where the vocabulary came from (``byte``, a file path)."""
        ...

    @property
    def vocab_size(self) -> int:
        """Number of ids, special tokens included: a model's output width."""
        ...

    @property
    def special_tokens(self) -> Mapping[str, int]:
        """Each special token's text and id."""
        ...

    @property
    def bos_token_id(self) -> int | None: ...

    @property
    def eos_token_id(self) -> int | None: ...

    def encode(self, text: str, *, add_special_tokens: bool = False) -> list[int]:
        """Ids of ``text``; special tokens in the text become their ids. With
        ``add_special_tokens`` a BOS id (if any) is prepended."""
        ...

    def decode(self, tokens: Sequence[int]) -> str:
        """Text of ``tokens``, special tokens written out; bytes that are not valid UTF-8
        decode to U+FFFD rather than failing (samplers produce such runs)."""
        ...


def single_token(tokenizer: Tokenizer, text: str) -> int:
    """The id of ``text``, which must encode to exactly one token."""
    ids = tokenizer.encode(text, add_special_tokens=False)
    if len(ids) != 1:
        raise InvalidArgumentError(
            f"{text!r} encodes to {len(ids)} tokens with tokenizer {tokenizer.name!r}; "
            "register it as a special token"
        )
    return ids[0]
