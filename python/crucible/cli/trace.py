"""``crucible trace``: list, show, verify, compare, draw and search decision traces.

A chain is named by a ``REF``: a ``.jsonl`` trace file or a ``.json`` chain document, or a
chain in the store (``--store``, default ``$CRUCIBLE_HOME/trace.sqlite3``, else
``./.crucible/trace.sqlite3``) by id, name (the latest so named) or unique id prefix, with
``@N`` for version N. Exit codes: 0 success, 1 a broken chain (``verify``), 2 a usage
error or a chain that cannot be found or read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer
from rich.console import Console
from rich.table import Table

from crucible.errors import CrucibleError
from crucible.trace import query as q
from crucible.trace.chain import Chain
from crucible.trace.diff import diff as diff_chains
from crucible.trace.event import Event
from crucible.trace.integrity import Verification
from crucible.trace.mermaid import to_mermaid
from crucible.trace.store.jsonl import JsonlReader
from crucible.trace.store.sqlite import SqliteStore
from crucible.trace.view import to_html

app = typer.Typer(
    name="trace",
    help="Decision traces: list, show, verify, diff, draw and search them.",
    no_args_is_help=True,
    add_completion=False,
)

_StoreOption = Annotated[
    Path | None,
    typer.Option("--store", help="SQLite trace store (default: $CRUCIBLE_HOME/trace.sqlite3)."),
]
_Ref = Annotated[str, typer.Argument(help="A .jsonl/.json file, or a chain id/name[@version].")]
_Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    Console(stderr=True, highlight=False).print(f"[red]error:[/] {message}")
    return typer.Exit(code)


def _store(path: Path | None) -> SqliteStore:
    if path is not None and not path.exists():
        raise _fail(f"no trace store at {path}")
    try:
        return SqliteStore(path)
    except CrucibleError as exc:
        raise _fail(str(exc)) from None


def _split(ref: str) -> tuple[str, int | None]:
    name, sep, version = ref.rpartition("@")
    if sep and version.isdigit() and name:
        return name, int(version)
    return ref, None


def _load(ref: str, store: Path | None) -> Chain:
    """The chain a REF names (exits with code 2 if it cannot be found or read)."""
    path = Path(ref)
    try:
        if path.suffix == ".jsonl" and path.is_file():
            return JsonlReader(path).load()
        if path.suffix == ".json" and path.is_file():
            return Chain.from_json(path.read_bytes())
        name, version = _split(ref)
        with _store(store) as db:
            return db.load(name, version)
    except CrucibleError as exc:
        raise _fail(str(exc)) from None


def _dump(value: Any) -> None:
    typer.echo(json.dumps(msgspec.to_builtins(value), indent=2, ensure_ascii=False))


def _events_table(title: str, events: list[Event], chain_ids: list[str] | None = None) -> Table:
    table = Table(title=title, show_lines=False)
    if chain_ids is not None:
        table.add_column("chain", overflow="fold", max_width=12)
    for name in ("#", "type", "decision", "conf", "stage", "time (UTC)"):
        table.add_column(
            name, overflow="fold", justify="right" if name in ("#", "conf") else "left"
        )
    for i, e in enumerate(events):
        row = [
            str(i),
            e.type,
            e.decision if len(e.decision) < 80 else e.decision[:77] + "...",
            f"{e.confidence:.2f}",
            e.stage or "",
            e.timestamp.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
        ]
        table.add_row(*([chain_ids[i][:12]] if chain_ids is not None else []), *row)
    return table


@app.command("list")
def list_chains(store: _StoreOption = None, as_json: _Json = False) -> None:
    """List the chains in the store, newest first."""
    with _store(store) as db:
        chains = db.chains()
    if as_json:
        _dump(chains)
        return
    table = Table(title=f"{len(chains)} trace chain(s)")
    for name in ("id", "name", "version", "events", "updated (UTC)", "head"):
        table.add_column(name, justify="right" if name in ("version", "events") else "left")
    for c in chains:
        table.add_row(
            c.id,
            c.name,
            str(c.version),
            str(c.events),
            c.updated_at.strftime("%Y-%m-%d %H:%M:%S"),
            c.head[:16],
        )
    _console().print(table)


@app.command()
def show(
    ref: _Ref,
    store: _StoreOption = None,
    limit: Annotated[int, typer.Option(help="Show at most this many events.")] = 200,
    as_json: _Json = False,
) -> None:
    """Show a chain's events."""
    chain = _load(ref, store)
    if as_json:
        _dump(chain)
        return
    console = _console()
    console.print(f"[bold]{chain.name}[/]  {chain.id}  {len(chain.events)} event(s)")
    if chain.description:
        console.print(chain.description)
    console.print(_events_table(chain.name, chain.events[:limit]))
    if len(chain.events) > limit:
        console.print(f"... {len(chain.events) - limit} more (use --limit)")


@app.command()
def verify(ref: _Ref, store: _StoreOption = None, as_json: _Json = False) -> None:
    """Check a chain's hash chain on its stored bytes; exit 1 if it is broken."""
    path = Path(ref)
    torn = None
    try:
        if path.suffix == ".jsonl" and path.is_file():
            reader = JsonlReader(path)
            result: Verification = reader.verify()
            torn = reader.torn
        else:
            name, version = _split(ref)
            with _store(store) as db:
                result = db.verify(name, version)
    except CrucibleError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        _dump({**msgspec.to_builtins(result), "torn_tail": msgspec.to_builtins(torn)})
    elif result.ok:
        _console().print(f"[green]intact[/]: {result.checked} event(s), head {result.head}")
    else:
        _console().print(f"[red]BROKEN[/] at event {result.index} ({result.kind}): {result.reason}")
    if torn is not None and not as_json:
        _console().print(
            f"[yellow]torn last line[/]: {torn.length} byte(s) at offset {torn.offset} "
            "(an incomplete write, not part of the chain)"
        )
    if not result.ok:
        raise typer.Exit(1)


@app.command()
def diff(
    a: Annotated[str, typer.Argument(help="The first chain (REF).")],
    b: Annotated[str, typer.Argument(help="The second chain (REF).")],
    store: _StoreOption = None,
    as_json: _Json = False,
) -> None:
    """Compare two chains: events added, removed and changed."""
    result = diff_chains(_load(a, store), _load(b, store))
    if as_json:
        _dump(result)
    else:
        typer.echo(result.to_text())


@app.command()
def mermaid(
    ref: _Ref,
    store: _StoreOption = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write here.")] = None,
    confidence: Annotated[bool, typer.Option(help="Show confidences in labels.")] = False,
) -> None:
    """Print (or write) a Mermaid flowchart of a chain."""
    text = to_mermaid(_load(ref, store), include_confidence=confidence)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        _console().print(f"wrote {output}")


@app.command("html")
def html_view(
    ref: _Ref,
    store: _StoreOption = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write here.")] = None,
    max_events: Annotated[int, typer.Option(help="Draw at most this many events.")] = 500,
) -> None:
    """Write a self-contained HTML view of a chain (default: <name>.html)."""
    chain = _load(ref, store)
    target = output or Path(f"{chain.name or chain.id}.html".replace("/", "_"))
    target.write_text(to_html(chain, max_events=max_events), encoding="utf-8")
    _console().print(f"wrote {target}")


@app.command()
def search(
    text: Annotated[str, typer.Argument(help="Substring (or, with --regex, a pattern).")],
    store: _StoreOption = None,
    chain: Annotated[str | None, typer.Option(help="Only this chain (REF).")] = None,
    regex: Annotated[bool, typer.Option("--regex", help="TEXT is a regular expression.")] = False,
    types: Annotated[list[str] | None, typer.Option("--type", help="Event type (repeat).")] = None,
    min_confidence: Annotated[float | None, typer.Option()] = None,
    max_confidence: Annotated[float | None, typer.Option()] = None,
    stage: Annotated[str | None, typer.Option()] = None,
    experiment: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option(help="Stop after this many hits.")] = 100,
    as_json: _Json = False,
) -> None:
    """Find events by content, type, confidence, stage and experiment."""
    try:
        query = q.regex(text) if regex else q.content(text)
    except CrucibleError as exc:
        raise _fail(str(exc)) from None
    if types:
        query = query & q.types(*types)
    if min_confidence is not None or max_confidence is not None:
        query = query & q.confidence(min_confidence, max_confidence)
    if stage is not None:
        query = query & q.stage(stage)
    if experiment is not None:
        query = query & q.experiment(experiment)
    hits: list[tuple[str, Event]]
    path = Path(chain) if chain else None
    try:
        if path is not None and path.suffix in (".jsonl", ".json") and path.is_file():
            loaded = _load(chain or "", store)
            hits = [(loaded.id, e) for e in query.select(loaded)][:limit]
        else:
            with _store(store) as db:
                name, version = _split(chain) if chain else (None, None)
                found = db.search(query, chain=name, version=version, limit=limit)
                hits = list(found)
    except CrucibleError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        _dump([{"chain_id": cid, "event": e} for cid, e in hits])
        return
    table = _events_table(f"{len(hits)} hit(s)", [e for _, e in hits], [c for c, _ in hits])
    _console().print(table)
