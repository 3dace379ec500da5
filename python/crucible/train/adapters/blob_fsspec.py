"""A blob store on any fsspec filesystem: ``s3://bucket/prefix`` (with ``s3fs``), ``gs://``,
``abfs://``, a local path or ``file://`` URL, or a filesystem object passed in.

Object stores write an object in one request, which is already atomic, so bytes go straight
to the key there. On filesystems with real files (local, SFTP, ...) a write goes to a hidden
temporary name first and is moved over the key, as in :mod:`.blob_local`. ``fsspec`` is the
optional ``fsspec`` extra; the protocol's own package (``s3fs`` for S3) must be installed too,
and a missing one is reported as a :class:`ConfigurationError` naming it.
"""

from __future__ import annotations

import uuid
from typing import Any

from crucible.errors import ConfigurationError, StorageError
from crucible.train.adapters.blob_addressing import BlobStoreBase

__all__ = ["FsspecBlobStore"]

_OBJECT_STORES = frozenset({"s3", "s3a", "gs", "gcs", "abfs", "az", "adl", "oss", "r2"})


def _import_fsspec() -> Any:
    try:
        import fsspec  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - depends on the environment
        raise ConfigurationError(
            "the fsspec blob store needs 'fsspec': pip install 'crucible[fsspec]'"
        ) from None
    return fsspec


class FsspecBlobStore(BlobStoreBase):
    def __init__(self, url: str, *, filesystem: Any = None, **storage_options: Any) -> None:
        """``filesystem`` (an ``fsspec.AbstractFileSystem``) overrides the one ``url`` names;
        ``url`` is then a path on it. ``storage_options`` go to the filesystem (credentials,
        ``endpoint_url`` for an S3-compatible server...)."""
        fsspec = _import_fsspec()
        if filesystem is not None:
            self.fs, self.root = filesystem, str(filesystem._strip_protocol(url))
        else:
            try:
                self.fs, self.root = fsspec.core.url_to_fs(url, **storage_options)
            except ImportError as exc:
                raise ConfigurationError(
                    f"the filesystem for {url!r} needs a package fsspec could not import "
                    f"({exc}); install it (s3fs for s3:// URLs) beside 'crucible[fsspec]'"
                ) from None
            except ValueError as exc:
                raise ConfigurationError(f"fsspec cannot open {url!r}: {exc}") from None
        self.root = self.root.rstrip("/")
        protocols = self.fs.protocol
        names = {protocols} if isinstance(protocols, str) else set(protocols)
        self.atomic_puts = bool(names & _OBJECT_STORES)
        if not self.atomic_puts:
            self.fs.makedirs(self.root, exist_ok=True)

    def _path(self, key: str) -> str:
        return f"{self.root}/{key}"

    def _write(self, key: str, data: bytes) -> None:
        target = self._path(key)
        try:
            if self.atomic_puts:
                self.fs.pipe_file(target, data)
                return
            parent = target.rpartition("/")[0]
            self.fs.makedirs(parent, exist_ok=True)
            tmp = f"{parent}/.{uuid.uuid4().hex}.tmp"
            try:
                self.fs.pipe_file(tmp, data)
                self.fs.mv(tmp, target)
            except BaseException:
                if self.fs.exists(tmp):
                    self.fs.rm_file(tmp)
                raise
        except OSError as exc:
            raise StorageError(f"cannot write blob {key!r} to {target}: {exc}") from exc

    def _read(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            data = self.fs.cat_file(path)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        except OSError as exc:
            raise StorageError(f"cannot read blob {key!r} from {path}: {exc}") from exc
        return bytes(data)

    def _remove(self, key: str) -> bool:
        path = self._path(key)
        try:
            if not self.fs.isfile(path):
                return False
            self.fs.rm_file(path)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise StorageError(f"cannot delete blob {key!r} at {path}: {exc}") from exc
        return True

    def _keys(self, prefix: str) -> list[str]:
        head = prefix.rpartition("/")[0]
        start = self._path(head) if head else self.root
        try:
            found = self.fs.find(start) if self.fs.isdir(start) else []
        except FileNotFoundError:
            return []
        keys = []
        cut = len(self.root) + 1
        for path in found:
            key = str(path)[cut:]
            if key and not any(part.startswith(".") for part in key.split("/")):
                keys.append(key)
        return keys
