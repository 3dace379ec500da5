"""A blob store in a local directory: one file per key, at ``root/<key>``.

Writes go to a hidden temporary file in the target's directory, are flushed and fsynced,
then renamed over the target with :func:`os.replace`, so a reader sees the old bytes or the
new ones, never half of either, even if the writer dies. Deleting a blob also removes the
directories it leaves empty (a store of many short-lived keys does not pile up folders).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from crucible.errors import StorageError
from crucible.train.adapters.blob_addressing import BlobStoreBase

__all__ = ["LocalBlobStore"]


class LocalBlobStore(BlobStoreBase):
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create the blob store at {self.root}: {exc}") from exc

    def path_of(self, key: str) -> Path:
        """Where ``key``'s bytes live (for tools that want a file, e.g. ``mmap``)."""
        return self.root.joinpath(*key.split("/"))

    def _write(self, key: str, data: bytes) -> None:
        target = self.path_of(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise StorageError(f"cannot write blob {key!r}: {exc}") from exc

    def _read(self, key: str) -> bytes | None:
        try:
            return self.path_of(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        except OSError as exc:
            raise StorageError(f"cannot read blob {key!r}: {exc}") from exc

    def _remove(self, key: str) -> bool:
        path = self.path_of(key)
        try:
            path.unlink()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return False
        except OSError as exc:
            raise StorageError(f"cannot delete blob {key!r}: {exc}") from exc
        parent = path.parent
        while parent != self.root:
            try:
                parent.rmdir()
            except OSError:  # not empty (or raced by a writer): keep it
                break
            parent = parent.parent
        return True

    def _keys(self, prefix: str) -> list[str]:
        head = prefix.rpartition("/")[0]
        start = self.path_of(head) if head else self.root
        if not start.is_dir():
            return []
        keys = []
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            rel = Path(dirpath).relative_to(self.root).as_posix()
            for name in filenames:
                if not name.startswith("."):
                    keys.append(name if rel == "." else f"{rel}/{name}")
        return keys
