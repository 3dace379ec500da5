"""Renderers by name (tinker-cookbook's names), plus user registrations."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from crucible.errors import InvalidArgumentError, NotFoundError
from crucible.train.renderers.base import Renderer
from crucible.train.renderers.deepseek_v3 import (
    DeepSeekV3DisableThinkingRenderer,
    DeepSeekV3ThinkingRenderer,
)
from crucible.train.renderers.gpt_oss import GptOssRenderer
from crucible.train.renderers.kimi_k2 import KimiK2Renderer
from crucible.train.renderers.llama3 import Llama3Renderer
from crucible.train.renderers.qwen3 import (
    Qwen3DisableThinkingRenderer,
    Qwen3InstructRenderer,
    Qwen3Renderer,
)
from crucible.train.renderers.role_colon import RoleColonRenderer
from crucible.train.tokenizers import Tokenizer

__all__ = [
    "get_renderer",
    "register_renderer",
    "renderer_names",
    "renderer_special_tokens",
    "unregister_renderer",
]

Factory = Callable[[Tokenizer], Renderer]

_BUILTIN: dict[str, tuple[Factory, type[Renderer]]] = {
    "role_colon": (RoleColonRenderer, RoleColonRenderer),
    "llama3": (Llama3Renderer, Llama3Renderer),
    "llama3_instruct": (Llama3Renderer, Llama3Renderer),
    "qwen3": (Qwen3Renderer, Qwen3Renderer),
    "qwen3_disable_thinking": (Qwen3DisableThinkingRenderer, Qwen3DisableThinkingRenderer),
    "qwen3_instruct": (Qwen3InstructRenderer, Qwen3InstructRenderer),
    "deepseekv3": (DeepSeekV3DisableThinkingRenderer, DeepSeekV3DisableThinkingRenderer),
    "deepseekv3_disable_thinking": (
        DeepSeekV3DisableThinkingRenderer,
        DeepSeekV3DisableThinkingRenderer,
    ),
    "deepseekv3_thinking": (DeepSeekV3ThinkingRenderer, DeepSeekV3ThinkingRenderer),
    "kimi_k2": (KimiK2Renderer, KimiK2Renderer),
    "gpt_oss_no_sysprompt": (GptOssRenderer, GptOssRenderer),
    "gpt_oss_low_reasoning": (partial(GptOssRenderer, reasoning_effort="low"), GptOssRenderer),
    "gpt_oss_medium_reasoning": (
        partial(GptOssRenderer, reasoning_effort="medium"),
        GptOssRenderer,
    ),
    "gpt_oss_high_reasoning": (partial(GptOssRenderer, reasoning_effort="high"), GptOssRenderer),
}
_custom: dict[str, tuple[Factory, tuple[str, ...]]] = {}


def register_renderer(name: str, factory: Factory, special_tokens: tuple[str, ...] = ()) -> None:
    """Make ``get_renderer(name, tokenizer)`` build ``factory(tokenizer)``; a namespaced name
    (``org/format``) avoids clashes. Built-in names cannot be replaced."""
    if name in _BUILTIN:
        raise InvalidArgumentError(f"{name!r} is a built-in renderer")
    _custom[name] = (factory, tuple(special_tokens))


def unregister_renderer(name: str) -> bool:
    return _custom.pop(name, None) is not None


def renderer_names() -> list[str]:
    return [*_BUILTIN, *_custom]


def _lookup(name: str) -> tuple[Factory, tuple[str, ...]]:
    if name in _custom:
        return _custom[name]
    if name in _BUILTIN:
        factory, cls = _BUILTIN[name]
        return factory, cls.special_tokens
    raise NotFoundError(f"unknown renderer {name!r}; known: {', '.join(renderer_names())}")


def get_renderer(name: str, tokenizer: Tokenizer) -> Renderer:
    return _lookup(name)[0](tokenizer)


def renderer_special_tokens(name: str) -> tuple[str, ...]:
    """The special tokens a renderer needs as single ids (for a byte tokenizer)."""
    return _lookup(name)[1]
