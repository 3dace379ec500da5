"""Turning sampled text back into messages: stop tokens, think blocks, tool-call JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from crucible.errors import InvalidArgumentError
from crucible.train.renderers.messages import (
    ContentPart,
    FunctionBody,
    Message,
    TextPart,
    ThinkingPart,
    ToolCall,
    UnparsedToolCall,
)
from crucible.train.tokenizers import Tokenizer

__all__ = [
    "parse_content_blocks",
    "parse_for_stop_token",
    "parse_think_blocks",
    "parse_tool_call_json",
]

_BLOCKS = re.compile(r"<think>(.*?)</think>|<tool_call>(.*?)</tool_call>", re.DOTALL)
_THINK = re.compile(r"<think>(.*?)</think>", re.DOTALL)


def parse_for_stop_token(
    tokens: Sequence[int], tokenizer: Tokenizer, stop_token: int
) -> tuple[Message, bool]:
    """The text before the single stop token. No stop token: the sampler ran out of budget,
    so the message is returned unfinished (``False``). Several: the sampler was not told to
    stop there, which is a caller bug, so it raises."""
    toks = list(tokens)
    count = toks.count(stop_token)
    if count == 0:
        return Message(role="assistant", content=tokenizer.decode(toks)), False
    if count > 1:
        raise InvalidArgumentError(
            f"expected at most one stop token {stop_token} in a response, found {count}: "
            "sample with the renderer's stop sequences"
        )
    return Message(role="assistant", content=tokenizer.decode(toks[: toks.index(stop_token)])), True


def parse_tool_call_json(payload: str, raw_text: str) -> ToolCall | UnparsedToolCall:
    """``{"name": ..., "arguments": {...}}`` (``parameters`` accepted too) as a tool call."""
    try:
        obj = json.loads(payload.strip())
    except json.JSONDecodeError as exc:
        return UnparsedToolCall(raw_text=raw_text, error=f"invalid JSON: {exc}")
    if not isinstance(obj, dict):
        return UnparsedToolCall(raw_text=raw_text, error="tool call is not a JSON object")
    name = obj.get("name")
    args = obj.get("arguments", obj.get("parameters"))
    if not isinstance(name, str):
        return UnparsedToolCall(raw_text=raw_text, error="missing or invalid 'name'")
    if not isinstance(args, dict):
        return UnparsedToolCall(raw_text=raw_text, error="missing or invalid 'arguments'")
    call_id = obj.get("id")
    return ToolCall(
        function=FunctionBody(name=name, arguments=json.dumps(args)),
        id=call_id if isinstance(call_id, str) else None,
    )


def parse_content_blocks(
    content: str,
) -> tuple[list[ContentPart], list[ToolCall | UnparsedToolCall]] | None:
    """Split ``<think>…</think>`` and ``<tool_call>…</tool_call>`` blocks out of text, in
    order; ``None`` when there are none (the caller keeps the plain string). Whitespace
    around blocks is kept, so parsing then rendering gives the same text."""
    if "<think>" not in content and "<tool_call>" not in content:
        return None
    parts: list[ContentPart] = []
    calls: list[ToolCall | UnparsedToolCall] = []
    pos = 0
    for match in _BLOCKS.finditer(content):
        if match.start() > pos:
            parts.append(TextPart(content[pos : match.start()]))
        if match.group(1) is not None:
            if match.group(1):
                parts.append(ThinkingPart(match.group(1)))
        else:
            calls.append(parse_tool_call_json(match.group(2), match.group(0)))
        pos = match.end()
    if pos < len(content):
        parts.append(TextPart(content[pos:]))
    return parts, calls


def parse_think_blocks(content: str) -> list[ContentPart] | None:
    """Only ``<think>`` blocks (for formats whose tool calls use other markers)."""
    if "<think>" not in content:
        return None
    parts: list[ContentPart] = []
    pos = 0
    for match in _THINK.finditer(content):
        if match.start() > pos:
            parts.append(TextPart(content[pos : match.start()]))
        if match.group(1):
            parts.append(ThinkingPart(match.group(1)))
        pos = match.end()
    if pos < len(content):
        parts.append(TextPart(content[pos:]))
    return parts


def split_tool_results(
    results: Sequence[ToolCall | UnparsedToolCall],
) -> tuple[list[ToolCall] | None, list[UnparsedToolCall] | None]:
    calls = [r for r in results if isinstance(r, ToolCall)]
    bad = [r for r in results if isinstance(r, UnparsedToolCall)]
    return calls or None, bad or None
