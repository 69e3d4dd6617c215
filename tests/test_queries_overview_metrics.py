"""Per-grid metrics against the tiny world (answers: gridcore/demo/tiny.py), on both backends."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlalchemy import func, literal_column, select
from sqlmodel import Session, col

from gridcore.analytics.risk import Reason
from gridcore.models import TestRecord
from gridcore.queries import overview
from gridcore.queries._sql import count_if, dialect_name, local_date

if TYPE_CHECKING:
    from tiny_world import TinyWorld

pytestmark = pytest.mark.both_backends  # queries: the dialect matters


CODES = ["T-C1-G1", "T-C1-G2", "T-C2-G1", "T-C2-G2"]


@pytest.fixture
def frame(tiny: TinyWorld, tiny_session: Session) -> pd.DataFrame:
    return overview.grid_metrics(session=tiny_session, today=tiny.anchor, now=tiny.now)


def column_of(frame: pd.DataFrame, name: str) -> list[object]:
    return list(frame[name])


def test_columns_and_one_row_per_grid(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == overview.METRIC_COLUMNS
    assert column_of(frame, "code") == CODES
    assert column_of(frame, "community_code") == ["T-C1", "T-C1", "T-C2", "T-C2"]
    assert column_of(frame, "households") == [8, 6, 10, 4]
    assert column_of(frame, "residents") == [20, 16, 25, 10]


def test_case_counts(frame: pd.DataFrame) -> None:
    # Suspected C09 (G2-1) and ruled-out C12 (G2-2) count nowhere.
    assert column_of(frame, "new_cases_today") == [1, 0, 1, 0]
    assert column_of(frame, "new_cases_7d") == [4, 1, 2, 0]
    assert column_of(frame, "active_cases") == [4, 1, 2, 0]
    assert column_of(frame, "community_cases_7d") == [2, 0, 0, 0]


def test_incidence_per_ten_thousand(frame: pd.DataFrame) -> None:
    # 4/20, 1/16, 2/25, 0/10 residents × 10,000.
    assert column_of(frame, "incidence_7d_per_10k") == [2000.0, 625.0, 800.0, 0.0]


def test_days_since_the_last_community_case(frame: pd.DataFrame) -> None:
    days = column_of(frame, "days_since_community_case")
    assert days[:3] == [0.0, 8.0, 16.0]  # C10 today, C03 on 03-13, C01 on 03-05
    assert math.isnan(float(days[3]))  # T-C2-G2 never had one


def test_contacts_in_quarantine(frame: pd.DataFrame) -> None:
    assert column_of(frame, "in_quarantine") == [4, 2, 2, 0]


def test_coverage_of_each_grids_latest_round(tiny: TinyWorld, frame: pd.DataFrame) -> None:
    round1, round2 = tiny.round_ids["Round 1"], tiny.round_ids["Round 2"]
    assert column_of(frame, "latest_round_id") == [round2, round2, round2, round1]
    assert column_of(frame, "coverage") == [9 / 18, 12 / 15, 18 / 24, 9 / 9]


def test_requests_and_tasks(frame: pd.DataFrame) -> None:
    assert column_of(frame, "open_requests") == [3, 2, 3, 1]
    assert column_of(frame, "overdue_requests") == [2, 1, 2, 0]
    assert column_of(frame, "open_tasks") == [2, 2, 2, 1]
    assert column_of(frame, "overdue_tasks") == [1, 1, 1, 0]


def test_staffing_against_the_tiny_worlds_standard_of_five(frame: pd.DataFrame) -> None:
    assert column_of(frame, "full_time_workers") == [2, 0, 1, 1]  # 吴伟 (G1-2) is inactive
    ratio = column_of(frame, "households_per_worker")
    assert [ratio[0], ratio[2], ratio[3]] == [4.0, 10.0, 4.0]
    assert math.isnan(float(ratio[1]))
    assert column_of(frame, "understaffed") == [False, True, True, False]


def test_zone_levels_from_grid_orders_in_force(frame: pd.DataFrame) -> None:
    # T-C2-G1's precaution order was lifted; its building order is not the grid's.
    assert column_of(frame, "zone_level") == ["sealed", "controlled", "", ""]


def test_risk_levels_and_reasons(frame: pd.DataFrame) -> None:
    # Round 2 is still in progress, so its coverage is no reason (the Testing page tracks it).
    assert column_of(frame, "risk_level") == ["high", "medium", "low", "normal"]
    reasons = column_of(frame, "risk_reasons")
    assert reasons[0] == [
        Reason("reason.zone_sealed"),
        Reason("reason.incidence_7d", {"incidence": 2000.0, "n": 4}),
        Reason("reason.community_cases_7d", {"n": 2}),
        Reason("reason.active_cases", {"n": 4}),
        Reason("reason.overdue_requests", {"n": 2}),
    ]
    assert reasons[1] == [
        Reason("reason.zone_controlled"),
        Reason("reason.active_cases.one", {"n": 1}),
        Reason("reason.overdue_requests.one", {"n": 1}),
        Reason("reason.no_fulltime_worker"),
    ]
    assert reasons[2] == [
        Reason("reason.active_cases", {"n": 2}),
        Reason("reason.overdue_requests", {"n": 2}),
        Reason("reason.households_per_worker", {"ratio": 10.0, "standard": 5}),
    ]
    assert reasons[3] == []


def test_working_columns_for_decisions(tiny: TinyWorld, tiny_session: Session) -> None:
    rows = overview.grid_indicator_rows(session=tiny_session, today=tiny.anchor, now=tiny.now)

    def values(key: str) -> list[object]:
        return [row[key] for row in rows]

    assert values("code") == CODES
    assert values("at_home") == [18, 15, 24, 9]
    assert values("contacts_due_today") == [2, 0, 0, 0]
    assert values("zone_since") == [date(2026, 3, 16), date(2026, 3, 14), None, None]
    assert values("last_community_case") == [
        date(2026, 3, 21), date(2026, 3, 13), date(2026, 3, 5), None,
    ]  # fmt: skip
    assert values("quiet_days") == [0, 7, None, None]
    assert values("stepdown_days_left") == [7, 0, None, None]
    assert [str(v) for v in values("round_name")] == ["Round 2", "Round 2", "Round 2", "Round 1"]
    assert values("round_ended") == [False, False, False, True]
    assert values("sampled") == [9, 12, 18, 9]


def test_the_same_grids_a_day_earlier(tiny: TinyWorld, tiny_session: Session) -> None:
    """Yesterday at noon: today's cases and contacts are not there yet."""
    frame = overview.grid_metrics(
        session=tiny_session,
        today=tiny.anchor - timedelta(days=1),
        now=tiny.now - timedelta(days=1),
    )
    assert list(frame["new_cases_today"]) == [1, 0, 0, 0]  # C08
    assert list(frame["new_cases_7d"]) == [3, 1, 1, 0]  # 03-14..03-20
    assert list(frame["active_cases"]) == [3, 1, 1, 0]
    # Round 2 had not started: every grid's latest round was Round 1.
    assert list(frame["latest_round_id"]) == [tiny.round_ids["Round 1"]] * 4
    assert list(frame["coverage"]) == [1.0, 1.0, 22 / 24, 1.0]


def test_empty_database_gives_the_columns(session: Session) -> None:
    frame = overview.grid_metrics(
        session=session, today=date(2026, 3, 21), now=datetime(2026, 3, 21, 4, tzinfo=UTC)
    )
    assert frame.empty
    assert list(frame.columns) == overview.METRIC_COLUMNS


def test_count_if_counts_only_matching_rows(session: Session) -> None:
    numbers = (
        select(literal_column("1").label("n"))
        .union_all(select(literal_column("2")), select(literal_column("3")))
        .subquery()
    )
    found = session.execute(select(count_if(numbers.c.n >= 2))).scalar_one()
    none = session.execute(select(count_if(numbers.c.n > 5))).scalar_one()
    assert (found, none) == (2, 0)


def test_local_date_of_a_utc_timestamp_on_both_backends(
    tiny: TinyWorld, tiny_session: Session
) -> None:
    """Round 2 sampled 07:00–10:10 local: the first 12 samples fall on the UTC day before."""
    tz = ZoneInfo("Asia/Shanghai")
    day = local_date(
        col(TestRecord.sampled_at), dialect=dialect_name(tiny_session), tz=tz, at=tiny.now
    )
    stmt = (
        select(day, func.count())
        .where(TestRecord.round_id == tiny.round_ids["Round 2"])
        .group_by(day)
    )
    assert tiny_session.execute(stmt).all() == [(tiny.anchor, 39)]
    before_utc_midnight = tiny_session.execute(
        select(func.count()).where(
            TestRecord.round_id == tiny.round_ids["Round 2"],
            col(TestRecord.sampled_at) < datetime(2026, 3, 21, tzinfo=UTC),
        )
    ).scalar_one()
    assert before_utc_midnight == 12
