"""Following a contact through quarantine: the policy's schedule, tests on due days, extension.

Also: a contact who becomes a case leaves quarantine as a case, in the same write.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from gridcore.access import PermissionDenied
from gridcore.models import Contact, ContactTest
from gridcore.services.base import ValidationFailed
from gridcore.services.cases import (
    contact_test_days,
    create_contact,
    extend_quarantine,
    record_contact_test,
    release_contact,
)
from tests.factories import (
    LEADER,
    VIEWER,
    World,
    days_ago,
    grid_worker,
    grown,
    last_audit,
    make_case,
    make_contact,
    make_resident,
    make_street_with_grids,
    table_counts,
    today,
)

TOKEN = "followup-token-1"


@pytest.fixture(scope="module")
def world_builder() -> Callable[[Session], World]:
    """Street T: grids T-C1-G1 and T-C1-G2 with two buildings each (built once a run)."""
    return make_street_with_grids


def test_a_contact_without_an_end_is_held_as_long_as_the_policy_says(
    session: Session, world: World
) -> None:
    case = make_case(session, grid=world.grids[0])
    start = days_ago(2)
    data = {
        "case_id": case.id, "grid_id": world.grids[0].id, "person_name": "周密接",
        "identified_date": start, "quarantine_place": "central", "start_date": start,
    }  # fmt: skip
    close = create_contact(session=session, data={**data, "contact_type": "close"}, actor=LEADER)
    secondary = create_contact(
        session=session,
        data={**data, "contact_type": "secondary", "quarantine_place": "home"},
        actor=LEADER,
    )
    # Default policy: close 7 + 3 days, secondary 7 days.
    assert close.planned_end_date == start + timedelta(days=10)
    assert secondary.planned_end_date == start + timedelta(days=7)


def _contact_from(session: Session, world: World, days: int) -> Contact:
    """A close contact in grid 1, in quarantine since `days` days ago (day 1 = that day)."""
    start = days_ago(days)
    return make_contact(session, grid=world.grids[0], start_date=start, days=10)


@pytest.mark.both_backends  # the unique (contact, day) and the transaction
def test_a_test_on_a_due_day_is_recorded_once_and_audited(session: Session, world: World) -> None:
    contact = _contact_from(session, world, 1)  # today is day 2: a test day
    before = table_counts(session)
    worker = grid_worker(world.grids[0])
    data = {"contact_id": contact.id, "day": today(), "result": "negative"}
    test = record_contact_test(session=session, data=data, actor=worker, client_token=TOKEN)
    again = record_contact_test(session=session, data=data, actor=worker, client_token=TOKEN)
    assert again.id == test.id  # a double tap writes once
    assert grown(before, session) == {"contacttest": 1, "auditentry": 1, "replaykey": 1}
    entry = last_audit(session)
    assert (entry.entity, entry.action, entry.username) == ("contact_test", "create", "wang")
    assert test.recorded_by == "wang"
    # The same day again, from another form: refused.
    with pytest.raises(ValidationFailed) as failed:
        record_contact_test(session=session, data=data, actor=worker)
    assert failed.value.errors == {"day": "cases.error.test_recorded"}


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"day": "tomorrow"}, {"day": "services.error.not_a_date"}),
        ({"result": "pending"}, {"result": "cases.error.result_final"}),
        ({"result": "maybe"}, {"result": "services.error.invalid_choice"}),
        # Day 4 of a close contact's quarantine is not a test day (1, 2, 3, 5, 7, 10).
        ({"offset": 0}, {"day": "cases.error.not_a_test_day"}),
        ({"offset": -1}, {"day": "services.error.date_in_future"}),
    ],
)
def test_a_bad_test_writes_nothing(
    session: Session, world: World, fields: dict[str, object], errors: dict[str, str]
) -> None:
    contact = _contact_from(session, world, 3)  # today is day 4
    offset = int(fields.pop("offset", 0))  # type: ignore[call-overload]
    data = {"contact_id": contact.id, "day": days_ago(offset), "result": "negative", **fields}
    before = table_counts(session)
    with pytest.raises(ValidationFailed) as failed:
        record_contact_test(session=session, data=data, actor=LEADER)
    assert failed.value.errors == errors
    assert grown(before, session) == {}


def test_a_missed_test_day_can_be_recorded_late(session: Session, world: World) -> None:
    contact = _contact_from(session, world, 3)  # day 1 was three days ago: missed
    record_contact_test(
        session=session,
        data={"contact_id": contact.id, "day": days_ago(3), "result": "negative"},
        actor=LEADER,
    )
    assert session.exec(select(ContactTest.day)).all() == [days_ago(3)]


def test_tests_and_extensions_are_refused_out_of_scope_and_after_release(
    session: Session, world: World
) -> None:
    contact = _contact_from(session, world, 1)
    data = {"contact_id": contact.id, "day": today(), "result": "negative"}
    before = table_counts(session)
    with pytest.raises(PermissionDenied):
        record_contact_test(session=session, data=data, actor=grid_worker(world.grids[1]))
    with pytest.raises(PermissionDenied):
        record_contact_test(session=session, data=data, actor=VIEWER)
    with pytest.raises(PermissionDenied):
        extend_quarantine(
            session=session,
            contact_id=contact.id or 0,
            planned_end_date=today() + timedelta(days=20),
            actor=grid_worker(world.grids[1]),
        )
    assert grown(before, session) == {}
    release_contact(session=session, contact_id=contact.id or 0, actor=LEADER)
    with pytest.raises(ValidationFailed) as failed:
        record_contact_test(session=session, data=data, actor=LEADER)
    assert failed.value.errors == {"contact_id": "cases.error.not_in_quarantine"}


def test_extending_a_quarantine_moves_its_end_and_adds_a_last_test(
    session: Session, world: World
) -> None:
    contact = _contact_from(session, world, 9)  # day 10 today: ends tomorrow
    old_end = contact.planned_end_date
    with pytest.raises(ValidationFailed) as failed:
        extend_quarantine(
            session=session, contact_id=contact.id or 0, planned_end_date=old_end, actor=LEADER
        )
    assert failed.value.errors == {"planned_end_date": "cases.error.extend_later"}
    with pytest.raises(ValidationFailed) as failed:
        extend_quarantine(
            session=session, contact_id=contact.id or 0,
            planned_end_date=old_end + timedelta(days=60), actor=LEADER,
        )  # fmt: skip
    assert failed.value.errors == {"planned_end_date": "cases.error.too_long"}
    new_end = old_end + timedelta(days=4)
    extend_quarantine(
        session=session, contact_id=contact.id or 0, planned_end_date=new_end, actor=LEADER
    )
    session.refresh(contact)
    assert contact.planned_end_date == new_end
    entry = last_audit(session)
    assert entry.entity == "contact" and "planned_end_date" in entry.changes
    # The new last day (the day before release) is a test day now.
    assert contact_test_days(session, contact)[-1] == new_end - timedelta(days=1)


def test_a_contact_who_becomes_a_case_leaves_quarantine_in_the_same_write(
    session: Session, world: World
) -> None:
    resident = make_resident(session, building=world.buildings[0][0], name="孙转阳")
    source = make_case(session, grid=world.grids[0], reported_date=days_ago(3))
    contact = make_contact(
        session, grid=world.grids[0], resident_id=resident.id, case_id=source.id,
        start_date=days_ago(3),
    )  # fmt: skip
    before = table_counts(session)
    make_case(
        session, grid=world.grids[0], resident_id=resident.id, found_via="quarantine",
        kind="asymptomatic",
    )  # fmt: skip
    session.refresh(contact)
    assert contact.status == "became_case"
    assert grown(before, session) == {"case_record": 1, "auditentry": 2}
