"""The benchmark harness: `python -m gridcore bench --scale street|district`.

On one seeded database it measures every page's server render (cold, warm, cache expired),
every dashboard query beside the plain read_sql-and-pandas approach, import throughput with
peak memory, sustained sampling-desk writes with concurrent writers, and the web server's
memory with 1 and 20 sessions; with the machine and the database it ran on.

The parts that write (imports, desk writes) run on a scratch copy of the database, made and
removed by the run, so that the database measured stays as it was seeded and a later run
measures the same data. Each part is a function of its own module: machine, pages, queries,
imports, writes, server; `run` composes them and `report` prints the table.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from gridcore import bootstrap
from gridcore.bench import machine
from gridcore.db import make_engine

SECTIONS = ("machine", "database", "pages", "queries", "imports", "desk_writes", "server_memory")
PORTS = range(8840, 8850)


@dataclass(frozen=True)
class Plan:
    """What one run measures, and how much of it."""

    scale: str
    database_url: str
    quick: bool = False
    ports: range = PORTS
    log_dir: Path = Path("/tmp")

    @property
    def reps(self) -> int:
        return 1 if self.quick else 5

    @property
    def test_results(self) -> int:
        return 500 if self.quick else 100_000

    @property
    def stock_movements(self) -> int:
        return 200 if self.quick else 10_000

    @property
    def desk_writers(self) -> int:
        return 8

    @property
    def desk_writes(self) -> int:
        return 5 if self.quick else 250

    @property
    def sessions(self) -> tuple[int, ...]:
        return () if self.quick else (1, 20)


def prepare(engine: Engine, scale: str) -> dict[str, Any]:
    """Migrate; seed the demo world of `scale` when the database has none (else use it)."""
    started = time.perf_counter()
    done = bootstrap.ensure_database(engine=engine, demo=scale)
    seeded = done == bootstrap.SEEDED
    return {"seeded": seeded, "seconds": time.perf_counter() - started if seeded else 0.0}


@contextlib.contextmanager
def scratch_copy(engine: Engine) -> Iterator[str]:
    """A copy of the database for the parts that write; its URL. Removed afterwards.

    SQLite: a backup of the file beside it. PostgreSQL: a new database made from this one
    as a template (which needs no one else connected to it meanwhile).
    """
    url = engine.url
    engine.dispose()
    if url.get_backend_name() == "sqlite":
        source = Path(url.database or "")
        copy = source.with_name(f"{source.stem}.bench-scratch{source.suffix}")
        with (
            contextlib.closing(sqlite3.connect(source)) as src,
            contextlib.closing(sqlite3.connect(copy)) as dst,
        ):
            src.backup(dst)
        try:
            yield url.set(database=str(copy)).render_as_string(hide_password=False)
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{copy}{suffix}").unlink(missing_ok=True)
        return
    name = f"{url.database}_scratch"
    admin = make_engine(url.set(database="postgres").render_as_string(hide_password=False))
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{url.database}"'))
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


# What a run tells as it goes: a catalogue key and its parameters.
Say = Callable[..., None]


def _quiet(key: str, **params: Any) -> None:
    pass


def _part(
    results: dict[str, Any],
    name: str,
    call: Callable[[], Any],
    say: Say,
    done: Callable[[dict[str, Any]], None],
) -> None:
    """Run one part; a part that fails is reported as such and the others still run."""
    say("cli.bench.measuring", part=name)
    started = time.perf_counter()
    try:
        results[name] = call()
    except Exception as exc:  # noqa: BLE001 - one failed part must not lose the others' figures
        results[name] = {"error": f"{type(exc).__name__}: {exc}"}
        say("cli.bench.failed", part=name, error=results[name]["error"])
    else:
        say("cli.bench.measured", part=name, seconds=f"{time.perf_counter() - started:.1f}")
    done(results)


def run(
    plan: Plan,
    *,
    say: Say = _quiet,
    done: Callable[[dict[str, Any]], None] = lambda _: None,
) -> dict[str, Any]:
    """Every figure of one run, as the JSON holds it; `done(figures so far)` after each part
    (a long run that is stopped keeps what it measured)."""
    from gridcore.bench import imports, pages, queries, server, writes

    results: dict[str, Any] = {
        "scale": plan.scale,
        "quick": plan.quick,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_start": machine.load_average(),
        "machine": machine.machine(),
        "commit": machine.commit(),
    }
    engine = make_engine(plan.database_url)
    results["prepared"] = prepare(engine, plan.scale)
    if results["prepared"]["seeded"]:
        seconds = f"{results['prepared']['seconds']:.0f}"
        say("cli.bench.seeded", scale=plan.scale, seconds=seconds)
    else:
        say("cli.bench.used")
    results["database"] = machine.database(engine)
    _part(results, "pages", lambda: pages.measure(plan.database_url, reps=plan.reps), say, done)
    _part(results, "queries", lambda: queries.measure(engine, reps=plan.reps), say, done)
    if plan.sessions:
        log = plan.log_dir / "gridcore-bench-server.log"
        _part(
            results,
            "server_memory",
            lambda: server.measure(
                plan.database_url, ports=plan.ports, sessions=plan.sessions, log=log
            ),
            say,
            done,
        )
    else:
        results["server_memory"] = {"skipped": "quick"}
    with scratch_copy(engine) as copy_url:
        copy = make_engine(copy_url)
        try:
            _part(
                results,
                "imports",
                lambda: imports.measure(
                    copy, test_results=plan.test_results, stock_movements=plan.stock_movements
                ),
                say,
                done,
            )
            _part(
                results,
                "desk_writes",
                lambda: writes.measure(copy, writers=plan.desk_writers, writes=plan.desk_writes),
                say,
                done,
            )
        finally:
            copy.dispose()
    engine.dispose()
    results["load_average_end"] = machine.load_average()
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return results


def database_label(url: str) -> str:
    """sqlite or postgresql."""
    return make_url(url).get_backend_name()
