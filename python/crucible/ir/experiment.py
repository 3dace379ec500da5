"""Experiments: the top-level document, and the backend, stages, dataset and outputs it names.

An :class:`Experiment` needs an ``id``, a ``backend`` and a ``pipeline`` of at least one
stage; everything else is optional. ``StageDef.options`` and every ``options``/``metadata``
map are opaque: stage implementations validate their own options.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from crucible.ir.base import Document, Id, IRStruct, JsonObject, Timestamp, Url
from crucible.ir.dataset import DatasetRef
from crucible.ir.deployment import Config as DeploymentConfig
from crucible.ir.enums import (
    CachePolicy,
    Compression,
    DatasetFormat,
    DatasetProvider,
    DatasetSplit,
    ExperimentType,
    OutputFormat,
    OutputSink,
)
from crucible.ir.feedback import ABTestConfig
from crucible.ir.model import ModelRef, ModelVersion
from crucible.ir.reliability import Config as ReliabilityConfig
from crucible.ir.reliability import RateLimit, RetryConfig
from crucible.ir.training import Config as TrainingConfig

__all__ = [
    "BackendRef",
    "CachePolicy",
    "Compression",
    "DatasetFormat",
    "DatasetProvider",
    "DatasetRef",
    "DatasetSplit",
    "Experiment",
    "ExperimentType",
    "OutputFormat",
    "OutputSink",
    "OutputSpec",
    "StageDef",
]


class BackendRef(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The LLM backend an experiment calls, with an optional chain of fallbacks."""

    id: Id
    profile: Id = "default"
    options: JsonObject | None = None
    # v0.2
    model_version: str | None = None
    endpoint_url: Url | None = None
    deployment_id: Id | None = None
    fallback: BackendRef | None = None
    # v0.3
    rate_limit: RateLimit | None = None
    retry_config: RetryConfig | None = None


class StageDef(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One step of the pipeline. ``module`` names the implementation (a dotted path such as
    ``"crucible.pipeline.stages:Inference"``); ``options`` belong to it."""

    name: Id
    module: str | None = None
    options: JsonObject | None = None
    enabled: bool = True


class OutputSpec(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where and in which formats results are written.

    Sinks accept these formats: ``file`` and ``s3`` all of them, ``stdout`` markdown, json and
    csv, ``postgres`` json and csv. Compression and encryption need a ``file`` or ``s3`` sink.
    """

    name: Id
    formats: Annotated[list[OutputFormat], msgspec.Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: [OutputFormat.MARKDOWN]
    )
    sink: OutputSink = OutputSink.FILE
    options: JsonObject | None = None
    # v0.3
    compression: Compression | None = None
    partitioning: JsonObject | None = None
    retention_policy: JsonObject | None = None
    encryption: bool | None = None
    notification: JsonObject | None = None


class Experiment(Document, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A complete experiment: what to run, on what, with which reliability mechanisms."""

    id: Id
    backend: BackendRef
    pipeline: Annotated[list[StageDef], msgspec.Meta(min_length=1)]
    description: str | None = None
    owner: str | None = None
    tags: list[str] | None = None
    metadata: JsonObject | None = None
    dataset: DatasetRef | None = None
    reliability: ReliabilityConfig | None = None
    outputs: list[OutputSpec] | None = None
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
    # v0.2
    experiment_type: ExperimentType | None = None
    model_version: ModelVersion | None = None
    training_config: TrainingConfig | None = None
    baseline: ModelRef | None = None
    # v0.3
    ab_test: ABTestConfig | None = None
    deployment: DeploymentConfig | None = None
