"""Infection cases: reporting a case, changing its status or its kind."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session, select

from gridcore.models import Building, Case, CaseCreate, CaseKind, CaseStatus, Resident
from gridcore.services.base import Actor, ValidationFailed, audit, require_grid
from gridcore.services.checks import (
    changed,
    check_client_token,
    choice,
    get_row,
    grid_area,
    in_future,
    replayed,
    require_writer,
    validated,
    with_token,
    writing,
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
    require_writer(actor)
    check_client_token(client_token)
    case_in = validated(CaseCreate, data)
    with writing(session):
        found = replayed(session, Case, actor=actor, entity="case", client_token=client_token)
        if found is not None:
            return found
        errors = _case_errors(session, case_in)
        if errors:
            raise ValidationFailed(errors)
        require_grid(actor, case_in.grid_id)
        case = Case(**case_in.model_dump())
        resident = get_row(session, Resident, case.resident_id)
        if case.building_id is None and resident is not None:
            case.building_id = resident.building_id
        session.add(case)
        session.flush()
        audit(
            session,
            actor=actor,
            action="create",
            entity="case",
            entity_id=case.id,
            changes=with_token(
                {
                    "grid_id": case.grid_id,
                    "kind": case.kind,
                    "status": case.status,
                    "reported_date": case.reported_date,
                    "found_via": case.found_via,
                    "resident_id": case.resident_id,
                },
                client_token,
            ),
        )
    return case


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
    require_writer(actor)
    new = choice(CaseStatus, status, "status")
    with writing(session):
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
        audit(
            session,
            actor=actor,
            action="update",
            entity="case",
            entity_id=case.id,
            changes={"status": changed(old, new)},
        )
    return case


def reclassify_case(*, session: Session, case_id: int, kind: CaseKind | str, actor: Actor) -> Case:
    """Change the kind of an active case (a suspected case confirmed, …)."""
    require_writer(actor)
    new = choice(CaseKind, kind, "kind")
    with writing(session):
        case = _case_for_change(session, case_id, actor)
        if new == case.kind:
            return case
        if case.status != CaseStatus.active:
            raise ValidationFailed({"kind": "services.error.case_closed"})
        old = case.kind
        case.kind = new
        session.add(case)
        audit(
            session,
            actor=actor,
            action="update",
            entity="case",
            entity_id=case.id,
            changes={"kind": changed(old, new)},
        )
    return case
