"""Qwen 3: ChatML (``<|im_start|>ROLE\\n`` … ``<|im_end|>``, turns joined by ``\\n``) with
``<think>`` reasoning, matching Hugging Face's Qwen3 chat template.

The template frames the reasoning of the turn being produced (an assistant turn after the
last user message) as ``<think>\\n{reasoning}\\n</think>\\n\\n`` — with an empty block when there
is none — and drops the reasoning of earlier turns. The disable-thinking variant prompts with
that empty block already written; the 2507 Instruct models never use ``<think>``. Tool results
are user turns wrapped in ``<tool_response>``; tool calls are ``<tool_call>`` JSON blocks.
Images sit between ``<|vision_start|>`` and ``<|vision_end|>``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import msgspec

from crucible.train.renderers.base import RenderContext, RenderedMessage, Renderer
from crucible.train.renderers.messages import (
    ContentPart,
    ImagePart,
    Message,
    TextPart,
    ThinkingPart,
    ToolSpec,
    has_thinking,
)
from crucible.train.renderers.parsing import (
    parse_content_blocks,
    parse_for_stop_token,
    split_tool_results,
)
from crucible.train.tokenizers import Tokenizer
from crucible.train.types import Chunk

__all__ = ["Qwen3DisableThinkingRenderer", "Qwen3InstructRenderer", "Qwen3Renderer"]


def _frame(reasoning: str) -> str:
    return "<think>\n" + reasoning.strip("\n") + "\n</think>\n\n"


def _unframe(parts: list[ContentPart]) -> list[ContentPart]:
    """Undo :func:`_frame`: the padding is framing, and an empty block is no reasoning."""
    out: list[ContentPart] = []
    after_block = False
    for part in parts:
        if isinstance(part, ThinkingPart):
            if part.thinking.strip("\n"):
                out.append(ThinkingPart(part.thinking.strip("\n")))
            after_block = True
        elif isinstance(part, TextPart):
            text = part.text.lstrip("\n") if after_block else part.text
            if text:
                out.append(TextPart(text))
            after_block = False
        else:
            out.append(part)
            after_block = False
    return out


class Qwen3Renderer(Renderer):
    special_tokens = (
        "<|im_start|>",
        "<|im_end|>",
        "<|endoftext|>",
        "<think>",
        "</think>",
        "<tool_call>",
        "</tool_call>",
        "<tool_response>",
        "</tool_response>",
        "<|vision_start|>",
        "<|vision_end|>",
    )
    frames_thinking = True

    def __init__(self, tokenizer: Tokenizer, strip_thinking_from_history: bool = True) -> None:
        super().__init__(tokenizer)
        self.strip_thinking_from_history = strip_thinking_from_history

    @property
    def has_extension_property(self) -> bool:
        return not self.strip_thinking_from_history

    def _frames(self, message: Message, ctx: RenderContext) -> bool:
        if not self.frames_thinking or message.role != "assistant" or ctx.last_user_index < 0:
            return False
        return ctx.is_last or not self.strip_thinking_from_history

    def _body(self, message: Message, ctx: RenderContext) -> list[ContentPart]:
        """The content as text/image parts, thinking rendered inline the template's way."""
        content = message.content
        frames = self._frames(message, ctx)
        if isinstance(content, str):
            if frames and "</think>" in content:
                reasoning, _, rest = content.partition("</think>")
                text = _frame(reasoning.rpartition("<think>")[2]) + rest.lstrip("\n")
            else:
                text = content
            parts: list[ContentPart] = [TextPart(text)]
        else:
            strip = (
                self.strip_thinking_from_history and message.role == "assistant" and not ctx.is_last
            )
            parts = []
            after_block = False
            for part in content:
                if isinstance(part, ThinkingPart):
                    if not strip:
                        think = part.thinking
                        parts.append(
                            TextPart(_frame(think) if frames else f"<think>{think}</think>")
                        )
                        after_block = frames
                elif isinstance(part, TextPart):
                    parts.append(TextPart(part.text.lstrip("\n") if after_block else part.text))
                    after_block = False
                else:
                    parts.append(part)
                    after_block = False
        if frames and not has_thinking(content):
            first = parts[0] if parts else TextPart("")
            if isinstance(first, TextPart):
                parts[:1] = [TextPart(_frame("") + first.text.lstrip("\n"))]
            else:
                parts.insert(0, TextPart(_frame("")))
        return parts

    def render_message(self, message: Message, ctx: RenderContext) -> RenderedMessage:
        role = "user" if message.role == "tool" else message.role
        header = self.encode(("\n" if ctx.idx > 0 else "") + f"<|im_start|>{role}\n")
        parts = self._body(message, ctx)
        if message.role == "tool":
            parts = [TextPart("<tool_response>\n"), *parts, TextPart("\n</tool_response>")]
        if message.tool_calls:
            blocks = (
                "<tool_call>\n"
                + json.dumps(
                    {"name": c.function.name, "arguments": json.loads(c.function.arguments)}
                )
                + "\n</tool_call>"
                for c in message.tool_calls
            )
            parts.append(TextPart("\n" + "\n".join(blocks)))
        parts.append(TextPart("<|im_end|>"))
        if any(isinstance(p, ImagePart) for p in parts):
            output: list[Chunk] = self.content_chunks(
                parts, before_image="<|vision_start|>", after_image="<|vision_end|>"
            )
        else:
            output = [self.encode("".join(p.text for p in parts if isinstance(p, TextPart)))]
        return RenderedMessage(header=header, output=output)

    def stop_sequences(self) -> list[int]:
        return [self.token("<|im_end|>")]

    def parse_response(self, tokens: Sequence[int]) -> tuple[Message, bool]:
        message, ok = parse_for_stop_token(tokens, self.tokenizer, self.token("<|im_end|>"))
        if not ok:
            return message, False
        assert isinstance(message.content, str)
        blocks = parse_content_blocks(message.content)
        if blocks is None:
            return message, True
        parts, results = blocks
        calls, bad = split_tool_results(results)
        content = _unframe(parts) if self.frames_thinking else parts
        return msgspec.structs.replace(
            message, content=content, tool_calls=calls, unparsed_tool_calls=bad
        ), True

    def create_conversation_prefix_with_tools(
        self, tools: Sequence[ToolSpec], system_prompt: str = ""
    ) -> list[Message]:
        """The system message of Qwen's template: tool signatures inside ``<tools>`` XML and
        the ``<tool_call>`` reply format."""
        if not tools:
            return [Message(role="system", content=system_prompt)]
        lines = "\n".join(
            json.dumps(
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    },
                },
                separators=(", ", ": "),
            )
            for t in tools
        )
        text = (
            "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
            "You are provided with function signatures within <tools></tools> XML tags:\n"
            f"<tools>\n{lines}\n</tools>\n\n"
            "For each function call, return a json object with function name and arguments "
            "within <tool_call></tool_call> XML tags:\n<tool_call>\n"
            '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>'
        )
        content = f"{system_prompt}\n\n{text}" if system_prompt else text
        return [Message(role="system", content=content)]


class Qwen3DisableThinkingRenderer(Qwen3Renderer):
    """Thinking off: the prompt ends with the empty think block, so sampling starts after it."""

    def generation_suffix(self, role: str, ctx: RenderContext) -> list[int]:
        newline = "\n" if ctx.idx > 0 else ""
        return list(self.encode(f"{newline}<|im_start|>{role}\n<think>\n\n</think>\n\n").tokens)


class Qwen3InstructRenderer(Qwen3Renderer):
    """Qwen3 2507 Instruct: no ``<think>`` framing at all."""

    frames_thinking = False

    @property
    def has_extension_property(self) -> bool:
        return True
