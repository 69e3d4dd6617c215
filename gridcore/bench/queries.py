"""Every dashboard query, timed, beside the plain approach of a typical Streamlit dashboard.

The plain approach (the baseline) computes the same figure by reading the rows it needs with
`pandas.read_sql` — every row of each table, the columns the figure uses — and filtering and
grouping them in pandas, as a dashboard written around `st.cache_data(pd.read_sql(...))` does.
Neither side is cached (Streamlit's cache is the pages' business, measured there): both
are what a page pays once its cached result has expired. The ratio is baseline seconds ÷
GridCore seconds, each the median of its repetitions after a first call.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from gridcore.access import Actor
from gridcore.config import get_settings, local_today
from gridcore.models import UserRole, utcnow
from gridcore.policy import Policy, load_policy
from gridcore.queries import cases, overview, requests, stock, testing, workforce

LEADER = Actor(username="leader", role=UserRole.leader)
# The baseline reads whole tables (millions of rows at district scale): two repetitions
# after the first are enough to show what it costs.
BASELINE_REPS = 2


@dataclass(frozen=True)
class Context:
    """The moment and the round every query is asked about."""

    today: date
    now: datetime
    round_id: int
    policy: Policy

    @property
    def trend_start(self) -> date:
        return self.today - timedelta(days=20)


def context(engine: Engine) -> Context:
    """Today, now, the current (else the latest) round and the policy in force."""
    with Session(engine) as session:
        now = utcnow()
        round_id = testing.current_round_id(session=session, now=now) or testing.latest_round_id(
            session=session
        )
        return Context(
            today=local_today(), now=now, round_id=int(round_id or 0), policy=load_policy(session)
        )


Ours = Callable[[Session, Context], Any]
Baseline = Callable[[Connection, Context], Any]

# --------------------------------------------------------------------------- the baseline


def _read(connection: Connection, sql: str) -> pd.DataFrame:
    return pd.read_sql(sql, connection)


def _days(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series).dt.date


def _moments(series: pd.Series) -> pd.Series:
    # SQLite returns ISO 8601 text (with or without microseconds), PostgreSQL datetimes.
    return pd.to_datetime(series, utc=True, format="ISO8601")


def _cases(connection: Connection) -> pd.DataFrame:
    frame = _read(
        connection, "SELECT grid_id, kind, status, reported_date, found_via FROM case_record"
    )
    frame["reported_date"] = _days(frame["reported_date"])
    counted = frame["kind"].isin(["confirmed", "asymptomatic"]) & (frame["status"] != "discarded")
    frame["community"] = ~frame["found_via"].isin(["quarantine", "reclassified"])
    return frame[counted]


def _contacts(connection: Connection) -> pd.DataFrame:
    frame = _read(connection, "SELECT grid_id, status, start_date, planned_end_date FROM contact")
    frame["start_date"] = _days(frame["start_date"])
    frame["planned_end_date"] = _days(frame["planned_end_date"])
    return frame[frame["status"] != "became_case"]


def _residents(connection: Connection) -> pd.DataFrame:
    return _read(connection, "SELECT id, grid_id, health_status FROM resident")


def _records(connection: Connection, *columns: str) -> pd.DataFrame:
    """Every test record: round, resident and grid, and `columns` (sampled_at parsed)."""
    frame = _read(
        connection,
        f"SELECT {', '.join(('round_id', 'resident_id', 'grid_id', *columns))} FROM testrecord",
    )
    if "sampled_at" in columns:
        frame["sampled_at"] = _moments(frame["sampled_at"])
    return frame


def _coverage_of(records: pd.DataFrame, residents: pd.DataFrame, round_id: int) -> pd.DataFrame:
    at_home = residents[residents["health_status"] == "at_home"]
    expected = at_home.groupby("grid_id")["id"].count().rename("expected")
    sampled = (
        records[records["round_id"] == round_id]
        .groupby("grid_id")["resident_id"]
        .nunique()
        .rename("sampled")
    )
    frame = pd.concat([expected, sampled], axis=1).fillna(0)
    frame["coverage"] = frame["sampled"] / frame["expected"].where(frame["expected"] > 0)
    return frame


def _quarantined_on(contacts: pd.DataFrame, day: date) -> int:
    return int(((contacts["start_date"] <= day) & (contacts["planned_end_date"] >= day)).sum())


def base_headline(connection: Connection, ctx: Context) -> dict[str, Any]:
    found = _cases(connection)
    contacts = _contacts(connection)
    coverage = _coverage_of(_records(connection), _residents(connection), ctx.round_id)
    today = found[found["reported_date"] == ctx.today]
    return {
        "new": len(today),
        "outside": int(today["community"].sum()),
        "active": int((found["status"] == "active").sum()),
        "quarantine": _quarantined_on(contacts, ctx.today),
        "coverage": float(coverage["sampled"].sum() / max(1, coverage["expected"].sum())),
    }


def base_grid_metrics(connection: Connection, ctx: Context) -> pd.DataFrame:
    found = _cases(connection)
    residents = _residents(connection)
    frame = _coverage_of(_records(connection), residents, ctx.round_id)
    week = found[found["reported_date"] > ctx.today - timedelta(days=7)]
    frame["population"] = residents.groupby("grid_id")["id"].count()
    frame["active_cases"] = found[found["status"] == "active"].groupby("grid_id").size()
    frame["incidence_7d"] = week.groupby("grid_id").size() / frame["population"] * 10_000
    open_requests = _read(connection, "SELECT grid_id, status FROM residentrequest")
    still_open = open_requests[~open_requests["status"].isin(["done", "cancelled"])]
    frame["open_requests"] = still_open.groupby("grid_id").size()
    tasks = _read(connection, "SELECT grid_id, status FROM task")
    frame["open_tasks"] = (
        tasks[tasks["status"].isin(["open", "in_progress"])].groupby("grid_id").size()
    )
    return frame.fillna(0)


def base_daily_trend(connection: Connection, ctx: Context) -> pd.DataFrame:
    found = _cases(connection)
    contacts = _contacts(connection)
    days = [ctx.trend_start + timedelta(days=i) for i in range(21)]
    rows = []
    for day in days:
        on_day = found[found["reported_date"] == day]
        rows.append(
            (
                day,
                len(on_day),
                int(on_day["community"].sum()),
                _quarantined_on(contacts, day),
                int(((found["reported_date"] <= day) & (found["status"] == "active")).sum()),
            )
        )
    return pd.DataFrame(rows, columns=["day", "new", "outside", "quarantine", "active"])


def base_grid_progress(connection: Connection, ctx: Context) -> pd.DataFrame:
    return _coverage_of(_records(connection), _residents(connection), ctx.round_id)


def base_coverage_over_rounds(connection: Connection, ctx: Context) -> pd.DataFrame:
    rounds = _read(connection, "SELECT id, start_at FROM testround")
    rounds["start_at"] = _moments(rounds["start_at"])
    records = _records(connection, "sampled_at").merge(rounds, left_on="round_id", right_on="id")
    residents = _residents(connection)
    expected = int((residents["health_status"] == "at_home").sum())
    after = records["sampled_at"] - records["start_at"]
    out = pd.DataFrame(index=rounds["id"])
    for hours in (6, 12, 24):
        done = records[after <= pd.Timedelta(hours=hours)]
        out[f"h{hours}"] = done.groupby("round_id")["resident_id"].nunique() / expected
    out["now"] = records.groupby("round_id")["resident_id"].nunique() / expected
    return out


def base_hourly_throughput(connection: Connection, ctx: Context) -> pd.DataFrame:
    records = _records(connection, "site_id", "method", "sampled_at")
    records = records[records["round_id"] == ctx.round_id]
    sites = _read(connection, "SELECT id, name FROM testsite")
    records = records.merge(sites, left_on="site_id", right_on="id", how="left")
    records["hour"] = records["sampled_at"].dt.tz_convert(get_settings().tz).dt.floor("h")
    return records.groupby(["name", "method", "hour"], dropna=False).size().reset_index()


def base_stock_levels(connection: Connection, ctx: Context) -> pd.DataFrame:
    movements = _read(connection, "SELECT depot_id, item_id, quantity FROM stockmovement")
    levels = movements.groupby(["depot_id", "item_id"])["quantity"].sum().reset_index()
    items = _read(connection, "SELECT id, code, min_stock FROM supplyitem")
    minimums = _read(connection, "SELECT depot_id, item_id, min_stock FROM depotminimum")
    levels = levels.merge(items, left_on="item_id", right_on="id")
    levels = levels.merge(minimums, on=["depot_id", "item_id"], how="left", suffixes=("", "_d"))
    levels["below"] = levels["quantity"] < levels["min_stock_d"].fillna(levels["min_stock"])
    return levels


def base_daily_counts(connection: Connection, ctx: Context) -> pd.DataFrame:
    found = _cases(connection)
    found = found[
        (found["reported_date"] >= ctx.trend_start) & (found["reported_date"] <= ctx.today)
    ]
    rows = found.groupby(["reported_date", "grid_id", "kind", "found_via"]).size()
    counts = _read(connection, "SELECT day, area_id, kind, found_via, count FROM casecount")
    counts["day"] = _days(counts["day"])
    counts = counts[(counts["day"] >= ctx.trend_start) & (counts["day"] <= ctx.today)]
    reported = counts.groupby(["day", "area_id", "kind", "found_via"])["count"].sum()
    return pd.concat([rows.rename("n"), reported.rename("n")]).reset_index()


def base_worker_workload(connection: Connection, ctx: Context) -> pd.DataFrame:
    tasks = _read(connection, "SELECT assigned_worker_id, status, due_at, done_at FROM task")
    tasks["due_at"] = _moments(tasks["due_at"])
    tasks["done_at"] = _moments(tasks["done_at"])
    now = pd.Timestamp(ctx.now).tz_localize("UTC") if ctx.now.tzinfo is None else ctx.now
    still_open = tasks["status"].isin(["open", "in_progress"])
    tasks["open"] = still_open
    tasks["overdue"] = still_open & (tasks["due_at"] < now)
    tasks["done_today"] = tasks["done_at"].dt.tz_convert(get_settings().tz).dt.date == ctx.today
    load = tasks.groupby("assigned_worker_id")[["open", "overdue", "done_today"]].sum()
    workers = _read(connection, "SELECT id, name FROM worker")
    load = workers.merge(load, left_on="id", right_index=True, how="left").fillna(0)
    load["score"] = load["open"] + 2 * load["overdue"]
    return load.sort_values("score", ascending=False)


def base_request_counts(connection: Connection, ctx: Context) -> pd.DataFrame:
    frame = _read(connection, "SELECT grid_id, status, urgency, created_at FROM residentrequest")
    frame["created_at"] = _moments(frame["created_at"])
    still_open = ~frame["status"].isin(["done", "cancelled"])
    now = pd.Timestamp(ctx.now).tz_localize("UTC") if ctx.now.tzinfo is None else ctx.now
    frame["overdue"] = still_open & (frame["created_at"] < now - pd.Timedelta(hours=24))
    return (
        frame[still_open]
        .groupby("grid_id")
        .agg(open=("status", "size"), overdue=("overdue", "sum"))
    )


# --------------------------------------------------------------------------- the list

QUERIES: dict[str, tuple[Ours, Baseline]] = {
    "overview.headline": (
        lambda s, c: overview.headline(session=s, today=c.today, now=c.now),
        base_headline,
    ),
    "overview.grid_metrics": (
        lambda s, c: overview.grid_metrics(session=s, today=c.today, now=c.now),
        base_grid_metrics,
    ),
    "overview.daily_trend": (
        lambda s, c: overview.daily_trend(session=s, start=c.trend_start, end=c.today),
        base_daily_trend,
    ),
    "testing.grid_progress": (
        lambda s, c: testing.grid_progress(session=s, round_id=c.round_id, now=c.now),
        base_grid_progress,
    ),
    "testing.coverage_over_rounds": (
        lambda s, c: testing.coverage_over_rounds(session=s, now=c.now),
        base_coverage_over_rounds,
    ),
    "testing.hourly_throughput": (
        lambda s, c: testing.hourly_throughput(session=s, round_id=c.round_id),
        base_hourly_throughput,
    ),
    "stock.stock_levels": (lambda s, c: stock.stock_levels(session=s), base_stock_levels),
    "cases.daily_counts": (
        lambda s, c: cases.daily_counts(session=s, start=c.trend_start, end=c.today, level="grid"),
        base_daily_counts,
    ),
    "workforce.worker_workload": (
        lambda s, c: workforce.worker_workload(session=s, now=c.now, today=c.today, actor=LEADER),
        base_worker_workload,
    ),
    "requests.request_counts": (
        lambda s, c: requests.request_counts(session=s, at=c.now, policy=c.policy),
        base_request_counts,
    ),
}


def _timed(call: Callable[[], Any], reps: int) -> tuple[float, float]:
    """The first call's seconds and the median of `reps` more."""
    start = time.perf_counter()
    call()
    first = time.perf_counter() - start
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return first, statistics.median(times)


def measure(engine: Engine, *, reps: int) -> dict[str, dict[str, float]]:
    """Each dashboard query and its baseline: first and median seconds, and the ratio."""
    ctx = context(engine)
    figures: dict[str, dict[str, float]] = {}
    for name, (ours, baseline) in QUERIES.items():

        def run_ours(ours: Ours = ours) -> Any:
            with Session(engine) as session:
                return ours(session, ctx)

        def run_baseline(baseline: Baseline = baseline) -> Any:
            with engine.connect() as connection:
                return baseline(connection, ctx)

        first, median = _timed(run_ours, reps)
        base_first, base_median = _timed(run_baseline, min(reps, BASELINE_REPS))
        figures[name] = {
            "first_s": first,
            "median_s": median,
            "baseline_first_s": base_first,
            "baseline_median_s": base_median,
            "ratio": base_median / median if median > 0 else 0.0,
        }
    return figures
