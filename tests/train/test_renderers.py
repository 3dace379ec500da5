# ruff: noqa: RUF001
"""Golden tests: each family's exact rendered text (formats checked against
tinker-cookbook's renderers), its loss weights, prompts, stop sequences and parsing."""

from __future__ import annotations

import json

import numpy as np
import pytest

from crucible.errors import InvalidArgumentError, NotFoundError, UnsupportedOperationError
from crucible.train.renderers import (
    ImagePart,
    Message,
    Renderer,
    TextPart,
    ThinkingPart,
    ToolCall,
    ToolSpec,
    TrainOnWhat,
    decode_messages,
    get_renderer,
    register_renderer,
    renderer_names,
    renderer_special_tokens,
    unregister_renderer,
)
from crucible.train.renderers.role_colon import RoleColonRenderer
from crucible.train.tokenizers import ByteTokenizer
from crucible.train.types import ImageChunk

M = Message
CONV = [
    M(role="system", content="Be brief."),
    M(role="user", content="Hi"),
    M(role="assistant", content="Hello!"),
    M(role="user", content="2+2?"),
    M(role="assistant", content="4"),
]
TOOL_CONV = [
    M(role="user", content="Weather in Paris?"),
    M(
        role="assistant",
        content="Let me check.",
        tool_calls=[ToolCall.of("get_weather", {"city": "Paris"}, id="call_1")],
    ),
    M(role="tool", content="18C and sunny", name="get_weather", tool_call_id="call_1"),
    M(role="assistant", content="It is 18C and sunny."),
]


def renderer(name: str, **kwargs: object) -> Renderer:
    r = get_renderer(name, ByteTokenizer(renderer_special_tokens(name)))
    for key, value in kwargs.items():
        setattr(r, key, value)
    return r


def render(
    r: Renderer, conv: list[Message], mode: TrainOnWhat = TrainOnWhat.LAST_ASSISTANT_MESSAGE
) -> tuple[str, str]:
    """(full text, text of the tokens with weight 1)."""
    model_input, weights = r.build_supervised_example(conv, mode)
    ids = model_input.to_ints()
    assert weights.shape == (len(ids),)
    assert set(np.unique(weights)) <= {0.0, 1.0}
    trained = r.tokenizer.decode([t for t, w in zip(ids, weights, strict=True) if w])
    return r.render_text(model_input), trained


def prompt(r: Renderer, conv: list[Message]) -> str:
    return r.render_text(r.build_generation_prompt(conv))


# --- exact text per family --------------------------------------------------------------------

GOLDEN = {
    "role_colon": (
        "System: Be brief.\n\nUser: Hi\n\nAssistant: Hello!\n\nUser: 2+2?\n\nAssistant: 4\n\nUser:",
        " 4\n\nUser:",
        "System: Be brief.\n\nUser: Hi\n\nAssistant: Hello!\n\nUser: 2+2?\n\nAssistant:",
    ),
    "llama3": (
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\n2+2?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n4<|eot_id|>",
        "4<|eot_id|>",
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\n2+2?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
    ),
    "qwen3": (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n"
        "<|im_start|>assistant\n<think>\n\n</think>\n\n4<|im_end|>",
        "<think>\n\n</think>\n\n4<|im_end|>",
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n"
        "<|im_start|>assistant\n",
    ),
    "qwen3_disable_thinking": (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n"
        "<|im_start|>assistant\n<think>\n\n</think>\n\n4<|im_end|>",
        "<think>\n\n</think>\n\n4<|im_end|>",
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n"
        "<|im_start|>assistant\n<think>\n\n</think>\n\n",
    ),
    "qwen3_instruct": (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n"
        "<|im_start|>assistant\n4<|im_end|>",
        "4<|im_end|>",
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n"
        "<|im_start|>assistant\n",
    ),
    "deepseekv3": (
        "<｜begin▁of▁sentence｜>Be brief.<｜User｜>Hi<｜Assistant｜></think>Hello!"
        "<｜end▁of▁sentence｜><｜User｜>2+2?<｜Assistant｜></think>4<｜end▁of▁sentence｜>",
        "4<｜end▁of▁sentence｜>",
        "<｜begin▁of▁sentence｜>Be brief.<｜User｜>Hi<｜Assistant｜></think>Hello!"
        "<｜end▁of▁sentence｜><｜User｜>2+2?<｜Assistant｜></think>",
    ),
    "deepseekv3_thinking": (
        "<｜begin▁of▁sentence｜>Be brief.<｜User｜>Hi<｜Assistant｜></think>Hello!"
        "<｜end▁of▁sentence｜><｜User｜>2+2?<｜Assistant｜>4<｜end▁of▁sentence｜>",
        "4<｜end▁of▁sentence｜>",
        "<｜begin▁of▁sentence｜>Be brief.<｜User｜>Hi<｜Assistant｜></think>Hello!"
        "<｜end▁of▁sentence｜><｜User｜>2+2?<｜Assistant｜><think>",
    ),
    "kimi_k2": (
        "<|im_system|>system<|im_middle|>Be brief.<|im_end|>"
        "<|im_user|>user<|im_middle|>Hi<|im_end|>"
        "<|im_assistant|>assistant<|im_middle|><think></think>Hello!<|im_end|>"
        "<|im_user|>user<|im_middle|>2+2?<|im_end|>"
        "<|im_assistant|>assistant<|im_middle|><think></think>4<|im_end|>",
        "<think></think>4<|im_end|>",
        "<|im_system|>system<|im_middle|>Be brief.<|im_end|>"
        "<|im_user|>user<|im_middle|>Hi<|im_end|>"
        "<|im_assistant|>assistant<|im_middle|><think></think>Hello!<|im_end|>"
        "<|im_user|>user<|im_middle|>2+2?<|im_end|>"
        "<|im_assistant|>assistant<|im_middle|>",
    ),
    "gpt_oss_no_sysprompt": (
        "<|start|>developer<|message|># Instructions\n\nBe brief.\n\n<|end|>"
        "<|start|>user<|message|>Hi<|end|>"
        "<|start|>assistant<|channel|>final<|message|>Hello!<|end|>"
        "<|start|>user<|message|>2+2?<|end|>"
        "<|start|>assistant<|channel|>final<|message|>4<|return|>",
        "<|channel|>final<|message|>4<|return|>",
        "<|start|>developer<|message|># Instructions\n\nBe brief.\n\n<|end|>"
        "<|start|>user<|message|>Hi<|end|>"
        "<|start|>assistant<|channel|>final<|message|>Hello!<|end|>"
        "<|start|>user<|message|>2+2?<|end|><|start|>assistant",
    ),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_text(name: str) -> None:
    full, trained, gen = GOLDEN[name]
    r = renderer(name)
    assert render(r, CONV) == (full, trained)
    assert prompt(r, CONV[:-1]) == gen


def test_llama3_instruct_is_llama3() -> None:
    assert render(renderer("llama3_instruct"), CONV) == GOLDEN["llama3"][:2]


@pytest.mark.parametrize("effort", ["low", "medium", "high"])
def test_gpt_oss_reasoning_effort_system_message(effort: str) -> None:
    r = renderer(f"gpt_oss_{effort}_reasoning", current_date="2025-01-01")
    system = (
        "<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\n"
        "Knowledge cutoff: 2024-06\nCurrent date: 2025-01-01\n\n"
        f"Reasoning: {effort}\n\n# Valid channels: analysis, commentary, final. "
        "Channel must be included for every message.<|end|>"
    )
    full, trained = render(r, CONV)
    assert full == system + GOLDEN["gpt_oss_no_sysprompt"][0]
    assert trained == GOLDEN["gpt_oss_no_sysprompt"][1]
    assert prompt(r, CONV[:-1]) == system + GOLDEN["gpt_oss_no_sysprompt"][2]


def test_kimi_adds_default_system_message() -> None:
    full, _ = render(renderer("kimi_k2"), CONV[1:])
    assert full.startswith(
        "<|im_system|>system<|im_middle|>You are Kimi, an AI assistant created by Moonshot AI."
        "<|im_end|><|im_user|>user"
    )


TOOL_GOLDEN = {
    "llama3": "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWeather in Paris?"
    "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nLet me check."
    '{"name": "get_weather", "parameters": {"city": "Paris"}}<|eot_id|>'
    '<|start_header_id|>ipython<|end_header_id|>\n\n{"output": "18C and sunny"}<|eot_id|>'
    "<|start_header_id|>assistant<|end_header_id|>\n\nIt is 18C and sunny.<|eot_id|>",
    "qwen3": "<|im_start|>user\nWeather in Paris?<|im_end|>\n<|im_start|>assistant\n"
    'Let me check.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n'
    "</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\n18C and sunny\n"
    "</tool_response><|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
    "It is 18C and sunny.<|im_end|>",
    "deepseekv3": "<｜begin▁of▁sentence｜><｜User｜>Weather in Paris?<｜Assistant｜></think>"
    "Let me check.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>"
    '{"city": "Paris"}<｜tool▁call▁end｜><｜tool▁calls▁end｜><｜end▁of▁sentence｜>'
    "<｜tool▁output▁begin｜>18C and sunny<｜tool▁output▁end｜>It is 18C and sunny."
    "<｜end▁of▁sentence｜>",
    "kimi_k2": "<|im_system|>system<|im_middle|>You are Kimi, an AI assistant created by "
    "Moonshot AI.<|im_end|><|im_user|>user<|im_middle|>Weather in Paris?<|im_end|>"
    "<|im_assistant|>assistant<|im_middle|><think></think>Let me check."
    "<|tool_calls_section_begin|><|tool_call_begin|>call_1<|tool_call_argument_begin|>"
    '{"city": "Paris"}<|tool_call_end|><|tool_calls_section_end|><|im_end|>'
    "<|im_system|>get_weather<|im_middle|>## Return of call_1\n18C and sunny<|im_end|>"
    "<|im_assistant|>assistant<|im_middle|><think></think>It is 18C and sunny.<|im_end|>",
    "gpt_oss_no_sysprompt": "<|start|>user<|message|>Weather in Paris?<|end|>"
    "<|start|>assistant<|channel|>commentary<|message|>Let me check.<|end|>"
    "<|start|>assistant to=functions.get_weather<|channel|>commentary <|constrain|>json"
    '<|message|>{"city": "Paris"}<|call|>'
    "<|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>"
    "18C and sunny<|end|><|start|>assistant<|channel|>final<|message|>It is 18C and sunny."
    "<|return|>",
}


@pytest.mark.parametrize("name", sorted(TOOL_GOLDEN))
def test_golden_tool_use(name: str) -> None:
    assert render(renderer(name), TOOL_CONV)[0] == TOOL_GOLDEN[name]


def test_qwen3_thinking_framed_on_last_turn_and_stripped_from_history() -> None:
    conv = [
        M(role="user", content="Hi"),
        M(role="assistant", content=[ThinkingPart("greet back"), TextPart("Hello!")]),
        M(role="user", content="Bye"),
        M(role="assistant", content=[ThinkingPart("\nsay bye\n"), TextPart("\nBye!")]),
    ]
    full, trained = render(renderer("qwen3"), conv)
    assert full == (
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n"
        "<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n<think>\nsay bye\n</think>\n\n"
        "Bye!<|im_end|>"
    )
    assert trained == "<think>\nsay bye\n</think>\n\nBye!<|im_end|>"


def test_deepseek_thinking_keeps_last_reasoning() -> None:
    conv = [
        M(role="user", content="Q"),
        M(role="assistant", content=[ThinkingPart("hmm"), TextPart("A")]),
    ]
    assert (
        render(renderer("deepseekv3_thinking"), conv)[1]
        == "<think>hmm</think>A<｜end▁of▁sentence｜>"
    )
    assert render(renderer("deepseekv3"), conv)[1] == "A<｜end▁of▁sentence｜>"


# --- loss weights -----------------------------------------------------------------------------


def test_train_on_what_modes() -> None:
    r = renderer("role_colon")
    assert render(r, CONV, TrainOnWhat.ALL_ASSISTANT_MESSAGES)[1] == " Hello!\n\n 4\n\nUser:"
    assert render(r, CONV, TrainOnWhat.ALL_MESSAGES)[1] == (
        " Be brief.\n\n Hi\n\n Hello!\n\n 2+2?\n\n 4\n\nUser:"
    )
    full, trained = render(r, CONV, TrainOnWhat.ALL_TOKENS)
    assert trained == full
    assert (
        render(r, CONV, TrainOnWhat.ALL_USER_AND_SYSTEM_MESSAGES)[1]
        == " Be brief.\n\n Hi\n\n 2+2?\n\n"
    )
    assert render(r, CONV, TrainOnWhat.LAST_ASSISTANT_TURN)[1] == " 4\n\nUser:"
    custom = [
        M(role="user", content="a", trainable=True),
        M(role="assistant", content="b", trainable=False),
    ]
    assert render(r, custom, TrainOnWhat.CUSTOMIZED)[1] == " a\n\n"
    with pytest.raises(InvalidArgumentError, match="trainable"):
        render(r, custom, TrainOnWhat.LAST_ASSISTANT_MESSAGE)
    with pytest.raises(InvalidArgumentError, match="trainable"):
        render(r, CONV, TrainOnWhat.CUSTOMIZED)


def test_last_assistant_turn_trains_tool_round() -> None:
    _, trained = render(renderer("llama3"), TOOL_CONV, TrainOnWhat.LAST_ASSISTANT_TURN)
    assert trained == (
        'Let me check.{"name": "get_weather", "parameters": {"city": "Paris"}}<|eot_id|>'
        "It is 18C and sunny.<|eot_id|>"
    )


@pytest.mark.parametrize("name", renderer_names())
def test_headers_never_trained_and_prompt_is_prefix(name: str) -> None:
    r = renderer(name, current_date="2025-01-01") if name.startswith("gpt_oss") else renderer(name)
    model_input, weights = r.build_supervised_example(CONV)
    ids = model_input.to_ints()
    gen = r.build_generation_prompt(CONV[:-1]).to_ints()
    first_trained = int(np.argmax(weights))
    # Everything before the trained answer is what the sampler sees (up to a prefill).
    assert ids[: min(first_trained, len(gen))] == gen[: min(first_trained, len(gen))]
    assert weights[0] == 0.0


# --- stop sequences and parsing ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "stops"),
    [
        ("role_colon", ["\n\nUser:"]),
        ("llama3", ["<|eot_id|>"]),
        ("qwen3", ["<|im_end|>"]),
        ("deepseekv3", ["<｜end▁of▁sentence｜>"]),
        ("kimi_k2", ["<|im_end|>"]),
        ("gpt_oss_no_sysprompt", ["<|return|>", "<|call|>"]),
    ],
)
def test_stop_sequences(name: str, stops: list[str]) -> None:
    r = renderer(name)
    got = r.stop_sequences()
    as_text = [s if isinstance(s, str) else r.tokenizer.decode([s]) for s in got]
    assert as_text == stops


def parse(name: str, text: str) -> tuple[Message, bool]:
    r = renderer(name)
    return r.parse_response(r.tokenizer.encode(text))


def test_parse_plain_answers() -> None:
    assert parse("role_colon", " Paris.\n\nUser:") == (M(role="assistant", content="Paris."), True)
    assert parse("role_colon", " Paris") == (M(role="assistant", content="Paris"), False)
    assert parse("llama3", "Paris.<|eot_id|>") == (M(role="assistant", content="Paris."), True)
    assert parse("llama3", "Par") == (M(role="assistant", content="Par"), False)
    with pytest.raises(InvalidArgumentError, match="stop token"):
        parse("llama3", "a<|eot_id|>b<|eot_id|>")


def test_parse_tool_calls_every_family() -> None:
    expected = ToolCall.of("get_weather", {"city": "Paris"})
    msg, ok = parse(
        "llama3", 'Sure. {"name": "get_weather", "parameters": {"city": "Paris"}}<|eot_id|>'
    )
    assert ok
    assert msg.content == "Sure."
    assert msg.tool_calls == [expected]
    msg, ok = parse(
        "qwen3",
        '<think>\nneed data\n</think>\n\nOK\n<tool_call>\n{"name": "get_weather", "arguments": '
        '{"city": "Paris"}}\n</tool_call><|im_end|>',
    )
    assert ok
    assert msg.content == [ThinkingPart("need data"), TextPart("OK\n")]
    assert msg.tool_calls == [expected]
    msg, ok = parse(
        "deepseekv3",
        "On it.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>"
        '{"city": "Paris"}<｜tool▁call▁end｜><｜tool▁calls▁end｜><｜end▁of▁sentence｜>',
    )
    assert ok
    assert msg.content == "On it."
    assert msg.tool_calls is not None
    assert json.loads(msg.tool_calls[0].function.arguments) == {"city": "Paris"}
    msg, ok = parse(
        "kimi_k2",
        "<think>plan</think>Checking.<|tool_calls_section_begin|><|tool_call_begin|>"
        'functions.get_weather:0<|tool_call_argument_begin|>{"city": "Paris"}<|tool_call_end|>'
        "<|tool_calls_section_end|><|im_end|>",
    )
    assert ok
    assert msg.content == [ThinkingPart("plan"), TextPart("Checking.")]
    assert msg.tool_calls is not None
    assert msg.tool_calls[0].function.name == "get_weather"
    assert msg.tool_calls[0].id == "functions.get_weather:0"
    msg, ok = parse(
        "gpt_oss_no_sysprompt",
        "<|channel|>analysis<|message|>need weather<|end|><|start|>assistant to=functions."
        'get_weather<|channel|>commentary <|constrain|>json<|message|>{"city": "Paris"}<|call|>',
    )
    assert ok
    assert msg.content == [ThinkingPart("need weather")]
    assert msg.tool_calls is not None
    assert msg.tool_calls[0].function.name == "get_weather"


def test_parse_bad_tool_call_is_kept_unparsed() -> None:
    msg, ok = parse("qwen3_instruct", "x<tool_call>{not json}</tool_call><|im_end|>")
    assert ok
    assert msg.tool_calls is None
    assert msg.unparsed_tool_calls is not None
    assert "invalid JSON" in msg.unparsed_tool_calls[0].error


def test_gpt_oss_final_channel_and_deepseek_thinking_prefill() -> None:
    msg, ok = parse(
        "gpt_oss_no_sysprompt",
        "<|channel|>analysis<|message|>easy<|end|><|start|>assistant<|channel|>final<|message|>4<|return|>",
    )
    assert ok
    assert msg.content == [ThinkingPart("easy"), TextPart("4")]
    # The prompt pre-filled <think>; the parser puts it back.
    msg, ok = parse("deepseekv3_thinking", "reasoning</think>answer<｜end▁of▁sentence｜>")
    assert ok
    assert msg.content == [ThinkingPart("reasoning"), TextPart("answer")]


@pytest.mark.parametrize(
    "name", ["llama3", "qwen3_instruct", "deepseekv3", "kimi_k2", "gpt_oss_no_sysprompt"]
)
def test_render_then_parse_round_trip(name: str) -> None:
    r = renderer(name)
    answer = M(role="assistant", content="It is 18C.", tool_calls=[ToolCall.of("f", {"x": 1})])
    model_input, weights = r.build_supervised_example([M(role="user", content="q"), answer])
    ids = model_input.to_ints()
    completion = [t for t, w in zip(ids, weights, strict=True) if w]
    msg, ok = r.parse_response(completion)
    assert ok
    assert msg.tool_calls is not None
    assert msg.tool_calls[0].function.name == "f"
    text = (
        msg.content
        if isinstance(msg.content, str)
        else "".join(p.text for p in msg.content if isinstance(p, TextPart))
    )
    assert text.strip() == "It is 18C."


# --- multimodal, tools prefix, registry, messages ---------------------------------------------


def test_qwen3_image_chunk_between_vision_markers() -> None:
    r = renderer("qwen3_instruct")
    conv = [
        M(
            role="user",
            content=[TextPart("Look: "), ImagePart(image=b"\x89PNG", expected_tokens=4)],
        ),
        M(role="assistant", content="A cat."),
    ]
    model_input, weights = r.build_supervised_example(conv)
    kinds = [type(c).__name__ for c in model_input.chunks]
    assert "ImageChunk" in kinds
    image = next(c for c in model_input.chunks if isinstance(c, ImageChunk))
    assert image.expected_tokens == 4
    assert weights.size == model_input.length
    before = model_input.chunks[kinds.index("ImageChunk") - 1]
    assert r.tokenizer.decode(list(before.tokens)).endswith("Look: <|vision_start|>")  # type: ignore[union-attr]
    with pytest.raises(UnsupportedOperationError):
        model_input.to_ints()
    with pytest.raises(InvalidArgumentError):
        renderer("llama3").build_supervised_example(conv)


def test_tool_prefixes() -> None:
    tools = [ToolSpec(name="get_weather", description="Weather now", parameters={"type": "object"})]
    (qwen,) = renderer("qwen3").create_conversation_prefix_with_tools(tools, "Be kind.")
    assert isinstance(qwen.content, str)
    assert qwen.content.startswith("Be kind.\n\n# Tools\n\n")
    assert '<tools>\n{"type": "function", "function": {"name": "get_weather"' in qwen.content
    declare, system = renderer("kimi_k2").create_conversation_prefix_with_tools(tools)
    assert declare.role == "tool_declare"
    assert json.loads(str(declare.content))[0]["function"]["name"] == "get_weather"
    assert system.content == "You are Kimi, an AI assistant created by Moonshot AI."
    (llama,) = renderer("llama3").create_conversation_prefix_with_tools(tools, "Hi")
    assert '"name": "get_weather"' in str(llama.content)
    with pytest.raises(UnsupportedOperationError):
        renderer("role_colon").create_conversation_prefix_with_tools(tools)


def test_registry() -> None:
    assert {
        "role_colon",
        "llama3",
        "qwen3",
        "deepseekv3",
        "kimi_k2",
        "gpt_oss_high_reasoning",
    } <= set(renderer_names())
    with pytest.raises(NotFoundError, match="unknown renderer"):
        get_renderer("nope", ByteTokenizer())
    register_renderer("test/colon", RoleColonRenderer, ("<x>",))
    try:
        assert isinstance(get_renderer("test/colon", ByteTokenizer()), RoleColonRenderer)
        assert renderer_special_tokens("test/colon") == ("<x>",)
    finally:
        assert unregister_renderer("test/colon")
    with pytest.raises(InvalidArgumentError):
        register_renderer("llama3", RoleColonRenderer)


def test_messages_decode_openai_json() -> None:
    msgs = decode_messages(
        '[{"role": "user", "content": [{"type": "text", "text": "hi"}]},'
        ' {"role": "assistant", "content": "yo", "tool_calls": [{"type": "function",'
        ' "id": "c1", "function": {"name": "f", "arguments": "{}"}}]}]'
    )
    assert msgs[0].content == [TextPart("hi")]
    assert msgs[1].tool_calls == [ToolCall.of("f", {}, id="c1")]
