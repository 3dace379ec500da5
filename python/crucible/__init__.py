"""crucible: reliable ML experiments with a Rust core.

The public packages are ``crucible.prng`` (NumPy-exact random numbers) and
``crucible.errors``; ``crucible._core`` is the compiled extension behind them and is not
imported directly by users.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("crucible")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+local"

__all__ = ["__version__"]
