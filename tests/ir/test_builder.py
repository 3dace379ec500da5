"""The fluent builder: the original's ground, the v0.3 additions, and immutability."""

from __future__ import annotations

import pickle
from typing import Any

import msgspec
import pytest

import crucible.ir as ir
from crucible.errors import InvalidArgumentError, NotFoundError, ValidationError
from crucible.ir import deployment, feedback, reliability, training
from crucible.ir.builder import ExperimentBuilder, experiment, reliability_config
from crucible.ir.dataset import DatasetRef
from crucible.ir.enums import EnsembleStrategy, OutputFormat, OutputSink
from crucible.ir.experiment import BackendRef, Experiment, OutputSpec, StageDef
from crucible.ir.model import ModelRef


def _valid() -> ExperimentBuilder:
    return experiment("test").with_backend("gpt4").add_stage("run")


def _rel(builder: ExperimentBuilder) -> reliability.Config:
    assert builder.reliability is not None
    return builder.reliability


# --- the original's builder tests ---------------------------------------------------------


def test_experiment_creates_a_builder() -> None:
    builder = experiment("test_exp")
    assert isinstance(builder, ExperimentBuilder)
    assert builder.id == "test_exp"
    assert builder.backend is None
    assert builder.pipeline == []


def test_with_description() -> None:
    assert experiment("t").with_description("Test experiment").description == "Test experiment"


def test_with_backend() -> None:
    builder = experiment("t").with_backend("gpt4")
    assert builder.backend == BackendRef(id="gpt4", profile="default")
    builder = experiment("t").with_backend("gpt4", profile="fast", options={"temperature": 0.7})
    assert builder.backend == BackendRef(id="gpt4", profile="fast", options={"temperature": 0.7})


def test_add_stage() -> None:
    builder = experiment("t").add_stage("preprocessing")
    assert builder.pipeline == [StageDef(name="preprocessing")]
    builder = experiment("t").add_stage("preprocessing", enabled=False, options={"normalize": True})
    assert builder.pipeline == [
        StageDef(name="preprocessing", enabled=False, options={"normalize": True})
    ]


def test_add_multiple_stages_in_order() -> None:
    builder = (
        experiment("t")
        .add_stage("preprocessing")
        .add_stage("inference")
        .add_stage("postprocessing")
    )
    assert [s.name for s in builder.pipeline] == ["preprocessing", "inference", "postprocessing"]


def test_with_dataset() -> None:
    assert experiment("t").with_dataset("mmlu").dataset == DatasetRef(name="mmlu")
    assert experiment("t").with_dataset("Custom Dataset").dataset == DatasetRef(
        name="Custom Dataset"
    )
    dataset = experiment("t").with_dataset("mmlu", split="test", provider="custom").dataset
    assert dataset == DatasetRef(name="mmlu", split="test", provider="custom")


def test_with_ensemble() -> None:
    builder = experiment("t").with_ensemble("majority")
    assert _rel(builder).ensemble == reliability.Ensemble(strategy="majority")
    assert isinstance(_rel(builder).ensemble.strategy, EnsembleStrategy)  # type: ignore[union-attr]
    builder = experiment("t").with_ensemble(
        "weighted", execution_mode="sequential", models=["gpt4", "claude"], timeout_ms=5000
    )
    assert _rel(builder).ensemble == reliability.Ensemble(
        strategy="weighted",
        execution_mode="sequential",
        models=["gpt4", "claude"],
        timeout_ms=5000,
    )


def test_reliability_parts_accumulate() -> None:
    builder = experiment("t").with_stats(["ttest"]).with_ensemble("majority")
    assert _rel(builder).ensemble is not None
    assert _rel(builder).stats == reliability.Stats(tests=["ttest"])


def test_with_hedging() -> None:
    assert _rel(experiment("t").with_hedging("fixed")).hedging == reliability.Hedging(
        strategy="fixed"
    )
    hedging = _rel(
        experiment("t").with_hedging("percentile", delay_ms=100, percentile=0.95)
    ).hedging
    assert hedging == reliability.Hedging(strategy="percentile", delay_ms=100, percentile=0.95)


def test_with_stats() -> None:
    assert _rel(experiment("t").with_stats(["ttest", "bootstrap"])).stats == reliability.Stats()
    stats = _rel(experiment("t").with_stats(["ttest"], alpha=0.01, confidence_level=0.99)).stats
    assert stats == reliability.Stats(tests=["ttest"], alpha=0.01, confidence_level=0.99)


def test_with_fairness_enables_by_default() -> None:
    fairness = _rel(
        experiment("t").with_fairness(metrics=["demographic_parity"], threshold=0.8)
    ).fairness
    assert fairness == reliability.Fairness(
        enabled=True, metrics=["demographic_parity"], threshold=0.8
    )
    assert _rel(experiment("t").with_fairness(enabled=False)).fairness == reliability.Fairness()


def test_with_guardrails() -> None:
    guardrail = _rel(
        experiment("t").with_guardrails(
            profiles=["strict"], prompt_injection_detection=True, pii_detection=True
        )
    ).guardrails
    assert guardrail == reliability.Guardrail(
        profiles=["strict"], prompt_injection_detection=True, pii_detection=True
    )


def test_add_output() -> None:
    assert experiment("t").add_output("results").outputs == [OutputSpec(name="results")]
    output = experiment("t").add_output("results", formats=["json", "html"], sink="s3").outputs
    assert output == [OutputSpec(name="results", formats=["json", "html"], sink="s3")]
    assert output is not None
    assert all(isinstance(f, OutputFormat) for f in output[0].formats)
    assert isinstance(output[0].sink, OutputSink)


def test_add_multiple_outputs() -> None:
    builder = experiment("t").add_output("results").add_output("metrics").add_output("traces")
    assert [o.name for o in builder.outputs or []] == ["results", "metrics", "traces"]


def test_build_valid() -> None:
    exp = _valid().build()
    assert isinstance(exp, Experiment)
    assert exp == Experiment(
        id="test", backend=BackendRef(id="gpt4"), pipeline=[StageDef(name="run")]
    )


def test_build_reports_every_missing_part() -> None:
    with pytest.raises(ValidationError) as info:
        experiment("test").build()
    assert [(e.path, e.code) for e in info.value.items] == [
        ("/backend", "required"),
        ("/pipeline", "length"),
    ]


def test_build_with_empty_pipeline() -> None:
    with pytest.raises(ValidationError) as info:
        experiment("test").with_backend("gpt4").build()
    assert [(e.path, e.code) for e in info.value.items] == [("/pipeline", "length")]


def test_build_validates_nested_reliability() -> None:
    builder = _valid().with_ensemble("invalid_strategy")
    assert _rel(builder).ensemble is not None
    assert _rel(builder).ensemble.strategy == "invalid_strategy"  # type: ignore[union-attr]
    with pytest.raises(ValidationError) as info:
        builder.build()
    assert [(e.path, e.code) for e in info.value.items] == [
        ("/reliability/ensemble/strategy", "enum")
    ]


def test_comprehensive_chain() -> None:
    exp = (
        experiment("comprehensive_test")
        .with_description("Comprehensive reliability experiment")
        .with_backend("gpt4", profile="fast")
        .add_stage("preprocessing", options={"normalize": True})
        .add_stage("inference")
        .add_stage("postprocessing")
        .with_dataset("mmlu", split="test", schema={"question": "string", "gender": "string"})
        .with_ensemble("majority", models=["gpt4", "claude"])
        .with_hedging("fixed", delay_ms=100)
        .with_stats(["ttest", "bootstrap"], alpha=0.01)
        .with_fairness(metrics=["demographic_parity"], threshold=0.8, group_by="gender")
        .with_guardrails(profiles=["strict"], pii_detection=True)
        .add_output("results", formats=["json", "html"])
        .add_output("metrics", formats=["csv"])
        .build()
    )
    assert exp.id == "comprehensive_test"
    assert exp.backend.profile == "fast"
    assert len(exp.pipeline) == 3
    assert exp.dataset is not None
    assert exp.dataset.name == "mmlu"
    rel = exp.reliability
    assert rel is not None
    assert rel.ensemble is not None
    assert rel.ensemble.strategy == "majority"
    assert rel.hedging is not None
    assert rel.hedging.strategy == "fixed"
    assert rel.stats is not None
    assert rel.stats.alpha == 0.01
    assert rel.fairness is not None
    assert rel.fairness.threshold == 0.8
    assert rel.guardrails is not None
    assert rel.guardrails.pii_detection is True
    assert len(exp.outputs or []) == 2
    assert ir.from_json(ir.to_json(exp), Experiment) == exp


def test_fairness_without_a_group_fails_in_v0_3() -> None:
    builder = _valid().with_fairness(metrics=["demographic_parity"], threshold=0.8)
    assert [(e.path, e.code) for e in builder.errors()] == [
        ("/reliability/fairness/group_by", "fairness.group_by_required")
    ]


# --- v0.2 lifecycle steps -----------------------------------------------------------------


def test_with_experiment_type() -> None:
    assert experiment("t").with_experiment_type("evaluation").experiment_type == "evaluation"


def test_with_model_version() -> None:
    version = experiment("t").with_model_version("gpt2", "1.0.0").model_version
    assert version == ir.ModelVersion(id="gpt2_1_0_0", model_id="gpt2", version="1.0.0")
    version = experiment("t").with_model_version("gpt2", "2.1.0", stage="production").model_version
    assert version is not None
    assert version.stage == "production"
    with pytest.raises(InvalidArgumentError):
        experiment("t").with_model_version("gpt2")


def test_with_baseline() -> None:
    assert experiment("t").with_baseline("gpt3").baseline == ModelRef(id="gpt3")
    baseline = experiment("t").with_baseline("gpt3", provider="openai").baseline
    assert baseline == ModelRef(id="gpt3", provider="openai")


def test_with_training_config() -> None:
    model = ModelRef(id="gpt2")
    dataset = DatasetRef(name="wikitext")
    config = experiment("test").with_training_config(model, dataset, epochs=10).training_config
    assert config == training.Config(
        id="train_test", model_ref=model, dataset_ref=dataset, epochs=10
    )
    config = (
        experiment("t").with_training_config("gpt2", "wikitext", optimizer="sgd").training_config
    )
    assert config is not None
    assert config.model_ref == model
    assert config.optimizer == "sgd"
    ready = training.Config(id="x", model_ref=model, dataset_ref=dataset)
    assert experiment("t").with_training_config(ready).training_config is ready
    with pytest.raises(InvalidArgumentError):
        experiment("t").with_training_config("gpt2")


def test_with_feedback_enables_by_default() -> None:
    config = _rel(experiment("t").with_feedback(sampling_rate=0.1)).feedback
    assert config == feedback.Config(enabled=True, sampling_rate=0.1)


# --- v0.3 additions -----------------------------------------------------------------------


def test_with_deployment_defaults_to_the_model_version() -> None:
    builder = (
        experiment("t")
        .with_model_version("gpt2", "1.0.0")
        .with_deployment("deploy_prod", environment="production")
    )
    assert builder.deployment == deployment.Config(
        id="deploy_prod", model_version_id="gpt2_1_0_0", environment="production"
    )
    with pytest.raises(InvalidArgumentError):
        experiment("t").with_deployment("deploy_prod")
    explicit = experiment("t").with_deployment("d", model_version_id="v9").deployment
    assert explicit is not None
    assert explicit.model_version_id == "v9"


def test_with_monitoring_and_other_parts() -> None:
    builder = (
        experiment("t")
        .with_monitoring(interval_seconds=30)
        .with_drift(method="ks", threshold=0.05)
        .with_circuit_breaker(failure_threshold=3)
        .with_rate_limiting(requests_per_minute=60)
        .with_caching(ttl_seconds=60)
    )
    rel = _rel(builder)
    assert rel.monitoring == reliability.Monitoring(interval_seconds=30)
    assert rel.drift == reliability.DriftDetection(method="ks", threshold=0.05)
    assert rel.circuit_breaker == reliability.CircuitBreaker(failure_threshold=3)
    assert rel.rate_limiting == reliability.RateLimit(requests_per_minute=60)
    assert rel.caching == reliability.Cache(ttl_seconds=60)


def test_parts_can_be_given_as_structs() -> None:
    ensemble = reliability.Ensemble(strategy="majority", models=["a"])
    builder = experiment("t").with_ensemble(ensemble).with_stats(reliability.Stats(alpha=0.1))
    assert _rel(builder).ensemble is ensemble
    assert _rel(builder).stats == reliability.Stats(alpha=0.1)
    stage = StageDef(name="s", module="m:S")
    assert experiment("t").add_stage(stage).pipeline == [stage]
    assert experiment("t").with_backend(BackendRef(id="b")).backend == BackendRef(id="b")
    assert experiment("t").with_dataset(DatasetRef(name="d")).dataset == DatasetRef(name="d")
    assert experiment("t").add_output(OutputSpec(name="o")).outputs == [OutputSpec(name="o")]


def test_update_variants() -> None:
    builder = (
        _valid()
        .with_stats(["ttest"])
        .with_ensemble("majority", models=["a"])
        .update_stats(alpha=0.01)
        .update_ensemble(models=["a", "b"])
        .update_backend(profile="fast")
        .update_stage("run", enabled=False)
        .with_dataset("mmlu")
        .update_dataset(split="test")
        .add_output("o")
        .update_output("o", formats=["json"])
    )
    assert _rel(builder).stats == reliability.Stats(tests=["ttest"], alpha=0.01)
    assert _rel(builder).ensemble == reliability.Ensemble(strategy="majority", models=["a", "b"])
    assert builder.backend == BackendRef(id="gpt4", profile="fast")
    assert builder.pipeline == [StageDef(name="run", enabled=False)]
    assert builder.dataset == DatasetRef(name="mmlu", split="test")
    assert builder.outputs == [OutputSpec(name="o", formats=["json"])]


def test_update_of_a_missing_part_fails() -> None:
    with pytest.raises(NotFoundError):
        experiment("t").update_stats(alpha=0.01)
    with pytest.raises(NotFoundError):
        experiment("t").update_backend(profile="fast")
    with pytest.raises(NotFoundError):
        _valid().update_stage("nope", enabled=False)
    with pytest.raises(NotFoundError):
        _valid().update_output("nope")
    with pytest.raises(InvalidArgumentError):
        _valid().with_stats(["ttest"]).update_stats(not_a_field=1)
    with pytest.raises(InvalidArgumentError):
        _valid().update_reliability("teleport", x=1)


def test_remove_variants() -> None:
    builder = (
        _valid()
        .add_stage("extra")
        .with_dataset("mmlu")
        .with_stats(["ttest"])
        .with_hedging("fixed", delay_ms=10)
        .add_output("a")
        .add_output("b")
        .with_baseline("gpt3")
        .with_description("d")
    )
    trimmed = (
        builder.remove_stage("extra")
        .remove_dataset()
        .remove_hedging()
        .remove_output("a")
        .remove_baseline()
        .remove_description()
    )
    assert [s.name for s in trimmed.pipeline] == ["run"]
    assert trimmed.dataset is None
    assert trimmed.baseline is None
    assert trimmed.description is None
    assert _rel(trimmed).hedging is None
    assert _rel(trimmed).stats is not None
    assert [o.name for o in trimmed.outputs or []] == ["b"]
    assert trimmed.remove_stats().reliability is None, "an empty reliability config goes away"
    assert trimmed.remove_output("b").outputs is None
    with pytest.raises(NotFoundError):
        trimmed.remove_stage("nope")
    with pytest.raises(NotFoundError):
        trimmed.remove_output("nope")


def test_merge_variants() -> None:
    builder = (
        _valid()
        .with_metadata({"a": 1})
        .merge_metadata({"b": 2})
        .with_backend("gpt4", options={"t": 0.1})
        .merge_backend_options({"top_p": 0.9})
        .add_stage("prep", options={"x": 1})
        .merge_stage_options("prep", {"y": 2})
        .with_stats(["ttest"])
        .merge_reliability(
            reliability.Config(
                hedging=reliability.Hedging(strategy="fixed", delay_ms=5),
                stats=reliability.Stats(alpha=0.2),
            )
        )
    )
    assert builder.metadata == {"a": 1, "b": 2}
    assert builder.backend is not None
    assert builder.backend.options == {"t": 0.1, "top_p": 0.9}
    assert builder.pipeline[-1].options == {"x": 1, "y": 2}
    assert _rel(builder).stats == reliability.Stats(alpha=0.2), "merged parts replace"
    assert _rel(builder).hedging == reliability.Hedging(strategy="fixed", delay_ms=5)


def test_tags() -> None:
    builder = experiment("t").with_tags("a", "b").add_tag("c").remove_tag("a")
    assert builder.tags == ["b", "c"]
    assert builder.remove_tag("b").remove_tag("c").tags is None


def test_errors_and_draft() -> None:
    draft = experiment("t").draft()
    assert draft.backend is None  # type: ignore[comparison-overlap]
    assert [e.code for e in experiment("t").errors()] == ["required", "length"]
    assert _valid().errors() == []


def test_unknown_field_in_kwargs_fails_at_the_call() -> None:
    with pytest.raises(TypeError):
        experiment("t").with_ensemble("majority", modles=["a"])


# --- immutability -------------------------------------------------------------------------


def test_every_step_returns_a_new_builder() -> None:
    base = _valid()
    snapshot = msgspec.json.encode(base)
    branches = [
        base.with_description("x"),
        base.add_stage("more"),
        base.with_ensemble("majority", models=["a"]),
        base.with_stats(["ttest"]),
        base.add_output("o"),
        base.with_dataset("d"),
        base.with_tags("t"),
        base.merge_metadata({"k": 1}),
        base.with_model_version("m", "1.0.0"),
        base.with_monitoring(),
    ]
    assert msgspec.json.encode(base) == snapshot, "the base builder never changes"
    assert all(branch is not base for branch in branches)
    assert len({msgspec.json.encode(b) for b in branches}) == len(branches)


def test_shared_lists_are_never_mutated() -> None:
    base = _valid().with_stats(["ttest"]).add_output("o")
    pipeline, outputs = base.pipeline, base.outputs
    longer = base.add_stage("x").add_output("p").update_stats(alpha=0.01)
    assert base.pipeline is pipeline
    assert len(base.pipeline) == 1
    assert base.outputs is outputs
    assert len(base.outputs or []) == 1
    assert len(longer.pipeline) == 2
    assert _rel(base).stats == reliability.Stats(tests=["ttest"])


def test_builder_is_frozen() -> None:
    builder = _valid()
    with pytest.raises(AttributeError):
        builder.id = "other"  # type: ignore[misc]


def test_builders_pickle() -> None:
    builder = _valid().with_stats(["ttest"])
    assert pickle.loads(pickle.dumps(builder)) == builder


# --- the standalone reliability builder ---------------------------------------------------


def test_reliability_builder() -> None:
    config = (
        reliability_config()
        .with_ensemble("weighted", models=["a", "b"], weights={"a": 0.7, "b": 0.3})
        .with_hedging("percentile", percentile=0.95)
        .with_stats(["ttest"], alpha=0.01)
        .with_guardrails(profiles=["strict"])
        .with_feedback(sampling_rate=0.5)
        .build()
    )
    assert isinstance(config, reliability.Config)
    assert config.ensemble is not None
    assert config.ensemble.weights == {"a": 0.7, "b": 0.3}
    assert config.feedback == feedback.Config(enabled=True, sampling_rate=0.5)
    assert ir.from_json(ir.to_json(config), reliability.Config) == config


def test_reliability_builder_validates_cross_rules() -> None:
    builder = (
        reliability_config()
        .with_ensemble("majority", models=["a"], execution_mode="sequential")
        .with_hedging("fixed", delay_ms=10)
    )
    assert [e.code for e in builder.errors()] == [
        "reliability.hedging_incompatible_with_execution_mode"
    ]
    with pytest.raises(ValidationError):
        builder.build()


def test_reliability_builder_update_remove_merge() -> None:
    base = reliability_config().with_stats(["ttest"])
    assert base.update("stats", alpha=0.2).config.stats == reliability.Stats(
        tests=["ttest"], alpha=0.2
    )
    assert base.remove("stats").is_empty()
    other = reliability_config().with_hedging("fixed", delay_ms=1)
    merged = base.merge(other)
    assert merged.config.stats is not None
    assert merged.config.hedging is not None
    assert experiment("t").with_reliability(merged).reliability == merged.config
    assert _valid().with_reliability(merged).remove_reliability().reliability is None
    with pytest.raises(InvalidArgumentError):
        base.remove("teleport")


@pytest.mark.parametrize(
    ("step", "part"),
    [
        (lambda b: b.update_hedging(delay_ms=7), "hedging"),
        (lambda b: b.update_fairness(threshold=0.9), "fairness"),
        (lambda b: b.update_guardrails(pii_detection=True), "guardrails"),
        (lambda b: b.update_feedback(sampling_rate=0.3), "feedback"),
        (lambda b: b.update_monitoring(interval_seconds=5), "monitoring"),
        (lambda b: b.remove_ensemble(), "ensemble"),
        (lambda b: b.remove_fairness(), "fairness"),
        (lambda b: b.remove_guardrails(), "guardrails"),
        (lambda b: b.remove_feedback(), "feedback"),
        (lambda b: b.remove_monitoring(), "monitoring"),
    ],
)
def test_every_part_has_update_and_remove(step: Any, part: str) -> None:
    full = (
        _valid()
        .with_ensemble("majority", models=["a"])
        .with_hedging("fixed", delay_ms=1)
        .with_fairness(metrics=["demographic_parity"], group_by="g")
        .with_guardrails()
        .with_feedback()
        .with_monitoring()
    )
    changed = step(full)
    assert getattr(_rel(changed), part) != getattr(_rel(full), part)
    reliability_step = step(reliability_config().merge(_rel(full)))
    assert getattr(reliability_step.config, part) == getattr(_rel(changed), part)


def test_lifecycle_removals() -> None:
    builder = (
        _valid()
        .with_model_version("m", "1.0.0")
        .with_training_config("m", "d")
        .with_deployment("dep")
        .with_ab_test(
            feedback.ABTestConfig(
                id="ab",
                variants=[
                    feedback.ABVariant(name="a", traffic_percent=50.0),
                    feedback.ABVariant(name="b", traffic_percent=50.0),
                ],
            )
        )
        .update_training_config(epochs=5)
        .update_deployment(replicas=2)
    )
    exp = builder.build()
    assert exp.training_config is not None
    assert exp.training_config.epochs == 5
    assert exp.deployment is not None
    assert exp.deployment.replicas == 2
    stripped = (
        builder.remove_model_version().remove_training_config().remove_deployment().remove_ab_test()
    )
    assert stripped.build() == _valid().build()
