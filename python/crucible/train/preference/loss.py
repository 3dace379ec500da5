"""The DPO objective on sequence log-likelihoods, with its exact gradient.

With ``h = (π_c - r_c) - (π_r - r_r)`` (policy and reference log-likelihoods of the chosen
and rejected completions) each pair's loss is the conservative-DPO one,
``-(1 - ε) log sigmoid(βh) - ε log sigmoid(-βh)``; ``ε = 0`` is plain DPO (Rafailov et al.
2023), and ``ε > 0`` treats each label as wrong with probability ``ε`` so the loss stops
pushing once a pair is separated. ``dL/dh = -β((1 - ε) sigmoid(-βh) - ε sigmoid(βh))``, and
since ``π`` is the weighted sum of token logprobs, ``dL/dlp_t = ±dL/dh · w_t``: that is what
:func:`~crucible.train.adapters.numpy_lm.custom_loss.forward_backward_custom` needs.

Rewards are ``β(π - r)``; accuracy is the share of pairs whose chosen reward is the higher,
a tie counting one half (so the untrained policy, equal to its reference, scores 0.5).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from crucible.errors import InvalidArgumentError
from crucible.train.adapters.numpy_lm.custom_loss import CustomLossFn
from crucible.train.types import Datum

__all__ = ["DPOTerms", "dpo_loss", "dpo_loss_fn", "sequence_logprobs"]

F64 = npt.NDArray[np.float64]


def _log_sigmoid(x: F64) -> F64:
    out: F64 = -np.logaddexp(0.0, -x)
    return out


def _sigmoid(x: F64) -> F64:
    out: F64 = np.exp(_log_sigmoid(x))
    return out


@dataclass
class DPOTerms:
    """The mean loss over pairs, ``dL/dπ`` for each chosen and rejected completion, and the
    ``dpo/*`` metrics."""

    loss: float
    grad_chosen: F64
    grad_rejected: F64
    metrics: dict[str, float]


def dpo_loss(
    chosen: F64,
    rejected: F64,
    ref_chosen: F64,
    ref_rejected: F64,
    *,
    beta: float,
    label_smoothing: float = 0.0,
) -> DPOTerms:
    """The DPO loss of ``n`` pairs given their four log-likelihood vectors."""
    if not 0.0 <= label_smoothing < 0.5:
        raise InvalidArgumentError(f"label_smoothing {label_smoothing} must be in [0, 0.5)")
    if beta <= 0.0:
        raise InvalidArgumentError(f"beta {beta} must be positive")
    arrays = [np.asarray(a, dtype=np.float64) for a in (chosen, rejected, ref_chosen, ref_rejected)]
    if len({a.shape for a in arrays}) != 1 or arrays[0].ndim != 1 or arrays[0].size == 0:
        raise InvalidArgumentError("DPO needs four 1-D arrays of the same, non-zero length")
    pc, pr, rc, rr = arrays
    n = pc.size
    chosen_reward = beta * (pc - rc)
    rejected_reward = beta * (pr - rr)
    z = chosen_reward - rejected_reward  # β·h
    eps = label_smoothing
    losses = -(1.0 - eps) * _log_sigmoid(z) - eps * _log_sigmoid(-z)
    dz = -((1.0 - eps) * _sigmoid(-z) - eps * _sigmoid(z)) / n  # d mean / d(βh)
    grad = beta * dz
    accuracy = np.where(z > 0, 1.0, np.where(z < 0, 0.0, 0.5))
    metrics = {
        "dpo/loss": float(losses.mean()),
        "dpo/accuracy": float(accuracy.mean()),
        "dpo/margin": float(z.mean()),
        "dpo/chosen_reward": float(chosen_reward.mean()),
        "dpo/rejected_reward": float(rejected_reward.mean()),
    }
    return DPOTerms(float(losses.mean()), grad, -grad, metrics)


def sequence_logprobs(data: Sequence[Datum], logprobs: Sequence[F64]) -> F64:
    """Each datum's weighted sum of target logprobs (its completion's log-likelihood)."""
    return np.array(
        [
            float(np.dot(np.asarray(d.loss_fn_inputs["weights"], np.float64), lp))
            for d, lp in zip(data, logprobs, strict=True)
        ],
        dtype=np.float64,
    )


def dpo_loss_fn(
    ref_chosen: F64, ref_rejected: F64, *, beta: float, label_smoothing: float = 0.0
) -> CustomLossFn:
    """A custom loss over interleaved chosen/rejected datums (even/odd positions) whose
    reference log-likelihoods are given, for ``forward_backward_custom``."""

    def loss_fn(
        data: Sequence[Datum], logprobs: list[F64]
    ) -> tuple[float, list[F64], dict[str, float]]:
        if len(data) % 2 or len(data) // 2 != ref_chosen.size:
            raise InvalidArgumentError(
                f"{len(data)} datums do not make the {ref_chosen.size} pairs of the reference"
            )
        seq = sequence_logprobs(data, logprobs)
        terms = dpo_loss(
            seq[0::2],
            seq[1::2],
            ref_chosen,
            ref_rejected,
            beta=beta,
            label_smoothing=label_smoothing,
        )
        grads = []
        for i, datum in enumerate(data):
            scale = terms.grad_chosen[i // 2] if i % 2 == 0 else terms.grad_rejected[i // 2]
            grads.append(scale * np.asarray(datum.loss_fn_inputs["weights"], np.float64))
        return terms.loss, grads, terms.metrics

    return loss_fn
