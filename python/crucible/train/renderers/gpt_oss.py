"""GPT-OSS: OpenAI's harmony format.

Each message is ``<|start|>ROLE`` + (``<|channel|>CHANNEL``) + ``<|message|>`` + content +
``<|end|>``, with no separators. Assistant reasoning goes on the ``analysis`` channel, the
answer on ``final`` (ending ``<|return|>`` when it closes the conversation), tool calls on
``commentary`` addressed ``to=functions.NAME`` and ended by ``<|call|>``. User system messages
become ``developer`` instructions; the reasoning effort lives in the model's own system
message, which the ``*_reasoning`` variants prepend.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from crucible.errors import InvalidArgumentError
from crucible.train.renderers.base import RenderContext, RenderedMessage, Renderer, TrainOnWhat
from crucible.train.renderers.messages import (
    ContentPart,
    FunctionBody,
    Message,
    TextPart,
    ThinkingPart,
    ToolCall,
    UnparsedToolCall,
    ensure_text,
    text_content,
    thinking_content,
)
from crucible.train.tokenizers import Tokenizer
from crucible.train.types import ModelInput

__all__ = ["GptOssRenderer"]

SYSTEM_PROMPT = (
    "You are ChatGPT, a large language model trained by OpenAI.\n"
    "Knowledge cutoff: 2024-06\n"
    "Current date: {current_date}\n\n"
    "Reasoning: {reasoning_effort}\n\n"
    "# Valid channels: analysis, commentary, final. Channel must be included for every message."
)
_MODEL_SYSTEM = "_gpt_oss_system"  # the model's own system message, not mapped to developer
_ENDS = ("<|end|>", "<|call|>", "<|return|>")


class GptOssRenderer(Renderer):
    special_tokens = (
        "<|start|>",
        "<|end|>",
        "<|message|>",
        "<|channel|>",
        "<|return|>",
        "<|call|>",
        "<|constrain|>",
    )

    def __init__(
        self,
        tokenizer: Tokenizer,
        reasoning_effort: str | None = None,
        current_date: str | None = None,
    ) -> None:
        """``reasoning_effort`` (``low``/``medium``/``high``) adds the system message;
        ``current_date`` fixes its date (default: today), for reproducible prompts."""
        super().__init__(tokenizer)
        if reasoning_effort not in (None, "low", "medium", "high"):
            raise InvalidArgumentError(f"unknown reasoning effort {reasoning_effort!r}")
        self.reasoning_effort = reasoning_effort
        self.current_date = current_date

    def _with_system(self, messages: Sequence[Message]) -> list[Message]:
        if self.reasoning_effort is None:
            return list(messages)
        date = self.current_date or datetime.date.today().isoformat()
        text = SYSTEM_PROMPT.format(current_date=date, reasoning_effort=self.reasoning_effort)
        return [Message(role=_MODEL_SYSTEM, content=text), *messages]

    def render_message(self, message: Message, ctx: RenderContext) -> RenderedMessage:
        if message.role == "tool":
            name = message.name or "unknown"
            name = name if name.startswith("functions.") else f"functions.{name}"
            body = f"<|channel|>commentary<|message|>{ensure_text(message.content)}<|end|>"
            return RenderedMessage(
                header=self.encode(f"<|start|>{name} to=assistant"), output=[self.encode(body)]
            )
        role = {"system": "developer", _MODEL_SYSTEM: "system"}.get(message.role, message.role)
        if message.role == "assistant":
            text, thinking = text_content(message), thinking_content(message)
            body = ""
            if thinking:
                body += f"<|channel|>analysis<|message|>{thinking}<|end|><|start|>assistant"
            if message.tool_calls:
                if text:
                    body += f"<|channel|>commentary<|message|>{text}<|end|><|start|>assistant"
                body += "<|start|>assistant".join(
                    f" to=functions.{c.function.name}<|channel|>commentary <|constrain|>json"
                    f"<|message|>{c.function.arguments}<|call|>"
                    for c in message.tool_calls
                )
            else:
                body += f"<|channel|>final<|message|>{text}"
                body += "<|return|>" if ctx.is_last else "<|end|>"
        elif message.role == "system":
            body = f"<|message|># Instructions\n\n{ensure_text(message.content)}\n\n<|end|>"
        else:
            body = f"<|message|>{ensure_text(message.content)}<|end|>"
        return RenderedMessage(header=self.encode(f"<|start|>{role}"), output=[self.encode(body)])

    def build_generation_prompt(
        self, messages: Sequence[Message], role: str = "assistant", prefill: str | None = None
    ) -> ModelInput:
        return super().build_generation_prompt(self._with_system(messages), role, prefill)

    def build_supervised_example(
        self,
        messages: Sequence[Message],
        train_on_what: TrainOnWhat = TrainOnWhat.LAST_ASSISTANT_MESSAGE,
    ) -> tuple[ModelInput, npt.NDArray[np.float32]]:
        return super().build_supervised_example(self._with_system(messages), train_on_what)

    def stop_sequences(self) -> list[int]:
        return [self.token("<|return|>"), self.token("<|call|>")]

    def parse_response(self, tokens: Sequence[int]) -> tuple[Message, bool]:
        toks = list(tokens)
        ret, call = self.token("<|return|>"), self.token("<|call|>")
        if toks.count(ret) > 1 or toks.count(call) > 1:
            raise InvalidArgumentError(
                "more than one <|return|> or <|call|> in a response: sample with the "
                "renderer's stop sequences"
            )
        stops = [toks.index(t) for t in (ret, call) if t in toks]
        if not stops:
            return Message(role="assistant", content=self.tokenizer.decode(toks)), False
        text = self.tokenizer.decode(toks[: min(stops)])
        parts: list[ContentPart] = []
        calls: list[ToolCall] = []
        bad: list[UnparsedToolCall] = []
        for channel, recipient, body, raw in _harmony_messages(text):
            if not body.strip():
                continue
            if recipient and recipient.startswith("functions."):
                try:
                    json.loads(body)
                except json.JSONDecodeError as exc:
                    bad.append(UnparsedToolCall(raw_text=raw, error=f"invalid JSON: {exc}"))
                    continue
                fn = FunctionBody(name=recipient.removeprefix("functions."), arguments=body.strip())
                calls.append(ToolCall(function=fn))
            elif channel == "analysis":
                parts.append(ThinkingPart(body))
            elif channel in ("final", "commentary"):
                parts.append(TextPart(body))
        message = Message(
            role="assistant",
            content=parts if parts else text,
            tool_calls=calls or None,
            unparsed_tool_calls=bad or None,
        )
        return message, True


def _harmony_messages(text: str) -> list[tuple[str | None, str | None, str, str]]:
    """(channel, recipient, body, raw text) of each ``…<|message|>body<|end|>`` segment."""
    out: list[tuple[str | None, str | None, str, str]] = []
    pos = 0
    while (msg := text.find("<|message|>", pos)) != -1:
        start = text.rfind("<|start|>", pos, msg)
        start = pos if start == -1 else start
        header = text[start:msg]
        body_start = msg + len("<|message|>")
        found = [(i, tok) for tok in _ENDS if (i := text.find(tok, body_start)) != -1]
        end, end_tok = min(found) if found else (len(text), "")
        channel = re.search(r"<\|channel\|>([^<\s]+)", header)
        recipient = re.search(r"to=([^\s<]+)", header)
        out.append(
            (
                channel.group(1) if channel else None,
                recipient.group(1) if recipient else None,
                text[body_start:end],
                text[start : end + len(end_tok)],
            )
        )
        pos = end + len(end_tok)
    return out
