"""``crucible ir validate|schema|migrate``, run as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from ir_examples import DOCUMENT_EXAMPLES

import crucible.ir as ir

LEGACY = Path(__file__).parent / "legacy"


def _crucible(*args: str | Path) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "crucible"
    command = (
        [str(script)]
        if script.exists()
        else [sys.executable, "-c", "from crucible.cli import main; main()"]
    )
    return subprocess.run(
        [*command, *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )


def test_valid_documents_of_every_type(tmp_path: Path) -> None:
    paths = []
    for name, make in DOCUMENT_EXAMPLES.items():
        path = tmp_path / f"{name}.json"
        path.write_bytes(ir.to_json(make()))
        paths.append(path)
    result = _crucible("ir", "validate", *paths)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    assert f"{len(paths)} files valid" in result.stderr


def test_jsonl_errors_with_lines_and_pointers(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    good = ir.to_json(DOCUMENT_EXAMPLES["feedback_event"]())
    path.write_bytes(
        b"\n".join(
            [
                good,
                b'{"id":1}',
                b"",
                b'{"id":"e","feedback_type":"rating","feedback_value":"x"}',
                b'{"id"',
            ]
        )
    )
    result = _crucible("ir", "validate", path)
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines() == [
        f"{path}:2:/id: expected string, got integer [type]",
        f"{path}:4:/feedback_value: value 'x' does not suit feedback type rating "
        "[feedback_event.value_mismatch]",
        f"{path}:5:/: malformed JSON: Input data was truncated [json]",
    ]
    assert "3 error(s) in 1 file" in result.stderr


def test_json_document_with_explicit_type_and_sniffed_kind(tmp_path: Path) -> None:
    doc = ir.to_dict(DOCUMENT_EXAMPLES["labeling_task"]())
    doc["priority"] = "high"
    path = tmp_path / "task.txt"
    path.write_text(json.dumps(doc))
    result = _crucible("ir", "validate", "--type", "labeling_task", path)
    assert result.returncode == 1
    assert result.stdout.startswith(f"{path}:1:/priority: expected integer")
    lines = tmp_path / "tasks.data"
    lines.write_text(json.dumps(doc) + "\n" + json.dumps(doc) + "\n")
    result = _crucible("ir", "validate", "-t", "labeling_task", lines)
    assert [line.split(":")[1] for line in result.stdout.splitlines()] == ["1", "2"]


def test_usage_errors(tmp_path: Path) -> None:
    assert _crucible("ir", "validate", tmp_path / "missing.json").returncode == 2
    path = tmp_path / "a.json"
    path.write_text('{"id":"x"}')
    result = _crucible("ir", "validate", "--type", "nope", path)
    assert result.returncode == 2
    assert "no IR document type 'nope'" in result.stderr
    result = _crucible("ir", "validate", path)
    assert result.returncode == 2
    assert "pass the type" in result.stderr.replace("\n", " ")


@pytest.mark.parametrize("name", ["experiment", "feedback_event"])
def test_schema(name: str) -> None:
    result = _crucible("ir", "schema", name)
    assert result.returncode == 0
    assert json.loads(result.stdout) == ir.schema(ir.document_type(name))


def test_migrate(tmp_path: Path) -> None:
    source = LEGACY / "v0_2_feedback_event.json"
    result = _crucible("ir", "migrate", source)
    assert result.returncode == 0, result.stderr
    migrated = json.loads(result.stdout)
    assert migrated == ir.migrate(json.loads(source.read_text()))
    assert migrated["schema_version"] == ir.CURRENT_SCHEMA_VERSION
    bad = tmp_path / "bad.json"
    bad.write_text("[1,")
    assert _crucible("ir", "migrate", bad).returncode == 2
