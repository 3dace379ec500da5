"""Supervised data rendered once into padded NumPy matrices, served as batches.

Rendering (the slow, Python part) happens when the data set is built; a batch is then a
fancy-indexing of rows by the epoch's permutation, trimmed to its longest row. That keeps
the training loop's own work per step to microseconds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from crucible import prng
from crucible.errors import InvalidArgumentError
from crucible.train.datasets.examples import Example, messages_of
from crucible.train.datasets.order import epoch_order
from crucible.train.renderers.base import Renderer, TrainOnWhat
from crucible.train.types import Batch, Datum, ModelInput

__all__ = ["SupervisedDataset"]


class SupervisedDataset:
    """Next-token rows: ``inputs[i]`` predicts ``targets[i]`` with ``weights[i]``.

    ``batch_size`` examples per batch, the last partial batch dropped (every step sees the
    same amount of data); an epoch's order is ``epoch_order(n, epoch, seed)``.
    """

    def __init__(
        self,
        inputs: npt.NDArray[np.int32],
        targets: npt.NDArray[np.int32],
        weights: npt.NDArray[np.float32],
        lengths: npt.NDArray[np.int32],
        *,
        batch_size: int,
        seed: int = 0,
        shuffle: bool = True,
    ) -> None:
        if batch_size < 1:
            raise InvalidArgumentError("batch_size must be >= 1")
        if lengths.size == 0:
            raise InvalidArgumentError("a data set needs at least one example")
        self.inputs, self.targets, self.weights, self.lengths = inputs, targets, weights, lengths
        self.batch_size = min(batch_size, int(lengths.size))
        self.seed = seed
        self.shuffle = shuffle
        self._epoch = -1
        self._order = np.arange(lengths.size)

    @classmethod
    def from_examples(
        cls,
        examples: Sequence[Example],
        renderer: Renderer,
        *,
        batch_size: int,
        train_on_what: TrainOnWhat = TrainOnWhat.LAST_ASSISTANT_MESSAGE,
        max_length: int | None = None,
        seed: int = 0,
        shuffle: bool = True,
    ) -> SupervisedDataset:
        """Render each example; ``max_length`` truncates long ones (tokens, before shift)."""
        rows = []
        for ex in examples:
            model_input, weights = renderer.build_supervised_example(messages_of(ex), train_on_what)
            tokens = np.asarray(model_input.to_ints(), dtype=np.int32)
            if max_length is not None:
                tokens, weights = tokens[:max_length], weights[:max_length]
            if tokens.size >= 2:
                rows.append((tokens, weights))
        if not rows:
            raise InvalidArgumentError("no example renders to two or more tokens")
        n, t = len(rows), max(r[0].size for r in rows) - 1
        inputs = np.zeros((n, t), dtype=np.int32)
        targets = np.zeros((n, t), dtype=np.int32)
        w = np.zeros((n, t), dtype=np.float32)
        lengths = np.zeros(n, dtype=np.int32)
        for i, (tokens, weights) in enumerate(rows):
            m = tokens.size - 1
            inputs[i, :m], targets[i, :m], w[i, :m], lengths[i] = (
                tokens[:-1],
                tokens[1:],
                weights[1:],
                m,
            )
        return cls(inputs, targets, w, lengths, batch_size=batch_size, seed=seed, shuffle=shuffle)

    def __len__(self) -> int:
        """Batches per epoch."""
        return int(self.lengths.size) // self.batch_size

    @property
    def num_examples(self) -> int:
        return int(self.lengths.size)

    def set_epoch(self, epoch: int) -> None:
        if epoch != self._epoch:
            self._order = epoch_order(self.num_examples, epoch, self.seed, self.shuffle)
            self._epoch = epoch

    def get_batch(self, index: int) -> Batch:
        """Batch ``index`` of the current epoch (``set_epoch`` first)."""
        if not 0 <= index < len(self):
            raise InvalidArgumentError(f"batch {index} out of range 0..{len(self) - 1}")
        rows = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        return self.rows(rows)

    def rows(self, rows: npt.NDArray[np.int64]) -> Batch:
        lengths = self.lengths[rows]
        t = int(lengths.max())
        return Batch(
            inputs=self.inputs[rows, :t],
            targets=self.targets[rows, :t],
            weights=self.weights[rows, :t],
            lengths=lengths,
        )

    def all_batches(self, batch_size: int | None = None) -> list[Batch]:
        """Every example in file order, in batches (the last may be short): for evaluation."""
        size = batch_size or self.batch_size
        idx = np.arange(self.num_examples)
        return [self.rows(idx[i : i + size]) for i in range(0, idx.size, size)]

    def datums(self) -> list[Datum]:
        out = []
        for i in range(self.num_examples):
            n = int(self.lengths[i])
            out.append(
                Datum(
                    model_input=ModelInput.from_ints(self.inputs[i, :n].tolist()),
                    loss_fn_inputs={
                        "target_tokens": self.targets[i, :n].astype(np.int64),
                        "weights": self.weights[i, :n].copy(),
                    },
                )
            )
        return out

    def with_shuffled_targets(self, seed: int) -> SupervisedDataset:
        """A control data set: the trained-on target tokens permuted across the whole data
        set, so inputs say nothing about their targets (only the token frequencies are left
        to learn). A model that learns here would be fooling its evaluation."""
        targets = self.targets.copy()
        valid = np.arange(targets.shape[1])[None, :] < self.lengths[:, None]
        pos = np.flatnonzero(valid & (self.weights != 0))
        targets.reshape(-1)[pos] = targets.reshape(-1)[pos][
            prng.default_rng(seed).permutation(pos.size)
        ]
        return SupervisedDataset(
            self.inputs,
            targets,
            self.weights,
            self.lengths,
            batch_size=self.batch_size,
            seed=self.seed,
            shuffle=self.shuffle,
        )
