"""Statistics for proving results: quantiles, descriptive summaries, hypothesis tests,
effect sizes and multiple-testing corrections, at parity with NumPy, SciPy and statsmodels.

The heavy kernels (selection-based quantiles, moments, special functions) run in Rust;
SciPy and statsmodels are test-only references, never runtime dependencies.
"""

from __future__ import annotations

__all__: list[str] = []
