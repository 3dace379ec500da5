"""Experiment files: TOML, JSON and YAML, and problems located as file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from crucible.errors import NotFoundError, SerializationError
from crucible.pipeline.files import ExperimentFileError, load_experiment, read_experiment_file

JSON_DOC = """{
  "id": "j",
  "backend": {"id": "b"},
  "pipeline": [
    {"name": "a", "module": "report"},
    {"name": "b",
     "enabled": "yes"}
  ]
}
"""

YAML_DOC = """\
id: y
backend:
  id: b
pipeline:
  - name: a
    module: report
  - name: b
    options:
      lr: 0.1
"""

TOML_DOC = """\
id = "t"
[backend]
id = "b"

[[pipeline]]
name = "a"

[[pipeline]]
name = "b"
[pipeline.options]
lr = 0.1
"""


def test_three_formats_load_the_same_experiment(tmp_path: Path) -> None:
    (tmp_path / "e.yaml").write_text(YAML_DOC)
    (tmp_path / "e.toml").write_text(TOML_DOC.replace('id = "t"', 'id = "y"'))
    from_yaml = load_experiment(tmp_path / "e.yaml")
    assert from_yaml.id == "y"
    assert [s.name for s in from_yaml.pipeline] == ["a", "b"]
    assert from_yaml.pipeline[1].options == {"lr": 0.1}
    from_toml = load_experiment(tmp_path / "e.toml")
    assert from_toml.pipeline[1].options == {"lr": 0.1}


def test_json_and_yaml_errors_have_exact_lines(tmp_path: Path) -> None:
    path = tmp_path / "e.json"
    path.write_text(JSON_DOC)
    with pytest.raises(ExperimentFileError) as info:
        load_experiment(path)
    assert info.value.lines == [
        f"{path}:7: /pipeline/1/enabled: expected boolean, got string [type]"
    ]
    source = read_experiment_file(tmp_path / "e.json")
    yaml_path = tmp_path / "e.yaml"
    yaml_path.write_text(YAML_DOC)
    located = read_experiment_file(yaml_path).locator
    assert located.line_of("/pipeline/1/options/lr") == 9
    assert located.line_of("/pipeline/1/options/missing") == 8  # nearest existing parent
    assert located.line_of("/backend") == 2
    assert not source.locator.approximate


def test_toml_lines_are_searched_and_marked_approximate(tmp_path: Path) -> None:
    path = tmp_path / "e.toml"
    path.write_text(TOML_DOC)
    source = read_experiment_file(path)
    assert source.locator.approximate
    assert source.locator.line_of("/pipeline/1/options/lr") == 11
    assert source.locator.line_of("/pipeline/1/name") == 9
    assert source.locator.line_of("/pipeline/0/name") == 6
    assert source.locator.line_of("/backend/id") == 3


def test_syntax_errors_name_the_line(tmp_path: Path) -> None:
    cases = {
        "a.toml": ('id = "x"\n[backend\n', ":2: invalid TOML"),
        "a.json": ('{"id": 1,\n\n  "x": }', ":3: invalid JSON"),
        "a.yaml": ("id: x\nbackend: [\n", ": invalid YAML"),
    }
    for name, (text, expected) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(SerializationError, match=expected):
            read_experiment_file(path)
    with pytest.raises(SerializationError, match="unknown experiment file type"):
        read_experiment_file(tmp_path / "e.ini")
    with pytest.raises(NotFoundError):
        read_experiment_file(tmp_path / "missing.toml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(SerializationError, match="one table/object"):
        read_experiment_file(tmp_path / "list.yaml")
