"""Reads that several dashboard queries need, made once and shared between them.

Current stock, every worker's workload and the per-grid round counters are each needed by
several figures of one page (the overview's headline, its alerts and its attention list all
look at stock). `shared(fn, session=…, **kwargs)` is `fn(session=…, **kwargs)`; where the
caller has installed a reader (the pages do, for the queries they cache: gridcore.ui.data),
the result comes through that reader instead, so the figures of one page, and of every
session on the server, are computed from one read as long as the data has not changed.

A reader is only installed around read-only query calls: a service writing in a
transaction always reads its own session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar, cast

from sqlmodel import Session

T = TypeVar("T")
# reader(fn, **kwargs) -> fn's result for those arguments (arguments are hashable).
Reader = Callable[..., Any]

_READER: ContextVar[Reader | None] = ContextVar("gridcore_shared_reader", default=None)


def shared(fn: Callable[..., T], /, *, session: Session, **kwargs: Any) -> T:
    """`fn(session=session, **kwargs)`, or the installed reader's copy of its result."""
    reader = _READER.get()
    if reader is None:
        return fn(session=session, **kwargs)
    return cast(T, reader(fn, **kwargs))


@contextmanager
def reading_through(reader: Reader | None) -> Iterator[None]:
    """Inside the block, `shared` reads go through `reader` (None: straight to the database)."""
    token = _READER.set(reader)
    try:
        yield
    finally:
        _READER.reset(token)
