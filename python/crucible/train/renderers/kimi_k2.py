"""Kimi K2 (Thinking): ``<|im_system|>``/``<|im_user|>``/``<|im_assistant|>`` + role name +
``<|im_middle|>`` + content + ``<|im_end|>``, no separators.

Like Moonshot's template, a default system message is added when a conversation has none.
Assistant turns always open a think block: the reasoning of the latest turn (every assistant
message after the last plain assistant answer) is kept, earlier ones become ``<think></think>``.
Tool calls sit in ``<|tool_calls_section_begin|>`` with ids ``functions.NAME:IDX``; a tool
result is a system turn named after the tool, starting ``## Return of ID``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import msgspec
import numpy as np
import numpy.typing as npt

from crucible.train.renderers.base import RenderContext, RenderedMessage, Renderer, TrainOnWhat
from crucible.train.renderers.messages import (
    FunctionBody,
    Message,
    ToolCall,
    ToolSpec,
    UnparsedToolCall,
    ensure_text,
    text_content,
    thinking_content,
)
from crucible.train.renderers.parsing import parse_for_stop_token, parse_think_blocks
from crucible.train.tokenizers import Tokenizer
from crucible.train.types import Chunk, ModelInput

__all__ = ["KimiK2Renderer"]

DEFAULT_SYSTEM_PROMPT = "You are Kimi, an AI assistant created by Moonshot AI."
_SECTION = re.compile(r"<\|tool_calls_section_begin\|>(.*?)<\|tool_calls_section_end\|>", re.DOTALL)
_CALL = re.compile(
    r"<\|tool_call_begin\|>\s*([^<]+:\d+)\s*<\|tool_call_argument_begin\|>\s*(.*?)\s*"
    r"<\|tool_call_end\|>",
    re.DOTALL,
)


def _tool_name(call_id: str) -> str:
    name = call_id.split(":", 1)[0]
    return name.split(".", 1)[1] if "." in name else name


class KimiK2Renderer(Renderer):
    special_tokens = (
        "<|im_system|>",
        "<|im_user|>",
        "<|im_assistant|>",
        "<|im_middle|>",
        "<|im_end|>",
        "<think>",
        "</think>",
        "<|tool_calls_section_begin|>",
        "<|tool_calls_section_end|>",
        "<|tool_call_begin|>",
        "<|tool_call_argument_begin|>",
        "<|tool_call_end|>",
    )

    def __init__(self, tokenizer: Tokenizer, strip_thinking_from_history: bool = True) -> None:
        super().__init__(tokenizer)
        self.strip_thinking_from_history = strip_thinking_from_history

    @staticmethod
    def with_system_message(messages: Sequence[Message]) -> list[Message]:
        """The conversation with the default system message where the template adds one."""
        default = Message(role="system", content=DEFAULT_SYSTEM_PROMPT)
        msgs = list(messages)
        if not msgs:
            return [default]
        if msgs[0].role == "tool_declare":
            has_system = len(msgs) > 1 and msgs[1].role == "system"
            return msgs if has_system else [msgs[0], default, *msgs[1:]]
        return msgs if msgs[0].role == "system" else [default, *msgs]

    def render_message(self, message: Message, ctx: RenderContext) -> RenderedMessage:
        role = message.role
        if role in ("user", "assistant"):
            header = f"<|im_{role}|>{role}<|im_middle|>"
        elif role == "tool":
            header = (
                f"<|im_system|>{message.name or 'tool'}<|im_middle|>"
                f"## Return of {message.tool_call_id or ''}\n"
            )
        else:  # system, tool_declare and anything else are system turns
            header = f"<|im_system|>{role}<|im_middle|>"
        if role != "assistant":
            return RenderedMessage(
                header=self.encode(header),
                output=[self.encode(ensure_text(message.content) + "<|im_end|>")],
            )
        thinking = thinking_content(message)
        keep = ctx.is_last or not self.strip_thinking_from_history
        text = f"<think>{thinking if keep else ''}</think>" + text_content(message)
        if message.tool_calls:
            text += "<|tool_calls_section_begin|>"
            for i, call in enumerate(message.tool_calls):
                call_id = call.id or f"functions.{call.function.name}:{i}"
                text += (
                    f"<|tool_call_begin|>{call_id}<|tool_call_argument_begin|>"
                    f"{call.function.arguments}<|tool_call_end|>"
                )
            text += "<|tool_calls_section_end|>"
        return RenderedMessage(
            header=self.encode(header), output=[self.encode(text + "<|im_end|>")]
        )

    @staticmethod
    def _last_answer(messages: Sequence[Message], end: int) -> int:
        """Index of the last assistant message without tool calls before ``end``."""
        for i in range(end - 1, -1, -1):
            if messages[i].role == "assistant" and not messages[i].tool_calls:
                return i
        return -1

    def _ctx(self, messages: Sequence[Message], idx: int, last_answer: int) -> RenderContext:
        is_assistant = messages[idx].role == "assistant"
        return RenderContext(
            idx=idx,
            is_last=is_assistant and (last_answer == -1 or idx > last_answer),
            prev_message=messages[idx - 1] if idx > 0 else None,
        )

    def build_generation_prompt(
        self, messages: Sequence[Message], role: str = "assistant", prefill: str | None = None
    ) -> ModelInput:
        msgs = self.with_system_message(messages)
        last = self._last_answer(msgs, len(msgs))
        chunks: list[Chunk] = []
        for idx, message in enumerate(msgs):
            rendered = self.render_message(message, self._ctx(msgs, idx, last))
            if rendered.header:
                chunks.append(rendered.header)
            chunks.extend(rendered.output)
        chunks.append(self.encode(f"<|im_assistant|>{role}<|im_middle|>"))
        if prefill:
            chunks.append(self.encode(prefill))
        return ModelInput(tuple(chunks))

    def build_supervised_example(
        self,
        messages: Sequence[Message],
        train_on_what: TrainOnWhat = TrainOnWhat.LAST_ASSISTANT_MESSAGE,
    ) -> tuple[ModelInput, npt.NDArray[np.float32]]:
        """Reasoning is kept for the whole final round (the last message is not counted as
        a plain answer), so a tool-using trajectory trains with its thinking."""
        msgs = self.with_system_message(messages)
        last = self._last_answer(msgs, len(msgs) - 1)
        return self._supervised(msgs, train_on_what, lambda ms, i: self._ctx(ms, i, last))

    def stop_sequences(self) -> list[int]:
        return [self.token("<|im_end|>")]

    def parse_response(self, tokens: Sequence[int]) -> tuple[Message, bool]:
        message, ok = parse_for_stop_token(tokens, self.tokenizer, self.token("<|im_end|>"))
        if not ok:
            return message, False
        assert isinstance(message.content, str)
        text, calls, bad = message.content, [], []
        section = _SECTION.search(text)
        if section is not None:
            text = text[: section.start()]
            for match in _CALL.finditer(section.group(1)):
                call_id, args = match.group(1).strip(), match.group(2).strip()
                try:
                    json.loads(args)
                except json.JSONDecodeError as exc:
                    bad.append(
                        UnparsedToolCall(raw_text=match.group(0), error=f"invalid JSON: {exc}")
                    )
                    continue
                body = FunctionBody(name=_tool_name(call_id), arguments=args)
                calls.append(ToolCall(function=body, id=call_id))
        parts = parse_think_blocks(text)
        return msgspec.structs.replace(
            message,
            content=parts if parts is not None else text,
            tool_calls=calls or None,
            unparsed_tool_calls=bad or None,
        ), True

    def create_conversation_prefix_with_tools(
        self, tools: Sequence[ToolSpec], system_prompt: str = ""
    ) -> list[Message]:
        """A ``tool_declare`` turn (OpenAI tool schema, compact JSON, sorted keys) and then
        the system message, in the template's order."""
        out: list[Message] = []
        if tools:
            payload = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    },
                }
                for t in tools
            ]
            declared = json.dumps(payload, separators=(",", ":"), sort_keys=True)
            out.append(Message(role="tool_declare", content=declared))
        out.append(Message(role="system", content=system_prompt or DEFAULT_SYSTEM_PROMPT))
        return out
