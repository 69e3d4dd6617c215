"""Per-grid indicators for the maps and the overview: one SQL GROUP BY per subject.

Each counter below returns {grid_id: {column: value}} for the grids that have rows;
`grid_indicator_rows` merges them onto the list of grids (zeros where a counter has
no row) and applies the analytics (coverage, incidence, staffing, risk). The rows
stay plain dicts until the one DataFrame of `grid_metrics` is built: at street scale
the SQL takes ~30 ms, and joining a frame per counter cost as much again.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from gridcore.analytics import epidemic, risk, testing, workforce
from gridcore.analytics.workforce import request_targets
from gridcore.models import (
    OPEN_REQUEST_STATUSES,
    OPEN_TASK_STATUSES,
    Case,
    CaseStatus,
    Contact,
    ContactStatus,
    Employment,
    ResidentRequest,
    Task,
    TestRecord,
    TestRound,
    TestRoundArea,
    Worker,
    WorkerGrid,
    ZoneLevel,
    ZoneOrder,
)
from gridcore.policy import Policy, load_policy
from gridcore.queries import areas
from gridcore.queries._sql import count_if, select_columns

METRIC_COLUMNS: list[str] = [
    "grid_id", "code", "name", "name_zh", "community_code", "households", "residents",
    "new_cases_today", "new_cases_7d", "active_cases", "incidence_7d_per_10k",
    "community_cases_7d", "days_since_community_case", "in_quarantine",
    "latest_round_id", "coverage", "open_requests", "overdue_requests",
    "open_tasks", "overdue_tasks", "full_time_workers", "households_per_worker",
    "understaffed", "zone_level", "risk_level", "risk_reasons",
]  # fmt: skip

# Counter columns that are counts (0 when a grid has no row); the others default to None.
COUNT_COLUMNS: tuple[str, ...] = (
    "households", "residents", "at_home", "new_cases_today", "new_cases_7d", "active_cases",
    "community_cases_7d", "in_quarantine", "contacts_due_today", "open_requests",
    "overdue_requests", "open_tasks", "overdue_tasks", "full_time_workers",
)  # fmt: skip

ZONE_SEVERITY: tuple[str, ...] = (ZoneLevel.sealed, ZoneLevel.controlled, ZoneLevel.precaution)


Counter = dict[int, dict[str, Any]]


def _by_grid(rows: Any, columns: list[str]) -> Counter:
    """{grid_id: {column: value}} from rows of (grid_id, *values)."""
    return {row[0]: dict(zip(columns, row[1:], strict=True)) for row in rows}


def counted_cases() -> Any:
    """The WHERE clause of cases that every figure counts (see analytics.epidemic)."""
    return and_(
        col(Case.kind).in_(epidemic.COUNTED_KINDS), col(Case.status) != epidemic.NOT_COUNTED_STATUS
    )


def community_case() -> Any:
    """Cases found outside quarantine."""
    return col(Case.found_via) != epidemic.QUARANTINE_FOUND


def case_counts(*, session: Session, today: date) -> Counter:
    """Per grid: new cases today and in 7 days, active cases, community cases, last one."""
    week = col(Case.reported_date) >= epidemic.window_start(today=today)
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
    return _by_grid(
        session.exec(stmt).all(),
        ["new_cases_today", "new_cases_7d", "active_cases", "community_cases_7d",
         "last_community_case"],
    )  # fmt: skip


def contact_counts(*, session: Session, today: date) -> Counter:
    """Per grid: contacts in quarantine now, and those of them due to end it today."""
    stmt = (
        select(Contact.grid_id, func.count(), count_if(col(Contact.planned_end_date) == today))
        .where(Contact.status == ContactStatus.in_quarantine, col(Contact.grid_id).is_not(None))
        .group_by(col(Contact.grid_id))
    )
    return _by_grid(session.exec(stmt).all(), ["in_quarantine", "contacts_due_today"])


def request_open_and_overdue(*, at: datetime, policy: Policy) -> tuple[Any, Any]:
    """Conditions for a request open at `at`, and open and past its target at `at`.

    A request counts as open at `at` if it was created before and is open now, or was
    closed at or after `at` (its done_at); one cancelled without a time counts as closed.
    """
    is_open = and_(
        col(ResidentRequest.created_at) < at,
        or_(
            col(ResidentRequest.status).in_(OPEN_REQUEST_STATUSES),
            col(ResidentRequest.done_at) >= at,
        ),
    )
    late = or_(
        *(
            and_(
                col(ResidentRequest.category) == category,
                col(ResidentRequest.urgency) == urgency,
                col(ResidentRequest.created_at) < at - timedelta(hours=hours),
            )
            for (category, urgency), hours in request_targets(policy=policy).items()
        )
    )
    return is_open, and_(is_open, late)


def request_counts(*, session: Session, at: datetime, policy: Policy) -> Counter:
    """Per grid: requests open at `at`, and how many of them were past their target."""
    is_open, overdue = request_open_and_overdue(at=at, policy=policy)
    stmt = (
        select(ResidentRequest.grid_id, func.count(), count_if(overdue))
        .where(is_open)
        .group_by(col(ResidentRequest.grid_id))
    )
    return _by_grid(session.exec(stmt).all(), ["open_requests", "overdue_requests"])


def task_counts(*, session: Session, now: datetime) -> Counter:
    """Per grid: open tasks, and those past their due time."""
    stmt = (
        select(Task.grid_id, func.count(), count_if(col(Task.due_at) < now))
        .where(col(Task.status).in_(OPEN_TASK_STATUSES))
        .group_by(col(Task.grid_id))
    )
    return _by_grid(session.exec(stmt).all(), ["open_tasks", "overdue_tasks"])


def fulltime_workers(*, session: Session) -> Counter:
    """Per grid: active full-time workers assigned to it."""
    stmt = (
        select(WorkerGrid.grid_id, func.count())
        .join(Worker, col(Worker.id) == col(WorkerGrid.worker_id))
        .where(Worker.employment == Employment.full_time, col(Worker.active).is_(True))
        .group_by(col(WorkerGrid.grid_id))
    )
    return _by_grid(session.exec(stmt).all(), ["full_time_workers"])


def grid_zone_orders(*, session: Session, today: date) -> Counter:
    """Per grid: the most severe area order in force today, and since when (its latest start)."""
    stmt = select_columns(ZoneOrder.area_id, ZoneOrder.level, ZoneOrder.start_date).where(
        col(ZoneOrder.area_id).is_not(None),
        col(ZoneOrder.start_date) <= today,
        or_(col(ZoneOrder.end_date).is_(None), col(ZoneOrder.end_date) >= today),
    )
    # Most severe first; within a level, the latest start.
    ordered = sorted(
        session.exec(stmt), key=lambda r: (ZONE_SEVERITY.index(r[1]), -r[2].toordinal())
    )
    best: dict[int, tuple[str, date]] = {}
    for area_id, level, start in ordered:
        if area_id is not None:
            best.setdefault(area_id, (str(level), start))
    return _by_grid(
        ((a, level, start) for a, (level, start) in best.items()), ["zone_level", "zone_since"]
    )


def latest_round_per_grid(*, session: Session, now: datetime) -> Counter:
    """Per grid: the latest round covering it that has started, whether it ended, and sampled."""
    stmt = (
        select_columns(
            TestRoundArea.grid_id,
            TestRound.id,
            TestRound.name,
            TestRound.start_at,
            TestRound.deadline_at,
            TestRound.closed_at,
        )
        .join(TestRound, col(TestRound.id) == col(TestRoundArea.round_id))
        .where(TestRound.start_at <= now)
    )
    latest: dict[int, tuple[Any, ...]] = {}
    for grid_id, round_id, name, start_at, deadline_at, closed_at in session.exec(stmt):
        if grid_id not in latest or (start_at, round_id) > latest[grid_id][:2]:
            ended = deadline_at <= now or (closed_at is not None and closed_at <= now)
            latest[grid_id] = (start_at, round_id, name, ended)
    round_ids = {v[1] for v in latest.values()}
    sampled = {
        (r, g): n
        for r, g, n in session.exec(
            select(TestRecord.round_id, TestRecord.grid_id, func.count())
            .where(col(TestRecord.round_id).in_(round_ids))
            .group_by(col(TestRecord.round_id), col(TestRecord.grid_id))
        )
    }
    return _by_grid(
        ((g, r, name, ended, sampled.get((r, g), 0)) for g, (_, r, name, ended) in latest.items()),
        ["latest_round_id", "round_name", "round_ended", "sampled"],
    )


def grid_indicator_rows(*, session: Session, today: date, now: datetime) -> list[dict[str, Any]]:
    """Everything known per grid, one dict per grid in code order.

    The keys are the columns of grid_metrics and these working ones: at_home,
    last_community_case, contacts_due_today, round_name, round_ended, sampled,
    zone_since, quiet_days, stepdown_days_left.
    """
    policy = load_policy(session)
    counters = [
        {g: {"households": n} for g, n in areas.household_counts(session=session).items()},
        {
            g: {"residents": n, "at_home": home}
            for g, (n, home) in areas.resident_counts(session=session).items()
        },
        case_counts(session=session, today=today),
        contact_counts(session=session, today=today),
        request_counts(session=session, at=now, policy=policy),
        task_counts(session=session, now=now),
        fulltime_workers(session=session),
        latest_round_per_grid(session=session, now=now),
        grid_zone_orders(session=session, today=today),
    ]
    defaults: dict[str, Any] = {
        "last_community_case": None, "latest_round_id": None, "round_name": None,
        "round_ended": False, "sampled": None, "zone_level": "", "zone_since": None,
        **dict.fromkeys(COUNT_COLUMNS, 0),
    }  # fmt: skip
    rows = []
    for grid in areas.grid_rows(session=session):
        row = {**grid, **defaults}
        for counter in counters:
            row.update(counter.get(grid["grid_id"], {}))
        row.update(_derive(row, today=today, policy=policy))
        rows.append(row)
    return rows


def _nan(value: float | int | None) -> float:
    return np.nan if value is None else float(value)


def _derive(row: dict[str, Any], *, today: date, policy: Policy) -> dict[str, Any]:
    """The analytics of one grid row."""
    last_case = row["last_community_case"]
    incidence = epidemic.incidence_per_10k(cases=row["new_cases_7d"], population=row["residents"])
    sampled = row["sampled"]
    coverage = (
        testing.coverage(sampled=sampled, expected=row["at_home"]) if sampled is not None else None
    )
    zone_since = row["zone_since"]
    quiet = (
        epidemic.quiet_days(order_start=zone_since, last_case_day=last_case, today=today)
        if zone_since is not None
        else None
    )
    assessed = risk.assess_grid_risk(
        zone_level=row["zone_level"],
        community_cases_7d=row["community_cases_7d"],
        new_cases_7d=row["new_cases_7d"],
        incidence_7d_per_10k=incidence,
        active_cases=row["active_cases"],
        coverage=coverage,
        round_name=row["round_name"],
        round_ended=row["round_ended"],
        overdue_requests=row["overdue_requests"],
        households=row["households"],
        full_time_workers=row["full_time_workers"],
        policy=policy,
    )
    return {
        "incidence_7d_per_10k": _nan(incidence),
        "days_since_community_case": _nan(epidemic.days_since(last_day=last_case, today=today)),
        "coverage": _nan(coverage),
        "households_per_worker": _nan(
            workforce.households_per_worker(
                households=row["households"], full_time_workers=row["full_time_workers"]
            )
        ),
        "understaffed": workforce.understaffed(
            households=row["households"],
            full_time_workers=row["full_time_workers"],
            policy=policy,
        ),
        "risk_level": assessed.level,
        "risk_reasons": assessed.reasons,
        "quiet_days": quiet,
        "stepdown_days_left": (
            epidemic.stepdown_days_left(level=row["zone_level"], quiet_days=quiet, policy=policy)
            if quiet is not None
            else None
        ),
    }


def grid_metrics(*, session: Session, today: date, now: datetime) -> pd.DataFrame:
    """One row per grid with today's figures, its risk level and the reasons for it."""
    rows = grid_indicator_rows(session=session, today=today, now=now)
    frame = pd.DataFrame(rows, columns=METRIC_COLUMNS)
    frame["latest_round_id"] = frame["latest_round_id"].astype("Int64")
    return frame
