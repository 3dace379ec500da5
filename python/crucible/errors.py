"""One exception hierarchy for all of crucible.

Every error crucible raises on purpose derives from :class:`CrucibleError`, so callers can
catch ours without catching everything. Errors about bad arguments also derive from the
built-in they replace (``ValueError``, ``TypeError``, ``KeyError``), so code written
against NumPy or the standard library keeps working unchanged.

Validation errors carry *where* as well as *what*: a list of :class:`ErrorItem`, each with
a JSON-pointer path (``/pipeline/2/name``), a machine-readable code and a message.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

__all__ = [
    "ConfigurationError",
    "CrucibleError",
    "DegenerateDataWarning",
    "ErrorItem",
    "IntegrityError",
    "InvalidArgumentError",
    "InvalidTypeError",
    "NotFoundError",
    "OutOfRangeError",
    "SerializationError",
    "StorageError",
    "UnsupportedOperationError",
    "ValidationError",
    "ViolationError",
]


class ErrorItem(NamedTuple):
    """One problem found while validating a document."""

    path: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '/'}: {self.message} [{self.code}]"


class CrucibleError(Exception):
    """Base of every error crucible raises on purpose."""


class InvalidArgumentError(CrucibleError, ValueError):
    """An argument is outside its domain (a negative size, low >= high, a bad state)."""


class OutOfRangeError(InvalidArgumentError, OverflowError):
    """A number does not fit where it must go (a state word beyond 128 bits, say)."""


class InvalidTypeError(CrucibleError, TypeError):
    """An argument has an unsupported type or dtype."""


class UnsupportedOperationError(CrucibleError, NotImplementedError):
    """A combination of arguments the operation does not support, where NumPy raises
    ``NotImplementedError`` too (shuffling a list along an axis other than 0, say)."""


class ConfigurationError(CrucibleError):
    """The environment or a configuration file cannot be used as given."""


class NotFoundError(CrucibleError, KeyError):
    """A named thing (a run, a chain, an experiment) does not exist."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class ValidationError(CrucibleError, ValueError):
    """A document breaks one or more rules; ``items`` lists all of them, not the first."""

    def __init__(self, items: Iterable[ErrorItem], message: str | None = None) -> None:
        self.items: list[ErrorItem] = list(items)
        summary = message or f"{len(self.items)} validation error(s)"
        detail = "\n".join(f"  {item}" for item in self.items)
        super().__init__(f"{summary}\n{detail}" if detail else summary)


class SerializationError(CrucibleError, ValueError):
    """Bytes could not be encoded or decoded (malformed JSON, wrong schema version...)."""


class StorageError(CrucibleError):
    """A store could not read or write (a locked SQLite file, a lost connection...)."""


class IntegrityError(CrucibleError):
    """Stored data fails its integrity check (a broken hash chain, a damaged checkpoint)."""


class ViolationError(CrucibleError):
    """A run broke a limit its experiment set to fail on (a fairness gap or a guardrail
    detection with ``fail_on_violation``/``fail_on_detection``)."""


class DegenerateDataWarning(RuntimeWarning):
    """Data too degenerate for a reliable result (a BCa interval of constant data, say)."""
