from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from analysis_context import decoded, event_types, make_context, sample

from crucible.errors import NotFoundError, ValidationError
from crucible.ir.enums import FairnessMetric
from crucible.ir.reliability import Config as Reliability
from crucible.ir.reliability import Fairness
from crucible.pipeline.analysis.fairness import Observation, evaluate_metric, group_rates
from crucible.pipeline.stages.fairness import FairnessStage

ALL = [
    "demographic_parity",
    "equalized_odds",
    "equal_opportunity",
    "predictive_parity",
    "accuracy_gap",
]


def _classifier_rows() -> list[dict]:
    """Group a: 5 yes / 5 no labels; 4 TP, 1 FN, 1 FP, 4 TN.
    Group b: 5 yes / 5 no labels; 2 TP, 3 FN, 0 FP, 5 TN."""
    cells = {
        "a": [("yes", "yes")] * 4 + [("yes", "no")] + [("no", "yes")] + [("no", "no")] * 4,
        "b": [("yes", "yes")] * 2 + [("yes", "no")] * 3 + [("no", "no")] * 5,
    }
    rows, index = [], 0
    for group, pairs in cells.items():
        for reference, prediction in pairs:
            rows.append(sample("clf", index, prediction, reference, group={"region": group}))
            index += 1
    return rows


def test_group_rates_and_gaps_hand_computed() -> None:
    observations = [
        Observation(
            r["group"]["region"],
            r["prediction"] == "yes",
            r["reference"] == "yes",
            r["prediction"] == r["reference"],
        )
        for r in _classifier_rows()
    ]
    a, b = group_rates(observations)
    assert (a.positive_rate, a.tpr, a.fpr, a.ppv, a.accuracy) == (0.5, 0.8, 0.2, 0.8, 0.8)
    assert (b.positive_rate, b.tpr, b.fpr, b.ppv, b.accuracy) == (0.2, 0.4, 0.0, 1.0, 0.7)
    parity = evaluate_metric("demographic_parity", [a, b], threshold=0.8, max_gap=0.2)
    assert parity.value == pytest.approx(0.3)
    assert parity.ratio == pytest.approx(0.4)
    assert parity.violated
    odds = evaluate_metric("equalized_odds", [a, b], threshold=0.8, max_gap=0.2)
    assert odds.value == pytest.approx(0.4)
    assert odds.violated
    predictive = evaluate_metric("predictive_parity", [a, b], threshold=0.8, max_gap=0.2)
    assert predictive.value == pytest.approx(0.2)
    assert not predictive.violated
    accuracy = evaluate_metric("accuracy_gap", [a, b], threshold=0.8, max_gap=0.2)
    assert accuracy.value == pytest.approx(0.1)
    assert not accuracy.violated
    calibration = evaluate_metric("calibration_gap", [a, b], threshold=0.8, max_gap=0.2)
    assert calibration.value is None
    assert not calibration.violated


def test_stage_with_positive_labels(tmp_path: Path) -> None:
    options = {"positive_labels": ["Yes"], "metrics": ALL}
    ctx, _ = make_context(tmp_path, "fairness", _classifier_rows(), options)
    result = decoded(FairnessStage, ctx).run(ctx)
    m = result.metrics
    assert m["clf/region/demographic_parity"] == pytest.approx(0.3)
    assert m["clf/region/demographic_parity_ratio"] == pytest.approx(0.4)
    assert m["clf/region/equalized_odds"] == pytest.approx(0.4)
    assert m["clf/region/equal_opportunity"] == pytest.approx(0.4)
    assert m["clf/region/accuracy_gap"] == pytest.approx(0.1)
    assert m["violations"] == 3.0
    severities = {f["metric"]: f["severity"] for f in result.outputs["findings"]}
    assert severities == {
        "demographic_parity": "warning",
        "equalized_odds": "warning",
        "equal_opportunity": "warning",
        "predictive_parity": "info",
        "accuracy_gap": "info",
    }
    report = msgspec.json.decode((tmp_path / result.outputs["fairness"]).read_bytes())
    assert [g["group"] for g in report["clf"]["region"]["groups"]] == ["a", "b"]
    assert "constraint_evaluated" in event_types(ctx)


def test_reliability_config_sets_threshold_metrics_and_failure(tmp_path: Path) -> None:
    config = Reliability(
        fairness=Fairness(
            enabled=True,
            metrics=[FairnessMetric.DEMOGRAPHIC_PARITY],
            group_by="region",
            threshold=0.3,
            fail_on_violation=True,
        )
    )
    ctx, _ = make_context(
        tmp_path, "fairness", _classifier_rows(), {"positive_labels": ["yes"]}, reliability=config
    )
    result = decoded(FairnessStage, ctx).run(ctx)
    (only,) = result.outputs["findings"]
    assert only["metric"] == "demographic_parity"
    assert not only["violated"]
    ctx, _ = make_context(
        tmp_path,
        "fairness",
        _classifier_rows(),
        {"positive_labels": ["yes"], "threshold": 0.5},
        reliability=config,
    )
    (strict,) = decoded(FairnessStage, ctx).run(ctx).outputs["findings"]
    assert strict["violated"]
    assert strict["severity"] == "error"


def test_score_mode_calibration_and_undefined_label_metrics(tmp_path: Path) -> None:
    rows = []
    for i in range(8):
        group = "x" if i < 4 else "y"
        correct = i in (0, 1, 2, 4)  # x: 3/4 correct, y: 1/4 correct
        rows.append(
            sample(
                "m",
                i,
                "p",
                "p" if correct else "q",
                {"exact_match": float(correct)},
                {"lang": group},
                confidence=0.75,
            )
        )
    options = {"metrics": ["demographic_parity", "equalized_odds", "calibration_gap"]}
    ctx, _ = make_context(tmp_path, "fairness", rows, options)
    result = decoded(FairnessStage, ctx).run(ctx)
    assert result.metrics["m/lang/demographic_parity"] == pytest.approx(0.5)
    assert result.metrics["m/lang/demographic_parity_ratio"] == pytest.approx(1 / 3)
    # calibration error: x |0.75-0.75| = 0, y |0.75-0.25| = 0.5
    assert result.metrics["m/lang/calibration_gap"] == pytest.approx(0.5)
    odds = next(f for f in result.outputs["findings"] if f["metric"] == "equalized_odds")
    assert odds["value"] is None
    assert odds["severity"] == "info"


def test_fairness_option_errors(tmp_path: Path) -> None:
    ctx, _ = make_context(tmp_path, "fairness", _classifier_rows(), {"group_by": ["age"]})
    with pytest.raises(ValidationError) as missing:
        decoded(FairnessStage, ctx).run(ctx)
    assert missing.value.items[0].path == "/pipeline/1/options/group_by"
    ctx, _ = make_context(tmp_path, "fairness", _classifier_rows(), {"metrics": ["parity"]})
    with pytest.raises(ValidationError) as bad:
        decoded(FairnessStage, ctx)
    assert bad.value.items[0].path == "/pipeline/1/options/metrics/0"
    ctx, _ = make_context(tmp_path, "fairness", None)
    assert [e.code for e in decoded(FairnessStage, ctx).check(ctx)] == []
    with pytest.raises(NotFoundError, match="has not run"):
        decoded(FairnessStage, ctx).run(ctx)
