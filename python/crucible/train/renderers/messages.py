"""Chat messages as data: roles, multimodal content parts, tool calls.

The JSON shape is the OpenAI/tinker one (``{"role": ..., "content": ...}``, parts tagged by
``type``, tool calls as ``{"type": "function", "function": {"name", "arguments"}}``), so data
sets in that shape decode straight into these Structs with :func:`decode_messages`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import msgspec

from crucible.errors import InvalidArgumentError, SerializationError

__all__ = [
    "Content",
    "ContentPart",
    "FunctionBody",
    "ImagePart",
    "Message",
    "TextPart",
    "ThinkingPart",
    "ToolCall",
    "ToolSpec",
    "UnparsedToolCall",
    "decode_messages",
    "ensure_list",
    "ensure_text",
    "has_thinking",
    "text_content",
    "thinking_content",
]


class TextPart(msgspec.Struct, frozen=True, tag="text", tag_field="type"):
    """Visible text."""

    text: str


class ThinkingPart(msgspec.Struct, frozen=True, tag="thinking", tag_field="type"):
    """Reasoning (chain of thought), rendered in each family's own way or stripped."""

    thinking: str


class ImagePart(msgspec.Struct, frozen=True, kw_only=True, tag="image", tag_field="type"):
    """An image: its bytes (base64 in JSON) and how many positions the model reserves."""

    image: bytes
    format: str = "png"
    expected_tokens: int = 1


ContentPart = TextPart | ThinkingPart | ImagePart
Content = str | list[ContentPart]


class FunctionBody(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    arguments: str
    """JSON text of the arguments object."""


class ToolCall(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A request to call a tool."""

    function: FunctionBody
    id: str | None = None
    type: Literal["function"] = "function"

    @classmethod
    def of(cls, name: str, arguments: Mapping[str, Any], id: str | None = None) -> ToolCall:
        return cls(function=FunctionBody(name=name, arguments=json.dumps(dict(arguments))), id=id)


class UnparsedToolCall(msgspec.Struct, frozen=True, kw_only=True):
    """Model output that looked like a tool call but did not parse; kept for debugging."""

    raw_text: str
    error: str


class Message(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One turn. ``trainable`` is read only by ``TrainOnWhat.CUSTOMIZED``; ``name`` and
    ``tool_call_id`` tie a tool result to its call (Kimi and GPT-OSS print them)."""

    role: str
    content: Content
    tool_calls: list[ToolCall] | None = None
    unparsed_tool_calls: list[UnparsedToolCall] | None = None
    trainable: bool | None = None
    tool_call_id: str | None = None
    name: str | None = None


class ToolSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A tool the model may call (OpenAI function format)."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = msgspec.field(default_factory=dict)


_messages = msgspec.json.Decoder(list[Message])


def decode_messages(obj: bytes | str | Iterable[Mapping[str, Any]]) -> list[Message]:
    """Messages from JSON text or from already-parsed dicts."""
    try:
        if isinstance(obj, (bytes, str)):
            return _messages.decode(obj)
        return msgspec.convert(list(obj), list[Message])
    except msgspec.ValidationError as exc:
        raise SerializationError(f"not a list of messages: {exc}") from None


def ensure_text(content: Content) -> str:
    """Text-only content as a string (renderers without vision support call this)."""
    if isinstance(content, str):
        return content
    if all(isinstance(p, TextPart) for p in content):
        return "".join(p.text for p in content if isinstance(p, TextPart))
    kinds = sorted({type(p).__name__ for p in content})
    raise InvalidArgumentError(f"expected text content, got parts {kinds}")


def ensure_list(content: Content) -> list[ContentPart]:
    return [TextPart(content)] if isinstance(content, str) else list(content)


def text_content(message: Message) -> str:
    """The visible text of a message (thinking and images left out)."""
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(p.text for p in content if isinstance(p, TextPart))


def thinking_content(message: Message) -> str:
    content = message.content
    if isinstance(content, str):
        return ""
    return "".join(p.thinking for p in content if isinstance(p, ThinkingPart))


def has_thinking(content: Content) -> bool:
    """Whether content carries reasoning: a thinking part, or a closed inline block."""
    if isinstance(content, str):
        return "</think>" in content
    return any(isinstance(p, ThinkingPart) for p in content)
