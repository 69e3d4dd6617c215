"""The page cache forgets its results when a write elsewhere raised the data version."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from gridcore.config import get_settings
from gridcore.db import make_engine
from gridcore.models import Employment, Worker, WorkerRole
from gridcore.services.base import bump_data_version
from gridcore.ui import data


def count_workers(*, session: Session) -> int:
    """A query as the pages call them (keyword session)."""
    return session.exec(select(func.count()).select_from(Worker)).one()


def _write_elsewhere(url: str) -> None:
    """A write as another app server makes it: its own connection, the number raised."""
    engine = make_engine(url)
    with Session(engine) as s:
        s.add(Worker(name="王芳", role=WorkerRole.grid_member, employment=Employment.full_time))
        bump_data_version(s)
        s.commit()
    engine.dispose()


def test_a_write_on_another_server_is_seen_after_the_version_check(
    tiny_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", tiny_url)
    monkeypatch.setattr(data, "VERSION_CHECK_SECONDS", 3600.0)
    get_settings.cache_clear()
    try:
        data.invalidate()
        before = data.cached(count_workers)
        _write_elsewhere(tiny_url)
        # Within the check interval the cached figure stands (one read a second, normally) ...
        assert data.cached(count_workers) == before
        monkeypatch.setattr(data, "VERSION_CHECK_SECONDS", 0.0)
        # ... after it, the version has changed: the cache is forgotten, the figure is new.
        assert data.cached(count_workers) == before + 1
        assert data.check_data_version(tiny_url) is False  # unchanged since: kept
        started = time.perf_counter()
        for _ in range(200):
            data.check_data_version(tiny_url)
        per_check_ms = (time.perf_counter() - started) / 200 * 1000
        assert per_check_ms < 20, per_check_ms
    finally:
        data.invalidate()
        get_settings.cache_clear()
