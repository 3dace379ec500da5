"""Evaluation items: a prompt conversation, the reference answer, an id and group labels.

An item comes from a stored example by splitting off its last message, which must be the
assistant's: the messages before it are the prompt, its text is the reference. JSONL records
may carry an ``id`` (kept, so samples pair across models and runs by a stable name; the row
number otherwise) and a ``metadata`` object whose scalar values become the item's group
labels (``{"topic": "spelling"}``), what the fairness stage splits scores by.

:func:`select_items` takes the same train/validation split as the supervised loop
(:func:`~crucible.train.datasets.order.split_indices` with the same fraction and seed), so
evaluating ``split="val"`` scores only examples the model did not train on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import msgspec

from crucible.errors import (
    ConfigurationError,
    InvalidArgumentError,
    NotFoundError,
)
from crucible.train.adapters.local_datasets import read_examples
from crucible.train.data import bundled_path
from crucible.train.datasets.examples import Example, example_from_record, messages_of
from crucible.train.datasets.jsonl import jsonl_records
from crucible.train.datasets.order import split_indices
from crucible.train.renderers.messages import Message, text_content

__all__ = [
    "EvalItem",
    "Split",
    "item_from_example",
    "read_eval_items",
    "select_items",
    "task_items",
]

Split = Literal["all", "train", "val"]


class EvalItem(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    prompt: tuple[Message, ...]
    reference: str
    group: dict[str, str] = msgspec.field(default_factory=dict)


def item_from_example(
    example: Example, *, id: str, group: Mapping[str, str] | None = None
) -> EvalItem:
    """``example`` as an item; its last message must be the assistant's answer."""
    messages = messages_of(example)
    if not messages or messages[-1].role != "assistant":
        raise InvalidArgumentError(f"example {id!r} does not end with an assistant message")
    return EvalItem(
        id=id,
        prompt=tuple(messages[:-1]),
        reference=text_content(messages[-1]),
        group=dict(group or {}),
    )


def _group_of(record: Mapping[str, Any]) -> dict[str, str]:
    metadata = record.get("metadata")
    if not isinstance(metadata, Mapping):
        return {}
    return {
        str(k): str(v)
        for k, v in metadata.items()
        if isinstance(v, (str, int, float, bool)) and v is not None
    }


def _read_jsonl_items(path: Path) -> list[EvalItem]:
    items: list[EvalItem] = []
    for record, where in jsonl_records(path):
        raw_id = record.get("id")
        item_id = str(raw_id) if isinstance(raw_id, (str, int)) else str(len(items))
        example = example_from_record(record, where)
        items.append(item_from_example(example, id=item_id, group=_group_of(record)))
    return items


def read_eval_items(spec: str) -> list[EvalItem]:
    """Items of ``bundled:NAME`` or a ``.jsonl``/``.parquet`` path (what the supervised
    loop's ``load_examples`` accepts). Parquet rows carry no ids or groups."""
    bundled = spec.startswith("bundled:")
    path = bundled_path(spec.removeprefix("bundled:")) if bundled else Path(spec)
    if not path.is_file():
        raise NotFoundError(f"no data set file at {path}")
    if path.suffix == ".parquet":
        return [item_from_example(e, id=str(i)) for i, e in enumerate(read_examples(path))]
    return _read_jsonl_items(path)


def task_items(name: str, count: int, seed: int, *, offset: int = 0) -> list[EvalItem]:
    """Problems ``offset ..`` of the bundled task ``name``
    (:func:`crucible.train.tasks.get_task`) in the stream of ``seed``: the question as a
    user turn, the exact answer as the reference, the problem's stable id, and the task
    name as the group."""
    try:
        from crucible.train.tasks import get_task
    except ImportError as exc:  # pragma: no cover - the tasks package is optional
        raise ConfigurationError(f"task data sets need crucible.train.tasks: {exc}") from None
    if count < 1:
        raise InvalidArgumentError(f"count must be positive, not {count}")
    return [
        EvalItem(
            id=problem.id,
            prompt=(Message(role="user", content=problem.question),),
            reference=problem.answer,
            group={"task": name},
        )
        for problem in get_task(name).problems(count, seed, offset=offset)
    ]


def select_items(
    items: Sequence[EvalItem],
    *,
    split: Split = "all",
    val_fraction: float = 0.1,
    seed: int = 0,
    limit: int | None = None,
) -> list[EvalItem]:
    """The ``split`` part of ``items`` (in data-set order), at most ``limit`` of them."""
    if limit is not None and limit < 1:
        raise InvalidArgumentError(f"limit must be positive, not {limit}")
    if split == "all":
        chosen = list(items)
    elif split in ("train", "val"):
        train_idx, val_idx = split_indices(len(items), val_fraction, seed)
        chosen = [items[int(i)] for i in (train_idx if split == "train" else val_idx)]
    else:
        raise InvalidArgumentError(f"split must be 'all', 'train' or 'val', not {split!r}")
    ids = [item.id for item in chosen]
    if len(set(ids)) != len(ids):
        raise InvalidArgumentError("evaluation items must have unique ids")
    return chosen[:limit] if limit is not None else chosen
