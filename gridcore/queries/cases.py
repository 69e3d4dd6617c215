"""Cases and their contacts: lists per grid and counts per grid and day."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import and_, case, func, select
from sqlmodel import Session, col

from gridcore.access import NAME, PHONE, TEXT, Actor, mask_personal
from gridcore.analytics import cases as case_analytics
from gridcore.models import (
    Building,
    Case,
    CaseStatus,
    Contact,
    ContactStatus,
    Resident,
)
from gridcore.queries._sql import Counter, by_grid, count_if, select_columns

CASE_COLUMNS = [
    "case_id",
    "reported_date",
    "kind",
    "status",
    "found_via",
    "resident_name",
    "address",
    "building",
]


CONTACT_COLUMNS = [
    "contact_id",
    "person_name",
    "phone",
    "contact_type",
    "quarantine_place",
    "start_date",
    "planned_end_date",
    "days_left",
    "status",
]


def grid_cases(*, session: Session, grid_id: int, actor: Actor) -> pd.DataFrame:
    """The grid's cases, newest first, with the resident's name and the building."""
    rows = session.execute(
        select(
            col(Case.id),
            col(Case.reported_date),
            col(Case.kind),
            col(Case.status),
            col(Case.found_via),
            col(Resident.name),
            col(Case.address),
            col(Building.name),
        )
        .outerjoin(Resident, col(Resident.id) == col(Case.resident_id))
        .outerjoin(Building, col(Building.id) == col(Case.building_id))
        .where(col(Case.grid_id) == grid_id)
        .order_by(col(Case.reported_date).desc(), col(Case.id).desc())
    ).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=CASE_COLUMNS)
    frame = mask_personal(
        frame,
        actor=actor,
        grid_id=grid_id,
        columns={"resident_name": NAME, "address": TEXT, "building": TEXT},
    )
    return frame


def grid_contacts(*, session: Session, grid_id: int, today: date, actor: Actor) -> pd.DataFrame:
    """The grid's contacts: those in quarantine first, soonest end first.

    days_left is planned_end_date − today for a contact in quarantine (0: ends today,
    negative: overdue for release), empty otherwise.
    """
    rows = session.execute(
        select(
            col(Contact.id),
            col(Contact.person_name),
            col(Contact.phone),
            col(Contact.contact_type),
            col(Contact.quarantine_place),
            col(Contact.start_date),
            col(Contact.planned_end_date),
            col(Contact.status),
        )
        .where(col(Contact.grid_id) == grid_id)
        .order_by(
            case((col(Contact.status) == ContactStatus.in_quarantine, 0), else_=1),
            col(Contact.planned_end_date),
            col(Contact.id),
        )
    ).all()
    records = [
        (*r[:7], (r[6] - today).days if r[7] == ContactStatus.in_quarantine else None, r[7])
        for r in rows
    ]
    frame = pd.DataFrame(records, columns=CONTACT_COLUMNS)
    frame["days_left"] = frame["days_left"].astype("Int64")
    frame = mask_personal(
        frame, actor=actor, grid_id=grid_id, columns={"person_name": NAME, "phone": PHONE}
    )
    return frame


def counted_cases() -> Any:
    """The WHERE clause of cases that every figure counts (see analytics.cases)."""
    return and_(
        col(Case.kind).in_(case_analytics.COUNTED_KINDS),
        col(Case.status) != case_analytics.NOT_COUNTED_STATUS,
    )


def community_case() -> Any:
    """Cases found outside quarantine."""
    return col(Case.found_via) != case_analytics.QUARANTINE_FOUND


def case_counts(*, session: Session, today: date) -> Counter:
    """Per grid: new cases today and in 7 days, active cases, community cases, last one."""
    week = col(Case.reported_date) >= case_analytics.window_start(today=today)
    stmt = (
        select_columns(
            Case.grid_id,
            count_if(col(Case.reported_date) == today),
            count_if(week),
            count_if(col(Case.status) == CaseStatus.active),
            count_if(and_(week, community_case())),
            func.max(Case.reported_date).filter(community_case()),
        )
        .where(counted_cases(), col(Case.reported_date) <= today)
        .group_by(col(Case.grid_id))
    )
    return by_grid(
        session.execute(stmt).all(),
        ["new_cases_today", "new_cases_7d", "active_cases", "community_cases_7d",
         "last_community_case"],
    )  # fmt: skip


def contact_counts(*, session: Session, today: date) -> Counter:
    """Per grid: contacts in quarantine now, and those of them due to end it today."""
    stmt = (
        select_columns(
            Contact.grid_id, func.count(), count_if(col(Contact.planned_end_date) == today)
        )
        .where(Contact.status == ContactStatus.in_quarantine, col(Contact.grid_id).is_not(None))
        .group_by(col(Contact.grid_id))
    )
    return by_grid(session.execute(stmt).all(), ["in_quarantine", "contacts_due_today"])


def quarantine_per_day(*, session: Session, start: date, end: date) -> dict[date, int]:
    """Contacts in quarantine on each day from `start` to `end`.

    A contact is counted on every day from its start to its planned end, both included;
    one who became a case is counted among the cases instead, on no day.
    """
    stmt = (
        select(col(Contact.start_date), col(Contact.planned_end_date), func.count())
        .where(
            col(Contact.status) != ContactStatus.became_case,
            col(Contact.start_date) <= end,
            col(Contact.planned_end_date) >= start,
        )
        .group_by(col(Contact.start_date), col(Contact.planned_end_date))
    )
    days = {start + timedelta(days=i): 0 for i in range((end - start).days + 1)}
    for first, last, n in session.execute(stmt):
        day = max(first, start)
        while day <= min(last, end):
            days[day] += n
            day += timedelta(days=1)
    return days
