from __future__ import annotations

from pathlib import Path

import pytest
from analysis_context import decoded, event_types, make_context, sample

from crucible.errors import ValidationError
from crucible.ir.enums import EnsembleStrategy
from crucible.ir.reliability import Config as Reliability
from crucible.ir.reliability import Ensemble
from crucible.pipeline.analysis.samples import read_samples
from crucible.pipeline.analysis.voting import Ballot, normalize_answer, vote
from crucible.pipeline.stages.ensemble import EnsembleStage


def test_majority_normalizes_and_breaks_ties_by_model_order() -> None:
    result = vote([Ballot("a", " Paris"), Ballot("b", "paris"), Ballot("c", "Rome")], "majority")
    assert (result.answer, result.model) == (" Paris", "a")
    assert result.support == pytest.approx(2 / 3)
    assert result.tally == {"paris": 2.0, "rome": 1.0}
    tie = vote([Ballot("a", "Rome"), Ballot("b", "Paris")], "majority")
    assert tie.answer == "Rome"
    assert vote([Ballot("b", "Paris"), Ballot("a", "Rome")], "majority").answer == "Paris"
    assert normalize_answer("  A   B ", "strip") == "A   B"


def test_weighted_best_confidence_and_unanimous() -> None:
    ballots = [Ballot("a", "x", 1.0), Ballot("b", "x", 1.0), Ballot("c", "y", 3.0)]
    assert vote(ballots, "majority").answer == "x"
    weighted = vote(ballots, "weighted")
    assert weighted.answer == "y"
    assert weighted.support == pytest.approx(0.6)
    # no per-row confidence: model weights decide
    assert vote(ballots, "best_confidence").answer == "y"
    confident = [Ballot("a", "x", 1.0, 0.9), Ballot("c", "y", 3.0, 0.2)]
    assert vote(confident, "best_confidence").answer == "x"
    split = vote(ballots, "unanimous")
    assert split.answer is None
    assert split.unanimous is False
    agreed = vote([Ballot("a", "Z"), Ballot("b", "z ")], "unanimous")
    assert agreed.answer == "Z"
    assert agreed.support == 1.0


def test_min_agreement_abstains_below_threshold() -> None:
    ballots = [Ballot("a", "x"), Ballot("b", "y"), Ballot("c", "x")]
    assert vote(ballots, "majority", min_agreement=0.6).answer == "x"
    assert vote(ballots, "majority", min_agreement=0.7).answer is None


def _members(n: int = 30) -> list[dict]:
    """Three models, each wrong on a different third of the samples (its own wrong
    answer), so the majority is always right."""
    rows = []
    for i in range(n):
        reference = f"answer {i}"
        for slot, model in enumerate(("m1", "m2", "m3")):
            wrong = i % 3 == slot
            prediction = f"{model} guess" if wrong else reference.upper()
            scores = {"exact_match": float(not wrong), "f1": 0.5 if wrong else 1.0}
            rows.append(sample(model, i, prediction, reference, scores, {"lang": "en"}))
    return rows


def test_ensemble_stage_beats_every_member(tmp_path: Path) -> None:
    ctx, _ = make_context(tmp_path, "ensemble", _members(), {"strategy": "majority"})
    result = decoded(EnsembleStage, ctx).run(ctx)
    metrics = result.metrics
    assert metrics["ensemble/exact_match"] == 1.0
    for member in ("m1", "m2", "m3"):
        assert metrics[f"{member}/exact_match"] == pytest.approx(2 / 3)
    assert metrics["gain/exact_match"] == pytest.approx(1 / 3)
    assert metrics["ensemble/f1"] == 1.0
    assert metrics["agreement_rate"] == 0.0
    assert metrics["mean_support"] == pytest.approx(2 / 3)
    rows = read_samples(tmp_path / result.outputs["samples"])
    assert {r.model for r in rows} == {"ensemble"}
    assert [r.index for r in rows] == list(range(30))
    assert rows[0].prediction == "ANSWER 0"
    assert rows[0].group == {"lang": "en"}
    assert result.outputs["findings"][0]["severity"] == "info"
    assert "pattern_applied" in event_types(ctx)


def test_unanimous_from_reliability_config_abstains(tmp_path: Path) -> None:
    config = Reliability(ensemble=Ensemble(strategy=EnsembleStrategy.UNANIMOUS))
    ctx, _ = make_context(tmp_path, "ensemble", _members(), reliability=config)
    result = decoded(EnsembleStage, ctx).run(ctx)
    assert result.outputs["strategy"] == "unanimous"
    assert result.metrics["abstain_rate"] == 1.0
    assert result.metrics["ensemble/exact_match"] == 0.0
    kinds = [(f["kind"], f["severity"]) for f in result.outputs["findings"]]
    assert ("ensemble_abstained", "warning") in kinds
    assert ("ensemble_accuracy", "warning") in kinds


def test_weights_let_a_trusted_model_win(tmp_path: Path) -> None:
    options = {"strategy": "weighted", "models": ["m1", "m2"], "weights": {"m2": 2.0}}
    ctx, _ = make_context(tmp_path, "ensemble", _members(), options)
    result = decoded(EnsembleStage, ctx).run(ctx)
    # m1 and m2 disagree only when one is wrong; the heavier m2 always wins
    assert result.metrics["ensemble/exact_match"] == result.metrics["m2/exact_match"]
    first = decoded(EnsembleStage, ctx).run(ctx)
    assert first.metrics == result.metrics


def test_ensemble_option_errors(tmp_path: Path) -> None:
    options = {"models": ["m1", "m2"], "weights": {"m9": 1.0}}
    ctx, _ = make_context(tmp_path, "ensemble", _members(), options)
    errors = decoded(EnsembleStage, ctx).check(ctx)
    assert [e.path for e in errors] == ["/pipeline/1/options/weights/m9"]
    ctx, _ = make_context(tmp_path, "ensemble", _members(), {"models": ["m1", "zz"]})
    with pytest.raises(ValidationError) as missing:
        decoded(EnsembleStage, ctx).run(ctx)
    assert missing.value.items[0].path == "/pipeline/1/options/models"
    ctx, _ = make_context(tmp_path, "ensemble", _members(), {"strategy": "plurality"})
    with pytest.raises(ValidationError) as bad:
        decoded(EnsembleStage, ctx)
    assert bad.value.items[0].path == "/pipeline/1/options/strategy"
