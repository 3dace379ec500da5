"""The NumPy LM as a :class:`~crucible.train.ports.TrainingClient`.

A step's data arrives as Datums or as a padded :class:`~crucible.train.types.Batch`; both
become one matrix of token windows. ``forward_backward`` computes only the positions that
carry loss (nonzero weight, or nonzero advantage for the RL losses): the others have exactly
zero gradient, so skipping them changes no update, only the time (prompts are most of a
chat's tokens). Their ``logprobs`` come back as 0.0; ``forward`` computes every position.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import msgspec
import numpy as np
from safetensors.numpy import load_file, save_file

from crucible import prng
from crucible.errors import IntegrityError, InvalidArgumentError
from crucible.train.adapters.numpy_lm.losses import token_loss
from crucible.train.adapters.numpy_lm.model import (
    BlasThreads,
    NumpyLMConfig,
    backward,
    bag_backward,
    bag_features,
    forward,
    init_params,
    windows,
)
from crucible.train.adapters.numpy_lm.optim import AdamW
from crucible.train.adapters.numpy_lm.sampler import NumpySamplingClient
from crucible.train.model_info import ModelInfo, layers_of, training_memory_bytes
from crucible.train.tokenizers import Tokenizer
from crucible.train.types import (
    AdamParams,
    Batch,
    Datum,
    ForwardBackwardOutput,
    LossFn,
    OptimStepResult,
)

__all__ = ["NumpyLMTrainingClient"]

WEIGHTS_FILE = "weights.safetensors"
OPTIMIZER_FILE = "optimizer.safetensors"


class NumpyLMTrainingClient:
    """Weights, pending gradients, AdamW state and a sampling RNG, all in-process."""

    def __init__(
        self, config: NumpyLMConfig, tokenizer: Tokenizer, *, blas_threads: int | None = 1
    ) -> None:
        """``blas_threads`` caps BLAS threads during this backend's calls (``None``: leave
        BLAS alone); see :class:`~.model.BlasThreads` for why one is the default."""
        if tokenizer.vocab_size > config.vocab_size:
            raise InvalidArgumentError(
                f"tokenizer has {tokenizer.vocab_size} ids but the model only "
                f"{config.vocab_size} outputs"
            )
        self.config = config
        self._tokenizer = tokenizer
        self.params = init_params(config)
        self.grads = self.params.zeros_like()
        self.optimizer = AdamW(
            self.params.flat.size, self.params.flat.dtype, self.params.decay_mask()
        )
        self._rng = prng.default_rng([config.seed, 1])
        self._pending = 0
        self.blas = BlasThreads(blas_threads)

    # --- TrainingClient -------------------------------------------------------------------

    def get_tokenizer(self) -> Tokenizer:
        return self._tokenizer

    def forward(
        self,
        data: Sequence[Datum] | Batch,
        loss_fn: LossFn = "cross_entropy",
        loss_fn_config: Mapping[str, float] | None = None,
    ) -> ForwardBackwardOutput:
        with self.blas:
            return self._run(data, loss_fn, loss_fn_config, backprop=False)

    def forward_backward(
        self,
        data: Sequence[Datum] | Batch,
        loss_fn: LossFn = "cross_entropy",
        loss_fn_config: Mapping[str, float] | None = None,
    ) -> ForwardBackwardOutput:
        with self.blas:
            return self._run(data, loss_fn, loss_fn_config, backprop=True)

    def optim_step(self, params: AdamParams) -> OptimStepResult:
        with self.blas:
            metrics = self.optimizer.update(self.params.flat, self.grads.flat, params)
        self.grads.flat[:] = 0.0
        metrics["learning_rate"] = params.learning_rate
        metrics["accumulated_calls"] = float(self._pending)
        self._pending = 0
        return OptimStepResult(metrics=metrics)

    def save_state(self, directory: Path) -> list[Path]:
        directory.mkdir(parents=True, exist_ok=True)
        meta = {
            "config": msgspec.json.encode(self.config).decode(),
            "format": "crucible-numpy-lm/1",
        }
        weights = directory / WEIGHTS_FILE
        save_file(
            {k: np.ascontiguousarray(v) for k, v in self.params.views.items()}, str(weights), meta
        )
        opt = directory / OPTIMIZER_FILE
        moments = {"m": self.optimizer.m, "v": self.optimizer.v}
        save_file(moments, str(opt), {"step": str(self.optimizer.step)})
        return [weights, opt]

    def load_state(self, directory: Path, *, weights_only: bool = False) -> None:
        try:
            tensors = load_file(str(directory / WEIGHTS_FILE))
        except Exception as exc:  # safetensors raises its own error types
            raise IntegrityError(f"cannot read {directory / WEIGHTS_FILE}: {exc}") from exc
        if set(tensors) != set(self.params.views):
            raise IntegrityError(f"{directory / WEIGHTS_FILE} holds other tensors than this model")
        for name, view in self.params.views.items():
            if tensors[name].shape != view.shape:
                raise IntegrityError(
                    f"tensor {name} has shape {tensors[name].shape}, not {view.shape}"
                )
            view[...] = tensors[name]
        self.grads.flat[:] = 0.0
        self._pending = 0
        if weights_only:
            self.optimizer = AdamW(
                self.params.flat.size, self.params.flat.dtype, self.params.decay_mask()
            )
            return
        from safetensors import safe_open

        try:
            with safe_open(str(directory / OPTIMIZER_FILE), framework="numpy") as f:
                step = int(f.metadata()["step"])
                self.optimizer.m[:] = f.get_tensor("m")
                self.optimizer.v[:] = f.get_tensor("v")
        except Exception as exc:
            raise IntegrityError(f"cannot read {directory / OPTIMIZER_FILE}: {exc}") from exc
        self.optimizer.step = step

    def rng_state(self) -> dict[str, object]:
        return json.loads(json.dumps(self._rng.bit_generator.state))  # type: ignore[no-any-return]

    def set_rng_state(self, state: Mapping[str, object]) -> None:
        self._rng.bit_generator.state = dict(state)

    def save_weights_and_get_sampling_client(self, name: str = "") -> NumpySamplingClient:
        return NumpySamplingClient(
            self.params.copy(), self.config, self._tokenizer, self._rng, blas=self.blas
        )

    def model_info(self) -> ModelInfo:
        itemsize = self.params.flat.dtype.itemsize
        weights = self.params.flat.size * itemsize
        cfg = self.config
        return ModelInfo(
            name=cfg.name,
            architecture="mlp-window-lm",
            parameter_count=int(self.params.flat.size),
            layers=layers_of(self.params.shapes, cfg.dtype),
            dtype=cfg.dtype,
            weights_bytes=weights,
            memory_bytes=training_memory_bytes(weights),
            vocab_size=cfg.vocab_size,
            context_length=cfg.context,
            tokenizer=self._tokenizer.name,
            special_tokens=dict(self._tokenizer.special_tokens),
            hyperparameters=msgspec.to_builtins(cfg),
        )

    # --- the computation ------------------------------------------------------------------

    def _run(
        self,
        data: Sequence[Datum] | Batch,
        loss_fn: LossFn,
        config: Mapping[str, float] | None,
        *,
        backprop: bool,
    ) -> ForwardBackwardOutput:
        batch = data if isinstance(data, Batch) else Batch.from_data(list(data))
        b, t = batch.inputs.shape
        vocab = self.config.vocab_size
        for name, ids in (("input", batch.inputs), ("target", batch.targets)):
            if ids.size and (int(ids.max()) >= vocab or int(ids.min()) < 0):
                raise InvalidArgumentError(f"{name} token id outside 0..{vocab - 1}")
        valid = np.arange(t)[None, :] < batch.lengths[:, None]
        if loss_fn == "cross_entropy":
            active = valid & (batch.weights != 0)
        else:
            adv = batch.extra.get("advantages")
            active = valid & (adv != 0) if adv is not None else valid
        dtype = self.params.flat.dtype
        ctx = windows(batch.inputs, self.config.context, self.config.vocab_size).reshape(b * t, -1)
        bag = bag_features(self.params, batch.inputs).reshape(b * t, -1)
        logprobs = np.zeros((b, t), dtype=np.float32)
        correct = np.zeros((b, t), dtype=bool)
        loss = 0.0
        # forward_backward needs only the positions that carry loss; forward gives all.
        groups = (active,) if backprop else (active, valid & ~active)
        for group, mask in enumerate(groups):
            pos = np.flatnonzero(mask)
            if pos.size == 0:
                continue
            keep = backprop and group == 0
            logits, acts = forward(self.params, self.config, ctx[pos], bag[pos], keep=keep)
            targets = batch.targets.reshape(-1)[pos]
            weights = batch.weights.reshape(-1)[pos].astype(dtype, copy=False)
            extra = {
                k: v.reshape(-1)[pos].astype(dtype, copy=False) for k, v in batch.extra.items()
            }
            res = token_loss(
                loss_fn, logits, targets, weights, extra, config, grad=acts is not None
            )
            if acts is not None and res.dlogits is not None:
                dbag = backward(self.params, self.config, acts, res.dlogits, self.grads)
                if self.config.bag_dim:
                    bag_backward(self.grads, batch.inputs, pos, dbag)
            loss += res.loss if group == 0 else 0.0
            logprobs.reshape(-1)[pos] = res.logprobs
            correct.reshape(-1)[pos] = logits.argmax(axis=1) == targets
        if backprop:
            self._pending += 1
        w = np.where(valid, batch.weights, 0.0)
        outputs = [{"logprobs": logprobs[i, : batch.lengths[i]]} for i in range(b)]
        metrics = {
            "loss:sum": loss,
            "num_tokens": float(batch.lengths.sum()),
            "num_loss_tokens": float((w != 0).sum()),
            "weight:sum": float(w.sum(dtype=np.float64)),
            "nll:sum": float(-(logprobs * w).sum(dtype=np.float64)),
            "correct:sum": float((correct * w).sum(dtype=np.float64)),
        }
        return ForwardBackwardOutput(loss=loss, loss_fn_outputs=outputs, metrics=metrics)
