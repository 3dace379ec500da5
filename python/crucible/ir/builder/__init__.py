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

from crucible.ir.builder.experiment import ExperimentBuilder, experiment
from crucible.ir.builder.reliability import ReliabilityBuilder, reliability_config

__all__ = ["ExperimentBuilder", "ReliabilityBuilder", "experiment", "reliability_config"]
