"""The Command overview: headline figures against yesterday, the daily trend, what needs attention.

"Previous" figures are as they stood at the end of yesterday (local midnight):

- new cases, new cases outside quarantine: yesterday's counts;
- active cases: cases reported by yesterday that are active now (a case records no
  recovery date, so one that recovered today is not counted back);
- in quarantine: contacts whose planned quarantine covered yesterday (as in the trend);
- coverage: the round that had started by then, counting samples taken before midnight;
- open / overdue requests: from created_at and done_at (see metrics.request_open_and_overdue);
- supplies below minimum: the ledger up to midnight;
- understaffed grids: None — assignments keep no history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from gridcore.analytics import testing, workforce
from gridcore.analytics.risk import LOW, NORMAL, Reason, counted_reason, level_rank
from gridcore.config import day_bounds_utc, get_settings
from gridcore.models import (
    Case,
    CaseStatus,
    Contact,
    ContactStatus,
    Depot,
    DepotLevel,
    TestRecord,
    TestRound,
    TestRoundArea,
)
from gridcore.policy import Policy, load_policy
from gridcore.queries import areas, metrics
from gridcore.queries._sql import count_if, select_columns

TREND_COLUMNS: list[str] = [
    "day",
    "new_cases",
    "outside_quarantine",
    "in_quarantine",
    "active_cases",
]


@dataclass(frozen=True)
class Figure:
    """A headline figure now, and as it stood at the end of yesterday (None: unknown)."""

    value: float | None
    previous: float | None


@dataclass(frozen=True)
class Headline:
    """The overview's headline figures."""

    new_cases: Figure
    new_cases_outside_quarantine: Figure
    active_cases: Figure
    in_quarantine: Figure
    latest_round_coverage: Figure
    open_requests: Figure
    overdue_requests: Figure
    supplies_below_min: Figure
    understaffed_grids: Figure
    latest_round_name: str | None


@dataclass(frozen=True)
class Attention:
    """A grid that needs a decision or a look, with why; severity is a risk level."""

    grid_code: str
    grid_name: str
    grid_name_zh: str | None
    severity: str
    reasons: list[Reason] = field(default_factory=list)


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
    for first, last, n in session.exec(stmt):
        day = max(first, start)
        while day <= min(last, end):
            days[day] += n
            day += timedelta(days=1)
    return days


def daily_trend(*, session: Session, start: date, end: date) -> pd.DataFrame:
    """One row per day from `start` to `end`: new cases, outside quarantine, contacts, active."""
    if end < start:
        return pd.DataFrame([], columns=TREND_COLUMNS)
    counted = metrics.counted_cases()
    new = {
        day: (n, outside)
        for day, n, outside in session.exec(
            select(col(Case.reported_date), func.count(), count_if(metrics.community_case()))
            .where(counted, col(Case.reported_date) >= start, col(Case.reported_date) <= end)
            .group_by(col(Case.reported_date))
        )
    }
    # Active cases on a day: reported by then and still active (no recovery date is kept).
    active_by_day: dict[date, int] = dict(
        session.exec(
            select(col(Case.reported_date), func.count())
            .where(counted, col(Case.status) == CaseStatus.active, col(Case.reported_date) <= end)
            .group_by(col(Case.reported_date))
        ).all()
    )
    active = sum(n for day, n in active_by_day.items() if day < start)
    in_quarantine = quarantine_per_day(session=session, start=start, end=end)
    rows = []
    for day, contacts in in_quarantine.items():
        active += active_by_day.get(day, 0)
        n, outside = new.get(day, (0, 0))
        rows.append((day, n, outside, contacts, active))
    return pd.DataFrame(rows, columns=TREND_COLUMNS)


def _round_coverage(
    session: Session,
    *,
    started_by: datetime,
    sampled_before: datetime | None,
    at_home: dict[int, int],
) -> tuple[str | None, float | None]:
    """Name and coverage of the latest round started by `started_by` (None, None if none).

    `at_home` is residents at home per grid (expected at a round), counted once by the caller.
    """
    round_id = areas.latest_round_id(session=session, at=started_by)
    if round_id is None:
        return None, None
    test_round = session.get(TestRound, round_id)
    round_grids = session.exec(
        select(TestRoundArea.grid_id).where(TestRoundArea.round_id == round_id)
    ).all()
    expected = sum(at_home.get(grid_id, 0) for grid_id in round_grids)
    sampled_stmt = select(func.count()).where(TestRecord.round_id == round_id)
    if sampled_before is not None:
        sampled_stmt = sampled_stmt.where(col(TestRecord.sampled_at) < sampled_before)
    sampled = session.exec(sampled_stmt).one()
    name = test_round.name if test_round else None
    return name, testing.coverage(sampled=sampled, expected=expected)


def _understaffed_grids(session: Session, policy: Policy) -> int:
    households = areas.household_counts(session=session)
    workers = metrics.fulltime_workers(session=session)
    return sum(
        workforce.understaffed(
            households=households.get(grid["grid_id"], 0),
            full_time_workers=workers.get(grid["grid_id"], {}).get("full_time_workers", 0),
            policy=policy,
        )
        for grid in areas.grid_rows(session=session)
    )


def headline(*, session: Session, today: date, now: datetime) -> Headline:
    """Today's headline figures, each with its value at the end of yesterday."""
    yesterday = today - timedelta(days=1)
    midnight = day_bounds_utc(today, get_settings().tz)[0]
    reported = col(Case.reported_date)
    community = metrics.community_case()
    active = col(Case.status) == CaseStatus.active
    cases = session.exec(
        select_columns(
            count_if(reported == today),
            count_if(reported == yesterday),
            count_if(and_(reported == today, community)),
            count_if(and_(reported == yesterday, community)),
            count_if(and_(active, reported <= today)),
            count_if(and_(active, reported <= yesterday)),
        ).where(metrics.counted_cases())
    ).one()
    in_quarantine_now = session.exec(
        select(func.count()).where(Contact.status == ContactStatus.in_quarantine)
    ).one()
    in_quarantine_before = quarantine_per_day(session=session, start=yesterday, end=yesterday)
    at_home = {g: home for g, (_, home) in areas.resident_counts(session=session).items()}
    round_name, coverage_now = _round_coverage(
        session, started_by=now, sampled_before=None, at_home=at_home
    )
    # Compared with the same round at midnight: a round that started today has no
    # "yesterday" (the previous round's final figure would read as a fall).
    coverage_before = None
    if areas.latest_round_id(session=session, at=now) == areas.latest_round_id(
        session=session, at=midnight
    ):
        _, coverage_before = _round_coverage(
            session, started_by=midnight, sampled_before=midnight, at_home=at_home
        )
    policy = load_policy(session)
    open_now, overdue_now = metrics.request_open_and_overdue(at=now, policy=policy)
    open_before, overdue_before = metrics.request_open_and_overdue(at=midnight, policy=policy)
    requests = session.exec(
        select(
            count_if(open_now), count_if(overdue_now), count_if(open_before),
            count_if(overdue_before),
        )
    ).one()  # fmt: skip
    stock_now, stock_before = areas.stock_levels_at(session=session, moments=[now, midnight])
    return Headline(
        new_cases=Figure(cases[0], cases[1]),
        new_cases_outside_quarantine=Figure(cases[2], cases[3]),
        active_cases=Figure(cases[4], cases[5]),
        in_quarantine=Figure(in_quarantine_now, in_quarantine_before[yesterday]),
        latest_round_coverage=Figure(coverage_now, coverage_before),
        open_requests=Figure(requests[0], requests[2]),
        overdue_requests=Figure(requests[1], requests[3]),
        supplies_below_min=Figure(
            int(stock_now["below_min"].sum()), int(stock_before["below_min"].sum())
        ),
        understaffed_grids=Figure(_understaffed_grids(session, policy), None),
        latest_round_name=round_name,
    )


def _grid_depot_shortages(session: Session, now: datetime) -> dict[int, list[tuple[str, int]]]:
    """Per grid: (depot name, items below minimum) of its grid-level depots that are short."""
    short = areas.items_below_min(areas.stock_levels(session=session, at=now))
    grid_depots = session.exec(
        select(Depot.id, Depot.name, Depot.area_id)
        .where(Depot.level == DepotLevel.grid)
        .order_by(col(Depot.id))
    )
    found: dict[int, list[tuple[str, int]]] = {}
    for depot_id, name, area_id in grid_depots:
        n = short.get(depot_id or 0, 0)
        if n:
            found.setdefault(area_id, []).append((name, n))
    return found


def needs_attention(
    *, session: Session, today: date, now: datetime, limit: int = 8
) -> list[Attention]:
    """Grids to look at, most urgent first: their risk reasons, then decisions due today.

    Decisions due: an order that may step down, contacts whose quarantine ends today,
    a grid depot below minimum stock. A grid of normal risk with a decision due is 'low'.
    Order: severity, then community cases in 7 days, active cases, overdue requests, code.
    """
    shortages = _grid_depot_shortages(session, now)
    items: list[tuple[tuple[int, int, int, int, str], Attention]] = []
    for row in metrics.grid_indicator_rows(session=session, today=today, now=now):
        due: list[Reason] = []
        if row["stepdown_days_left"] == 0:
            due.append(
                Reason(f"reason.stepdown_{row['zone_level']}", {"days": int(row["quiet_days"])})
            )
        if row["contacts_due_today"]:
            due.append(counted_reason("reason.contacts_end_today", row["contacts_due_today"]))
        for depot, n in shortages.get(row["grid_id"], []):
            due.append(counted_reason("reason.supplies_below_min", n, depot=depot))
        severity = row["risk_level"] if row["risk_level"] != NORMAL else (LOW if due else NORMAL)
        if severity == NORMAL:
            continue
        key = (
            level_rank(severity),
            -row["community_cases_7d"],
            -row["active_cases"],
            -row["overdue_requests"],
            row["code"],
        )
        attention = Attention(
            grid_code=row["code"],
            grid_name=row["name"],
            grid_name_zh=row["name_zh"] if isinstance(row["name_zh"], str) else None,
            severity=severity,
            reasons=[*row["risk_reasons"], *due],
        )
        items.append((key, attention))
    items.sort(key=lambda pair: pair[0])
    return [attention for _, attention in items[:limit]]
