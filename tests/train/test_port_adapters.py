"""The real adapters for the storage and retrieval ports, on real files and real SQLite:
blob stores (local and fsspec's LocalFileSystem), the local model hub, the hashing embedder
and the SQLite vector store, bad input included."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fsspec.implementations.local import LocalFileSystem

from crucible.errors import (
    ConfigurationError,
    IntegrityError,
    InvalidArgumentError,
    InvalidTypeError,
    NotFoundError,
    ValidationError,
)
from crucible.ir import ModelLineage, ModelVersion, is_valid
from crucible.ir.enums import ArtifactKind
from crucible.train.adapters.blob_addressing import BlobStoreBase, content_key
from crucible.train.adapters.blob_fsspec import FsspecBlobStore
from crucible.train.adapters.blob_local import LocalBlobStore
from crucible.train.adapters.embedding_hashing import HashingEmbedder
from crucible.train.adapters.hub_local import LocalHubClient
from crucible.train.adapters.vector_sqlite import SqliteVectorStore
from crucible.train.ports import BlobStore, EmbeddingClient, HubClient, VectorStore

# --- blob stores --------------------------------------------------------------------------


@pytest.fixture(params=["local", "fsspec-url", "fsspec-instance"])
def blob_store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStoreBase:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    if request.param == "fsspec-url":
        return FsspecBlobStore((tmp_path / "blobs").as_uri())  # file:// -> LocalFileSystem
    return FsspecBlobStore(str(tmp_path / "blobs"), filesystem=LocalFileSystem())


def test_blob_round_trip_list_and_delete(blob_store: BlobStoreBase, tmp_path: Path) -> None:
    assert isinstance(blob_store, BlobStore)
    blob_store.put("runs/a/weights.npz", b"\x00" * 10)
    blob_store.put("runs/a/config.json", b"{}")
    blob_store.put("runs/b/config.json", b"{}")
    blob_store.put("runs/a/config.json", b'{"v": 2}')  # replaced whole
    assert blob_store.get("runs/a/config.json") == b'{"v": 2}'
    assert blob_store.list() == ["runs/a/config.json", "runs/a/weights.npz", "runs/b/config.json"]
    assert blob_store.list("runs/a/") == ["runs/a/config.json", "runs/a/weights.npz"]
    assert blob_store.list("runs/a/w") == ["runs/a/weights.npz"]
    assert blob_store.list("nothing/") == []
    assert (tmp_path / "blobs" / "runs" / "a" / "weights.npz").read_bytes() == b"\x00" * 10
    assert blob_store.delete("runs/a/weights.npz") is True
    assert blob_store.delete("runs/a/weights.npz") is False
    with pytest.raises(NotFoundError, match="no blob"):
        blob_store.get("runs/a/weights.npz")
    # no temporary files are left behind, and none would show up as keys
    leftovers = [p for p in (tmp_path / "blobs").rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_blob_content_addressing(blob_store: BlobStoreBase, tmp_path: Path) -> None:
    key = blob_store.put_content(b"checkpoint bytes")
    assert key == content_key(b"checkpoint bytes")
    assert key.startswith("sha256/")
    assert blob_store.put_content(b"checkpoint bytes") == key  # idempotent
    assert blob_store.get(key) == b"checkpoint bytes"
    assert blob_store.list("sha256/") == [key]
    with pytest.raises(InvalidArgumentError, match="does not hash"):
        blob_store.put(key, b"other bytes")
    (tmp_path / "blobs" / key).write_bytes(b"tampered bytes")
    with pytest.raises(IntegrityError, match="modified"):
        blob_store.get(key)


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/etc/passwd",
        "../escape",
        "a/../../b",
        "a//b",
        "a/./b",
        "a\\b",
        ".hidden",
        "a/.tmp",
        "a/b\x00",
        "sp ace",
        "x" * 1025,
    ],
)
def test_blob_rejects_unsafe_keys(blob_store: BlobStoreBase, key: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError):
        blob_store.put(key, b"x")
    with pytest.raises(InvalidArgumentError):
        blob_store.get(key)
    assert not (tmp_path / "escape").exists()


def test_blob_rejects_bad_data_and_prefix(blob_store: BlobStoreBase) -> None:
    with pytest.raises(InvalidArgumentError, match="bytes"):
        blob_store.put("a", "text")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="prefix"):
        blob_store.list("../")


def test_local_blob_write_is_atomic_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    store.put("k", b"old")

    def fail(src: Any, dst: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("crucible.train.adapters.blob_local.os.replace", fail)
    with pytest.raises(Exception, match="disk full"):
        store.put("k", b"new")
    monkeypatch.undo()
    assert store.get("k") == b"old"
    assert [p.name for p in (tmp_path / "blobs").iterdir()] == ["k"]


def test_local_blob_delete_prunes_empty_directories(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    store.put("a/b/c/d.bin", b"1")
    store.put("a/keep.bin", b"2")
    store.delete("a/b/c/d.bin")
    assert sorted(p.name for p in (tmp_path / "blobs" / "a").iterdir()) == ["keep.bin"]


def test_fsspec_store_needs_the_protocol_package() -> None:
    with pytest.raises(ConfigurationError, match="s3fs"):
        FsspecBlobStore("s3://bucket/prefix")
    with pytest.raises(ConfigurationError, match="fsspec cannot open"):
        FsspecBlobStore("nosuchprotocol://x")


# --- local hub ----------------------------------------------------------------------------


def make_model(root: Path, weights: bytes = b"W" * 64) -> Path:
    (root / "tokenizer").mkdir(parents=True, exist_ok=True)
    (root / "model.safetensors").write_bytes(weights)
    (root / "config.json").write_text('{"d_model": 16}')
    (root / "tokenizer" / "tokenizer.json").write_text('{"vocab": 256}')
    return root


def files_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_hub_push_pull_revisions_and_metadata(tmp_path: Path) -> None:
    hub = LocalHubClient(tmp_path / "hub")
    assert isinstance(hub, HubClient)
    model = make_model(tmp_path / "model")
    given = ModelVersion(
        id="tiny-sft-1",
        model_id="org/tiny",
        version="1.0.0",
        training_run_id="run-7",
        metrics={"val/nll": 1.25},
        lineage=ModelLineage(base_model="numpy-lm-small", training_run_id="run-7"),
    )
    assert hub.push(model, "org/tiny", model_version=given) == "v1"
    (model / "model.safetensors").write_bytes(b"V" * 64)
    assert hub.push(model, "org/tiny", revision="best") == "best"
    assert hub.push(model, "org/tiny", revision="best") == "best"  # same files: no-op
    assert hub.list_revisions("org/tiny") == ["v1", "best"]
    assert hub.list_revisions("org/other") == []

    first = hub.model_version("org/tiny", "v1")
    assert is_valid(first)
    assert (first.id, first.version, first.metrics) == ("tiny-sft-1", "1.0.0", {"val/nll": 1.25})
    assert first.lineage is not None
    assert first.lineage.base_model == "numpy-lm-small"
    kinds = {a.uri: (a.kind, a.size_bytes) for a in first.artifacts or []}
    assert kinds == {
        "config.json": (ArtifactKind.CONFIG, 15),
        "model.safetensors": (ArtifactKind.WEIGHTS, 64),
        "tokenizer/tokenizer.json": (ArtifactKind.TOKENIZER, 14),
    }
    latest = hub.model_version("org/tiny")
    assert (latest.id, latest.version, latest.model_id) == ("org/tiny@best", "0.0.2", "org/tiny")

    out_v1 = hub.pull("org/tiny", tmp_path / "out-v1", revision="v1")
    assert files_of(out_v1)["model.safetensors"] == b"W" * 64
    out_latest = hub.pull("org/tiny", tmp_path / "out-latest")
    assert files_of(out_latest) == files_of(model)
    # the unchanged files are stored once across both revisions
    assert len(hub.store.list("sha256/")) == 4 + 2  # 4 distinct contents + 2 manifests


def test_hub_detects_a_tampered_file(tmp_path: Path) -> None:
    hub = LocalHubClient(tmp_path / "hub")
    hub.push(make_model(tmp_path / "model"), "tiny")
    version = hub.model_version("tiny")
    weights = next(a for a in version.artifacts or [] if a.uri == "model.safetensors")
    stored = hub.store.path_of(f"sha256/{weights.sha256}")
    stored.write_bytes(b"X" * 64)
    with pytest.raises(IntegrityError, match=r"model\.safetensors"):
        hub.pull("tiny", tmp_path / "out")
    stored.unlink()
    with pytest.raises(IntegrityError, match="missing"):
        hub.pull("tiny", tmp_path / "out")


def test_hub_detects_a_tampered_manifest(tmp_path: Path) -> None:
    hub = LocalHubClient(tmp_path / "hub")
    hub.push(make_model(tmp_path / "model"), "tiny")
    manifest_key = hub.store.get("repos/tiny/refs/v1").decode()
    path = hub.store.path_of(manifest_key)
    path.write_bytes(path.read_bytes().replace(b'"size":64', b'"size":65'))
    with pytest.raises(IntegrityError):
        hub.list_revisions("tiny")


def test_hub_rejects_bad_input(tmp_path: Path) -> None:
    hub = LocalHubClient(tmp_path / "hub")
    model = make_model(tmp_path / "model")
    for repo_id in ["", "../x", "a/b/c", "a b", "/abs"]:
        with pytest.raises(InvalidArgumentError, match="repo id"):
            hub.push(model, repo_id)
    with pytest.raises(InvalidArgumentError, match="revision"):
        hub.push(model, "tiny", revision="../main")
    with pytest.raises(NotFoundError):
        hub.push(tmp_path / "missing", "tiny")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidArgumentError, match="no files"):
        hub.push(tmp_path / "empty", "tiny")
    bad = ModelVersion(id="x", model_id="tiny", version="1.0.0", parent_version="1.0.0")
    with pytest.raises(ValidationError, match="model_version of tiny"):
        hub.push(model, "tiny", model_version=bad)
    hub.push(model, "tiny", revision="main")
    (model / "config.json").write_text("{}")
    with pytest.raises(InvalidArgumentError, match="immutable"):
        hub.push(model, "tiny", revision="main")
    with pytest.raises(NotFoundError):
        hub.pull("tiny", tmp_path / "o", revision="nope")
    with pytest.raises(NotFoundError):
        hub.pull("never-pushed", tmp_path / "o")


# --- embeddings ---------------------------------------------------------------------------


def test_hashing_embedder_is_deterministic_normalised_and_lexical() -> None:
    embedder = HashingEmbedder(dimension=256)
    assert isinstance(embedder, EmbeddingClient)
    texts = [
        "the model was trained with a learning rate warmup",
        "learning-rate warmup while training the model",
        "bananas are yellow fruit",
        "",
    ]
    vectors = embedder.embed(texts)
    assert vectors.shape == (4, 256)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors[:3], axis=1), 1.0, rtol=1e-6)
    assert not vectors[3].any()
    same = HashingEmbedder(dimension=256).embed(texts)  # a fresh instance: same vectors
    np.testing.assert_array_equal(vectors, same)
    related, unrelated = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert related > 0.5 > unrelated + 0.3
    # sub-word n-grams make a typo still close
    typo = embedder.embed(["warmup schedule", "warmpu schedule", "cosine decay"])
    assert typo[0] @ typo[1] > typo[0] @ typo[2] + 0.3
    other_salt = HashingEmbedder(dimension=256, salt="other").embed(texts[:1])
    assert not np.array_equal(other_salt, vectors[:1])


def test_hashing_embedder_rejects_bad_input() -> None:
    with pytest.raises(InvalidArgumentError):
        HashingEmbedder(dimension=1)
    with pytest.raises(InvalidArgumentError):
        HashingEmbedder(ngram_range=(4, 2))
    with pytest.raises(InvalidTypeError):
        HashingEmbedder().embed("one string")  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError):
        HashingEmbedder().embed(["ok", 3])  # type: ignore[list-item]


# --- vector store -------------------------------------------------------------------------


def test_vector_store_exact_cosine_search(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    store = SqliteVectorStore(tmp_path / "vectors.db")
    assert isinstance(store, VectorStore)
    assert store.dimension is None
    data = rng.normal(size=(500, 32)).astype(np.float32)
    ids = [f"doc-{i:03d}" for i in range(500)]
    store.upsert(ids, data, [{"n": i} for i in range(500)])
    assert store.count() == 500
    assert store.dimension == 32

    queries = rng.normal(size=(5, 32)).astype(np.float32)
    results = store.query_many(queries, k=7)
    unit = data / np.linalg.norm(data, axis=1, keepdims=True)
    for query, hits in zip(queries, results, strict=True):
        brute = unit @ (query / np.linalg.norm(query))
        expected = np.argsort(-brute)[:7]
        assert [h.id for h in hits] == [ids[i] for i in expected]
        np.testing.assert_allclose([h.score for h in hits], brute[expected], rtol=1e-5)
        assert [h.metadata["n"] for h in hits] == expected.tolist()
    # a stored vector finds itself first, with cosine 1
    top = store.query(data[42], k=3)
    assert top[0].id == "doc-042"
    assert top[0].score == pytest.approx(1.0, abs=1e-6)
    assert len(store.query(data[0], k=10_000)) == 500


def test_vector_store_crud_and_persistence(tmp_path: Path) -> None:
    path = tmp_path / "vectors.db"
    store = SqliteVectorStore(path, dimension=3)
    store.upsert(["a", "b"], np.array([[1, 0, 0], [0, 1, 0]], np.float32), [{"t": "x"}, {}])
    store.upsert(["a"], np.array([[0, 0, 2]], np.float32), [{"t": "y"}])  # replace
    assert store.count() == 2
    hit = store.get("a")
    assert hit is not None
    assert hit.metadata == {"t": "y"}
    np.testing.assert_array_equal(store.get_vector("a"), [0, 0, 2])
    assert store.query(np.array([0, 0, 1], np.float32), k=1)[0].id == "a"
    assert store.get("zzz") is None
    assert store.delete(["a", "zzz"]) == 1
    assert store.count() == 1
    store.close()

    reopened = SqliteVectorStore(path)
    assert reopened.dimension == 3
    assert reopened.count() == 1
    rows = sqlite3.connect(path).execute("SELECT id, length(vector) FROM vectors").fetchall()
    assert rows == [("b", 12)]  # three float32s
    reopened.clear()
    assert reopened.count() == 0
    assert reopened.query(np.ones(3, np.float32)) == []
    assert reopened.dimension == 3


def test_vector_store_errors(tmp_path: Path) -> None:
    store = SqliteVectorStore(tmp_path / "v.db", dimension=4)
    with pytest.raises(InvalidArgumentError, match="dimension 3, the store holds 4"):
        store.upsert(["a"], np.ones((1, 3), np.float32))
    with pytest.raises(InvalidArgumentError, match="dimension 5"):
        store.query(np.ones(5, np.float32))
    with pytest.raises(InvalidArgumentError, match="holds 4-dimensional"):
        SqliteVectorStore(tmp_path / "v.db", dimension=8)
    with pytest.raises(InvalidArgumentError, match="2 ids for 1 vectors"):
        store.upsert(["a", "b"], np.ones((1, 4), np.float32))
    with pytest.raises(InvalidArgumentError, match="unique"):
        store.upsert(["a", "a"], np.ones((2, 4), np.float32))
    with pytest.raises(InvalidArgumentError, match="NaN"):
        store.upsert(["a"], np.full((1, 4), np.nan, np.float32))
    with pytest.raises(InvalidArgumentError, match="JSON"):
        store.upsert(["a"], np.ones((1, 4), np.float32), [{"x": object()}])
    with pytest.raises(InvalidArgumentError, match="all zeros"):
        store.query(np.zeros(4, np.float32))
    with pytest.raises(InvalidArgumentError, match="k must be"):
        store.query(np.ones(4, np.float32), k=0)
    with pytest.raises(NotFoundError):
        store.get_vector("missing")
    assert store.count() == 0  # nothing half-written


def test_embedder_and_vector_store_retrieve_together(tmp_path: Path) -> None:
    embedder = HashingEmbedder(dimension=128)
    docs = {
        "lr": "the learning rate schedule uses linear warmup then decay",
        "ckpt": "checkpoints are saved every ten steps and the best one is kept",
        "data": "conversations are rendered with the role colon template",
    }
    store = SqliteVectorStore(tmp_path / "docs.db", dimension=embedder.dimension)
    store.upsert(
        list(docs), embedder.embed(list(docs.values())), [{"text": t} for t in docs.values()]
    )
    hits = store.query(embedder.embed(["how often are checkpoints saved"])[0], k=2)
    assert hits[0].id == "ckpt"
    assert "checkpoints" in hits[0].metadata["text"]
