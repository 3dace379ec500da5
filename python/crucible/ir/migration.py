"""Upgrading documents written by older versions of the IR.

Version history
---------------
**0.1.0** (original CrucibleIR, 2025-11): ``Experiment``, ``BackendRef``, ``DatasetRef``,
``StageDef``, ``OutputSpec`` and the reliability configs (``Ensemble``, ``Hedging``,
``Stats``, ``Fairness``, ``Guardrail``). No ``schema_version`` field.

**0.2.0** (original, 2025-12), additive over 0.1: ``Experiment`` gains ``experiment_type``,
``model_version``, ``training_config``, ``baseline``; ``BackendRef`` gains ``model_version``,
``endpoint_url``, ``deployment_id``, ``fallback``; ``DatasetRef`` gains ``version``,
``format``, ``schema``; ``Reliability.Config`` gains ``monitoring``, ``drift``,
``circuit_breaker`` (free maps) and ``feedback``; new documents ``ModelRef``,
``ModelVersion``, ``Training.Config``/``Run``, ``Deployment.Config``/``Status``,
``Feedback.Config``/``Event``. Still no ``schema_version``. A 0.1 document is a valid 0.2
document, so 0.1 → 0.2 changes no data.

**0.3.0** (this library):

* every document carries ``schema_version`` (first key);
* the v0.2 free maps are typed: ``reliability.monitoring``/``drift``/``circuit_breaker``,
  ``deployment.target``/``resources``/``scaling``/``health_check``/``endpoint``,
  ``feedback.drift_detection``/``retraining_trigger`` and ``training.early_stopping``. The
  migration renames the v0.2 keys that have a typed equivalent (``target.provider`` →
  ``type``, ``scaling.min``/``max`` → ``min_replicas``/``max_replicas``, ``resources.gpus`` →
  ``gpu``, ``health_check.interval``/``timeout`` → ``interval_seconds``/``timeout_seconds``,
  ``early_stopping.metric`` → ``monitor``, ``circuit_breaker.threshold``/``timeout_ms`` →
  ``failure_threshold``/``reset_timeout_ms``, ``drift.window`` → ``window_size``,
  ``monitoring.interval`` → ``interval_seconds``), writes numeric CPU and memory quantities as
  strings, and moves every other key into the struct's ``options``;
* new optional fields everywhere (see each module), new types (``reliability.RateLimit``,
  ``Cache``, ``RetryConfig``; ``model.ModelArtifact``, ``ModelMetadata``, ``ModelLineage``,
  ``ModelSignature``, ``ModelTag``; the training sub-configurations;
  ``deployment.CanaryConfig``, ``RollbackConfig``; ``feedback.LabelingTask``,
  ``CorrectionEvent``, ``ABTestConfig``) and new documents (``CorrectionEvent``,
  ``LabelingTask``).

The original decoder dropped keys it did not know. The migration keeps them: an unknown key
of a legacy document moves into the struct's ``options`` (or ``metadata``), and is dropped
with a :class:`MigrationWarning` only where neither exists. A ``null`` where v0.3 has a
non-null default is removed so the default applies.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import msgspec.inspect as mi

from crucible.errors import SerializationError
from crucible.ir import deployment, feedback, reliability, training
from crucible.ir.base import CURRENT_SCHEMA_VERSION, Document
from crucible.ir.dataset import DatasetRef
from crucible.ir.documents import DOCUMENT_TYPES
from crucible.ir.experiment import BackendRef, Experiment
from crucible.ir.structure import type_info

__all__ = ["LEGACY_VERSIONS", "MigrationWarning", "detect_type", "detect_version", "migrate"]

LEGACY_VERSIONS = ("0.1.0", "0.2.0")


class MigrationWarning(UserWarning):
    """A legacy document held data the current schema has no place for."""


_V02_KEYS: dict[type, frozenset[str]] = {
    Experiment: frozenset({"experiment_type", "model_version", "training_config", "baseline"}),
    BackendRef: frozenset({"model_version", "endpoint_url", "deployment_id", "fallback"}),
    DatasetRef: frozenset({"version", "format", "schema"}),
    reliability.Config: frozenset({"monitoring", "drift", "circuit_breaker", "feedback"}),
}

_RENAMES: dict[type, dict[str, str]] = {
    deployment.Target: {"provider": "type"},
    deployment.ScalingConfig: {"min": "min_replicas", "max": "max_replicas"},
    deployment.ResourceSpec: {"gpus": "gpu"},
    deployment.HealthCheckConfig: {"interval": "interval_seconds", "timeout": "timeout_seconds"},
    training.EarlyStoppingConfig: {"metric": "monitor"},
    reliability.CircuitBreaker: {
        "threshold": "failure_threshold",
        "timeout_ms": "reset_timeout_ms",
    },
    feedback.DriftDetectionConfig: {"window": "window_size"},
    reliability.Monitoring: {"interval": "interval_seconds"},
}


def _quantities(doc: dict[str, Any]) -> None:
    for key in ("cpu", "memory", "cpu_limit", "memory_limit"):
        value = doc.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            doc[key] = format(value, "g") if isinstance(value, float) else str(value)


def _endpoint_auth(doc: dict[str, Any]) -> None:
    auth = doc.get("auth")
    if isinstance(auth, dict):  # v0.2 kept auth details in a map
        del doc["auth"]
        options = doc.get("options")
        doc["options"] = {**(options if isinstance(options, dict) else {}), "auth": auth}


_FIXERS: dict[type, Callable[[dict[str, Any]], None]] = {
    deployment.ResourceSpec: _quantities,
    deployment.EndpointConfig: _endpoint_auth,
}


def _major_minor(version: str) -> tuple[int, int] | None:
    parts = version.split(".")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        return None
    return int(parts[0]), int(parts[1])


def detect_type(doc: Mapping[str, Any]) -> type[Document]:
    """Guess which document type ``doc`` is, from its keys.

    A candidate must have all its required fields; among candidates, the one that knows the
    most of the document's keys (and fewest unknown) wins. Pass the type explicitly where it
    is known: two types can fit the same keys.
    """
    best: list[tuple[int, type[Document]]] = []
    keys = set(doc)
    for tp in DOCUMENT_TYPES.values():
        info = type_info(tp)
        assert isinstance(info, mi.StructType)
        names = {f.encode_name for f in info.fields}
        if not {f.encode_name for f in info.fields if f.required} <= keys:
            continue
        best.append((len(keys & names) - 2 * len(keys - names), tp))
    best.sort(key=lambda pair: -pair[0])
    if not best or (len(best) > 1 and best[0][0] == best[1][0]):
        candidates = ", ".join(tp.__qualname__ for _, tp in best[:3]) or "none"
        raise SerializationError(
            f"cannot tell the document type from its keys (candidates: {candidates}); pass the type"
        )
    return best[0][1]


def _has_v02_keys(doc: Any, tp: type) -> bool:
    if not isinstance(doc, Mapping):
        return False
    if set(doc) & _V02_KEYS.get(tp, frozenset()):
        return True
    if tp is Experiment:
        return (
            _has_v02_keys(doc.get("backend"), BackendRef)
            or _has_v02_keys(doc.get("dataset"), DatasetRef)
            or _has_v02_keys(doc.get("reliability"), reliability.Config)
        )
    return False


def detect_version(doc: Mapping[str, Any], tp: type[Document] | None = None) -> str:
    """The schema version ``doc`` was written in: its ``schema_version``, or for a document
    without one, ``"0.2.0"`` if it uses anything v0.2 added and ``"0.1.0"`` otherwise."""
    version = doc.get("schema_version")
    if isinstance(version, str):
        return version
    tp = tp or detect_type(doc)
    if tp is not Experiment:  # every other document type appeared in 0.2
        return "0.2.0"
    return "0.2.0" if _has_v02_keys(doc, Experiment) else "0.1.0"


def migrate(doc: Mapping[str, Any], tp: type[Document] | None = None) -> dict[str, Any]:
    """Upgrade a JSON-shaped document to the current schema version; return a new dict.

    ``tp`` is the document type (guessed by :func:`detect_type` when omitted). A current
    document comes back as an unchanged copy; a document from a newer version than this
    library knows raises :class:`SerializationError`.
    """
    if not isinstance(doc, Mapping):
        raise SerializationError(f"expected a JSON object, got {type(doc).__name__}")
    tp = tp or detect_type(doc)
    version = detect_version(doc, tp)
    found = _major_minor(version)
    current = _major_minor(CURRENT_SCHEMA_VERSION)
    assert current is not None
    if found is None:
        raise SerializationError(f"unreadable schema_version {version!r}")
    if found > current:
        raise SerializationError(
            f"schema_version {version} is newer than this library's {CURRENT_SCHEMA_VERSION}"
        )
    if found == current:
        return copy.deepcopy(dict(doc))
    upgraded = _upgrade(dict(doc), type_info(tp), "")
    assert isinstance(upgraded, dict)
    return upgraded


def _unwrap(t: mi.Type) -> mi.Type:
    while isinstance(t, mi.Metadata):
        t = t.type
    return t


def _allows_none(t: mi.Type) -> bool:
    t = _unwrap(t)
    if isinstance(t, (mi.NoneType, mi.AnyType)):
        return True
    return isinstance(t, mi.UnionType) and any(_allows_none(m) for m in t.types)


def _upgrade(value: Any, t: mi.Type, where: str) -> Any:
    t = _unwrap(t)
    if value is None:
        return None
    if isinstance(t, mi.UnionType):
        for member in t.types:
            member = _unwrap(member)
            if isinstance(member, mi.NoneType):
                continue
            if isinstance(member, (mi.StructType, mi.DictType)) == isinstance(value, dict):
                return _upgrade(value, member, where)
        return copy.deepcopy(value)
    if isinstance(t, mi.StructType) and isinstance(value, dict):
        return _upgrade_struct(value, t, where)
    if isinstance(t, mi.ListType) and isinstance(value, list):
        return [_upgrade(item, t.item_type, f"{where}/{i}") for i, item in enumerate(value)]
    if isinstance(t, mi.DictType) and isinstance(value, dict):
        return {k: _upgrade(v, t.value_type, f"{where}/{k}") for k, v in value.items()}
    return copy.deepcopy(value)


def _upgrade_struct(value: dict[str, Any], t: mi.StructType, where: str) -> dict[str, Any]:
    doc = dict(value)
    for old, new in _RENAMES.get(t.cls, {}).items():
        if old in doc and new not in doc:
            doc[new] = doc.pop(old)
    fixer = _FIXERS.get(t.cls)
    if fixer is not None:
        fixer(doc)
    fields = {f.encode_name: f for f in t.fields}
    out: dict[str, Any] = {}
    if issubclass(t.cls, Document):
        out["schema_version"] = CURRENT_SCHEMA_VERSION
    extra: dict[str, Any] = {}
    for key, item in doc.items():
        field = fields.get(key)
        if key == "schema_version" and issubclass(t.cls, Document):
            continue
        if field is None:
            extra[key] = copy.deepcopy(item)
        elif item is None and not _allows_none(field.type) and not field.required:
            continue  # an explicit null where v0.3 has a default: take the default
        else:
            out[key] = _upgrade(item, field.type, f"{where}/{key}")
    if extra:
        home = "options" if "options" in fields else "metadata" if "metadata" in fields else None
        if home is None:
            warnings.warn(
                f"{where or '/'}: dropped keys with no place in {t.cls.__qualname__}: "
                f"{', '.join(sorted(extra))}",
                MigrationWarning,
                stacklevel=4,
            )
        else:
            existing = out.get(home)
            out[home] = {**extra, **(existing if isinstance(existing, dict) else {})}
    return out
