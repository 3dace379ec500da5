"""The local NumPy language-model backend: a real :class:`TrainingClient` and
:class:`SamplingClient` (see :mod:`.model` for the architecture and why)."""

from __future__ import annotations

from typing import Any

import msgspec

from crucible.errors import NotFoundError
from crucible.train.adapters.numpy_lm.client import NumpyLMTrainingClient
from crucible.train.adapters.numpy_lm.model import NumpyLMConfig
from crucible.train.adapters.numpy_lm.sampler import NumpySamplingClient
from crucible.train.tokenizers import Tokenizer

__all__ = ["PRESETS", "NumpyLMConfig", "NumpyLMTrainingClient", "NumpySamplingClient", "create"]

PRESETS: dict[str, dict[str, Any]] = {
    "numpy-lm-tiny": {"context": 6, "embed_dim": 16, "hidden": 64, "layers": 1, "bag_dim": 8},
    "numpy-lm-small": {"context": 8, "embed_dim": 32, "hidden": 128, "layers": 2, "bag_dim": 32},
    "numpy-lm-base": {"context": 12, "embed_dim": 48, "hidden": 256, "layers": 3, "bag_dim": 64},
}


def create(
    model: str, tokenizer: Tokenizer, *, seed: int = 0, **overrides: Any
) -> NumpyLMTrainingClient:
    """A fresh model from a preset name sized to ``tokenizer``'s vocabulary."""
    if model not in PRESETS:
        raise NotFoundError(f"unknown NumPy LM preset {model!r}; known: {', '.join(PRESETS)}")
    fields = {**PRESETS[model], **overrides, "vocab_size": tokenizer.vocab_size, "seed": seed}
    config = msgspec.convert({**fields, "name": model}, NumpyLMConfig)
    return NumpyLMTrainingClient(config, tokenizer)
