"""Rules of the model registry types."""

from __future__ import annotations

from collections.abc import Iterator

from crucible.ir.model import ModelRef, ModelSignature, ModelVersion
from crucible.ir.rules.registry import Finding, duplicates, pointer, rule


@rule("model.duplicate_tag", ModelRef, ModelVersion)
def _model_tags(model: ModelRef | ModelVersion) -> Iterator[Finding]:
    """A tag key is used once."""
    for index, key in duplicates(tag.key for tag in model.tags or []):
        yield pointer("tags", index, "key"), f"tag {key!r} is used twice"


@rule("model_version.parent_is_self", ModelVersion)
def _parent_self(version: ModelVersion) -> Iterator[Finding]:
    """A version is not its own parent."""
    if version.parent_version == version.version:
        yield pointer("parent_version"), "a version cannot be its own parent"
    lineage = version.lineage
    if (
        lineage is not None
        and lineage.parent_version == version.version
        and lineage.parent_model_id in (None, version.model_id)
    ):
        yield pointer("lineage", "parent_version"), "a version cannot be its own parent"


@rule("model_version.model_mismatch", ModelVersion)
def _version_model(version: ModelVersion) -> Iterator[Finding]:
    """An embedded model reference is the version's model."""
    if version.model_ref is not None and version.model_ref.id != version.model_id:
        yield (
            pointer("model_ref", "id"),
            f"model_ref {version.model_ref.id!r} differs from model_id {version.model_id!r}",
        )


@rule("model_version.lineage_run_mismatch", ModelVersion)
def _version_run(version: ModelVersion) -> Iterator[Finding]:
    """Lineage and version agree on the training run."""
    lineage_run = version.lineage.training_run_id if version.lineage else None
    if lineage_run and version.training_run_id and lineage_run != version.training_run_id:
        yield (
            pointer("lineage", "training_run_id"),
            f"lineage names run {lineage_run!r} but the version names {version.training_run_id!r}",
        )


@rule("signature.duplicate_name", ModelSignature)
def _signature_names(signature: ModelSignature) -> Iterator[Finding]:
    """Input names are unique, and so are output names."""
    for side in ("inputs", "outputs"):
        specs = getattr(signature, side)
        for index, name in duplicates(spec.name for spec in specs):
            yield pointer(side, index, "name"), f"{side[:-1]} {name!r} is declared twice"
