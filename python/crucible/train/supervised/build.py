"""From a config to the pieces of a run: tokenizer, renderer, data, backend."""

from __future__ import annotations

from dataclasses import dataclass

from crucible.train.adapters import numpy_lm
from crucible.train.adapters.local_datasets import read_examples
from crucible.train.config import SupervisedConfig
from crucible.train.data import bundled_path
from crucible.train.datasets.examples import Example
from crucible.train.datasets.order import split_indices
from crucible.train.datasets.supervised import SupervisedDataset
from crucible.train.renderers import Renderer, get_renderer, renderer_special_tokens
from crucible.train.tokenizers import Tokenizer, get_tokenizer

__all__ = ["RunParts", "build_client", "build_parts", "load_examples"]


@dataclass
class RunParts:
    tokenizer: Tokenizer
    renderer: Renderer
    train: SupervisedDataset
    val: SupervisedDataset | None


TASK_EXAMPLES = 2000
"""How many problems ``task:NAME`` trains on (drawn from the task's stream with seed 0)."""


def load_examples(spec: str) -> list[Example]:
    """``bundled:NAME`` for a data set shipped with crucible, ``task:NAME`` for
    :data:`TASK_EXAMPLES` problems of a bundled verifiable task (:mod:`crucible.train.tasks`),
    else a JSONL/Parquet path."""
    if spec.startswith("task:"):
        from crucible.train.tasks import get_task

        return list(get_task(spec.removeprefix("task:")).examples(TASK_EXAMPLES, seed=0))
    if spec.startswith("bundled:"):
        return read_examples(bundled_path(spec.removeprefix("bundled:")))
    return read_examples(spec)


def build_parts(config: SupervisedConfig, tokenizer: Tokenizer | None = None) -> RunParts:
    tok = tokenizer or get_tokenizer(config.tokenizer, renderer_special_tokens(config.renderer))
    renderer = get_renderer(config.renderer, tok)
    examples = load_examples(config.dataset)
    train_idx, val_idx = split_indices(len(examples), config.val_fraction, config.seed)

    def dataset(indices: list[int], shuffle: bool) -> SupervisedDataset:
        return SupervisedDataset.from_examples(
            [examples[i] for i in indices],
            renderer,
            batch_size=config.batch_size,
            train_on_what=config.train_on_what,
            max_length=config.max_length,
            seed=config.seed,
            shuffle=shuffle,
        )

    val = dataset(val_idx.tolist(), False) if val_idx.size else None
    return RunParts(tok, renderer, dataset(train_idx.tolist(), True), val)


def build_client(config: SupervisedConfig, tokenizer: Tokenizer) -> numpy_lm.NumpyLMTrainingClient:
    return numpy_lm.create(config.model, tokenizer, seed=config.seed, **config.model_overrides)
