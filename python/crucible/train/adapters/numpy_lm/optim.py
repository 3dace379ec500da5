"""AdamW over a flat parameter buffer, with global-norm gradient clipping."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from crucible.train.types import AdamParams

__all__ = ["AdamW"]

Array = npt.NDArray[np.floating]


class AdamW:
    """Adam with decoupled weight decay (Loshchilov & Hutter), applied where ``decay_mask``
    is 1. State is ``m``, ``v`` (same shape as the parameters) and the step count."""

    def __init__(self, size: int, dtype: np.dtype[np.floating], decay_mask: Array) -> None:
        self.m: Array = np.zeros(size, dtype=dtype)
        self.v: Array = np.zeros(size, dtype=dtype)
        self.step = 0
        self.decay_mask = decay_mask

    def update(self, params: Array, grads: Array, hp: AdamParams) -> dict[str, float]:
        """One step in place; returns the gradient norm before clipping and the scale used."""
        norm = float(np.sqrt(np.dot(grads, grads)))
        scale = 1.0
        if hp.grad_clip_norm > 0.0 and norm > hp.grad_clip_norm:
            scale = hp.grad_clip_norm / (norm + 1e-12)
            grads = grads * grads.dtype.type(scale)
        self.step += 1
        b1, b2 = hp.beta1, hp.beta2
        self.m *= b1
        self.m += (1.0 - b1) * grads
        self.v *= b2
        self.v += (1.0 - b2) * np.square(grads)
        step_size = hp.learning_rate / (1.0 - b1**self.step)
        denom = np.sqrt(self.v / (1.0 - b2**self.step))
        denom += hp.eps
        if hp.weight_decay > 0.0:
            params -= (hp.learning_rate * hp.weight_decay) * self.decay_mask * params
        params -= step_size * (self.m / denom)
        return {"grad_norm": norm, "grad_clip_scale": scale}
