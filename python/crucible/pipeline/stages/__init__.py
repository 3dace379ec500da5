"""The built-in stages, by registry key.

Each value is ``"module:Class"``; :mod:`crucible.pipeline.registry` imports a stage's module
only when an experiment uses it, so loading an experiment never pays for every stage's
dependencies. A ``StageDef`` names its stage by ``module`` (a key below or a
``"pkg.mod:Class"`` path) or, when ``module`` is empty, by its ``name``.
"""

from __future__ import annotations

__all__ = ["BUILTIN_STAGES"]

BUILTIN_STAGES: dict[str, str] = {
    "dataset": "crucible.pipeline.stages.dataset:DatasetStage",
    "train.supervised": "crucible.pipeline.stages.supervised:SupervisedStage",
    "train.rl": "crucible.pipeline.stages.rl:RLStage",
    "train.dpo": "crucible.pipeline.stages.dpo:DPOStage",
    "train.distill": "crucible.pipeline.stages.distill:DistillStage",
    "evaluate": "crucible.pipeline.stages.evaluate:EvaluateStage",
    "stats": "crucible.pipeline.stages.statistics:StatisticsStage",
    "ensemble": "crucible.pipeline.stages.ensemble:EnsembleStage",
    "hedging": "crucible.pipeline.stages.hedging:HedgingStage",
    "fairness": "crucible.pipeline.stages.fairness:FairnessStage",
    "guardrails": "crucible.pipeline.stages.guardrails:GuardrailStage",
    "report": "crucible.pipeline.stages.report:ReportStage",
}
