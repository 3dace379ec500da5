"""A KL penalty that keeps the policy near a reference model (its initial weights).

On tokens the policy sampled, ``log q(t) - log r(t)`` (sampler minus reference logprob) is
a one-sample estimate of ``KL(q || r)``; its mean over a batch's action tokens is the
``kl/policy_reference`` metric. The penalty subtracts ``kl_coef`` times each token's
estimate from that token's advantage, re-centred on the batch mean (tinker-cookbook's
form): the update then pushes down tokens that drifted more than average and up those
that drifted less, rather than shifting every advantage by a constant, which the group
baseline already removes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from crucible.train.ports.sampling import SamplingClient
from crucible.train.types import Datum, ModelInput

__all__ = ["apply_kl_penalty", "reference_logprobs"]


def reference_logprobs(reference: SamplingClient, datum: Datum) -> npt.NDArray[np.float32]:
    """The reference model's logprob of each of ``datum``'s targets."""
    targets = datum.loss_fn_inputs["target_tokens"]
    tokens = [*datum.model_input.to_ints(), int(targets[-1])]
    logprobs = reference.compute_logprobs(ModelInput.from_ints(tokens))
    return np.asarray([0.0 if lp is None else lp for lp in logprobs[1:]], dtype=np.float32)


def apply_kl_penalty(
    data: Sequence[Datum], reference: SamplingClient, kl_coef: float
) -> tuple[list[Datum], dict[str, float]]:
    """``data`` with KL-penalised advantages (unchanged when ``kl_coef`` is 0) and the
    batch's ``kl/policy_reference`` estimate."""
    diffs = []
    # Groups repeat sequences (one prompt, few distinct answers): score each once.
    seen: dict[tuple[int, ...], npt.NDArray[np.float32]] = {}
    for datum in data:
        key = (*datum.model_input.to_ints(), int(datum.loss_fn_inputs["target_tokens"][-1]))
        ref = seen.get(key)
        if ref is None:
            ref = seen[key] = reference_logprobs(reference, datum)
        lfi = datum.loss_fn_inputs
        diffs.append((lfi["logprobs"] - ref) * lfi["mask"])
    tokens = float(sum(d.loss_fn_inputs["mask"].sum(dtype=np.float64) for d in data))
    mean = float(sum(d.sum(dtype=np.float64) for d in diffs)) / tokens if tokens else 0.0
    metrics = {"kl/policy_reference": mean}
    if kl_coef == 0.0:
        return list(data), metrics
    out = []
    for datum, diff in zip(data, diffs, strict=True):
        mask = datum.loss_fn_inputs["mask"]
        penalty = (kl_coef * (mean - diff) * mask).astype(np.float32)
        inputs = dict(datum.loss_fn_inputs)
        inputs["advantages"] = inputs["advantages"] + penalty
        out.append(Datum(model_input=datum.model_input, loss_fn_inputs=inputs))
    return out, metrics
