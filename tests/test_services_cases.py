"""Reporting cases and changing their status or kind."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlmodel import Session

from gridcore.access import PermissionDenied
from gridcore.models import Case
from gridcore.services.base import ValidationFailed
from gridcore.services.cases import create_case, reclassify_case, update_case_status
from tests.factories import (
    ADMIN,
    LEADER,
    VIEWER,
    World,
    days_ago,
    grid_worker,
    grown,
    last_audit,
    make_case,
    make_resident,
    make_street_with_grids,
    table_counts,
    today,
)


@pytest.fixture(scope="module")
def world_builder() -> Callable[[Session], World]:
    """Street T: grids T-C1-G1 and T-C1-G2 with two buildings each (built once a run)."""
    return make_street_with_grids


def _data(world: World, **fields: object) -> dict[str, object]:
    return {
        "grid_id": world.grids[0].id,
        "kind": "confirmed",
        "reported_date": days_ago(1),
        "found_via": "mass_testing",
        "address": "5 Heping Lane, 2-301",
        **fields,
    }


def test_a_case_of_a_resident_takes_the_residents_building(session: Session, world: World) -> None:
    resident = make_resident(session, building=world.buildings[0][1])
    before = table_counts(session)
    case = create_case(
        session=session,
        data=_data(world, resident_id=resident.id, address=None),
        actor=grid_worker(world.grids[0]),
    )
    assert grown(before, session) == {"case_record": 1, "auditentry": 1}
    assert case.building_id == world.buildings[0][1].id
    assert case.status == "active"
    entry = last_audit(session)
    assert (entry.action, entry.entity, entry.entity_id) == ("create", "case", str(case.id))
    assert json.loads(entry.changes)["reported_date"] == days_ago(1).isoformat()


def test_a_case_may_be_reported_today_but_not_tomorrow(session: Session, world: World) -> None:
    create_case(session=session, data=_data(world, reported_date=today()), actor=LEADER)
    before = table_counts(session)
    with pytest.raises(ValidationFailed) as failed:
        create_case(
            session=session,
            data=_data(world, reported_date=today() + timedelta(days=1)),
            actor=LEADER,
        )
    assert failed.value.errors == {"reported_date": "services.error.date_in_future"}
    assert grown(before, session) == {}


def test_domain_checks(session: Session, world: World) -> None:
    g1, g2 = world.grids
    resident = make_resident(session, building=world.buildings[0][0])
    make_case(session, grid=g1, resident_id=resident.id, address=None)
    other = make_resident(session, building=world.buildings[0][1], unit="2-202", name="李四")
    before = table_counts(session)
    cases: list[tuple[dict[str, object], dict[str, str]]] = [
        ({"grid_id": world.community.id}, {"grid_id": "services.error.grid_not_found"}),
        ({"address": "  "}, {"address": "services.error.resident_or_address"}),
        (
            {"building_id": world.buildings[1][0].id},
            {"building_id": "services.error.building_not_in_grid"},
        ),
        ({"building_id": 999}, {"building_id": "services.error.building_not_found"}),
        ({"resident_id": 999}, {"resident_id": "services.error.resident_not_found"}),
        ({"resident_id": resident.id}, {"resident_id": "services.error.case_exists"}),
        (
            {"resident_id": other.id, "grid_id": g2.id},
            {"resident_id": "services.error.resident_not_in_grid"},
        ),
        (
            {"resident_id": other.id, "building_id": world.buildings[0][0].id},
            {"building_id": "services.error.building_mismatch"},
        ),
        ({"status": "discarded"}, {"status": "services.error.discard_only_suspected"}),
        ({"kind": "flu"}, {"kind": "services.error.invalid_choice"}),
        ({"reported_date": "last week"}, {"reported_date": "services.error.not_a_date"}),
    ]
    for fields, errors in cases:
        with pytest.raises(ValidationFailed) as failed:
            create_case(session=session, data=_data(world, **fields), actor=LEADER)
        assert failed.value.errors == errors, fields
    assert grown(before, session) == {}


def test_permissions(session: Session, world: World) -> None:
    g1, g2 = world.grids
    before = table_counts(session)
    with pytest.raises(PermissionDenied):
        create_case(session=session, data=_data(world), actor=VIEWER)
    with pytest.raises(PermissionDenied):
        create_case(session=session, data=_data(world), actor=grid_worker(g2))
    assert grown(before, session) == {}
    create_case(session=session, data=_data(world), actor=grid_worker(g1))
    create_case(session=session, data=_data(world, grid_id=g2.id), actor=LEADER)
    assert grown(before, session) == {"case_record": 2, "auditentry": 2}


@pytest.mark.both_backends  # the replay check searches the audit log with LIKE
def test_a_double_click_reports_one_case(session: Session, world: World) -> None:
    resident = make_resident(session, building=world.buildings[0][0])
    data = _data(world, resident_id=resident.id, address=None)
    before = table_counts(session)
    first = create_case(session=session, data=data, actor=LEADER, client_token="case-0001")
    # The second click is recognised before the check that the resident has no active case.
    again = create_case(session=session, data=data, actor=LEADER, client_token="case-0001")
    assert again.id == first.id
    assert grown(before, session) == {"case_record": 1, "auditentry": 1, "replaykey": 1}
    # Another user's token of the same text is theirs, not a repeat of this one.
    with pytest.raises(ValidationFailed) as failed:
        create_case(session=session, data=data, actor=ADMIN, client_token="case-0001")
    assert failed.value.errors == {"resident_id": "services.error.case_exists"}


@pytest.mark.both_backends  # row locks (FOR UPDATE) and the transaction
def test_status_changes(session: Session, world: World) -> None:
    g1, g2 = world.grids
    confirmed = make_case(session, grid=g1)
    suspected = make_case(session, grid=g1, kind="suspected")
    before = table_counts(session)
    with pytest.raises(ValidationFailed) as failed:
        update_case_status(session=session, case_id=confirmed.id, status="discarded", actor=LEADER)
    assert failed.value.errors == {"status": "services.error.discard_only_suspected"}
    with pytest.raises(PermissionDenied):
        update_case_status(
            session=session, case_id=confirmed.id, status="recovered", actor=grid_worker(g2)
        )
    update_case_status(
        session=session, case_id=confirmed.id, status="recovered", actor=grid_worker(g1)
    )
    update_case_status(session=session, case_id=confirmed.id, status="recovered", actor=LEADER)
    update_case_status(session=session, case_id=suspected.id, status="discarded", actor=LEADER)
    assert grown(before, session) == {"auditentry": 2}
    with pytest.raises(ValidationFailed) as failed:
        update_case_status(session=session, case_id=confirmed.id, status="active", actor=LEADER)
    assert failed.value.errors == {"status": "services.error.status_change"}
    with pytest.raises(ValidationFailed):
        update_case_status(session=session, case_id=999, status="recovered", actor=LEADER)
    session.expire_all()
    stored = session.get(Case, confirmed.id)
    assert stored is not None and stored.status == "recovered"


def test_reclassify_an_active_case(session: Session, world: World) -> None:
    case = make_case(session, grid=world.grids[0], kind="suspected")
    reclassify_case(session=session, case_id=case.id, kind="confirmed", actor=LEADER)
    assert json.loads(last_audit(session).changes) == {"kind": ["suspected", "confirmed"]}
    update_case_status(session=session, case_id=case.id, status="recovered", actor=LEADER)
    with pytest.raises(ValidationFailed) as failed:
        reclassify_case(session=session, case_id=case.id, kind="asymptomatic", actor=LEADER)
    assert failed.value.errors == {"kind": "services.error.case_closed"}
    with pytest.raises(ValidationFailed):
        reclassify_case(session=session, case_id=case.id, kind="flu", actor=LEADER)
