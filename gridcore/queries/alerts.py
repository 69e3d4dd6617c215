"""Alerts as they stand: the figures each rule needs, counted in SQL per area, and who
acknowledged what.

The rules themselves are gridcore.analytics.alerts; this module only gathers their figures.
Every figure is a grouped count, except the contacts' missed tests: a test schedule depends
on each contact's start, type and end, so the contacts in quarantine are read as plain rows
(id, grid, type, place, dates; no names) and their schedules computed per contact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from gridcore.analytics import alerts as rules
from gridcore.analytics import cases as case_analytics
from gridcore.analytics.alerts import Alert, Place
from gridcore.analytics.stock import CONSUMPTION_DAYS
from gridcore.analytics.testing import elapsed_share
from gridcore.models import (
    OPEN_TASK_STATUSES,
    AlertAcknowledgement,
    Area,
    Case,
    Contact,
    ContactStatus,
    ContactTest,
    Depot,
    Employment,
    ResidentRequest,
    Task,
    Urgency,
    Worker,
)
from gridcore.policy import Policy, load_policy
from gridcore.queries import areas, cases, requests, stock
from gridcore.queries import testing as testing_queries
from gridcore.queries._sql import count_if, select_columns
from gridcore.queries.shared import shared
from gridcore.queries.workforce import worker_grids


@dataclass(frozen=True)
class AlertRow:
    """An alert and, when its present situation has been acknowledged, by whom and when."""

    alert: Alert
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_by is not None


def _grid_places(session: Session) -> dict[int, Place]:
    return {
        int(g["grid_id"]): Place(code=g["code"], name=g["name"], name_zh=g["name_zh"])
        for g in areas.grid_rows(session=session)
    }


def community_positive_counts(
    *, session: Session, today: date, days: int, places: dict[int, Place]
) -> list[rules.Counted]:
    """Per grid: cases found outside quarantine reported in the last `days` days."""
    start = today - timedelta(days=days - 1)
    rows = session.execute(
        select(col(Case.grid_id), func.count(), func.max(col(Case.id)))
        .where(
            cases.counted_cases(),
            cases.community_case(),
            col(Case.reported_date) >= start,
            col(Case.reported_date) <= today,
        )
        .group_by(col(Case.grid_id))
    ).all()
    return [
        rules.Counted(place=places[g], n=int(n), latest_id=int(latest))
        for g, n, latest in rows
        if g in places
    ]


def urgent_overdue_counts(
    *, session: Session, now: datetime, policy: Policy, places: dict[int, Place]
) -> list[rules.Counted]:
    """Per grid: urgent requests open past their target time at `now`."""
    _, overdue = requests.request_open_and_overdue(at=now, policy=policy)
    rows = session.execute(
        select(col(ResidentRequest.grid_id), func.count(), func.max(col(ResidentRequest.id)))
        .where(overdue, col(ResidentRequest.urgency) == Urgency.urgent)
        .group_by(col(ResidentRequest.grid_id))
    ).all()
    return [
        rules.Counted(place=places[g], n=int(n), latest_id=int(latest))
        for g, n, latest in rows
        if g in places
    ]


def round_behind(
    *, session: Session, now: datetime, policy: Policy, places: dict[int, Place]
) -> list[Alert]:
    """The coverage_behind alerts of the open round that has started (none without one)."""
    round_id = testing_queries.current_round_id(session=session, now=now)
    info = (
        testing_queries.round_info(session=session, round_id=round_id)
        if round_id is not None
        else None
    )
    if info is None or info.closed_at is not None or info.start_at > now:
        return []
    progress = testing_queries.grid_progress(session=session, round_id=info.id, now=now)
    figures = [
        rules.GridProgress(
            place=places[grid_id],
            missing=missing,
            coverage=None if math.isnan(coverage) else coverage,
        )
        for grid_id, missing, coverage in zip(
            progress["grid_id"].astype(int).tolist(),
            progress["missing"].astype(int).tolist(),
            progress["coverage"].astype(float).tolist(),
            strict=True,
        )
        if grid_id in places
    ]
    share = elapsed_share(start_at=info.start_at, deadline_at=info.deadline_at, at=now)
    return rules.coverage_behind(
        figures, share=share, lag_points=policy.alert_coverage_lag_points, round_id=info.id
    )


def stock_positions(*, session: Session, now: datetime) -> list[rules.StockPosition]:
    """Every depot and item with stock, minimum and the last 7 days' issues."""
    levels = shared(stock.stock_levels, session=session)
    issued = stock.issued_since(
        session=session, since=now - timedelta(days=CONSUMPTION_DAYS), until=now
    )
    depot_places = {
        int(d): Place(code=code, name=name, name_zh=name_zh)
        for d, code, name, name_zh in session.execute(
            select(col(Depot.id), col(Area.code), col(Area.name), col(Area.name_zh)).join(
                Area, col(Area.id) == col(Depot.area_id)
            )
        )
    }
    return [
        rules.StockPosition(
            place=depot_places[depot_id],
            depot_id=depot_id,
            item_id=item_id,
            stock=level,
            minimum=minimum,
            issued=issued.get((depot_id, item_id), 0),
        )
        for depot_id, item_id, level, minimum in zip(
            levels["depot_id"].astype(int).tolist(),
            levels["item_id"].astype(int).tolist(),
            levels["stock"].astype(int).tolist(),
            levels["min_stock"].astype(int).tolist(),
            strict=True,
        )
        if depot_id in depot_places
    ]


def missed_contact_tests(
    *, session: Session, today: date, policy: Policy, places: dict[int, Place]
) -> list[rules.ContactsMissed]:
    """Per grid: the protocol tests each contact in quarantine has missed by `today`."""
    held = and_(
        col(Contact.status) == ContactStatus.in_quarantine, col(Contact.grid_id).is_not(None)
    )
    tested: dict[int, set[date]] = {}
    for contact_id, day in session.execute(
        select(col(ContactTest.contact_id), col(ContactTest.day))
        .join(Contact, col(Contact.id) == col(ContactTest.contact_id))
        .where(held)
    ):
        tested.setdefault(int(contact_id), set()).add(day)
    missed: dict[int, list[int]] = {}
    # The protocol's test days, once per kind of contact and quarantine: a district's tens of
    # thousands of contacts share a few hundred.
    protocol: dict[tuple[str, date, date], tuple[date, ...]] = {}
    for contact_id, grid_id, kind, start, end in session.execute(
        select_columns(
            col(Contact.id),
            col(Contact.grid_id),
            col(Contact.contact_type),
            col(Contact.start_date),
            col(Contact.planned_end_date),
        ).where(held, col(Contact.start_date) < today)
    ):
        key = (str(kind), start, end)
        if key not in protocol:
            protocol[key] = case_analytics.quarantine_test_days(
                contact_type=key[0], start_date=start, planned_end_date=end, policy=policy
            )
        done = tested.get(int(contact_id), set())
        # Missed: the test days before today without a test (quarantine_schedule's overdue).
        overdue = sum(1 for day in protocol[key] if day < today and day not in done)
        if overdue:
            missed.setdefault(int(grid_id), []).append(overdue)
    return [
        rules.ContactsMissed(place=places[g], missed=tuple(m))
        for g, m in sorted(missed.items())
        if g in places
    ]


def worker_loads(
    *, session: Session, now: datetime, places: dict[int, Place]
) -> list[rules.WorkerLoad]:
    """Open and overdue tasks of every active frontline worker who serves a grid."""
    open_task = col(Task.status).in_(OPEN_TASK_STATUSES)
    rows = session.execute(
        select(
            col(Task.assigned_worker_id),
            func.count(),
            count_if(col(Task.due_at) < now),
        )
        .join(Worker, col(Worker.id) == col(Task.assigned_worker_id))
        .where(
            open_task,
            col(Worker.active).is_(True),
            col(Worker.employment).in_((Employment.full_time, Employment.part_time)),
        )
        .group_by(col(Task.assigned_worker_id))
    ).all()
    grids = shared(worker_grids, session=session)
    return [
        rules.WorkerLoad(
            worker_id=int(worker_id),
            places=tuple(places[g] for g, _, _ in grids.get(int(worker_id), []) if g in places),
            open_tasks=int(n_open),
            overdue_tasks=int(n_overdue),
        )
        for worker_id, n_open, n_overdue in rows
    ]


def acknowledgements(
    *, session: Session, keys: list[str]
) -> dict[tuple[str, str], tuple[str, datetime]]:
    """(alert key, situation) → (who, when) for the acknowledgements of `keys`."""
    if not keys:
        return {}
    rows = session.execute(
        select(
            col(AlertAcknowledgement.alert_key),
            col(AlertAcknowledgement.situation),
            col(AlertAcknowledgement.acknowledged_by),
            col(AlertAcknowledgement.acknowledged_at),
        ).where(col(AlertAcknowledgement.alert_key).in_(keys))
    ).all()
    return {(k, s): (who, at) for k, s, who, at in rows}


def current_alerts(*, session: Session, today: date, now: datetime) -> list[AlertRow]:
    """Every alert standing now, most severe first, with its acknowledgement if any."""
    policy = load_policy(session)
    places = _grid_places(session)
    found: list[Alert] = [
        *rules.community_positives(
            community_positive_counts(
                session=session, today=today, days=policy.alert_community_case_days, places=places
            ),
            days=policy.alert_community_case_days,
        ),
        *rules.urgent_overdue(
            urgent_overdue_counts(session=session, now=now, policy=policy, places=places)
        ),
        *round_behind(session=session, now=now, policy=policy, places=places),
        *rules.stock_short(
            stock_positions(session=session, now=now), cover_days=policy.alert_cover_days
        ),
        *rules.contact_test_missed(
            missed_contact_tests(session=session, today=today, policy=policy, places=places),
            threshold=policy.alert_missed_contact_tests,
        ),
        *rules.worker_overloaded(
            worker_loads(session=session, now=now, places=places),
            score=policy.alert_workload_score,
        ),
    ]
    acks = acknowledgements(session=session, keys=sorted({a.key for a in found}))
    rows = []
    for alert in rules.ordered(found):
        who, at = acks.get((alert.key, alert.situation), (None, None))
        rows.append(AlertRow(alert=alert, acknowledged_by=who, acknowledged_at=at))
    return rows
