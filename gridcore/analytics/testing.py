"""Mass-testing figures: coverage, projected finish, and the staff a round needs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

import pandas as pd

from gridcore.models import HealthStatus
from gridcore.policy import Policy

# Residents in any other health status are exempt from a round (in hospital, isolated, away).
EXPECTED_STATUS: str = HealthStatus.at_home


def coverage(*, sampled: int, expected: int) -> float | None:
    """Sampled ÷ expected, at most 1; None when nobody is expected.

    Capped at 1 because a resident who left home after being sampled is no longer
    expected but stays sampled.
    """
    if expected <= 0:
        return None
    return min(1.0, sampled / expected)


def projected_finish(
    *, start_at: datetime, now: datetime, sampled: int, expected: int
) -> datetime | None:
    """When the round will have sampled everyone at the pace so far; None without a pace.

    Returns `now` when everyone expected is already sampled.
    """
    remaining = expected - sampled
    if remaining <= 0:
        return now
    elapsed_hours = (now - start_at).total_seconds() / 3600
    if sampled <= 0 or elapsed_hours <= 0:
        return None
    per_hour = sampled / elapsed_hours
    return now + timedelta(hours=remaining / per_hour)


def samplers_needed(*, residents: int, policy: Policy) -> int:
    """Samplers for one round-day: residents ÷ residents per sampler, rounded up."""
    return math.ceil(residents / policy.residents_per_sampler)


def desks_needed(*, residents: int, policy: Policy) -> tuple[int, int]:
    """Fewest and most sampling desks the guide asks for (one per 600–800 residents)."""
    return (
        math.ceil(residents / policy.residents_per_desk_max),
        math.ceil(residents / policy.residents_per_desk_min),
    )


# Columns that a per-area progress frame sums; coverage is recomputed from them.
COUNT_COLUMNS: tuple[str, ...] = (
    "expected",
    "sampled",
    "missing",
    "positives",
    "negatives",
    "pending",
    "invalid",
)


@dataclass(frozen=True)
class Progress:
    """One area (grid, community or street) in one round."""

    expected: int
    sampled: int
    missing: int
    coverage: float | None
    positives: int
    negatives: int
    pending: int
    invalid: int


def progress(
    *,
    expected: int,
    sampled: int,
    sampled_exempt: int,
    positives: int,
    negatives: int,
    pending: int,
    invalid: int,
) -> Progress:
    """An area's progress from its counts; `sampled_exempt` are samples of now-exempt people."""
    sampled_expected = min(expected, max(0, sampled - sampled_exempt))
    missing = expected - sampled_expected
    return Progress(
        expected=expected,
        sampled=sampled,
        missing=missing,
        coverage=coverage(sampled=sampled_expected, expected=expected),
        positives=positives,
        negatives=negatives,
        pending=pending,
        invalid=invalid,
    )


def elapsed_share(*, start_at: datetime, deadline_at: datetime, at: datetime) -> float:
    """How much of the round's window has passed at `at`, from 0 (start) to 1 (deadline)."""
    window = (deadline_at - start_at).total_seconds()
    if window <= 0:
        return 1.0
    return min(1.0, max(0.0, (at - start_at).total_seconds() / window))


def behind_schedule(*, missing: int, coverage: float | None, share: float) -> bool:
    """Whether an area is below a straight line from 0 at the start to 100 % at the deadline."""
    if missing <= 0 or coverage is None:
        return False
    return coverage < share


@dataclass(frozen=True)
class Pace:
    """Samples taken recently: `samples` in the `hours` since `since`."""

    samples: int
    hours: float
    per_hour: float | None
    since: datetime


def recent_pace(
    *,
    hourly: Sequence[tuple[datetime, int]],
    start_at: datetime,
    now: datetime,
    window_hours: int = 3,
    tz: tzinfo | None = None,
) -> Pace:
    """Samples per hour in the last `window_hours` clock hours up to `now` (never before start).

    `hourly` holds (start of a clock hour, samples in it); hours that begin after `now`
    are ignored. The window is the current, partial hour and the `window_hours − 1`
    before it, so at 14:30 with the default it runs from 12:00 to 14:30 (2.5 hours).
    Clock hours are those of `tz` (default: the zone of `now`).
    """
    hour_now = now.astimezone(tz or now.tzinfo).replace(minute=0, second=0, microsecond=0)
    window_start = hour_now - timedelta(hours=window_hours - 1)
    since = max(window_start, start_at)
    samples = sum(n for hour, n in hourly if window_start <= hour <= now)
    hours = max(0.0, (now - since).total_seconds() / 3600)
    per_hour = samples / hours if hours > 0 else None
    return Pace(samples=samples, hours=hours, per_hour=per_hour, since=since.astimezone(now.tzinfo))


@dataclass(frozen=True)
class Forecast:
    """When the round will have everyone sampled, and whether that beats its deadline."""

    projected_finish: datetime | None
    on_time: bool | None
    hours_to_deadline: float


def forecast(
    *,
    missing: int,
    pace: Pace,
    now: datetime,
    deadline_at: datetime,
    closed_at: datetime | None = None,
) -> Forecast:
    """The finish at the recent pace (`now` when nobody is missing; None without a pace).

    A closed round has no projection; it was on time when it closed by its deadline.
    """
    hours_left = (deadline_at - now).total_seconds() / 3600
    if closed_at is not None:
        return Forecast(
            projected_finish=None, on_time=closed_at <= deadline_at, hours_to_deadline=hours_left
        )
    # The pace's window, read as a round of its own, projects the same finish.
    finish = projected_finish(
        start_at=pace.since, now=now, sampled=pace.samples, expected=pace.samples + missing
    )
    on_time = None if finish is None else finish <= deadline_at
    return Forecast(projected_finish=finish, on_time=on_time, hours_to_deadline=hours_left)


@dataclass(frozen=True)
class Staffing:
    """Desks and samplers a round needs by the policy ratios, against what it has."""

    residents: int
    desks_min: int
    desks_max: int
    desks: int
    desks_short: int
    samplers_needed: int
    workers: int
    samplers_short: int


def staffing(*, residents: int, desks: int, workers: int, policy: Policy) -> Staffing:
    """Desks (one per 600–800 residents) and samplers (residents ÷ 360 a round-day)."""
    low, high = desks_needed(residents=residents, policy=policy)
    samplers = samplers_needed(residents=residents, policy=policy)
    return Staffing(
        residents=residents,
        desks_min=low,
        desks_max=high,
        desks=desks,
        desks_short=max(0, low - desks),
        samplers_needed=samplers,
        workers=workers,
        samplers_short=max(0, samplers - workers),
    )


def rollup(*, grids: pd.DataFrame, by: str) -> pd.DataFrame:
    """A per-grid progress frame summed per `by`, with coverage recomputed and behind grids counted.

    Columns: `by`, grids, the counts of COUNT_COLUMNS, coverage, behind_grids.
    """
    columns = [by, "grids", *COUNT_COLUMNS, "coverage", "behind_grids"]
    if grids.empty:
        return pd.DataFrame([], columns=columns)
    grouped = grids.groupby(by, sort=True)
    summed = grouped[list(COUNT_COLUMNS)].sum().astype(int)
    summed["grids"] = grouped.size()
    summed["behind_grids"] = grouped["behind"].sum().astype(int)
    summed["coverage"] = [
        _nan(coverage(sampled=e - m, expected=e))
        for e, m in zip(summed["expected"], summed["missing"], strict=True)
    ]
    return summed.reset_index()[columns]


def _nan(value: float | None) -> float:
    return float("nan") if value is None else value
