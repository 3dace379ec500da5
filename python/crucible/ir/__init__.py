"""crucible.ir: the experiment IR — typed, validated, stable JSON.

The common language of the toolkit: an :class:`Experiment`, the model it trains or
evaluates, how that model is deployed and what feedback comes back. Types are frozen msgspec
Structs grouped by domain:

* :mod:`crucible.ir.experiment` — ``Experiment``, ``BackendRef``, ``DatasetRef``,
  ``StageDef``, ``OutputSpec``
* :mod:`crucible.ir.reliability` — ``Config``, ``Ensemble``, ``Hedging``, ``Stats``,
  ``Fairness``, ``Guardrail``, ``Monitoring``, ``DriftDetection``, ``CircuitBreaker``,
  ``RateLimit``, ``RetryConfig``, ``Cache``, ``Feedback``
* :mod:`crucible.ir.model` — ``ModelRef``, ``ModelVersion``, ``ModelArtifact``,
  ``ModelMetadata``, ``ModelLineage``, ``ModelSignature``, ``ModelTag``
* :mod:`crucible.ir.training` — ``Config``, ``Run``, ``CheckpointRef`` and the
  optimizer/scheduler/data-loader/loss/early-stopping/regularization configurations
* :mod:`crucible.ir.deployment` — ``Config``, ``Status``, ``Target``, ``ResourceSpec``,
  ``ScalingConfig``, ``HealthCheckConfig``, ``EndpointConfig``, ``CanaryConfig``,
  ``RollbackConfig``
* :mod:`crucible.ir.feedback` — ``Event``, ``Config``, ``LabelingTask``, ``CorrectionEvent``,
  ``DriftDetectionConfig``, ``RetrainingTrigger``, ``ABTestConfig``

Around them: :func:`to_json`/:func:`from_json` (and dicts, JSONL streams, :func:`peek`),
:func:`validate`/:func:`errors`/:func:`is_valid`, raw and bulk validation
(:func:`validate_json`, :func:`validate_jsonl`; structure and semantic rules in Rust),
:func:`migrate` for v0.1/v0.2 documents,
:func:`canonical_json`/:func:`fingerprint` (RFC 8785) and the fluent builder
(``crucible.ir.builder.experiment("id")...build()``).
"""

from __future__ import annotations

from crucible.ir import (
    builder,
    deployment,
    enums,
    experiment,
    feedback,
    model,
    reliability,
    rules,
    training,
)
from crucible.ir.base import CURRENT_SCHEMA_VERSION, Document, IRStruct
from crucible.ir.builder import ExperimentBuilder, ReliabilityBuilder, reliability_config
from crucible.ir.bulk import LineError, validate_json, validate_jsonl
from crucible.ir.canonical import canonical_json, canonicalize, fingerprint
from crucible.ir.dataset import DatasetRef
from crucible.ir.documents import DOCUMENT_TYPES, document_name, document_type
from crucible.ir.experiment import BackendRef, Experiment, OutputSpec, StageDef
from crucible.ir.migration import MigrationWarning, detect_type, detect_version, migrate
from crucible.ir.model import (
    ModelArtifact,
    ModelLineage,
    ModelMetadata,
    ModelRef,
    ModelSignature,
    ModelTag,
    ModelVersion,
    TensorSpec,
)
from crucible.ir.rules import RULES, rule_codes
from crucible.ir.serialization import (
    decode_jsonl,
    encode_jsonl,
    from_dict,
    from_json,
    peek,
    schema,
    to_dict,
    to_json,
    write_jsonl,
)
from crucible.ir.validation import document_errors, errors, is_valid, validate

__all__ = [
    "CURRENT_SCHEMA_VERSION",
    "DOCUMENT_TYPES",
    "RULES",
    "BackendRef",
    "DatasetRef",
    "Document",
    "Experiment",
    "ExperimentBuilder",
    "IRStruct",
    "LineError",
    "MigrationWarning",
    "ModelArtifact",
    "ModelLineage",
    "ModelMetadata",
    "ModelRef",
    "ModelSignature",
    "ModelTag",
    "ModelVersion",
    "OutputSpec",
    "ReliabilityBuilder",
    "StageDef",
    "TensorSpec",
    "builder",
    "canonical_json",
    "canonicalize",
    "decode_jsonl",
    "deployment",
    "detect_type",
    "detect_version",
    "document_errors",
    "document_name",
    "document_type",
    "encode_jsonl",
    "enums",
    "errors",
    "experiment",
    "feedback",
    "fingerprint",
    "from_dict",
    "from_json",
    "is_valid",
    "migrate",
    "model",
    "peek",
    "reliability",
    "reliability_config",
    "rule_codes",
    "rules",
    "schema",
    "to_dict",
    "to_json",
    "training",
    "validate",
    "validate_json",
    "validate_jsonl",
    "write_jsonl",
]
