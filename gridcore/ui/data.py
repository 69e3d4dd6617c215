"""Cached access to the database for pages: the engine, and query results with a short TTL.

Results are cached for less than the refresh interval, so what one user saves is on
every other user's screen at the next refresh; a write in this process clears them at once.
"""

from __future__ import annotations

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

T = TypeVar("T")
# Seconds: three attempts of a one-tap write stay within the half minute a tap waited before.
PAGE_BUSY_TIMEOUT = 10.0


def cache_ttl_seconds() -> int:
    """How long a query result is kept: a little longer than the refresh interval, so that a
    page's own refresh finds its figures computed once for every session on the server.

    Every write made through the app forgets the cache at once (`invalidate`); only a write
    from elsewhere (the command line, another server) shows up to this long after it.
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
    url: str, module: str, name: str, kwargs: tuple[tuple[str, Any], ...]
) -> tuple[datetime, Any]:
    """When the result was read (local time), and the result."""
    import importlib

    fn = getattr(importlib.import_module(module), name)
    with Session(engine_for(url), expire_on_commit=False) as s:
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
    key = tuple(sorted(kwargs.items()))
    read_at, result = _cached_call()(get_settings().database_url, fn.__module__, fn.__name__, key)
    if (reads := _READS.get()) is not None:
        reads.append(read_at)
    return cast(T, result)


def invalidate() -> None:
    """Forget every cached result (call after a write)."""
    _cached_call().clear()  # type: ignore[attr-defined]
