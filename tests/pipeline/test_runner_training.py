"""The runner's own stages on real data: ``dataset`` -> ``train.supervised`` -> ``report``."""

from __future__ import annotations

from pathlib import Path

import msgspec

from crucible.ir import Experiment, from_dict
from crucible.pipeline.models import load_model
from crucible.pipeline.runner import run

TINY = {
    "model": "numpy-lm-tiny",
    "batch_size": 8,
    "max_steps": 12,
    "max_length": 96,
    "learning_rate": 0.01,
    "eval_every": 4,
}


def _experiment() -> Experiment:
    doc = {
        "id": "sft-tiny",
        "backend": {"id": "numpy-lm"},
        "dataset": {"name": "conversations", "provider": "crucible_datasets"},
        "pipeline": [
            {"name": "data", "module": "dataset", "options": {"limit": 200}},
            {"name": "sft", "module": "train.supervised", "options": TINY},
            {
                "name": "more",
                "module": "train.supervised",
                "options": {**TINY, "from_model": "sft"},
            },
            {"name": "report", "module": "report"},
        ],
    }
    return from_dict(doc, Experiment)


def test_dataset_supervised_report_pipeline(tmp_path: Path) -> None:
    result = run(_experiment(), home=tmp_path / "a", seed=1)
    assert result.status == "completed", result.error
    assert result.run_dir is not None
    data = result.results["data"]
    assert data.outputs["counts"] == {"train": 160, "val": 20, "test": 20}
    train_rows = (result.run_dir / data.outputs["splits"]["train"]).read_text().splitlines()
    assert len(train_rows) == 160
    assert '"id":"conversations-' in train_rows[0]

    sft, more = result.results["sft"].metrics, result.results["more"].metrics
    assert sft["train/steps"] == 12
    rows = [
        msgspec.json.decode(line)
        for line in (result.run_dir / "stages/sft/metrics.jsonl").read_bytes().splitlines()
    ]
    first_val = next(r["val/nll"] for r in rows if "val/nll" in r)
    assert sft["val/nll"] < first_val  # training on the train split lowered held-out loss
    assert more["val/nll"] < sft["val/nll"]  # continuing from sft's model kept improving
    assert not any(k.startswith(("time/", "throughput/")) for r in rows for k in r)
    client, spec = load_model(result.run_dir / result.results["more"].outputs["model_dir"])
    assert spec.model == "numpy-lm-tiny"
    assert client is not None

    html = (result.run_dir / "stages/report/report.html").read_text()
    assert "data:image/png;base64," in html
    assert "val/nll" in html

    again = run(_experiment(), home=tmp_path / "b", seed=1)
    assert again.metrics == result.metrics
    assert again.trace_head == result.trace_head
