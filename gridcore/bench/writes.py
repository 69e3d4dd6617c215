"""Sustained sampling-desk writes: processes tapping "sampled" at once, as desks do.

Each writer is a process with its own engine; it records its share of the residents in a
new round (door to door, through services.testing.record_sample and services.base.retrying,
as the Sampling desk page does), every tenth tap sent twice with the same client token (a
double tap). Afterwards the round's rows are counted: every committed tap is one row (none
lost, none doubled).
"""

from __future__ import annotations

import multiprocessing
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import func, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from gridcore.access import SYSTEM, Actor
from gridcore.db import make_engine
from gridcore.models import Area, AreaLevel, HealthStatus, Resident, TestRecord, UserRole, utcnow
from gridcore.services import testing
from gridcore.services.base import ValidationFailed, WriteBusy, retrying


def url_for_processes(engine: Engine) -> str:
    """A URL a new process can open: PostgreSQL's schema goes into the connection options."""
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name != "postgresql":
        return url
    with engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


def _desk(url: str, number: int, round_id: int, residents: list[int]) -> dict[str, Any]:
    """One desk: a sample for each of `residents`; what became of each tap."""
    engine = make_engine(url)
    actor = Actor(username=f"desk{number}", role=UserRole.admin)
    committed: dict[str, int] = {}
    busy = invalid = retries = taps = 0

    def count_retry(_: int) -> None:
        nonlocal retries
        retries += 1

    with Session(engine, expire_on_commit=False) as session:
        for index, resident_id in enumerate(residents):
            token = f"bench-desk{number}-{index:06d}"
            for _ in range(2 if index % 10 == 0 else 1):
                taps += 1

                def call(resident_id: int = resident_id, token: str = token) -> Any:
                    return testing.record_sample(
                        session=session,
                        resident_id=resident_id,
                        round_id=round_id,
                        actor=actor,
                        door_to_door=True,
                        client_token=token,
                    )

                try:
                    row = retrying(call, session=session, pause=0.05, on_retry=count_retry)
                except WriteBusy:
                    busy += 1
                    continue
                except ValidationFailed:
                    invalid += 1
                    continue
                committed[token] = int(row.id or 0)
    engine.dispose()
    return {"committed": committed, "busy": busy, "invalid": invalid, "retries": retries,
            "taps": taps}  # fmt: skip


def _round_and_residents(engine: Engine, needed: int) -> tuple[int, list[int]]:
    with Session(engine) as session:
        streets = list(session.exec(select(Area.id).where(Area.level == AreaLevel.street)).all())
        start = utcnow() - timedelta(hours=1)
        made = testing.open_round(
            session=session,
            data={
                "name": f"Benchmark desks {start:%H%M%S}",
                "area_ids": streets,
                "start_at": start,
                "deadline_at": start + timedelta(hours=24),
            },
            actor=SYSTEM,
        )
        residents = session.exec(
            select(Resident.id)
            .where(Resident.health_status == HealthStatus.at_home)
            .order_by(col(Resident.id))
            .limit(needed)
        ).all()
        return int(made.id or 0), [int(r or 0) for r in residents]


def measure(engine: Engine, *, writers: int, writes: int) -> dict[str, Any]:
    """`writers` desks × `writes` residents each, at once: writes/s, busy, lost, doubled."""
    round_id, residents = _round_and_residents(engine, writers * writes)
    shares = [residents[w::writers] for w in range(writers)]
    url = url_for_processes(engine)
    engine.dispose()  # a forked process must not share the parent's pooled connections
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(writers) as pool:
        results = pool.starmap(_desk, [(url, w, round_id, shares[w]) for w in range(writers)])
    seconds = time.perf_counter() - started
    committed = {t: i for r in results for t, i in r["committed"].items()}
    with Session(engine) as session:
        stored = int(
            session.exec(
                select(func.count()).select_from(TestRecord).where(TestRecord.round_id == round_id)
            ).one()
        )
    taps = sum(r["taps"] for r in results)
    return {
        "writers": writers,
        "taps": taps,
        "committed": len(committed),
        "seconds": seconds,
        "writes_per_s": taps / seconds if seconds > 0 else 0.0,
        "committed_per_s": len(committed) / seconds if seconds > 0 else 0.0,
        "busy": sum(r["busy"] for r in results),
        "invalid": sum(r["invalid"] for r in results),
        "retries": sum(r["retries"] for r in results),
        "lost": max(0, len(committed) - stored),
        "doubled": max(0, stored - len(committed)),
    }
