"""One grid in detail, on a small world built through the services, with answers known by hand.

Grid 1 (the grid in question):
  Building 1: flat 1-101 张三丰 (elderly alone, 13812345678) and 李四 (chronic illness,
              disabled); flat 1-102 王五
  Building 2: flat 2-201 赵六 (elderly alone, in hospital)
  → 4 residents, 3 households, 2 buildings, 3 vulnerable, 1 away, 3 expected at a round
Grid 2 has one resident and its own cases, contacts, requests, tasks and stock, none of
which may show in grid 1. Grid 3 is empty.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
from sqlmodel import Session

from gridcore.access import Actor
from gridcore.models import Area, DepotMinimum, Worker, utcnow
from gridcore.queries import cases, requests, residents, stock, tasks, testing, workforce, zones
from gridcore.services.cases import release_contact
from gridcore.services.requests import assign_request, set_request_status
from gridcore.services.stock import record_stock_movement
from gridcore.services.tasks import set_task_status
from gridcore.services.workforce import set_worker_active
from gridcore.services.zones import issue_zone_order
from tests.factories import (
    LEADER,
    VIEWER,
    World,
    days_ago,
    grid_worker,
    grown,
    make_case,
    make_contact,
    make_depot,
    make_item,
    make_request,
    make_resident,
    make_round,
    make_street_with_grids,
    make_task,
    make_test_record,
    make_worker,
    make_zone_order,
    receive,
    table_counts,
    today,
)

pytestmark = pytest.mark.both_backends  # queries: the dialect matters

NOW = utcnow().replace(microsecond=0)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


@dataclass
class Detail:
    world: World
    grid: Area
    workers: dict[str, Worker]
    ids: dict[str, Any]


def build(session: Session) -> Detail:
    """The world described at the top of this file."""
    world = make_street_with_grids(session, grids=3)
    g1, g2, _ = world.grids
    b1, b2 = world.buildings[0]
    r1 = make_resident(
        session,
        building=b1,
        unit="1-101",
        name="张三丰",
        vulnerability="elderly_alone",
        phone="13812345678",
    )
    r2 = make_resident(
        session, building=b1, unit="1-101", name="李四", vulnerability="chronic_illness,disabled"
    )
    r3 = make_resident(session, building=b1, unit="1-102", name="王五")
    r4 = make_resident(
        session,
        building=b2,
        unit="2-201",
        name="赵六",
        vulnerability="elderly_alone",
        health_status="in_hospital",
    )
    r5 = make_resident(session, building=world.buildings[1][0], name="孙七")

    w1 = make_worker(session, grids=[g1], name="周网格长", role="grid_leader", phone="13900001111")
    w2 = make_worker(
        session,
        grids=[g1, g2],
        name="吴志愿",
        role="volunteer",
        employment="volunteer",
        service_group="special_population_care",
    )
    make_worker(session, grids=[g2], name="郑二网")
    gone = make_worker(session, grids=[g1], name="冯离职")
    set_worker_active(session=session, worker_id=gone.id, active=False, actor=LEADER)

    t1 = make_task(
        session, grid=g1, worker=w1, title="Visit 2-201", now=NOW - hours(3), due_at=NOW - hours(1)
    )
    t2 = make_task(session, grid=g1, worker=w1, now=NOW - hours(1), due_at=NOW + hours(5))
    t3 = make_task(session, grid=g1, worker=w1, now=NOW - hours(2))
    set_task_status(session=session, task_id=t3.id, status="done", actor=LEADER, now=NOW)
    t4 = make_task(session, grid=g1, worker=w2, now=NOW - hours(2))
    make_task(session, grid=g2, worker=w2, now=NOW - hours(1), due_at=NOW + hours(1))

    c1 = make_case(session, grid=g1, resident_id=r1.id, reported_date=days_ago(3))
    c2 = make_case(
        session,
        grid=g1,
        reported_date=days_ago(1),
        kind="asymptomatic",
        found_via="quarantine",
        address="8 Heping Lane, 3-301",
    )
    make_case(session, grid=g2, reported_date=days_ago(1))

    k1 = make_contact(
        session, grid=g1, start_date=days_ago(5), days=7, person_name="钱密接", phone="13700002222"
    )
    k2 = make_contact(session, grid=g1, start_date=days_ago(10), days=7, person_name="孔解除")
    release_contact(session=session, contact_id=k2.id, actor=LEADER)
    k3 = make_contact(session, grid=g1, start_date=today(), days=10, person_name="曹新隔")
    make_contact(session, grid=g2, person_name="严他格")

    round_a = make_round(session, grids=[g1, g2], name="Round A", start_at=NOW - hours(48))
    round_b = make_round(session, grids=[g1], name="Round B", start_at=NOW - hours(6))
    make_round(session, grids=[g2], name="Round C", start_at=NOW - hours(3))
    for resident, result in ((r1, "negative"), (r2, "positive"), (r3, "pending"), (r5, "negative")):
        make_test_record(session, test_round=round_a, resident=resident, result=result)
    for resident in (r1, r4):  # 赵六 is in hospital, not expected, but was sampled
        make_test_record(session, test_round=round_b, resident=resident)

    q1 = make_request(
        session, grid=g1, category="food", now=NOW - hours(30), description="Vegetables for 1-101"
    )
    q2 = make_request(
        session, grid=g1, category="medical_care", urgency="urgent", now=NOW - hours(1)
    )
    assign_request(
        session=session, request_id=q2.id, worker_id=w1.id, actor=LEADER, now=NOW - hours(0.5)
    )
    q3 = make_request(
        session, grid=g1, category="medical_care", urgency="urgent", now=NOW - hours(3)
    )
    q4 = make_request(session, grid=g1, category="food", now=NOW - hours(10))
    assign_request(
        session=session, request_id=q4.id, worker_id=w1.id, actor=LEADER, now=NOW - hours(9)
    )
    set_request_status(
        session=session, request_id=q4.id, status="in_progress", actor=LEADER, now=NOW - hours(6)
    )
    set_request_status(
        session=session, request_id=q4.id, status="done", actor=LEADER, now=NOW - hours(4)
    )
    q5 = make_request(session, grid=g1, category="other", now=NOW - hours(2))
    set_request_status(session=session, request_id=q5.id, status="cancelled", actor=LEADER)
    make_request(session, grid=g2, now=NOW - hours(50))

    masks = make_item(session, code="MASK", name="Masks", min_stock=50)
    gloves = make_item(session, code="GLOVE", name="Gloves", min_stock=0)
    d1 = make_depot(session, area=g1, name="Grid 1 depot")
    d2 = make_depot(session, area=g2, name="Grid 2 depot")
    session.add(DepotMinimum(depot_id=d1.id, item_id=gloves.id, min_stock=20))
    session.commit()
    receive(session, depot=d1, item=masks, quantity=100)
    receive(session, depot=d1, item=gloves, quantity=10)
    receive(session, depot=d2, item=masks, quantity=5)
    record_stock_movement(
        session=session,
        data={"depot_id": d1.id, "item_id": masks.id, "kind": "issue", "quantity": 30},
        actor=LEADER,
    )

    o1 = make_zone_order(session, grid=g1, level="sealed", start_date=days_ago(3))
    o2 = make_zone_order(
        session, building=world.buildings[1][0], level="controlled", start_date=days_ago(1)
    )
    o3 = issue_zone_order(
        session=session,
        data={
            "area_id": g2.id,
            "level": "precaution",
            "start_date": days_ago(10),
            "end_date": days_ago(5),
            "reason": "neighbour grid",
        },
        actor=LEADER,
    )
    make_zone_order(session, building=b1, level="precaution", start_date=today() + timedelta(1))

    ids = {
        "r1": r1.id,
        "c1": c1.id,
        "c2": c2.id,
        "k1": k1.id,
        "k2": k2.id,
        "k3": k3.id,
        "t1": t1.id,
        "t2": t2.id,
        "t3": t3.id,
        "t4": t4.id,
        "q1": q1.id,
        "q2": q2.id,
        "q3": q3.id,
        "q4": q4.id,
        "q5": q5.id,
        "round_a": round_a.id,
        "round_b": round_b.id,
        "o1": o1.id,
        "o2": o2.id,
        "o3": o3.id,
    }
    return Detail(world=world, grid=g1, workers={"w1": w1, "w2": w2}, ids=ids)


def listed(series: pd.Series) -> list[Any]:
    """A column's values, with missing ones (None or NaN, as pandas stores them) as None."""
    return [None if pd.isna(v) else v for v in series]


@pytest.fixture(scope="module")
def world_builder() -> Callable[[Session], Detail]:
    """The world described at the top of this file (built once a run)."""
    return build


@pytest.fixture
def detail(world: Detail) -> Detail:
    return world


def test_people(session: Session, detail: Detail) -> None:
    assert residents.grid_people(session=session, grid_id=detail.grid.id) == {
        "residents": 4,
        "households": 3,
        "buildings": 2,
        "vulnerable": 3,
        "away": 1,
        "vulnerable_by_tag": {
            "elderly_alone": 2,
            "disabled": 1,
            "chronic_illness": 1,
            "pregnant": 0,
            "infant": 0,
            "bedridden": 0,
        },
    }


def test_workers_with_their_open_and_overdue_tasks(session: Session, detail: Detail) -> None:
    frame = workforce.grid_workers(session=session, grid_id=detail.grid.id, actor=LEADER, now=NOW)
    assert list(frame.columns) == workforce.WORKER_COLUMNS
    # The grid leader before the volunteer; the stood-down worker and grid 2's are not listed.
    assert listed(frame["name"]) == ["周网格长", "吴志愿"]
    assert list(frame["open_tasks"]) == [2, 1]
    assert list(frame["overdue_tasks"]) == [1, 0]
    assert listed(frame["phone"]) == ["13900001111", None]
    assert listed(frame["service_group"]) == [None, "special_population_care"]


def test_cases_newest_first(session: Session, detail: Detail) -> None:
    frame = cases.grid_cases(session=session, grid_id=detail.grid.id, actor=LEADER)
    assert list(frame.columns) == cases.CASE_COLUMNS
    assert list(frame["case_id"]) == [detail.ids["c2"], detail.ids["c1"]]
    assert list(frame["reported_date"]) == [days_ago(1), days_ago(3)]
    assert list(frame["kind"]) == ["asymptomatic", "confirmed"]
    assert list(frame["found_via"]) == ["quarantine", "screening"]
    assert listed(frame["resident_name"]) == [None, "张三丰"]
    assert listed(frame["address"]) == ["8 Heping Lane, 3-301", None]
    assert listed(frame["building"]) == [None, "Building 1"]


def test_contacts_in_quarantine_first(session: Session, detail: Detail) -> None:
    frame = cases.grid_contacts(
        session=session, grid_id=detail.grid.id, today=today(), actor=LEADER
    )
    assert list(frame.columns) == cases.CONTACT_COLUMNS
    assert list(frame["contact_id"]) == [detail.ids[k] for k in ("k1", "k3", "k2")]
    assert list(frame["status"]) == ["in_quarantine", "in_quarantine", "released"]
    assert frame["days_left"].tolist()[:2] == [2, 10]
    assert pd.isna(frame["days_left"].iloc[2])
    assert list(frame["planned_end_date"])[:2] == [today() + timedelta(2), today() + timedelta(10)]
    # Two days later the first contact's quarantine ends that day.
    later = cases.grid_contacts(
        session=session, grid_id=detail.grid.id, today=today() + timedelta(2), actor=LEADER
    )
    assert later["days_left"].iloc[0] == 0


def test_testing_rounds_newest_first(session: Session, detail: Detail) -> None:
    frame = testing.grid_testing(session=session, grid_id=detail.grid.id)
    assert list(frame.columns) == testing.TESTING_COLUMNS
    assert list(frame["round_id"]) == [detail.ids["round_b"], detail.ids["round_a"]]
    assert list(frame["round_name"]) == ["Round B", "Round A"]
    assert list(frame["expected"]) == [3, 3]
    assert list(frame["sampled"]) == [2, 3]
    assert frame["coverage"].tolist() == pytest.approx([2 / 3, 1.0])
    assert list(frame["positives"]) == [0, 1]
    assert list(frame["pending"]) == [0, 1]


def test_requests_open_oldest_first_then_closed(session: Session, detail: Detail) -> None:
    frame = requests.grid_requests(session=session, grid_id=detail.grid.id, now=NOW, actor=LEADER)
    assert list(frame.columns) == requests.REQUEST_COLUMNS
    assert list(frame["request_id"]) == [detail.ids[q] for q in ("q1", "q3", "q2", "q5", "q4")]
    assert list(frame["status"]) == ["new", "new", "assigned", "cancelled", "done"]
    ages = frame["age_hours"].tolist()
    assert ages[:3] == pytest.approx([30, 3, 1])
    assert math.isnan(ages[3])
    assert ages[4] == pytest.approx(6)
    # Targets: food 24 h, urgent medical care 2 h.
    assert list(frame["overdue"]) == [True, True, False, False, False]
    assert listed(frame["assigned_worker"]) == [None, None, "周网格长", None, "周网格长"]
    assert frame["description"].iloc[0] == "Vegetables for 1-101"
    open_only = requests.grid_requests(
        session=session, grid_id=detail.grid.id, now=NOW, actor=LEADER, open_only=True
    )
    assert list(open_only["request_id"]) == [detail.ids[q] for q in ("q1", "q3", "q2")]


def test_tasks_open_by_due_time_then_closed(session: Session, detail: Detail) -> None:
    frame = tasks.grid_tasks(session=session, grid_id=detail.grid.id, now=NOW, actor=LEADER)
    assert list(frame.columns) == tasks.TASK_COLUMNS
    assert list(frame["task_id"]) == [detail.ids[t] for t in ("t1", "t2", "t4", "t3")]
    assert list(frame["overdue"]) == [True, False, False, False]
    assert listed(frame["assigned_worker"]) == ["周网格长", "周网格长", "吴志愿", "周网格长"]
    assert frame["due_at"].iloc[0] == pd.Timestamp(NOW - hours(1))
    assert pd.isna(frame["due_at"].iloc[2])
    later = tasks.grid_tasks(
        session=session, grid_id=detail.grid.id, now=NOW + hours(6), actor=LEADER, open_only=True
    )
    assert list(later["overdue"]) == [True, True, False]


def test_stock_against_minimum(session: Session, detail: Detail) -> None:
    frame = stock.grid_stock(session=session, grid_id=detail.grid.id)
    assert list(frame.columns) == stock.GRID_STOCK_COLUMNS
    assert frame[["depot", "item_code", "stock", "min_stock", "below_min"]].values.tolist() == [
        ["Grid 1 depot", "GLOVE", 10, 20, True],  # the depot's own minimum
        ["Grid 1 depot", "MASK", 70, 50, False],  # the item's default minimum
    ]
    assert list(frame["item_zh"]) == ["口罩", "口罩"]


def test_zone_orders_in_force(session: Session, detail: Detail) -> None:
    g1, g2, _ = detail.world.grids
    frame = zones.zone_orders(session=session, today=today())
    assert list(frame.columns) == zones.ZONE_COLUMNS
    assert list(frame["order_id"]) == [detail.ids["o1"], detail.ids["o2"]]
    assert list(frame["level"]) == ["sealed", "controlled"]
    assert list(frame["area_id"]) == [g1.id, g2.id]  # the building's grid for o2
    assert list(frame["area_code"]) == ["T-C1-G1", "T-C1-G2"]
    assert frame["shape"].iloc[0]["type"] == "Polygon"
    assert frame["shape"].iloc[1] is None
    assert frame["building_id"].iloc[1] == detail.world.buildings[1][0].id
    assert frame["lng"].iloc[1] == pytest.approx(detail.world.buildings[1][0].lng)
    # The last day of an order is still in force; the day after it is not.
    assert list(zones.zone_orders(session=session, today=days_ago(5))["order_id"]) == [
        detail.ids["o3"]
    ]
    empty = zones.zone_orders(session=session, today=days_ago(4))
    assert empty.empty and list(empty.columns) == zones.ZONE_COLUMNS
    # One grid's orders: its own, and those on its buildings (o2 is on a building of g2).
    one = zones.zone_orders(session=session, today=today(), grid_id=g1.id)
    assert list(one["order_id"]) == [detail.ids["o1"]]
    by_building = zones.zone_orders(session=session, today=today(), grid_id=g2.id)
    assert list(by_building["order_id"]) == [detail.ids["o2"]]


def test_an_empty_grid_gives_empty_frames_with_their_columns(
    session: Session, detail: Detail
) -> None:
    grid_id = detail.world.grids[2].id
    people = residents.grid_people(session=session, grid_id=grid_id)
    assert (people["residents"], people["households"], people["vulnerable"]) == (0, 0, 0)
    frames = {
        "workers": (
            workforce.grid_workers(session=session, grid_id=grid_id, actor=VIEWER),
            workforce.WORKER_COLUMNS,
        ),
        "cases": (
            cases.grid_cases(session=session, grid_id=grid_id, actor=VIEWER),
            cases.CASE_COLUMNS,
        ),
        "contacts": (
            cases.grid_contacts(session=session, grid_id=grid_id, today=today(), actor=VIEWER),
            cases.CONTACT_COLUMNS,
        ),
        "testing": (
            testing.grid_testing(session=session, grid_id=grid_id),
            testing.TESTING_COLUMNS,
        ),
        "requests": (
            requests.grid_requests(session=session, grid_id=grid_id, now=NOW, actor=VIEWER),
            requests.REQUEST_COLUMNS,
        ),
        "tasks": (
            tasks.grid_tasks(session=session, grid_id=grid_id, now=NOW, actor=VIEWER),
            tasks.TASK_COLUMNS,
        ),
        "stock": (stock.grid_stock(session=session, grid_id=grid_id), stock.GRID_STOCK_COLUMNS),
    }
    for name, (frame, columns) in frames.items():
        assert frame.empty, name
        assert list(frame.columns) == columns, name


def _personal(session: Session, detail: Detail, actor: Actor) -> dict[str, list[object]]:
    grid_id = detail.grid.id
    case_rows = cases.grid_cases(session=session, grid_id=grid_id, actor=actor)
    contacts = cases.grid_contacts(session=session, grid_id=grid_id, today=today(), actor=actor)
    workers = workforce.grid_workers(session=session, grid_id=grid_id, actor=actor, now=NOW)
    request_rows = requests.grid_requests(session=session, grid_id=grid_id, now=NOW, actor=actor)
    task_rows = tasks.grid_tasks(session=session, grid_id=grid_id, now=NOW, actor=actor)
    return {
        "resident_name": listed(case_rows["resident_name"]),
        "address": listed(case_rows["address"]),
        "person_name": listed(contacts["person_name"]),
        "contact_phone": listed(contacts["phone"]),
        "worker_name": listed(workers["name"]),
        "worker_phone": listed(workers["phone"]),
        "description": listed(request_rows["description"])[:1],
        "title": listed(task_rows["title"])[:1],
    }


UNMASKED = {
    "resident_name": [None, "张三丰"],
    "address": ["8 Heping Lane, 3-301", None],
    "person_name": ["钱密接", "曹新隔", "孔解除"],
    "contact_phone": ["13700002222", None, None],
    "worker_name": ["周网格长", "吴志愿"],
    "worker_phone": ["13900001111", None],
    "description": ["Vegetables for 1-101"],
    "title": ["Visit 2-201"],
}
MASKED = {
    "resident_name": [None, "***"],
    "address": ["***", None],
    "person_name": ["***", "***", "***"],
    "contact_phone": ["***", None, None],
    "worker_name": ["周网格长", "吴志愿"],  # staff names are public
    "worker_phone": ["***", None],
    "description": ["***"],
    "title": ["***"],
}


def test_personal_data_is_masked_by_role(session: Session, detail: Detail) -> None:
    g1, g2, _ = detail.world.grids
    for who, actor, expected in (
        ("leader", LEADER, UNMASKED),
        ("own grid worker", grid_worker(g1), UNMASKED),
        ("other grid worker", grid_worker(g2), MASKED),
        ("viewer", VIEWER, MASKED),
    ):
        assert _personal(session, detail, actor) == expected, who


def test_the_queries_write_nothing(session: Session, detail: Detail) -> None:
    before = table_counts(session)
    _personal(session, detail, LEADER)
    residents.grid_people(session=session, grid_id=detail.grid.id)
    testing.grid_testing(session=session, grid_id=detail.grid.id)
    stock.grid_stock(session=session, grid_id=detail.grid.id)
    zones.zone_orders(session=session, today=today())
    assert grown(before, session) == {}
    assert not session.dirty and not session.new
