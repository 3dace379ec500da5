"""Score summaries: the bootstrap interval is SciPy's (our PRNG is bit-exact with NumPy's),
constant scores give a point interval, and runs summarize as a mean of means."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from scipy import stats as scipy_stats

from crucible.errors import InvalidArgumentError
from crucible.train.evaluation import (
    SampleRecord,
    summarize_records,
    summarize_runs,
    summarize_scores,
)


def scipy_ci(values: list[float], seed: int, scorer: str) -> tuple[float, float]:
    rng = np.random.default_rng([seed, zlib.crc32(scorer.encode())])
    res = scipy_stats.bootstrap(
        (np.asarray(values),), np.mean, n_resamples=2000, confidence_level=0.9, rng=rng
    )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def test_summary_interval_is_scipys_bca_bootstrap() -> None:
    values = [float(x) for x in np.random.default_rng(5).random(30)]
    s = summarize_scores(values, scorer="f1", confidence=0.9, seed=11)
    assert s.mean == pytest.approx(np.mean(values))
    assert s.n == 30
    assert s.std == pytest.approx(np.std(values, ddof=1))
    assert (s.ci_low, s.ci_high) == pytest.approx(scipy_ci(values, 11, "f1"), rel=1e-9)
    assert s.ci_low < s.mean < s.ci_high
    assert summarize_scores(values, scorer="f1", confidence=0.9, seed=11) == s


def test_constant_and_single_scores_give_a_point_interval() -> None:
    s = summarize_scores([0.0] * 12, scorer="exact_match")
    assert (s.mean, s.ci_low, s.ci_high) == (0.0, 0.0, 0.0)
    one = summarize_scores([0.4])
    assert (one.ci_low, one.ci_high, one.std) == (0.4, 0.4, 0.0)
    with pytest.raises(InvalidArgumentError):
        summarize_scores([])
    with pytest.raises(InvalidArgumentError):
        summarize_scores([1.0, float("nan")])
    with pytest.raises(InvalidArgumentError):
        summarize_scores([1.0, 0.0], confidence=1.0)


def test_records_summarize_per_model_and_flatten_to_metrics() -> None:
    def record(model: str, index: int, score: float) -> SampleRecord:
        return SampleRecord(
            model=model,
            index=index,
            id=str(index),
            prompt="p",
            reference="r",
            prediction="x",
            scores={"exact_match": score},
        )

    records = [record("init", i, 0.0) for i in range(4)]
    records += [record("sft", i, float(i % 2)) for i in range(4)]
    summary = summarize_records(records)
    assert list(summary.models) == ["init", "sft"]
    metrics = summary.metrics()
    assert metrics["init/exact_match"] == 0.0
    assert metrics["sft/exact_match"] == 0.5
    assert set(metrics) == {
        f"{m}/exact_match{suffix}"
        for m in ("init", "sft")
        for suffix in ("", "_ci_low", "_ci_high")
    }
    assert metrics["sft/exact_match_ci_low"] <= 0.5 <= metrics["sft/exact_match_ci_high"]


def test_runs_summarize_as_a_mean_of_means() -> None:
    runs = [
        {"f1": [0.2, 0.4], "bleu": [0.1, 0.1]},
        {"f1": [0.5, 0.7], "bleu": [0.2, 0.2]},
        {"f1": [0.3, 0.3], "bleu": [0.3, 0.3]},
    ]
    out = summarize_runs(runs, confidence=0.9)
    assert out["f1"].run_means == pytest.approx([0.3, 0.6, 0.3])
    assert out["f1"].mean == pytest.approx(0.4)
    assert out["bleu"].mean == pytest.approx(0.2)
    assert out["f1"].ci_low <= 0.4 <= out["f1"].ci_high
    with pytest.raises(InvalidArgumentError, match="two or more"):
        summarize_runs(runs[:1])
    with pytest.raises(InvalidArgumentError, match="scorers"):
        summarize_runs([runs[0], {"f1": [1.0]}])
