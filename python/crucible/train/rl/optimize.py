"""One step's learning: rollouts -> Datums with advantages -> optimizer steps.

:func:`policy_data` measures the rollouts, computes group advantages (dropping
degenerate groups if asked), builds the Datums and applies the KL penalty.
:func:`optimize_policy` splits the Datums into ``num_substeps`` minibatches and takes one
optimizer step on each. Losses are sums over action tokens (tinker's convention); the
backend skips every position whose advantage is zero, prompts included.

Besides the loss it reports ``kl/sample_train``: the mean ``log q - log p`` between the
sampler and the weights being trained, on the tokens that carried loss. It is ~0 on the
first substep (same weights) and grows on later ones as the policy moves off the sampler.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from crucible.errors import InvalidArgumentError
from crucible.train.ports.sampling import SamplingClient
from crucible.train.ports.training import TrainingClient
from crucible.train.rl.advantages import group_advantages, is_degenerate
from crucible.train.rl.config import RLLoss
from crucible.train.rl.data import trajectory_data
from crucible.train.rl.kl import apply_kl_penalty
from crucible.train.rl.metrics import rollout_metrics
from crucible.train.rl.types import TrajectoryGroup
from crucible.train.types import AdamParams, Datum

__all__ = ["optimize_policy", "policy_data"]


def policy_data(
    groups: Sequence[TrajectoryGroup],
    *,
    normalize_std: bool = False,
    drop_degenerate: bool = True,
    reference: SamplingClient | None = None,
    kl_coef: float = 0.0,
) -> tuple[list[Datum], dict[str, float]]:
    """The training data of a step's rollouts, and the step's rollout metrics."""
    if kl_coef > 0.0 and reference is None:
        raise InvalidArgumentError("kl_coef > 0 needs a reference model")
    metrics = rollout_metrics(groups)
    data: list[Datum] = []
    kept = 0
    for group in groups:
        rewards = group.total_rewards()
        if drop_degenerate and is_degenerate(rewards):
            continue
        kept += 1
        advantages = group_advantages(rewards, normalize_std=normalize_std)
        for trajectory, advantage in zip(group.trajectories, advantages, strict=True):
            data.extend(trajectory_data(trajectory, float(advantage)))
    metrics["groups_trained"] = float(kept)
    if reference is not None and data:
        data, kl_metrics = apply_kl_penalty(data, reference, kl_coef)
        metrics.update(kl_metrics)
    return data, metrics


def _minibatches(data: Sequence[Datum], count: int) -> list[list[Datum]]:
    """``count`` contiguous, near-equal slices (fewer when there is less data)."""
    bounds = np.linspace(0, len(data), min(count, len(data)) + 1).round().astype(int)
    return [list(data[a:b]) for a, b in itertools.pairwise(bounds) if b > a]


def optimize_policy(
    client: TrainingClient,
    data: Sequence[Datum],
    hp: AdamParams,
    *,
    loss_fn: RLLoss = "importance_sampling",
    num_substeps: int = 1,
    clip: tuple[float, float] = (0.8, 1.2),
) -> dict[str, float]:
    """Train on ``data``; with no data (every group dropped) no step is taken."""
    tokens = float(sum(d.model_input.length for d in data))
    action_tokens = float(sum(d.loss_fn_inputs["mask"].sum(dtype=np.float64) for d in data))
    metrics = {
        "num_datums": float(len(data)),
        "num_tokens": tokens,
        "num_action_tokens": action_tokens,
        "optim_steps": 0.0,
    }
    if not data:
        metrics.update({"train/loss": 0.0, "grad_norm": 0.0, "kl/sample_train": 0.0})
        return metrics
    config = {"clip_low_threshold": clip[0], "clip_high_threshold": clip[1]}
    loss = grad_norm = diff_sum = 0.0
    counted = 0
    batches = _minibatches(data, num_substeps)
    for batch in batches:
        out = client.forward_backward(batch, loss_fn, config)
        opt = client.optim_step(hp)
        loss += out.loss
        grad_norm += opt.metrics.get("grad_norm", 0.0)
        for datum, output in zip(batch, out.loss_fn_outputs, strict=True):
            lfi = datum.loss_fn_inputs
            trained = (lfi["mask"] > 0) & (lfi["advantages"] != 0)
            q, p = lfi["logprobs"][trained], output["logprobs"][trained]
            diff_sum += float((q - p).sum(dtype=np.float64))
            counted += int(trained.sum())
    metrics.update(
        {
            "train/loss": loss / action_tokens if action_tokens else 0.0,
            "grad_norm": grad_norm / len(batches),
            "kl/sample_train": diff_sum / counted if counted else 0.0,
            "optim_steps": float(len(batches)),
        }
    )
    return metrics
