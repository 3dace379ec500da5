"""Per-token losses on logits, with their gradients.

Every loss here is a function of each target token's log-probability ``lp``, so its gradient
with respect to the logits is ``c · (softmax - onehot(target))`` with ``c = -dL/dlp``
per position; only ``c`` differs between losses. Sums over tokens, as in tinker.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from crucible.errors import InvalidArgumentError
from crucible.train.types import LossFn

__all__ = ["LOSS_FNS", "LossResult", "log_softmax", "token_loss"]

Array = npt.NDArray[np.floating]
LOSS_FNS: tuple[LossFn, ...] = ("cross_entropy", "importance_sampling", "ppo")


def log_softmax(logits: Array) -> Array:
    z: Array = logits - logits.max(axis=1, keepdims=True)
    out: Array = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return out


class LossResult:
    """Loss sum, each position's target logprob, ``d loss / d logits`` (if asked), and the
    per-position coefficient ``c`` (0 where a position carries no loss)."""

    __slots__ = ("coef", "dlogits", "logprobs", "loss")

    def __init__(self, loss: float, logprobs: Array, coef: Array, dlogits: Array | None) -> None:
        self.loss = loss
        self.logprobs = logprobs
        self.coef = coef
        self.dlogits = dlogits


def _coefficients(
    loss_fn: LossFn,
    lp: Array,
    weights: Array,
    extra: Mapping[str, Array],
    config: Mapping[str, float],
) -> tuple[Array, Array]:
    """Per-position loss terms and ``c = -dL/dlp``."""
    if loss_fn == "cross_entropy":
        return -weights * lp, weights
    try:
        adv, q = extra["advantages"], extra["logprobs"]
    except KeyError as exc:
        raise InvalidArgumentError(f"{loss_fn} needs loss_fn_inputs {exc.args[0]!r}") from None
    ratio = np.exp(lp - q)
    if loss_fn == "importance_sampling":
        return -ratio * adv, ratio * adv
    if loss_fn == "ppo":
        lo = config.get("clip_low_threshold", 0.8)
        hi = config.get("clip_high_threshold", 1.2)
        unclipped = ratio * adv
        clipped = np.clip(ratio, lo, hi) * adv
        use = unclipped <= clipped  # the min picks the unclipped term: it carries gradient
        return -np.minimum(unclipped, clipped), np.where(use, unclipped, 0.0)
    raise InvalidArgumentError(f"unknown loss {loss_fn!r}; use one of {LOSS_FNS}")


def token_loss(
    loss_fn: LossFn,
    logits: Array,
    targets: npt.NDArray[np.integer],
    weights: Array,
    extra: Mapping[str, Array],
    config: Mapping[str, float] | None = None,
    *,
    grad: bool = True,
) -> LossResult:
    """The loss of ``N`` positions given their logits ``[N, V]``."""
    logp = log_softmax(logits)
    idx = np.arange(targets.shape[0])
    lp = logp[idx, targets]
    terms, coef = _coefficients(loss_fn, lp, weights, extra, config or {})
    dlogits = None
    if grad:
        dlogits = np.exp(logp)
        dlogits[idx, targets] -= 1.0
        dlogits *= coef[:, None].astype(dlogits.dtype, copy=False)
    return LossResult(float(terms.sum(dtype=np.float64)), lp, coef, dlogits)
