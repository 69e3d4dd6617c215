"""Who may write what: every service write × every role × a grid in scope and one out of it.

One table (WRITES) names each write function of gridcore/services/* with its rule:

    grid     administrators and leaders anywhere, grid workers in their own grids
    command  administrators and leaders
    admin    administrators only

The grid worker's scope is T-C1-G1 (in); the other grid is T-C1-G2 (out; both are in
Round 2, so a refusal there is about scope and nothing else). For each cell the target
is made first (as the system), then the write is tried as the role: an allowed cell
succeeds; any other raises PermissionDenied, writes nothing, and leaves one audit entry
with action "refused". Sign-in (`authenticate`) is not a permissioned write: anyone may
try it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from factories import ADMIN, LEADER, VIEWER, refused_count, table_counts, today
from sqlmodel import Session, col, select
from tiny_world import TinyWorld

from gridcore.access import SYSTEM, Actor, PermissionDenied
from gridcore.models import AuditEntry, Building, Depot, DepotLevel, SupplyItem, UserRole, utcnow
from gridcore.services import access as sa
from gridcore.services import (
    cases,
    policy,
    requests,
    residents,
    stock,
    tasks,
    testing,
    workforce,
    zones,
)
from gridcore.services.base import REFUSED

IN, OUT = "T-C1-G1", "T-C1-G2"
WORKER = Actor(username="wang", role=UserRole.grid_worker, grid_ids=frozenset(), user_id=4)
SECRET = "permission-test-secret"


@dataclass
class Place:
    """What the writes of one grid need: the grid, a building, two depots, an item, a worker."""

    grid_id: int
    building_id: int
    depots: tuple[int, int]
    item_id: int
    worker_id: int


@dataclass
class Ctx:
    session: Session
    tiny: TinyWorld
    place: Place
    serial: Callable[[], int]


# A write: (ctx) → prepared arguments (made as the system), then (ctx, actor, prepared).
Setup = Callable[[Ctx], Any]
Act = Callable[[Ctx, Actor, Any], Any]


@dataclass(frozen=True)
class WriteSpec:
    name: str
    rule: str  # grid | command | admin
    setup: Setup
    act: Act


def _nothing(ctx: Ctx) -> None:
    return None


def _case(ctx: Ctx) -> int:
    case = cases.create_case(session=ctx.session, data=_case_data(ctx), actor=SYSTEM)
    return int(case.id or 0)


def _case_data(ctx: Ctx) -> dict[str, Any]:
    return {
        "grid_id": ctx.place.grid_id,
        "reported_date": today(),
        "kind": "confirmed",
        "found_via": "screening",
        "address": "5 Heping Lane",
    }


def _contact_data(ctx: Ctx) -> dict[str, Any]:
    return {
        "grid_id": ctx.place.grid_id,
        "person_name": f"赵密接{ctx.serial()}",
        "contact_type": "close",
        "identified_date": today(),
        "quarantine_place": "central",
        "start_date": today(),
        "planned_end_date": today() + timedelta(days=7),
    }


def _contact(ctx: Ctx) -> int:
    contact = cases.create_contact(session=ctx.session, data=_contact_data(ctx), actor=SYSTEM)
    return int(contact.id or 0)


def _request(ctx: Ctx) -> int:
    data = {"grid_id": ctx.place.grid_id, "category": "food", "urgency": "normal"}
    return int(requests.create_request(session=ctx.session, data=data, actor=SYSTEM).id or 0)


def _task_data(ctx: Ctx) -> dict[str, Any]:
    return {"grid_id": ctx.place.grid_id, "kind": "delivery", "title": f"Deliver {ctx.serial()}"}


def _task(ctx: Ctx) -> int:
    return int(tasks.create_task(session=ctx.session, data=_task_data(ctx), actor=SYSTEM).id or 0)


def _resident(ctx: Ctx) -> int:
    data = {"building_id": ctx.place.building_id, "unit": f"9-{ctx.serial()}", "name": "新居民"}
    return int(residents.register_resident(session=ctx.session, data=data, actor=SYSTEM).id or 0)


def _sample(ctx: Ctx) -> int:
    return int(_record_sample(ctx, SYSTEM, _resident(ctx)).id or 0)


def _record_sample(ctx: Ctx, actor: Actor, resident_id: int) -> Any:
    return testing.record_sample(
        session=ctx.session,
        resident_id=resident_id,
        round_id=ctx.tiny.round_ids["Round 2"],
        actor=actor,
        door_to_door=True,
        now=ctx.tiny.now,
    )


def _round_data(ctx: Ctx) -> dict[str, Any]:
    start = utcnow()
    return {
        "name": f"Check {ctx.serial()}",
        "area_ids": [ctx.place.grid_id],
        "start_at": start,
        "deadline_at": start + timedelta(hours=24),
    }


def _round(ctx: Ctx) -> int:
    made = testing.open_round(session=ctx.session, data=_round_data(ctx), actor=SYSTEM)
    return int(made.id or 0)


def _zone_data(ctx: Ctx) -> dict[str, Any]:
    return {"area_id": ctx.place.grid_id, "level": "controlled", "start_date": today()}


def _zone(ctx: Ctx) -> int:
    order = zones.issue_zone_order(session=ctx.session, data=_zone_data(ctx), actor=SYSTEM)
    return int(order.id or 0)


def _worker_data(ctx: Ctx) -> dict[str, Any]:
    return {
        "name": f"李{ctx.serial()}",
        "role": "grid_member",
        "employment": "full_time",
        "grid_ids": [ctx.place.grid_id],
    }


def _user(ctx: Ctx) -> str:
    name = f"user{ctx.serial()}"
    data = {"username": name, "role": "viewer", "password": "long-enough-pw"}
    sa.create_user(ctx.session, data=data, actor=SYSTEM)
    return name


def _stocked(ctx: Ctx) -> None:
    data = {
        "depot_id": ctx.place.depots[0],
        "item_id": ctx.place.item_id,
        "kind": "receipt",
        "quantity": 10,
    }
    stock.record_stock_movement(session=ctx.session, data=data, actor=SYSTEM)


def _kiosk(ctx: Ctx) -> int:
    link, _ = sa.create_kiosk_link(ctx.session, hours=1, secret=SECRET, actor=SYSTEM)
    return int(link.id or 0)


S = WriteSpec
WRITES: tuple[WriteSpec, ...] = (
    # access
    S("create_user", "admin", _nothing, lambda c, a, _: sa.create_user(
        c.session, data={"username": f"new{c.serial()}", "role": "viewer",
                         "password": "long-enough-pw"}, actor=a)),
    S("set_password (another user)", "admin", _user, lambda c, a, name: sa.set_password(
        c.session, username=name, password="another-long-pw", actor=a)),
    S("update_user", "admin", _user, lambda c, a, name: sa.update_user(
        c.session, username=name, role="leader", grid_codes=[], actor=a)),
    S("set_user_active", "admin", _user, lambda c, a, name: sa.set_user_active(
        c.session, username=name, active=False, actor=a)),
    S("create_kiosk_link", "command", _nothing, lambda c, a, _: sa.create_kiosk_link(
        c.session, hours=1, secret=SECRET, actor=a)),
    S("revoke_kiosk_link", "command", _kiosk, lambda c, a, i: sa.revoke_kiosk_link(
        c.session, link_id=i, actor=a)),
    # cases
    S("create_case", "grid", _nothing, lambda c, a, _: cases.create_case(
        session=c.session, data=_case_data(c), actor=a)),
    S("update_case_status", "grid", _case, lambda c, a, i: cases.update_case_status(
        session=c.session, case_id=i, status="recovered", actor=a)),
    S("reclassify_case", "grid", _case, lambda c, a, i: cases.reclassify_case(
        session=c.session, case_id=i, kind="asymptomatic", actor=a)),
    S("create_contact", "grid", _nothing, lambda c, a, _: cases.create_contact(
        session=c.session, data=_contact_data(c), actor=a)),
    S("set_contact_status", "grid", _contact, lambda c, a, i: cases.set_contact_status(
        session=c.session, contact_id=i, status="released", actor=a)),
    S("release_contact", "grid", _contact, lambda c, a, i: cases.release_contact(
        session=c.session, contact_id=i, actor=a)),
    # policy
    S("set_policy_value", "admin", _nothing, lambda c, a, _: policy.set_policy_value(
        session=c.session, key="households_per_fulltime_worker", value=200 + c.serial(), actor=a)),
    S("reset_policy_value", "admin", lambda c: policy.set_policy_value(
        session=c.session, key="households_per_fulltime_worker", value=250, actor=SYSTEM),
      lambda c, a, _: policy.reset_policy_value(
        session=c.session, key="households_per_fulltime_worker", actor=a)),
    S("set_policy_values", "admin", _nothing, lambda c, a, _: policy.set_policy_values(
        session=c.session, values={"vulnerable_visit_days": 4 + c.serial() % 50}, actor=a)),
    # requests
    S("create_request", "grid", _nothing, lambda c, a, _: requests.create_request(
        session=c.session, data={"grid_id": c.place.grid_id, "category": "food"}, actor=a)),
    S("assign_request", "grid", _request, lambda c, a, i: requests.assign_request(
        session=c.session, request_id=i, worker_id=c.place.worker_id, actor=a)),
    S("set_request_status", "grid", _request, lambda c, a, i: requests.set_request_status(
        session=c.session, request_id=i, status="cancelled", actor=a)),
    # residents
    S("create_household", "grid", _nothing, lambda c, a, _: residents.create_household(
        session=c.session, building_id=c.place.building_id, unit=f"8-{c.serial()}", actor=a)),
    S("register_resident", "grid", _nothing, lambda c, a, _: residents.register_resident(
        session=c.session, data={"building_id": c.place.building_id,
                                 "unit": f"7-{c.serial()}", "name": "王五"}, actor=a)),
    S("update_resident", "grid", _resident, lambda c, a, i: residents.update_resident(
        session=c.session, resident_id=i, changes={"phone": "13800001111"}, actor=a)),
    # stock
    S("record_stock_movement", "grid", _nothing, lambda c, a, _: stock.record_stock_movement(
        session=c.session, data={"depot_id": c.place.depots[0], "item_id": c.place.item_id,
                                 "kind": "receipt", "quantity": 5}, actor=a)),
    S("transfer_stock", "grid", _stocked, lambda c, a, _: stock.transfer_stock(
        session=c.session, item_id=c.place.item_id, from_depot_id=c.place.depots[0],
        to_depot_id=c.place.depots[1], quantity=1, actor=a)),
    # tasks
    S("create_task", "grid", _nothing, lambda c, a, _: tasks.create_task(
        session=c.session, data=_task_data(c), actor=a)),
    S("assign_task", "grid", _task, lambda c, a, i: tasks.assign_task(
        session=c.session, task_id=i, worker_id=c.place.worker_id, actor=a)),
    S("set_task_status", "grid", _task, lambda c, a, i: tasks.set_task_status(
        session=c.session, task_id=i, status="cancelled", actor=a)),
    # testing
    S("open_round", "command", _nothing, lambda c, a, _: testing.open_round(
        session=c.session, data=_round_data(c), actor=a)),
    S("close_round", "command", _round, lambda c, a, i: testing.close_round(
        session=c.session, round_id=i, actor=a)),
    S("record_sample", "grid", _resident, lambda c, a, i: _record_sample(c, a, i)),
    S("record_results_batch", "grid", _sample, lambda c, a, i: testing.record_results_batch(
        session=c.session, actor=a, record_ids=[i], result="negative", now=c.tiny.now)),
    S("record_positive", "grid", _sample, lambda c, a, i: testing.record_positive(
        session=c.session, record_id=i, actor=a, now=c.tiny.now)),
    S("create_door_to_door_tasks", "grid", _resident,
      lambda c, a, _: testing.create_door_to_door_tasks(
          session=c.session, round_id=c.tiny.round_ids["Round 2"], grid_id=c.place.grid_id,
          actor=a, now=c.tiny.now)),
    # workforce
    S("create_worker", "grid", _nothing, lambda c, a, _: workforce.create_worker(
        session=c.session, data=_worker_data(c), actor=a)),
    S("set_worker_active", "grid", lambda c: int(workforce.create_worker(
        session=c.session, data=_worker_data(c), actor=SYSTEM).id or 0),
      lambda c, a, i: workforce.set_worker_active(
          session=c.session, worker_id=i, active=False, actor=a)),
    # zones
    S("issue_zone_order", "command", _nothing, lambda c, a, _: zones.issue_zone_order(
        session=c.session, data=_zone_data(c), actor=a)),
    S("lift_zone_order", "command", _zone, lambda c, a, i: zones.lift_zone_order(
        session=c.session, order_id=i, actor=a)),
)  # fmt: skip


def _allowed(rule: str, role: UserRole, in_scope: bool) -> bool:
    if role == UserRole.admin:
        return True
    if role == UserRole.leader:
        return rule in ("grid", "command")
    if role == UserRole.grid_worker:
        return rule == "grid" and in_scope
    return False


def _place(session: Session, grid_id: int, code: str) -> Place:
    building = session.exec(
        select(Building.id).where(Building.grid_id == grid_id).order_by(col(Building.id))
    ).first()
    depots = [Depot(name=f"{code} depot {n}", area_id=grid_id, level=DepotLevel.grid)
              for n in (1, 2)]  # fmt: skip
    item = session.exec(select(SupplyItem.id).where(SupplyItem.code == "RICE")).one()
    session.add_all(depots)
    session.commit()
    worker = workforce.create_worker(
        session=session,
        data={
            "name": f"{code} 网格员",
            "role": "grid_member",
            "employment": "full_time",
            "grid_ids": [grid_id],
        },  # fmt: skip
        actor=SYSTEM,
    )
    assert building is not None and worker.id is not None
    return Place(grid_id, building, (int(depots[0].id or 0), int(depots[1].id or 0)),
                 int(item or 0), worker.id)  # fmt: skip


def test_only_the_allowed_cells_write_and_every_other_is_refused_and_audited(
    session: Session, tiny: TinyWorld
) -> None:
    places = {True: _place(session, tiny.gid(IN), IN), False: _place(session, tiny.gid(OUT), OUT)}
    worker = Actor(username=WORKER.username, role=UserRole.grid_worker,
                   grid_ids=frozenset({tiny.gid(IN)}), user_id=4)  # fmt: skip
    actors = (ADMIN, LEADER, worker, VIEWER)
    counter = itertools.count(1)
    wrong: list[str] = []
    cells = allowed_cells = 0
    for spec, actor, in_scope in itertools.product(WRITES, actors, (True, False)):
        cells += 1
        ctx = Ctx(session, tiny, places[in_scope], lambda: next(counter))
        prepared = spec.setup(ctx)
        before, refused_before = table_counts(session), refused_count(session)
        where = f"{spec.name} as {actor.role} ({'in' if in_scope else 'out of'} scope)"
        expected = _allowed(spec.rule, actor.role, in_scope)
        try:
            spec.act(ctx, actor, prepared)
        except PermissionDenied:
            if expected:
                wrong.append(f"{where}: refused, but allowed")
                continue
            if table_counts(session) != before:
                wrong.append(f"{where}: refused, but wrote")
            if refused_count(session) != refused_before + 1:
                wrong.append(f"{where}: refused, but not audited as refused")
                continue
            entry = session.exec(
                select(AuditEntry).where(AuditEntry.action == REFUSED)
                .order_by(col(AuditEntry.id).desc())
            ).first()  # fmt: skip
            assert entry is not None
            if entry.username != actor.username:
                wrong.append(f"{where}: refusal audited as {entry.username}")
            continue
        except Exception as exc:  # a write that fails for another reason is a broken cell
            wrong.append(f"{where}: {type(exc).__name__}: {exc}")
            session.rollback()
            continue
        if not expected:
            wrong.append(f"{where}: allowed, but should be refused")
        else:
            allowed_cells += 1
            if table_counts(session) == before:
                wrong.append(f"{where}: allowed, but wrote nothing")
    assert "\n".join(wrong) == ""
    # 36 writes × 4 roles × 2 scopes; allowed: 23 grid writes × 5 (admin and leader in both,
    # the worker in scope) + 6 command writes × 4 + 7 administrators' writes × 2.
    assert len(WRITES) == 36
    assert (cells, allowed_cells) == (288, 23 * 5 + 6 * 4 + 7 * 2)
