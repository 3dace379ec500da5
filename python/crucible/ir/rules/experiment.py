"""Rules of experiments, backends and outputs."""

from __future__ import annotations

from collections.abc import Iterator

from crucible.ir.dataset import schema_columns
from crucible.ir.enums import (
    ExperimentType,
    OutputFormat,
    OutputSink,
)
from crucible.ir.experiment import BackendRef, Experiment, OutputSpec
from crucible.ir.rules.registry import Finding, duplicates, pointer, rule


@rule("experiment.no_enabled_stage", Experiment)
def _no_enabled_stage(exp: Experiment) -> Iterator[Finding]:
    """At least one pipeline stage must be enabled."""
    if exp.pipeline and not any(stage.enabled for stage in exp.pipeline):
        yield pointer("pipeline"), "every stage is disabled: nothing would run"


@rule("experiment.duplicate_output_name", Experiment)
def _duplicate_output(exp: Experiment) -> Iterator[Finding]:
    """Output names are unique."""
    for index, output in duplicates(o.name for o in exp.outputs or []):
        yield pointer("outputs", index, "name"), f"output name {output!r} is used twice"


@rule("experiment.training_config_required", Experiment)
def _training_config_required(exp: Experiment) -> Iterator[Finding]:
    """A training experiment needs a training configuration."""
    if exp.experiment_type == ExperimentType.TRAINING and exp.training_config is None:
        yield pointer("training_config"), "a training experiment needs a training_config"


@rule("experiment.baseline_required", Experiment)
def _baseline_required(exp: Experiment) -> Iterator[Finding]:
    """A comparison experiment needs something to compare with: a baseline or an A/B test."""
    if (
        exp.experiment_type == ExperimentType.COMPARISON
        and exp.baseline is None
        and exp.ab_test is None
    ):
        yield pointer("baseline"), "a comparison experiment needs a baseline (or an ab_test)"


@rule("experiment.group_by_not_in_schema", Experiment)
def _group_by_in_schema(exp: Experiment) -> Iterator[Finding]:
    """Fairness ``group_by`` must be a column of the dataset schema, when a schema is given."""
    fairness = exp.reliability.fairness if exp.reliability else None
    if fairness is None or fairness.group_by is None:
        return
    if exp.dataset is None or exp.dataset.schema is None:
        return
    columns = schema_columns(exp.dataset.schema)
    if columns is not None and fairness.group_by not in columns:
        yield (
            pointer("reliability", "fairness", "group_by"),
            f"group_by {fairness.group_by!r} is not a column of the dataset schema "
            f"({', '.join(sorted(columns)) or 'no columns'})",
        )


@rule("experiment.deployment_model_mismatch", Experiment)
def _deployment_model(exp: Experiment) -> Iterator[Finding]:
    """A deployment in an experiment deploys the experiment's model version."""
    if exp.deployment is None or exp.model_version is None:
        return
    if exp.deployment.model_version_id != exp.model_version.id:
        yield (
            pointer("deployment", "model_version_id"),
            f"deploys {exp.deployment.model_version_id!r} but the experiment's model version "
            f"is {exp.model_version.id!r}",
        )


@rule("experiment.time_order", Experiment)
def _experiment_times(exp: Experiment) -> Iterator[Finding]:
    """``updated_at`` is not before ``created_at``."""
    if exp.created_at and exp.updated_at and exp.updated_at < exp.created_at:
        yield pointer("updated_at"), "updated_at is before created_at"


@rule("backend.fallback_cycle", BackendRef)
def _fallback_cycle(backend: BackendRef) -> Iterator[Finding]:
    """A fallback chain never comes back to a backend already in it."""
    seen = {backend.id}
    path: list[str | int] = []
    current = backend.fallback
    while current is not None:
        path.append("fallback")
        if current.id in seen:
            yield pointer(*path, "id"), f"fallback chain returns to backend {current.id!r}"
            return
        seen.add(current.id)
        current = current.fallback


_SINK_FORMATS = {
    OutputSink.FILE: set(OutputFormat),
    OutputSink.S3: set(OutputFormat),
    OutputSink.STDOUT: {OutputFormat.MARKDOWN, OutputFormat.JSON, OutputFormat.CSV},
    OutputSink.POSTGRES: {OutputFormat.JSON, OutputFormat.CSV},
}
_STORAGE_SINKS = {OutputSink.FILE, OutputSink.S3}


@rule("output.format_unsupported_by_sink", OutputSpec)
def _format_sink(output: OutputSpec) -> Iterator[Finding]:
    """Every format can be written to the sink: stdout takes markdown, json and csv; postgres
    takes json and csv; file and s3 take all."""
    allowed = _SINK_FORMATS.get(output.sink, set(OutputFormat))
    for index, fmt in enumerate(output.formats):
        if fmt not in allowed:
            yield (
                pointer("formats", index),
                f"sink {output.sink} cannot take format {fmt} "
                f"(it takes {', '.join(sorted(str(f) for f in allowed))})",
            )


@rule("output.duplicate_format", OutputSpec)
def _duplicate_format(output: OutputSpec) -> Iterator[Finding]:
    """A format is listed once."""
    for index, fmt in duplicates(output.formats):
        yield pointer("formats", index), f"format {fmt} is listed twice"


@rule("output.compression_unsupported_by_sink", OutputSpec)
def _compression_sink(output: OutputSpec) -> Iterator[Finding]:
    """Compression needs a storage sink (file or s3)."""
    if output.compression not in (None, "none") and output.sink not in _STORAGE_SINKS:
        yield pointer("compression"), f"sink {output.sink} cannot store compressed output"


@rule("output.encryption_unsupported_by_sink", OutputSpec)
def _encryption_sink(output: OutputSpec) -> Iterator[Finding]:
    """Encryption needs a storage sink (file or s3)."""
    if output.encryption and output.sink not in _STORAGE_SINKS:
        yield pointer("encryption"), f"sink {output.sink} cannot store encrypted output"
