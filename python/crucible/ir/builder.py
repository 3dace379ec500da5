"""A fluent, immutable builder for experiments and reliability configurations.

Every step returns a new builder and leaves the old one untouched, so partial builders can be
shared and branched::

    from crucible.ir.builder import experiment

    base = experiment("gpt4_benchmark").with_backend("gpt4").add_stage("inference")
    exp = (
        base.with_dataset("mmlu", split="test")
        .with_ensemble("majority", models=["gpt4", "claude"])
        .with_stats(["ttest", "bootstrap"], alpha=0.01)
        .add_output("results", formats=["json", "html"])
        .build()
    )

``build()`` validates (structure and semantic rules) and raises
:class:`crucible.errors.ValidationError` listing every problem; ``errors()`` returns them
instead. Enum arguments take members or their string values; an unknown string is kept and
reported by ``build()`` with its JSON pointer rather than failing at the call.

The original's defaults are kept: ``with_fairness`` and ``with_feedback`` switch their
mechanism on unless told otherwise, ``with_model_version`` names the version
``<model>_<version with dots as underscores>`` and ``with_training_config`` names the
configuration ``train_<experiment id>``. Beyond the original: ``update_*`` (change fields of
a part that is set), ``remove_*`` (unset a part), ``merge_*`` (combine maps or configs),
``with_deployment``, ``with_monitoring`` and the other v0.3 parts, and a standalone
:class:`ReliabilityBuilder`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import msgspec
import msgspec.inspect as mi
from msgspec.structs import replace

from crucible.errors import ErrorItem, InvalidArgumentError, NotFoundError
from crucible.ir import deployment as deploy
from crucible.ir import feedback as fb
from crucible.ir import reliability as rel
from crucible.ir import training
from crucible.ir.dataset import DatasetRef
from crucible.ir.enums import (
    EnsembleStrategy,
    ExperimentType,
    HedgingStrategy,
    StatTest,
)
from crucible.ir.experiment import BackendRef, Experiment, OutputSpec, StageDef
from crucible.ir.model import ModelRef, ModelVersion
from crucible.ir.structure import type_info
from crucible.ir.validation import errors as validation_errors
from crucible.ir.validation import validate

__all__ = ["ExperimentBuilder", "ReliabilityBuilder", "experiment", "reliability_config"]

E = TypeVar("E", bound=enum.Enum)
P = TypeVar("P", bound=msgspec.Struct)

_PARTS = (
    "ensemble",
    "hedging",
    "guardrails",
    "stats",
    "fairness",
    "monitoring",
    "drift",
    "circuit_breaker",
    "feedback",
    "rate_limiting",
    "caching",
)


def _enum(cls: type[E], value: E | str) -> E | str:
    """The member for ``value`` if there is one; otherwise ``value`` itself, for ``build()``
    to report."""
    if isinstance(value, cls):
        return value
    try:
        return cls(value)
    except ValueError:
        return value


def _coerce(value: Any, t: mi.Type) -> Any:
    while isinstance(t, mi.Metadata):
        t = t.type
    if isinstance(t, mi.EnumType) and isinstance(value, str):
        return _enum(t.cls, value)
    if isinstance(t, mi.UnionType):
        for member in t.types:
            coerced = _coerce(value, member)
            if coerced is not value:
                return coerced
        return value
    if isinstance(t, mi.ListType) and isinstance(value, (list, tuple)):
        return [_coerce(item, t.item_type) for item in value]
    return value


def _make(cls: type[P], **fields: Any) -> P:
    """``cls(**fields)`` with enum values given as strings turned into members."""
    info = type_info(cls)
    assert isinstance(info, mi.StructType)
    types = {f.name: f.type for f in info.fields}
    coerced = {k: _coerce(v, types[k]) if k in types else v for k, v in fields.items()}
    return cls(**coerced)


def _changed(part: P | None, what: str, changes: dict[str, Any]) -> P:
    if part is None:
        raise NotFoundError(f"there is no {what} to update; set it first")
    try:
        return replace(part, **changes)
    except TypeError as exc:
        raise InvalidArgumentError(f"cannot update {what}: {exc}") from None


class ReliabilityBuilder(msgspec.Struct, frozen=True, kw_only=True):
    """Builds a :class:`crucible.ir.reliability.Config` one mechanism at a time."""

    config: rel.Config = msgspec.field(default_factory=rel.Config)

    def _set(self, part: str, value: Any) -> ReliabilityBuilder:
        return replace(self, config=replace(self.config, **{part: value}))

    def _update(self, part: str, changes: dict[str, Any]) -> ReliabilityBuilder:
        return self._set(part, _changed(getattr(self.config, part), part, changes))

    # ensemble, hedging, stats, fairness, guardrails: the original's five

    def with_ensemble(
        self, strategy: rel.Ensemble | EnsembleStrategy | str = "none", **fields: Any
    ) -> ReliabilityBuilder:
        """Set ensemble voting: ``with_ensemble("weighted", models=[...], weights={...})``."""
        if isinstance(strategy, rel.Ensemble):
            return self._set("ensemble", strategy)
        return self._set("ensemble", _make(rel.Ensemble, strategy=strategy, **fields))

    def with_hedging(
        self, strategy: rel.Hedging | HedgingStrategy | str = "off", **fields: Any
    ) -> ReliabilityBuilder:
        """Set request hedging: ``with_hedging("fixed", delay_ms=100)``."""
        if isinstance(strategy, rel.Hedging):
            return self._set("hedging", strategy)
        return self._set("hedging", _make(rel.Hedging, strategy=strategy, **fields))

    def with_stats(
        self, tests: rel.Stats | Sequence[StatTest | str] | None = None, **fields: Any
    ) -> ReliabilityBuilder:
        """Set statistical testing: ``with_stats(["ttest", "bootstrap"], alpha=0.01)``."""
        if isinstance(tests, rel.Stats):
            return self._set("stats", tests)
        if tests is not None:
            fields["tests"] = list(tests)
        return self._set("stats", _make(rel.Stats, **fields))

    def with_fairness(
        self, fairness: rel.Fairness | None = None, **fields: Any
    ) -> ReliabilityBuilder:
        """Set fairness checking (enabled unless ``enabled=False``)."""
        if fairness is None:
            fields.setdefault("enabled", True)
            fairness = _make(rel.Fairness, **fields)
        return self._set("fairness", fairness)

    def with_guardrails(
        self, guardrail: rel.Guardrail | None = None, **fields: Any
    ) -> ReliabilityBuilder:
        """Set security guardrails: ``with_guardrails(profiles=["strict"], pii_detection=True)``."""
        return self._set("guardrails", guardrail or _make(rel.Guardrail, **fields))

    # v0.2/v0.3 parts

    def with_feedback(self, config: fb.Config | None = None, **fields: Any) -> ReliabilityBuilder:
        """Set feedback collection (enabled unless ``enabled=False``)."""
        if config is None:
            fields.setdefault("enabled", True)
            config = _make(fb.Config, **fields)
        return self._set("feedback", config)

    def with_monitoring(
        self, monitoring: rel.Monitoring | None = None, **fields: Any
    ) -> ReliabilityBuilder:
        """Set runtime monitoring."""
        return self._set("monitoring", monitoring or _make(rel.Monitoring, **fields))

    def with_drift(
        self, drift: rel.DriftDetection | None = None, **fields: Any
    ) -> ReliabilityBuilder:
        """Set drift detection."""
        return self._set("drift", drift or _make(rel.DriftDetection, **fields))

    def with_circuit_breaker(
        self, breaker: rel.CircuitBreaker | None = None, **fields: Any
    ) -> ReliabilityBuilder:
        """Set a circuit breaker."""
        return self._set("circuit_breaker", breaker or _make(rel.CircuitBreaker, **fields))

    def with_rate_limiting(
        self, limit: rel.RateLimit | None = None, **fields: Any
    ) -> ReliabilityBuilder:
        """Set client-side rate limits."""
        return self._set("rate_limiting", limit or _make(rel.RateLimit, **fields))

    def with_caching(self, cache: rel.Cache | None = None, **fields: Any) -> ReliabilityBuilder:
        """Set response caching."""
        return self._set("caching", cache or _make(rel.Cache, **fields))

    # generic update / remove / merge

    def update(self, part: str, **changes: Any) -> ReliabilityBuilder:
        """Change fields of a part that is set: ``update("stats", alpha=0.01)``."""
        if part not in _PARTS:
            raise InvalidArgumentError(f"no reliability part {part!r} (known: {', '.join(_PARTS)})")
        return self._update(part, changes)

    def remove(self, part: str) -> ReliabilityBuilder:
        """Unset a part: ``remove("hedging")``."""
        if part not in _PARTS:
            raise InvalidArgumentError(f"no reliability part {part!r} (known: {', '.join(_PARTS)})")
        return self._set(part, None)

    def merge(self, other: rel.Config | ReliabilityBuilder) -> ReliabilityBuilder:
        """Take every part ``other`` sets, keep the others."""
        config = other.config if isinstance(other, ReliabilityBuilder) else other
        parts = {p: getattr(config, p) for p in _PARTS if getattr(config, p) is not None}
        return replace(self, config=replace(self.config, **parts))

    def update_ensemble(self, **changes: Any) -> ReliabilityBuilder:
        return self._update("ensemble", changes)

    def update_hedging(self, **changes: Any) -> ReliabilityBuilder:
        return self._update("hedging", changes)

    def update_stats(self, **changes: Any) -> ReliabilityBuilder:
        return self._update("stats", changes)

    def update_fairness(self, **changes: Any) -> ReliabilityBuilder:
        return self._update("fairness", changes)

    def update_guardrails(self, **changes: Any) -> ReliabilityBuilder:
        return self._update("guardrails", changes)

    def update_feedback(self, **changes: Any) -> ReliabilityBuilder:
        return self._update("feedback", changes)

    def update_monitoring(self, **changes: Any) -> ReliabilityBuilder:
        return self._update("monitoring", changes)

    def remove_ensemble(self) -> ReliabilityBuilder:
        return self._set("ensemble", None)

    def remove_hedging(self) -> ReliabilityBuilder:
        return self._set("hedging", None)

    def remove_stats(self) -> ReliabilityBuilder:
        return self._set("stats", None)

    def remove_fairness(self) -> ReliabilityBuilder:
        return self._set("fairness", None)

    def remove_guardrails(self) -> ReliabilityBuilder:
        return self._set("guardrails", None)

    def remove_feedback(self) -> ReliabilityBuilder:
        return self._set("feedback", None)

    def remove_monitoring(self) -> ReliabilityBuilder:
        return self._set("monitoring", None)

    def is_empty(self) -> bool:
        """Whether no part is set."""
        return all(getattr(self.config, p) is None for p in _PARTS)

    def errors(self) -> list[ErrorItem]:
        """Every error of the configuration built so far."""
        return validation_errors(self.config)

    def build(self) -> rel.Config:
        """The validated configuration; raises ValidationError listing every problem."""
        return validate(self.config)


def reliability_config() -> ReliabilityBuilder:
    """Start building a reliability configuration on its own."""
    return ReliabilityBuilder()


class ExperimentBuilder(msgspec.Struct, frozen=True, kw_only=True):
    """Builds an :class:`Experiment`; ``backend`` and ``pipeline`` may be missing until
    ``build()``."""

    id: str
    backend: BackendRef | None = None
    pipeline: list[StageDef] = msgspec.field(default_factory=list)
    description: str | None = None
    owner: str | None = None
    tags: list[str] | None = None
    metadata: dict[str, Any] | None = None
    dataset: DatasetRef | None = None
    reliability: rel.Config | None = None
    outputs: list[OutputSpec] | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    experiment_type: ExperimentType | str | None = None
    model_version: ModelVersion | None = None
    training_config: training.Config | None = None
    baseline: ModelRef | None = None
    ab_test: fb.ABTestConfig | None = None
    deployment: deploy.Config | None = None

    # --- description ----------------------------------------------------------------------

    def with_description(self, description: str) -> ExperimentBuilder:
        return replace(self, description=description)

    def remove_description(self) -> ExperimentBuilder:
        return replace(self, description=None)

    def with_owner(self, owner: str) -> ExperimentBuilder:
        return replace(self, owner=owner)

    def with_tags(self, *tags: str) -> ExperimentBuilder:
        """Replace the tags."""
        return replace(self, tags=list(tags))

    def add_tag(self, tag: str) -> ExperimentBuilder:
        return replace(self, tags=[*(self.tags or []), tag])

    def remove_tag(self, tag: str) -> ExperimentBuilder:
        return replace(self, tags=[t for t in self.tags or [] if t != tag] or None)

    def with_metadata(self, metadata: dict[str, Any]) -> ExperimentBuilder:
        """Replace the metadata."""
        return replace(self, metadata=dict(metadata))

    def merge_metadata(self, metadata: dict[str, Any]) -> ExperimentBuilder:
        """Add keys to the metadata (new values win)."""
        return replace(self, metadata={**(self.metadata or {}), **metadata})

    def with_timestamps(
        self, created_at: datetime | None = None, updated_at: datetime | None = None
    ) -> ExperimentBuilder:
        return replace(self, created_at=created_at, updated_at=updated_at)

    def with_experiment_type(self, experiment_type: ExperimentType | str) -> ExperimentBuilder:
        return replace(self, experiment_type=_enum(ExperimentType, experiment_type))

    # --- backend --------------------------------------------------------------------------

    def with_backend(
        self,
        backend: BackendRef | str,
        *,
        profile: str = "default",
        options: dict[str, Any] | None = None,
        **fields: Any,
    ) -> ExperimentBuilder:
        """Set the backend: ``with_backend("gpt4", profile="fast", options={...})``."""
        if isinstance(backend, str):
            backend = _make(BackendRef, id=backend, profile=profile, options=options, **fields)
        return replace(self, backend=backend)

    def update_backend(self, **changes: Any) -> ExperimentBuilder:
        return replace(self, backend=_changed(self.backend, "backend", changes))

    def merge_backend_options(self, options: dict[str, Any]) -> ExperimentBuilder:
        current = _changed(self.backend, "backend", {})
        return self.update_backend(options={**(current.options or {}), **options})

    # --- pipeline -------------------------------------------------------------------------

    def add_stage(
        self,
        stage: StageDef | str,
        *,
        module: str | None = None,
        options: dict[str, Any] | None = None,
        enabled: bool = True,
    ) -> ExperimentBuilder:
        """Append a stage to the pipeline."""
        if isinstance(stage, str):
            stage = StageDef(name=stage, module=module, options=options, enabled=enabled)
        return replace(self, pipeline=[*self.pipeline, stage])

    def _stage_index(self, name: str) -> int:
        for index, stage in enumerate(self.pipeline):
            if stage.name == name:
                return index
        raise NotFoundError(f"no stage named {name!r}")

    def update_stage(self, name: str, **changes: Any) -> ExperimentBuilder:
        """Change fields of the first stage called ``name``."""
        index = self._stage_index(name)
        pipeline = list(self.pipeline)
        pipeline[index] = _changed(pipeline[index], f"stage {name!r}", changes)
        return replace(self, pipeline=pipeline)

    def merge_stage_options(self, name: str, options: dict[str, Any]) -> ExperimentBuilder:
        stage = self.pipeline[self._stage_index(name)]
        return self.update_stage(name, options={**(stage.options or {}), **options})

    def remove_stage(self, name: str) -> ExperimentBuilder:
        """Remove every stage called ``name``."""
        self._stage_index(name)
        return replace(self, pipeline=[s for s in self.pipeline if s.name != name])

    # --- dataset --------------------------------------------------------------------------

    def with_dataset(self, dataset: DatasetRef | str, **fields: Any) -> ExperimentBuilder:
        """Set the dataset: ``with_dataset("mmlu", split="test")``."""
        if isinstance(dataset, str):
            dataset = _make(DatasetRef, name=dataset, **fields)
        return replace(self, dataset=dataset)

    def update_dataset(self, **changes: Any) -> ExperimentBuilder:
        return replace(self, dataset=_changed(self.dataset, "dataset", changes))

    def remove_dataset(self) -> ExperimentBuilder:
        return replace(self, dataset=None)

    # --- reliability ----------------------------------------------------------------------

    def _reliability(
        self, step: Callable[[ReliabilityBuilder], ReliabilityBuilder]
    ) -> ExperimentBuilder:
        current = ReliabilityBuilder(config=self.reliability or rel.Config())
        result = step(current)
        return replace(self, reliability=None if result.is_empty() else result.config)

    def with_reliability(self, config: rel.Config | ReliabilityBuilder) -> ExperimentBuilder:
        """Replace the whole reliability configuration."""
        if isinstance(config, ReliabilityBuilder):
            config = config.config
        return replace(self, reliability=config)

    def merge_reliability(self, config: rel.Config | ReliabilityBuilder) -> ExperimentBuilder:
        """Take every part ``config`` sets, keep the others."""
        return self._reliability(lambda r: r.merge(config))

    def remove_reliability(self) -> ExperimentBuilder:
        return replace(self, reliability=None)

    def with_ensemble(
        self, strategy: rel.Ensemble | EnsembleStrategy | str = "none", **fields: Any
    ) -> ExperimentBuilder:
        return self._reliability(lambda r: r.with_ensemble(strategy, **fields))

    def with_hedging(
        self, strategy: rel.Hedging | HedgingStrategy | str = "off", **fields: Any
    ) -> ExperimentBuilder:
        return self._reliability(lambda r: r.with_hedging(strategy, **fields))

    def with_stats(
        self, tests: rel.Stats | Sequence[StatTest | str] | None = None, **fields: Any
    ) -> ExperimentBuilder:
        return self._reliability(lambda r: r.with_stats(tests, **fields))

    def with_fairness(
        self, fairness: rel.Fairness | None = None, **fields: Any
    ) -> ExperimentBuilder:
        return self._reliability(lambda r: r.with_fairness(fairness, **fields))

    def with_guardrails(
        self, guardrail: rel.Guardrail | None = None, **fields: Any
    ) -> ExperimentBuilder:
        return self._reliability(lambda r: r.with_guardrails(guardrail, **fields))

    def with_feedback(self, config: fb.Config | None = None, **fields: Any) -> ExperimentBuilder:
        return self._reliability(lambda r: r.with_feedback(config, **fields))

    def with_monitoring(
        self, monitoring: rel.Monitoring | None = None, **fields: Any
    ) -> ExperimentBuilder:
        return self._reliability(lambda r: r.with_monitoring(monitoring, **fields))

    def with_drift(
        self, drift: rel.DriftDetection | None = None, **fields: Any
    ) -> ExperimentBuilder:
        return self._reliability(lambda r: r.with_drift(drift, **fields))

    def with_circuit_breaker(
        self, breaker: rel.CircuitBreaker | None = None, **fields: Any
    ) -> ExperimentBuilder:
        return self._reliability(lambda r: r.with_circuit_breaker(breaker, **fields))

    def with_rate_limiting(
        self, limit: rel.RateLimit | None = None, **fields: Any
    ) -> ExperimentBuilder:
        return self._reliability(lambda r: r.with_rate_limiting(limit, **fields))

    def with_caching(self, cache: rel.Cache | None = None, **fields: Any) -> ExperimentBuilder:
        return self._reliability(lambda r: r.with_caching(cache, **fields))

    def update_reliability(self, part: str, **changes: Any) -> ExperimentBuilder:
        """Change fields of a reliability part: ``update_reliability("stats", alpha=0.01)``."""
        return self._reliability(lambda r: r.update(part, **changes))

    def remove_reliability_part(self, part: str) -> ExperimentBuilder:
        return self._reliability(lambda r: r.remove(part))

    def update_ensemble(self, **changes: Any) -> ExperimentBuilder:
        return self.update_reliability("ensemble", **changes)

    def update_hedging(self, **changes: Any) -> ExperimentBuilder:
        return self.update_reliability("hedging", **changes)

    def update_stats(self, **changes: Any) -> ExperimentBuilder:
        return self.update_reliability("stats", **changes)

    def update_fairness(self, **changes: Any) -> ExperimentBuilder:
        return self.update_reliability("fairness", **changes)

    def update_guardrails(self, **changes: Any) -> ExperimentBuilder:
        return self.update_reliability("guardrails", **changes)

    def update_feedback(self, **changes: Any) -> ExperimentBuilder:
        return self.update_reliability("feedback", **changes)

    def update_monitoring(self, **changes: Any) -> ExperimentBuilder:
        return self.update_reliability("monitoring", **changes)

    def remove_ensemble(self) -> ExperimentBuilder:
        return self.remove_reliability_part("ensemble")

    def remove_hedging(self) -> ExperimentBuilder:
        return self.remove_reliability_part("hedging")

    def remove_stats(self) -> ExperimentBuilder:
        return self.remove_reliability_part("stats")

    def remove_fairness(self) -> ExperimentBuilder:
        return self.remove_reliability_part("fairness")

    def remove_guardrails(self) -> ExperimentBuilder:
        return self.remove_reliability_part("guardrails")

    def remove_feedback(self) -> ExperimentBuilder:
        return self.remove_reliability_part("feedback")

    def remove_monitoring(self) -> ExperimentBuilder:
        return self.remove_reliability_part("monitoring")

    # --- outputs --------------------------------------------------------------------------

    def add_output(
        self, output: OutputSpec | str, *, formats: Sequence[str] | None = None, **fields: Any
    ) -> ExperimentBuilder:
        """Append an output: ``add_output("results", formats=["json", "html"], sink="s3")``."""
        if isinstance(output, str):
            if formats is not None:
                fields["formats"] = list(formats)
            output = _make(OutputSpec, name=output, **fields)
        return replace(self, outputs=[*(self.outputs or []), output])

    def update_output(self, name: str, **changes: Any) -> ExperimentBuilder:
        outputs = list(self.outputs or [])
        for index, output in enumerate(outputs):
            if output.name == name:
                outputs[index] = _changed(output, f"output {name!r}", changes)
                return replace(self, outputs=outputs)
        raise NotFoundError(f"no output named {name!r}")

    def remove_output(self, name: str) -> ExperimentBuilder:
        outputs = [o for o in self.outputs or [] if o.name != name]
        if len(outputs) == len(self.outputs or []):
            raise NotFoundError(f"no output named {name!r}")
        return replace(self, outputs=outputs or None)

    # --- model lifecycle ------------------------------------------------------------------

    def with_model_version(
        self, model: ModelVersion | str, version: str | None = None, **fields: Any
    ) -> ExperimentBuilder:
        """Set the model version under evaluation: ``with_model_version("gpt2", "1.0.0")``."""
        if isinstance(model, str):
            if version is None:
                raise InvalidArgumentError("with_model_version(model_id, version) needs a version")
            fields.setdefault("id", f"{model}_{version.replace('.', '_')}")
            model = _make(ModelVersion, model_id=model, version=version, **fields)
        return replace(self, model_version=model)

    def remove_model_version(self) -> ExperimentBuilder:
        return replace(self, model_version=None)

    def with_training_config(
        self,
        model_ref: ModelRef | str | training.Config,
        dataset_ref: DatasetRef | str | None = None,
        **fields: Any,
    ) -> ExperimentBuilder:
        """Set the training configuration: ``with_training_config("gpt2", "wikitext",
        epochs=10)`` or a ready :class:`training.Config`."""
        if isinstance(model_ref, training.Config):
            return replace(self, training_config=model_ref)
        if dataset_ref is None:
            raise InvalidArgumentError(
                "with_training_config(model_ref, dataset_ref) needs a dataset"
            )
        model = ModelRef(id=model_ref) if isinstance(model_ref, str) else model_ref
        data = DatasetRef(name=dataset_ref) if isinstance(dataset_ref, str) else dataset_ref
        fields.setdefault("id", f"train_{self.id}")
        config = _make(training.Config, model_ref=model, dataset_ref=data, **fields)
        return replace(self, training_config=config)

    def update_training_config(self, **changes: Any) -> ExperimentBuilder:
        return replace(
            self, training_config=_changed(self.training_config, "training_config", changes)
        )

    def remove_training_config(self) -> ExperimentBuilder:
        return replace(self, training_config=None)

    def with_baseline(self, model: ModelRef | str, **fields: Any) -> ExperimentBuilder:
        """Set the baseline model of a comparison: ``with_baseline("gpt3")``."""
        if isinstance(model, str):
            model = _make(ModelRef, id=model, **fields)
        return replace(self, baseline=model)

    def remove_baseline(self) -> ExperimentBuilder:
        return replace(self, baseline=None)

    def with_deployment(
        self,
        config: deploy.Config | str,
        *,
        model_version_id: str | None = None,
        **fields: Any,
    ) -> ExperimentBuilder:
        """Set the deployment: ``with_deployment("deploy_prod", environment="production")``.
        The model version defaults to the experiment's."""
        if isinstance(config, str):
            if model_version_id is None:
                if self.model_version is None:
                    raise InvalidArgumentError(
                        "with_deployment needs model_version_id (or set with_model_version first)"
                    )
                model_version_id = self.model_version.id
            config = _make(deploy.Config, id=config, model_version_id=model_version_id, **fields)
        return replace(self, deployment=config)

    def update_deployment(self, **changes: Any) -> ExperimentBuilder:
        return replace(self, deployment=_changed(self.deployment, "deployment", changes))

    def remove_deployment(self) -> ExperimentBuilder:
        return replace(self, deployment=None)

    def with_ab_test(self, ab_test: fb.ABTestConfig) -> ExperimentBuilder:
        return replace(self, ab_test=ab_test)

    def remove_ab_test(self) -> ExperimentBuilder:
        return replace(self, ab_test=None)

    # --- finishing ------------------------------------------------------------------------

    def draft(self) -> Experiment:
        """The experiment as it stands, not validated (``backend`` may still be None)."""
        fields = {name: getattr(self, name) for name in self.__struct_fields__}
        return Experiment(**fields)

    def errors(self) -> list[ErrorItem]:
        """Every error ``build()`` would raise."""
        return validation_errors(self.draft())

    def build(self) -> Experiment:
        """The validated experiment; raises ValidationError listing every problem."""
        return validate(self.draft())


def experiment(id: str) -> ExperimentBuilder:
    """Start building an experiment with the given id."""
    return ExperimentBuilder(id=id)
