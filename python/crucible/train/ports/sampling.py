"""Sampling ports: token-level (:class:`SamplingClient`) and message-level
(:class:`LLMClient`, a chat model that answers messages with a message)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from crucible.train.renderers.messages import Message
from crucible.train.types import ModelInput, SampleResponse, SamplingParams

__all__ = ["LLMClient", "SamplingClient"]


@runtime_checkable
class SamplingClient(Protocol):
    def sample(
        self,
        prompt: ModelInput,
        num_samples: int = 1,
        sampling_params: SamplingParams | None = None,
        *,
        include_prompt_logprobs: bool = False,
    ) -> SampleResponse:
        """``num_samples`` continuations of ``prompt`` (temperature, top-p, max tokens and
        stop sequences from ``sampling_params``), each with its tokens' logprobs."""
        ...

    def compute_logprobs(self, prompt: ModelInput) -> list[float | None]:
        """Log-probability of every prompt token given the ones before (the first: None)."""
        ...


@runtime_checkable
class LLMClient(Protocol):
    def complete(
        self, messages: Sequence[Message], sampling_params: SamplingParams | None = None
    ) -> Message:
        """The assistant's next message."""
        ...
