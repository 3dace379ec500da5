"""The model registry: models, their versions, artifacts, lineage and signatures.

:class:`ModelRef` and :class:`ModelVersion` carry the original v0.2 fields unchanged; the
registry facets seed 000 asks for (:class:`ModelArtifact`, :class:`ModelMetadata`,
:class:`ModelLineage`, :class:`ModelSignature`, :class:`ModelTag`) are new in v0.3 and hang
off them as optional fields.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from crucible.ir.base import (
    INT64_MAX,
    Document,
    Id,
    IRStruct,
    JsonObject,
    Metrics,
    NonNegativeInt,
    SemVer,
    Sha256,
    Timestamp,
    Url,
)
from crucible.ir.dataset import DatasetRef
from crucible.ir.enums import (
    ArtifactKind,
    FineTuningMethod,
    Framework,
    ModelArchitecture,
    ModelProvider,
    ModelStage,
    ModelTask,
)

__all__ = [
    "ArtifactKind",
    "FineTuningMethod",
    "Framework",
    "ModelArchitecture",
    "ModelArtifact",
    "ModelLineage",
    "ModelMetadata",
    "ModelProvider",
    "ModelRef",
    "ModelSignature",
    "ModelStage",
    "ModelTag",
    "ModelTask",
    "ModelVersion",
    "TensorSpec",
]


class ModelTag(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A key (and optional value) for finding models: ``{"key": "team", "value": "nlp"}``."""

    key: Id
    value: str | None = None


class ModelMetadata(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The model card: what the model is, who made it, under which license."""

    description: str | None = None
    authors: list[str] | None = None
    license: str | None = None
    homepage: Url | None = None
    paper_url: Url | None = None
    languages: list[str] | None = None
    datasets: list[str] | None = None
    intended_use: str | None = None
    limitations: str | None = None
    options: JsonObject | None = None


class ModelArtifact(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One stored file or directory of a model version (weights, tokenizer, config...)."""

    uri: Id
    kind: ArtifactKind = ArtifactKind.WEIGHTS
    format: str | None = None
    size_bytes: NonNegativeInt | None = None
    sha256: Sha256 | None = None
    created_at: Timestamp | None = None
    options: JsonObject | None = None


class TensorSpec(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One named input or output of a model: dtype and shape (-1 for a free dimension)."""

    name: Id
    dtype: Id
    shape: list[Annotated[int, msgspec.Meta(ge=-1, le=INT64_MAX)]] | None = None
    optional: bool = False


class ModelSignature(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a model takes and returns; input and output names are unique."""

    inputs: list[TensorSpec] = msgspec.field(default_factory=list)
    outputs: list[TensorSpec] = msgspec.field(default_factory=list)
    params: JsonObject | None = None


class ModelLineage(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where a version came from: its parent, base model, training run and data."""

    parent_model_id: Id | None = None
    parent_version: str | None = None
    base_model: Id | None = None
    training_run_id: Id | None = None
    training_dataset: DatasetRef | None = None
    fine_tuning_method: FineTuningMethod | None = None
    options: JsonObject | None = None


class ModelRef(Document, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A model in the registry (or at a provider), usable for training, evaluation or
    deployment."""

    id: Id
    name: str | None = None
    version: str | None = None
    provider: ModelProvider = ModelProvider.LOCAL
    framework: Framework = Framework.NX
    architecture: ModelArchitecture | None = None
    task: ModelTask | None = None
    artifact_uri: str | None = None
    metadata: JsonObject | None = None
    options: JsonObject | None = None
    # v0.3
    created_at: Timestamp | None = None
    card: ModelMetadata | None = None
    tags: list[ModelTag] | None = None


class ModelVersion(Document, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An immutable snapshot of a model, with its metrics and lineage."""

    id: Id
    model_id: Id
    version: SemVer
    stage: ModelStage = ModelStage.DEVELOPMENT
    training_run_id: Id | None = None
    metrics: Metrics | None = None
    artifact_uri: str | None = None
    parent_version: str | None = None
    description: str | None = None
    created_at: Timestamp | None = None
    created_by: str | None = None
    options: JsonObject | None = None
    # v0.3
    model_ref: ModelRef | None = None
    artifacts: list[ModelArtifact] | None = None
    signature: ModelSignature | None = None
    lineage: ModelLineage | None = None
    tags: list[ModelTag] | None = None
