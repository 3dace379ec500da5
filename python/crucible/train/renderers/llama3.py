"""Llama 3 (Instruct) chat format.

``<|begin_of_text|>`` once, then per message
``<|start_header_id|>ROLE<|end_header_id|>\\n\\n`` + content + ``<|eot_id|>``. Tool results
take the role ``ipython`` with content wrapped as ``{"output": ...}``; tool calls are
``{"name": ..., "parameters": {...}}`` JSON appended to the assistant content (arguments
encoded once, not twice as Hugging Face's template does).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from crucible.train.renderers.base import RenderContext, RenderedMessage, Renderer
from crucible.train.renderers.messages import (
    FunctionBody,
    Message,
    ToolCall,
    ToolSpec,
    ensure_text,
)
from crucible.train.renderers.parsing import parse_for_stop_token

__all__ = ["Llama3Renderer"]


def extract_json_tool_calls(content: str) -> tuple[list[ToolCall], str]:
    """Every JSON object with a ``name`` and ``parameters`` (or ``arguments``) in the text,
    and the text left when they are removed."""
    decoder = json.JSONDecoder()
    calls: list[ToolCall] = []
    remaining = content
    pos = 0
    while (brace := content.find("{", pos)) != -1:
        try:
            obj, used = decoder.raw_decode(content[brace:])
        except json.JSONDecodeError:
            pos = brace + 1
            continue
        raw = content[brace : brace + used]
        if isinstance(obj, dict) and "name" in obj and ("parameters" in obj or "arguments" in obj):
            params = obj.get("parameters", obj.get("arguments"))
            args = json.dumps(params) if isinstance(params, dict) else str(params)
            calls.append(ToolCall(function=FunctionBody(name=str(obj["name"]), arguments=args)))
            remaining = remaining.replace(raw, "", 1)
        pos = brace + used
    return calls, remaining.strip()


class Llama3Renderer(Renderer):
    special_tokens = ("<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>")

    @property
    def has_extension_property(self) -> bool:
        return True

    @property
    def bos_tokens(self) -> list[int]:
        return [self.token("<|begin_of_text|>")]

    def render_message(self, message: Message, ctx: RenderContext) -> RenderedMessage:
        role = "ipython" if message.role == "tool" else message.role
        text = ensure_text(message.content)
        if message.role == "tool":
            text = json.dumps({"output": text})
        for call in message.tool_calls or ():
            text += f'{{"name": "{call.function.name}", "parameters": {call.function.arguments}}}'
        return RenderedMessage(
            header=self.encode(f"<|start_header_id|>{role}<|end_header_id|>\n\n"),
            output=[self.encode(text + "<|eot_id|>")],
        )

    def stop_sequences(self) -> list[int]:
        return [self.token("<|eot_id|>")]

    def parse_response(self, tokens: Sequence[int]) -> tuple[Message, bool]:
        message, ok = parse_for_stop_token(tokens, self.tokenizer, self.token("<|eot_id|>"))
        if not ok:
            return message, False
        assert isinstance(message.content, str)
        calls, rest = extract_json_tool_calls(message.content)
        if calls:
            return Message(role="assistant", content=rest, tool_calls=calls), True
        return message, True

    def create_conversation_prefix_with_tools(
        self, tools: Sequence[ToolSpec], system_prompt: str = ""
    ) -> list[Message]:
        """A system message listing the tools as JSON and the call format."""
        text = ""
        if tools:
            specs = "\n\n".join(
                json.dumps(
                    {"name": t.name, "description": t.description, "parameters": t.parameters},
                    indent=2,
                )
                for t in tools
            )
            text = (
                "You can call these functions. To call one, reply with JSON of the form "
                '{"name": function name, "parameters": dictionary of arguments}.\n\n'
                f"{specs}\n\n"
            )
        return [Message(role="system", content=text + system_prompt)]
