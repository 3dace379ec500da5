"""crucible.trace: tamper-evident causal traces of the decisions a model or a pipeline makes.

A trace is a :class:`Chain` of :class:`Event` records (what was decided, the alternatives,
why, how confident, what it cost), linked two ways: causally, by ``parent_id`` and
``depends_on`` (a DAG, see :mod:`~crucible.trace.graph`), and cryptographically, by a
SHA-256 hash chain computed in the Rust core (see :mod:`~crucible.trace.integrity`), so any
edit, removal, insertion or reordering of a stored event is found by :func:`verify`.

    from crucible.trace import Tracer, SqliteStore

    store = SqliteStore()                       # ./.crucible/trace.sqlite3 by default
    tracer = Tracer("run-7", sinks=[store], experiment_id="exp-1")
    with tracer.stage("train"):
        tracer.record("hypothesis_formed", "Use cosine decay", "Loss plateaus early",
                      alternatives=["step decay"], confidence=0.8)
    assert store.verify(tracer.chain.id).ok

Modules: :mod:`event` and :mod:`chain` (the model), :mod:`graph` (relationships),
:mod:`integrity` (hashes, verification, signatures), :mod:`parser` (events out of model
output), :mod:`query` (search), :mod:`store` (JSONL and SQLite), :mod:`analysis`,
:mod:`diff`, :mod:`mermaid` and :mod:`view` (statistics and pictures), :mod:`tracer` and
:mod:`bridge` (recording a run, from code and from the event bus).
"""

from __future__ import annotations

from crucible.trace.analysis import ChainStats, statistics
from crucible.trace.chain import TRACE_EVENT, Chain, make_event
from crucible.trace.diff import ChainDiff, diff
from crucible.trace.event import CATEGORIES, Event, EventType, category_of, is_valid_type
from crucible.trace.graph import CriticalPath, Graph, check, graph
from crucible.trace.integrity import GENESIS, Verification, seal, sign, verify, verify_docs
from crucible.trace.mermaid import to_mermaid
from crucible.trace.parser import ParseError, ParseResult, build_prompt, parse, parse_to_chain
from crucible.trace.store import JsonlReader, JsonlWriter, SqliteStore
from crucible.trace.tracer import StageScope, Tracer
from crucible.trace.view import save_html, to_html

__all__ = [
    "CATEGORIES",
    "GENESIS",
    "TRACE_EVENT",
    "Chain",
    "ChainDiff",
    "ChainStats",
    "CriticalPath",
    "Event",
    "EventType",
    "Graph",
    "JsonlReader",
    "JsonlWriter",
    "ParseError",
    "ParseResult",
    "SqliteStore",
    "StageScope",
    "Tracer",
    "Verification",
    "build_prompt",
    "category_of",
    "check",
    "diff",
    "graph",
    "is_valid_type",
    "make_event",
    "parse",
    "parse_to_chain",
    "save_html",
    "seal",
    "sign",
    "statistics",
    "to_html",
    "to_mermaid",
    "verify",
    "verify_docs",
]
