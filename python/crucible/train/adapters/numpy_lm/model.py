"""A small causal language model in NumPy with a hand-written backward pass.

Architecture (a neural probabilistic LM after Bengio et al. 2003, with residual layers):
the previous ``context`` tokens (padded with a start symbol) are embedded and concatenated,
together with a *bag* feature, the running mean of a second embedding over every token so
far (what the conversation is about, beyond the window); then ``h = tanh(x W0 + b0)``,
``layers - 1`` residual blocks ``h = h + tanh(h Wi + bi)``, and ``logits = h Wout + bout``.

We chose it over a tiny transformer because a position depends on the sequence only through
its window and one prefix mean (a cumulative sum): a batch is one matrix of features, the hot
path is a handful of matrix products (BLAS), and the backward pass can skip positions that
carry no loss without changing a single gradient. It is causal by construction and learns
real structure (chat markup, templates, words, which question is being answered), which is
what the training loop needs to be exercised for real.

Parameters live in one flat buffer (``ParamSet``) so the optimizer updates everything with a
few vectorized calls and checkpoints write named views of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec
import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from crucible import prng
from crucible.errors import InvalidArgumentError

__all__ = [
    "Activations",
    "BlasThreads",
    "NumpyLMConfig",
    "ParamSet",
    "backward",
    "forward",
    "windows",
]

Array = npt.NDArray[np.floating]
Pos = Annotated[int, msgspec.Meta(ge=1)]


class NumpyLMConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Shape of the model. ``vocab_size`` must cover the tokenizer's ids."""

    vocab_size: Pos
    context: Pos = 8
    embed_dim: Pos = 32
    hidden: Pos = 128
    layers: Pos = 2
    bag_dim: Annotated[int, msgspec.Meta(ge=0)] = 16
    """Width of the prefix-mean feature (0: window only)."""
    dtype: Literal["float32", "float64"] = "float32"
    seed: int = 0
    name: str = "numpy-mlp-lm"


class ParamSet:
    """Named parameter arrays that are views into one contiguous buffer."""

    def __init__(self, shapes: dict[str, tuple[int, ...]], dtype: np.dtype[np.floating]) -> None:
        self.shapes = shapes
        sizes = [int(np.prod(s)) for s in shapes.values()]
        self.flat: Array = np.zeros(sum(sizes), dtype=dtype)
        self.views: dict[str, Array] = {}
        start = 0
        for (name, shape), size in zip(shapes.items(), sizes, strict=True):
            self.views[name] = self.flat[start : start + size].reshape(shape)
            start += size

    def __getitem__(self, name: str) -> Array:
        return self.views[name]

    def zeros_like(self) -> ParamSet:
        return ParamSet(self.shapes, self.flat.dtype)

    def copy(self) -> ParamSet:
        out = self.zeros_like()
        out.flat[:] = self.flat
        return out

    def decay_mask(self) -> Array:
        """1 on weight matrices, 0 on biases and embeddings (not decayed, by convention)."""
        mask = self.zeros_like()
        for name, view in mask.views.items():
            if name.startswith("w") or name == "out_w":
                view[...] = 1.0
        return mask.flat


def param_shapes(cfg: NumpyLMConfig) -> dict[str, tuple[int, ...]]:
    # Row ``vocab_size`` of the embedding is the start symbol that pads short windows.
    shapes: dict[str, tuple[int, ...]] = {
        "embed": (cfg.vocab_size + 1, cfg.embed_dim),
        "bag": (cfg.vocab_size, cfg.bag_dim),
        "w0": (cfg.context * cfg.embed_dim + cfg.bag_dim, cfg.hidden),
        "b0": (cfg.hidden,),
    }
    for i in range(1, cfg.layers):
        shapes[f"w{i}"] = (cfg.hidden, cfg.hidden)
        shapes[f"b{i}"] = (cfg.hidden,)
    shapes["out_w"] = (cfg.hidden, cfg.vocab_size)
    shapes["out_b"] = (cfg.vocab_size,)
    return shapes


def init_params(cfg: NumpyLMConfig) -> ParamSet:
    """Scaled normal initialisation from ``crucible.prng`` (same seed, same weights)."""
    params = ParamSet(param_shapes(cfg), np.dtype(cfg.dtype))
    rng = prng.default_rng(cfg.seed)
    for name, view in params.views.items():
        if name in ("embed", "bag"):
            scale = 1.0
        elif name.startswith("w") or name == "out_w":
            scale = 1.0 / np.sqrt(view.shape[0])
            if name != "w0":
                scale *= 0.5  # residual branches and the head start small
        else:
            continue  # biases start at zero
        view[...] = rng.standard_normal(view.size).reshape(view.shape) * scale
    return params


def windows(inputs: npt.NDArray[np.integer], context: int, start_id: int) -> npt.NDArray[np.int32]:
    """``[B, T, context]`` token windows ending at each position (start symbol before 0)."""
    b, t = inputs.shape
    padded = np.full((b, t + context - 1), start_id, dtype=np.int32)
    padded[:, context - 1 :] = inputs
    return sliding_window_view(padded, context, axis=1)


def bag_features(params: ParamSet, inputs: npt.NDArray[np.integer]) -> Array:
    """``[B, T, bag_dim]``: at each position, the mean bag embedding of tokens 0..t."""
    e = params["bag"][inputs]
    counts = np.arange(1, inputs.shape[1] + 1, dtype=e.dtype)
    out: Array = np.cumsum(e, axis=1) / counts[None, :, None]
    return out


def bag_backward(
    grads: ParamSet,
    inputs: npt.NDArray[np.integer],
    pos: npt.NDArray[np.intp],
    dbag: Array,
) -> None:
    """Gradients of :func:`bag_features` at flat positions ``pos`` into ``grads["bag"]``:
    token ``s`` receives the sum over later positions ``t >= s`` of ``dbag_t / (t + 1)``."""
    b, t = inputs.shape
    grid = np.zeros((b * t, dbag.shape[1]), dtype=dbag.dtype)
    grid[pos] = dbag
    grid = grid.reshape(b, t, -1) / np.arange(1, t + 1, dtype=dbag.dtype)[None, :, None]
    per_token = np.cumsum(grid[:, ::-1], axis=1)[:, ::-1].reshape(b * t, -1)
    _scatter_rows(grads["bag"], inputs.reshape(-1), per_token)


def _scatter_rows(target: Array, idx: npt.NDArray[np.integer], values: Array) -> None:
    # One bincount per column is several times faster than np.add.at, and exact up to
    # float summation order.
    for col, column in enumerate(np.ascontiguousarray(values.T)):
        target[:, col] += np.bincount(idx, weights=column, minlength=target.shape[0])


@dataclass
class Activations:
    """What the backward pass needs from the forward pass."""

    rows: npt.NDArray[np.int32]  # [N, context] window token ids
    x: Array  # [N, context * embed_dim + bag_dim]
    hs: list[Array]  # hidden state after each layer, hs[0] = tanh(x W0 + b0)
    ts: list[Array]  # tanh outputs of the residual branches


def forward(
    params: ParamSet,
    cfg: NumpyLMConfig,
    rows: npt.NDArray[np.int32],
    bag: Array,
    *,
    keep: bool = True,
) -> tuple[Array, Activations | None]:
    """Logits ``[N, vocab]`` for ``N`` windows and their bag features ``[N, bag_dim]``;
    activations kept for a backward pass."""
    if rows.size and (rows.max() > cfg.vocab_size or rows.min() < 0):
        raise InvalidArgumentError(f"token id outside 0..{cfg.vocab_size - 1}")
    x = params["embed"][rows].reshape(rows.shape[0], -1)
    if cfg.bag_dim:
        x = np.concatenate([x, bag], axis=1)
    h = np.tanh(x @ params["w0"] + params["b0"])
    hs, ts = [h], []
    for i in range(1, cfg.layers):
        t = np.tanh(h @ params[f"w{i}"] + params[f"b{i}"])
        h = h + t
        hs.append(h)
        ts.append(t)
    logits = h @ params["out_w"] + params["out_b"]
    return logits, (Activations(rows, x, hs, ts) if keep else None)


def backward(
    params: ParamSet, cfg: NumpyLMConfig, acts: Activations, dlogits: Array, grads: ParamSet
) -> Array:
    """Add the gradients of a loss with ``d loss / d logits = dlogits`` into ``grads``;
    return the gradient of the bag features ``[N, bag_dim]`` (see :func:`bag_backward`)."""
    h = acts.hs[-1]
    grads["out_w"][...] += h.T @ dlogits
    grads["out_b"][...] += dlogits.sum(axis=0)
    dh = dlogits @ params["out_w"].T
    for i in range(cfg.layers - 1, 0, -1):
        da = dh * (1.0 - acts.ts[i - 1] ** 2)
        h_prev = acts.hs[i - 1]
        grads[f"w{i}"][...] += h_prev.T @ da
        grads[f"b{i}"][...] += da.sum(axis=0)
        dh = dh + da @ params[f"w{i}"].T
    da0 = dh * (1.0 - acts.hs[0] ** 2)
    grads["w0"][...] += acts.x.T @ da0
    grads["b0"][...] += da0.sum(axis=0)
    dx = da0 @ params["w0"].T
    width = cfg.context * cfg.embed_dim
    _scatter_rows(grads["embed"], acts.rows.ravel(), dx[:, :width].reshape(-1, cfg.embed_dim))
    dbag: Array = dx[:, width:]
    return dbag


class BlasThreads:
    """Caps BLAS threads during the backend's calls (a context manager, re-entrant).

    This model's matrices are small: on a busy machine OpenBLAS threads spin against each
    other and a 1000x128 product can take 100x longer than on one thread (measured), so the
    default is one thread. Needs ``threadpoolctl``; without it this does nothing.
    """

    def __init__(self, threads: int | None) -> None:
        self._limiter = None
        if threads is not None:
            try:
                from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]
            except ImportError:  # pragma: no cover - depends on the environment
                return
            self._limiter = ThreadpoolController().select(user_api="blas")
            self._threads = threads
        self._depth = 0
        self._ctx: Any = None

    def __enter__(self) -> None:
        if self._limiter is not None and self._depth == 0:
            self._ctx = self._limiter.limit(limits=self._threads)
            self._ctx.__enter__()
        self._depth += 1

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._ctx is not None and self._depth == 0:
            self._ctx.__exit__(None, None, None)
            self._ctx = None
