"""The tiny demo world: what it holds, that it is consistent, and that it is repeatable."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from shapely.geometry import Point, shape
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from gridcore.analytics.cases import planned_end_date
from gridcore.config import local_today
from gridcore.db import make_engine
from gridcore.demo import tiny as tiny_demo
from gridcore.models import (
    Area,
    Building,
    Case,
    Contact,
    Resident,
    ResidentVulnerability,
    StockMovement,
    TestRecord,
    User,
    UserGrid,
)
from gridcore.policy import DEFAULT_POLICY, load_policy
from gridcore.services.access import authenticate

if TYPE_CHECKING:
    from tiny_world import TinyWorld

pytestmark = pytest.mark.both_backends  # the demo build writes in bulk: the dialect matters


ANCHOR = date(2026, 3, 21)
COUNTS = {
    "areas": 9,
    "buildings": 7,
    "households": 28,
    "residents": 71,
    "resident_vulnerabilities": 10,
    "workers": 9,
    "cases": 12,
    "contacts": 14,
    "zone_orders": 4,
    "test_rounds": 2,
    "test_sites": 3,
    "test_records": 103,
    "supply_items": 3,
    "depots": 2,
    "stock_movements": 21,
    "requests": 11,
    "tasks": 9,
    "users": 4,
}
TABLES = {
    "areas": "area",
    "buildings": "building",
    "households": "household",
    "residents": "resident",
    "resident_vulnerabilities": "residentvulnerability",
    "workers": "worker",
    "cases": "case_record",
    "contacts": "contact",
    "zone_orders": "zoneorder",
    "test_rounds": "testround",
    "test_sites": "testsite",
    "test_records": "testrecord",
    "supply_items": "supplyitem",
    "depots": "depot",
    "stock_movements": "stockmovement",
    "requests": "residentrequest",
    "tasks": "task",
    "users": "user",
}


def test_build_writes_the_rows_it_reports_and_the_worker_can_sign_in(engine: Engine) -> None:
    counts = tiny_demo.build(engine=engine, anchor=ANCHOR)
    assert counts == COUNTS
    tables = SQLModel.metadata.tables
    with Session(engine) as session:
        for name, table in TABLES.items():
            stored = session.execute(select(func.count()).select_from(tables[table])).scalar_one()
            assert stored == counts[name], name
        actor = authenticate(session, username="worker", password="gridcore-demo")
        assert actor is not None
        grid_id = session.exec(select(Area.id).where(Area.code == "T-C1-G1")).one()
        assert actor.grid_ids == frozenset({grid_id})


def test_the_demo_accounts_and_the_stored_policy(tiny: TinyWorld, tiny_session: Session) -> None:
    users = tiny_session.exec(select(User.username, User.role).order_by(col(User.username))).all()
    assert users == [
        ("admin", "admin"),
        ("leader", "leader"),
        ("viewer", "viewer"),
        ("worker", "grid_worker"),
    ]
    scope = tiny_session.exec(
        select(Area.code)
        .join(UserGrid, col(UserGrid.grid_id) == col(Area.id))
        .join(User, col(User.id) == col(UserGrid.user_id))
        .where(User.username == "worker")
    ).all()
    assert scope == ["T-C1-G1"]
    policy = load_policy(tiny_session)
    assert policy.households_per_fulltime_worker == 5
    assert policy.target_hours_urgent_medical == DEFAULT_POLICY.target_hours_urgent_medical


def test_contacts_end_when_the_default_policy_says(tiny_session: Session) -> None:
    contacts = tiny_session.exec(select(Contact)).all()
    assert len(contacts) == 14
    for contact in contacts:
        expected = planned_end_date(
            contact_type=contact.contact_type, start_date=contact.start_date, policy=DEFAULT_POLICY
        )
        assert contact.planned_end_date == expected, contact.person_name


def test_the_positive_sample_is_the_case_found_by_mass_testing(tiny_session: Session) -> None:
    positive = tiny_session.exec(
        select(TestRecord.resident_id).where(TestRecord.result == "positive")
    ).all()
    found = tiny_session.exec(
        select(Case.resident_id).where(Case.found_via == "mass_testing")
    ).all()
    assert len(positive) == 1 and positive == found


def test_residents_away_from_home_are_the_cases_in_care_and_one_traveller(
    tiny_session: Session,
) -> None:
    away = tiny_session.exec(
        select(Resident.id, Resident.health_status).where(Resident.health_status != "at_home")
    ).all()
    assert len(away) == 5
    patients = set(
        tiny_session.exec(
            select(Case.resident_id).where(
                Case.status == "active", col(Case.resident_id).is_not(None)
            )
        ).all()
    )
    in_care = {rid for rid, status in away if status != "away"}
    assert in_care <= patients
    assert [status for _, status in away].count("away") == 1


def test_buildings_stand_inside_their_grids(tiny_session: Session) -> None:
    shapes = {
        area_id: shape(json.loads(text))
        for area_id, text in tiny_session.exec(
            select(Area.id, Area.shape).where(Area.level == "grid")
        ).all()
        if text
    }
    for building in tiny_session.exec(select(Building)).all():
        assert shapes[building.grid_id].contains(Point(building.lng, building.lat)), building.code


def test_the_story_happens_before_now(tiny: TinyWorld, tiny_session: Session) -> None:
    latest_sample = tiny_session.exec(select(func.max(TestRecord.sampled_at))).one()
    latest_movement = tiny_session.exec(select(func.max(StockMovement.occurred_at))).one()
    latest_case = tiny_session.exec(select(func.max(Case.reported_date))).one()
    assert latest_sample is not None and latest_sample < tiny.now
    assert latest_movement is not None and latest_movement < tiny.now
    assert latest_case == tiny.anchor


def test_without_an_anchor_the_story_ends_today(sqlite_engine: Engine) -> None:
    tiny_demo.build(engine=sqlite_engine, anchor=None)
    with Session(sqlite_engine) as session:
        assert session.exec(select(func.max(Case.reported_date))).one() == local_today()
        earliest = session.exec(select(func.min(Case.reported_date))).one()
    assert earliest == local_today() - timedelta(days=16)


def _fingerprint(engine: Engine) -> list[tuple[object, ...]]:
    with Session(engine) as session:
        residents = session.exec(
            select(Resident.name, Resident.phone).order_by(col(Resident.id))
        ).all()
        tags = session.exec(
            select(ResidentVulnerability.resident_id, ResidentVulnerability.tag).order_by(
                col(ResidentVulnerability.resident_id), col(ResidentVulnerability.tag)
            )
        ).all()
        records = session.exec(
            select(TestRecord.resident_id, TestRecord.sampled_at, TestRecord.result).order_by(
                col(TestRecord.id)
            )
        ).all()
        ledger = session.exec(
            select(StockMovement.quantity, StockMovement.occurred_at).order_by(
                col(StockMovement.id)
            )
        ).all()
    return [*residents, *tags, *records, *ledger]


def test_the_same_anchor_gives_the_same_world(
    sqlite_engine: Engine, sqlite_template: Path, tmp_path: Path
) -> None:
    shutil.copy(sqlite_template, tmp_path / "again.db")
    again = make_engine(f"sqlite:///{tmp_path / 'again.db'}")
    tiny_demo.build(engine=sqlite_engine, anchor=ANCHOR)
    tiny_demo.build(engine=again, anchor=ANCHOR)
    first, second = _fingerprint(sqlite_engine), _fingerprint(again)
    again.dispose()
    assert len(first) == 71 + 10 + 103 + 21
    assert first == second
    names = [row[0] for row in first[:71]]
    assert len(set(names)) == 71  # every resident has their own name
