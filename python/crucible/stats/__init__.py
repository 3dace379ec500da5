"""Statistics for proving results: quantiles, descriptive summaries, hypothesis tests,
effect sizes and multiple-testing corrections, at parity with NumPy, SciPy and statsmodels.

The heavy kernels (selection-based quantiles, moments, special functions) run in Rust;
SciPy and statsmodels are test-only references, never runtime dependencies.

`min` and `max` stay in `crucible.stats.descriptive` so that a star import never shadows
the builtins.
"""

from __future__ import annotations

from crucible.stats.anova import AnovaResult, f_oneway
from crucible.stats.bootstrap import BootstrapResult, ConfidenceInterval, bootstrap
from crucible.stats.corrections import (
    Correction,
    CorrectionMethod,
    adjust_pvalues,
    bonferroni_alpha,
    sidak_alpha,
)
from crucible.stats.descriptive import (
    Describe,
    RunningStats,
    describe,
    kurtosis,
    mean,
    median,
    sem,
    skew,
    std,
    var,
)
from crucible.stats.distributions import f_sf, t_cdf, t_ppf, t_sf
from crucible.stats.effect_size import (
    EffectSize,
    EffectSizeKind,
    Magnitude,
    cliffs_delta,
    cohens_d,
    cohens_d_paired,
    eta_squared,
    glass_delta,
    hedges_correction,
    hedges_g,
    interpret_cliffs_delta,
    interpret_d,
    interpret_eta_squared,
    measure_effect,
    odds_ratio,
    omega_squared,
    rank_biserial,
    rank_biserial_paired,
)
from crucible.stats.quantile import Method, NanPolicy, QuantileSketch, percentile, quantile
from crucible.stats.special import ndtr, ndtri
from crucible.stats.ttest import TTestResult, ttest_1samp, ttest_ind, ttest_rel

__all__ = [
    "AnovaResult",
    "BootstrapResult",
    "ConfidenceInterval",
    "Correction",
    "CorrectionMethod",
    "Describe",
    "EffectSize",
    "EffectSizeKind",
    "Magnitude",
    "Method",
    "NanPolicy",
    "QuantileSketch",
    "RunningStats",
    "TTestResult",
    "adjust_pvalues",
    "bonferroni_alpha",
    "bootstrap",
    "cliffs_delta",
    "cohens_d",
    "cohens_d_paired",
    "describe",
    "eta_squared",
    "f_oneway",
    "f_sf",
    "glass_delta",
    "hedges_correction",
    "hedges_g",
    "interpret_cliffs_delta",
    "interpret_d",
    "interpret_eta_squared",
    "kurtosis",
    "mean",
    "measure_effect",
    "median",
    "ndtr",
    "ndtri",
    "odds_ratio",
    "omega_squared",
    "percentile",
    "quantile",
    "rank_biserial",
    "rank_biserial_paired",
    "sem",
    "sidak_alpha",
    "skew",
    "std",
    "t_cdf",
    "t_ppf",
    "t_sf",
    "ttest_1samp",
    "ttest_ind",
    "ttest_rel",
    "var",
]
