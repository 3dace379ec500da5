"""The document types: the IR types that can be stored, sent and validated on their own.

Each has a short name (used by the CLI's ``--type`` and by :func:`document_type`) and carries
``schema_version``.
"""

from __future__ import annotations

from crucible.errors import NotFoundError
from crucible.ir import deployment, feedback, training
from crucible.ir.base import Document
from crucible.ir.experiment import Experiment
from crucible.ir.model import ModelRef, ModelVersion

__all__ = ["DOCUMENT_TYPES", "document_name", "document_type"]

DOCUMENT_TYPES: dict[str, type[Document]] = {
    "experiment": Experiment,
    "model_ref": ModelRef,
    "model_version": ModelVersion,
    "training_config": training.Config,
    "training_run": training.Run,
    "deployment_config": deployment.Config,
    "deployment_status": deployment.Status,
    "feedback_event": feedback.Event,
    "correction_event": feedback.CorrectionEvent,
    "labeling_task": feedback.LabelingTask,
}


def document_type(name: str) -> type[Document]:
    """The document type called ``name`` (``"experiment"``, ``"feedback_event"``...)."""
    try:
        return DOCUMENT_TYPES[name]
    except KeyError:
        known = ", ".join(DOCUMENT_TYPES)
        raise NotFoundError(f"no IR document type {name!r} (known: {known})") from None


def document_name(tp: type) -> str:
    """The short name of a document type."""
    for name, candidate in DOCUMENT_TYPES.items():
        if candidate is tp:
            return name
    raise NotFoundError(f"{tp.__qualname__} is not an IR document type")
