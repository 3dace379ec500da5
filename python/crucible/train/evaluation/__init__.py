"""Evaluation for crucible.train: evaluator protocols, scorers, a resumable batch runner,
bootstrap summaries, and a hook for evaluating during training.

* :mod:`.protocols` — ``TrainingClientEvaluator`` (alias ``Evaluator``) and
  ``SamplingClientEvaluator``
* :mod:`.nll` — ``NLLEvaluator``, held-out NLL / perplexity / accuracy
* :mod:`.scoring` — exact, contains, case-insensitive, normalised, token F1, BLEU, ROUGE,
  NLL, perplexity, semantic similarity; ``build_scorers`` by name
* :mod:`.items`, :mod:`.runner`, :mod:`.records` — items from data sets, the chunked,
  journaled, resumable runner, and the ``samples.jsonl`` record
* :mod:`.aggregate` — means with bootstrap intervals per model, and across runs
* :mod:`.generation`, :mod:`.hook` — ``GenerationEvaluator`` and ``EvalHook``
"""

from __future__ import annotations

from crucible.train.evaluation.aggregate import (
    EvalSummary,
    RunsSummary,
    ScoreSummary,
    summarize_records,
    summarize_runs,
    summarize_scores,
)
from crucible.train.evaluation.generation import GenerationEvaluator
from crucible.train.evaluation.hook import EvalHook
from crucible.train.evaluation.items import (
    EvalItem,
    item_from_example,
    read_eval_items,
    select_items,
)
from crucible.train.evaluation.nll import NLLEvaluator
from crucible.train.evaluation.protocols import (
    Evaluator,
    SamplingClientEvaluator,
    TrainingClientEvaluator,
)
from crucible.train.evaluation.records import SampleJournal, SampleRecord
from crucible.train.evaluation.runner import BatchRunner, GenerationConfig, item_seed
from crucible.train.evaluation.scoring import SCORER_NAMES, Candidate, Scorer, build_scorers

__all__ = [
    "SCORER_NAMES",
    "BatchRunner",
    "Candidate",
    "EvalHook",
    "EvalItem",
    "EvalSummary",
    "Evaluator",
    "GenerationConfig",
    "GenerationEvaluator",
    "NLLEvaluator",
    "RunsSummary",
    "SampleJournal",
    "SampleRecord",
    "SamplingClientEvaluator",
    "ScoreSummary",
    "Scorer",
    "TrainingClientEvaluator",
    "build_scorers",
    "item_from_example",
    "item_seed",
    "read_eval_items",
    "select_items",
    "summarize_records",
    "summarize_runs",
    "summarize_scores",
]
