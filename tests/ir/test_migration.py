"""Migration of documents written by the original CrucibleIR (v0.1, v0.2) to v0.3.

The files in ``legacy/`` are written as the original's Jason encoder wrote its structs (every
field present, ``nil`` as null, atoms as strings), from the examples of its documentation.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from ir_examples import DOCUMENT_EXAMPLES

import crucible.ir as ir
from crucible.errors import InvalidTypeError, SerializationError, ValidationError
from crucible.ir import deployment, feedback, training
from crucible.ir.experiment import Experiment
from crucible.ir.model import ModelVersion

LEGACY = Path(__file__).parent / "legacy"

# file -> (document type, version the document is detected as)
FILES: dict[str, tuple[type[Any], str]] = {
    "v0_1_experiment": (Experiment, "0.1.0"),
    "v0_1_builder_experiment": (Experiment, "0.1.0"),
    "v0_2_experiment_reliability": (Experiment, "0.2.0"),
    "v0_2_experiment_lifecycle": (Experiment, "0.2.0"),
    "v0_2_training_run": (training.Run, "0.2.0"),
    "v0_2_deployment_config": (deployment.Config, "0.2.0"),
    "v0_2_deployment_status": (deployment.Status, "0.2.0"),
    "v0_2_feedback_event": (feedback.Event, "0.2.0"),
    "v0_2_model_version": (ModelVersion, "0.2.0"),
}

# documents whose v0.2 free maps carry keys the typed v0.3 structs do not have
NEEDS_MIGRATION = {"v0_2_experiment_lifecycle", "v0_2_deployment_config"}


def _load(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((LEGACY / f"{name}.json").read_text())
    return doc


@pytest.mark.parametrize("name", list(FILES))
def test_detects_type_and_version(name: str) -> None:
    tp, version = FILES[name]
    doc = _load(name)
    assert ir.detect_type(doc) is tp
    assert ir.detect_version(doc) == version
    assert ir.detect_version(doc, tp) == version


@pytest.mark.parametrize("name", list(FILES))
def test_migrates_and_loads(name: str) -> None:
    tp, _ = FILES[name]
    doc = _load(name)
    before = json.dumps(doc)
    migrated = ir.migrate(doc, tp)
    assert json.dumps(doc) == before, "the input is not modified"
    assert migrated["schema_version"] == ir.CURRENT_SCHEMA_VERSION
    assert next(iter(migrated)) == "schema_version"
    obj = ir.from_dict(migrated, tp)
    assert obj.schema_version == "0.3.0"
    assert ir.migrate(migrated, tp) == migrated, "migrating a current document is a no-op"
    assert ir.from_json((LEGACY / f"{name}.json").read_bytes(), tp, upgrade=True) == obj
    assert ir.migrate(doc) == migrated, "the type is guessed when not given"


@pytest.mark.parametrize("name", sorted(set(FILES) - NEEDS_MIGRATION))
def test_legacy_documents_load_without_migration(name: str) -> None:
    """Every v0.3 change is additive, so a legacy document that does not rely on the v0.2
    free maps loads as it is."""
    tp, _ = FILES[name]
    obj = ir.from_json((LEGACY / f"{name}.json").read_bytes(), tp)
    assert obj == ir.from_json((LEGACY / f"{name}.json").read_bytes(), tp, upgrade=True)


@pytest.mark.parametrize("name", sorted(NEEDS_MIGRATION))
def test_free_maps_need_migration(name: str) -> None:
    tp, _ = FILES[name]
    with pytest.raises(ValidationError) as info:
        ir.from_json((LEGACY / f"{name}.json").read_bytes(), tp)
    assert "unknown_field" in {e.code for e in info.value.items}


def test_v0_1_experiment_content() -> None:
    exp = ir.from_json((LEGACY / "v0_1_experiment.json").read_bytes(), Experiment, upgrade=True)
    assert exp.id == "gpt4_benchmark"
    assert exp.backend.id == "openai_gpt4"
    assert [s.name for s in exp.pipeline] == ["preprocessing", "inference", "evaluation"]
    assert exp.dataset is not None
    assert exp.dataset.split == "test"
    assert exp.reliability is not None
    assert exp.reliability.ensemble is not None
    assert exp.reliability.ensemble.models == ["gpt4", "claude", "gemini"]
    assert exp.experiment_type is None
    assert ir.errors(exp) == []


def test_v0_1_builder_experiment_meets_the_new_rules() -> None:
    """The original accepted fairness without a group; v0.3 validation says so."""
    exp = ir.from_json(
        (LEGACY / "v0_1_builder_experiment.json").read_bytes(), Experiment, upgrade=True
    )
    assert [(e.path, e.code) for e in ir.errors(exp)] == [
        ("/reliability/fairness/group_by", "fairness.group_by_required")
    ]


def test_v0_2_deployment_maps_become_typed() -> None:
    config = ir.from_json(
        (LEGACY / "v0_2_deployment_config.json").read_bytes(), deployment.Config, upgrade=True
    )
    assert config.target == deployment.Target(type="kubernetes", namespace="ml")
    assert config.scaling == deployment.ScalingConfig(min_replicas=2, max_replicas=5)
    assert config.resources == deployment.ResourceSpec(cpu="2", memory="4Gi", gpu=1)
    assert config.health_check == deployment.HealthCheckConfig(
        path="/healthz", interval_seconds=15, timeout_seconds=3
    )
    assert config.endpoint == deployment.EndpointConfig(
        url="https://api.example.com/v1",
        options={"auth": {"token_env": "DEPLOYMENT_API_TOKEN"}},
    )
    assert ir.errors(config) == []


def test_v0_2_lifecycle_experiment() -> None:
    exp = ir.from_json(
        (LEGACY / "v0_2_experiment_lifecycle.json").read_bytes(), Experiment, upgrade=True
    )
    assert exp.backend.options == {"region": "us-east-1", "temperature": 0.7}
    assert exp.backend.fallback is not None
    assert exp.backend.fallback.id == "openai_gpt4"
    assert exp.pipeline[0].module == "Elixir.MyApp.Preprocessor"
    assert exp.pipeline[0].enabled is True, "a null where v0.3 has a default takes the default"
    rel = exp.reliability
    assert rel is not None
    assert rel.monitoring is not None
    assert rel.monitoring.interval_seconds == 30
    assert rel.monitoring.options == {"alerts": ["slack:#mlops"]}
    assert rel.drift is not None
    assert rel.drift.window_size == 500
    assert rel.drift.method == "psi"
    assert rel.circuit_breaker is not None
    assert rel.circuit_breaker.failure_threshold == 5
    assert rel.circuit_breaker.reset_timeout_ms == 30_000
    assert rel.feedback is not None
    assert rel.feedback.retraining_trigger is not None
    assert rel.feedback.retraining_trigger.min_feedback_count == 100
    assert rel.feedback.retraining_trigger.options == {"cron": "0 3 * * *"}
    assert exp.training_config is not None
    assert exp.training_config.early_stopping is not None
    stopping = exp.training_config.early_stopping
    assert (stopping.monitor, stopping.patience, stopping.min_delta) == ("val_loss", 3, 0.01)
    assert stopping.options == {"verbose": True}
    assert exp.training_config.schema_version == "0.3.0"
    assert exp.model_version is not None
    assert exp.model_version.schema_version == "0.3.0"
    assert exp.updated_at is not None
    assert exp.updated_at.utcoffset() is not None
    assert str(exp.updated_at.utcoffset()) == "1:00:00"
    assert ir.errors(exp) == []


def test_unknown_keys_without_a_home_are_dropped_with_a_warning() -> None:
    doc = _load("v0_2_deployment_status")
    doc["pod_names"] = ["a", "b"]
    with pytest.warns(ir.MigrationWarning, match="pod_names"):
        migrated = ir.migrate(doc, deployment.Status)
    assert "pod_names" not in migrated
    ir.from_dict(migrated, deployment.Status)


def test_unknown_keys_go_to_metadata_when_there_is_no_options() -> None:
    doc = _load("v0_1_experiment")
    doc["priority"] = "high"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        migrated = ir.migrate(doc, Experiment)
    assert migrated["metadata"] == {"priority": "high"}


@pytest.mark.parametrize("name", list(DOCUMENT_EXAMPLES))
def test_current_documents_come_back_unchanged(name: str) -> None:
    doc = ir.to_dict(DOCUMENT_EXAMPLES[name]())
    migrated = ir.migrate(doc, ir.DOCUMENT_TYPES[name])
    assert migrated == doc
    assert migrated is not doc


def test_newer_versions_are_refused() -> None:
    doc = ir.to_dict(DOCUMENT_EXAMPLES["feedback_event"]())
    doc["schema_version"] = "0.4.0"
    with pytest.raises(SerializationError, match="newer"):
        ir.migrate(doc, feedback.Event)
    doc["schema_version"] = "zero"
    with pytest.raises(SerializationError, match="unreadable"):
        ir.migrate(doc, feedback.Event)


def test_explicit_old_version_is_migrated() -> None:
    doc = _load("v0_2_deployment_config")
    doc["schema_version"] = "0.2.1"
    assert ir.migrate(doc, deployment.Config)["target"]["type"] == "kubernetes"


def test_ambiguous_and_unknown_documents() -> None:
    with pytest.raises(SerializationError, match="pass the type"):
        ir.detect_type({"id": "x"})  # a feedback event or a model reference
    with pytest.raises(SerializationError):
        ir.detect_type({"nothing": "here"})
    with pytest.raises(SerializationError):
        ir.migrate(["not", "a", "dict"])  # type: ignore[arg-type]


def test_upgrade_needs_a_document_type() -> None:
    with pytest.raises(InvalidTypeError):
        ir.from_json(b'{"name": "s"}', ir.StageDef, upgrade=True)  # type: ignore[type-var]


def test_jsonl_upgrade(tmp_path: Path) -> None:
    line = (LEGACY / "v0_2_feedback_event.json").read_text().replace("\n", "")
    path = tmp_path / "legacy.jsonl"
    path.write_text(line + "\n" + line + "\n")
    events = list(ir.decode_jsonl(path, feedback.Event, upgrade=True))
    assert len(events) == 2
    assert events[0].latency_ms == 120.0
