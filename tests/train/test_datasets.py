"""Data: local JSONL/Parquet stores, deterministic split and shuffles (NumPy's streams),
rendered supervised batches, the bundled data set."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from crucible.errors import NotFoundError, SerializationError
from crucible.train.adapters.local_datasets import LocalDatasetStore, read_examples
from crucible.train.data import bundled_path
from crucible.train.datasets import (
    Conversation,
    PromptCompletion,
    SupervisedDataset,
    epoch_order,
    messages_of,
    split_indices,
)
from crucible.train.ports import DatasetStore
from crucible.train.renderers import TrainOnWhat, get_renderer
from crucible.train.tokenizers import ByteTokenizer

ROWS = [
    {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]},
    {"prompt": "2+2=", "completion": "4"},
    {"messages": [{"role": "user", "content": "Bye"}, {"role": "assistant", "content": "Ciao"}]},
]


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_jsonl_store(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "chat.jsonl", ROWS)
    store = LocalDatasetStore(tmp_path)
    assert isinstance(store, DatasetStore)
    assert store.list_datasets() == ["chat"]
    assert store.count("chat") == 3
    assert isinstance(store.get("chat", 0), Conversation)
    pair = store.get("chat", 1)
    assert pair == PromptCompletion(prompt="2+2=", completion="4")
    assert [m.role for m in messages_of(pair)] == ["user", "assistant"]
    assert len(list(store.iter("chat"))) == 3
    with pytest.raises(NotFoundError):
        store.load("other")
    with pytest.raises(NotFoundError):
        store.get("chat", 3)


def test_parquet_store(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    conversations = [r for r in ROWS if "messages" in r]
    pq.write_table(pa.Table.from_pylist(conversations), tmp_path / "chat.parquet")
    pq.write_table(pa.Table.from_pylist([ROWS[1]]), tmp_path / "pairs.parquet")
    store = LocalDatasetStore(
        {"chat": tmp_path / "chat.parquet", "pairs": tmp_path / "pairs.parquet"}
    )
    assert store.load("chat") == read_examples(write_jsonl(tmp_path / "c.jsonl", conversations))
    assert store.load("pairs") == [PromptCompletion(prompt="2+2=", completion="4")]


def test_bad_records_name_their_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"messages": []}\n{"text": "no"}\n', encoding="utf-8")
    with pytest.raises(SerializationError, match=r"bad.jsonl:2"):
        read_examples(path)
    path.write_text('{"messages": [{"role": 1}]}\n', encoding="utf-8")
    with pytest.raises(SerializationError, match=r"bad.jsonl:1"):
        read_examples(path)
    path.write_text("not json\n", encoding="utf-8")
    with pytest.raises(SerializationError, match=r"bad.jsonl:1"):
        read_examples(path)


def test_split_and_epoch_orders_are_numpys() -> None:
    train, val = split_indices(100, 0.2, seed=7)
    assert len(val) == 20
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(100))
    perm = np.random.default_rng([7, 0x5B11]).permutation(100)
    np.testing.assert_array_equal(val, np.sort(perm[:20]))
    np.testing.assert_array_equal(
        epoch_order(50, 3, 7), np.random.default_rng([7, 3]).permutation(50)
    )
    assert not np.array_equal(epoch_order(50, 3, 7), epoch_order(50, 4, 7))
    np.testing.assert_array_equal(epoch_order(5, 1, 0, shuffle=False), np.arange(5))
    assert len(split_indices(3, 0.01, 0)[1]) == 1


def test_supervised_dataset_batches() -> None:
    examples = read_examples(bundled_path())
    tok = ByteTokenizer()
    r = get_renderer("role_colon", tok)
    ds = SupervisedDataset.from_examples(examples[:40], r, batch_size=8, max_length=64, seed=3)
    assert len(ds) == 5
    assert ds.inputs.shape[1] <= 63
    ds.set_epoch(0)
    first = ds.get_batch(0)
    assert first.inputs.shape[0] == 8
    assert first.inputs.shape[1] == int(first.lengths.max())
    seen = np.concatenate([ds._order[i * 8 : (i + 1) * 8] for i in range(5)])
    assert sorted(seen.tolist()) == list(range(40))
    ds.set_epoch(1)
    assert not np.array_equal(ds.get_batch(0).inputs, first.inputs)
    ds.set_epoch(0)
    np.testing.assert_array_equal(ds.get_batch(0).inputs, first.inputs)
    # Targets are the inputs shifted by one; weights cover only the assistant answer.
    datum = ds.datums()[0]
    tokens = datum.model_input.to_ints()
    assert tokens[1:] == datum.loss_fn_inputs["target_tokens"][:-1].tolist()
    all_tokens = SupervisedDataset.from_examples(
        examples[:8], r, batch_size=8, train_on_what=TrainOnWhat.ALL_TOKENS
    )
    assert (all_tokens.weights.sum(axis=1) == all_tokens.lengths).all()


def test_shuffled_targets_keep_inputs_and_marginals() -> None:
    examples = read_examples(bundled_path())[:30]
    ds = SupervisedDataset.from_examples(
        examples, get_renderer("role_colon", ByteTokenizer()), batch_size=4
    )
    shuffled = ds.with_shuffled_targets(seed=1)
    np.testing.assert_array_equal(shuffled.inputs, ds.inputs)
    mask = ds.weights != 0
    assert sorted(shuffled.targets[mask].tolist()) == sorted(ds.targets[mask].tolist())
    assert (shuffled.targets[mask] != ds.targets[mask]).mean() > 0.5
    np.testing.assert_array_equal(shuffled.targets[~mask], ds.targets[~mask])


def test_bundled_data_set() -> None:
    examples = read_examples(bundled_path())
    assert len(examples) == 640
    assert all(isinstance(e, Conversation) for e in examples)
    roles = {m.role for e in examples for m in messages_of(e)}
    assert roles == {"system", "user", "assistant"}
    with pytest.raises(NotFoundError):
        bundled_path("nope")
