"""Mass-testing rounds as command and the sampling desks see them.

Counts are aggregated in SQL, per grid through the (round_id, grid_id) index of the test
records; communities and the street are sums of their grids (gridcore.analytics.testing).
Functions that return residents' names or phones take the `actor` and mask them through
gridcore.access. One meaning everywhere:

- in scope: the grids of the round; expected: their residents at home now (in hospital,
  central isolation and away are exempt; health status keeps no history);
- sampled: the round's records in those grids; missing: expected residents without a
  record (the roll call's rows), missing = expected − (sampled − sampled_exempt);
- coverage: (expected − missing) ÷ expected; elapsed share at m: (m − start) ÷ (deadline −
  start), clamped to 0..1; a grid is behind when someone is missing and coverage < share;
- recent pace: samples in the last 3 local clock hours (never before the start) per hour;
  projected finish: now + missing ÷ pace (None when the pace is 0 or the round is closed);
- staffing: desks ceil(expected ÷ 800)…ceil(expected ÷ 600), samplers ceil(expected ÷ 360)
  (policy ratios), against the sites' desks and the active workers serving the grids.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import String, and_, case, exists, func, literal, or_, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from gridcore.access import FLAT, KIOSK, NAME, PHONE, TEXT, YEAR, Actor, mask_personal, personal
from gridcore.analytics.testing import (
    EXPECTED_STATUS,
    Forecast,
    Pace,
    Progress,
    Staffing,
    behind_schedule,
    coverage,
    elapsed_share,
    forecast,
    progress,
    recent_pace,
    rollup,
    staffing,
)
from gridcore.config import get_settings
from gridcore.i18n import Named, display_names
from gridcore.models import (
    OPEN_TASK_STATUSES,
    Area,
    AreaLevel,
    Building,
    Case,
    CaseStatus,
    HealthStatus,
    Household,
    Resident,
    RoundSiteHour,
    SamplingMethod,
    Task,
    TaskKind,
    TestRecord,
    TestResult,
    TestRound,
    TestRoundArea,
    TestSite,
    Worker,
    WorkerGrid,
    utcnow,
)
from gridcore.policy import load_policy
from gridcore.queries._sql import (
    Counter,
    by_grid,
    count_if,
    dialect_name,
    local_date,
    select_columns,
)
from gridcore.queries.areas import grid_rows, resident_counts
from gridcore.queries.counters import epoch_hour, grid_counts, hour_start, round_grid_results
from gridcore.queries.residents import search_condition, vulnerabilities_in_grid
from gridcore.queries.shared import shared

ROUND_COLUMNS: list[str] = [
    "round_id", "name", "start_at", "deadline_at", "closed_at", "status", "grids", "name_zh",
]  # fmt: skip
GRID_PROGRESS_COLUMNS: list[str] = [
    "grid_id", "code", "name", "name_zh", "community_id", "community_code", "community_name",
    "community_name_zh", "center_lng", "center_lat", "expected", "sampled", "missing",
    "coverage", "positives", "negatives", "pending", "invalid", "behind",
]  # fmt: skip
COMMUNITY_PROGRESS_COLUMNS: list[str] = [
    "community_id", "code", "name", "name_zh", "grids", "expected", "sampled", "missing",
    "coverage", "positives", "negatives", "pending", "invalid", "behind_grids",
]  # fmt: skip
THROUGHPUT_COLUMNS: list[str] = [
    "site_id", "site_name", "method", "hour", "sampled", "hourly_capacity", "site_name_zh",
]  # fmt: skip
SITE_COLUMNS: list[str] = [
    "site_id", "name", "area_id", "lng", "lat", "hourly_capacity", "desks", "sampled", "name_zh",
]  # fmt: skip
ROUND_TREND_COLUMNS: list[str] = [
    "round_id", "name", "start_at", "status", "expected", "sampled",
    "coverage_6h", "coverage_12h", "coverage_24h", "coverage_final", "name_zh",
]  # fmt: skip
POSITIVE_COLUMNS: list[str] = [
    "round_id", "name", "start_at", "sampled", "positives", "negatives", "pending", "invalid",
    "positives_per_10k", "name_zh",
]  # fmt: skip
ROLL_CALL_COLUMNS: list[str] = [
    "resident_id", "building_id", "building", "household_id", "unit", "name", "phone",
    "birth_year", "sex", "vulnerability", "household_missing", "door_to_door_task",
    "building_zh",
]  # fmt: skip
SEARCH_COLUMNS: list[str] = [
    "resident_id", "name", "phone", "id_suffix", "grid_id", "grid_code", "building", "unit",
    "health_status", "exempt", "sampled", "record_id", "sampled_at", "building_zh",
]  # fmt: skip
UNHANDLED_COLUMNS: list[str] = [
    "record_id", "round_id", "round_name", "resident_id", "name", "grid_id", "grid_code",
    "sampled_at", "result_at", "round_name_zh",
]  # fmt: skip

# Hours after a round's start at which the trend over rounds reads its coverage.
CHECKPOINT_HOURS: tuple[int, ...] = (6, 12, 24)
# Clock hours whose samples make the recent pace that projects a round's finish.
PACE_HOURS = 3
OPEN, CLOSED = "open", "closed"
# The stored type of a sample's time, so that literal times compare as stored ones do.
_SAMPLED_AT_TYPE = sa_inspect(TestRecord).columns["sampled_at"].type


# --------------------------------------------------------------------------- rounds


@dataclass(frozen=True)
class RoundInfo:
    """One round: its window, whether it is closed, and the grids in its scope."""

    id: int
    name: str
    start_at: datetime
    deadline_at: datetime
    closed_at: datetime | None
    status: str
    grid_ids: tuple[int, ...]
    name_zh: str | None = None


def _status(closed_at: datetime | None) -> str:
    return OPEN if closed_at is None else CLOSED


def rounds(*, session: Session) -> pd.DataFrame:
    """Every round, newest start first, with its status and how many grids it covers."""
    in_scope = (
        select(col(TestRoundArea.round_id), func.count().label("grids"))
        .group_by(col(TestRoundArea.round_id))
        .subquery()
    )
    rows = session.execute(
        select(
            col(TestRound.id),
            col(TestRound.name),
            col(TestRound.start_at),
            col(TestRound.deadline_at),
            col(TestRound.closed_at),
            func.coalesce(in_scope.c.grids, 0),
            col(TestRound.name_zh),
        )
        .outerjoin(in_scope, in_scope.c.round_id == col(TestRound.id))
        .order_by(col(TestRound.start_at).desc(), col(TestRound.id).desc())
    ).all()
    records = [(r[0], r[1], r[2], r[3], r[4], _status(r[4]), int(r[5]), r[6]) for r in rows]
    return pd.DataFrame(records, columns=ROUND_COLUMNS)


def round_info(*, session: Session, round_id: int) -> RoundInfo | None:
    """The round `round_id` with the grids in its scope; None when there is no such round."""
    found = session.get(TestRound, round_id)
    if found is None:
        return None
    grid_ids = session.execute(
        select(col(TestRoundArea.grid_id))
        .where(col(TestRoundArea.round_id) == round_id)
        .order_by(col(TestRoundArea.grid_id))
    ).scalars()
    return RoundInfo(
        id=round_id,
        name=found.name,
        start_at=found.start_at,
        deadline_at=found.deadline_at,
        closed_at=found.closed_at,
        status=_status(found.closed_at),
        grid_ids=tuple(int(g) for g in grid_ids),
        name_zh=found.name_zh,
    )


def round_infos(*, session: Session) -> dict[int, RoundInfo]:
    """Every round by id, with the grids in its scope (what imports and exports check against)."""
    scope: dict[int, list[int]] = {}
    for round_id, grid_id in session.execute(
        select(col(TestRoundArea.round_id), col(TestRoundArea.grid_id)).order_by(
            col(TestRoundArea.round_id), col(TestRoundArea.grid_id)
        )
    ):
        scope.setdefault(int(round_id), []).append(int(grid_id))
    rows = session.execute(
        select(
            col(TestRound.id),
            col(TestRound.name),
            col(TestRound.start_at),
            col(TestRound.deadline_at),
            col(TestRound.closed_at),
            col(TestRound.name_zh),
        )
    ).all()
    return {
        int(r[0]): RoundInfo(
            id=int(r[0]),
            name=r[1],
            start_at=r[2],
            deadline_at=r[3],
            closed_at=r[4],
            status=_status(r[4]),
            grid_ids=tuple(scope.get(int(r[0]), ())),
            name_zh=r[5],
        )
        for r in rows
    }


class RoundNotFound(Exception):
    """A round reference names no round, or several; `key` and `params` say which (i18n)."""

    def __init__(self, key: str, **params: Any):
        super().__init__(key)
        self.key = key
        self.params = params


def round_named(*, ref: str, rounds: Mapping[int, RoundInfo]) -> int:
    """The id of the round `ref` names in `rounds` (an id, else a name in either language);
    else RoundNotFound."""
    value = ref.strip()
    if value.isascii() and value.isdigit() and int(value) in rounds:
        return int(value)
    found = sorted(
        i for i, r in rounds.items() if value in {r.name.strip(), (r.name_zh or "").strip()}
    )
    if len(found) == 1:
        return found[0]
    if found:
        raise RoundNotFound("io.error.ambiguous_round", round=value, ids=", ".join(map(str, found)))
    raise RoundNotFound("io.error.unknown_round", round=value)


def resolve_round(*, session: Session, ref: str) -> int:
    """The id of the round named by `ref` (its id or its name); RoundNotFound if none or several."""
    return round_named(ref=ref, rounds=round_infos(session=session))


def round_choices(*, session: Session, lang: str = "en") -> list[tuple[int, str]]:
    """(id, name in `lang`) of every round, the latest start first (for a round picker)."""
    frame = rounds(session=session)
    return [(int(i), n) for i, n in zip(frame["round_id"], display_names(frame, lang), strict=True)]


def current_round_id(*, session: Session, now: datetime | None = None) -> int | None:
    """The round a page shows first.

    The open round that started last by `now`; else the open round that starts soonest;
    else the round that started last; None when there is no round at all.
    """
    now = now or utcnow()
    is_open = col(TestRound.closed_at).is_(None)
    started = col(TestRound.start_at) <= now
    newest = (col(TestRound.start_at).desc(), col(TestRound.id).desc())
    for stmt in (
        select(col(TestRound.id)).where(is_open, started).order_by(*newest),
        select(col(TestRound.id))
        .where(is_open)
        .order_by(col(TestRound.start_at), col(TestRound.id)),
        select(col(TestRound.id)).order_by(*newest),
    ):
        found = session.execute(stmt.limit(1)).scalar()
        if found is not None:
            return int(found)
    return None


# --------------------------------------------------------------------------- progress


def _at_home(session: Session) -> dict[int, int]:
    """Residents at home (expected at a round) per grid, from the grids' counters."""
    return {g: counts["at_home"] for g, counts in shared(grid_counts, session=session).items()}


def _grid_progress(session: Session, info: RoundInfo) -> dict[int, Progress]:
    """Progress of every grid in the round's scope, from the round's and grids' counters."""
    at_home = _at_home(session)
    counted = round_grid_results(session=session, round_id=info.id)
    figures: dict[int, Progress] = {}
    for grid_id in info.grid_ids:
        results, exempt = counted.get((info.id, grid_id), ((0, 0, 0, 0, 0), 0))
        sampled, positives, negatives, pending, invalid = results
        figures[grid_id] = progress(
            expected=at_home.get(grid_id, 0),
            sampled=sampled,
            sampled_exempt=exempt,
            positives=positives,
            negatives=negatives,
            pending=pending,
            invalid=invalid,
        )
    return figures


def _share(info: RoundInfo, now: datetime) -> float:
    """The elapsed share of the round's window at `now` (or when it closed, if earlier)."""
    at = now if info.closed_at is None else min(now, info.closed_at)
    return elapsed_share(start_at=info.start_at, deadline_at=info.deadline_at, at=at)


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


def _grid_frame(session: Session, info: RoundInfo, now: datetime) -> pd.DataFrame:
    """The per-grid progress table of a round, unsorted."""
    figures = _grid_progress(session, info)
    share = _share(info, now)
    records = []
    for grid in grid_rows(session=session):
        figure = figures.get(grid["grid_id"])
        if figure is None:
            continue
        records.append(
            {
                **grid,
                "expected": figure.expected,
                "sampled": figure.sampled,
                "missing": figure.missing,
                "coverage": _nan(figure.coverage),
                "positives": figure.positives,
                "negatives": figure.negatives,
                "pending": figure.pending,
                "invalid": figure.invalid,
                "behind": behind_schedule(
                    missing=figure.missing, coverage=figure.coverage, share=share
                ),
            }
        )
    return pd.DataFrame(records, columns=GRID_PROGRESS_COLUMNS)


def grid_progress(*, session: Session, round_id: int, now: datetime | None = None) -> pd.DataFrame:
    """The round's grids: expected, sampled, missing, coverage, results, behind schedule.

    Behind-schedule grids first, then the lowest coverage, the most missing, the code.
    """
    info = round_info(session=session, round_id=round_id)
    if info is None:
        return pd.DataFrame([], columns=GRID_PROGRESS_COLUMNS)
    frame = _grid_frame(session, info, now or utcnow())
    return frame.sort_values(
        ["behind", "coverage", "missing", "code"],
        ascending=[False, True, False, True],
        na_position="last",
        kind="stable",
    ).reset_index(drop=True)


def community_progress(
    *, session: Session, round_id: int, now: datetime | None = None
) -> pd.DataFrame:
    """The round's communities: their grids' figures summed, and how many grids are behind."""
    info = round_info(session=session, round_id=round_id)
    if info is None:
        return pd.DataFrame([], columns=COMMUNITY_PROGRESS_COLUMNS)
    grids = _grid_frame(session, info, now or utcnow())
    summed = rollup(grids=grids, by="community_id")
    names = grids.drop_duplicates("community_id").set_index("community_id")
    summed["code"] = summed["community_id"].map(names["community_code"])
    summed["name"] = summed["community_id"].map(names["community_name"])
    summed["name_zh"] = summed["community_id"].map(names["community_name_zh"])
    summed = summed.sort_values("code", kind="stable").reset_index(drop=True)
    return summed[COMMUNITY_PROGRESS_COLUMNS]


# --------------------------------------------------------------------------- pace and staff


def _hour_bucket(session: Session, moment: datetime) -> ColumnElement[Any]:
    """The clock hour of a sample as text 'YYYY-MM-DD HH', local on PostgreSQL.

    On SQLite (timestamps stored as UTC text) it is the UTC hour — a prefix of the text,
    far cheaper than date functions — when the zone's offset is whole hours, and the local
    hour otherwise; `_bucket_start` turns either into the local hour's start.
    """
    tz = get_settings().tz
    sampled_at = col(TestRecord.sampled_at)
    if dialect_name(session) == "postgresql":
        if not isinstance(tz, ZoneInfo):
            raise ValueError("hour buckets on PostgreSQL need a named zone (zoneinfo.ZoneInfo)")
        local = func.date_trunc("hour", func.timezone(tz.key, sampled_at))
        return func.to_char(local, "YYYY-MM-DD HH24")
    if _whole_hour_offset(moment):
        return func.substr(sampled_at, 1, 13, type_=String)
    offset = moment.astimezone(tz).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    return func.strftime("%Y-%m-%d %H", sampled_at, f"{minutes:+d} minutes", type_=String)


def _whole_hour_offset(moment: datetime) -> bool:
    offset = moment.astimezone(get_settings().tz).utcoffset()
    return offset is None or offset.total_seconds() % 3600 == 0


def _bucket_start(session: Session, text: str, moment: datetime) -> datetime:
    """The start of a bucket's local hour, aware, in the deployment's zone."""
    tz = get_settings().tz
    hour = datetime.strptime(text, "%Y-%m-%d %H")
    if dialect_name(session) == "sqlite" and _whole_hour_offset(moment):
        return hour.replace(tzinfo=UTC).astimezone(tz)
    return hour.replace(tzinfo=tz)


HourRow = tuple[int | None, datetime, int]  # (site or None for door to door, local hour, samples)


def _hourly_rows(
    session: Session, info: RoundInfo, since: datetime | None = None, until: datetime | None = None
) -> list[HourRow]:
    """(site or None for door to door, local hour, samples) of the round, within bounds
    (`since` included, `until` included).

    Whole hours come from the round's counters per site and hour; only the part-hours at
    the bounds are counted from the samples. In a zone whose offset is not whole hours a
    local hour is no counter's hour: there every sample is counted.
    """
    if not _whole_hour_offset(info.start_at):
        return _counted_hourly_rows(session, info, since=since, until=until)
    first = None if since is None else math.ceil(since.timestamp() / 3600)  # first whole hour
    last = None if until is None else epoch_hour(until)  # the hour `until` falls in
    if first is not None and last is not None and first > last:  # within one hour
        return _counted_hourly_rows(session, info, since=since, until=until)
    tz = get_settings().tz
    stmt = select(
        col(RoundSiteHour.site_key), col(RoundSiteHour.hour), col(RoundSiteHour.sampled)
    ).where(col(RoundSiteHour.round_id) == info.id, col(RoundSiteHour.sampled) > 0)
    if first is not None:
        stmt = stmt.where(col(RoundSiteHour.hour) >= first)
    if last is not None:
        stmt = stmt.where(col(RoundSiteHour.hour) < last)
    found: dict[tuple[int | None, datetime], int] = {}
    rows: list[HourRow] = [
        (site or None, hour_start(hour).astimezone(tz), sampled)
        for site, hour, sampled in session.execute(stmt).all()
    ]
    if first is not None and since is not None and since < hour_start(first):
        rows += _counted_hourly_rows(session, info, since=since, before=hour_start(first))
    if last is not None:
        rows += _counted_hourly_rows(session, info, since=hour_start(last), until=until)
    for site, hour, sampled in rows:
        found[(site, hour)] = found.get((site, hour), 0) + sampled
    return [(site, hour, n) for (site, hour), n in found.items()]


def _counted_hourly_rows(
    session: Session,
    info: RoundInfo,
    *,
    since: datetime | None = None,
    before: datetime | None = None,
    until: datetime | None = None,
) -> list[HourRow]:
    """_hourly_rows counted from the samples taken from `since`, before `before` and until
    `until` (included)."""
    # Site and time only: the (round, site, time) index then answers without the table.
    bucket = _hour_bucket(session, info.start_at).label("hour")
    stmt = (
        select(col(TestRecord.site_id), bucket, func.count())
        .where(col(TestRecord.round_id) == info.id)
        .group_by(col(TestRecord.site_id), bucket)
    )
    if since is not None:
        stmt = stmt.where(col(TestRecord.sampled_at) >= since)
    if before is not None:
        stmt = stmt.where(col(TestRecord.sampled_at) < before)
    if until is not None:
        stmt = stmt.where(col(TestRecord.sampled_at) <= until)
    return [
        (
            None if r[0] is None else int(r[0]),
            _bucket_start(session, str(r[1]), info.start_at),
            int(r[2]),
        )
        for r in session.execute(stmt).all()
    ]


def hourly_throughput(*, session: Session, round_id: int) -> pd.DataFrame:
    """Samples per site (and door to door) per local clock hour, by hour then site.

    A sample without a site is door to door.
    """
    info = round_info(session=session, round_id=round_id)
    if info is None:
        return pd.DataFrame([], columns=THROUGHPUT_COLUMNS)
    sites = {
        int(s.id): s
        for s in session.execute(select(TestSite).where(col(TestSite.round_id) == round_id))
        .scalars()
        .all()
        if s.id is not None
    }
    records = [
        (
            site_id,
            sites[site_id].name if site_id in sites else "",
            SamplingMethod.site.value if site_id is not None else SamplingMethod.door_to_door.value,
            hour,
            sampled,
            sites[site_id].hourly_capacity if site_id in sites else None,
            sites[site_id].name_zh if site_id in sites else "",
        )
        for site_id, hour, sampled in _hourly_rows(session, info)
    ]
    frame = pd.DataFrame(records, columns=THROUGHPUT_COLUMNS)
    frame["site_id"] = frame["site_id"].astype("Int64")
    frame["hourly_capacity"] = frame["hourly_capacity"].astype("Int64")
    return frame.sort_values(["hour", "site_id"], na_position="last", kind="stable").reset_index(
        drop=True
    )


def round_sites(*, session: Session, round_id: int) -> pd.DataFrame:
    """The round's sampling sites with their capacity, desks and how many each has sampled."""
    sampled = (
        select(col(TestRecord.site_id), func.count().label("n"))
        .where(col(TestRecord.round_id) == round_id, col(TestRecord.site_id).is_not(None))
        .group_by(col(TestRecord.site_id))
        .subquery()
    )
    rows = session.execute(
        select(
            col(TestSite.id),
            col(TestSite.name),
            col(TestSite.area_id),
            col(TestSite.lng),
            col(TestSite.lat),
            col(TestSite.hourly_capacity),
            col(TestSite.desks),
            func.coalesce(sampled.c.n, 0),
            col(TestSite.name_zh),
        )
        .outerjoin(sampled, sampled.c.site_id == col(TestSite.id))
        .where(col(TestSite.round_id) == round_id)
        .order_by(col(TestSite.id))
    ).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=SITE_COLUMNS)


def _workers_serving(session: Session, round_id: int) -> int:
    """Active workers who serve any grid of the round (each counted once).

    The round's grids are a subquery, not a list of ids: with a district's grids in an IN
    list the plan probed every worker against every grid (487 ms against 3 ms).
    """
    round_grids = select(col(TestRoundArea.grid_id)).where(col(TestRoundArea.round_id) == round_id)
    found = session.execute(
        select(func.count(func.distinct(col(WorkerGrid.worker_id))))
        .join(Worker, col(Worker.id) == col(WorkerGrid.worker_id))
        .where(col(WorkerGrid.grid_id).in_(round_grids), col(Worker.active).is_(True))
    ).scalar()
    return int(found or 0)


@dataclass(frozen=True)
class RoundSummary:
    """The street-level picture of one round (all grids in its scope)."""

    round: RoundInfo
    street: Progress
    share: float
    pace: Pace
    forecast: Forecast
    behind_grids: int
    staffing: Staffing
    sites: int


def round_summary(
    *, session: Session, round_id: int, now: datetime | None = None
) -> RoundSummary | None:
    """Coverage, recent pace, projected finish against the deadline, and staffing of a round."""
    now = now or utcnow()
    info = round_info(session=session, round_id=round_id)
    if info is None:
        return None
    figures = _grid_progress(session, info)
    share = _share(info, now)
    street = progress(
        expected=sum(f.expected for f in figures.values()),
        sampled=sum(f.sampled for f in figures.values()),
        sampled_exempt=sum(f.sampled - (f.expected - f.missing) for f in figures.values()),
        positives=sum(f.positives for f in figures.values()),
        negatives=sum(f.negatives for f in figures.values()),
        pending=sum(f.pending for f in figures.values()),
        invalid=sum(f.invalid for f in figures.values()),
    )
    # Only samples in the last PACE_HOURS clock hours count (see recent_pace).
    hourly: dict[datetime, int] = {}
    recent = _hourly_rows(session, info, since=now - timedelta(hours=PACE_HOURS + 1), until=now)
    for _site, hour, sampled in recent:
        hourly[hour] = hourly.get(hour, 0) + sampled
    pace = recent_pace(
        hourly=sorted(hourly.items()),
        start_at=info.start_at,
        now=now,
        window_hours=PACE_HOURS,
        tz=get_settings().tz,
    )
    site_row = session.execute(
        select(func.count(), func.coalesce(func.sum(col(TestSite.desks)), 0)).where(
            col(TestSite.round_id) == round_id
        )
    ).one()
    return RoundSummary(
        round=info,
        street=street,
        share=share,
        pace=pace,
        forecast=forecast(
            missing=street.missing,
            pace=pace,
            now=now,
            deadline_at=info.deadline_at,
            closed_at=info.closed_at,
        ),
        behind_grids=sum(
            behind_schedule(missing=f.missing, coverage=f.coverage, share=share)
            for f in figures.values()
        ),
        staffing=staffing(
            residents=street.expected,
            desks=int(site_row[1]),
            workers=_workers_serving(session, round_id),
            policy=load_policy(session),
        ),
        sites=int(site_row[0]),
    )


# --------------------------------------------------------------------------- over the rounds


def coverage_over_rounds(*, session: Session, now: datetime | None = None) -> pd.DataFrame:
    """Each round's coverage 6, 12 and 24 hours after its start, and now (oldest first).

    A checkpoint the round has not yet reached at `now` is NaN.
    """
    now = now or utcnow()
    all_rounds = session.execute(
        select(
            col(TestRound.id),
            col(TestRound.name),
            col(TestRound.start_at),
            col(TestRound.closed_at),
            col(TestRound.name_zh),
        ).order_by(col(TestRound.start_at), col(TestRound.id))
    ).all()
    if not all_rounds:
        return pd.DataFrame([], columns=ROUND_TREND_COLUMNS)
    at_home = resident_counts(session=session)
    expected: dict[int, int] = {}
    for round_id, grid_id in session.execute(
        select(col(TestRoundArea.round_id), col(TestRoundArea.grid_id))
    ).all():
        expected[round_id] = expected.get(round_id, 0) + at_home.get(grid_id, (0, 0))[1]

    sampled: dict[int, int] = {}
    counted = shared(round_grid_results, session=session)
    for (round_id, _grid), (results, _exempt) in counted.items():
        sampled[round_id] = sampled.get(round_id, 0) + results[0]

    before = _samples_before_checkpoints(session, [(r[0], r[2]) for r in all_rounds])

    def totals(round_id: int, start_at: datetime) -> tuple[int, ...]:
        """The round's samples (its counters), and those taken before each checkpoint."""
        return (sampled.get(round_id, 0), *before.get(round_id, (0,) * len(CHECKPOINT_HOURS)))

    # Samples of now-exempt residents, all rounds at once: few rows, found by resident.
    limits = [
        case(
            {r[0]: literal(r[2] + timedelta(hours=h), _SAMPLED_AT_TYPE)
             for r in all_rounds},
            value=col(TestRecord.round_id),
        )
        for h in CHECKPOINT_HOURS
    ]  # fmt: skip
    exempt = select(col(Resident.id)).where(col(Resident.health_status) != EXPECTED_STATUS)
    exempt_counts = {
        int(r[0]): tuple(int(n) for n in r[1:])
        for r in session.execute(
            select(
                col(TestRecord.round_id),
                func.count(),
                *(count_if(col(TestRecord.sampled_at) < limit) for limit in limits),
            )
            .where(col(TestRecord.resident_id).in_(exempt))
            .group_by(col(TestRecord.round_id))
        ).all()
    }
    zero = (0,) * (len(CHECKPOINT_HOURS) + 1)

    records = []
    for round_id, name, start_at, closed_at, name_zh in all_rounds:
        total, done = totals(round_id, start_at), exempt_counts.get(round_id, zero)
        n = expected.get(round_id, 0)
        shares = [
            _nan(progress(**_counts_only(n, total[i], done[i])).coverage) for i in range(len(total))
        ]
        reached = [start_at + timedelta(hours=h) <= now for h in CHECKPOINT_HOURS]
        records.append(
            (
                round_id,
                name,
                start_at,
                _status(closed_at),
                n,
                total[0],
                *(s if ok else math.nan for s, ok in zip(shares[1:], reached, strict=True)),
                shares[0],
                name_zh,
            )
        )
    return pd.DataFrame(records, columns=ROUND_TREND_COLUMNS)


def _samples_before_checkpoints(
    session: Session, rounds: list[tuple[int, datetime]]
) -> dict[int, tuple[int, ...]]:
    """Per round (id, start): the samples taken before each checkpoint (CHECKPOINT_HOURS
    after its start).

    Whole hours are summed from the counters per round, site and hour, all rounds in one
    pass; the part of an hour before a checkpoint that is not on the hour is counted from
    the samples (a range of the (round, site, time) index).
    """
    checkpoints = {r: [start + timedelta(hours=h) for h in CHECKPOINT_HOURS] for r, start in rounds}
    if not checkpoints:
        return {}
    hour = col(RoundSiteHour.hour)
    sums = [
        func.sum(
            case(
                (hour < case({r: epoch_hour(c[i]) for r, c in checkpoints.items()},
                             value=col(RoundSiteHour.round_id)), col(RoundSiteHour.sampled)),
                else_=0,
            )
        )
        for i in range(len(CHECKPOINT_HOURS))
    ]  # fmt: skip
    found = {
        int(r[0]): [int(n or 0) for n in r[1:]]
        for r in session.execute(
            select(col(RoundSiteHour.round_id), *sums)
            .where(col(RoundSiteHour.round_id).in_(list(checkpoints)))
            .group_by(col(RoundSiteHour.round_id))
        ).all()
    }
    parts = [
        (r, i, start, c)
        for r, moments in checkpoints.items()
        for i, c in enumerate(moments)
        if (start := hour_start(epoch_hour(c))) < c
    ]
    if parts:
        counted = session.execute(
            select(*(_samples(r, since=start, before=c) for r, _, start, c in parts))
        ).one()
        for (r, i, _, _), n in zip(parts, counted, strict=True):
            found.setdefault(r, [0] * len(CHECKPOINT_HOURS))[i] += int(n or 0)
    return {r: tuple(counts) for r, counts in found.items()}


def _samples(
    round_id: int, since: datetime | None = None, before: datetime | None = None
) -> ColumnElement[int]:
    """How many samples the round has (taken at or after `since` and before `before`, if
    given), as a subquery.

    The (round, site, time) index finds the samples of a time range by seeking each site's
    range — far less than comparing every sample's time — so the sites are named (every
    site: a sample never counts twice) and door to door (no site) is counted apart.
    """
    in_round = col(TestRecord.round_id) == round_id
    if since is None:
        return select(func.count()).where(in_round).scalar_subquery()
    late = col(TestRecord.sampled_at) >= since
    if before is not None:
        late = and_(late, col(TestRecord.sampled_at) < before)
    at_sites = select(func.count()).where(
        in_round, col(TestRecord.site_id).in_(select(col(TestSite.id))), late
    )
    door = select(func.count()).where(in_round, col(TestRecord.site_id).is_(None), late)
    return at_sites.scalar_subquery() + door.scalar_subquery()


def _counts_only(expected: int, sampled: int, sampled_exempt: int) -> dict[str, int]:
    """Arguments of `progress` when only coverage is wanted."""
    return {
        "expected": expected,
        "sampled": sampled,
        "sampled_exempt": sampled_exempt,
        "positives": 0,
        "negatives": 0,
        "pending": 0,
        "invalid": 0,
    }


def positives_per_round(*, session: Session) -> pd.DataFrame:
    """Each round's samples by result and positives per 10,000 sampled (oldest first)."""
    # The rounds' counters per grid, summed per round.
    counts: dict[int, tuple[int, ...]] = {}
    counted = shared(round_grid_results, session=session)
    for (round_id, _grid), (results, _exempt) in counted.items():
        held = counts.get(round_id, (0,) * 5)
        counts[round_id] = tuple(a + b for a, b in zip(held, results, strict=True))
    all_rounds = session.execute(
        select(
            col(TestRound.id), col(TestRound.name), col(TestRound.start_at), col(TestRound.name_zh)
        ).order_by(col(TestRound.start_at), col(TestRound.id))
    ).all()
    records = []
    for round_id, name, start_at, name_zh in all_rounds:
        sampled, positives, negatives, pending, invalid = counts.get(int(round_id), (0,) * 5)
        per_10k = positives / sampled * 10_000 if sampled else math.nan
        records.append(
            (
                round_id,
                name,
                start_at,
                sampled,
                positives,
                negatives,
                pending,
                invalid,
                per_10k,
                name_zh,
            )
        )
    return pd.DataFrame(records, columns=POSITIVE_COLUMNS)


# --------------------------------------------------------------------------- people


def _open_door_tasks(session: Session, grid_id: int, since: datetime) -> set[int]:
    """Households of the grid with an open door-to-door testing task created since `since`."""
    found = session.execute(
        select(col(Resident.household_id))
        .select_from(Task)
        .join(Resident, col(Resident.id) == col(Task.resident_id))
        .where(
            col(Task.grid_id) == grid_id,
            col(Task.kind) == TaskKind.door_to_door_testing,
            col(Task.status).in_(OPEN_TASK_STATUSES),
            col(Task.created_at) >= since,
        )
    ).scalars()
    return {int(h) for h in found}


def roll_call(*, session: Session, round_id: int, grid_id: int, actor: Actor) -> pd.DataFrame:
    """Expected residents of the grid not yet sampled in the round, by building and household.

    Ordered by building code, flat and resident; `household_missing` is how many of the
    household are missing; `door_to_door_task` whether the household already has an open
    door-to-door testing task created since the round started.
    """
    info = round_info(session=session, round_id=round_id)
    if info is None or grid_id not in info.grid_ids:
        return pd.DataFrame([], columns=ROLL_CALL_COLUMNS)
    sampled = exists().where(
        col(TestRecord.round_id) == round_id, col(TestRecord.resident_id) == col(Resident.id)
    )
    rows = session.execute(
        select(
            col(Resident.id),
            col(Building.id),
            col(Building.name),
            col(Household.id),
            col(Household.unit),
            col(Resident.name),
            col(Resident.phone),
            col(Resident.birth_year),
            col(Resident.sex),
            col(Building.name_zh),
        )
        .join(Household, col(Household.id) == col(Resident.household_id))
        .join(Building, col(Building.id) == col(Resident.building_id))
        .where(
            col(Resident.grid_id) == grid_id,
            col(Resident.health_status) == EXPECTED_STATUS,
            ~sampled,
        )
        .order_by(col(Building.code), col(Household.unit), col(Household.id), col(Resident.id))
    ).all()
    tasks = _open_door_tasks(session, grid_id, info.start_at)
    tags = vulnerabilities_in_grid(session=session, grid_id=grid_id)
    per_household: dict[int, int] = {}
    for r in rows:
        per_household[int(r[3])] = per_household.get(int(r[3]), 0) + 1
    records = [
        (
            *r[:8],
            None if r[8] is None else str(r[8]),
            tags.get(int(r[0]), []),
            per_household[int(r[3])],
            int(r[3]) in tasks,
            r[9],
        )
        for r in rows
    ]
    frame = pd.DataFrame(records, columns=ROLL_CALL_COLUMNS)
    frame = mask_personal(
        frame,
        actor=actor,
        grid_id=grid_id,
        columns={"name": NAME, "phone": PHONE, "unit": FLAT, "birth_year": YEAR},
    )
    return frame


def find_residents(
    *, session: Session, round_id: int, text: str, actor: Actor, limit: int = 20
) -> pd.DataFrame:
    """Residents of the round's grids (and the actor's) matching a name, phone or ID suffix.

    Those not yet sampled first, then by name. Each row says whether the resident is
    exempt now and, if sampled in this round, the record and when.
    """
    condition = search_condition(text=text, dialect=dialect_name(session))
    info = round_info(session=session, round_id=round_id)
    if condition is None or info is None:
        return pd.DataFrame([], columns=SEARCH_COLUMNS)
    # Only grids whose residents the actor may see: a hit with hidden fields would still
    # confirm that someone of that name or phone lives there.
    grid_ids = [g for g in info.grid_ids if actor.sees_personal_data_of(g)]
    if not grid_ids:
        return pd.DataFrame([], columns=SEARCH_COLUMNS)
    rows = session.execute(
        select(
            col(Resident.id),
            col(Resident.name),
            col(Resident.phone),
            col(Resident.id_suffix),
            col(Resident.grid_id),
            col(Area.code),
            col(Building.name),
            col(Household.unit),
            col(Resident.health_status),
            col(TestRecord.id),
            col(TestRecord.sampled_at),
            col(Building.name_zh),
        )
        .join(Area, col(Area.id) == col(Resident.grid_id))
        .join(Building, col(Building.id) == col(Resident.building_id))
        .join(Household, col(Household.id) == col(Resident.household_id))
        .outerjoin(
            TestRecord,
            and_(
                col(TestRecord.round_id) == round_id,
                col(TestRecord.resident_id) == col(Resident.id),
            ),
        )
        .where(col(Resident.grid_id).in_(grid_ids), condition)
        .order_by(
            case((col(TestRecord.id).is_(None), 0), else_=1),
            col(Resident.name),
            col(Resident.id),
        )
        .limit(limit)
    ).all()
    records = []
    for r in rows:
        grid_id = int(r[4])
        records.append(
            (
                r[0],
                personal(r[1], kind=NAME, actor=actor, grid_id=grid_id),
                personal(r[2], kind=PHONE, actor=actor, grid_id=grid_id),
                personal(r[3], kind=TEXT, actor=actor, grid_id=grid_id),
                r[4],
                r[5],
                r[6],
                personal(r[7], kind=FLAT, actor=actor, grid_id=grid_id),
                str(r[8]),
                str(r[8]) != EXPECTED_STATUS,
                r[9] is not None,
                r[9],
                r[10],
                r[11],
            )
        )
    frame = pd.DataFrame(records, columns=SEARCH_COLUMNS)
    frame["record_id"] = frame["record_id"].astype("Int64")
    return frame


def unhandled_positives(*, session: Session, actor: Actor | None = None) -> pd.DataFrame:
    """Positive samples whose resident has no case yet, oldest first.

    Handled means the resident has an active case, or any case reported on or after the
    local day the sample was taken. Names are masked unless `actor` may see them.
    """
    tz = get_settings().tz
    sample_day = local_date(
        col(TestRecord.sampled_at), dialect=dialect_name(session), tz=tz, at=datetime.now(UTC)
    )
    has_case = exists().where(
        col(Case.resident_id) == col(TestRecord.resident_id),
        or_(col(Case.status) == CaseStatus.active, col(Case.reported_date) >= sample_day),
    )
    rows = session.execute(
        select(
            col(TestRecord.id),
            col(TestRecord.round_id),
            col(TestRound.name),
            col(TestRecord.resident_id),
            col(Resident.name),
            col(TestRecord.grid_id),
            col(Area.code),
            col(TestRecord.sampled_at),
            col(TestRecord.result_at),
            col(TestRound.name_zh),
        )
        .join(TestRound, col(TestRound.id) == col(TestRecord.round_id))
        .join(Resident, col(Resident.id) == col(TestRecord.resident_id))
        .join(Area, col(Area.id) == col(TestRecord.grid_id))
        .where(
            # Naming every round and grid lets the (round, grid, result) index find the few
            # positives by seeking, instead of reading every record.
            col(TestRecord.round_id).in_(select(col(TestRound.id))),
            col(TestRecord.grid_id).in_(
                select(col(Area.id)).where(col(Area.level) == AreaLevel.grid)
            ),
            col(TestRecord.result) == TestResult.positive,
            ~has_case,
        )
        .order_by(col(TestRecord.sampled_at), col(TestRecord.id))
    ).all()
    records = [
        (
            *r[:4],
            personal(r[4], kind=NAME, actor=actor or KIOSK, grid_id=int(r[5])),
            *r[5:],
        )
        for r in rows
    ]
    return pd.DataFrame(records, columns=UNHANDLED_COLUMNS)


SITE_POINT_COLUMNS: list[str] = [
    "site_id", "name", "lng", "lat", "hourly_capacity", "sampled", "name_zh",
]  # fmt: skip


def latest_round_id(*, session: Session, at: datetime | None = None) -> int | None:
    """The round that started last (by `at`, if given); None when there is none."""
    stmt = select(col(TestRound.id)).order_by(
        col(TestRound.start_at).desc(), col(TestRound.id).desc()
    )
    if at is not None:
        stmt = stmt.where(col(TestRound.start_at) <= at)
    found = session.execute(stmt.limit(1)).scalar()
    return None if found is None else int(found)


def site_points(*, session: Session, round_id: int | None) -> pd.DataFrame:
    """The sites of a round (None: the latest round) with how many each has sampled."""
    if round_id is None:
        round_id = latest_round_id(session=session)
        if round_id is None:
            return pd.DataFrame([], columns=SITE_POINT_COLUMNS)
    sampled = (
        select(col(TestRecord.site_id), func.count().label("n"))
        .where(col(TestRecord.round_id) == round_id, col(TestRecord.site_id).is_not(None))
        .group_by(col(TestRecord.site_id))
        .subquery()
    )
    stmt = (
        select_columns(
            TestSite.id,
            TestSite.name,
            TestSite.lng,
            TestSite.lat,
            TestSite.hourly_capacity,
            func.coalesce(sampled.c.n, 0),
            TestSite.name_zh,
        )
        .outerjoin(sampled, sampled.c.site_id == col(TestSite.id))
        .where(col(TestSite.round_id) == round_id)
        .order_by(col(TestSite.id))
    )
    return pd.DataFrame([tuple(r) for r in session.execute(stmt).all()], columns=SITE_POINT_COLUMNS)


TESTING_COLUMNS = [
    "round_id",
    "round_name",
    "start_at",
    "expected",
    "sampled",
    "coverage",
    "positives",
    "pending",
    "round_name_zh",
]


def grid_testing(*, session: Session, grid_id: int) -> pd.DataFrame:
    """Each testing round over the grid, newest first: expected, sampled, coverage, results.

    expected is the grid's residents at home (others are exempt); coverage is
    sampled ÷ expected, at most 1, NaN when nobody is expected.
    """
    expected = session.execute(
        select(func.count(col(Resident.id))).where(
            col(Resident.grid_id) == grid_id, col(Resident.health_status) == HealthStatus.at_home
        )
    ).scalar_one()
    rows = session.execute(
        select(
            col(TestRound.id),
            col(TestRound.name),
            col(TestRound.start_at),
            func.count(col(TestRecord.id)),
            count_if(col(TestRecord.result) == TestResult.positive),
            count_if(col(TestRecord.result) == TestResult.pending),
            col(TestRound.name_zh),
        )
        .join(TestRoundArea, col(TestRoundArea.round_id) == col(TestRound.id))
        .outerjoin(
            TestRecord,
            and_(col(TestRecord.round_id) == col(TestRound.id), col(TestRecord.grid_id) == grid_id),
        )
        .where(col(TestRoundArea.grid_id) == grid_id)
        .group_by(
            col(TestRound.id), col(TestRound.name), col(TestRound.name_zh), col(TestRound.start_at)
        )
        .order_by(col(TestRound.start_at).desc(), col(TestRound.id).desc())
    ).all()
    records = [
        (
            r[0],
            r[1],
            r[2],
            int(expected),
            int(r[3]),
            _nan_if_none(coverage(sampled=int(r[3]), expected=int(expected))),
            int(r[4]),
            int(r[5]),
            r[6],
        )
        for r in rows
    ]
    return pd.DataFrame(records, columns=TESTING_COLUMNS)


def _nan_if_none(value: float | None) -> float:
    return math.nan if value is None else value


def latest_round_per_grid(*, session: Session, now: datetime) -> Counter:
    """Per grid: the latest round covering it that has started, whether it ended, and sampled."""
    # The latest round per grid is picked in the database: one row per grid comes back, not
    # one per round and grid (8 rounds over a district's 1,167 grids).
    ranked = (
        select(
            col(TestRoundArea.grid_id).label("grid_id"),
            col(TestRound.id).label("round_id"),
            col(TestRound.name).label("name"),
            col(TestRound.deadline_at).label("deadline_at"),
            col(TestRound.closed_at).label("closed_at"),
            col(TestRound.name_zh).label("name_zh"),
            func.row_number()
            .over(
                partition_by=col(TestRoundArea.grid_id),
                order_by=(col(TestRound.start_at).desc(), col(TestRound.id).desc()),
            )
            .label("rank"),
        )
        .join(TestRound, col(TestRound.id) == col(TestRoundArea.round_id))
        .where(col(TestRound.start_at) <= now)
        .subquery()
    )
    stmt = select(
        ranked.c.grid_id,
        ranked.c.round_id,
        ranked.c.name,
        ranked.c.deadline_at,
        ranked.c.closed_at,
        ranked.c.name_zh,
    ).where(ranked.c["rank"] == 1)
    counted = shared(round_grid_results, session=session)
    return by_grid(
        (
            (
                g,
                r,
                Named(name, name_zh),
                deadline_at <= now or (closed_at is not None and closed_at <= now),
                counted[(r, g)][0][0] if (r, g) in counted else 0,
            )
            for g, r, name, deadline_at, closed_at, name_zh in session.execute(stmt)
        ),
        ["latest_round_id", "round_name", "round_ended", "sampled"],
    )


def latest_round_coverage(
    session: Session,
    *,
    started_by: datetime,
    sampled_before: datetime | None,
    at_home: dict[int, int],
) -> tuple[Named | None, float | None]:
    """Name and coverage of the latest round started by `started_by` (None, None if none).

    `at_home` is residents at home per grid (expected at a round), counted once by the caller.
    """
    round_id = latest_round_id(session=session, at=started_by)
    if round_id is None:
        return None, None
    test_round = session.get(TestRound, round_id)
    round_grids = (
        session.execute(
            select(col(TestRoundArea.grid_id)).where(col(TestRoundArea.round_id) == round_id)
        )
        .scalars()
        .all()
    )
    expected = sum(at_home.get(grid_id, 0) for grid_id in round_grids)
    if sampled_before is None:
        counted = round_grid_results(session=session, round_id=round_id)
        sampled = sum(results[0] for results, _ in counted.values())
    else:
        sampled_stmt = select(func.count()).where(
            col(TestRecord.round_id) == round_id, col(TestRecord.sampled_at) < sampled_before
        )
        sampled = int(session.execute(sampled_stmt).scalar_one())
    name = Named(test_round.name, test_round.name_zh) if test_round else None
    return name, coverage(sampled=sampled, expected=expected)
