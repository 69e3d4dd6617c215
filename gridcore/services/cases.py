"""Infection cases and their contacts: reporting, tracing, testing in quarantine, release."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlmodel import Session, SQLModel, select

from gridcore.access import Actor, require_grid
from gridcore.analytics import cases as case_analytics
from gridcore.models import (
    Building,
    Case,
    CaseCreate,
    CaseKind,
    CaseStatus,
    Contact,
    ContactCreate,
    ContactStatus,
    ContactTest,
    ContactTestCreate,
    ContactType,
    Resident,
    TestResult,
)
from gridcore.policy import load_policy
from gridcore.services.base import ValidationFailed, choice, validated, write
from gridcore.services.checks import (
    changed,
    get_row,
    grid_area,
    in_future,
    phone_ok,
)

# Status changes a case may make; a recovered or ruled-out case is closed.
CASE_STATUS_NEXT: dict[str, frozenset[str]] = {
    CaseStatus.active: frozenset({CaseStatus.recovered, CaseStatus.discarded}),
    CaseStatus.recovered: frozenset(),
    CaseStatus.discarded: frozenset(),
}


def _case_errors(session: Session, case_in: CaseCreate) -> dict[str, str]:
    """Domain checks of a new case: rows exist and agree, dates are not ahead."""
    errors: dict[str, str] = {}
    if grid_area(session, case_in.grid_id) is None:
        errors["grid_id"] = "services.error.grid_not_found"
    if in_future(case_in.reported_date):
        errors["reported_date"] = "services.error.date_in_future"
    if case_in.status == CaseStatus.discarded and case_in.kind != CaseKind.suspected:
        errors["status"] = "services.error.discard_only_suspected"
    if case_in.resident_id is None and not (case_in.address or "").strip():
        errors["address"] = "services.error.resident_or_address"
    building = get_row(session, Building, case_in.building_id)
    if case_in.building_id is not None and building is None:
        errors["building_id"] = "services.error.building_not_found"
    elif building is not None and building.grid_id != case_in.grid_id:
        errors["building_id"] = "services.error.building_not_in_grid"
    resident = get_row(session, Resident, case_in.resident_id)
    if case_in.resident_id is not None and resident is None:
        errors["resident_id"] = "services.error.resident_not_found"
    elif resident is not None:
        if resident.grid_id != case_in.grid_id:
            errors["resident_id"] = "services.error.resident_not_in_grid"
        elif building is not None and building.id != resident.building_id:
            errors["building_id"] = "services.error.building_mismatch"
        elif case_in.status == CaseStatus.active and _has_active_case(session, resident.id):
            errors["resident_id"] = "services.error.case_exists"
    return errors


def _has_active_case(session: Session, resident_id: int | None) -> bool:
    found = session.exec(
        select(Case.id).where(Case.resident_id == resident_id, Case.status == CaseStatus.active)
    ).first()
    return found is not None


def create_case(
    *,
    session: Session,
    data: CaseCreate | Mapping[str, Any],
    actor: Actor,
    client_token: str | None = None,
) -> Case:
    """Report a case in a grid; the building is taken from the resident when not given."""
    with write(
        session, actor=actor, entity="case", action="create", client_token=client_token
    ) as op:
        if (earlier := op.replayed(Case)) is not None:
            return earlier
        case_in = validated(CaseCreate, data)
        errors = _case_errors(session, case_in)
        if errors:
            raise ValidationFailed(errors)
        require_grid(actor, case_in.grid_id)
        case = Case(**case_in.model_dump())
        resident = get_row(session, Resident, case.resident_id)
        if case.building_id is None and resident is not None:
            case.building_id = resident.building_id
        session.add(case)
        op.record(
            case,
            {
                "grid_id": case.grid_id,
                "kind": case.kind,
                "status": case.status,
                "reported_date": case.reported_date,
                "found_via": case.found_via,
                "resident_id": case.resident_id,
            },
        )
        _contacts_became_case(session, op, case)
    return case


def _contacts_became_case(session: Session, op: Any, case: Case) -> None:
    """A resident in quarantine as a contact who is now a case leaves quarantine as a case."""
    if case.resident_id is None or case.kind == CaseKind.suspected:
        return
    held = session.exec(
        select(Contact).where(
            Contact.resident_id == case.resident_id,
            Contact.status == ContactStatus.in_quarantine,
        )
    ).all()
    for contact in held:
        contact.status = ContactStatus.became_case
        session.add(contact)
        op.record(
            contact,
            {"status": changed(ContactStatus.in_quarantine, ContactStatus.became_case)},
            entity="contact",
            action="update",
        )


def _case_for_change(session: Session, case_id: int, actor: Actor) -> Case:
    """The case to change, locked for this transaction; the actor must hold its grid."""
    case = session.get(Case, case_id, with_for_update=True)
    if case is None:
        raise ValidationFailed({"case_id": "services.error.case_not_found"})
    require_grid(actor, case.grid_id)
    return case


def update_case_status(
    *, session: Session, case_id: int, status: CaseStatus | str, actor: Actor
) -> Case:
    """Close a case as recovered, or rule out a suspected one; the same status writes nothing."""
    with write(session, actor=actor, entity="case") as op:
        new = choice(CaseStatus, status, "status")
        case = _case_for_change(session, case_id, actor)
        if new == case.status:
            return case
        if new not in CASE_STATUS_NEXT[case.status]:
            raise ValidationFailed({"status": "services.error.status_change"})
        if new == CaseStatus.discarded and case.kind != CaseKind.suspected:
            raise ValidationFailed({"status": "services.error.discard_only_suspected"})
        old = case.status
        case.status = new
        session.add(case)
        op.record(case, {"status": changed(old, new)})
    return case


def reclassify_case(*, session: Session, case_id: int, kind: CaseKind | str, actor: Actor) -> Case:
    """Change the kind of an active case (a suspected case confirmed, …)."""
    with write(session, actor=actor, entity="case") as op:
        new = choice(CaseKind, kind, "kind")
        case = _case_for_change(session, case_id, actor)
        if new == case.kind:
            return case
        if case.status != CaseStatus.active:
            raise ValidationFailed({"kind": "services.error.case_closed"})
        old = case.kind
        case.kind = new
        session.add(case)
        op.record(case, {"kind": changed(old, new)})
    return case


# Status changes a contact may make; released and became_case are final.
CONTACT_STATUS_NEXT: dict[str, frozenset[str]] = {
    ContactStatus.in_quarantine: frozenset({ContactStatus.released, ContactStatus.became_case}),
    ContactStatus.released: frozenset(),
    ContactStatus.became_case: frozenset(),
}


def _contact_input(session: Session, data: ContactCreate | Mapping[str, Any]) -> ContactCreate:
    """The validated input; a resident fills in the name, phone and grid when they are left out."""
    raw = data.model_dump() if isinstance(data, SQLModel) else dict(data)
    resident_id = raw.get("resident_id")
    resident = get_row(session, Resident, resident_id) if isinstance(resident_id, int) else None
    if resident is not None:
        for field, value in (
            ("person_name", resident.name),
            ("phone", resident.phone),
            ("grid_id", resident.grid_id),
        ):
            if raw.get(field) in (None, ""):
                raw[field] = value
    if raw.get("planned_end_date") is None and isinstance(raw.get("start_date"), date):
        # The policy decides how long a contact is held when the form does not say.
        kind = raw.get("contact_type")
        if kind in tuple(ContactType):
            raw["planned_end_date"] = case_analytics.planned_end_date(
                contact_type=str(kind), start_date=raw["start_date"], policy=load_policy(session)
            )
    return validated(ContactCreate, raw)


def _contact_errors(session: Session, contact_in: ContactCreate) -> dict[str, str]:
    """Domain checks of a new contact: rows exist and agree, dates are in order."""
    errors: dict[str, str] = {}
    if contact_in.grid_id is not None and grid_area(session, contact_in.grid_id) is None:
        errors["grid_id"] = "services.error.grid_not_found"
    if contact_in.case_id is not None and get_row(session, Case, contact_in.case_id) is None:
        errors["case_id"] = "services.error.case_not_found"
    if not phone_ok(contact_in.phone):
        errors["phone"] = "services.error.phone_invalid"
    if in_future(contact_in.identified_date):
        errors["identified_date"] = "services.error.date_in_future"
    if contact_in.planned_end_date <= contact_in.start_date:
        errors["planned_end_date"] = "services.error.end_before_start"
    resident = get_row(session, Resident, contact_in.resident_id)
    if contact_in.resident_id is not None and resident is None:
        errors["resident_id"] = "services.error.resident_not_found"
    elif resident is not None:
        if resident.grid_id != contact_in.grid_id:
            errors["resident_id"] = "services.error.resident_not_in_grid"
        elif contact_in.status == ContactStatus.in_quarantine and _in_quarantine(
            session, resident.id
        ):
            errors["resident_id"] = "services.error.contact_exists"
    return errors


def _in_quarantine(session: Session, resident_id: int | None) -> bool:
    found = session.exec(
        select(Contact.id).where(
            Contact.resident_id == resident_id, Contact.status == ContactStatus.in_quarantine
        )
    ).first()
    return found is not None


def create_contact(
    *,
    session: Session,
    data: ContactCreate | Mapping[str, Any],
    actor: Actor,
    client_token: str | None = None,
) -> Contact:
    """Register a contact; one without a grid (lives elsewhere) needs a leader or administrator."""
    with write(
        session, actor=actor, entity="contact", action="create", client_token=client_token
    ) as op:
        if (earlier := op.replayed(Contact)) is not None:
            return earlier
        contact_in = _contact_input(session, data)
        errors = _contact_errors(session, contact_in)
        if errors:
            raise ValidationFailed(errors)
        require_grid(actor, contact_in.grid_id)
        contact = Contact(**contact_in.model_dump())
        session.add(contact)
        op.record(
            contact,
            {
                "case_id": contact.case_id,
                "resident_id": contact.resident_id,
                "grid_id": contact.grid_id,
                "contact_type": contact.contact_type,
                "quarantine_place": contact.quarantine_place,
                "start_date": contact.start_date,
                "planned_end_date": contact.planned_end_date,
            },
        )
    return contact


def set_contact_status(
    *, session: Session, contact_id: int, status: ContactStatus | str, actor: Actor
) -> Contact:
    """Release a contact from quarantine or record that they became a case."""
    with write(session, actor=actor, entity="contact") as op:
        new = choice(ContactStatus, status, "status")
        contact = session.get(Contact, contact_id, with_for_update=True)
        if contact is None:
            raise ValidationFailed({"contact_id": "services.error.contact_not_found"})
        require_grid(actor, contact.grid_id)
        if new == contact.status:
            return contact
        if new not in CONTACT_STATUS_NEXT[contact.status]:
            raise ValidationFailed({"status": "services.error.status_change"})
        old = contact.status
        contact.status = new
        session.add(contact)
        op.record(contact, {"status": changed(old, new)})
    return contact


def release_contact(*, session: Session, contact_id: int, actor: Actor) -> Contact:
    """End a contact's quarantine (a second call writes nothing)."""
    return set_contact_status(
        session=session, contact_id=contact_id, status=ContactStatus.released, actor=actor
    )


# --------------------------------------------------------------------------- quarantine follow-up

# Results a contact's test may record (a pending sample is not recorded yet).
CONTACT_TEST_RESULTS: tuple[str, ...] = (
    TestResult.negative,
    TestResult.positive,
    TestResult.invalid,
)


def _contact_in_quarantine(session: Session, contact_id: int, actor: Actor) -> Contact:
    """The contact to follow up, locked; held in quarantine, in the actor's grids."""
    contact = session.get(Contact, contact_id, with_for_update=True)
    if contact is None:
        raise ValidationFailed({"contact_id": "services.error.contact_not_found"})
    require_grid(actor, contact.grid_id)
    if contact.status != ContactStatus.in_quarantine:
        raise ValidationFailed({"contact_id": "cases.error.not_in_quarantine"})
    return contact


def contact_test_days(session: Session, contact: Contact) -> tuple[date, ...]:
    """The contact's test days under the policy in force."""
    return case_analytics.quarantine_test_days(
        contact_type=contact.contact_type,
        start_date=contact.start_date,
        planned_end_date=contact.planned_end_date,
        policy=load_policy(session),
    )


def record_contact_test(
    *,
    session: Session,
    data: ContactTestCreate | Mapping[str, Any],
    actor: Actor,
    client_token: str | None = None,
) -> ContactTest:
    """Record a contact's test on one of their test days (today or a missed earlier one)."""
    with write(
        session, actor=actor, entity="contact_test", action="create", client_token=client_token
    ) as op:
        if (earlier := op.replayed(ContactTest)) is not None:
            return earlier
        test_in = validated(ContactTestCreate, data)
        errors: dict[str, str] = {}
        if test_in.result not in CONTACT_TEST_RESULTS:
            errors["result"] = "cases.error.result_final"
        if in_future(test_in.day):
            errors["day"] = "services.error.date_in_future"
        if errors:
            raise ValidationFailed(errors)
        contact = _contact_in_quarantine(session, test_in.contact_id, actor)
        if test_in.day not in contact_test_days(session, contact):
            raise ValidationFailed({"day": "cases.error.not_a_test_day"})
        done = session.exec(
            select(ContactTest.id).where(
                ContactTest.contact_id == contact.id, ContactTest.day == test_in.day
            )
        ).first()
        if done is not None:
            raise ValidationFailed({"day": "cases.error.test_recorded"})
        test = ContactTest(**test_in.model_dump(), recorded_by=actor.username)
        session.add(test)
        op.record(test, {"contact_id": test.contact_id, "day": test.day, "result": test.result})
    return test


def extend_quarantine(
    *,
    session: Session,
    contact_id: int,
    planned_end_date: date,
    actor: Actor,
    client_token: str | None = None,
) -> Contact:
    """Move a contact's release day later (a positive in the household, a missed test)."""
    with write(session, actor=actor, entity="contact", client_token=client_token) as op:
        if (earlier := op.replayed(Contact)) is not None:
            return earlier
        if not isinstance(planned_end_date, date):
            raise ValidationFailed({"planned_end_date": "services.error.not_a_date"})
        contact = _contact_in_quarantine(session, contact_id, actor)
        if planned_end_date <= contact.planned_end_date:
            raise ValidationFailed({"planned_end_date": "cases.error.extend_later"})
        if (planned_end_date - contact.start_date).days > MAX_QUARANTINE_DAYS:
            raise ValidationFailed({"planned_end_date": "cases.error.too_long"})
        old = contact.planned_end_date
        contact.planned_end_date = planned_end_date
        session.add(contact)
        op.record(contact, {"planned_end_date": changed(old, planned_end_date)})
    return contact


# A quarantine longer than this is a typing error (the protocol's longest is 14 days).
MAX_QUARANTINE_DAYS = 42
