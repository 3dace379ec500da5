"""The error hierarchy is a contract: callers catch ours, or the built-in it refines."""

from __future__ import annotations

import pytest

from crucible import errors


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (errors.InvalidArgumentError, ValueError),
        (errors.OutOfRangeError, OverflowError),
        (errors.OutOfRangeError, ValueError),
        (errors.InvalidTypeError, TypeError),
        (errors.ValidationError, ValueError),
        (errors.SerializationError, ValueError),
        (errors.NotFoundError, KeyError),
    ],
)
def test_errors_refine_builtins(cls: type[Exception], builtin: type[Exception]) -> None:
    assert issubclass(cls, builtin)
    assert issubclass(cls, errors.CrucibleError)


def test_validation_error_lists_every_item() -> None:
    items = [
        errors.ErrorItem("/pipeline/2/name", "required", "name is required"),
        errors.ErrorItem("/reliability/stats/alpha", "range", "alpha must be in (0, 1)"),
    ]
    err = errors.ValidationError(items)
    assert err.items == items
    text = str(err)
    assert "2 validation error(s)" in text
    assert "/pipeline/2/name: name is required [required]" in text
    assert "/reliability/stats/alpha" in text


def test_not_found_message_is_not_quoted() -> None:
    assert str(errors.NotFoundError("run abc not found")) == "run abc not found"


def test_rust_errors_arrive_as_crucible_errors() -> None:
    from crucible import prng

    with pytest.raises(errors.InvalidArgumentError, match="pool should be at least 4"):
        prng.SeedSequence(1, pool_size=2)
