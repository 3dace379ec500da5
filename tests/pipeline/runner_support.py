"""Shared pieces of the runner tests: a package of small custom stages written to a temp
directory (imported as ``crucible_test_stages:<Class>``), and experiment builders."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import msgspec

from crucible.ir import Experiment, from_dict

STAGES_MODULE = "crucible_test_stages"

STAGES_SOURCE = textwrap.dedent(
    '''
    """Custom stages for the runner tests."""
    import json
    import time
    from pathlib import Path

    import msgspec

    from crucible.errors import ErrorItem
    from crucible.pipeline import StageResult


    class DrawOptions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
        n: int = 50
        marker: str | None = None
        must_follow: str | None = None
        severity: str = "warning"


    class Draw:
        """Draws n uniforms from its rng; counts its executions in ``marker``."""

        name = "test.draw"
        Options = DrawOptions

        def __init__(self, options):
            self.options = options

        def check(self, ctx):
            earlier = [s.name for s in ctx.experiment.pipeline[: ctx.index]]
            wanted = self.options.must_follow
            if wanted is not None and wanted not in earlier:
                return [ErrorItem(ctx.pointer + "/options/must_follow", "test.order",
                                  f"{wanted!r} is not an earlier stage")]
            return []

        def run(self, ctx):
            if self.options.marker:
                with open(self.options.marker, "a") as f:
                    f.write(ctx.stage.name + "\\n")
            xs = ctx.rng.random(self.options.n)
            for i in range(0, self.options.n, 10):
                ctx.report_progress(i + 10, self.options.n)
            ctx.tracer.record("metric_recorded", f"mean {xs.mean():.6f}", "drew uniforms")
            rows = [{"step": i, "train/loss": float(1.0 / (i + 1) + xs[i] * 0.01),
                     "train/accuracy": float(i / self.options.n)} for i in range(self.options.n)]
            path = ctx.stage_dir / "metrics.jsonl"
            path.write_text("".join(json.dumps(r) + "\\n" for r in rows))
            return StageResult(
                metrics={"mean": float(xs.mean()), "max": float(xs.max())},
                outputs={"metrics_file": path.relative_to(ctx.run_dir).as_posix(),
                         "seed": ctx.seed},
            )


    class GateOptions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
        gate: str
        timeout: float = 60.0


    class Gate:
        """Waits until the ``gate`` file exists (a stage slow enough to be killed in)."""

        name = "test.gate"
        Options = GateOptions

        def __init__(self, options):
            self.options = options

        def check(self, ctx):
            return []

        def run(self, ctx):
            deadline = time.monotonic() + self.options.timeout
            while not Path(self.options.gate).exists():
                if time.monotonic() > deadline:
                    raise TimeoutError("gate never opened")
                time.sleep(0.05)
            return StageResult(metrics={"opened": 1.0})


    class Boom:
        name = "test.boom"
        Options = DrawOptions

        def __init__(self, options):
            self.options = options

        def check(self, ctx):
            return []

        def run(self, ctx):
            raise RuntimeError("boom: this stage always fails")


    class Verdicts:
        """Writes what a stats stage writes: verdicts, bootstrap replicates, findings."""

        name = "test.verdicts"
        Options = DrawOptions

        def __init__(self, options):
            self.options = options

        def check(self, ctx):
            return []

        def run(self, ctx):
            reps = (ctx.rng.standard_normal(500) * 0.02 + 0.1).tolist()
            path = ctx.stage_dir / "bootstrap.json"
            path.write_text(json.dumps({"accuracy": reps}))
            verdict = {"metric": "accuracy", "candidate": "sft", "baseline": "init",
                       "estimate": 0.6, "baseline_estimate": 0.5, "difference": 0.1,
                       "ci_low": 0.06, "ci_high": 0.14, "confidence": 0.95,
                       "test": "bootstrap", "statistic": 5.0, "pvalue": 0.001,
                       "adjusted_pvalue": 0.002, "effect_size": 0.8, "significant": True}
            finding = {"kind": "group_gap", "severity": self.options.severity,
                       "message": "accuracy differs between groups a and b"}
            return StageResult(
                metrics={"accuracy/difference": 0.1},
                outputs={"verdicts": [verdict],
                         "bootstrap": path.relative_to(ctx.run_dir).as_posix(),
                         "findings": [finding]},
            )
    '''
)


def write_stages(root: Path) -> Path:
    """Write the stage module into ``root`` and return ``root`` (put it on sys.path)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{STAGES_MODULE}.py").write_text(STAGES_SOURCE)
    return root


def stage(name: str, cls: str, **options: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "module": f"{STAGES_MODULE}:{cls}"}
    if options:
        out["options"] = options
    return out


def experiment_doc(*stages: dict[str, Any], exp_id: str = "runner-test") -> dict[str, Any]:
    return {"id": exp_id, "backend": {"id": "numpy-lm"}, "pipeline": list(stages)}


def experiment(*stages: dict[str, Any], exp_id: str = "runner-test") -> Experiment:
    return from_dict(experiment_doc(*stages, exp_id=exp_id), Experiment)


def write_json(path: Path, doc: dict[str, Any]) -> Path:
    path.write_bytes(msgspec.json.format(msgspec.json.encode(doc)))
    return path


def crucible_cmd() -> list[str]:
    script = Path(sys.executable).parent / "crucible"
    return [str(script)] if script.exists() else [sys.executable, "-m", "crucible.cli"]


def cli_env(stages_root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(stages_root), env.get("PYTHONPATH", "")) if p
    )
    env.pop("CRUCIBLE_HOME", None)
    env["COLUMNS"] = "200"
    return env


def run_cli(args: list[str], stages_root: Path, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*crucible_cmd(), *args],
        capture_output=True,
        text=True,
        env=cli_env(stages_root),
        check=False,
        timeout=120,
        **kwargs,
    )
