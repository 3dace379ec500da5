"""What LLM requests cost: per-model token prices kept as data, applied to llm events.

Prices live in ``crucible/telemetry/data/model_prices.json`` (USD per 1,000,000 tokens,
standard tier, with the date they were copied and where from), shipped inside the package.
:func:`default_price_table` loads that file and lays over it, when set, the JSON file named
by the ``CRUCIBLE_MODEL_PRICES`` environment variable (same layout, or a plain
``{"model": {"input": ..., "output": ...}}`` mapping). Code overrides with
:meth:`PriceTable.with_overrides`.

Model names are matched forgivingly but never by guessing at a different model: case is
ignored; a host or vendor prefix is dropped (``openai/gpt-4o``, ``models/gemini-2.5-pro``,
Bedrock's ``anthropic.claude-...``); dated or versioned snapshot suffixes are dropped
(``gpt-4o-2024-08-06``, ``claude-3-5-sonnet-20241022``, ``claude-3-5-sonnet@20240620``,
``gpt-4-0613``, ``gemini-1.5-pro-002``, ``-latest``, ``-preview``, ``-v2:0``). A short
numeric suffix is *not* dropped, so ``claude-opus-4-7`` is unknown rather than priced as
``claude-opus-4``.

Unknown models cost ``None`` — not a guess. Totals in :mod:`crucible.telemetry.analysis`
count such requests as unpriced, so a missing price is visible instead of silently wrong.
To price them anyway (the original library charged 1.0/2.0 USD per 1M tokens), give the
table a fallback: ``default_price_table().with_fallback(input=1.0, output=2.0)``.

A request whose prompt is longer than a model's long-context threshold is priced entirely at
the long-context rates, as Google and Anthropic bill it. Cached prompt tokens are part of
the input tokens and are charged at the cached rate when the model has one.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec

from crucible.errors import ConfigurationError, InvalidArgumentError, InvalidTypeError

__all__ = [
    "INPUT_TOKEN_KEYS",
    "MODEL_KEYS",
    "OUTPUT_TOKEN_KEYS",
    "LongContextPrice",
    "ModelPrice",
    "PriceTable",
    "default_price_table",
    "event_cost",
    "load_price_table",
]

PRICES_ENV = "CRUCIBLE_MODEL_PRICES"
_PER_TOKEN = 1e-6  # prices are per 1,000,000 tokens

# Where an llm event keeps its model and token counts; the first key present wins.
MODEL_KEYS = ("model", "model_name")
INPUT_TOKEN_KEYS = ("input_tokens", "tokens_in", "prompt_tokens")
OUTPUT_TOKEN_KEYS = ("output_tokens", "tokens_out", "completion_tokens")
CACHED_TOKEN_KEYS = ("cached_input_tokens", "cached_tokens", "cache_read_input_tokens")


class LongContextPrice(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Rates that replace the base rates for a request whose input is longer than
    ``above_input_tokens``."""

    above_input_tokens: int
    input: float
    output: float
    cached_input: float | None = None


class ModelPrice(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """USD per 1,000,000 tokens for one model as one host sells it."""

    model: str
    input: float
    output: float
    cached_input: float | None = None
    provider: str = ""
    host: str = ""
    aliases: tuple[str, ...] = ()
    long_context: LongContextPrice | None = None

    def cost(
        self, input_tokens: float, output_tokens: float, cached_input_tokens: float = 0
    ) -> float:
        """USD for one request. ``cached_input_tokens`` are counted inside ``input_tokens``."""
        for name, value in (
            ("input_tokens", input_tokens),
            ("output_tokens", output_tokens),
            ("cached_input_tokens", cached_input_tokens),
        ):
            if not value >= 0:  # also rejects NaN
                raise InvalidArgumentError(f"`{name}` must be >= 0, got {value!r}")
        if cached_input_tokens > input_tokens:
            raise InvalidArgumentError("`cached_input_tokens` cannot exceed `input_tokens`")
        rate_in, rate_out, rate_cached = self.input, self.output, self.cached_input
        tier = self.long_context
        if tier is not None and input_tokens > tier.above_input_tokens:
            rate_in, rate_out, rate_cached = tier.input, tier.output, tier.cached_input
        if rate_cached is None:
            rate_cached = rate_in
        fresh = input_tokens - cached_input_tokens
        total = fresh * rate_in + cached_input_tokens * rate_cached + output_tokens * rate_out
        return float(total * _PER_TOKEN)


class _PriceFile(msgspec.Struct, kw_only=True):
    models: list[ModelPrice]
    schema_version: int = 1
    currency: str = "USD"
    unit: str = "per 1,000,000 tokens"
    as_of: str = ""
    source: str = ""


# Suffixes that name a snapshot of a model rather than another model.
_SNAPSHOT = re.compile(
    r"(?:[-@:_](?:latest|preview|exp|experimental|\d{4}-\d{2}-\d{2}|\d{2}-\d{2}|\d{3,}"
    r"|v\d+(?::\d+)?)|@.*)$"
)
_VENDOR_DOT = re.compile(r"^(?:anthropic|meta|mistral|openai|google|cohere|amazon|us|eu)\.")


def _key(name: str) -> str:
    return name.strip().lower()


def _candidates(name: str) -> Iterable[str]:
    """The spellings to try for ``name``, most specific first."""
    key = _key(name)
    seen: set[str] = set()
    heads = [key]
    if "/" in key:
        heads.append(key.rsplit("/", 1)[1])
    stripped = key
    while _VENDOR_DOT.match(stripped):  # us.anthropic.claude-... (Bedrock inference profiles)
        stripped = _VENDOR_DOT.sub("", stripped, count=1)
    heads.append(stripped)
    for head in heads:
        current = head
        while current and current not in seen:
            seen.add(current)
            yield current
            shorter = _SNAPSHOT.sub("", current)
            if shorter == current:
                break
            current = shorter


class PriceTable:
    """Model prices with forgiving lookup; immutable (``with_*`` return new tables).

    Capture prices events in Rust from the rates :meth:`lookup` (or the fallback) gives,
    without calling :meth:`cost`; so a subclass may override :meth:`lookup`, and one that
    overrides :meth:`cost` is refused when it is defined rather than silently ignored.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.cost is not PriceTable.cost:
            raise InvalidTypeError(
                f"{cls.__name__} overrides PriceTable.cost, which telemetry capture never "
                "calls (it prices events from lookup()'s rates); override lookup() or use "
                "with_overrides()/with_fallback() instead"
            )

    def __init__(
        self,
        models: Iterable[ModelPrice],
        *,
        as_of: str = "",
        source: str = "",
        currency: str = "USD",
        fallback: ModelPrice | None = None,
    ) -> None:
        self.models: tuple[ModelPrice, ...] = tuple(models)
        self.as_of = as_of
        self.source = source
        self.currency = currency
        self.fallback = fallback
        index: dict[str, ModelPrice] = {}
        for price in self.models:  # later entries (overrides) win
            for name in (price.model, *price.aliases):
                index[_key(name)] = price
        for price in self.models:  # "org/Model" also answers to "Model" when that is free
            for name in (price.model, *price.aliases):
                if "/" in name:
                    index.setdefault(_key(name).rsplit("/", 1)[1], price)
        self._index = index
        self._lookup = functools.lru_cache(maxsize=4096)(self._find)

    def __len__(self) -> int:
        """How many distinct prices the table can answer with."""
        return len({id(price) for price in self._index.values()})

    def __repr__(self) -> str:
        return f"PriceTable({len(self.models)} models, as_of={self.as_of!r})"

    def _find(self, model: str) -> ModelPrice | None:
        for candidate in _candidates(model):
            price = self._index.get(candidate)
            if price is not None:
                return price
        return None

    def lookup(self, model: str) -> ModelPrice | None:
        """The price entry for ``model``, or ``None`` when unknown (the fallback is not
        consulted here)."""
        if not isinstance(model, str):
            raise InvalidArgumentError(f"model must be a string, got {type(model).__name__}")
        return self._lookup(model)

    def cost(
        self,
        model: str,
        input_tokens: float,
        output_tokens: float,
        cached_input_tokens: float = 0,
    ) -> float | None:
        """USD for one request, the fallback's price for an unknown model, or ``None``."""
        price = self.lookup(model) or self.fallback
        if price is None:
            return None
        return price.cost(input_tokens, output_tokens, cached_input_tokens)

    def with_overrides(
        self, overrides: Mapping[str, Mapping[str, Any]] | Iterable[ModelPrice]
    ) -> PriceTable:
        """A table where ``overrides`` replace or add entries. A mapping goes from model
        name to ``{"input": ..., "output": ...}`` plus any other :class:`ModelPrice` field."""
        return PriceTable(
            (*self.models, *_as_prices(overrides)),
            as_of=self.as_of,
            source=self.source,
            currency=self.currency,
            fallback=self.fallback,
        )

    def with_fallback(self, *, input: float, output: float) -> PriceTable:
        """A table that prices unknown models at these rates instead of returning None."""
        return PriceTable(
            self.models,
            as_of=self.as_of,
            source=self.source,
            currency=self.currency,
            fallback=ModelPrice(model="<fallback>", input=input, output=output),
        )


def _as_prices(
    overrides: Mapping[str, Mapping[str, Any]] | Iterable[ModelPrice],
) -> list[ModelPrice]:
    if isinstance(overrides, Mapping):
        out = []
        for model, fields in overrides.items():
            try:
                out.append(msgspec.convert({"model": model, **fields}, ModelPrice))
            except msgspec.ValidationError as exc:
                raise InvalidArgumentError(f"price override for {model!r}: {exc}") from None
        return out
    prices = list(overrides)
    for price in prices:
        if not isinstance(price, ModelPrice):
            raise InvalidArgumentError("overrides must be a mapping or ModelPrice items")
    return prices


def _check(prices: Iterable[ModelPrice], origin: str) -> None:
    for price in prices:
        rates = [price.input, price.output, price.cached_input]
        if price.long_context is not None:
            tier = price.long_context
            rates += [tier.input, tier.output, tier.cached_input]
        if any(r is not None and not r >= 0 for r in rates):
            raise ConfigurationError(f"{origin}: negative or NaN price for {price.model!r}")


def _parse(raw: bytes, origin: str) -> _PriceFile:
    try:
        data = json.loads(raw)
        if isinstance(data, dict) and "models" not in data:
            data = {"models": [{"model": m, **f} for m, f in data.items()]}
        parsed = msgspec.convert(data, _PriceFile)
    except (ValueError, msgspec.ValidationError) as exc:
        raise ConfigurationError(f"cannot read model prices from {origin}: {exc}") from None
    _check(parsed.models, origin)
    return parsed


def load_price_table(path: str | os.PathLike[str] | None = None) -> PriceTable:
    """The prices in ``path`` (JSON), or the bundled ones when ``path`` is None."""
    if path is None:
        ref = resources.files("crucible.telemetry") / "data" / "model_prices.json"
        raw, origin = ref.read_bytes(), "bundled model_prices.json"
    else:
        try:
            raw, origin = Path(path).read_bytes(), str(path)
        except OSError as exc:
            raise ConfigurationError(f"cannot read model prices from {path}: {exc}") from None
    parsed = _parse(raw, origin)
    return PriceTable(
        parsed.models, as_of=parsed.as_of, source=parsed.source, currency=parsed.currency
    )


@functools.lru_cache(maxsize=8)
def _default(env_path: str | None) -> PriceTable:
    table = load_price_table()
    if env_path:
        table = table.with_overrides(load_price_table(env_path).models)
    return table


def default_price_table() -> PriceTable:
    """The bundled prices, overlaid with the file named by ``CRUCIBLE_MODEL_PRICES``."""
    return _default(os.environ.get(PRICES_ENV) or None)


def _first(mapping: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = mapping.get(key)
        if value is not None:
            return value
    return None


def event_cost(
    measurements: Mapping[str, Any],
    metadata: Mapping[str, Any],
    table: PriceTable | None = None,
) -> float | None:
    """USD for one llm event from its model (metadata ``model``) and token counts
    (measurements ``input_tokens``/``output_tokens``, or the ``prompt_``/``completion_``
    and ``tokens_in``/``tokens_out`` spellings; ``cached_input_tokens`` optional).

    ``None`` when the model is unknown (and the table has no fallback) or the event has
    neither token count. A missing one of the two counts as zero.
    """
    model = _first(metadata, MODEL_KEYS)
    if model is None:
        model = _first(measurements, MODEL_KEYS)
    tokens_in = _first(measurements, INPUT_TOKEN_KEYS)
    tokens_out = _first(measurements, OUTPUT_TOKEN_KEYS)
    if not isinstance(model, str) or (tokens_in is None and tokens_out is None):
        return None
    cached = _first(measurements, CACHED_TOKEN_KEYS) or 0
    return (default_price_table() if table is None else table).cost(
        model, tokens_in or 0, tokens_out or 0, cached
    )
