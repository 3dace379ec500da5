"""crucible: reliable ML experiments with a Rust core.

The public packages are ``crucible.prng`` (NumPy-exact random numbers) and
``crucible.errors``; ``crucible._core`` is the compiled extension behind them and is not
imported directly by users. ``crucible.run(experiment, ...)`` runs an experiment (see
:func:`crucible.pipeline.runner.run`); it is imported on first use, so ``import crucible``
stays light.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("crucible")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+local"

__all__ = ["__version__", "run"]


def __getattr__(name: str) -> Any:
    if name == "run":
        from crucible.pipeline.runner import run

        return run
    raise AttributeError(f"module 'crucible' has no attribute {name!r}")
