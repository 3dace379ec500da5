"""Training examples as stored: a conversation, or a prompt/completion pair.

A record with ``messages`` is a conversation; one with ``prompt`` and ``completion`` is a
pair, trained as a user turn and an assistant turn (so every renderer applies to both).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from crucible.errors import SerializationError
from crucible.train.renderers.messages import Message

__all__ = ["Conversation", "Example", "PromptCompletion", "example_from_record", "messages_of"]


class Conversation(msgspec.Struct, frozen=True, kw_only=True, tag="conversation"):
    messages: list[Message]


class PromptCompletion(msgspec.Struct, frozen=True, kw_only=True, tag="prompt_completion"):
    prompt: str
    completion: str


Example = Conversation | PromptCompletion


def example_from_record(record: Mapping[str, Any], where: str = "") -> Example:
    """An example from a decoded JSONL line or Parquet row; ``where`` names it in errors."""
    try:
        if "messages" in record:
            return msgspec.convert({"messages": record["messages"]}, Conversation)
        if "prompt" in record and "completion" in record:
            pair = {"prompt": record["prompt"], "completion": record["completion"]}
            return msgspec.convert(pair, PromptCompletion)
    except msgspec.ValidationError as exc:
        raise SerializationError(f"{where}: {exc}") from None
    raise SerializationError(f"{where}: expected 'messages' or 'prompt' and 'completion'")


def messages_of(example: Example) -> list[Message]:
    if isinstance(example, Conversation):
        return list(example.messages)
    return [
        Message(role="user", content=example.prompt),
        Message(role="assistant", content=example.completion),
    ]
