"""How stages hand models to each other: a model directory and the spec that rebuilds it.

A training stage saves its final weights with :func:`save_model` into its stage directory
and returns the directory (relative to the run directory) as ``outputs["model_dir"]``. Any
later stage names a model by *source*: ``"init"`` (fresh weights from the spec and the
run's seed, the natural untrained baseline) or the name of an earlier stage that produced a
``model_dir``; :func:`resolve_model` turns a source into a live client. ``model.json`` next
to the weights holds the :class:`ModelSpec` and seed, so a model directory is usable on its
own (``crucible report`` and ``compare`` reload models without the experiment).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from crucible.errors import ConfigurationError, NotFoundError, SerializationError
from crucible.train.adapters.numpy_lm import NumpyLMTrainingClient
from crucible.train.renderers import get_renderer
from crucible.train.renderers.base import Renderer
from crucible.train.steps import fresh_client
from crucible.train.tokenizers import Tokenizer

__all__ = [
    "INIT",
    "MODEL_FILE",
    "ModelSpec",
    "build_client",
    "load_model",
    "model_dir_of",
    "renderer_for",
    "resolve_model",
    "save_model",
]

INIT = "init"
MODEL_FILE = "model.json"


class ModelSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Which NumPy LM to build: a preset, overrides of its sizes, tokenizer and renderer."""

    model: str = "numpy-lm-small"
    model_overrides: dict[str, Any] = msgspec.field(default_factory=dict)
    tokenizer: str = "byte"
    renderer: str = "role_colon"


class _SavedModel(msgspec.Struct, frozen=True, kw_only=True):
    spec: ModelSpec
    seed: int


def renderer_for(spec: ModelSpec, tokenizer: Tokenizer) -> Renderer:
    return get_renderer(spec.renderer, tokenizer)


def build_client(spec: ModelSpec, seed: int) -> NumpyLMTrainingClient:
    """A fresh model: the same spec and seed give the same initial weights."""
    return fresh_client(spec, seed)


def save_model(client: NumpyLMTrainingClient, spec: ModelSpec, seed: int, directory: Path) -> Path:
    """Weights (and optimizer state) plus ``model.json``; returns ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    client.save_state(directory)
    payload = msgspec.json.encode(_SavedModel(spec=spec, seed=seed))
    tmp = directory / (MODEL_FILE + ".tmp")
    tmp.write_bytes(payload)
    tmp.replace(directory / MODEL_FILE)
    return directory


def load_model(directory: Path) -> tuple[NumpyLMTrainingClient, ModelSpec]:
    """The model saved in ``directory`` (weights only) and its spec."""
    meta = directory / MODEL_FILE
    if not meta.is_file():
        raise NotFoundError(f"no saved model in {directory} (missing {MODEL_FILE})")
    try:
        saved = msgspec.json.decode(meta.read_bytes(), type=_SavedModel)
    except msgspec.DecodeError as exc:
        raise SerializationError(f"{meta}: {exc}") from None
    client = build_client(saved.spec, saved.seed)
    client.load_state(directory, weights_only=True)
    return client, saved.spec


def model_dir_of(source: str, results: Any, run_dir: Path) -> Path:
    """The model directory an earlier stage ``source`` produced (``results`` maps stage
    names to :class:`~crucible.pipeline.stage.StageResult`)."""
    result = results.get(source)
    if result is None:
        raise NotFoundError(f"model source {source!r} is neither {INIT!r} nor an earlier stage")
    rel = result.outputs.get("model_dir")
    if not isinstance(rel, str):
        raise ConfigurationError(f"stage {source!r} produced no model (no outputs['model_dir'])")
    return run_dir / rel


def resolve_model(
    source: str, spec: ModelSpec, seed: int, results: Any, run_dir: Path
) -> tuple[NumpyLMTrainingClient, ModelSpec]:
    """A live model for ``source``: ``"init"`` builds ``spec`` fresh with ``seed``; a stage
    name loads that stage's saved model (with its own spec)."""
    if source == INIT:
        return build_client(spec, seed), spec
    return load_model(model_dir_of(source, results, run_dir))
