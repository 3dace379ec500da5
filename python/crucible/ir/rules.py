"""The catalogue of the IR's semantic rules, which are implemented once, in Rust.

Structural constraints (kinds, required fields, enum sets, ranges) live on the types. The
semantic rules are the relations a schema cannot say, between fields and between structs;
they live in ``rust/ir/rules/`` and run inside the Rust validator, after the structural pass
and only on documents of the right shape. Each has a stable ``code``
(``"<domain>.<what>"``), checks one or more struct types and reports findings at a JSON
pointer. This module lists them (:data:`RULES`) and tells the Rust side which struct of a
compiled schema is which type (:func:`annotated_schema`): every struct definition carries
``"x-rules": "<module>.<Type>"``, its key in the catalogue, and every field its default
(rules read an absent field as the value the struct would hold).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import msgspec
import msgspec.inspect as mi

from crucible import _core
from crucible.errors import ConfigurationError
from crucible.ir import dataset, deployment, experiment, feedback, model, reliability, training
from crucible.ir.base import IRStruct

__all__ = ["RULES", "Rule", "annotated_schema", "rule_codes", "rules_for", "struct_key"]


@dataclass(frozen=True)
class Rule:
    """One semantic rule: its stable code, the types it checks and what it requires."""

    code: str
    types: tuple[type, ...]
    description: str


def struct_key(tp: type) -> str:
    """The name a struct type goes by in the rule catalogue: ``"<module>.<Type>"``."""
    return f"{tp.__module__.rsplit('.', 1)[-1]}.{tp.__qualname__}"


def _ir_types() -> dict[str, type]:
    modules = (dataset, deployment, experiment, feedback, model, reliability, training)
    found: dict[str, type] = {}
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, IRStruct) and value is not IRStruct:
                found.setdefault(struct_key(value), value)
    return found


def _catalogue() -> list[Rule]:
    types = _ir_types()
    rules = []
    for code, keys, description in _core.ir_rule_catalogue():
        missing = [key for key in keys if key not in types]
        if missing:
            raise ConfigurationError(
                f"rule {code} checks unknown IR types {missing}: the extension does not match "
                "this crucible (rebuild it)"
            )
        rules.append(Rule(code, tuple(types[key] for key in keys), description))
    return rules


RULES: list[Rule] = _catalogue()
"""Every rule, in the order findings on one struct are reported."""


def rules_for(tp: type) -> list[Rule]:
    """The rules that check instances of ``tp``, in registration order."""
    return [r for r in RULES if tp in r.types]


def rule_codes() -> list[str]:
    """Every rule code, in registration order."""
    return [r.code for r in RULES]


def _structs(t: mi.Type, seen: dict[str, type]) -> Iterator[type]:
    """Every struct type reachable from ``t``."""
    while isinstance(t, mi.Metadata):
        t = t.type
    if isinstance(t, mi.StructType):
        if t.cls.__qualname__ + t.cls.__module__ in seen:
            return
        seen[t.cls.__qualname__ + t.cls.__module__] = t.cls
        yield t.cls
        for field in t.fields:
            yield from _structs(field.type, seen)
    elif isinstance(t, mi.UnionType):
        for member in t.types:
            yield from _structs(member, seen)
    elif isinstance(t, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)):
        yield from _structs(t.item_type, seen)
    elif isinstance(t, mi.TupleType):
        for item in t.item_types:
            yield from _structs(item, seen)
    elif isinstance(t, mi.DictType):
        yield from _structs(t.value_type, seen)


@functools.cache
def annotated_schema(tp: Any) -> bytes:
    """``msgspec.json.schema(tp)`` with each struct definition annotated with its catalogue
    key (``x-rules``), as :class:`crucible._core.SchemaValidator` compiles it."""
    schema: dict[str, Any] = msgspec.json.schema(tp)
    defs: dict[str, Any] = schema.get("$defs", {})
    for cls in _structs(mi.type_info(tp), {}):
        qualified = f"{cls.__module__}.{cls.__qualname__}"
        name = qualified if qualified in defs else cls.__name__
        if name in defs:
            defs[name]["x-rules"] = struct_key(cls)
            _add_factory_defaults(cls, defs[name].get("properties", {}))
    return msgspec.json.encode(schema)


def _add_factory_defaults(cls: type, properties: dict[str, Any]) -> None:
    """State the defaults JSON Schema leaves out (``default_factory`` fields), so that the
    rules read an absent field as the value the struct would hold."""
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    for field in info.fields:
        if field.default_factory is not msgspec.NODEFAULT and field.encode_name in properties:
            default = msgspec.to_builtins(field.default_factory())
            properties[field.encode_name].setdefault("default", default)
