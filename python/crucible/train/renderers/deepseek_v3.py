# ruff: noqa: RUF001, RUF002  (the format's markers are full-width bars, on purpose)
"""DeepSeek V3 (V3.1 template): full-width-bar special tokens.

``<｜begin▁of▁sentence｜>`` + system text (no marker, first message only) + ``<｜User｜>`` user
text + ``<｜Assistant｜>`` answer ``<｜end▁of▁sentence｜>``. Non-thinking mode writes ``</think>``
after the assistant marker; thinking mode prompts with ``<think>`` and closes historical turns
with ``</think>`` (their reasoning dropped). Tool calls are
``<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>NAME<｜tool▁sep｜>ARGS<｜tool▁call▁end｜>…<｜tool▁calls▁end｜>``;
results sit in ``<｜tool▁output▁begin｜>…<｜tool▁output▁end｜>``, and the assistant turn after a
result has no marker of its own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import msgspec

from crucible.errors import InvalidArgumentError
from crucible.train.renderers.base import RenderContext, RenderedMessage, Renderer
from crucible.train.renderers.messages import (
    FunctionBody,
    Message,
    TextPart,
    ThinkingPart,
    ToolCall,
    UnparsedToolCall,
    ensure_text,
)
from crucible.train.renderers.parsing import parse_for_stop_token, parse_think_blocks
from crucible.train.tokenizers import Tokenizer
from crucible.train.types import EncodedTextChunk, ModelInput

__all__ = ["DeepSeekV3DisableThinkingRenderer", "DeepSeekV3ThinkingRenderer"]

BOS = "<｜begin▁of▁sentence｜>"
EOS = "<｜end▁of▁sentence｜>"
USER = "<｜User｜>"
ASSISTANT = "<｜Assistant｜>"
_CALLS = re.compile(r"<｜tool▁calls▁begin｜>(.*?)<｜tool▁calls▁end｜>", re.DOTALL)
_CALL = re.compile(r"<｜tool▁call▁begin｜>(\w+)<｜tool▁sep｜>(.*?)<｜tool▁call▁end｜>", re.DOTALL)
_CALLS_WITH_SPACE = re.compile(r"\s*<｜tool▁calls▁begin｜>.*?<｜tool▁calls▁end｜>", re.DOTALL)


def _parse_tool_calls(content: str) -> tuple[list[ToolCall], list[UnparsedToolCall]]:
    calls: list[ToolCall] = []
    bad: list[UnparsedToolCall] = []
    section = _CALLS.search(content)
    if section is None:
        return calls, bad
    for match in _CALL.finditer(section.group(1)):
        args = match.group(2).strip()
        try:
            json.loads(args)
        except json.JSONDecodeError as exc:
            bad.append(UnparsedToolCall(raw_text=match.group(0), error=f"invalid JSON: {exc}"))
            continue
        calls.append(ToolCall(function=FunctionBody(name=match.group(1), arguments=args)))
    return calls, bad


class _DeepSeekV3Renderer(Renderer):
    special_tokens = (
        BOS,
        EOS,
        USER,
        ASSISTANT,
        "<think>",
        "</think>",
        "<｜tool▁calls▁begin｜>",
        "<｜tool▁calls▁end｜>",
        "<｜tool▁call▁begin｜>",
        "<｜tool▁call▁end｜>",
        "<｜tool▁sep｜>",
        "<｜tool▁output▁begin｜>",
        "<｜tool▁output▁end｜>",
    )

    def __init__(
        self,
        tokenizer: Tokenizer,
        system_role_as_user: bool = False,
        strip_thinking_from_history: bool = True,
    ) -> None:
        super().__init__(tokenizer)
        self.system_role_as_user = system_role_as_user
        self.strip_thinking_from_history = strip_thinking_from_history

    @property
    def bos_tokens(self) -> list[int]:
        return [self.token(BOS)]

    def _assistant_text(self, message: Message, strip: bool) -> str:
        content = message.content
        if isinstance(content, str):
            return content
        out = []
        for part in content:
            if isinstance(part, ThinkingPart) and not strip:
                out.append(f"<think>{part.thinking}</think>")
            elif isinstance(part, TextPart):
                out.append(part.text)
        return "".join(out)

    def render_message(self, message: Message, ctx: RenderContext) -> RenderedMessage:
        follows_tool = ctx.prev_message is not None and ctx.prev_message.role == "tool"
        header = ""
        if message.role == "system":
            if ctx.idx > 0 and not self.system_role_as_user:
                raise InvalidArgumentError(
                    "DeepSeek V3 takes a system message only first; pass "
                    "system_role_as_user=True to render later ones as user turns"
                )
            header = USER if ctx.idx > 0 else ""
            text = ensure_text(message.content)
        elif message.role == "user":
            header, text = USER, ensure_text(message.content)
        elif message.role == "assistant":
            strip = self.strip_thinking_from_history and not message.tool_calls and not ctx.is_last
            header = "" if follows_tool else ASSISTANT
            text = self._assistant_text(message, strip)
        elif message.role == "tool":
            header = "<｜tool▁output▁begin｜>"
            text = ensure_text(message.content) + "<｜tool▁output▁end｜>"
        else:
            raise InvalidArgumentError(f"DeepSeek V3 has no role {message.role!r}")
        if message.tool_calls:
            text += "<｜tool▁calls▁begin｜>"
            for call in message.tool_calls:
                text += (
                    f"<｜tool▁call▁begin｜>{call.function.name}<｜tool▁sep｜>"
                    f"{call.function.arguments}<｜tool▁call▁end｜>"
                )
            text += "<｜tool▁calls▁end｜>"
        # An empty assistant message is a generation prompt's header, not a finished turn.
        if message.role == "assistant" and (message.content or message.tool_calls):
            text += EOS
        return RenderedMessage(
            header=self.encode(header) if header else None, output=[self.encode(text)]
        )

    def _with_header_suffix(self, rendered: RenderedMessage, suffix: str) -> RenderedMessage:
        tokens = (rendered.header.tokens if rendered.header else ()) + self.encode(suffix).tokens
        return RenderedMessage(header=EncodedTextChunk(tokens), output=rendered.output)

    def stop_sequences(self) -> list[int]:
        return [self.token(EOS)]

    def _normalize(self, tokens: Sequence[int]) -> list[int]:
        return list(tokens)

    def parse_response(self, tokens: Sequence[int]) -> tuple[Message, bool]:
        message, ok = parse_for_stop_token(self._normalize(tokens), self.tokenizer, self.token(EOS))
        if not ok:
            return message, False
        assert isinstance(message.content, str)
        content = message.content
        calls, bad = _parse_tool_calls(content)
        if calls or bad:
            content = _CALLS_WITH_SPACE.sub("", content).strip()
        parts = parse_think_blocks(content)
        return msgspec.structs.replace(
            message,
            content=parts if parts is not None else content,
            tool_calls=calls or None,
            unparsed_tool_calls=bad or None,
        ), True


class DeepSeekV3ThinkingRenderer(_DeepSeekV3Renderer):
    """Thinking mode: the prompt ends ``<｜Assistant｜><think>``; earlier turns are closed
    with ``</think>`` in their header and their reasoning dropped."""

    def render_message(self, message: Message, ctx: RenderContext) -> RenderedMessage:
        rendered = super().render_message(message, ctx)
        follows_tool = ctx.prev_message is not None and ctx.prev_message.role == "tool"
        if (
            message.role == "assistant"
            and not follows_tool
            and self.strip_thinking_from_history
            and not ctx.is_last
        ):
            return self._with_header_suffix(rendered, "</think>")
        return rendered

    def build_generation_prompt(
        self, messages: Sequence[Message], role: str = "assistant", prefill: str | None = None
    ) -> ModelInput:
        if messages and messages[-1].role == "tool":  # tool use stays in non-thinking mode
            return super().build_generation_prompt(messages, role, prefill)
        return super().build_generation_prompt(messages, role, "<think>" + (prefill or ""))

    def _normalize(self, tokens: Sequence[int]) -> list[int]:
        """Put back the ``<think>`` the prompt pre-filled, so the block parses whole."""
        toks = list(tokens)
        open_, close = self.token("<think>"), self.token("</think>")
        if close in toks and (not toks or toks[0] != open_):
            return [open_, *toks]
        return toks


class DeepSeekV3DisableThinkingRenderer(_DeepSeekV3Renderer):
    """Non-thinking mode (the default): ``</think>`` after each assistant marker, reasoning
    removed from assistant content."""

    @property
    def has_extension_property(self) -> bool:
        return True

    def render_message(self, message: Message, ctx: RenderContext) -> RenderedMessage:
        follows_tool = ctx.prev_message is not None and ctx.prev_message.role == "tool"
        if message.role != "assistant" or follows_tool:
            return super().render_message(message, ctx)
        content = message.content
        if isinstance(content, str):
            text = re.sub(r"<think>.*?</think>", "", content, flags=re.DOTALL)
        else:
            text = "".join(p.text for p in content if isinstance(p, TextPart))
        plain = msgspec.structs.replace(message, content=text)
        return self._with_header_suffix(super().render_message(plain, ctx), "</think>")
