"""Storage ports: model hubs, blobs, and data sets."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from crucible.train.datasets.examples import Example

__all__ = ["BlobStore", "DatasetStore", "HubClient"]


@runtime_checkable
class HubClient(Protocol):
    """Where trained models are published and fetched (a model hub, a registry)."""

    def push(self, local_dir: Path, repo_id: str, *, revision: str | None = None) -> str:
        """Upload a directory; return the published revision."""
        ...

    def pull(self, repo_id: str, local_dir: Path, *, revision: str | None = None) -> Path: ...

    def list_revisions(self, repo_id: str) -> list[str]: ...


@runtime_checkable
class BlobStore(Protocol):
    """Bytes by key (object storage, a directory)."""

    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> bool: ...

    def list(self, prefix: str = "") -> list[str]: ...


@runtime_checkable
class DatasetStore(Protocol):
    """Named data sets of examples (conversations or prompt/completion pairs).

    ``epoch_order`` is the order examples are visited in an epoch: a deterministic function
    of the seed and epoch, so a resumed run sees the same batches. ``split`` divides a data
    set into train and validation indices the same way every time.
    """

    def list_datasets(self) -> list[str]: ...

    def count(self, name: str) -> int: ...

    def load(self, name: str) -> list[Example]: ...

    def get(self, name: str, index: int) -> Example: ...

    def iter(self, name: str) -> Iterator[Example]: ...

    def split(
        self, name: str, val_fraction: float, seed: int
    ) -> tuple[Sequence[int], Sequence[int]]: ...

    def epoch_order(self, n: int, epoch: int, seed: int) -> Sequence[int]: ...
