"""The cost model: bundled prices, lookup, overrides, fallback, application to llm events."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from crucible.errors import ConfigurationError, InvalidArgumentError, InvalidTypeError
from crucible.telemetry import MemoryStore, catalog, cost, start_experiment
from crucible.telemetry.cost import (
    LongContextPrice,
    ModelPrice,
    PriceTable,
    default_price_table,
    event_cost,
    load_price_table,
)

BUNDLED = Path(cost.__file__).parent / "data" / "model_prices.json"


def test_bundled_file_is_dated_sourced_and_covers_the_major_providers() -> None:
    raw = json.loads(BUNDLED.read_text())
    assert raw["currency"] == "USD"
    assert raw["unit"] == "per 1,000,000 tokens"
    assert raw["as_of"] >= "2025-01-01"
    assert "pricing" in raw["source"].lower() or "price" in raw["source"].lower()
    table = load_price_table()
    providers = {p.provider for p in table.models}
    assert {"openai", "anthropic", "google", "meta", "mistral"} <= providers
    hosts = {p.host for p in table.models if p.provider == "meta"}
    assert hosts >= {"together", "groq"}  # Meta models priced as common hosts sell them
    for model in (
        "gpt-4o",
        "gpt-4.1",
        "o3",
        "claude-sonnet-4",
        "claude-3-5-haiku",
        "gemini-2.5-pro",
    ):
        assert table.lookup(model) is not None, model


def test_names_and_aliases_are_unique_and_prices_sane() -> None:
    table = load_price_table()
    seen: set[str] = set()
    for price in table.models:
        for name in (price.model, *price.aliases):
            assert name.lower() not in seen, name
            seen.add(name.lower())
        assert price.input >= 0
        assert price.output >= 0
        if price.cached_input is not None:
            assert price.cached_input <= price.input
        if price.long_context is not None:
            assert price.long_context.input >= price.input


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("gpt-4o", "gpt-4o"),
        ("GPT-4o", "gpt-4o"),
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),  # not gpt-4o
        ("openai/gpt-4.1-mini", "gpt-4.1-mini"),
        ("gpt-4-0613", "gpt-4"),
        ("gpt-3.5-turbo-0125", "gpt-3.5-turbo"),
        ("o3-2025-04-16", "o3"),
        ("claude-3-5-sonnet-20241022", "claude-3-5-sonnet"),
        ("claude-3-5-sonnet-latest", "claude-3-5-sonnet"),
        ("claude-3-5-sonnet@20240620", "claude-3-5-sonnet"),  # Vertex AI
        ("anthropic.claude-3-5-sonnet-20241022-v2:0", "claude-3-5-sonnet"),  # Bedrock
        ("us.anthropic.claude-sonnet-4-20250514-v1:0", "claude-sonnet-4"),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("models/gemini-2.5-pro", "gemini-2.5-pro"),
        ("gemini-1.5-pro-002", "gemini-1.5-pro"),
        ("gemini-2.5-flash-preview-05-20", "gemini-2.5-flash"),
        ("mistral-large-latest", "mistral-large"),
        ("meta-llama/Llama-3.3-70B-Instruct-Turbo", "meta-llama/Llama-3.3-70B-Instruct-Turbo"),
        ("Llama-3.3-70B-Instruct-Turbo", "meta-llama/Llama-3.3-70B-Instruct-Turbo"),
    ],
)
def test_lookup_forgives_spelling_not_identity(name: str, model: str) -> None:
    price = default_price_table().lookup(name)
    assert price is not None
    assert price.model == model


@pytest.mark.parametrize(
    "name", ["claude-opus-4-7", "gpt-4o-realtime", "my-finetune", "", "gpt-5-turbo-16k"]
)
def test_unknown_models_are_none_not_a_guess(name: str) -> None:
    table = default_price_table()
    assert table.lookup(name) is None
    assert table.cost(name, 1000, 1000) is None


def test_cost_arithmetic() -> None:
    table = default_price_table()
    # gpt-4o: 2.50 in, 1.25 cached in, 10.00 out (USD per 1M tokens)
    assert table.cost("gpt-4o", 1_000_000, 0) == pytest.approx(2.5)
    assert table.cost("gpt-4o", 1000, 500) == pytest.approx(0.0025 + 0.005)
    assert table.cost("gpt-4o", 1000, 0, cached_input_tokens=400) == pytest.approx(
        (600 * 2.5 + 400 * 1.25) / 1e6
    )
    # no cached rate: cached tokens cost the input rate
    assert table.cost("gpt-4", 1000, 0, cached_input_tokens=1000) == pytest.approx(0.03)


def test_long_context_tier_prices_the_whole_request() -> None:
    table = default_price_table()
    short = table.cost("gemini-2.5-pro", 200_000, 1000)
    long = table.cost("gemini-2.5-pro", 200_001, 1000)
    assert short == pytest.approx((200_000 * 1.25 + 1000 * 10.0) / 1e6)
    assert long == pytest.approx((200_001 * 2.5 + 1000 * 15.0) / 1e6)


def test_bad_token_counts() -> None:
    price = ModelPrice(model="m", input=1.0, output=2.0)
    with pytest.raises(InvalidArgumentError):
        price.cost(-1, 0)
    with pytest.raises(InvalidArgumentError):
        price.cost(float("nan"), 0)
    with pytest.raises(InvalidArgumentError):
        price.cost(10, 0, cached_input_tokens=11)


def test_overrides_replace_and_add() -> None:
    table = default_price_table().with_overrides(
        {"gpt-4o": {"input": 1.0, "output": 1.0}, "in-house-7b": {"input": 0.01, "output": 0.02}}
    )
    assert table.cost("gpt-4o-2024-08-06", 1e6, 0) == pytest.approx(1.0)
    assert table.cost("in-house-7b", 1e6, 1e6) == pytest.approx(0.03)
    assert default_price_table().cost("gpt-4o", 1e6, 0) == pytest.approx(2.5)  # untouched
    with pytest.raises(InvalidArgumentError):
        default_price_table().with_overrides({"x": {"input": "cheap", "output": 1}})
    tier = LongContextPrice(above_input_tokens=10, input=9.0, output=9.0)
    custom = PriceTable([ModelPrice(model="t", input=1.0, output=1.0, long_context=tier)])
    assert custom.cost("t", 11, 0) == pytest.approx(99e-6)


def test_fallback_is_opt_in() -> None:
    table = default_price_table().with_fallback(input=1.0, output=2.0)  # the original's rates
    assert table.cost("mystery-model", 1e6, 1e6) == pytest.approx(3.0)
    assert table.lookup("mystery-model") is None
    assert table.cost("gpt-4o", 1e6, 0) == pytest.approx(2.5)


def test_environment_file_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"gpt-4o": {"input": 0.5, "output": 0.5}}))
    monkeypatch.setenv("CRUCIBLE_MODEL_PRICES", str(path))
    assert default_price_table().cost("gpt-4o", 1e6, 0) == pytest.approx(0.5)
    path.write_text("{not json")
    monkeypatch.setenv("CRUCIBLE_MODEL_PRICES", str(path) + ".other")
    with pytest.raises(ConfigurationError):
        default_price_table()
    with pytest.raises(ConfigurationError):
        load_price_table(path)
    path.write_text(json.dumps({"models": [{"model": "m", "input": -1, "output": 0}]}))
    with pytest.raises(ConfigurationError, match="negative"):
        load_price_table(path)


def test_event_cost_reads_llm_events() -> None:
    table = default_price_table()
    want = (1000 * 0.25 + 200 * 1.25) / 1e6  # claude-3-haiku
    for measurements in (
        {"input_tokens": 1000, "output_tokens": 200},
        {"prompt_tokens": 1000, "completion_tokens": 200},
        {"tokens_in": 1000, "tokens_out": 200},
    ):
        got = event_cost(measurements, {"model": "claude-3-haiku-20240307"}, table)
        assert got == pytest.approx(want)
    assert event_cost({"input_tokens": 10}, {"model": "unknown"}, table) is None
    assert event_cost({}, {"model": "gpt-4o"}, table) is None  # no tokens: not an llm call
    assert event_cost({"input_tokens": 10}, {}, table) is None  # no model
    assert event_cost({"output_tokens": 1_000_000}, {"model": "gpt-4o"}) == pytest.approx(10.0)


def test_subclasses_customise_lookup_and_capture_honours_it() -> None:
    class Discounted(PriceTable):
        def lookup(self, model: str) -> ModelPrice | None:
            found = super().lookup(model)
            if found is None:
                return None
            return msgspec.structs.replace(found, input=found.input / 2, output=found.output / 2)

    full = default_price_table()
    half = Discounted(full.models)
    store = MemoryStore()
    exp = start_experiment("priced", store=store, prices=half)
    catalog.emit_llm_request_stop(
        model="gpt-4o", duration=1_000_000, input_tokens=1_000, output_tokens=200
    )
    exp.stop()
    ((event,),) = store.query(experiment_id=exp.id)
    expected = full.cost("gpt-4o", 1_000, 200)
    assert expected is not None
    assert event.cost_usd == pytest.approx(expected / 2, rel=1e-12)


def test_a_subclass_overriding_cost_is_refused_where_it_is_defined() -> None:
    with pytest.raises(InvalidTypeError, match=r"overrides PriceTable\.cost"):

        class Tiered(PriceTable):
            def cost(
                self,
                model: str,
                input_tokens: float,
                output_tokens: float,
                cached_input_tokens: float = 0,
            ) -> float | None:
                return 1.0
