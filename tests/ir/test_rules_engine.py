"""The Rust rules engine: objects and bytes reach one verdict, messages read as before.

* random mutations of valid documents (values replaced, deleted, nulled, list items
  duplicated, strings copied between fields) get the same verdict from ``validate(obj)`` on
  the object built from them and from ``validate_json`` on their bytes;
* the rule catalogue comes from the engine, every rule with its types and description;
* rule messages keep the wording of the original Python rules.
"""

from __future__ import annotations

import copy
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ir_strategies import ALL_TYPES, instances
from test_properties import mutated

import crucible.ir as ir
from crucible.errors import ErrorItem, ValidationError
from crucible.ir import feedback, reliability, training
from crucible.ir.enums import EffectSizeType, FeedbackType, StatTest
from crucible.ir.structure import SHAPE_CODES, build_lenient, structural_errors

TYPE_IDS = [f"{t.__module__.rsplit('.', 1)[-1]}.{t.__qualname__}" for t in ALL_TYPES]
BIG = {"Experiment", "Run", "ModelVersion", "Config"}


def _verdicts(items: list[Any]) -> list[tuple[str, str]]:
    return sorted((item[-3], item[-2]) for item in items)


def _strings(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], str]]:
    if isinstance(doc, str):
        return [(path, doc)]
    items = (
        doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    )
    return [found for key, value in items for found in _strings(value, (*path, key))]


def _lists(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path] if isinstance(doc, list) and doc else []
    items = (
        doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    )
    return found + [p for key, value in items for p in _lists(value, (*path, key))]


def _at(doc: Any, path: tuple[Any, ...]) -> Any:
    for token in path:
        doc = doc[token]
    return doc


@st.composite
def rule_mutations(draw: st.DrawFn, tp: type[Any]) -> Any:
    """A mutated document, often with the relations the rules check broken: a list item
    repeated, or one string field's value copied into another."""
    doc = copy.deepcopy(
        draw(mutated(tp)) if draw(st.booleans()) else ir.to_dict(draw(instances(tp)))
    )
    for _ in range(draw(st.integers(0, 3))):
        if draw(st.booleans()):
            lists = _lists(doc)
            if lists:
                target = _at(doc, draw(st.sampled_from(lists)))
                target.append(copy.deepcopy(target[draw(st.integers(0, len(target) - 1))]))
        else:
            strings = _strings(doc)
            if len(strings) > 1 and all(path for path, _ in strings):
                (to, _), (_, value) = draw(
                    st.lists(st.sampled_from(strings), min_size=2, max_size=2)
                )
                _at(doc, to[:-1])[to[-1]] = value
    return doc


@pytest.mark.parametrize("tp", ALL_TYPES, ids=TYPE_IDS)
def test_object_and_bytes_reach_one_verdict(tp: type[Any]) -> None:
    @settings(
        max_examples=12 if tp.__qualname__ in BIG else 30,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(rule_mutations(tp))
    def check(doc: Any) -> None:
        data = msgspec.json.encode(doc)
        from_bytes = ir.validate_json(data, tp)
        if any(item.code in SHAPE_CODES for item in structural_errors(doc, tp)):
            assert any(item.code in SHAPE_CODES for item in from_bytes)
            return
        obj = build_lenient(doc, tp)  # out-of-range values kept, as a caller could build
        try:
            assert ir.validate(obj) is obj
            from_object: list[ErrorItem] = []
        except ValidationError as exc:
            from_object = exc.items
        assert _verdicts(from_object) == _verdicts(from_bytes)
        assert ir.is_valid(obj) == (not from_bytes)

    check()


def test_catalogue_comes_from_the_engine() -> None:
    codes = ir.rule_codes()
    assert len(codes) == len(set(codes)) == len(ir.RULES)
    ensemble = {r.code for r in ir.rules.rules_for(reliability.Ensemble)}
    assert "ensemble.weight_missing" in ensemble
    assert all(rule.types and rule.description for rule in ir.RULES)
    assert ir.rules.struct_key(training.Config) == "training.Config"


def _messages(obj: Any) -> list[str]:
    return [item.message for item in ir.errors(obj)]


def test_messages_keep_their_wording() -> None:
    variants = [
        feedback.ABVariant(name=n, traffic_percent=p) for n, p in (("a", 50.0), ("a", 40.0))
    ]
    test = feedback.ABTestConfig(id="ab", variants=variants, control="c")
    assert _messages(test) == [
        "traffic shares add up to 90%, not 100%",
        "variant 'a' is defined twice",
        "control 'c' is not a variant",
    ]
    event = feedback.Event(
        id="e", feedback_type=FeedbackType.THUMBS, feedback_value={"it's": [1.5, None]}
    )
    assert _messages(event) == ['value {"it\'s": [1.5, None]} does not suit feedback type thumbs']
    config = training.Config(
        id="t",
        model_ref=ir.ModelRef(id="m"),
        dataset_ref=ir.DatasetRef(name="d"),
        regularization=training.RegularizationConfig(weight_decay=1e-05),
        optimizer_config=training.OptimizerConfig(weight_decay=0.1),
    )
    assert _messages(config) == [
        "regularization.weight_decay 1e-05 differs from optimizer_config.weight_decay 0.1"
    ]
    stats = reliability.Stats(
        tests=[StatTest.ANOVA, StatTest.ANOVA], effect_size_type=EffectSizeType.COHENS_D
    )
    assert _messages(stats) == [
        "test anova is listed twice",
        "cohens_d needs one of the tests bootstrap, mannwhitney, ttest, wilcoxon",
    ]


def test_rules_see_field_defaults() -> None:
    # Stats.tests defaults to a factory-made list: absent, it is not empty
    assert ir.validate_json(b"{}", reliability.Stats) == []
    assert _verdicts(ir.validate_json(b'{"tests":[]}', reliability.Stats)) == [
        ("/tests", "stats.tests_required")
    ]
    # Ensemble.execution_mode defaults to parallel, which hedging may accompany
    doc = b'{"ensemble":{"strategy":"majority","models":["a"]},"hedging":{"strategy":"off"}}'
    assert ir.validate_json(doc, reliability.Config) == []
