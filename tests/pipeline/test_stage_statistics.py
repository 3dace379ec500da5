from __future__ import annotations

import math
from pathlib import Path

import msgspec
import pytest
import scipy.stats
from analysis_context import decoded, event_types, make_context, sample

from crucible.errors import ValidationError
from crucible.ir.enums import CorrectionMethod, StatTest
from crucible.ir.reliability import Config as Reliability
from crucible.ir.reliability import Stats
from crucible.pipeline.analysis.comparison import apply_correction
from crucible.pipeline.analysis.paired_tests import binomial_two_sided, run_test
from crucible.pipeline.stage import decode_options
from crucible.pipeline.stages.statistics import StatisticsStage
from crucible.prng import default_rng
from crucible.trace.catalog import is_valid_type

CONTRACT_KEYS = {
    "metric",
    "candidate",
    "baseline",
    "estimate",
    "baseline_estimate",
    "difference",
    "ci_low",
    "ci_high",
    "confidence",
    "test",
    "statistic",
    "pvalue",
    "adjusted_pvalue",
    "effect_size",
    "significant",
}


def _rows(n: int = 60, base_rate: float = 0.3, cand_rate: float = 0.9, seed: int = 1) -> list:
    rng = default_rng(seed)
    rows = []
    for i in range(n):
        base = float(rng.random() < base_rate)
        cand = float(rng.random() < cand_rate)
        rows.append(sample("init", i, "x", "x", {"exact_match": base, "f1": 0.2 + 0.5 * base}))
        rows.append(sample("sft", i, "x", "x", {"exact_match": cand, "f1": 0.2 + 0.5 * cand}))
    return rows


def _run(tmp_path: Path, rows: list, options: dict | None = None, **kw: object):
    ctx, _ = make_context(tmp_path, "stats", rows, options, **kw)  # type: ignore[arg-type]
    return ctx, decoded(StatisticsStage, ctx).run(ctx)


def test_clear_improvement_is_significant_with_ci_excluding_zero(tmp_path: Path) -> None:
    ctx, result = _run(tmp_path, _rows(), {"tests": ["ttest", "mcnemar", "permutation"]})
    verdicts = result.outputs["verdicts"]
    assert len(verdicts) == 6  # 2 metrics x 3 tests
    for verdict in verdicts:
        assert set(verdict) >= CONTRACT_KEYS
        assert verdict["candidate"] == "sft"
        assert verdict["baseline"] == "init"
        assert verdict["ci_low"] > 0
        assert verdict["ci_low"] <= verdict["difference"] <= verdict["ci_high"]
        assert verdict["significant"] is True
        assert verdict["adjusted_pvalue"] >= verdict["pvalue"]
    exact = next(v for v in verdicts if v["metric"] == "exact_match")
    assert exact["difference"] == pytest.approx(exact["estimate"] - exact["baseline_estimate"])
    stored = msgspec.json.decode((tmp_path / result.outputs["bootstrap"]).read_bytes())
    assert set(stored) == {"exact_match", "f1"}
    assert len(stored["exact_match"]) == 2000
    assert result.files == ["stages/stats/bootstrap.json"]
    assert result.metrics["significant_count"] == 6.0
    assert {"hypothesis_formed", "constraint_evaluated", "a_b_test_result"} <= set(event_types(ctx))
    assert all(is_valid_type(t) for t in event_types(ctx))


def test_same_seed_same_numbers_other_seed_other_resamples(tmp_path: Path) -> None:
    _, first = _run(tmp_path / "a", _rows())
    _, again = _run(tmp_path / "b", _rows())
    _, other = _run(tmp_path / "c", _rows(), seed=99)
    assert first.metrics == again.metrics
    assert first.outputs["verdicts"] == again.outputs["verdicts"]
    a = msgspec.json.decode((tmp_path / "a" / first.outputs["bootstrap"]).read_bytes())
    c = msgspec.json.decode((tmp_path / "c" / other.outputs["bootstrap"]).read_bytes())
    assert a["exact_match"] != c["exact_match"]


def test_identical_models_give_no_evidence(tmp_path: Path) -> None:
    rows = _rows()
    twin = [dict(r, model="copy") for r in rows if r["model"] == "init"]
    base = [r for r in rows if r["model"] == "init"]
    _, result = _run(tmp_path, base + twin, {"candidate": "copy", "tests": ["ttest", "wilcoxon"]})
    for verdict in result.outputs["verdicts"]:
        assert verdict["pvalue"] == 1.0
        assert verdict["significant"] is False
        assert verdict["ci_low"] == verdict["ci_high"] == 0.0
    assert result.outputs["findings"][0]["kind"] == "no_significant_difference"


def test_single_model_reports_ci_only(tmp_path: Path) -> None:
    rows = [r for r in _rows() if r["model"] == "sft"]
    _, result = _run(tmp_path, rows)
    (verdict, _) = result.outputs["verdicts"]
    assert verdict["test"] == "bootstrap_ci"
    assert verdict["baseline"] is None
    assert verdict["pvalue"] is None
    assert verdict["ci_low"] < verdict["estimate"] < verdict["ci_high"]


def test_defaults_come_from_reliability_stats(tmp_path: Path) -> None:
    stats = Stats(
        tests=[StatTest.WILCOXON],
        alpha=0.01,
        confidence_level=0.9,
        multiple_testing_correction=CorrectionMethod.BONFERRONI,
        bootstrap_iterations=500,
    )
    _, result = _run(tmp_path, _rows(), reliability=Reliability(stats=stats))
    verdicts = result.outputs["verdicts"]
    assert [v["test"] for v in verdicts] == ["wilcoxon", "wilcoxon"]
    assert all(v["confidence"] == 0.9 for v in verdicts)
    for v in verdicts:
        assert v["adjusted_pvalue"] == pytest.approx(min(1.0, 2 * v["pvalue"]))
    stored = msgspec.json.decode((tmp_path / result.outputs["bootstrap"]).read_bytes())
    assert len(stored["f1"]) == 500


def test_exact_tests_match_scipy_binomial() -> None:
    for successes, trials in [(0, 5), (3, 10), (16, 20), (40, 90), (7, 7)]:
        expected = scipy.stats.binomtest(successes, trials, 0.5).pvalue
        assert binomial_two_sided(successes, trials) == pytest.approx(expected, rel=1e-12)
    import numpy as np

    cand = np.array([1, 1, 1, 0, 1, 1, 1, 1, 0, 1], dtype=float)
    base = np.array([0, 0, 1, 0, 0, 1, 0, 0, 1, 1], dtype=float)
    outcome = run_test("mcnemar", cand, base, replicates=np.zeros(3), iterations=100, rng=0)
    # gained 5 (cand 1, base 0), lost 1: exact McNemar = binomial test of 5 of 6
    assert outcome.statistic == 1.0
    assert outcome.pvalue == pytest.approx(scipy.stats.binomtest(5, 6).pvalue)


def test_correction_none_and_holm() -> None:
    verdicts = [{"pvalue": p, "adjusted_pvalue": None, "significant": False} for p in (0.01, 0.04)]
    apply_correction(verdicts, "holm", 0.05)
    assert [v["adjusted_pvalue"] for v in verdicts] == [0.02, 0.04]
    assert [v["significant"] for v in verdicts] == [True, True]
    apply_correction(verdicts, "bonferroni", 0.05)
    assert [v["significant"] for v in verdicts] == [True, False]


def test_option_errors_carry_json_pointers(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as bad_test:
        decode_options(StatisticsStage.Options, {"tests": ["ttest", "chi"]}, "/pipeline/1")
    assert bad_test.value.items[0].path == "/pipeline/1/options/tests/1"
    with pytest.raises(ValidationError) as bad_alpha:
        decode_options(StatisticsStage.Options, {"alpha": 1.5}, "/pipeline/1")
    assert bad_alpha.value.items[0].path == "/pipeline/1/options/alpha"
    ctx, _ = make_context(
        tmp_path, "stats", _rows(), {"candidate": "sft", "baseline": "sft", "metrics": ["bleu"]}
    )
    paths = {e.path for e in decoded(StatisticsStage, ctx).check(ctx)}
    assert paths == {"/pipeline/1/options/baseline"}
    ctx, _ = make_context(tmp_path, "stats", _rows(), {"metrics": ["bleu"], "from_stage": "nope"})
    errors = decoded(StatisticsStage, ctx).check(ctx)
    assert [e.path for e in errors] == ["/pipeline/1/options/from_stage"]
    ctx, _ = make_context(tmp_path, "stats", _rows(), {"metrics": ["bleu"]})
    with pytest.raises(ValidationError) as unknown:
        decoded(StatisticsStage, ctx).run(ctx)
    assert unknown.value.items[0].path == "/pipeline/1/options/metrics/0"


def test_unpaired_samples_are_dropped_and_traced(tmp_path: Path) -> None:
    rows = [r for r in _rows() if not (r["model"] == "sft" and r["index"] < 5)]
    ctx, result = _run(tmp_path, rows, {"tests": ["sign"]})
    assert result.outputs["verdicts"][0]["n"] == 55
    assert "ambiguity_flagged" in event_types(ctx)
    assert not math.isnan(result.metrics["exact_match/difference"])
