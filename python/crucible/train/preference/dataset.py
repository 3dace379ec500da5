"""Comparisons rendered once into chosen/rejected datum pairs, served as batches of pairs.

Each comparison becomes two next-token datums, ``prompt + chosen`` and ``prompt +
rejected``, weighted 1 on the completion's tokens and 0 on the prompt's (a completion's
log-likelihood is then the weighted sum of its token logprobs). A batch is a list of
``2 * batch_size`` datums, chosen at even and rejected at odd positions (tinker-cookbook's
layout); an epoch's order of pairs is ``epoch_order(n, epoch, seed)``, so batches are a pure
function of (seed, epoch, index) and a resumed run sees the same ones.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import numpy as np
import numpy.typing as npt

from crucible.errors import InvalidArgumentError
from crucible.train.datasets.order import epoch_order
from crucible.train.preference.comparisons import Comparison
from crucible.train.renderers.base import Renderer, TrainOnWhat
from crucible.train.renderers.messages import Message
from crucible.train.types import Datum

__all__ = ["PreferenceDataset", "render_completion"]


def render_completion(
    renderer: Renderer,
    prompt: Sequence[Message],
    completion: Sequence[Message],
    max_length: int | None = None,
) -> Datum:
    """The datum of ``prompt + completion`` with weight 1 on the completion's outputs."""
    messages = [msgspec.structs.replace(m, trainable=False) for m in prompt]
    messages += [msgspec.structs.replace(m, trainable=True) for m in completion]
    model_input, weights = renderer.build_supervised_example(messages, TrainOnWhat.CUSTOMIZED)
    tokens = model_input.to_ints()
    if max_length is not None:
        tokens, weights = tokens[:max_length], weights[:max_length]
    if len(tokens) < 2 or not weights[1:].any():
        raise InvalidArgumentError("a completion must keep at least one token after truncation")
    return Datum.from_tokens(tokens, weights)


class PreferenceDataset:
    """Rendered pairs, ``batch_size`` pairs per batch (the last partial batch dropped)."""

    def __init__(
        self,
        pairs: Sequence[tuple[Datum, Datum]],
        *,
        batch_size: int,
        seed: int = 0,
        shuffle: bool = True,
    ) -> None:
        if batch_size < 1:
            raise InvalidArgumentError("batch_size must be >= 1")
        if not pairs:
            raise InvalidArgumentError("a preference data set needs at least one comparison")
        self.pairs = list(pairs)
        self.batch_size = min(batch_size, len(self.pairs))
        self.seed = seed
        self.shuffle = shuffle
        self._epoch = -1
        self._order = np.arange(len(self.pairs))

    @classmethod
    def from_comparisons(
        cls,
        comparisons: Sequence[Comparison],
        renderer: Renderer,
        *,
        batch_size: int,
        max_length: int | None = None,
        seed: int = 0,
        shuffle: bool = True,
    ) -> PreferenceDataset:
        pairs = [
            (
                render_completion(renderer, c.prompt, c.chosen, max_length),
                render_completion(renderer, c.prompt, c.rejected, max_length),
            )
            for c in comparisons
        ]
        return cls(pairs, batch_size=batch_size, seed=seed, shuffle=shuffle)

    def __len__(self) -> int:
        """Batches per epoch."""
        return len(self.pairs) // self.batch_size

    @property
    def num_pairs(self) -> int:
        return len(self.pairs)

    def set_epoch(self, epoch: int) -> None:
        if epoch != self._epoch:
            self._order = epoch_order(len(self.pairs), epoch, self.seed, self.shuffle)
            self._epoch = epoch

    def batch_rows(self, index: int) -> npt.NDArray[np.int64]:
        """Which pairs make batch ``index`` of the current epoch (``set_epoch`` first)."""
        if not 0 <= index < len(self):
            raise InvalidArgumentError(f"batch {index} out of range 0..{len(self) - 1}")
        return self._order[index * self.batch_size : (index + 1) * self.batch_size]

    def datums(self, rows: npt.NDArray[np.int64] | Sequence[int]) -> list[Datum]:
        """The pairs ``rows`` interleaved: chosen, rejected, chosen, rejected, ..."""
        return [d for i in rows for d in self.pairs[int(i)]]

    def get_batch(self, index: int) -> list[Datum]:
        return self.datums(self.batch_rows(index))

    def all_rows(self, batch_size: int | None = None) -> list[npt.NDArray[np.int64]]:
        """Every pair in file order, in batches of rows (the last may be short)."""
        size = batch_size or self.batch_size
        idx = np.arange(len(self.pairs), dtype=np.int64)
        return [idx[i : i + size] for i in range(0, idx.size, size)]
