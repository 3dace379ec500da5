"""An :class:`~crucible.train.ports.LLMClient` from a renderer and a sampling client: render
the conversation, sample with the renderer's stop sequences, parse the reply (tool calls
included). The message-level face of any token-level sampler."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from crucible.train.ports.sampling import SamplingClient
from crucible.train.renderers.base import Renderer
from crucible.train.renderers.messages import Message
from crucible.train.types import SamplingParams

__all__ = ["RendererLLMClient"]


class RendererLLMClient:
    def __init__(self, sampler: SamplingClient, renderer: Renderer) -> None:
        self.sampler = sampler
        self.renderer = renderer
        self.last_ok = True
        """Whether the last reply ended with a stop sequence (not the token budget)."""

    def complete(
        self, messages: Sequence[Message], sampling_params: SamplingParams | None = None
    ) -> Message:
        params = sampling_params or SamplingParams()
        stop: list[int | str] = [*self.renderer.stop_sequences()]
        params = msgspec.structs.replace(params, stop=stop)
        prompt = self.renderer.build_generation_prompt(messages)
        seq = self.sampler.sample(prompt, 1, params).sequences[0]
        message, self.last_ok = self.renderer.parse_response(seq.tokens)
        return message
