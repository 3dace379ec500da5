"""Which class runs a stage: built-in keys, installed plugins, or an import path.

A stage reference is resolved in this order:

1. a built-in key (:data:`crucible.pipeline.stages.BUILTIN_STAGES`);
2. a key another package registers under the entry-point group ``crucible.stages``
   (``[project.entry-points."crucible.stages"] mystage = "mypkg.stages:MyStage"``);
3. an import path ``"pkg.mod:Class"``.

Imports are lazy: resolving one stage imports that stage's module only. Nothing is cached
here, so concurrent runs share no mutable state (Python's module cache already makes a
second import cheap).
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

import msgspec

from crucible.errors import ConfigurationError, NotFoundError
from crucible.ir.experiment import StageDef
from crucible.pipeline.stage import Stage
from crucible.pipeline.stages import BUILTIN_STAGES

__all__ = ["ENTRY_POINT_GROUP", "known_stages", "load_stage", "stage_reference"]

ENTRY_POINT_GROUP = "crucible.stages"


def stage_reference(stage: StageDef) -> str:
    """What selects ``stage``'s implementation: its ``module``, else its ``name``."""
    return stage.module or stage.name


def _plugins() -> dict[str, str]:
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def known_stages() -> dict[str, str]:
    """Every stage key available here (built-ins, then plugins) and its ``module:Class``."""
    return {**BUILTIN_STAGES, **{k: v for k, v in _plugins().items() if k not in BUILTIN_STAGES}}


def _import(path: str, ref: str) -> Any:
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise NotFoundError(f"stage {ref!r}: {path!r} is not of the form 'pkg.module:Class'")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise NotFoundError(
            f"stage {ref!r}: cannot import module {module_name!r} ({exc})"
        ) from None
    target: Any = module
    for part in attr.split("."):
        if not hasattr(target, part):
            raise NotFoundError(f"stage {ref!r}: module {module_name!r} has no {attr!r}")
        target = getattr(target, part)
    return target


def _check_shape(cls: Any, ref: str) -> type[Stage]:
    options = getattr(cls, "Options", None)
    if not (
        isinstance(cls, type)
        and isinstance(options, type)
        and issubclass(options, msgspec.Struct)
        and callable(getattr(cls, "run", None))
        and callable(getattr(cls, "check", None))
    ):
        raise ConfigurationError(
            f"stage {ref!r} resolves to {cls!r}, which is not a stage class "
            "(needs an Options msgspec.Struct, check(ctx) and run(ctx))"
        )
    return cls


def load_stage(ref: str) -> type[Stage]:
    """The stage class ``ref`` names (see the module docstring). Raises
    :class:`NotFoundError` listing the known keys when nothing matches."""
    if ref in BUILTIN_STAGES:
        return _check_shape(_import(BUILTIN_STAGES[ref], ref), ref)
    if ":" in ref:
        return _check_shape(_import(ref, ref), ref)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == ref:
            try:
                loaded = ep.load()
            except (ImportError, AttributeError) as exc:
                raise NotFoundError(f"stage {ref!r}: plugin {ep.value!r} failed: {exc}") from None
            return _check_shape(loaded, ref)
    keys = ", ".join(sorted(known_stages()))
    raise NotFoundError(
        f"unknown stage {ref!r}: known stages are {keys}; or give module = 'pkg.module:Class'"
    )
