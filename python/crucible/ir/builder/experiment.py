"""The builder of :class:`~crucible.ir.experiment.Experiment` documents."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
from msgspec.structs import replace

from crucible.errors import ErrorItem, InvalidArgumentError, NotFoundError
from crucible.ir import deployment as deploy
from crucible.ir import feedback as fb
from crucible.ir import reliability as rel
from crucible.ir import training
from crucible.ir.builder.coerce import changed, enum_member, make
from crucible.ir.builder.experiment_reliability import ReliabilitySteps
from crucible.ir.dataset import DatasetRef
from crucible.ir.enums import ExperimentType
from crucible.ir.experiment import BackendRef, Experiment, OutputSpec, StageDef
from crucible.ir.model import ModelRef, ModelVersion
from crucible.ir.validation import errors as validation_errors
from crucible.ir.validation import validate

__all__ = ["ExperimentBuilder", "experiment"]


class ExperimentBuilder(ReliabilitySteps, msgspec.Struct, frozen=True, kw_only=True):
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
        return replace(self, experiment_type=enum_member(ExperimentType, experiment_type))

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
            backend = make(BackendRef, id=backend, profile=profile, options=options, **fields)
        return replace(self, backend=backend)

    def update_backend(self, **changes: Any) -> ExperimentBuilder:
        return replace(self, backend=changed(self.backend, "backend", changes))

    def merge_backend_options(self, options: dict[str, Any]) -> ExperimentBuilder:
        current = changed(self.backend, "backend", {})
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
        pipeline[index] = changed(pipeline[index], f"stage {name!r}", changes)
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
            dataset = make(DatasetRef, name=dataset, **fields)
        return replace(self, dataset=dataset)

    def update_dataset(self, **changes: Any) -> ExperimentBuilder:
        return replace(self, dataset=changed(self.dataset, "dataset", changes))

    def remove_dataset(self) -> ExperimentBuilder:
        return replace(self, dataset=None)

    # --- outputs --------------------------------------------------------------------------

    def add_output(
        self, output: OutputSpec | str, *, formats: Sequence[str] | None = None, **fields: Any
    ) -> ExperimentBuilder:
        """Append an output: ``add_output("results", formats=["json", "html"], sink="s3")``."""
        if isinstance(output, str):
            if formats is not None:
                fields["formats"] = list(formats)
            output = make(OutputSpec, name=output, **fields)
        return replace(self, outputs=[*(self.outputs or []), output])

    def update_output(self, name: str, **changes: Any) -> ExperimentBuilder:
        outputs = list(self.outputs or [])
        for index, output in enumerate(outputs):
            if output.name == name:
                outputs[index] = changed(output, f"output {name!r}", changes)
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
            model = make(ModelVersion, model_id=model, version=version, **fields)
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
        config = make(training.Config, model_ref=model, dataset_ref=data, **fields)
        return replace(self, training_config=config)

    def update_training_config(self, **changes: Any) -> ExperimentBuilder:
        return replace(
            self, training_config=changed(self.training_config, "training_config", changes)
        )

    def remove_training_config(self) -> ExperimentBuilder:
        return replace(self, training_config=None)

    def with_baseline(self, model: ModelRef | str, **fields: Any) -> ExperimentBuilder:
        """Set the baseline model of a comparison: ``with_baseline("gpt3")``."""
        if isinstance(model, str):
            model = make(ModelRef, id=model, **fields)
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
            config = make(deploy.Config, id=config, model_version_id=model_version_id, **fields)
        return replace(self, deployment=config)

    def update_deployment(self, **changes: Any) -> ExperimentBuilder:
        return replace(self, deployment=changed(self.deployment, "deployment", changes))

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
