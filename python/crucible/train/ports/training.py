"""The training port: what a loop needs from whatever holds the weights.

Calls are synchronous (tinker's are futures): the local NumPy backend computes in-process,
and a remote adapter can block on its futures behind this same face.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from crucible.train.model_info import ModelInfo
from crucible.train.ports.sampling import SamplingClient
from crucible.train.tokenizers import Tokenizer
from crucible.train.types import (
    AdamParams,
    Batch,
    Datum,
    ForwardBackwardOutput,
    LossFn,
    OptimStepResult,
)

__all__ = ["SupportsModelInfo", "TrainingClient"]

TrainingData = Sequence[Datum] | Batch


@runtime_checkable
class TrainingClient(Protocol):
    """A trainable model.

    ``forward_backward`` adds this call's gradients to the pending ones (so several calls
    accumulate, e.g. micro-batches); ``optim_step`` applies and clears them.
    ``loss_fn_config`` tunes a loss (``clip_low_threshold``/``clip_high_threshold`` for
    ``ppo``). ``save_state``/``load_state`` cover weights *and* optimizer state, so a run
    resumes exactly.
    """

    def get_tokenizer(self) -> Tokenizer: ...

    def forward(
        self,
        data: TrainingData,
        loss_fn: LossFn = "cross_entropy",
        loss_fn_config: Mapping[str, float] | None = None,
    ) -> ForwardBackwardOutput: ...

    def forward_backward(
        self,
        data: TrainingData,
        loss_fn: LossFn = "cross_entropy",
        loss_fn_config: Mapping[str, float] | None = None,
    ) -> ForwardBackwardOutput: ...

    def optim_step(self, params: AdamParams) -> OptimStepResult: ...

    def save_state(self, directory: Path) -> list[Path]:
        """Write weights and optimizer state under ``directory``; return the files."""
        ...

    def load_state(self, directory: Path, *, weights_only: bool = False) -> None: ...

    def rng_state(self) -> dict[str, object]:
        """The backend's random state (JSON-ready), saved in checkpoint manifests."""
        ...

    def set_rng_state(self, state: Mapping[str, object]) -> None: ...

    def save_weights_and_get_sampling_client(self, name: str = "") -> SamplingClient:
        """A sampler over a snapshot of the current weights (later steps do not move it)."""
        ...


@runtime_checkable
class SupportsModelInfo(Protocol):
    """Optional: backends that can describe their model."""

    def model_info(self) -> ModelInfo: ...
