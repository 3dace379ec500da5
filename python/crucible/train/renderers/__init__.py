"""Renderers: conversations to tokens with loss weights, generation prompts, stop sequences,
and completions parsed back into messages, for Llama 3, Qwen 3, DeepSeek V3, Kimi K2,
GPT-OSS (harmony) and plain RoleColon text. Look them up with :func:`get_renderer`."""

from __future__ import annotations

from crucible.train.renderers.base import RenderContext, RenderedMessage, Renderer, TrainOnWhat
from crucible.train.renderers.deepseek_v3 import (
    DeepSeekV3DisableThinkingRenderer,
    DeepSeekV3ThinkingRenderer,
)
from crucible.train.renderers.gpt_oss import GptOssRenderer
from crucible.train.renderers.kimi_k2 import KimiK2Renderer
from crucible.train.renderers.llama3 import Llama3Renderer
from crucible.train.renderers.messages import (
    Content,
    ContentPart,
    FunctionBody,
    ImagePart,
    Message,
    TextPart,
    ThinkingPart,
    ToolCall,
    ToolSpec,
    UnparsedToolCall,
    decode_messages,
    ensure_text,
    text_content,
    thinking_content,
)
from crucible.train.renderers.qwen3 import (
    Qwen3DisableThinkingRenderer,
    Qwen3InstructRenderer,
    Qwen3Renderer,
)
from crucible.train.renderers.registry import (
    get_renderer,
    register_renderer,
    renderer_names,
    renderer_special_tokens,
    unregister_renderer,
)
from crucible.train.renderers.role_colon import RoleColonRenderer

__all__ = [
    "Content",
    "ContentPart",
    "DeepSeekV3DisableThinkingRenderer",
    "DeepSeekV3ThinkingRenderer",
    "FunctionBody",
    "GptOssRenderer",
    "ImagePart",
    "KimiK2Renderer",
    "Llama3Renderer",
    "Message",
    "Qwen3DisableThinkingRenderer",
    "Qwen3InstructRenderer",
    "Qwen3Renderer",
    "RenderContext",
    "RenderedMessage",
    "Renderer",
    "RoleColonRenderer",
    "TextPart",
    "ThinkingPart",
    "ToolCall",
    "ToolSpec",
    "TrainOnWhat",
    "UnparsedToolCall",
    "decode_messages",
    "ensure_text",
    "get_renderer",
    "register_renderer",
    "renderer_names",
    "renderer_special_tokens",
    "text_content",
    "thinking_content",
    "unregister_renderer",
]
