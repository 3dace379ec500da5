"""The runner from Python: execution, run directory, determinism, failures, threads."""

from __future__ import annotations

import threading
from pathlib import Path

import msgspec
import pytest
from runner_support import experiment, stage, write_stages

from crucible.errors import NotFoundError, ValidationError
from crucible.pipeline.outcome import RunFailedError
from crucible.pipeline.registry import known_stages, load_stage
from crucible.pipeline.runner import run
from crucible.telemetry import SQLiteStore
from crucible.trace import JsonlReader


@pytest.fixture
def stages_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = write_stages(tmp_path / "pkgs")
    monkeypatch.syspath_prepend(str(root))
    return root


def two_draws(marker: Path | None = None) -> list[dict[str, object]]:
    extra = {"marker": str(marker)} if marker else {}
    return [stage("a", "Draw", n=40, **extra), stage("b", "Draw", n=60, **extra)]


def test_run_writes_run_dir_results_trace_and_telemetry(
    stages_on_path: Path, tmp_path: Path
) -> None:
    seen: list[tuple[str, str]] = []
    result = run(
        experiment(*two_draws()),
        home=tmp_path / "home",
        seed=7,
        progress=lambda p: seen.append((p.stage, p.kind)),
    )
    assert result.status == "completed"
    assert result.ok
    assert list(result.metrics) == ["a", "b"]
    assert 0.3 < result.metrics["a"]["mean"] < 0.7
    run_dir = result.run_dir
    assert run_dir is not None
    record = msgspec.json.decode((run_dir / "run.json").read_bytes())
    assert record["status"] == "completed"
    assert record["seed"] == 7
    assert [s["status"] for s in record["stages"]] == ["completed", "completed"]
    stored = msgspec.json.decode((run_dir / "stages" / "b" / "result.json").read_bytes())
    assert stored["metrics"] == result.metrics["b"]
    saved = msgspec.json.decode((run_dir / "experiment.json").read_bytes())
    assert saved["id"] == "runner-test"
    assert len(saved["pipeline"]) == 2
    reader = JsonlReader(run_dir / "trace.jsonl")
    assert reader.verify().ok
    chain = reader.load()
    assert chain.head == result.trace_head == record["trace_head"]
    types = [e.type for e in chain.events]
    assert types.count("stage_started") == 2
    assert types.count("stage_completed") == 2
    assert (run_dir / "trace.html").read_text().startswith("<!DOCTYPE html>")
    assert ("a", "started") in seen
    assert ("b", "completed") in seen
    assert ("a", "progress") in seen
    store = SQLiteStore(tmp_path / "home" / "telemetry.sqlite3")
    try:
        names = {
            name
            for batch in store.select(["event_name", "correlation_id"])
            for name, correlation in zip(batch["event_name"], batch["correlation_id"], strict=True)
            if correlation == result.run_id
        }
    finally:
        store.close()
    assert {"crucible.framework.stage.start", "crucible.framework.pipeline.stop"} <= names


def test_same_seed_same_metrics_and_trace_head(stages_on_path: Path, tmp_path: Path) -> None:
    first = run(experiment(*two_draws()), home=tmp_path / "h1", seed=3)
    second = run(experiment(*two_draws()), home=tmp_path / "h2", seed=3)
    other = run(experiment(*two_draws()), home=tmp_path / "h1", seed=4)
    assert first.run_id != second.run_id
    assert first.metrics == second.metrics
    assert first.trace_head == second.trace_head
    assert other.metrics["a"] != first.metrics["a"]
    assert other.trace_head != first.trace_head


def test_stage_seed_depends_on_its_name_not_its_position(
    stages_on_path: Path, tmp_path: Path
) -> None:
    alone = run(experiment(stage("b", "Draw", n=60)), home=tmp_path, seed=5)
    after = run(experiment(*two_draws()), home=tmp_path, seed=5)
    assert alone.metrics["b"] == after.metrics["b"]
    assert after.metrics["a"] != after.metrics["b"]


def test_failed_stage_is_recorded_and_later_stages_do_not_run(
    stages_on_path: Path, tmp_path: Path
) -> None:
    exp = experiment(stage("a", "Draw"), stage("bad", "Boom"), stage("c", "Draw"))
    result = run(exp, home=tmp_path, seed=1)
    assert result.status == "failed"
    assert not result.ok
    assert result.failed_stage == "bad"
    assert "boom" in (result.error or "")
    assert list(result.results) == ["a"]
    assert result.run_dir is not None
    record = msgspec.json.decode((result.run_dir / "run.json").read_bytes())
    assert record["status"] == "failed"
    assert [s["status"] for s in record["stages"]] == ["completed", "failed", "pending"]
    chain = JsonlReader(result.run_dir / "trace.jsonl").load()
    failed = chain.by_type("stage_failed")
    assert len(failed) == 1
    assert failed[0].stage == "bad"
    assert chain.verify().ok
    with pytest.raises(Exception, match="boom"):
        result.raise_for_status()


def test_an_error_finding_fails_the_run_but_keeps_the_stage_results(
    stages_on_path: Path, tmp_path: Path
) -> None:
    exp = experiment(stage("v", "Verdicts", severity="error"), stage("c", "Draw"))
    result = run(exp, home=tmp_path, seed=1)
    assert result.status == "failed"
    assert result.failed_stage == "v"
    assert "ViolationError" in (result.error or "")
    assert "1 error finding(s)" in (result.error or "")
    assert result.run_dir is not None
    assert (result.run_dir / "stages" / "v" / "bootstrap.json").exists()
    with pytest.raises(RunFailedError, match="accuracy differs"):
        result.raise_for_status()
    warned = run(experiment(stage("v", "Verdicts"), stage("c", "Draw")), home=tmp_path, seed=1)
    assert warned.ok


def test_resume_of_a_completed_run_changes_nothing(stages_on_path: Path, tmp_path: Path) -> None:
    marker = tmp_path / "marker.txt"
    first = run(experiment(*two_draws(marker)), home=tmp_path, seed=2)
    again = run(experiment(*two_draws(marker)), home=tmp_path, run_id=first.run_id)
    assert again.status == "completed"
    assert again.reused == ["a", "b"]
    assert again.metrics == first.metrics
    assert again.trace_head == first.trace_head
    assert marker.read_text().split() == ["a", "b"]  # nothing ran twice


def test_resume_refuses_a_different_experiment_or_seed(
    stages_on_path: Path, tmp_path: Path
) -> None:
    first = run(experiment(*two_draws()), home=tmp_path, seed=2)
    changed = experiment(stage("a", "Draw", n=41), stage("b", "Draw", n=60))
    with pytest.raises(Exception, match="different experiment"):
        run(changed, home=tmp_path, run_id=first.run_id)
    with pytest.raises(Exception, match="seed 2, not 9"):
        run(experiment(*two_draws()), home=tmp_path, run_id=first.run_id, seed=9)


def test_dry_run_reports_every_problem_and_writes_nothing(
    stages_on_path: Path, tmp_path: Path
) -> None:
    exp = experiment(
        stage("a", "Draw", n="many"),
        stage("b", "Draw", must_follow="zzz"),
        {"name": "c", "module": "no_such_module:Stage"},
        {"name": "d", "module": "report", "options": {"unexpected": 1}},
        {"name": "a", "module": "report"},
        {"name": "nothing"},
    )
    with pytest.raises(ValidationError) as info:
        run(exp, home=tmp_path / "home", dry_run=True)
    paths = {item.path: item.code for item in info.value.items}
    assert paths["/pipeline/0/options/n"] == "stage_option"
    assert paths["/pipeline/1/options/must_follow"] == "test.order"
    assert paths["/pipeline/2/module"] == "pipeline.unknown_stage"
    assert paths["/pipeline/3/options"] == "stage_option"
    assert any("unexpected" in item.message for item in info.value.items)
    assert paths["/pipeline/4/name"] == "pipeline.duplicate_stage"
    assert paths["/pipeline/5/name"] == "pipeline.unknown_stage"
    assert not (tmp_path / "home").exists()
    ok = run(experiment(*two_draws()), home=tmp_path / "home", dry_run=True)
    assert ok.status == "checked"
    assert ok.stages == ["a", "b"]
    assert ok.run_dir is None
    assert not (tmp_path / "home").exists()


def test_registry_lists_known_keys_and_resolves_lazily() -> None:
    assert {"dataset", "train.supervised", "evaluate", "stats", "report"} <= set(known_stages())
    assert load_stage("report").__name__ == "ReportStage"
    with pytest.raises(NotFoundError, match=r"unknown stage 'nope'.*train\.supervised"):
        load_stage("nope")
    with pytest.raises(NotFoundError, match="has no 'Missing'"):
        load_stage("crucible.pipeline.stages.report:Missing")


def test_runs_in_parallel_threads_are_independent(stages_on_path: Path, tmp_path: Path) -> None:
    expected = {
        seed: run(experiment(*two_draws()), home=tmp_path / f"seq{seed}", seed=seed)
        for seed in (11, 12)
    }
    outcomes: dict[int, object] = {}

    def work(seed: int) -> None:
        outcomes[seed] = run(experiment(*two_draws()), home=tmp_path / f"par{seed}", seed=seed)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in (11, 12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for seed, want in expected.items():
        got = outcomes[seed]
        assert got.status == "completed"  # type: ignore[attr-defined]
        assert got.metrics == want.metrics  # type: ignore[attr-defined]
        assert got.trace_head == want.trace_head  # type: ignore[attr-defined]
        chain = JsonlReader(got.run_dir / "trace.jsonl").load()  # type: ignore[attr-defined]
        assert len(chain.events) == len(JsonlReader(want.run_dir / "trace.jsonl").load().events)
