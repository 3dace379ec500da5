"""Shared fixtures of the telemetry tests: a private CRUCIBLE_HOME, a clean event bus, and
stores/experiments closed after each test."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from crucible import events
from crucible.telemetry.background import TICKER
from crucible.telemetry.store import shared as shared_stores
from crucible.telemetry.store.base import Store
from crucible.telemetry.store.memory import MemoryStore
from crucible.telemetry.store.sqlite import SQLiteStore


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own CRUCIBLE_HOME and leaves no handlers or writers behind."""
    home = tmp_path / "home"
    monkeypatch.setenv("CRUCIBLE_HOME", str(home))
    monkeypatch.setenv("CRUCIBLE_NODE_ID", "test-node")
    handlers = {h.handler_id for h in events.list_handlers()}
    shared = dict(shared_stores._shared_stores)
    yield home
    for exp in TICKER.snapshot():
        if exp.running:
            with contextlib.suppress(Exception):
                exp.stop()
    for h in events.list_handlers():
        if h.handler_id not in handlers:
            events.detach(h.handler_id)
    for path, store in list(shared_stores._shared_stores.items()):
        if path not in shared:
            store.close()
            del shared_stores._shared_stores[path]


POSTGRES_DSN = os.environ.get("CRUCIBLE_TEST_POSTGRES_DSN")


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param(
            "postgres",
            marks=pytest.mark.skipif(
                not POSTGRES_DSN, reason="CRUCIBLE_TEST_POSTGRES_DSN is not set"
            ),
        ),
    ]
)
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Store]]:
    """Makes stores of every kind (closed, and PostgreSQL schemas dropped, after the test)."""
    made: list[Store] = []
    schemas: list[str] = []

    def make(**kwargs: int) -> Store:
        store: Store
        if request.param == "memory":
            store = MemoryStore(**kwargs)
        elif request.param == "sqlite":
            store = SQLiteStore(tmp_path / f"store{len(made)}.sqlite3", **kwargs)
        else:
            from crucible.telemetry.store.postgres import PostgresStore

            schemas.append(f"contract_{uuid.uuid4().hex[:12]}")
            store = PostgresStore(POSTGRES_DSN, schema=schemas[-1], **kwargs)
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()
    if schemas:
        import psycopg

        with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
            for name in schemas:
                conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
