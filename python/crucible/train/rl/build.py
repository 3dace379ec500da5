"""From an RL config to the pieces a run needs that the caller did not pass: the NumPy LM
(with the renderer's special tokens in its tokenizer) and the bundled task as data set."""

from __future__ import annotations

from dataclasses import dataclass

from crucible.train.ports.training import TrainingClient
from crucible.train.renderers import get_renderer
from crucible.train.rl.config import RLConfig
from crucible.train.rl.types import RLDataset
from crucible.train.steps import fresh_client

__all__ = ["RLParts", "build_rl_parts", "task_dataset"]


@dataclass
class RLParts:
    client: TrainingClient
    dataset: RLDataset


def task_dataset(config: RLConfig, client: TrainingClient) -> RLDataset:
    """The bundled task of ``config``, one batch per step, rendered for ``client``."""
    # Imported here: the tasks build on crucible.train.rl.types, so a module-level import
    # would be circular whichever package is imported first.
    from crucible.train.tasks import ProblemDataset, get_task

    task = get_task(config.task, partial_credit=config.partial_credit, **config.task_options)
    renderer = get_renderer(config.renderer, client.get_tokenizer())
    return ProblemDataset(
        task,
        renderer,
        num_batches=config.steps,
        groups_per_batch=config.groups_per_batch,
        group_size=config.group_size,
        seed=config.seed,
    )


def build_rl_parts(
    config: RLConfig, client: TrainingClient | None, dataset: RLDataset | None
) -> RLParts:
    if client is None:
        client = fresh_client(config, config.seed)
    return RLParts(client, dataset if dataset is not None else task_dataset(config, client))
