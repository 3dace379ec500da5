"""Building blocks shared by every IR module: the base Structs, constrained scalars and the
schema version.

Every IR type derives from :class:`IRStruct` (frozen, keyword-only, unknown fields rejected).
Types that can stand alone as a document (an experiment, a training run, a feedback event...)
derive from :class:`Document`, which adds ``schema_version`` as the first JSON key.

Constraints are expressed with :class:`msgspec.Meta` on the aliases below, so that one
definition drives decoding, :func:`msgspec.json.schema` and the structural checks of
:mod:`crucible.ir.validation`. Every integer alias is bounded to 64 bits so that a Rust
validator reading the same JSON reaches the same verdict.

Schema versions
---------------
``CURRENT_SCHEMA_VERSION`` is ``"0.3.0"``. Documents written by the original CrucibleIR
0.1.x and 0.2.x carry no ``schema_version``; :func:`crucible.ir.migrate` upgrades them (see
:mod:`crucible.ir.migration` for what changed between versions). A document of this major
and minor version (``0.3.*``) is current; anything else must be migrated first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

__all__ = [
    "CURRENT_SCHEMA_VERSION",
    "INT64_MAX",
    "INT64_MIN",
    "Document",
    "HalfOpenUnit",
    "IRStruct",
    "Id",
    "Int",
    "JsonObject",
    "Metrics",
    "NonNegativeFloat",
    "NonNegativeInt",
    "OpenUnit",
    "Percent",
    "PositiveFloat",
    "PositiveInt",
    "Probability",
    "SchemaVersion",
    "Seed",
    "SemVer",
    "Sha256",
    "Timestamp",
    "Url",
]

CURRENT_SCHEMA_VERSION = "0.3.0"

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

# --- constrained scalars ------------------------------------------------------------------

Id = Annotated[str, msgspec.Meta(min_length=1)]
"""An identifier or name: any non-empty string (the original's atoms become strings)."""

Int = Annotated[int, msgspec.Meta(ge=INT64_MIN, le=INT64_MAX)]
PositiveInt = Annotated[int, msgspec.Meta(ge=1, le=INT64_MAX)]
NonNegativeInt = Annotated[int, msgspec.Meta(ge=0, le=INT64_MAX)]
Seed = Annotated[int, msgspec.Meta(ge=0, le=INT64_MAX)]
"""A random seed in [0, 2**63 - 1] (msgspec bounds are 64-bit signed)."""

PositiveFloat = Annotated[float, msgspec.Meta(gt=0.0)]
NonNegativeFloat = Annotated[float, msgspec.Meta(ge=0.0)]
Probability = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
"""A rate or fraction in [0, 1]."""
OpenUnit = Annotated[float, msgspec.Meta(gt=0.0, lt=1.0)]
"""A fraction in the open interval (0, 1): significance levels, validation splits."""
HalfOpenUnit = Annotated[float, msgspec.Meta(gt=0.0, le=1.0)]
"""A fraction in (0, 1]: percentiles, agreement thresholds."""
Percent = Annotated[float, msgspec.Meta(ge=0.0, le=100.0)]
"""A percentage in [0, 100] (traffic shares, as in the original ``traffic_percent``)."""

Timestamp = Annotated[datetime, msgspec.Meta(tz=True, extra_json_schema={"x-timezone": "required"})]
"""An RFC 3339 date-time with its UTC offset; the offset is kept on a round trip. The
JSON Schema carries ``"x-timezone": "required"`` (JSON Schema cannot say it otherwise), which
the Rust validator reads."""

Url = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z][A-Za-z0-9+.\-]*://\S+$")]
"""An absolute URL with a scheme (``https://...``, ``grpc://...``)."""

Sha256 = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
"""A lowercase hexadecimal SHA-256 digest."""

SemVer = Annotated[str, msgspec.Meta(pattern=r"^\d+\.\d+\.\d+")]
"""A semantic version: starts with ``MAJOR.MINOR.PATCH`` (pre-release suffixes allowed)."""

SchemaVersion = Annotated[str, msgspec.Meta(pattern=r"^\d+\.\d+\.\d+$")]

JsonObject = dict[str, Any]
"""An opaque JSON object (``options``, ``metadata``): never coerced nor validated."""

Metrics = dict[str, float]
"""Named numeric metrics (``{"accuracy": 0.91, "loss": 0.23}``)."""


# --- base structs -------------------------------------------------------------------------


class IRStruct(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every IR type: immutable, keyword-only, and strict about unknown fields."""


class Document(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of the IR types that can be stored or sent on their own."""

    schema_version: SchemaVersion = CURRENT_SCHEMA_VERSION
