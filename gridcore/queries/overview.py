"""The Command overview: headline figures against yesterday, the daily trend, what needs attention.

"Previous" figures are as they stood at the end of yesterday (local midnight):

- new cases, new cases outside quarantine: yesterday's counts;
- active cases: cases reported by yesterday that are active now (a case records no
  recovery date, so one that recovered today is not counted back);
- in quarantine: contacts whose planned quarantine covered yesterday (as in the trend);
- coverage: the round that had started by then, counting samples taken before midnight;
- open / overdue requests: from created_at and done_at (see requests.request_open_and_overdue);
- supplies below minimum: the ledger up to midnight;
- understaffed grids: None — assignments keep no history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from gridcore.analytics import cases as case_analytics
from gridcore.analytics import risk, testing, workforce, zones
from gridcore.analytics.overview import AttentionFacts, attention_order
from gridcore.analytics.risk import LOW, NORMAL, Reason, counted_reason
from gridcore.config import day_bounds_utc, get_settings
from gridcore.i18n import Named
from gridcore.models import (
    Case,
    CaseStatus,
    Contact,
    ContactStatus,
)
from gridcore.policy import DEFAULT_POLICY, Policy, load_policy
from gridcore.queries import areas, cases, requests, stock
from gridcore.queries import testing as testing_queries
from gridcore.queries._sql import count_if, select_columns
from gridcore.queries.cases import case_counts, contact_counts, quarantine_per_day
from gridcore.queries.requests import request_counts
from gridcore.queries.shared import shared
from gridcore.queries.stock import grid_depot_shortages
from gridcore.queries.tasks import task_counts
from gridcore.queries.testing import latest_round_coverage, latest_round_per_grid
from gridcore.queries.workforce import fulltime_workers, understaffed_grid_count
from gridcore.queries.zones import grid_zone_orders

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
    latest_round_name: Named | None
    # The policy's staffing standard (households per full-time worker), shown with its target.
    staffing_standard: int = DEFAULT_POLICY.households_per_fulltime_worker


@dataclass(frozen=True)
class Attention:
    """A grid that needs a decision or a look, with why; severity is a risk level."""

    grid_code: str
    grid_name: str
    grid_name_zh: str | None
    severity: str
    reasons: list[Reason] = field(default_factory=list)


def daily_trend(*, session: Session, start: date, end: date) -> pd.DataFrame:
    """One row per day from `start` to `end`: new cases, outside quarantine, contacts, active."""
    if end < start:
        return pd.DataFrame([], columns=TREND_COLUMNS)
    counted = cases.counted_cases()
    new = {
        day: (n, outside)
        for day, n, outside in session.exec(
            select(col(Case.reported_date), func.count(), count_if(cases.community_case()))
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


def headline(*, session: Session, today: date, now: datetime) -> Headline:
    """Today's headline figures, each with its value at the end of yesterday."""
    yesterday = today - timedelta(days=1)
    midnight = day_bounds_utc(today, get_settings().tz)[0]
    reported = col(Case.reported_date)
    community = cases.community_case()
    active = col(Case.status) == CaseStatus.active
    case_row = session.exec(
        select_columns(
            count_if(reported == today),
            count_if(reported == yesterday),
            count_if(and_(reported == today, community)),
            count_if(and_(reported == yesterday, community)),
            count_if(and_(active, reported <= today)),
            count_if(and_(active, reported <= yesterday)),
        ).where(cases.counted_cases())
    ).one()
    in_quarantine_now = session.exec(
        select(func.count()).where(Contact.status == ContactStatus.in_quarantine)
    ).one()
    in_quarantine_before = quarantine_per_day(session=session, start=yesterday, end=yesterday)
    at_home = {g: home for g, (_, home) in areas.resident_counts(session=session).items()}
    round_name, coverage_now = latest_round_coverage(
        session, started_by=now, sampled_before=None, at_home=at_home
    )
    # Compared with the same round at midnight: a round that started today has no
    # "yesterday" (the previous round's final figure would read as a fall).
    coverage_before = None
    if testing_queries.latest_round_id(session=session, at=now) == testing_queries.latest_round_id(
        session=session, at=midnight
    ):
        _, coverage_before = latest_round_coverage(
            session, started_by=midnight, sampled_before=midnight, at_home=at_home
        )
    policy = load_policy(session)
    open_now, overdue_now = requests.request_open_and_overdue(at=now, policy=policy)
    open_before, overdue_before = requests.request_open_and_overdue(at=midnight, policy=policy)
    request_row = session.exec(
        select(
            count_if(open_now), count_if(overdue_now), count_if(open_before),
            count_if(overdue_before),
        )
    ).one()  # fmt: skip
    stock_now = shared(stock.stock_levels, session=session)
    stock_before = stock.stock_levels(session=session, at=midnight)
    return Headline(
        new_cases=Figure(case_row[0], case_row[1]),
        new_cases_outside_quarantine=Figure(case_row[2], case_row[3]),
        active_cases=Figure(case_row[4], case_row[5]),
        in_quarantine=Figure(in_quarantine_now, in_quarantine_before[yesterday]),
        latest_round_coverage=Figure(coverage_now, coverage_before),
        open_requests=Figure(request_row[0], request_row[2]),
        overdue_requests=Figure(request_row[1], request_row[3]),
        supplies_below_min=Figure(
            int(stock_now["below_min"].sum()), int(stock_before["below_min"].sum())
        ),
        understaffed_grids=Figure(understaffed_grid_count(session, policy), None),
        latest_round_name=round_name,
        staffing_standard=policy.households_per_fulltime_worker,
    )


def needs_attention(
    *, session: Session, today: date, now: datetime, limit: int = 8
) -> list[Attention]:
    """Grids to look at, most urgent first: their risk reasons, then decisions due today.

    Decisions due: an order that may step down, contacts whose quarantine ends today,
    a grid depot below minimum stock. A grid of normal risk with a decision due is 'low'.
    Order: what to do first (analytics.overview.attention_order).
    """
    rows = grid_indicator_rows(session=session, today=today, now=now)
    return _attention(session, rows, now=now)[:limit]


def _attention(session: Session, rows: list[dict[str, Any]], *, now: datetime) -> list[Attention]:
    """needs_attention's whole list, from the grid rows already read."""
    shortages = grid_depot_shortages(session, now)
    facts: list[AttentionFacts] = []
    found: dict[str, Attention] = {}
    for row in rows:
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
        facts.append(
            AttentionFacts(
                code=row["code"],
                severity=severity,
                community_cases_7d=row["community_cases_7d"],
                overdue_requests=row["overdue_requests"],
                due_today=len(due),
                active_cases=row["active_cases"],
            )
        )
        found[row["code"]] = Attention(
            grid_code=row["code"],
            grid_name=row["name"],
            grid_name_zh=row["name_zh"] if isinstance(row["name_zh"], str) else None,
            severity=severity,
            reasons=[*row["risk_reasons"], *due],
        )
    return [found[f.code] for f in attention_order(facts)]


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
        shared(latest_round_per_grid, session=session, now=now),
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
    incidence = case_analytics.incidence_per_10k(
        cases=row["new_cases_7d"], population=row["residents"]
    )
    sampled = row["sampled"]
    coverage = (
        testing.coverage(sampled=sampled, expected=row["at_home"]) if sampled is not None else None
    )
    zone_since = row["zone_since"]
    quiet = (
        zones.quiet_days(order_start=zone_since, last_case_day=last_case, today=today)
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
        "days_since_community_case": _nan(
            case_analytics.days_since(last_day=last_case, today=today)
        ),
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
            zones.stepdown_days_left(level=row["zone_level"], quiet_days=quiet, policy=policy)
            if quiet is not None
            else None
        ),
    }


def grid_metrics(*, session: Session, today: date, now: datetime) -> pd.DataFrame:
    """One row per grid with today's figures, its risk level and the reasons for it."""
    return _metrics_frame(grid_indicator_rows(session=session, today=today, now=now))


@dataclass(frozen=True)
class GridOverview:
    """grid_metrics and the whole needs_attention list, read together: a dashboard showing
    both reads the grids' figures once."""

    metrics: pd.DataFrame
    attention: list[Attention]


def grid_overview(*, session: Session, today: date, now: datetime) -> GridOverview:
    rows = grid_indicator_rows(session=session, today=today, now=now)
    return GridOverview(metrics=_metrics_frame(rows), attention=_attention(session, rows, now=now))


def _metrics_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=METRIC_COLUMNS)
    frame["latest_round_id"] = frame["latest_round_id"].astype("Int64")
    return frame
