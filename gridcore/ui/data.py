"""Cached access to the database for pages: the engine, and query results with a short TTL.

A write in this process clears the cached results at once. A write made anywhere else (another
app server on the same database, the command line) raises the data version
(models.DataVersion); every page run and refresh that reads through `cached` looks at it, at
most once every VERSION_CHECK_SECONDS per process, and clears the cache when it has changed.
So what one user saves is on every server's screens at their next refresh.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from typing import Any, TypeVar, cast

import streamlit as st
from sqlalchemy.engine import Engine
from sqlmodel import Session

from gridcore.config import get_settings, local_now, local_today
from gridcore.db import make_engine
from gridcore.queries import shared
from gridcore.queries.data_version import data_version

T = TypeVar("T")
# Seconds: three attempts of a one-tap write stay within the half minute a tap waited before.
PAGE_BUSY_TIMEOUT = 10.0


def cache_ttl_seconds() -> int:
    """How long a query result is kept: a little longer than the refresh interval, so that a
    page's own refresh finds its figures computed once for every session on the server.

    A write made through this server forgets the cache at once (`invalidate`); a write made
    elsewhere (another server, the command line) at the first run or refresh after it that
    checks the data version (`check_data_version`).
    """
    refresh = get_settings().refresh_seconds
    return refresh + max(2, refresh // 6)


@st.cache_resource(show_spinner=False)
def engine_for(url: str) -> Engine:
    """One engine per database URL for the whole server process.

    A page's write waits at most PAGE_BUSY_TIMEOUT seconds for a SQLite write lock; the
    one-tap writes then try again (services.base.retrying) before saying "not saved".
    """
    return make_engine(url, busy_timeout=PAGE_BUSY_TIMEOUT)


def engine() -> Engine:
    """The engine of the configured database."""
    return engine_for(get_settings().database_url)


def forget_connections() -> None:
    """Close the pooled connections after a database fault: the next run opens new ones
    (a connection opened while the file was read-only stays read-only)."""
    try:
        engine().dispose()
    except Exception:  # noqa: BLE001 - the engine itself may be what failed; nothing to close
        engine_for.clear()


@contextmanager
def session() -> Iterator[Session]:
    """A short-lived session for one read or one write."""
    with Session(engine(), expire_on_commit=False) as s:
        yield s


def today() -> date:
    """Today in the deployment's time zone."""
    return local_today()


def now() -> datetime:
    """Now, in the deployment's time zone."""
    return local_now()


def _call(
    url: str, version: int | None, module: str, name: str, kwargs: tuple[tuple[str, Any], ...]
) -> tuple[datetime, Any]:
    """When the result was read (local time), and the result of query `module.name`.

    `version` (the data version read before it) is only part of the cache's key: a query
    that began before a write and ends after the cache was cleared stores its result under
    the old version, where no later caller looks."""
    import importlib

    fn = getattr(importlib.import_module(module), name)
    # The reads it shares with other queries (current stock, workloads, …) come through the
    # same cache: one read per page, and per server, until the data changes.
    with Session(engine_for(url), expire_on_commit=False) as s, shared.reading_through(cached):
        return local_now(), fn(session=s, **dict(kwargs))


# The moments the cached results used inside `read_times()` were read, or None outside it.
_READS: ContextVar[list[datetime] | None] = ContextVar("gridcore_reads", default=None)


@contextmanager
def read_times() -> Iterator[list[datetime]]:
    """Collects when each cached result used inside the block was read from the database, so
    a screen can say how old its oldest figure is ('as of HH:MM')."""
    reads: list[datetime] = []
    token = _READS.set(reads)
    try:
        yield reads
    finally:
        _READS.reset(token)


@cache
def _cached_call() -> Callable[..., Any]:
    """The shared result cache, made on first use: its TTL comes from the settings."""
    return st.cache_data(ttl=cache_ttl_seconds(), show_spinner=False, max_entries=256)(_call)


def cached(fn: Callable[..., T], **kwargs: Any) -> T:
    """Call query `fn(session=…, **kwargs)` through the shared short-lived cache.

    Arguments must be hashable plain values (dates, ints, strings, an Actor); results must
    be plain data (DataFrames, dataclasses) since each caller gets a copy.
    """
    url = get_settings().database_url
    check_data_version(url)
    version = _SEEN[url].version
    key = tuple(sorted(kwargs.items()))
    read_at, result = _cached_call()(url, version, fn.__module__, fn.__name__, key)
    if (reads := _READS.get()) is not None:
        reads.append(read_at)
    return cast(T, result)


def invalidate() -> None:
    """Forget every cached result (call after a write)."""
    _cached_call().clear()  # type: ignore[attr-defined]


# Seconds a process trusts the data version it last read: a refresh of any session reads it
# at most this often, so a hundred screens refreshing cost one read a second, not a hundred.
VERSION_CHECK_SECONDS = 1.0


class _SeenVersion:
    """The data version this process last read from one database, and when."""

    def __init__(self) -> None:
        self.version: int | None = None
        self.read_at = -float("inf")


_SEEN: dict[str, _SeenVersion] = {}
_SEEN_LOCK = threading.Lock()


def check_data_version(url: str) -> bool:
    """Clear the cache when another writer has raised the data version; True when cleared.

    The version is read before any result of this run is computed, so a result cached under
    a version reflects at least that version's data: a later write raises the number and the
    next check (after VERSION_CHECK_SECONDS at most) clears it.
    """
    moment = time.monotonic()
    with _SEEN_LOCK:
        seen = _SEEN.setdefault(url, _SeenVersion())
        if moment - seen.read_at < VERSION_CHECK_SECONDS:
            return False
        seen.read_at = moment
        with Session(engine_for(url)) as s:
            version = data_version(session=s)
        if version == seen.version:
            return False
        seen.version = version
    invalidate()
    return True
