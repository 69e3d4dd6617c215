"""Engine and session factories. No engine is created at import time."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from gridcore import config

# How long a SQLite write waits for another connection's write lock before it fails.
BUSY_TIMEOUT = 30.0


def make_engine(url: str, *, busy_timeout: float = BUSY_TIMEOUT, **kwargs: Any) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout (seconds) and foreign keys on
    every connection."""
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            # Only the embedded default's folder is made: a mistyped path must not quietly
            # become new folders and an empty database (load_settings says what is wrong).
            if Path(database).parent == config.DATA_DIR:
                config.DATA_DIR.mkdir(parents=True, exist_ok=True)
            _create_private(Path(database))
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": busy_timeout}, **kwargs
        )
        event.listen(engine, "connect", partial(_sqlite_pragmas, busy_ms=int(busy_timeout * 1000)))
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 5)
    kwargs.setdefault("max_overflow", 10)
    return create_engine(url, **kwargs)


def _create_private(path: Path) -> None:
    """Make a new SQLite file 0600 before SQLite opens it (its WAL and journal follow its mode).

    A folder that does not exist, or may not be written, is left for SQLite to report.
    """
    with suppress(FileExistsError, FileNotFoundError, PermissionError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, busy_ms: int) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # 64 MB page cache per connection (the default 2 MB makes dashboard counts re-read pages).
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that is closed on exit; services commit their own transactions."""
    with Session(engine, expire_on_commit=False) as session:
        yield session
