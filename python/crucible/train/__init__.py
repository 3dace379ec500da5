"""crucible.train: training loops over ports, with a real local NumPy backend.

* :mod:`~crucible.train.types` — ``ModelInput``, ``Datum``, ``Batch``, ``TensorData``,
  ``TokensWithLogprobs``, ``AdamParams``, ``SamplingParams``
* :mod:`~crucible.train.tokenizers` — the ``Tokenizer`` port, a byte tokenizer, an adapter
  over local Hugging Face ``tokenizers`` files
* :mod:`~crucible.train.renderers` — Llama 3, Qwen 3, DeepSeek V3, Kimi K2, GPT-OSS and
  RoleColon chat formats with ``TrainOnWhat`` loss weights, prompts, stop sequences, parsing
* :mod:`~crucible.train.ports` / :mod:`~crucible.train.adapters` — ``TrainingClient``,
  ``SamplingClient``, ``LLMClient``, ``HubClient``, ``BlobStore``, ``DatasetStore``,
  ``EmbeddingClient``, ``VectorStore``; no-op adapters, the NumPy LM, local data sets
* :func:`train` with :class:`SupervisedConfig` — schedules with warmup, accumulation,
  clipping, evaluation, early stopping, best-model keeping, exact resume
* :func:`train_dpo` with :class:`DPOConfig` (:mod:`~crucible.train.preference`) and
  :func:`train_distill` with :class:`DistillConfig` (:mod:`~crucible.train.distillation`)
* :mod:`~crucible.train.checkpoint`, :mod:`~crucible.train.loggers`,
  :mod:`~crucible.train.model_info`

Recipe::

    from crucible.train import SupervisedConfig, train

    result = train(SupervisedConfig(log_path="runs/sft", num_epochs=2))
"""

from __future__ import annotations

from crucible.train.checkpoint import CheckpointManager
from crucible.train.config import EarlyStopping, SupervisedConfig, config_fingerprint
from crucible.train.distillation import DistillConfig, train_distill
from crucible.train.evaluation import Evaluator, NLLEvaluator
from crucible.train.model_info import ModelInfo
from crucible.train.preference import DPOConfig, train_dpo
from crucible.train.renderers import Message, TrainOnWhat, get_renderer
from crucible.train.rl import RLConfig, RLResult, train_rl
from crucible.train.schedule import lr_multiplier
from crucible.train.supervised import TrainResult, train
from crucible.train.types import (
    AdamParams,
    Batch,
    Datum,
    EncodedTextChunk,
    ImageChunk,
    ModelInput,
    SamplingParams,
    TensorData,
    TokensWithLogprobs,
)

__all__ = [
    "AdamParams",
    "Batch",
    "CheckpointManager",
    "DPOConfig",
    "Datum",
    "DistillConfig",
    "EarlyStopping",
    "EncodedTextChunk",
    "Evaluator",
    "ImageChunk",
    "Message",
    "ModelInfo",
    "ModelInput",
    "NLLEvaluator",
    "RLConfig",
    "RLResult",
    "SamplingParams",
    "SupervisedConfig",
    "TensorData",
    "TokensWithLogprobs",
    "TrainOnWhat",
    "TrainResult",
    "config_fingerprint",
    "get_renderer",
    "lr_multiplier",
    "train",
    "train_distill",
    "train_dpo",
    "train_rl",
]
