"""Queries over trace events: small predicates combined with ``&``, ``|`` and ``~``.

    from crucible.trace.query import content, types, confidence

    q = content("GenServer") & types("hypothesis_formed", "pattern_applied") & confidence(min=0.8)
    hits = q.select(chain)            # in memory
    hits = list(store.search(q))      # the same query against a SQLite store

One query object runs in both places, with the same answer: every query is a Python
predicate on an :class:`~crucible.trace.event.Event`, and :func:`to_sql` additionally
derives a SQL prefilter that stores run first (indexes for types, times, stage,
experiment; the FTS5 trigram index for content). The prefilter may return extra rows but
never misses one, and the store applies the predicate to what it returns; so a query the
SQL cannot express exactly (a regex, a negated content search) is slower, never wrong.

Content matching is on :func:`searchable_text` (decision, reasoning, alternatives, code
section and spec reference) and, unless ``case_sensitive``, ignores the case of ASCII
letters only, which is precisely what SQLite's ``LIKE`` does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

from crucible.trace.chain import Chain, events_of
from crucible.trace.event import Event, to_us
from crucible.trace.regex_guard import compile_guarded

__all__ = [
    "Query",
    "confidence",
    "content",
    "event_ids",
    "experiment",
    "matching",
    "regex",
    "searchable_text",
    "stage",
    "time_range",
    "to_sql",
    "types",
]

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def searchable_text(event: Event) -> str:
    """The text content queries search (and the SQLite store indexes)."""
    parts = [event.decision, event.reasoning, *event.alternatives]
    if event.code_section:
        parts.append(event.code_section)
    if event.spec_reference:
        parts.append(event.spec_reference)
    return "\n".join(parts)


SqlPart = tuple[str, list[Any]]


class Query:
    """A predicate on events. Combine with ``&`` (and), ``|`` (or), ``~`` (not)."""

    def __init__(
        self,
        test: Callable[[Event], bool],
        describe: str,
        sql: Callable[[], SqlPart | None] | None = None,
        *,
        exact_sql: bool = True,
    ) -> None:
        self._test = test
        self._describe = describe
        self._sql = sql
        self._exact = exact_sql and sql is not None

    def __call__(self, event: Event) -> bool:
        return self._test(event)

    def __repr__(self) -> str:
        return f"Query({self._describe})"

    def __and__(self, other: Query) -> Query:
        return all_of(self, other)

    def __or__(self, other: Query) -> Query:
        return any_of(self, other)

    def __invert__(self) -> Query:
        return not_(self)

    def select(self, chain: Chain | Sequence[Event]) -> list[Event]:
        """The matching events of a chain (or list), in order."""
        return [e for e in events_of(chain) if self._test(e)]

    def count(self, chain: Chain | Sequence[Event]) -> int:
        """How many events match."""
        return sum(1 for e in events_of(chain) if self._test(e))


def to_sql(query: Query) -> tuple[SqlPart | None, bool]:
    """A ``WHERE`` fragment over the store's ``events`` table (alias ``e``) with its
    parameters, and whether it is exact. ``None`` means "no useful prefilter"."""
    return (query._sql() if query._sql else None), query._exact


def all_of(*queries: Query) -> Query:
    """All of the queries hold (``&``)."""
    qs = tuple(queries)

    def sql() -> SqlPart | None:
        parts = [p for p in (q._sql() if q._sql else None for q in qs) if p is not None]
        if not parts:
            return None
        return " AND ".join(f"({s})" for s, _ in parts), [v for _, ps in parts for v in ps]

    return Query(
        lambda e: all(q._test(e) for q in qs),
        " & ".join(map(repr, qs)),
        sql,
        exact_sql=all(q._exact for q in qs),
    )


def any_of(*queries: Query) -> Query:
    """Any of the queries holds (``|``). Its prefilter exists only if every branch has
    one (a branch without could match anything)."""
    qs = tuple(queries)

    def sql() -> SqlPart | None:
        parts = [q._sql() if q._sql else None for q in qs]
        if any(p is None for p in parts):
            return None
        done = [p for p in parts if p is not None]
        return " OR ".join(f"({s})" for s, _ in done), [v for _, ps in done for v in ps]

    return Query(
        lambda e: any(q._test(e) for q in qs),
        " | ".join(map(repr, qs)),
        sql if all(q._sql for q in qs) else None,
        exact_sql=all(q._exact for q in qs),
    )


def not_(query: Query) -> Query:
    """The query does not hold (``~``). Prefiltered only when the inner SQL is exact: the
    negation of a superset is a subset."""
    inner = query

    def sql() -> SqlPart | None:
        part = inner._sql() if inner._sql else None
        # IFNULL: a NULL column makes "stage IN (...)" NULL, which Python calls False
        return None if part is None else (f"NOT IFNULL(({part[0]}), 0)", part[1])

    return Query(
        lambda e: not inner._test(e), f"~{inner!r}", sql if inner._exact else None, exact_sql=True
    )


def matching(predicate: Callable[[Event], bool], describe: str = "custom") -> Query:
    """Any Python predicate as a query (stores scan for it)."""
    return Query(predicate, describe)


def content(text: str, *, case_sensitive: bool = False) -> Query:
    """Events whose :func:`searchable_text` contains ``text``."""
    if case_sensitive:
        needle = text

        def test(e: Event) -> bool:
            return needle in searchable_text(e)
    else:
        needle = text.translate(_ASCII_LOWER)

        def test(e: Event) -> bool:
            return needle in searchable_text(e).translate(_ASCII_LOWER)

    def sql() -> SqlPart | None:
        if max(map(len, re.split(r"[%_]", text))) < 3:
            # the trigram index only answers patterns with a run of 3+ literal characters
            # (others take a path that misses some case-folded characters): scan instead
            return None
        # LIKE's own wildcards become "_" (any one character): a superset, still index-backed.
        pattern = "%" + re.sub(r"[%_]", "_", text) + "%"
        return "e.rowid IN (SELECT rowid FROM events_fts WHERE text LIKE ?)", [pattern]

    return Query(test, f"content({text!r})", sql, exact_sql=False)


def regex(pattern: str, *, flags: int = 0, max_chars: int = 65_536) -> Query:
    """Events whose :func:`searchable_text` matches ``pattern`` (``re.search``).

    Bounded work (see :mod:`~crucible.trace.regex_guard`): patterns that backtrack
    exponentially are rejected with :class:`~crucible.errors.InvalidArgumentError`, and
    only the first ``max_chars`` characters of each event's text are searched (fewer for
    patterns with several unbounded repeats).
    """
    compiled = compile_guarded(pattern, flags, max_chars=max_chars)

    def test(e: Event) -> bool:
        return compiled.search(searchable_text(e)) is not None

    return Query(test, f"regex({pattern!r})")


def types(*names: str) -> Query:
    """Events of any of these types."""
    wanted = frozenset(names)
    return Query(
        lambda e: e.type in wanted,
        f"types{tuple(sorted(wanted))}",
        lambda: (
            (f"e.type IN ({','.join('?' * len(wanted))})", sorted(wanted)) if wanted else ("0", [])
        ),
    )


def confidence(min: float | None = None, max: float | None = None) -> Query:
    """Events with ``min <= confidence <= max`` (either bound optional)."""
    lo = float("-inf") if min is None else min
    hi = float("inf") if max is None else max
    clauses = [
        c for c, v in (("e.confidence >= ?", min), ("e.confidence <= ?", max)) if v is not None
    ]
    params = [v for v in (min, max) if v is not None]
    return Query(
        lambda e: lo <= e.confidence <= hi,
        f"confidence({min}, {max})",
        lambda: (" AND ".join(clauses) or "1", list(params)),
    )


def time_range(since: datetime | None = None, until: datetime | None = None) -> Query:
    """Events with ``since <= timestamp <= until`` (inclusive, either bound optional;
    naive datetimes are taken as UTC)."""
    since, until = _aware(since), _aware(until)

    def test(e: Event) -> bool:
        return (since is None or e.timestamp >= since) and (until is None or e.timestamp <= until)

    def sql() -> SqlPart:
        clauses, params = [], []
        if since is not None:
            clauses.append("e.ts_us >= ?")
            params.append(to_us(since))
        if until is not None:
            clauses.append("e.ts_us <= ?")
            params.append(to_us(until))
        return " AND ".join(clauses) or "1", params

    return Query(test, f"time_range({since}, {until})", sql)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment


def _equals(field: str, values: Iterable[str | None]) -> Query:
    wanted = frozenset(values)

    def sql() -> SqlPart:
        named = sorted(v for v in wanted if v is not None)
        parts = [f"e.{field} IN ({','.join('?' * len(named))})"] if named else []
        if None in wanted:
            parts.append(f"e.{field} IS NULL")
        return " OR ".join(parts) or "0", list(named)

    return Query(lambda e: getattr(e, field) in wanted, f"{field}{tuple(wanted)}", sql)


def stage(*names: str | None) -> Query:
    """Events recorded in any of these stages (``None``: outside any stage)."""
    return _equals("stage", names)


def experiment(*ids: str | None) -> Query:
    """Events of any of these experiments."""
    return _equals("experiment_id", ids)


def event_ids(*ids: str) -> Query:
    """Events with these ids."""
    return _equals("id", ids)
