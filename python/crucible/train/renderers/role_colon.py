"""RoleColon: plain ``User: …`` / ``Assistant: …`` text, for base models and tokenizers with
no chat special tokens (R1-Zero style)."""

from __future__ import annotations

from collections.abc import Sequence

from crucible.train.renderers.base import RenderContext, RenderedMessage, Renderer
from crucible.train.renderers.messages import Message, ensure_text

__all__ = ["RoleColonRenderer"]

_STOP = "\n\nUser:"


class RoleColonRenderer(Renderer):
    """``Role: content\\n\\n`` per message. The stop sequence ``\\n\\nUser:`` spans two
    messages, so an assistant message's ``User:`` is its stop overlap, appended only when it
    ends a supervised example (the model learns to stop)."""

    @property
    def has_extension_property(self) -> bool:
        return True

    @property
    def bos_tokens(self) -> list[int]:
        bos = self.tokenizer.bos_token_id
        return [bos] if bos is not None else []

    def render_message(self, message: Message, ctx: RenderContext) -> RenderedMessage:
        header = self.encode(message.role.capitalize() + ":")
        output = self.encode(" " + ensure_text(message.content) + "\n\n")
        overlap = self.encode("User:") if message.role == "assistant" else None
        return RenderedMessage(output=[output], header=header, stop_overlap=overlap)

    def stop_sequences(self) -> list[str]:
        return [_STOP]

    def parse_response(self, tokens: Sequence[int]) -> tuple[Message, bool]:
        toks = list(tokens)
        eos = self.tokenizer.eos_token_id
        ended_with_eos = bool(toks) and eos is not None and toks[-1] == eos
        if ended_with_eos:
            toks = toks[:-1]
        pieces = self.tokenizer.decode(toks).split(_STOP)
        message = Message(role="assistant", content=pieces[0].strip())
        if len(pieces) == 1:
            return message, ended_with_eos
        return message, len(pieces) == 2 and not ended_with_eos
