"""Sampling from the NumPy LM: temperature, top-p, stop sequences, logprobs.

All samples of a call advance in lockstep (one ``[S, context]`` forward per token), and every
random draw comes from one ``crucible.prng`` stream, so a seed fixes the output. The logprob
reported for a sampled token is under the distribution it was drawn from (after temperature
and top-p): that is the ``q`` an importance-sampling or PPO loss divides by. Greedy decoding
(temperature 0) reports 0.0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from crucible import prng
from crucible.errors import InvalidArgumentError
from crucible.train.adapters.numpy_lm.losses import log_softmax
from crucible.train.adapters.numpy_lm.model import (
    BlasThreads,
    NumpyLMConfig,
    ParamSet,
    bag_features,
    forward,
    windows,
)
from crucible.train.tokenizers import Tokenizer
from crucible.train.types import (
    ModelInput,
    SampledSequence,
    SampleResponse,
    SamplingParams,
)

__all__ = ["NumpySamplingClient"]

Array = npt.NDArray[np.floating]


def _nucleus(probs: Array, top_p: float) -> Array:
    """Zero all but the smallest set of most likely tokens whose mass reaches ``top_p``."""
    order = np.argsort(-probs, axis=1, kind="stable")
    sorted_p = np.take_along_axis(probs, order, axis=1)
    before = np.cumsum(sorted_p, axis=1) - sorted_p
    keep_sorted = before < top_p
    keep = np.zeros_like(keep_sorted)
    np.put_along_axis(keep, order, keep_sorted, axis=1)
    out: Array = np.where(keep, probs, 0.0)
    out /= out.sum(axis=1, keepdims=True)
    return out


class NumpySamplingClient:
    """A sampler over a fixed copy of the weights."""

    def __init__(
        self,
        params: ParamSet,
        cfg: NumpyLMConfig,
        tokenizer: Tokenizer,
        rng: prng.Generator,
        *,
        blas: BlasThreads | None = None,
    ) -> None:
        self._blas = blas or BlasThreads(None)
        self._params = params
        self._cfg = cfg
        self._tokenizer = tokenizer
        self._rng = rng

    def _logits(self, contexts: npt.NDArray[np.int32], bags: Array) -> Array:
        with self._blas:
            logits, _ = forward(self._params, self._cfg, contexts, bags, keep=False)
        return logits.astype(np.float64)

    def _features(self, seqs: list[list[int]]) -> tuple[npt.NDArray[np.int32], Array]:
        """Each sequence's last window and its bag feature (the mean over all its tokens)."""
        k, start = self._cfg.context, self._cfg.vocab_size
        rows = np.full((len(seqs), k), start, dtype=np.int32)
        table = self._params["bag"]
        bags = np.zeros((len(seqs), table.shape[1]), dtype=table.dtype)
        for i, seq in enumerate(seqs):
            tail = seq[-k:]
            if tail:
                rows[i, k - len(tail) :] = tail
                bags[i] = table[seq].mean(axis=0)
        return rows, bags

    def compute_logprobs(self, prompt: ModelInput) -> list[float | None]:
        tokens = np.asarray(prompt.to_ints(), dtype=np.int32)
        if tokens.size < 2:
            return [None] * int(tokens.size)
        rows = windows(tokens[None, :-1], self._cfg.context, self._cfg.vocab_size)[0]
        bags = bag_features(self._params, tokens[None, :-1])[0]
        logp = log_softmax(self._logits(np.ascontiguousarray(rows), bags))
        lp = logp[np.arange(tokens.size - 1), tokens[1:]]
        return [None, *(float(x) for x in lp)]

    def sample(
        self,
        prompt: ModelInput,
        num_samples: int = 1,
        sampling_params: SamplingParams | None = None,
        *,
        include_prompt_logprobs: bool = False,
    ) -> SampleResponse:
        sp = sampling_params or SamplingParams()
        if num_samples < 1:
            raise InvalidArgumentError("num_samples must be >= 1")
        rng = prng.default_rng(sp.seed) if sp.seed is not None else self._rng
        prompt_ids = prompt.to_ints()
        stop_ids = {s for s in (sp.stop or []) if isinstance(s, int)}
        stop_strs = [s for s in (sp.stop or []) if isinstance(s, str)]
        seqs: list[list[int]] = [list(prompt_ids) for _ in range(num_samples)]
        outs: list[list[int]] = [[] for _ in range(num_samples)]
        lps: list[list[float]] = [[] for _ in range(num_samples)]
        done = [False] * num_samples
        for _ in range(sp.max_tokens):
            live = [i for i in range(num_samples) if not done[i]]
            if not live:
                break
            logits = self._logits(*self._features([seqs[i] for i in live]))
            chosen, chosen_lp = self._draw(logits, sp, rng)
            for j, i in enumerate(live):
                tok = int(chosen[j])
                seqs[i].append(tok)
                outs[i].append(tok)
                lps[i].append(float(chosen_lp[j]))
                if tok in stop_ids or (stop_strs and self._hit(outs[i], stop_strs)):
                    done[i] = True
        sequences = [
            SampledSequence(
                tokens=outs[i], logprobs=lps[i], stop_reason="stop" if done[i] else "length"
            )
            for i in range(num_samples)
        ]
        prompt_lp = self.compute_logprobs(prompt) if include_prompt_logprobs else None
        return SampleResponse(sequences=sequences, prompt_logprobs=prompt_lp)

    def _hit(self, tokens: Sequence[int], stops: Sequence[str]) -> bool:
        longest = max(len(s.encode("utf-8")) for s in stops) + 8
        tail = self._tokenizer.decode(tokens[-longest:])
        return any(s in tail for s in stops)

    @staticmethod
    def _draw(
        logits: Array, sp: SamplingParams, rng: prng.Generator
    ) -> tuple[npt.NDArray[np.int64], Array]:
        if sp.temperature == 0.0:
            return logits.argmax(axis=1), np.zeros(logits.shape[0])
        probs = np.exp(log_softmax(logits / sp.temperature))
        if sp.top_p < 1.0:
            probs = _nucleus(probs, sp.top_p)
        u = rng.random(probs.shape[0])
        cdf = np.cumsum(probs, axis=1)
        # u = 0 must not pick a leading zero-probability token, hence the floor.
        threshold = np.maximum(u * cdf[:, -1], 1e-300)
        chosen = (cdf < threshold[:, None]).sum(axis=1)
        chosen = np.minimum(chosen, probs.shape[1] - 1)
        picked = probs[np.arange(probs.shape[0]), chosen]
        return chosen, np.log(picked)

    def rng_state(self) -> Mapping[str, object]:
        return dict(self._rng.bit_generator.state)
