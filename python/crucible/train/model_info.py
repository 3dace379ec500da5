"""What a model is: parameter count, layer shapes, memory, tokenizer and special tokens.

Loggers record it with the hyperparameters, so a run's metrics come with the size of the
model that produced them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

__all__ = ["LayerInfo", "ModelInfo", "training_memory_bytes"]


class LayerInfo(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    shape: tuple[int, ...]
    parameters: int
    dtype: str


class ModelInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A model's description. ``memory_bytes`` estimates training memory: weights, gradients
    and two Adam moments (4x the weights), activations not included."""

    name: str
    architecture: str
    parameter_count: int
    layers: list[LayerInfo]
    dtype: str
    weights_bytes: int
    memory_bytes: int
    vocab_size: int
    context_length: int | None = None
    tokenizer: str | None = None
    special_tokens: dict[str, int] = msgspec.field(default_factory=dict)
    hyperparameters: dict[str, Any] = msgspec.field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The scalar facts, for a log line or a config dump."""
        return {
            "model/name": self.name,
            "model/parameters": self.parameter_count,
            "model/weights_bytes": self.weights_bytes,
            "model/memory_bytes": self.memory_bytes,
            "model/vocab_size": self.vocab_size,
            "model/context_length": self.context_length,
        }


def training_memory_bytes(weights_bytes: int, optimizer_moments: int = 2) -> int:
    return weights_bytes * (2 + optimizer_moments)


def layers_of(shapes: Mapping[str, tuple[int, ...]], dtype: str) -> list[LayerInfo]:
    out = []
    for name, shape in shapes.items():
        count = 1
        for dim in shape:
            count *= dim
        out.append(LayerInfo(name=name, shape=tuple(shape), parameters=count, dtype=dtype))
    return out
