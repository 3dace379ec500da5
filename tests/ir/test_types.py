"""Conformance of the IR types: fields, defaults, enum sets, immutability, schema."""

from __future__ import annotations

import enum
import re
from typing import Any

import msgspec
import pytest
from ir_strategies import ALL_TYPES

import crucible.ir as ir
from crucible.errors import NotFoundError, ValidationError
from crucible.ir import deployment, enums, feedback, reliability, training
from crucible.ir.dataset import DatasetRef
from crucible.ir.experiment import BackendRef, Experiment, OutputSpec, StageDef
from crucible.ir.model import ModelRef, ModelVersion

# --- the original's field lists (CrucibleIR 0.2.1 serializer) are kept, in order ----------

ORIGINAL_FIELDS: dict[type, str] = {
    Experiment: "id backend pipeline description owner tags metadata dataset reliability "
    "outputs created_at updated_at experiment_type model_version training_config baseline",
    BackendRef: "id profile options model_version endpoint_url deployment_id fallback",
    StageDef: "name module options enabled",
    DatasetRef: "name provider split options version format schema",
    OutputSpec: "name formats sink options",
    reliability.Config: "ensemble hedging guardrails stats fairness monitoring drift "
    "circuit_breaker feedback",
    reliability.Ensemble: "strategy execution_mode models weights min_agreement timeout_ms options",
    reliability.Hedging: "strategy delay_ms percentile max_hedges budget_percent options",
    reliability.Stats: "tests alpha confidence_level effect_size_type "
    "multiple_testing_correction bootstrap_iterations options",
    reliability.Fairness: "enabled metrics group_by threshold fail_on_violation options",
    reliability.Guardrail: "profiles prompt_injection_detection jailbreak_detection "
    "pii_detection pii_redaction content_moderation fail_on_detection options",
    ModelRef: "id name version provider framework architecture task artifact_uri metadata options",
    ModelVersion: "id model_id version stage training_run_id metrics artifact_uri "
    "parent_version description created_at created_by options",
    training.Config: "id model_ref dataset_ref epochs batch_size learning_rate optimizer "
    "loss_function metrics validation_split device seed mixed_precision gradient_clipping "
    "early_stopping checkpoint_every options",
    training.Run: "id config status current_epoch metrics_history best_metrics checkpoint_uris "
    "final_model_version started_at completed_at error_message options",
    deployment.Config: "id model_version_id target replicas resources scaling environment "
    "strategy health_check endpoint metadata options",
    deployment.Status: "id deployment_id state ready_replicas total_replicas endpoint_url "
    "traffic_percent health last_health_check error_message created_at updated_at",
    feedback.Event: "id deployment_id model_version input output feedback_type feedback_value "
    "user_id session_id latency_ms timestamp metadata",
    feedback.Config: "enabled sampling_rate feedback_types storage retention_days anonymize_pii "
    "drift_detection retraining_trigger options",
}


def _fields(tp: type[Any]) -> list[str]:
    names = list(tp.__struct_fields__)
    return names[1:] if names and names[0] == "schema_version" else names


@pytest.mark.parametrize("tp", list(ORIGINAL_FIELDS), ids=lambda t: t.__qualname__)
def test_original_fields_come_first_in_order(tp: type[Any]) -> None:
    original = ORIGINAL_FIELDS[tp].split()
    assert _fields(tp)[: len(original)] == original


# --- defaults -----------------------------------------------------------------------------

DEFAULTS: list[tuple[Any, dict[str, Any]]] = [
    (BackendRef(id="gpt4"), {"profile": "default", "options": None, "fallback": None}),
    (
        DatasetRef(name="mmlu"),
        {"provider": "crucible_datasets", "split": "train", "format": None, "schema": None},
    ),
    (StageDef(name="run"), {"enabled": True, "module": None, "options": None}),
    (OutputSpec(name="results"), {"formats": ["markdown"], "sink": "file", "compression": None}),
    (
        Experiment(id="e", backend=BackendRef(id="b"), pipeline=[StageDef(name="s")]),
        {
            "schema_version": "0.3.0",
            "description": None,
            "dataset": None,
            "reliability": None,
            "outputs": None,
            "experiment_type": None,
            "model_version": None,
            "training_config": None,
            "baseline": None,
            "ab_test": None,
            "deployment": None,
        },
    ),
    (reliability.Ensemble(), {"strategy": "none", "execution_mode": "parallel", "models": None}),
    (reliability.Hedging(), {"strategy": "off", "delay_ms": None, "percentile": None}),
    (reliability.Stats(), {"tests": ["ttest", "bootstrap"], "alpha": 0.05}),
    (reliability.Fairness(), {"enabled": False, "metrics": None, "group_by": None}),
    (reliability.Guardrail(), {"profiles": ["default"], "pii_detection": None}),
    (
        reliability.Config(),
        dict.fromkeys(["ensemble", "hedging", "stats", "monitoring", "caching"]),
    ),
    (
        reliability.Monitoring(),
        {"enabled": True, "interval_seconds": 60, "sampling_rate": 1.0},
    ),
    (
        reliability.CircuitBreaker(),
        {"failure_threshold": 5, "reset_timeout_ms": 30_000, "half_open_max_calls": 1},
    ),
    (reliability.RateLimit(), {"strategy": "token_bucket", "requests_per_second": None}),
    (
        reliability.RetryConfig(),
        {"max_retries": 3, "initial_delay_ms": 100, "backoff_multiplier": 2.0, "jitter": True},
    ),
    (reliability.Cache(), {"enabled": True, "backend": "memory", "semantic": False}),
    (ModelRef(id="m"), {"provider": "local", "framework": "nx", "task": None}),
    (
        ModelVersion(id="v", model_id="m", version="1.0.0"),
        {"stage": "development", "metrics": None, "lineage": None},
    ),
    (
        training.Config(id="t", model_ref=ModelRef(id="m"), dataset_ref=DatasetRef(name="d")),
        {
            "epochs": 1,
            "batch_size": 32,
            "learning_rate": 0.001,
            "optimizer": "adam",
            "loss_function": "cross_entropy",
            "metrics": ["loss", "accuracy"],
            "device": "cpu",
            "mixed_precision": False,
            "validation_split": None,
            "scheduler": None,
        },
    ),
    (
        training.Run(
            id="r",
            config=training.Config(
                id="t", model_ref=ModelRef(id="m"), dataset_ref=DatasetRef(name="d")
            ),
        ),
        {"status": "pending", "current_epoch": None, "checkpoints": None},
    ),
    (training.EarlyStoppingConfig(), {"monitor": "val_loss", "mode": "min", "patience": 3}),
    (training.SchedulerConfig(), {"type": "constant", "warmup_steps": 0}),
    (training.DataLoaderConfig(), {"shuffle": True, "num_workers": 0, "drop_last": False}),
    (training.LossConfig(), {"reduction": "mean"}),
    (
        deployment.Config(id="d", model_version_id="v"),
        {"replicas": 1, "environment": "development", "strategy": "rolling", "canary": None},
    ),
    (
        deployment.Status(id="s", deployment_id="d"),
        {"state": "pending", "health": "unknown", "ready_replicas": None},
    ),
    (deployment.Target(), {"type": "local", "namespace": None}),
    (deployment.ScalingConfig(), {"min_replicas": 1, "max_replicas": None}),
    (
        deployment.HealthCheckConfig(),
        {"protocol": "http", "path": "/health", "interval_seconds": 10, "timeout_seconds": 5},
    ),
    (deployment.EndpointConfig(), {"protocol": "https", "auth": "none"}),
    (
        deployment.CanaryConfig(),
        {"initial_traffic_percent": 10.0, "step_percent": 10.0, "max_traffic_percent": 100.0},
    ),
    (deployment.RollbackConfig(), {"automatic": True, "window_seconds": 300}),
    (
        feedback.Config(),
        {
            "enabled": False,
            "sampling_rate": 1.0,
            "feedback_types": ["thumbs", "correction"],
            "storage": "postgres",
            "anonymize_pii": True,
            "retention_days": None,
        },
    ),
    (feedback.Event(id="evt"), {"feedback_type": "thumbs", "feedback_value": None}),
    (
        feedback.DriftDetectionConfig(),
        {"enabled": True, "method": "psi", "drift_type": "data", "threshold": 0.2},
    ),
    (feedback.RetrainingTrigger(), {"enabled": True, "cooldown_hours": 24.0}),
    (
        feedback.LabelingTask(id="t", labels=["a"]),
        {"status": "pending", "annotators_required": 1, "multi_label": False},
    ),
]


@pytest.mark.parametrize(("obj", "expected"), DEFAULTS, ids=lambda v: type(v).__qualname__)
def test_defaults(obj: Any, expected: dict[str, Any]) -> None:
    for name, value in expected.items():
        assert getattr(obj, name) == value, name


def test_default_lists_are_not_shared() -> None:
    a, b = reliability.Stats(), reliability.Stats()
    assert a.tests == b.tests
    assert a.tests is not b.tests


# --- enum sets ----------------------------------------------------------------------------

ENUM_VALUES: dict[type[enum.Enum], str] = {
    enums.DatasetProvider: "crucible_datasets huggingface local custom",
    enums.DatasetSplit: "train test validation",
    enums.DatasetFormat: "parquet csv jsonl arrow",
    enums.CachePolicy: "always never if_local",
    enums.OutputFormat: "markdown json html latex csv",
    enums.OutputSink: "file stdout s3 postgres",
    enums.Compression: "none gzip snappy zstd",
    enums.ExperimentType: "evaluation training comparison ablation",
    enums.EnsembleStrategy: "none majority weighted best_confidence unanimous",
    enums.ExecutionMode: "parallel sequential hedged cascade",
    enums.HedgingStrategy: "off fixed percentile adaptive workload_aware exponential_backoff",
    enums.GuardrailProfile: "default strict moderate permissive",
    enums.StatTest: "ttest bootstrap anova mannwhitney wilcoxon kruskal",
    enums.EffectSizeType: "cohens_d eta_squared omega_squared",
    enums.CorrectionMethod: "bonferroni holm fdr",
    enums.FairnessMetric: "demographic_parity equalized_odds equal_opportunity predictive_parity",
    enums.ModelProvider: "local huggingface openai anthropic s3 gcs",
    enums.Framework: "nx pytorch tensorflow onnx safetensors",
    enums.ModelArchitecture: "transformer lstm cnn mlp",
    enums.ModelTask: "text_classification text_generation embedding qa summarization",
    enums.ModelStage: "development staging production archived",
    enums.Optimizer: "adam sgd adamw rmsprop",
    enums.LossFunction: "cross_entropy mse mae bce",
    enums.Device: "cpu cuda mps tpu",
    enums.RunStatus: "pending running completed failed cancelled",
    enums.Environment: "development staging production",
    enums.DeploymentStrategy: "rolling blue_green canary recreate",
    enums.DeploymentState: "pending deploying active degraded failed terminated",
    enums.HealthStatus: "unknown healthy unhealthy degraded",
    enums.TargetType: "kubernetes docker lambda fly local",
    enums.FeedbackStorage: "postgres s3 bigquery local",
    enums.FeedbackType: "thumbs rating correction label flag",
    enums.RateLimitStrategy: "token_bucket sliding_window fixed_window",
    enums.CacheBackend: "memory disk redis",
    enums.ArtifactKind: "weights tokenizer config checkpoint adapter other",
    enums.FineTuningMethod: "full lora qlora adapter prefix distillation rlhf dpo",
    enums.SchedulerType: "constant step multistep exponential cosine cosine_with_restarts "
    "linear polynomial one_cycle reduce_on_plateau",
    enums.LossReduction: "mean sum none",
    enums.EarlyStoppingMode: "min max",
    enums.NetworkProtocol: "http https grpc tcp",
    enums.AuthType: "none api_key bearer oauth2 mtls",
    enums.DriftMethod: "ks psi chi_squared wasserstein kl_divergence js_divergence",
    enums.DriftType: "data prediction concept",
    enums.LabelingStatus: "pending in_progress completed cancelled",
}


def test_every_enum_is_pinned() -> None:
    declared = {getattr(enums, name) for name in enums.__all__}
    assert declared == set(ENUM_VALUES)


@pytest.mark.parametrize("cls", list(ENUM_VALUES), ids=lambda c: c.__name__)
def test_enum_values(cls: type[enum.Enum]) -> None:
    assert [m.value for m in cls] == ENUM_VALUES[cls].split()
    for member in cls:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", member.value)
        assert member == member.value  # a str enum: compares equal to its value
        assert hash(member) == hash(member.value)
        assert str(member) == member.value
        assert msgspec.json.encode(member) == f'"{member.value}"'.encode()


def test_enum_strings_and_members_interchange() -> None:
    assert "stdout" in {enums.OutputSink.STDOUT}
    assert {"majority": 1}[enums.EnsembleStrategy.MAJORITY] == 1
    assert reliability.Ensemble(strategy="majority") == reliability.Ensemble(
        strategy=enums.EnsembleStrategy.MAJORITY
    )


def test_unknown_enum_value_fails_to_decode() -> None:
    with pytest.raises(ValidationError) as info:
        ir.from_json(b'{"strategy": "plurality"}', reliability.Ensemble)
    assert info.value.items[0][:2] == ("/strategy", "enum")


# --- struct behaviour ---------------------------------------------------------------------


@pytest.mark.parametrize("tp", ALL_TYPES, ids=lambda t: f"{t.__module__}.{t.__qualname__}")
def test_struct_is_frozen_kw_only_and_strict(tp: type[Any]) -> None:
    config = tp.__struct_config__
    assert config.frozen
    assert config.forbid_unknown_fields
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", name) for name in tp.__struct_fields__)
    with pytest.raises(TypeError):
        tp("positional")


def test_frozen_assignment_fails() -> None:
    stage = StageDef(name="run")
    with pytest.raises(AttributeError):
        stage.name = "other"  # type: ignore[misc]


def test_required_fields_are_enforced() -> None:
    with pytest.raises(TypeError):
        BackendRef()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Experiment(id="e", backend=BackendRef(id="b"))  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        ModelVersion(id="v", model_id="m")  # type: ignore[call-arg]


@pytest.mark.parametrize("name", list(ir.DOCUMENT_TYPES))
def test_documents_start_with_schema_version(name: str) -> None:
    tp = ir.DOCUMENT_TYPES[name]
    assert tp.__struct_fields__[0] == "schema_version"
    assert issubclass(tp, ir.Document)
    assert ir.document_type(name) is tp
    assert ir.document_name(tp) == name


def test_unknown_document_name() -> None:
    with pytest.raises(NotFoundError):
        ir.document_type("nope")


def test_aliases_are_the_same_types() -> None:
    assert reliability.Feedback is feedback.Config
    assert reliability.DriftDetection is feedback.DriftDetectionConfig
    assert ir.experiment.DatasetRef is DatasetRef


# --- JSON Schema carries the constraints --------------------------------------------------


def _definition(tp: type[Any], name: str) -> dict[str, Any]:
    schema = ir.schema(tp)
    defs = schema["$defs"]
    return defs[name] if name in defs else defs[next(k for k in defs if k.endswith(name))]


def _prop(defn: dict[str, Any], name: str) -> dict[str, Any]:
    prop: dict[str, Any] = defn["properties"][name]
    if "anyOf" in prop:
        prop = next(p for p in prop["anyOf"] if p.get("type") != "null")
    return {key: value for key, value in prop.items() if key != "default"}


def test_schema_carries_constraints() -> None:
    stats = _definition(Experiment, "Stats")
    assert _prop(stats, "alpha") == {
        "type": "number",
        "exclusiveMinimum": 0.0,
        "exclusiveMaximum": 1.0,
    }
    hedging = _definition(Experiment, "Hedging")
    assert _prop(hedging, "delay_ms")["minimum"] == 0
    assert _prop(hedging, "percentile") == {
        "type": "number",
        "exclusiveMinimum": 0.0,
        "maximum": 1.0,
    }
    experiment = _definition(Experiment, "Experiment")
    assert experiment["properties"]["pipeline"]["minItems"] == 1
    assert set(experiment["required"]) == {"id", "backend", "pipeline"}
    assert experiment["additionalProperties"] is False
    version = _definition(ModelVersion, "ModelVersion")
    assert version["properties"]["version"]["pattern"] == r"^\d+\.\d+\.\d+"
    ensemble = _definition(Experiment, "EnsembleStrategy")
    assert sorted(ensemble["enum"]) == sorted(ENUM_VALUES[enums.EnsembleStrategy].split())
    feedback_config = _definition(Experiment, "crucible.ir.feedback.Config")
    assert _prop(feedback_config, "sampling_rate") == {
        "type": "number",
        "minimum": 0.0,
        "maximum": 1.0,
    }


@pytest.mark.parametrize("name", list(ir.DOCUMENT_TYPES))
def test_every_document_has_a_schema(name: str) -> None:
    schema = ir.schema(ir.DOCUMENT_TYPES[name])
    assert "$defs" in schema
    for definition in schema["$defs"].values():
        if definition.get("type") == "object":
            assert definition["additionalProperties"] is False
