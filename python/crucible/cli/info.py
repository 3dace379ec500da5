"""``crucible info``: what is installed, and a quick proof that it works.

The self-check exercises the Rust core end to end through its public face: our PCG64
must reproduce NumPy's streams (raw words, uniforms, normals, bounded integers) and must
drive ``numpy.random.Generator`` through the C capsule. Exit code 0 means every check
passed, 1 that one failed.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from collections.abc import Callable

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

import crucible
from crucible import _core, prng

_SEED = 20261122


def _raw_stream() -> bool:
    ours = prng.PCG64(_SEED).random_raw(10_000)
    theirs = np.random.PCG64(_SEED).random_raw(10_000)
    return bool(np.array_equal(ours, theirs))


def _generator_methods() -> bool:
    ours, theirs = prng.default_rng(_SEED), np.random.default_rng(_SEED)
    same = np.array_equal(ours.random(5_000), theirs.random(5_000))
    same &= np.array_equal(ours.standard_normal(5_000), theirs.standard_normal(5_000))
    same &= np.array_equal(ours.integers(-7, 1_000, 5_000), theirs.integers(-7, 1_000, 5_000))
    same &= np.array_equal(ours.permutation(1_000), theirs.permutation(1_000))
    return bool(same) and ours.bit_generator.state == theirs.bit_generator.state


def _numpy_interop() -> bool:
    # NumPy's stubs ask for a BitGenerator subclass; at run time it needs only the
    # capsule and lock our PCG64 provides.
    ours = np.random.Generator(prng.PCG64(_SEED))  # type: ignore[arg-type]
    theirs = np.random.default_rng(_SEED)
    return bool(np.array_equal(ours.gamma(2.5, size=2_000), theirs.gamma(2.5, size=2_000)))


CHECKS: dict[str, Callable[[], bool]] = {
    "PCG64 raw stream equals NumPy's": _raw_stream,
    "Generator methods equal NumPy's": _generator_methods,
    "numpy.random.Generator runs on our PCG64": _numpy_interop,
}


def info(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of tables."),
) -> None:
    """Show versions and the Rust core's build, then run a short self-check."""
    results: dict[str, tuple[bool, float]] = {}
    for name, check in CHECKS.items():
        start = time.perf_counter()
        ok = check()
        results[name] = (ok, (time.perf_counter() - start) * 1e3)
    passed = all(ok for ok, _ in results.values())
    facts = {
        "crucible": crucible.__version__,
        "rust_core": _core.__version__,
        "build": f"{_core.BUILD_PROFILE} ({_core.BUILD_TARGET})",
        "threads": _core.RAYON_THREADS,
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    if as_json:
        checks = {name: {"ok": ok, "ms": round(ms, 2)} for name, (ok, ms) in results.items()}
        print(json.dumps({**facts, "checks": checks, "ok": passed}))
    else:
        console = Console()
        about = Table(title="crucible", show_header=False)
        for key, value in facts.items():
            about.add_row(key, str(value))
        console.print(about)
        table = Table(title="self-check")
        table.add_column("check")
        table.add_column("result")
        table.add_column("ms", justify="right")
        for name, (ok, ms) in results.items():
            table.add_row(name, "[green]pass[/]" if ok else "[red]FAIL[/]", f"{ms:.1f}")
        console.print(table)
    if not passed:
        sys.exit(1)
