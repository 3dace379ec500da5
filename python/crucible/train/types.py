"""The data that flows between renderers, datasets, loops and training backends.

The shapes follow tinker's, so recipes read the same: a :class:`ModelInput` is an ordered list
of chunks (encoded text, image placeholders); a :class:`Datum` pairs one with the
``loss_fn_inputs`` a loss needs (``target_tokens``, ``weights``, ``advantages``, ``logprobs``);
a backend answers with a :class:`ForwardBackwardOutput`. Unlike tinker, per-token inputs are
NumPy arrays from the start, and a whole step's data can travel as one padded :class:`Batch`,
so a loop never converts lists of Python ints on its hot path. :class:`TensorData` is the
serializable form of an array (dtype, shape, flat data), for JSON and the wire.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Literal

import msgspec
import numpy as np
import numpy.typing as npt

from crucible.errors import InvalidArgumentError, UnsupportedOperationError

__all__ = [
    "AdamParams",
    "Batch",
    "Chunk",
    "Datum",
    "EncodedTextChunk",
    "ForwardBackwardOutput",
    "ImageChunk",
    "LossFn",
    "ModelInput",
    "OptimStepResult",
    "SampleResponse",
    "SampledSequence",
    "SamplingParams",
    "TensorData",
    "TokensWithLogprobs",
]

LossFn = Literal["cross_entropy", "importance_sampling", "ppo"]
"""The built-in losses (tinker's names). All are sums over tokens, as in tinker:
``cross_entropy`` = -Σ w·log p; ``importance_sampling`` = -Σ (p/q)·A;
``ppo`` = -Σ min((p/q)·A, clip(p/q, 1-ε_lo, 1+ε_hi)·A)."""

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]
_DTYPES = ("int64", "int32", "float32", "float64", "bool")


class TensorData(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An array in serializable form: the dtype name, the shape, the flat row-major data."""

    dtype: Literal["int64", "int32", "float32", "float64", "bool"]
    shape: tuple[int, ...]
    data: list[Any]

    @classmethod
    def from_numpy(cls, array: npt.ArrayLike) -> TensorData:
        arr = np.asarray(array)
        if arr.dtype.name not in _DTYPES:
            raise InvalidArgumentError(f"unsupported dtype {arr.dtype.name}; use one of {_DTYPES}")
        return cls(dtype=arr.dtype.name, shape=tuple(arr.shape), data=arr.ravel().tolist())

    def to_numpy(self) -> npt.NDArray[Any]:
        arr = np.asarray(self.data, dtype=self.dtype)
        expected = int(np.prod(self.shape, dtype=np.int64))
        if arr.size != expected:
            raise InvalidArgumentError(f"{arr.size} values do not fill shape {self.shape}")
        return arr.reshape(self.shape)


class EncodedTextChunk(msgspec.Struct, frozen=True, tag="encoded_text", tag_field="type"):
    """Token ids of rendered text."""

    tokens: tuple[int, ...]

    @property
    def length(self) -> int:
        return len(self.tokens)


class ImageChunk(msgspec.Struct, frozen=True, kw_only=True, tag="image", tag_field="type"):
    """An image placeholder: the encoded bytes and how many positions the model gives it."""

    data: bytes
    format: str = "png"
    expected_tokens: Annotated[int, msgspec.Meta(ge=1)] = 1

    @property
    def length(self) -> int:
        return self.expected_tokens


Chunk = EncodedTextChunk | ImageChunk


class ModelInput(msgspec.Struct, frozen=True):
    """What a model reads: chunks in order. Text-only inputs flatten to token ids."""

    chunks: tuple[Chunk, ...] = ()

    @classmethod
    def from_ints(cls, tokens: Iterable[int]) -> ModelInput:
        return cls((EncodedTextChunk(tuple(int(t) for t in tokens)),))

    @property
    def length(self) -> int:
        return sum(chunk.length for chunk in self.chunks)

    def to_ints(self) -> list[int]:
        """All token ids; image chunks have none, so text-only backends refuse them here."""
        out: list[int] = []
        for chunk in self.chunks:
            if isinstance(chunk, ImageChunk):
                raise UnsupportedOperationError(
                    "this input holds an image chunk; a text-only model cannot read it"
                )
            out.extend(chunk.tokens)
        return out

    def append(self, chunk: Chunk) -> ModelInput:
        return ModelInput((*self.chunks, chunk))

    def append_int(self, token: int) -> ModelInput:
        return self.append(EncodedTextChunk((int(token),)))


class Datum(msgspec.Struct, frozen=True, kw_only=True):
    """One training sequence: its input and the per-position arrays its loss needs.

    Position ``i`` of every array in ``loss_fn_inputs`` belongs to input position ``i``,
    whose target is the next token (``target_tokens[i]``).
    """

    model_input: ModelInput
    loss_fn_inputs: dict[str, npt.NDArray[Any]]

    @classmethod
    def from_tokens(cls, tokens: Sequence[int], weights: npt.ArrayLike) -> Datum:
        """The next-token datum of a full sequence: input ``tokens[:-1]``, targets
        ``tokens[1:]``, weights shifted the same way."""
        toks = np.asarray(tokens, dtype=np.int64)
        w = np.asarray(weights, dtype=np.float32)
        if toks.shape != w.shape or toks.ndim != 1 or toks.size < 2:
            raise InvalidArgumentError("tokens and weights must be 1-D, equal length, >= 2")
        return cls(
            model_input=ModelInput.from_ints(toks[:-1].tolist()),
            loss_fn_inputs={"target_tokens": toks[1:], "weights": w[1:]},
        )

    def to_builtins(self) -> dict[str, Any]:
        """A JSON-ready form (arrays as :class:`TensorData`)."""
        return {
            "model_input": msgspec.to_builtins(self.model_input),
            "loss_fn_inputs": {
                k: msgspec.to_builtins(TensorData.from_numpy(v))
                for k, v in sorted(self.loss_fn_inputs.items())
            },
        }

    @classmethod
    def from_builtins(cls, obj: Mapping[str, Any]) -> Datum:
        return cls(
            model_input=msgspec.convert(obj["model_input"], ModelInput),
            loss_fn_inputs={
                k: msgspec.convert(v, TensorData).to_numpy()
                for k, v in obj["loss_fn_inputs"].items()
            },
        )


class Batch(msgspec.Struct, kw_only=True):
    """A step's data collated into padded ``[B, T]`` arrays (padding has weight 0).

    ``inputs`` are token ids; ``extra`` holds any other per-position loss inputs
    (``advantages``, ``logprobs``) with the same shape.
    """

    inputs: npt.NDArray[np.int32]
    targets: npt.NDArray[np.int32]
    weights: npt.NDArray[np.float32]
    lengths: npt.NDArray[np.int32]
    extra: dict[str, npt.NDArray[np.float32]] = msgspec.field(default_factory=dict)

    @property
    def size(self) -> int:
        return int(self.inputs.shape[0])

    @property
    def num_tokens(self) -> int:
        return int(self.lengths.sum())

    @classmethod
    def from_data(cls, data: Sequence[Datum], pad_id: int = 0) -> Batch:
        if not data:
            raise InvalidArgumentError("cannot collate an empty batch")
        rows = [np.asarray(d.model_input.to_ints(), dtype=np.int32) for d in data]
        lengths = np.array([r.size for r in rows], dtype=np.int32)
        b, t = len(rows), int(lengths.max())
        inputs = np.full((b, t), pad_id, dtype=np.int32)
        targets = np.full((b, t), pad_id, dtype=np.int32)
        weights = np.zeros((b, t), dtype=np.float32)
        keys = {k for d in data for k in d.loss_fn_inputs} - {"target_tokens", "weights"}
        extra = {k: np.zeros((b, t), dtype=np.float32) for k in sorted(keys)}
        for i, (row, datum) in enumerate(zip(rows, data, strict=True)):
            n = row.size
            inputs[i, :n] = row
            lfi = datum.loss_fn_inputs
            targets[i, :n] = lfi["target_tokens"]
            if "weights" in lfi:
                weights[i, :n] = lfi["weights"]
            else:  # RL data carries advantages instead of weights: every position counts
                weights[i, :n] = 1.0
            for k, arr in extra.items():
                if k in lfi:
                    arr[i, :n] = lfi[k]
        return cls(inputs=inputs, targets=targets, weights=weights, lengths=lengths, extra=extra)

    def to_data(self) -> list[Datum]:
        out = []
        for i in range(self.size):
            n = int(self.lengths[i])
            lfi: dict[str, npt.NDArray[Any]] = {
                "target_tokens": self.targets[i, :n].astype(np.int64),
                "weights": self.weights[i, :n].copy(),
            }
            lfi.update({k: v[i, :n].copy() for k, v in self.extra.items()})
            out.append(
                Datum(model_input=ModelInput.from_ints(self.inputs[i, :n]), loss_fn_inputs=lfi)
            )
        return out


class TokensWithLogprobs(msgspec.Struct, frozen=True, kw_only=True):
    """A completion's tokens and, when asked for, the sampler's log-probability of each."""

    tokens: list[int]
    maybe_logprobs: list[float] | None = None

    @property
    def logprobs(self) -> list[float]:
        if self.maybe_logprobs is None:
            raise InvalidArgumentError("these tokens were sampled without logprobs")
        return self.maybe_logprobs


class AdamParams(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One optimizer step's hyperparameters (AdamW; decay is decoupled, as in Loshchilov &
    Hutter). ``grad_clip_norm`` 0 disables clipping."""

    learning_rate: Annotated[float, msgspec.Meta(ge=0.0)]
    beta1: Annotated[float, msgspec.Meta(ge=0.0, lt=1.0)] = 0.9
    beta2: Annotated[float, msgspec.Meta(ge=0.0, lt=1.0)] = 0.95
    eps: Annotated[float, msgspec.Meta(gt=0.0)] = 1e-8
    weight_decay: Annotated[float, msgspec.Meta(ge=0.0)] = 0.0
    grad_clip_norm: Annotated[float, msgspec.Meta(ge=0.0)] = 0.0


class SamplingParams(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How to sample. ``stop`` is token ids or strings (a renderer's stop sequences);
    ``seed`` makes a call reproducible on its own."""

    max_tokens: Annotated[int, msgspec.Meta(ge=1)] = 64
    temperature: Annotated[float, msgspec.Meta(ge=0.0)] = 1.0
    top_p: Annotated[float, msgspec.Meta(gt=0.0, le=1.0)] = 1.0
    stop: list[int | str] | None = None
    seed: int | None = None


class SampledSequence(msgspec.Struct, frozen=True, kw_only=True):
    """One sample: its tokens (stop token included), their logprobs, why it ended."""

    tokens: list[int]
    logprobs: list[float] | None
    stop_reason: Literal["stop", "length"]

    def to_tokens_with_logprobs(self) -> TokensWithLogprobs:
        return TokensWithLogprobs(tokens=self.tokens, maybe_logprobs=self.logprobs)


class SampleResponse(msgspec.Struct, frozen=True, kw_only=True):
    sequences: list[SampledSequence]
    prompt_logprobs: list[float | None] | None = None


class ForwardBackwardOutput(msgspec.Struct, kw_only=True):
    """A forward (and maybe backward) pass: the summed loss, per-datum outputs (``logprobs``
    of each target token) and scalar metrics (``loss:sum``, token counts, ...)."""

    loss: float
    loss_fn_outputs: list[dict[str, npt.NDArray[np.float32]]]
    metrics: dict[str, float] = msgspec.field(default_factory=dict)


class OptimStepResult(msgspec.Struct, kw_only=True):
    """What an optimizer step reports (``grad_norm``, ``learning_rate``, ...)."""

    metrics: dict[str, float] = msgspec.field(default_factory=dict)
