"""The counters follow every kind of write, and `verify-counters` finds what does not match."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cli_support import run_cli
from factories import LEADER
from sqlalchemy import text
from sqlmodel import Session, col, select
from tiny_world import TinyWorld

from gridcore.access import SYSTEM
from gridcore.config import get_settings
from gridcore.db import make_engine
from gridcore.io.cells import local_text
from gridcore.io.residents import export_residents, import_residents
from gridcore.io.tabular import Table
from gridcore.io.testing import export_test_results, import_test_results
from gridcore.models import (
    Building,
    Depot,
    GridCount,
    HealthStatus,
    Household,
    MovementKind,
    Resident,
    ResidentVulnerability,
    RoundSiteHour,
    SupplyItem,
    TestRecord,
    TestRoundArea,
)
from gridcore.queries.counters import counter_differences, epoch_hour, hour_start
from gridcore.services.counters import repair_counters
from gridcore.services.residents import register_resident, update_resident
from gridcore.services.stock import record_stock_movement
from gridcore.services.testing import (
    record_positive,
    record_results_batch,
    record_sample,
    undo_sample,
)
from gridcore.services.workforce import create_worker, set_worker_active, set_worker_grids

pytestmark = pytest.mark.both_backends  # upserts and locks read differently per dialect


def _no_difference(session: Session) -> None:
    assert counter_differences(session=session) == []


def _hours(session: Session, round_id: int) -> dict[tuple[int, int], int]:
    """(site or 0, hour) → samples, as the round's roundsitehour counters hold them."""
    rows = session.exec(
        select(RoundSiteHour.site_key, RoundSiteHour.hour, RoundSiteHour.sampled).where(
            RoundSiteHour.round_id == round_id
        )
    ).all()
    return {(site, hour): n for site, hour, n in rows if n}


def _unsampled(session: Session, round_id: int, count: int) -> list[Resident]:
    """Residents at home in the round's grids who have no sample in it yet."""
    sampled = select(col(TestRecord.resident_id)).where(col(TestRecord.round_id) == round_id)
    grids = select(col(TestRoundArea.grid_id)).where(col(TestRoundArea.round_id) == round_id)
    return list(
        session.exec(
            select(Resident)
            .where(
                col(Resident.grid_id).in_(grids),
                col(Resident.id).not_in(sampled),
                Resident.health_status == HealthStatus.at_home,
            )
            .order_by(col(Resident.id))
            .limit(count)
        ).all()
    )


def test_sampling_results_undo_and_status_changes_keep_the_counters(
    session: Session, tiny: TinyWorld
) -> None:
    _no_difference(session)  # as the seed counted them
    round_id = tiny.round_ids["Round 2"]
    first, second, third = _unsampled(session, round_id, 3)
    now = tiny.now
    hours = _hours(session, round_id)
    taken = [
        record_sample(session=session, resident_id=p.id, round_id=round_id, actor=LEADER,
                      door_to_door=True, sampled_at=now - timedelta(minutes=5), now=now)
        for p in (first, second, third)
    ]  # fmt: skip
    _no_difference(session)
    door_to_door = (0, epoch_hour(now - timedelta(minutes=5)))
    assert _hours(session, round_id) == {**hours, door_to_door: hours.get(door_to_door, 0) + 3}
    record_results_batch(session=session, actor=LEADER, record_ids=[taken[0].id], now=now)
    record_positive(session=session, record_id=taken[1].id, actor=LEADER, now=now)
    undo_sample(session=session, record_id=taken[2].id, actor=LEADER)
    _no_difference(session)
    # A sampled resident goes to hospital: the sample moves to "exempt now", and back.
    for status in ("in_hospital", "at_home"):
        update_resident(session=session, resident_id=first.id, changes={"health_status": status},
                        actor=LEADER)  # fmt: skip
        _no_difference(session)


def test_residents_households_and_workers_keep_the_counters(
    session: Session, tiny: TinyWorld
) -> None:
    building = session.exec(select(Building).order_by(col(Building.id))).first()
    assert building is not None
    resident = register_resident(
        session=session,
        data={"building_id": building.id, "unit": "99-901", "name": "新居民"},
        actor=LEADER,
    )
    # Moving to a household of another grid moves the resident between the grids' counts.
    other = session.exec(select(Household).where(Household.grid_id != building.grid_id)).first()
    assert other is not None
    update_resident(session=session, resident_id=resident.id,
                    changes={"household_id": other.id}, actor=LEADER)  # fmt: skip
    grids = [tiny.gid("T-C1-G1"), tiny.gid("T-C1-G2")]
    worker = create_worker(
        session=session,
        data={"name": "新专职", "role": "grid_member", "employment": "full_time",
              "grid_ids": grids[:1]},
        actor=LEADER,
    )  # fmt: skip
    set_worker_grids(session=session, worker_id=worker.id, grid_ids=grids, actor=LEADER)
    set_worker_active(session=session, worker_id=worker.id, active=False, actor=LEADER)
    _no_difference(session)


def _vulnerable(session: Session, grid_id: int) -> int:
    held = session.exec(select(GridCount.vulnerable).where(GridCount.grid_id == grid_id)).first()
    return int(held or 0)


def test_a_residents_vulnerability_tags_move_the_grids_count(
    session: Session, tiny: TinyWorld
) -> None:
    building = session.exec(select(Building).order_by(col(Building.id))).first()
    assert building is not None
    grid = building.grid_id
    before = _vulnerable(session, grid)
    resident = register_resident(
        session=session,
        data={"building_id": building.id, "unit": "99-902", "name": "独居老人",
              "vulnerability": ["elderly_alone", "chronic_illness"]},
        actor=LEADER,
    )  # fmt: skip
    assert _vulnerable(session, grid) == before + 1  # two tags, one resident
    update_resident(session=session, resident_id=resident.id,
                    changes={"vulnerability": []}, actor=LEADER)  # fmt: skip
    assert _vulnerable(session, grid) == before
    _no_difference(session)

    # An import that only changes tags (nobody moves) moves the count too.
    header, rows = export_residents(session=session, actor=SYSTEM)
    tags = header.index("vulnerability")
    untagged = [list(r) for r in rows if not r[tags]][:2]
    for row in untagged:
        row[tags] = "disabled"
    report = import_residents(session=session, table=_table(header, untagged), actor=SYSTEM)
    assert report.ok and report.updated == 2, report.frame()
    _no_difference(session)
    total = sum(int(n) for n in session.exec(select(GridCount.vulnerable)).all())
    tagged = len(set(session.exec(select(ResidentVulnerability.resident_id)).all()))
    assert total == tagged


def _table(header: list[str], rows: list[list[object]]) -> Table:
    cells = [["" if v is None else str(v) for v in row] for row in rows]
    return Table(columns=header, rows=[(i + 2, row) for i, row in enumerate(cells)])


def test_imports_keep_the_counters(session: Session, tiny: TinyWorld) -> None:
    round_id = tiny.round_ids["Round 2"]
    header, rows = export_test_results(session=session, actor=SYSTEM, round_id=round_id)
    results = [list(r) for r in rows]
    # One sample taken back (the file brings it again), every pending one now negative.
    pending = session.exec(
        select(TestRecord).where(TestRecord.round_id == round_id, TestRecord.result == "pending")
    ).all()
    undo_sample(session=session, record_id=pending[0].id, actor=LEADER)
    at = header.index("result")
    for row in results:
        if row[at] == "pending":
            row[at] = "negative"
            row[header.index("result_at")] = ""
    report = import_test_results(session=session, table=_table(header, results), actor=SYSTEM,
                                 now=tiny.now)  # fmt: skip
    assert report.ok and report.written, report.frame()
    assert (report.created, report.updated) == (1, len(pending) - 1)
    _no_difference(session)

    header, rows = export_residents(session=session, actor=SYSTEM)
    people = [list(r) for r in rows]
    status = header.index("health_status")
    changed = [row for row in people if row[status] == "at_home"][:3]
    for row in changed:
        row[status] = "central_isolation"
    report = import_residents(session=session, table=_table(header, changed), actor=SYSTEM)
    assert report.ok and report.updated == 3, report.frame()
    _no_difference(session)


def test_a_stock_movement_keeps_its_balance(session: Session, tiny: TinyWorld) -> None:
    depot = session.exec(select(Depot).order_by(col(Depot.id))).first()
    item = session.exec(select(SupplyItem).order_by(col(SupplyItem.id))).first()
    assert depot is not None and item is not None
    record_stock_movement(
        session=session,
        data={"item_id": item.id, "depot_id": depot.id, "kind": MovementKind.receipt,
              "quantity": 40, "occurred_at": tiny.now - timedelta(hours=1)},
        actor=LEADER,
    )  # fmt: skip
    _no_difference(session)


def test_a_corrupted_counter_is_reported_and_repaired(session: Session, tiny: TinyWorld) -> None:
    round_id, grid_id = tiny.round_ids["Round 2"], tiny.gid("T-C1-G1")
    session.execute(
        text(
            "UPDATE roundgridcount SET positive = positive + 3 WHERE round_id = :r AND grid_id = :g"
        ),
        {"r": round_id, "g": grid_id},
    )
    session.execute(text("UPDATE gridcount SET full_time_workers = 0"))
    found = counter_differences(session=session)
    positive = [(d.table, d.key, d.stored - d.counted) for d in found if d.column == "positive"]
    assert positive == [("roundgridcount", (round_id, grid_id), 3)]
    assert {d.column for d in found} == {"positive", "full_time_workers"}
    assert repair_counters(session=session, actor=LEADER) == len(found)
    _no_difference(session)


def test_the_command_says_no_difference_or_lists_them(tiny_url: str) -> None:
    clean = run_cli("verify-counters", url=tiny_url)
    assert (clean.code, clean.out.strip()) == (0, "The counters match the records: no difference.")
    with Session(make_engine(tiny_url)) as session:
        session.execute(text("UPDATE gridcount SET at_home = at_home + 1"))
        session.commit()
    wrong = run_cli("verify-counters", url=tiny_url, GRIDCORE_LANGUAGE="zh")
    assert wrong.code == 1 and "在家" in wrong.out and "网格" in wrong.out, wrong
    assert run_cli("verify-counters", "--repair", url=tiny_url).code == 0
    # A round's samples in one hour: the round, the site (or door to door) and the hour.
    with Session(make_engine(tiny_url)) as session:
        site, hour = session.exec(
            select(RoundSiteHour.site_key, RoundSiteHour.hour).order_by(
                col(RoundSiteHour.site_key), col(RoundSiteHour.hour)
            )
        ).first() or (None, None)
        assert site is not None and hour is not None
        session.execute(
            text(
                "UPDATE roundsitehour SET sampled = sampled + 2 WHERE site_key = :s AND hour = :h"
            ),
            {"s": site, "h": hour},
        )
        session.commit()
    wrong = run_cli("verify-counters", url=tiny_url, GRIDCORE_LANGUAGE="zh")
    shown = local_text(hour_start(hour), get_settings().tz)
    assert wrong.code == 1 and "上门采样" in wrong.out and f"{shown} 起一小时" in wrong.out, wrong
    assert run_cli("verify-counters", "--repair", url=tiny_url).code == 0
    assert run_cli("verify-counters", url=tiny_url).code == 0
