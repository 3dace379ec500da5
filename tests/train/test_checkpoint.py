"""Checkpoints: atomic, verified, retained by policy, and loading a damaged one falls back."""

from __future__ import annotations

from pathlib import Path

import msgspec
import numpy as np
import pytest

from crucible.errors import IntegrityError
from crucible.ir.training import CheckpointRef
from crucible.train.adapters.numpy_lm import NumpyLMConfig, NumpyLMTrainingClient
from crucible.train.checkpoint import CheckpointFallbackWarning, CheckpointManager
from crucible.train.tokenizers import ByteTokenizer
from crucible.train.types import AdamParams, Datum

TOK = ByteTokenizer()


def client(seed: int = 0) -> NumpyLMTrainingClient:
    cfg = NumpyLMConfig(
        vocab_size=TOK.vocab_size, context=2, embed_dim=4, hidden=8, layers=1, seed=seed
    )
    return NumpyLMTrainingClient(cfg, TOK)


def step(c: NumpyLMTrainingClient) -> None:
    c.forward_backward([Datum.from_tokens([1, 2, 3, 4], [1, 1, 1, 1])])
    c.optim_step(AdamParams(learning_rate=0.1))


def test_save_writes_manifest_and_no_temporaries(tmp_path: Path) -> None:
    c = client()
    step(c)
    mgr = CheckpointManager(tmp_path)
    ckpt = mgr.save(
        c,
        kind="periodic",
        step=1,
        metrics={"loss": 1.5},
        config_fingerprint="ab",
        loop_state={"step": 1},
    )
    assert ckpt.path.name == "periodic_000001"
    assert sorted(p.name for p in ckpt.path.iterdir()) == [
        "manifest.json",
        "optimizer.safetensors",
        "weights.safetensors",
    ]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    manifest = mgr.verify(ckpt.path)
    assert manifest.metrics == {"loss": 1.5}
    assert manifest.rng_state["backend"]["bit_generator"] == "PCG64"
    assert len(manifest.files["weights.safetensors"]) == 64
    assert not any(f.suffix == ".pkl" for f in ckpt.path.iterdir())
    ref = ckpt.to_ref()
    assert msgspec.convert(msgspec.to_builtins(ref), CheckpointRef) == ref
    assert ref.step == 1


def test_restore_is_exact(tmp_path: Path) -> None:
    a = client()
    step(a)
    mgr = CheckpointManager(tmp_path)
    mgr.save(a, kind="periodic", step=1)
    b = client(seed=5)
    assert mgr.load_latest(b) is not None
    np.testing.assert_array_equal(a.params.flat, b.params.flat)
    assert a.rng_state() == b.rng_state()
    step(a)
    step(b)
    np.testing.assert_array_equal(a.params.flat, b.params.flat)


def test_damaged_checkpoint_falls_back(tmp_path: Path) -> None:
    c = client()
    mgr = CheckpointManager(tmp_path, keep_last=5)
    step(c)
    mgr.save(c, kind="periodic", step=1)
    good = c.params.flat.copy()
    step(c)
    newest = mgr.save(c, kind="periodic", step=2)
    weights = newest.path / "weights.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match=r"periodic_000002 is damaged: weights.safetensors"):
        mgr.load(newest.path, client())
    restored = client(seed=9)
    with pytest.warns(CheckpointFallbackWarning, match="falling back"):
        ckpt = mgr.load_latest(restored)
    assert ckpt is not None
    assert ckpt.manifest.step == 1
    np.testing.assert_array_equal(restored.params.flat, good)
    (mgr.list()[0].path / "manifest.json").write_text("{")
    with pytest.warns(CheckpointFallbackWarning), pytest.raises(IntegrityError):
        mgr.load_latest(client())


def test_retention(tmp_path: Path) -> None:
    c = client()
    mgr = CheckpointManager(tmp_path, keep_last=2)
    for s in range(1, 6):
        mgr.save(c, kind="periodic", step=s)
        mgr.save(c, kind="best", step=s)
    mgr.save(c, kind="final", step=6)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["best_000005", "final_000006", "periodic_000004", "periodic_000005"]
    best = mgr.best()
    assert best is not None
    assert best.manifest.step == 5
    assert mgr.list(("periodic", "final"))[-1].manifest.kind == "final"
    assert CheckpointManager(tmp_path / "none").load_latest(c) is None
