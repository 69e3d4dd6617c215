"""Concurrent writers: processes writing through the services at once, on the tiny world.

WRITERS processes × WRITES writes each (samples, results, stock receipts and issues,
requests, tasks; every tenth sent twice with the same client token, as a double click),
each through `services.base.retrying`. Afterwards every write is either committed exactly
once (its client token points at one row) or was refused as busy (WriteBusy: retryable)
and left nothing; the rows added equal the writes committed; the depot's stock equals the
opening balance plus every committed movement, and the ledger never went below zero.

GRIDCORE_CONCURRENCY=8x500 runs the larger trial by hand (with -s, the figures are printed).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from tiny_world import TinyWorld

from gridcore.access import SYSTEM, Actor
from gridcore.bench.writes import url_for_processes
from gridcore.db import make_engine
from gridcore.models import (
    Depot,
    HealthStatus,
    ReplayKey,
    Resident,
    ResidentRequest,
    StockMovement,
    SupplyItem,
    Task,
    TestRecord,
    UserRole,
    utcnow,
)
from gridcore.services import requests, stock, tasks, testing
from gridcore.services.base import ValidationFailed, WriteBusy, retrying

pytestmark = pytest.mark.both_backends  # locking and concurrency: the dialect matters

WRITERS, WRITES = (int(n) for n in os.environ.get("GRIDCORE_CONCURRENCY", "4x50").split("x"))
OPENING_STOCK = 100_000
KINDS = ("sample", "result", "receipt", "issue", "request", "task")
# What each kind adds a row to (a result changes a record and adds none).
TABLE_OF = {
    "sample": TestRecord,
    "receipt": StockMovement,
    "issue": StockMovement,
    "request": ResidentRequest,
    "task": Task,
}


def _writer(url: str, number: int, plan: dict[str, Any]) -> dict[str, Any]:
    """One process: its share of the writes, each retried while busy; what became of each."""
    engine = make_engine(url)
    actor = Actor(username=f"writer{number}", role=UserRole.admin)
    outcomes: list[tuple[str, str, str, int | None]] = []  # kind, token, outcome, row id
    retries = 0
    samples = list(plan["samples"][number])
    records: list[int] = []
    depot, item, grid = plan["depot"], plan["item"], plan["grid"]

    def count_retry(_: int) -> None:
        nonlocal retries
        retries += 1

    with Session(engine, expire_on_commit=False) as session:
        for index in range(WRITES):
            kind = KINDS[(index + number) % len(KINDS)]
            if kind == "result" and not records:
                kind = "sample"
            if kind == "sample" and not samples:
                kind = "request"
            token = f"w{number}-{index:05d}"
            call = _call(session, actor, kind, token, samples, records, depot, item, grid)
            # A double click: the same token again (a result has no token: it is sent once).
            sends = 2 if index % 10 == 0 and kind != "result" else 1
            for _ in range(sends):
                try:
                    row = retrying(call, session=session, pause=0.05, on_retry=count_retry)
                except WriteBusy:
                    outcomes.append((kind, token, "busy", None))
                    continue
                except ValidationFailed as exc:
                    outcomes.append((kind, token, f"invalid {exc}", None))
                    continue
                outcomes.append((kind, token, "committed", int(row.id)))
            if kind == "sample" and outcomes[-1][2] == "committed":
                records.append(int(outcomes[-1][3] or 0))
    engine.dispose()
    return {"outcomes": outcomes, "retries": retries}


def _call(
    session: Session,
    actor: Actor,
    kind: str,
    token: str,
    samples: list[tuple[int, int]],
    records: list[int],
    depot: int,
    item: int,
    grid: int,
) -> Any:
    """The service call of one write (a function, so that it can be retried as a whole)."""
    if kind == "sample":
        round_id, resident_id = samples.pop()
        return lambda: testing.record_sample(
            session=session,
            resident_id=resident_id,
            round_id=round_id,
            actor=actor,
            door_to_door=True,
            client_token=token,
        )
    if kind == "result":
        record_id = records.pop()
        return lambda: _result(session, actor, record_id)
    if kind in ("receipt", "issue"):
        data = {"depot_id": depot, "item_id": item, "kind": kind, "quantity": 3}
        return lambda: stock.record_stock_movement(
            session=session, data=data, actor=actor, client_token=token
        )
    if kind == "request":
        data = {"grid_id": grid, "category": "food"}
        return lambda: requests.create_request(
            session=session, data=data, actor=actor, client_token=token
        )
    data = {"grid_id": grid, "kind": "delivery", "title": token}
    return lambda: tasks.create_task(session=session, data=data, actor=actor, client_token=token)


def _result(session: Session, actor: Actor, record_id: int) -> Any:
    """A negative result for a sample (record_results_batch; the record is the row)."""
    testing.record_results_batch(
        session=session, actor=actor, record_ids=[record_id], result="negative"
    )
    record = session.get(TestRecord, record_id)
    assert record is not None
    return record


def _plan(session: Session, tiny: TinyWorld) -> dict[str, Any]:
    """Rounds enough for every writer's samples (one resident once a round), and a depot."""
    residents = session.exec(
        select(Resident.id).where(Resident.health_status == HealthStatus.at_home)
    ).all()
    per_writer = WRITES // len(KINDS) + 2
    needed = per_writer * WRITERS
    rounds = []
    start = utcnow() - timedelta(hours=1)
    for n in range(-(-needed // len(residents))):
        made = testing.open_round(
            session=session,
            data={
                "name": f"Concurrency {n}",
                "area_ids": list(tiny.grid_ids.values()),
                "start_at": start,
                "deadline_at": start + timedelta(hours=24),
            },
            actor=SYSTEM,
        )
        rounds.append(int(made.id or 0))
    pairs = [(r, int(x or 0)) for r in rounds for x in residents][:needed]
    depot = session.exec(select(Depot.id).where(Depot.name == "Grid 1-1 depot")).one()
    item = session.exec(select(SupplyItem.id).where(SupplyItem.code == "RICE")).one()
    stock.record_stock_movement(
        session=session,
        data={"depot_id": depot, "item_id": item, "kind": "receipt", "quantity": OPENING_STOCK},
        actor=SYSTEM,
    )
    return {
        "samples": [pairs[w::WRITERS] for w in range(WRITERS)],
        "depot": int(depot or 0),
        "item": int(item or 0),
        "grid": tiny.gid("T-C1-G1"),
    }


def _rows(session: Session) -> dict[str, int]:
    return {
        model.__name__: int(session.exec(select(func.count()).select_from(model)).one())
        for model in set(TABLE_OF.values())
    }


def test_concurrent_writers_lose_nothing_and_double_nothing(
    engine: Engine, session: Session, tiny: TinyWorld
) -> None:
    plan = _plan(session, tiny)
    depot, item = plan["depot"], plan["item"]
    opening = stock.stock_level(session=session, depot_id=depot, item_id=item)
    before = _rows(session)
    url = url_for_processes(engine)
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(WRITERS) as pool:
        results = pool.starmap(_writer, [(url, w, plan) for w in range(WRITERS)])
    elapsed = time.perf_counter() - started
    session.expire_all()

    outcomes = [o for r in results for o in r["outcomes"]]
    unexpected = [o for o in outcomes if o[2] not in ("committed", "busy")]
    assert unexpected == []
    committed: dict[str, set[int]] = {}  # token → the row ids it was answered with
    kinds: dict[str, str] = {}
    for kind, token, outcome, row_id in outcomes:
        kinds[token] = kind
        if outcome == "committed":
            committed.setdefault(token, set()).add(int(row_id or 0))
    # A double click got the first click's row back: one row per token, never two.
    doubled = [token for token, ids in committed.items() if len(ids) != 1]
    assert doubled == []
    keys = {
        (k.username, k.client_token): k.entity_id
        for k in session.exec(select(ReplayKey).where(col(ReplayKey.username).like("writer%")))
    }
    busy_only = {t for t, k in kinds.items() if t not in committed and k != "result"}
    lost = [
        t for t, ids in committed.items()
        if kinds[t] != "result" and keys.get((f"writer{t[1:].split('-')[0]}", t)) != str(min(ids))
    ]  # fmt: skip
    assert lost == []
    assert [t for t in busy_only if (f"writer{t[1:].split('-')[0]}", t) in keys] == []
    # The rows added are the writes committed, kind by kind.
    added = Counter(TABLE_OF[kinds[t]].__name__ for t in committed if kinds[t] != "result")
    after = _rows(session)
    assert {name: after[name] - before[name] for name in after} == {
        name: added.get(name, 0) for name in after
    }
    # Stock: the opening balance and every committed movement; the ledger agrees.
    movements = sum(3 if kinds[t] == "receipt" else -3 for t in committed if kinds[t] in
                    ("receipt", "issue"))  # fmt: skip
    level = stock.stock_level(session=session, depot_id=depot, item_id=item)
    ledger = session.exec(
        select(func.sum(StockMovement.quantity)).where(
            StockMovement.depot_id == depot, StockMovement.item_id == item
        )
    ).one()
    assert level == ledger == opening + movements
    # Every result written landed on a committed sample.
    results_done = sum(1 for t in committed if kinds[t] == "result")
    negatives = session.exec(
        select(func.count()).select_from(TestRecord).where(
            col(TestRecord.result_at).is_not(None),
            col(TestRecord.id).in_([i for t in committed if kinds[t] == "sample"
                                    for i in committed[t]]),
        )
    ).one()  # fmt: skip
    assert negatives == results_done
    writes = sum(1 for _ in outcomes)
    busy = sum(1 for o in outcomes if o[2] == "busy")
    retries = sum(r["retries"] for r in results)
    print(
        f"\n{engine.dialect.name}: {WRITERS} writers × {WRITES} writes "
        f"({writes} calls with the double clicks) in {elapsed:.2f} s = "
        f"{writes / elapsed:.0f} writes/s; committed {len(committed)}, busy {busy}, "
        f"retries {retries}, lost {len(lost)}, doubled {len(doubled)}"
    )
