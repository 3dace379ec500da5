"""No-op adapters for every port: they accept every call and do nothing useful, so wiring
(a loop, a pipeline stage) can be tested without a model, a network or a disk."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from crucible.errors import NotFoundError
from crucible.train.datasets.examples import Example
from crucible.train.datasets.order import epoch_order, split_indices
from crucible.train.ports.retrieval import VectorHit
from crucible.train.renderers.messages import Message
from crucible.train.tokenizers import ByteTokenizer, Tokenizer
from crucible.train.types import (
    AdamParams,
    Batch,
    Datum,
    ForwardBackwardOutput,
    LossFn,
    ModelInput,
    OptimStepResult,
    SampledSequence,
    SampleResponse,
    SamplingParams,
)

__all__ = [
    "NoopBlobStore",
    "NoopDatasetStore",
    "NoopEmbeddingClient",
    "NoopHubClient",
    "NoopLLMClient",
    "NoopSamplingClient",
    "NoopTrainingClient",
    "NoopVectorStore",
]


class NoopSamplingClient:
    """Samples nothing: every sequence is empty and ends by ``length``."""

    def sample(
        self,
        prompt: ModelInput,
        num_samples: int = 1,
        sampling_params: SamplingParams | None = None,
        *,
        include_prompt_logprobs: bool = False,
    ) -> SampleResponse:
        seqs = [SampledSequence(tokens=[], logprobs=[], stop_reason="length")] * num_samples
        return SampleResponse(sequences=seqs)

    def compute_logprobs(self, prompt: ModelInput) -> list[float | None]:
        return [None] * prompt.length


class NoopTrainingClient:
    """Zero loss, zero logprobs, steps that change nothing; counts its calls."""

    def __init__(self, tokenizer: Tokenizer | None = None) -> None:
        self._tokenizer = tokenizer or ByteTokenizer()
        self.calls: dict[str, int] = {}

    def _count(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1

    def get_tokenizer(self) -> Tokenizer:
        return self._tokenizer

    def _output(self, data: Sequence[Datum] | Batch) -> ForwardBackwardOutput:
        batch = data if isinstance(data, Batch) else Batch.from_data(list(data))
        outs = [{"logprobs": np.zeros(int(n), np.float32)} for n in batch.lengths]
        metrics = {
            "loss:sum": 0.0,
            "nll:sum": 0.0,
            "correct:sum": 0.0,
            "weight:sum": float(batch.weights.sum()),
            "num_tokens": float(batch.lengths.sum()),
            "num_loss_tokens": float((batch.weights != 0).sum()),
        }
        return ForwardBackwardOutput(loss=0.0, loss_fn_outputs=outs, metrics=metrics)

    def forward(
        self,
        data: Sequence[Datum] | Batch,
        loss_fn: LossFn = "cross_entropy",
        loss_fn_config: Mapping[str, float] | None = None,
    ) -> ForwardBackwardOutput:
        self._count("forward")
        return self._output(data)

    def forward_backward(
        self,
        data: Sequence[Datum] | Batch,
        loss_fn: LossFn = "cross_entropy",
        loss_fn_config: Mapping[str, float] | None = None,
    ) -> ForwardBackwardOutput:
        self._count("forward_backward")
        return self._output(data)

    def optim_step(self, params: AdamParams) -> OptimStepResult:
        self._count("optim_step")
        return OptimStepResult(metrics={"grad_norm": 0.0, "learning_rate": params.learning_rate})

    def save_state(self, directory: Path) -> list[Path]:
        self._count("save_state")
        directory.mkdir(parents=True, exist_ok=True)
        marker = directory / "noop.state"
        marker.write_bytes(b"")
        return [marker]

    def load_state(self, directory: Path, *, weights_only: bool = False) -> None:
        self._count("load_state")

    def rng_state(self) -> dict[str, object]:
        return {}

    def set_rng_state(self, state: Mapping[str, object]) -> None:
        pass

    def save_weights_and_get_sampling_client(self, name: str = "") -> NoopSamplingClient:
        return NoopSamplingClient()


class NoopLLMClient:
    def complete(
        self, messages: Sequence[Message], sampling_params: SamplingParams | None = None
    ) -> Message:
        return Message(role="assistant", content="")


class NoopHubClient:
    def push(self, local_dir: Path, repo_id: str, *, revision: str | None = None) -> str:
        return revision or "noop"

    def pull(self, repo_id: str, local_dir: Path, *, revision: str | None = None) -> Path:
        return local_dir

    def list_revisions(self, repo_id: str) -> list[str]:
        return []


class NoopBlobStore:
    """Forgets everything it is given."""

    def put(self, key: str, data: bytes) -> None:
        pass

    def get(self, key: str) -> bytes:
        raise NotFoundError(f"no blob {key!r} (the no-op store keeps nothing)")

    def delete(self, key: str) -> bool:
        return False

    def list(self, prefix: str = "") -> list[str]:
        return []


class NoopDatasetStore:
    """Has no data sets; the deterministic orderings still work."""

    def list_datasets(self) -> list[str]:
        return []

    def count(self, name: str) -> int:
        return 0

    def load(self, name: str) -> list[Example]:
        return []

    def get(self, name: str, index: int) -> Example:
        raise NotFoundError(f"no data set {name!r} (the no-op store has none)")

    def iter(self, name: str) -> Iterator[Example]:
        return iter(())

    def split(
        self, name: str, val_fraction: float, seed: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        return split_indices(0, val_fraction, seed)

    def epoch_order(self, n: int, epoch: int, seed: int) -> Sequence[int]:
        return [int(i) for i in epoch_order(n, epoch, seed)]


class NoopEmbeddingClient:
    """Zero vectors of a fixed dimension."""

    def __init__(self, dimension: int = 8) -> None:
        self._dimension = dimension

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return np.zeros((len(texts), self._dimension), dtype=np.float32)


class NoopVectorStore:
    """Stores nothing; every query finds nothing."""

    def upsert(
        self,
        ids: Sequence[str],
        vectors: npt.NDArray[np.float32],
        metadata: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        pass

    def query(self, vector: npt.NDArray[np.float32], k: int = 10) -> list[VectorHit]:
        return []

    def get(self, id: str) -> VectorHit | None:
        return None

    def delete(self, ids: Sequence[str]) -> int:
        return 0

    def count(self) -> int:
        return 0

    def clear(self) -> None:
        pass
