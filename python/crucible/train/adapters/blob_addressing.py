"""What every blob store shares: the key rules, content addressing, and the port's methods
written once over four storage primitives.

Keys are ``/``-separated relative paths whose segments start with a letter, digit or ``_``
and use only ``A-Z a-z 0-9 . _ - = + @ ,``: safe as file names on every OS and as S3 object
names, and never ``..``, absolute, or hidden (temporary files start with ``.``, so no key can
collide with one). Content keys are ``sha256/<64 hex>``: :meth:`BlobStoreBase.put_content`
derives the key from the bytes, and :meth:`BlobStoreBase.get` re-hashes what it reads under
such a key, raising :class:`IntegrityError` if the stored bytes were changed.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod

from crucible.errors import IntegrityError, InvalidArgumentError, NotFoundError

__all__ = [
    "CONTENT_PREFIX",
    "BlobStoreBase",
    "content_key",
    "validate_key",
    "validate_relative_path",
]

CONTENT_PREFIX = "sha256/"
MAX_KEY_LENGTH = 1024
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._\-=+@,]*")
_CONTENT_KEY = re.compile(r"sha256/[0-9a-f]{64}")


def validate_relative_path(path: str) -> str:
    """A ``/``-separated path that stays inside its root: not empty or absolute, no empty,
    ``.`` or ``..`` segment, no backslash or control character."""
    if not isinstance(path, str) or not path:
        raise InvalidArgumentError(f"a path must be a non-empty string, got {path!r}")
    if len(path) > MAX_KEY_LENGTH:
        raise InvalidArgumentError(f"path longer than {MAX_KEY_LENGTH} characters")
    if path.startswith("/") or "\\" in path or any(ord(c) < 32 or ord(c) == 127 for c in path):
        raise InvalidArgumentError(
            f"{path!r} must be relative, with '/' separators and no control characters"
        )
    for segment in path.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidArgumentError(f"{path!r} has an empty, '.' or '..' segment")
    return path


def validate_key(key: str) -> str:
    """``key`` if it follows the key rules above; :class:`InvalidArgumentError` otherwise."""
    validate_relative_path(key)
    for segment in key.split("/"):
        if not _SEGMENT.fullmatch(segment):
            raise InvalidArgumentError(
                f"bad key {key!r}: segment {segment!r} must start with a letter, digit or '_' "
                "and use only letters, digits and . _ - = + @ ,"
            )
    return key


def content_key(data: bytes) -> str:
    return CONTENT_PREFIX + hashlib.sha256(data).hexdigest()


class BlobStoreBase(ABC):
    """The :class:`~crucible.train.ports.BlobStore` methods plus content addressing, over
    :meth:`_write` (atomic), :meth:`_read`, :meth:`_remove` and :meth:`_keys`."""

    @abstractmethod
    def _write(self, key: str, data: bytes) -> None: ...

    @abstractmethod
    def _read(self, key: str) -> bytes | None:
        """The bytes under ``key``, or ``None`` if there are none."""

    @abstractmethod
    def _remove(self, key: str) -> bool: ...

    @abstractmethod
    def _keys(self, prefix: str) -> list[str]:
        """Every stored key starting with ``prefix`` (a superset is fine: it is filtered)."""

    def put(self, key: str, data: bytes) -> None:
        """Write ``data`` under ``key``, replacing what was there in one step. Bytes put under
        a content key must hash to it."""
        validate_key(key)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidArgumentError(f"blob data must be bytes, got {type(data).__name__}")
        data = bytes(data)
        if _CONTENT_KEY.fullmatch(key) and content_key(data) != key:
            raise InvalidArgumentError(f"the data does not hash to its content key {key!r}")
        self._write(key, data)

    def put_content(self, data: bytes) -> str:
        """Store ``data`` under its own SHA-256 (``sha256/<hex>``) and return that key; the
        same bytes always land on the same key, so storing them twice costs nothing."""
        key = content_key(bytes(data))
        if not self.exists(key):
            self.put(key, data)
        return key

    def get(self, key: str) -> bytes:
        validate_key(key)
        data = self._read(key)
        if data is None:
            raise NotFoundError(f"no blob {key!r}")
        if _CONTENT_KEY.fullmatch(key) and content_key(data) != key:
            raise IntegrityError(f"blob {key!r} does not match its SHA-256: it was modified")
        return data

    def exists(self, key: str) -> bool:
        validate_key(key)
        return self._read(key) is not None

    def delete(self, key: str) -> bool:
        """Whether there was a blob to delete."""
        return self._remove(validate_key(key))

    def list(self, prefix: str = "") -> list[str]:
        """Keys starting with ``prefix`` (a plain string prefix, as in S3), sorted."""
        if not isinstance(prefix, str) or "\\" in prefix or ".." in prefix.split("/"):
            raise InvalidArgumentError(f"bad key prefix {prefix!r}")
        return sorted(k for k in self._keys(prefix) if k.startswith(prefix))
