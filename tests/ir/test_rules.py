"""Every semantic rule with a passing and a failing case, plus the validation API.

The table ``CASES`` is the contract of the rules engine (``rust/ir/rules``): for each code,
the passing object has no error of that code, and the failing object has one at the given
pointer.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from msgspec.structs import replace

import crucible.ir as ir
from crucible.errors import ErrorItem, InvalidTypeError, ValidationError
from crucible.ir import deployment, feedback, reliability, training
from crucible.ir.dataset import DatasetRef, schema_columns
from crucible.ir.experiment import BackendRef, Experiment, OutputSpec, StageDef
from crucible.ir.model import ModelRef, ModelSignature, ModelTag, ModelVersion, TensorSpec
from crucible.ir.structure import STRUCTURAL_CODES

UTC = timezone.utc
T1 = datetime(2025, 1, 1, 10, tzinfo=UTC)
T2 = datetime(2025, 1, 1, 11, tzinfo=UTC)


def exp(**changes: Any) -> Experiment:
    base = Experiment(id="e", backend=BackendRef(id="b"), pipeline=[StageDef(name="s")])
    return replace(base, **changes)


def rel(**parts: Any) -> Experiment:
    return exp(reliability=reliability.Config(**parts))


def tcfg(**changes: Any) -> training.Config:
    base = training.Config(id="t", model_ref=ModelRef(id="m"), dataset_ref=DatasetRef(name="d"))
    return replace(base, **changes)


def run(**changes: Any) -> training.Run:
    return replace(training.Run(id="r", config=tcfg()), **changes)


def dep(**changes: Any) -> deployment.Config:
    return replace(deployment.Config(id="d", model_version_id="v1"), **changes)


def status(**changes: Any) -> deployment.Status:
    return replace(deployment.Status(id="s", deployment_id="d"), **changes)


def version(**changes: Any) -> ModelVersion:
    return replace(ModelVersion(id="v1", model_id="m", version="1.0.0"), **changes)


def task(**changes: Any) -> feedback.LabelingTask:
    return replace(feedback.LabelingTask(id="t", labels=["a", "b"]), **changes)


def variants(*pairs: tuple[str, float]) -> list[feedback.ABVariant]:
    return [feedback.ABVariant(name=n, traffic_percent=p) for n, p in pairs]


def ab(**changes: Any) -> feedback.ABTestConfig:
    base = feedback.ABTestConfig(id="ab", variants=variants(("a", 50.0), ("b", 50.0)))
    return replace(base, **changes)


def weighted(**changes: Any) -> reliability.Ensemble:
    base = reliability.Ensemble(
        strategy="weighted", models=["a", "b"], weights={"a": 0.6, "b": 0.4}
    )
    return replace(base, **changes)


MAJORITY = reliability.Ensemble(strategy="majority", models=["a", "b"])
FIXED = reliability.Hedging(strategy="fixed", delay_ms=100)
FAIR = {"enabled": True, "metrics": ["demographic_parity"], "group_by": "gender"}
SCHEMA_DATASET = DatasetRef(name="d", schema={"text": "string", "gender": "string"})

# code -> (passing object, failing object, pointer of the failure)
CASES: dict[str, tuple[Any, Any, str]] = {
    "schema_version.unsupported": (exp(), exp(schema_version="0.2.0"), "/schema_version"),
    "experiment.no_enabled_stage": (
        exp(pipeline=[StageDef(name="a", enabled=False), StageDef(name="b")]),
        exp(pipeline=[StageDef(name="a", enabled=False)]),
        "/pipeline",
    ),
    "experiment.duplicate_output_name": (
        exp(outputs=[OutputSpec(name="a"), OutputSpec(name="b")]),
        exp(outputs=[OutputSpec(name="a"), OutputSpec(name="a")]),
        "/outputs/1/name",
    ),
    "experiment.training_config_required": (
        exp(experiment_type="training", training_config=tcfg()),
        exp(experiment_type="training"),
        "/training_config",
    ),
    "experiment.baseline_required": (
        exp(experiment_type="comparison", baseline=ModelRef(id="gpt3")),
        exp(experiment_type="comparison"),
        "/baseline",
    ),
    "experiment.group_by_not_in_schema": (
        exp(
            dataset=SCHEMA_DATASET,
            reliability=reliability.Config(fairness=reliability.Fairness(**FAIR)),
        ),
        exp(
            dataset=SCHEMA_DATASET,
            reliability=reliability.Config(
                fairness=reliability.Fairness(**{**FAIR, "group_by": "age"})
            ),
        ),
        "/reliability/fairness/group_by",
    ),
    "experiment.deployment_model_mismatch": (
        exp(model_version=version(), deployment=dep()),
        exp(model_version=version(), deployment=dep(model_version_id="v2")),
        "/deployment/model_version_id",
    ),
    "experiment.time_order": (
        exp(created_at=T1, updated_at=T2),
        exp(created_at=T2, updated_at=T1),
        "/updated_at",
    ),
    "backend.fallback_cycle": (
        BackendRef(id="a", fallback=BackendRef(id="b", fallback=BackendRef(id="c"))),
        BackendRef(id="a", fallback=BackendRef(id="b", fallback=BackendRef(id="a"))),
        "/fallback/fallback/id",
    ),
    "output.format_unsupported_by_sink": (
        OutputSpec(name="o", sink="stdout", formats=["json", "markdown", "csv"]),
        OutputSpec(name="o", sink="stdout", formats=["html"]),
        "/formats/0",
    ),
    "output.duplicate_format": (
        OutputSpec(name="o", formats=["json", "csv"]),
        OutputSpec(name="o", formats=["json", "json"]),
        "/formats/1",
    ),
    "output.compression_unsupported_by_sink": (
        OutputSpec(name="o", sink="stdout", compression="none"),
        OutputSpec(name="o", sink="stdout", compression="gzip"),
        "/compression",
    ),
    "output.encryption_unsupported_by_sink": (
        OutputSpec(name="o", sink="s3", encryption=True),
        OutputSpec(name="o", sink="postgres", formats=["json"], encryption=True),
        "/encryption",
    ),
    "reliability.hedging_incompatible_with_execution_mode": (
        reliability.Config(ensemble=MAJORITY, hedging=FIXED),
        reliability.Config(ensemble=replace(MAJORITY, execution_mode="sequential"), hedging=FIXED),
        "/hedging/strategy",
    ),
    "reliability.hedged_mode_requires_hedging": (
        reliability.Config(ensemble=replace(MAJORITY, execution_mode="hedged"), hedging=FIXED),
        reliability.Config(ensemble=replace(MAJORITY, execution_mode="hedged")),
        "/ensemble/execution_mode",
    ),
    "ensemble.models_required": (
        reliability.Ensemble(strategy="majority", models=["a"]),
        reliability.Ensemble(strategy="majority"),
        "/models",
    ),
    "ensemble.duplicate_model": (MAJORITY, replace(MAJORITY, models=["a", "a"]), "/models/1"),
    "ensemble.weights_required": (weighted(), weighted(weights=None), "/weights"),
    "ensemble.weight_unknown_model": (
        weighted(),
        weighted(weights={"a": 0.5, "b": 0.3, "z": 0.2}),
        "/weights/z",
    ),
    "ensemble.weight_missing": (weighted(), weighted(weights={"a": 1.0}), "/models/1"),
    "hedging.delay_required": (FIXED, reliability.Hedging(strategy="fixed"), "/delay_ms"),
    "hedging.percentile_required": (
        reliability.Hedging(strategy="percentile", percentile=0.95),
        reliability.Hedging(strategy="percentile"),
        "/percentile",
    ),
    "stats.tests_required": (reliability.Stats(), reliability.Stats(tests=[]), "/tests"),
    "stats.duplicate_test": (
        reliability.Stats(tests=["ttest", "bootstrap"]),
        reliability.Stats(tests=["ttest", "ttest"]),
        "/tests/1",
    ),
    "stats.effect_size_incompatible": (
        reliability.Stats(tests=["anova"], effect_size_type="eta_squared"),
        reliability.Stats(tests=["ttest"], effect_size_type="eta_squared"),
        "/effect_size_type",
    ),
    "fairness.group_by_required": (
        reliability.Fairness(**FAIR),
        reliability.Fairness(enabled=True, metrics=["demographic_parity"]),
        "/group_by",
    ),
    "fairness.metrics_required": (
        reliability.Fairness(**FAIR),
        reliability.Fairness(enabled=True, group_by="gender"),
        "/metrics",
    ),
    "guardrail.redaction_requires_detection": (
        reliability.Guardrail(pii_redaction=True),
        reliability.Guardrail(pii_redaction=True, pii_detection=False),
        "/pii_redaction",
    ),
    "guardrail.duplicate_profile": (
        reliability.Guardrail(profiles=["strict", "moderate"]),
        reliability.Guardrail(profiles=["strict", "strict"]),
        "/profiles/1",
    ),
    "circuit_breaker.success_exceeds_probes": (
        reliability.CircuitBreaker(half_open_max_calls=3, success_threshold=3),
        reliability.CircuitBreaker(half_open_max_calls=1, success_threshold=2),
        "/success_threshold",
    ),
    "rate_limit.no_limit": (
        reliability.RateLimit(requests_per_minute=60),
        reliability.RateLimit(burst=10),
        "",
    ),
    "retry.delay_order": (
        reliability.RetryConfig(),
        reliability.RetryConfig(initial_delay_ms=1_000, max_delay_ms=100),
        "/initial_delay_ms",
    ),
    "cache.similarity_requires_semantic": (
        reliability.Cache(semantic=True, similarity_threshold=0.9),
        reliability.Cache(similarity_threshold=0.9),
        "/similarity_threshold",
    ),
    "feedback.types_required": (
        feedback.Config(enabled=False, feedback_types=[]),
        feedback.Config(enabled=True, feedback_types=[]),
        "/feedback_types",
    ),
    "feedback.duplicate_type": (
        feedback.Config(feedback_types=["thumbs", "rating"]),
        feedback.Config(feedback_types=["thumbs", "thumbs"]),
        "/feedback_types/1",
    ),
    "feedback.enabled_without_sampling": (
        feedback.Config(enabled=False, sampling_rate=0.0),
        feedback.Config(enabled=True, sampling_rate=0.0),
        "/sampling_rate",
    ),
    "drift.threshold_out_of_range": (
        feedback.DriftDetectionConfig(method="psi", threshold=2.0),
        feedback.DriftDetectionConfig(method="ks", threshold=2.0),
        "/threshold",
    ),
    "retraining.condition_required": (
        feedback.RetrainingTrigger(schedule="0 3 * * 1"),
        feedback.RetrainingTrigger(),
        "",
    ),
    "retraining.metric_required": (
        feedback.RetrainingTrigger(performance_threshold=0.8, metric="accuracy"),
        feedback.RetrainingTrigger(performance_threshold=0.8),
        "/metric",
    ),
    "feedback_event.value_mismatch": (
        feedback.Event(id="e", feedback_type="thumbs", feedback_value="up"),
        feedback.Event(id="e", feedback_type="thumbs", feedback_value="sideways"),
        "/feedback_value",
    ),
    "correction.unchanged": (
        feedback.CorrectionEvent(id="c", original_output="a", corrected_output="b"),
        feedback.CorrectionEvent(id="c", original_output="a", corrected_output="a"),
        "/corrected_output",
    ),
    "labeling_task.duplicate_label": (task(), task(labels=["a", "a"]), "/labels/1"),
    "labeling_task.result_label_unknown": (task(result=["a"]), task(result=["z"]), "/result/0"),
    "labeling_task.multiple_results": (
        task(multi_label=True, result=["a", "b"]),
        task(result=["a", "b"]),
        "/result",
    ),
    "labeling_task.result_required": (
        task(status="completed", result=["a"]),
        task(status="completed"),
        "/result",
    ),
    "labeling_task.time_order": (
        task(created_at=T1, completed_at=T2),
        task(created_at=T2, completed_at=T1),
        "/completed_at",
    ),
    "ab_test.traffic_sum": (ab(), ab(variants=variants(("a", 50.0), ("b", 40.0))), "/variants"),
    "ab_test.duplicate_variant": (
        ab(),
        ab(variants=variants(("a", 50.0), ("a", 50.0))),
        "/variants/1/name",
    ),
    "ab_test.unknown_control": (ab(control="a"), ab(control="z"), "/control"),
    "ab_test.primary_metric_unknown": (
        ab(metrics=["ctr"], primary_metric="ctr"),
        ab(metrics=["ctr"], primary_metric="revenue"),
        "/primary_metric",
    ),
    "ab_test.time_order": (ab(start_at=T1, end_at=T2), ab(start_at=T2, end_at=T1), "/end_at"),
    "model.duplicate_tag": (
        ModelRef(id="m", tags=[ModelTag(key="a"), ModelTag(key="b")]),
        ModelRef(id="m", tags=[ModelTag(key="a"), ModelTag(key="a", value="x")]),
        "/tags/1/key",
    ),
    "model_version.parent_is_self": (
        version(version="1.1.0", parent_version="1.0.0"),
        version(parent_version="1.0.0"),
        "/parent_version",
    ),
    "model_version.model_mismatch": (
        version(model_ref=ModelRef(id="m")),
        version(model_ref=ModelRef(id="other")),
        "/model_ref/id",
    ),
    "model_version.lineage_run_mismatch": (
        version(training_run_id="r1", lineage=ir.ModelLineage(training_run_id="r1")),
        version(training_run_id="r1", lineage=ir.ModelLineage(training_run_id="r2")),
        "/lineage/training_run_id",
    ),
    "signature.duplicate_name": (
        ModelSignature(
            inputs=[TensorSpec(name="x", dtype="f32")], outputs=[TensorSpec(name="x", dtype="f32")]
        ),
        ModelSignature(
            inputs=[TensorSpec(name="x", dtype="f32"), TensorSpec(name="x", dtype="i64")]
        ),
        "/inputs/1/name",
    ),
    "training.batch_size_mismatch": (
        tcfg(data_loader=training.DataLoaderConfig(batch_size=32)),
        tcfg(data_loader=training.DataLoaderConfig(batch_size=8)),
        "/data_loader/batch_size",
    ),
    "training.validation_conflict": (
        tcfg(validation_split=0.1),
        tcfg(validation_split=0.1, validation_dataset_ref=DatasetRef(name="v")),
        "/validation_split",
    ),
    "training.validation_required": (
        tcfg(early_stopping=training.EarlyStoppingConfig(), validation_split=0.2),
        tcfg(early_stopping=training.EarlyStoppingConfig()),
        "/early_stopping/monitor",
    ),
    "training.early_stopping_metric_unknown": (
        tcfg(early_stopping=training.EarlyStoppingConfig(monitor="train_accuracy", mode="max")),
        tcfg(early_stopping=training.EarlyStoppingConfig(monitor="f1", mode="max")),
        "/early_stopping/monitor",
    ),
    "training.duplicate_metric": (tcfg(), tcfg(metrics=["loss", "loss"]), "/metrics/1"),
    "training.optimizer_param_mismatch": (
        tcfg(optimizer="sgd", optimizer_config=training.OptimizerConfig(momentum=0.9)),
        tcfg(optimizer="adam", optimizer_config=training.OptimizerConfig(momentum=0.9)),
        "/optimizer_config/momentum",
    ),
    "training.loss_param_mismatch": (
        tcfg(loss=training.LossConfig(label_smoothing=0.1)),
        tcfg(loss_function="mse", loss=training.LossConfig(label_smoothing=0.1)),
        "/loss/label_smoothing",
    ),
    "training.weight_decay_conflict": (
        tcfg(
            regularization=training.RegularizationConfig(weight_decay=0.01),
            optimizer_config=training.OptimizerConfig(weight_decay=0.01),
        ),
        tcfg(
            regularization=training.RegularizationConfig(weight_decay=0.01),
            optimizer_config=training.OptimizerConfig(weight_decay=0.1),
        ),
        "/regularization/weight_decay",
    ),
    "early_stopping.mode_mismatch": (
        training.EarlyStoppingConfig(monitor="val_accuracy", mode="max"),
        training.EarlyStoppingConfig(monitor="val_loss", mode="max"),
        "/mode",
    ),
    "scheduler.step_size_required": (
        training.SchedulerConfig(type="step", step_size=10),
        training.SchedulerConfig(type="step"),
        "/step_size",
    ),
    "scheduler.milestones_required": (
        training.SchedulerConfig(type="multistep", milestones=[10, 20]),
        training.SchedulerConfig(type="multistep"),
        "/milestones",
    ),
    "scheduler.milestones_not_increasing": (
        training.SchedulerConfig(type="multistep", milestones=[10, 20]),
        training.SchedulerConfig(type="multistep", milestones=[10, 10]),
        "/milestones/1",
    ),
    "scheduler.warmup_exceeds_total": (
        training.SchedulerConfig(warmup_steps=99, total_steps=100),
        training.SchedulerConfig(warmup_steps=100, total_steps=100),
        "/warmup_steps",
    ),
    "data_loader.prefetch_requires_workers": (
        training.DataLoaderConfig(prefetch_factor=2, num_workers=2),
        training.DataLoaderConfig(prefetch_factor=2),
        "/prefetch_factor",
    ),
    "training_run.time_order": (
        run(status="completed", started_at=T1, completed_at=T2),
        run(status="completed", started_at=T2, completed_at=T1),
        "/completed_at",
    ),
    "training_run.epoch_exceeds_total": (
        run(current_epoch=1),
        run(current_epoch=2),
        "/current_epoch",
    ),
    "training_run.error_required": (
        run(status="failed", error_message="CUDA out of memory"),
        run(status="failed"),
        "/error_message",
    ),
    "training_run.unfinished_has_completed_at": (
        run(status="cancelled", completed_at=T2),
        run(status="running", completed_at=T2),
        "/completed_at",
    ),
    "training_run.duplicate_checkpoint": (
        run(checkpoints=[training.CheckpointRef(uri="a"), training.CheckpointRef(uri="b")]),
        run(checkpoints=[training.CheckpointRef(uri="a"), training.CheckpointRef(uri="a")]),
        "/checkpoints/1/uri",
    ),
    "training_run.multiple_best_checkpoints": (
        run(
            checkpoints=[
                training.CheckpointRef(uri="a", is_best=True),
                training.CheckpointRef(uri="b"),
            ]
        ),
        run(
            checkpoints=[
                training.CheckpointRef(uri="a", is_best=True),
                training.CheckpointRef(uri="b", is_best=True),
            ]
        ),
        "/checkpoints/1/is_best",
    ),
    "deployment.replicas_out_of_bounds": (
        dep(replicas=3, scaling=deployment.ScalingConfig(min_replicas=2, max_replicas=5)),
        dep(replicas=6, scaling=deployment.ScalingConfig(min_replicas=2, max_replicas=5)),
        "/replicas",
    ),
    "deployment.canary_requires_canary_strategy": (
        dep(strategy="canary", canary=deployment.CanaryConfig()),
        dep(strategy="rolling", canary=deployment.CanaryConfig()),
        "/canary",
    ),
    "deployment.rollback_to_self": (
        dep(rollback=deployment.RollbackConfig(to_model_version_id="v0")),
        dep(rollback=deployment.RollbackConfig(to_model_version_id="v1")),
        "/rollback/to_model_version_id",
    ),
    "target.namespace_requires_kubernetes": (
        deployment.Target(type="kubernetes", namespace="ml"),
        deployment.Target(type="docker", namespace="ml"),
        "/namespace",
    ),
    "scaling.bounds_order": (
        deployment.ScalingConfig(min_replicas=2, max_replicas=2),
        deployment.ScalingConfig(min_replicas=5, max_replicas=2),
        "/min_replicas",
    ),
    "resources.limit_below_request": (
        deployment.ResourceSpec(cpu="500m", cpu_limit="1", memory="1G", memory_limit="1Gi"),
        deployment.ResourceSpec(cpu="2", cpu_limit="1500m"),
        "/cpu_limit",
    ),
    "resources.gpu_type_without_gpu": (
        deployment.ResourceSpec(gpu=1, gpu_type="a100"),
        deployment.ResourceSpec(gpu=0, gpu_type="a100"),
        "/gpu_type",
    ),
    "health_check.timeout_exceeds_interval": (
        deployment.HealthCheckConfig(interval_seconds=10, timeout_seconds=10),
        deployment.HealthCheckConfig(interval_seconds=10, timeout_seconds=11),
        "/timeout_seconds",
    ),
    "endpoint.secret_required": (
        deployment.EndpointConfig(auth="bearer", auth_secret_ref="API_TOKEN"),
        deployment.EndpointConfig(auth="bearer"),
        "/auth_secret_ref",
    ),
    "endpoint.protocol_mismatch": (
        deployment.EndpointConfig(url="https://x.example/v1", protocol="https"),
        deployment.EndpointConfig(url="http://x.example/v1", protocol="https"),
        "/protocol",
    ),
    "canary.traffic_order": (
        deployment.CanaryConfig(initial_traffic_percent=20.0, max_traffic_percent=20.0),
        deployment.CanaryConfig(initial_traffic_percent=50.0, max_traffic_percent=20.0),
        "/initial_traffic_percent",
    ),
    "deployment_status.ready_exceeds_total": (
        status(ready_replicas=2, total_replicas=3),
        status(ready_replicas=4, total_replicas=3),
        "/ready_replicas",
    ),
    "deployment_status.error_required": (
        status(state="failed", error_message="image pull failed"),
        status(state="failed"),
        "/error_message",
    ),
    "deployment_status.time_order": (
        status(created_at=T1, updated_at=T2),
        status(created_at=T2, updated_at=T1),
        "/updated_at",
    ),
}


def _verdicts(items: list[ErrorItem]) -> list[tuple[str, str]]:
    return sorted((item.path, item.code) for item in items)


def test_every_rule_has_a_case() -> None:
    assert set(ir.rule_codes()) == set(CASES)
    assert len(ir.rule_codes()) == len(set(ir.rule_codes())), "codes are unique"


@pytest.mark.parametrize("rule", ir.RULES, ids=lambda r: r.code)
def test_rule_metadata(rule: ir.rules.Rule) -> None:
    assert re.fullmatch(r"[a-z_]+\.[a-z_]+", rule.code)
    assert rule.code.split(".")[0] not in STRUCTURAL_CODES
    assert rule.types
    assert rule.description


@pytest.mark.parametrize("code", list(CASES))
def test_rule_passes(code: str) -> None:
    passing, _, _ = CASES[code]
    assert ir.errors(passing) == []
    assert ir.is_valid(passing)
    assert ir.validate(passing) is passing


@pytest.mark.parametrize("code", list(CASES))
def test_rule_fails(code: str) -> None:
    _, failing, pointer = CASES[code]
    found = ir.errors(failing)
    assert (pointer, code) in _verdicts(found), found
    assert not ir.is_valid(failing)
    with pytest.raises(ValidationError) as info:
        ir.validate(failing)
    assert info.value.items == found
    assert code in str(info.value)


@pytest.mark.parametrize("code", list(CASES))
def test_raw_documents_get_the_same_verdicts(code: str) -> None:
    for obj in CASES[code][:2]:
        raw = ir.document_errors(ir.to_json(obj), type(obj))
        assert _verdicts(raw) == _verdicts(ir.errors(obj))
        assert _verdicts(ir.document_errors(ir.to_dict(obj), type(obj))) == _verdicts(raw)


@pytest.mark.parametrize("name", list(ir.DOCUMENT_TYPES))
def test_schema_version_rule_applies_to_every_document(name: str) -> None:
    rules = {r.code for r in ir.rules.rules_for(ir.DOCUMENT_TYPES[name])}
    assert "schema_version.unsupported" in rules


@pytest.mark.parametrize("version_string", ["0.3.0", "0.3.7"])
def test_patch_versions_are_current(version_string: str) -> None:
    assert ir.errors(exp(schema_version=version_string)) == []


@pytest.mark.parametrize("version_string", ["0.1.0", "0.2.1", "0.4.0", "1.3.0"])
def test_other_versions_are_not(version_string: str) -> None:
    assert _verdicts(ir.errors(exp(schema_version=version_string))) == [
        ("/schema_version", "schema_version.unsupported")
    ]


# --- nesting, collection, phases ----------------------------------------------------------


def test_nested_rules_report_full_pointers() -> None:
    found = ir.errors(rel(ensemble=reliability.Ensemble(strategy="majority")))
    assert _verdicts(found) == [("/reliability/ensemble/models", "ensemble.models_required")]
    found = ir.errors(
        training.Run(id="r", config=tcfg(scheduler=training.SchedulerConfig(type="step")))
    )
    assert _verdicts(found) == [("/config/scheduler/step_size", "scheduler.step_size_required")]


def test_all_errors_are_collected() -> None:
    bad = exp(
        pipeline=[StageDef(name="s", enabled=False)],
        outputs=[OutputSpec(name="o", sink="stdout", formats=["html", "latex"])],
        reliability=reliability.Config(
            ensemble=reliability.Ensemble(strategy="weighted"),
            hedging=reliability.Hedging(strategy="fixed"),
            stats=reliability.Stats(alpha=1.5),
        ),
    )
    assert _verdicts(ir.errors(bad)) == [
        ("/outputs/0/formats/0", "output.format_unsupported_by_sink"),
        ("/outputs/0/formats/1", "output.format_unsupported_by_sink"),
        ("/pipeline", "experiment.no_enabled_stage"),
        ("/reliability/ensemble/models", "ensemble.models_required"),
        ("/reliability/ensemble/weights", "ensemble.weights_required"),
        ("/reliability/hedging/delay_ms", "hedging.delay_required"),
        ("/reliability/stats/alpha", "range"),
    ]


def test_shape_errors_stop_the_semantic_pass() -> None:
    draft = Experiment(id="e", backend=None, pipeline=[StageDef(name="s", enabled=False)])  # type: ignore[arg-type]
    assert _verdicts(ir.errors(draft)) == [("/backend", "required")]


def test_value_errors_do_not_stop_the_semantic_pass() -> None:
    found = ir.errors(rel(stats=reliability.Stats(alpha=0.0, tests=[])))
    assert _verdicts(found) == [
        ("/reliability/stats/alpha", "range"),
        ("/reliability/stats/tests", "stats.tests_required"),
    ]


def test_validate_accepts_only_ir_objects() -> None:
    with pytest.raises(InvalidTypeError):
        ir.errors({"id": "e"})  # type: ignore[arg-type]


def test_time_order_compares_instants_not_wall_clocks() -> None:
    paris = timezone(timedelta(hours=2))
    created = datetime(2025, 1, 1, 12, 0, tzinfo=paris)  # 10:00 UTC
    updated = datetime(2025, 1, 1, 11, 0, tzinfo=UTC)  # later, though 11 < 12
    assert ir.errors(exp(created_at=created, updated_at=updated)) == []


# --- finer cases --------------------------------------------------------------------------

VALUES_BY_TYPE = [
    ("thumbs", "up", True),
    ("thumbs", "down", True),
    ("thumbs", True, True),
    ("thumbs", 5, False),
    ("rating", 4, True),
    ("rating", 3.5, True),
    ("rating", "five", False),
    ("rating", True, False),
    ("label", "spam", True),
    ("label", ["spam", "ads"], True),
    ("label", ["spam", 1], False),
    ("correction", "better text", True),
    ("correction", {"text": "better"}, True),
    ("correction", 3, False),
    ("flag", True, True),
    ("flag", "offensive", True),
    ("flag", 1.0, False),
    ("flag", None, True),
]


@pytest.mark.parametrize(("kind", "value", "ok"), VALUES_BY_TYPE)
def test_feedback_value_suits_type(kind: str, value: Any, ok: bool) -> None:
    event = feedback.Event(id="e", feedback_type=kind, feedback_value=value)
    codes = [e.code for e in ir.errors(event)]
    assert ("feedback_event.value_mismatch" not in codes) == ok


@pytest.mark.parametrize(
    ("schema", "columns"),
    [
        ({"text": "string", "gender": "string"}, {"text", "gender"}),
        ({"type": "object", "properties": {"gender": {"type": "string"}}}, {"gender"}),
        ({"fields": ["id", "text"]}, {"id", "text"}),
        ({"fields": [{"name": "id", "type": "int64"}]}, {"id"}),
        ({"fields": [1, 2]}, None),
    ],
)
def test_schema_columns(schema: dict[str, Any], columns: set[str] | None) -> None:
    assert schema_columns(schema) == columns


def test_group_by_rule_skips_unreadable_schemas() -> None:
    fair = reliability.Config(fairness=reliability.Fairness(**{**FAIR, "group_by": "age"}))
    unreadable = DatasetRef(name="d", schema={"fields": [1, 2]})
    assert ir.errors(exp(dataset=unreadable, reliability=fair)) == []
    assert ir.errors(exp(reliability=fair)) == []  # no dataset at all


def test_replicas_below_minimum() -> None:
    config = dep(replicas=1, scaling=deployment.ScalingConfig(min_replicas=2))
    assert _verdicts(ir.errors(config)) == [("/replicas", "deployment.replicas_out_of_bounds")]


def test_memory_limit_below_request() -> None:
    spec = deployment.ResourceSpec(memory="4Gi", memory_limit="4G")  # 4e9 < 4 * 2**30
    assert _verdicts(ir.errors(spec)) == [("/memory_limit", "resources.limit_below_request")]


@pytest.mark.parametrize(
    ("quantity", "cores"), [("500m", 0.5), ("2", 2.0), ("0.25", 0.25), ("1500m", 1.5)]
)
def test_parse_cpu(quantity: str, cores: float) -> None:
    assert deployment.parse_cpu(quantity) == cores


@pytest.mark.parametrize(
    ("quantity", "size"),
    [("512Mi", 512 * 2**20), ("1G", 1e9), ("128", 128.0), ("1.5Gi", 1.5 * 2**30)],
)
def test_parse_memory(quantity: str, size: float) -> None:
    assert deployment.parse_memory(quantity) == size


@pytest.mark.parametrize("bad", ["", "2x", "-1", "1 Gi"])
def test_bad_quantities(bad: str) -> None:
    with pytest.raises(ValueError, match="quantity"):
        deployment.parse_memory(bad)
    with pytest.raises(ValueError, match="quantity"):
        deployment.parse_cpu(bad)


# --- the original's validation ground (CrucibleIR 0.2.1), as structural checks ------------

ORIGINAL: list[tuple[Any, tuple[str, str]]] = [
    (BackendRef(id=None), ("/id", "required")),  # type: ignore[arg-type]
    (StageDef(name=None), ("/name", "required")),  # type: ignore[arg-type]
    (OutputSpec(name=None), ("/name", "required")),  # type: ignore[arg-type]
    (DatasetRef(name=""), ("/name", "length")),
    (exp(id=""), ("/id", "length")),
    (exp(backend=None), ("/backend", "required")),
    (exp(pipeline=None), ("/pipeline", "required")),
    (exp(pipeline=[]), ("/pipeline", "length")),
    (exp(pipeline=[StageDef(name=None)]), ("/pipeline/0/name", "required")),  # type: ignore[arg-type]
    (exp(backend=BackendRef(id=None)), ("/backend/id", "required")),  # type: ignore[arg-type]
    (reliability.Ensemble(strategy="plurality"), ("/strategy", "enum")),
    (reliability.Ensemble(execution_mode="swarm"), ("/execution_mode", "enum")),
    (reliability.Hedging(strategy="random"), ("/strategy", "enum")),
    (reliability.Stats(alpha=1.5), ("/alpha", "range")),
    (reliability.Stats(alpha=-0.1), ("/alpha", "range")),
    (rel(stats=reliability.Stats(alpha=2.0)), ("/reliability/stats/alpha", "range")),
    (reliability.Hedging(delay_ms=-5), ("/delay_ms", "range")),
    (reliability.Hedging(percentile=0.0), ("/percentile", "range")),
    (reliability.Hedging(percentile=1.5), ("/percentile", "range")),
    (ModelRef(id=None), ("/id", "required")),  # type: ignore[arg-type]
    (version(model_id=None), ("/model_id", "required")),
    (version(version="v1"), ("/version", "pattern")),
    (version(version="1.0"), ("/version", "pattern")),
    (tcfg(epochs=0), ("/epochs", "range")),
    (tcfg(batch_size=0), ("/batch_size", "range")),
    (tcfg(learning_rate=0.0), ("/learning_rate", "range")),
    (tcfg(validation_split=1.0), ("/validation_split", "range")),
    (tcfg(model_ref=None), ("/model_ref", "required")),
    (run(status="exploded"), ("/status", "enum")),
    (run(config=None), ("/config", "required")),
    (dep(replicas=0), ("/replicas", "range")),
    (dep(model_version_id=None), ("/model_version_id", "required")),
    (status(state="melting"), ("/state", "enum")),
    (status(deployment_id=None), ("/deployment_id", "required")),
    (feedback.Event(id=""), ("/id", "length")),
    (feedback.Config(sampling_rate=1.5), ("/sampling_rate", "range")),
    (feedback.Config(sampling_rate=-0.5), ("/sampling_rate", "range")),
]


@pytest.mark.parametrize(("obj", "expected"), ORIGINAL, ids=lambda v: type(v).__qualname__)
def test_original_validation_ground(obj: Any, expected: tuple[str, str]) -> None:
    assert expected in _verdicts(ir.errors(obj))


def test_original_valid_examples() -> None:
    assert ir.is_valid(exp())
    assert ir.is_valid(BackendRef(id="gpt4"))
    assert ir.is_valid(version(version="1.0.0-rc1"))
    assert ir.is_valid(feedback.Config(sampling_rate=0.0))
    assert ir.is_valid(feedback.Config(sampling_rate=1.0))
    assert ir.is_valid(reliability.Stats(alpha=0.01))
