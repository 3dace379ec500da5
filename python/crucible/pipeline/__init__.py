"""crucible.pipeline: runs an IR experiment's stages with tracing and telemetry attached.

:mod:`~crucible.pipeline.stage` is the contract every stage implements.
"""

from __future__ import annotations

from crucible.pipeline.stage import NoOptions, Stage, StageContext, StageResult, decode_options

__all__ = ["NoOptions", "Stage", "StageContext", "StageResult", "decode_options"]
