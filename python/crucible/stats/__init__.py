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
from crucible.stats.contingency import (
    Chi2ContingencyResult,
    FisherExactResult,
    chi2_contingency,
    expected_freq,
    fisher_exact,
)
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
from crucible.stats.distributions import (
    chi2_cdf,
    chi2_sf,
    f_sf,
    gammainc,
    gammaincc,
    nct_cdf,
    nct_sf,
    t_cdf,
    t_ppf,
    t_sf,
)
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
from crucible.stats.goodness_of_fit import PowerDivergenceResult, chisquare, power_divergence
from crucible.stats.nonparametric import (
    KruskalResult,
    MannWhitneyResult,
    kruskal,
    mannwhitneyu,
)
from crucible.stats.normality import ShapiroResult, shapiro
from crucible.stats.permutation import PermutationTestResult, permutation_test
from crucible.stats.power import (
    normal_ind_power,
    proportion_effectsize,
    solve_power,
    ttest_ind_power,
    ttest_power,
)
from crucible.stats.quantile import Method, NanPolicy, QuantileSketch, percentile, quantile
from crucible.stats.rank import RankMethod, rankdata
from crucible.stats.signed_rank import WilcoxonResult, wilcoxon
from crucible.stats.special import ndtr, ndtri
from crucible.stats.ttest import TTestResult, ttest_1samp, ttest_ind, ttest_rel

__all__ = [
    "AnovaResult",
    "BootstrapResult",
    "Chi2ContingencyResult",
    "ConfidenceInterval",
    "Correction",
    "CorrectionMethod",
    "Describe",
    "EffectSize",
    "EffectSizeKind",
    "FisherExactResult",
    "KruskalResult",
    "Magnitude",
    "MannWhitneyResult",
    "Method",
    "NanPolicy",
    "PermutationTestResult",
    "PowerDivergenceResult",
    "QuantileSketch",
    "RankMethod",
    "RunningStats",
    "ShapiroResult",
    "TTestResult",
    "WilcoxonResult",
    "adjust_pvalues",
    "bonferroni_alpha",
    "bootstrap",
    "chi2_cdf",
    "chi2_contingency",
    "chi2_sf",
    "chisquare",
    "cliffs_delta",
    "cohens_d",
    "cohens_d_paired",
    "describe",
    "eta_squared",
    "expected_freq",
    "f_oneway",
    "f_sf",
    "fisher_exact",
    "gammainc",
    "gammaincc",
    "glass_delta",
    "hedges_correction",
    "hedges_g",
    "interpret_cliffs_delta",
    "interpret_d",
    "interpret_eta_squared",
    "kruskal",
    "kurtosis",
    "mannwhitneyu",
    "mean",
    "measure_effect",
    "median",
    "nct_cdf",
    "nct_sf",
    "ndtr",
    "ndtri",
    "normal_ind_power",
    "odds_ratio",
    "omega_squared",
    "percentile",
    "permutation_test",
    "power_divergence",
    "proportion_effectsize",
    "quantile",
    "rank_biserial",
    "rank_biserial_paired",
    "rankdata",
    "sem",
    "shapiro",
    "sidak_alpha",
    "skew",
    "solve_power",
    "std",
    "t_cdf",
    "t_ppf",
    "t_sf",
    "ttest_1samp",
    "ttest_ind",
    "ttest_ind_power",
    "ttest_power",
    "ttest_rel",
    "var",
    "wilcoxon",
]
