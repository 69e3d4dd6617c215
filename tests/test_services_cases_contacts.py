"""Registering contacts in quarantine and releasing them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlmodel import Session

from gridcore.access import PermissionDenied
from gridcore.services.base import ValidationFailed
from gridcore.services.cases import create_contact, release_contact, set_contact_status
from tests.factories import (
    LEADER,
    VIEWER,
    World,
    days_ago,
    grid_worker,
    grown,
    make_case,
    make_contact,
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
        "person_name": "赵密接",
        "contact_type": "close",
        "identified_date": days_ago(1),
        "quarantine_place": "central",
        "start_date": days_ago(1),
        "planned_end_date": days_ago(1) + timedelta(days=7),
        **fields,
    }


def test_a_resident_contact_takes_name_phone_and_grid_from_the_register(
    session: Session, world: World
) -> None:
    resident = make_resident(
        session, building=world.buildings[1][0], name="钱多多", phone="13900001111"
    )
    case = make_case(session, grid=world.grids[0])
    before = table_counts(session)
    contact = create_contact(
        session=session,
        data=_data(world, grid_id=None, person_name=None, resident_id=resident.id, case_id=case.id),
        actor=grid_worker(world.grids[1]),
    )
    assert grown(before, session) == {"contact": 1, "auditentry": 1}
    assert (contact.person_name, contact.phone, contact.grid_id) == (
        "钱多多",
        "13900001111",
        world.grids[1].id,
    )
    assert contact.status == "in_quarantine"


def test_domain_checks(session: Session, world: World) -> None:
    resident = make_resident(session, building=world.buildings[0][0])
    make_contact(session, grid=world.grids[0], resident_id=resident.id)
    before = table_counts(session)
    cases: list[tuple[dict[str, object], dict[str, str]]] = [
        (
            {"identified_date": today() + timedelta(days=1)},
            {"identified_date": "services.error.date_in_future"},
        ),
        (
            {"planned_end_date": days_ago(1)},
            {"planned_end_date": "services.error.end_before_start"},
        ),
        ({"case_id": 999}, {"case_id": "services.error.case_not_found"}),
        ({"grid_id": world.street.id}, {"grid_id": "services.error.grid_not_found"}),
        ({"resident_id": resident.id}, {"resident_id": "services.error.contact_exists"}),
        (
            {"resident_id": resident.id, "grid_id": world.grids[1].id},
            {"resident_id": "services.error.resident_not_in_grid"},
        ),
        ({"phone": "phone"}, {"phone": "services.error.phone_invalid"}),
        ({"contact_type": "distant"}, {"contact_type": "services.error.invalid_choice"}),
        ({"person_name": ""}, {"person_name": "services.error.required"}),
    ]
    for fields, errors in cases:
        with pytest.raises(ValidationFailed) as failed:
            create_contact(session=session, data=_data(world, **fields), actor=LEADER)
        assert failed.value.errors == errors, fields
    assert grown(before, session) == {}


def test_permissions(session: Session, world: World) -> None:
    g1, g2 = world.grids
    before = table_counts(session)
    with pytest.raises(PermissionDenied):
        create_contact(session=session, data=_data(world), actor=VIEWER)
    with pytest.raises(PermissionDenied):
        create_contact(session=session, data=_data(world), actor=grid_worker(g2))
    with pytest.raises(PermissionDenied):  # lives outside every grid: command's business
        create_contact(session=session, data=_data(world, grid_id=None), actor=grid_worker(g1))
    assert grown(before, session) == {}
    create_contact(session=session, data=_data(world), actor=grid_worker(g1))
    create_contact(session=session, data=_data(world, grid_id=None), actor=LEADER)
    assert grown(before, session) == {"contact": 2, "auditentry": 2}


@pytest.mark.both_backends  # the replay check searches the audit log with LIKE
def test_a_double_click_registers_one_contact(session: Session, world: World) -> None:
    resident = make_resident(session, building=world.buildings[0][0])
    data = _data(world, resident_id=resident.id)
    before = table_counts(session)
    first = create_contact(session=session, data=data, actor=LEADER, client_token="contact-01")
    again = create_contact(session=session, data=data, actor=LEADER, client_token="contact-01")
    assert again.id == first.id
    assert grown(before, session) == {"contact": 1, "auditentry": 1, "replaykey": 1}


@pytest.mark.both_backends  # row locks (FOR UPDATE) and the transaction
def test_release_writes_once_and_is_final(session: Session, world: World) -> None:
    g1, g2 = world.grids
    contact = make_contact(session, grid=g1)
    before = table_counts(session)
    with pytest.raises(PermissionDenied):
        release_contact(session=session, contact_id=contact.id, actor=grid_worker(g2))
    released = release_contact(session=session, contact_id=contact.id, actor=grid_worker(g1))
    release_contact(session=session, contact_id=contact.id, actor=grid_worker(g1))
    assert released.status == "released"
    assert grown(before, session) == {"auditentry": 1}
    with pytest.raises(ValidationFailed) as failed:
        set_contact_status(
            session=session, contact_id=contact.id, status="became_case", actor=LEADER
        )
    assert failed.value.errors == {"status": "services.error.status_change"}
    with pytest.raises(ValidationFailed):
        release_contact(session=session, contact_id=999, actor=LEADER)


def test_a_contact_who_falls_ill(session: Session, world: World) -> None:
    contact = make_contact(session, grid=world.grids[0])
    became = set_contact_status(
        session=session, contact_id=contact.id, status="became_case", actor=LEADER
    )
    assert became.status == "became_case"
    with pytest.raises(ValidationFailed):
        set_contact_status(session=session, contact_id=contact.id, status="cured", actor=LEADER)
