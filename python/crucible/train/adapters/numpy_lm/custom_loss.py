"""Training on a loss the backend does not know (tinker's ``forward_backward_custom``).

A loss that is any function of the per-token target logprobs ``lp`` can be trained through
``cross_entropy``: that loss is ``-Σ w·lp``, so its gradient w.r.t. each ``lp`` is ``-w``.
One ``forward`` reads the logprobs, the caller's function returns the loss and ``dL/dlp``
(computed in NumPy), and ``forward_backward`` with ``weights = -dL/dlp`` then adds exactly
``dL/dθ`` to the pending gradients. It costs a second pass but no backend change per loss
(DPO's sequence-level sigmoid is the motivating case). Works with any
:class:`~crucible.train.ports.TrainingClient`, not only the NumPy LM.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from crucible.errors import InvalidArgumentError
from crucible.train.ports.training import TrainingClient
from crucible.train.types import Datum

__all__ = ["CustomLossFn", "CustomLossOutput", "forward_backward_custom"]

F64 = npt.NDArray[np.float64]

CustomLossFn = Callable[[Sequence[Datum], list[F64]], tuple[float, list[F64], dict[str, float]]]
"""``(data, logprobs per datum) -> (loss, dL/dlogprobs per datum, metrics)``."""


@dataclass
class CustomLossOutput:
    """The loss and metrics the custom function reported, and the logprobs it saw."""

    loss: float
    logprobs: list[F64]
    metrics: dict[str, float] = field(default_factory=dict)


def forward_backward_custom(
    client: TrainingClient, data: Sequence[Datum], loss_fn: CustomLossFn
) -> CustomLossOutput:
    """Accumulate the gradient of ``loss_fn`` on ``data`` into ``client`` (call
    ``optim_step`` afterwards, as with ``forward_backward``)."""
    if not data:
        raise InvalidArgumentError("forward_backward_custom needs at least one datum")
    out = client.forward(data, "cross_entropy")
    logprobs = [np.asarray(o["logprobs"], dtype=np.float64) for o in out.loss_fn_outputs]
    loss, grads, metrics = loss_fn(data, logprobs)
    if len(grads) != len(data):
        raise InvalidArgumentError(f"loss returned {len(grads)} gradients for {len(data)} datums")
    weighted = []
    for i, (datum, lp, grad) in enumerate(zip(data, logprobs, grads, strict=True)):
        g = np.asarray(grad, dtype=np.float64)
        if g.shape != lp.shape:
            raise InvalidArgumentError(f"gradient {i} has shape {g.shape}, its logprobs {lp.shape}")
        weighted.append(
            Datum(
                model_input=datum.model_input,
                loss_fn_inputs={
                    "target_tokens": datum.loss_fn_inputs["target_tokens"],
                    "weights": (-g).astype(np.float32),
                },
            )
        )
    client.forward_backward(weighted, "cross_entropy")
    return CustomLossOutput(loss=float(loss), logprobs=logprobs, metrics=dict(metrics))
