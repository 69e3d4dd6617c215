"""Testing analytics on hand-worked numbers: coverage, progress, pace, forecast, staffing."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from gridcore.analytics import testing
from gridcore.analytics import testing as campaign
from gridcore.policy import Policy


def test_coverage_is_sampled_over_expected() -> None:
    assert testing.coverage(sampled=9, expected=18) == 0.5
    assert testing.coverage(sampled=39, expected=57) == 39 / 57
    assert testing.coverage(sampled=0, expected=10) == 0.0


def test_coverage_is_capped_at_one_and_unknown_without_anyone_expected() -> None:
    assert testing.coverage(sampled=11, expected=10) == 1.0
    assert testing.coverage(sampled=3, expected=0) is None


def test_projected_finish_at_the_pace_so_far() -> None:
    start = datetime(2026, 3, 21, 0, 0, tzinfo=UTC)
    now = datetime(2026, 3, 21, 4, 0, tzinfo=UTC)
    # 400 sampled in 4 h = 100/h; 600 remaining → 6 more hours.
    finish = testing.projected_finish(start_at=start, now=now, sampled=400, expected=1000)
    assert finish == datetime(2026, 3, 21, 10, 0, tzinfo=UTC)


def test_projected_finish_when_done_or_without_a_pace() -> None:
    start = datetime(2026, 3, 21, 0, 0, tzinfo=UTC)
    now = datetime(2026, 3, 21, 4, 0, tzinfo=UTC)
    assert testing.projected_finish(start_at=start, now=now, sampled=50, expected=50) == now
    assert testing.projected_finish(start_at=start, now=now, sampled=0, expected=50) is None
    assert testing.projected_finish(start_at=now, now=now, sampled=5, expected=50) is None


def test_staff_a_round_needs() -> None:
    policy = Policy()  # 360 residents per sampler; a desk per 600–800 residents
    assert testing.samplers_needed(residents=3600, policy=policy) == 10
    assert testing.samplers_needed(residents=3601, policy=policy) == 11
    assert testing.desks_needed(residents=2400, policy=policy) == (3, 4)
    assert testing.desks_needed(residents=1000, policy=policy) == (2, 2)


# ------------------------------------------------------------- a round's progress, pace, staffing

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 21, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
DEADLINE = START + timedelta(hours=24)


def _local(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 21, hour, minute, tzinfo=SHANGHAI)


# --------------------------------------------------------------------------- progress


def test_progress_counts_the_missing_among_the_expected() -> None:
    # 10 expected, 7 samples of which 1 is of someone exempt now: 6 expected sampled, 4 missing.
    figure = campaign.progress(
        expected=10, sampled=7, sampled_exempt=1, positives=1, negatives=4, pending=1, invalid=1
    )
    assert (figure.expected, figure.sampled, figure.missing) == (10, 7, 4)
    assert figure.coverage == pytest.approx(0.6)
    assert (figure.positives, figure.negatives, figure.pending, figure.invalid) == (1, 4, 1, 1)


def test_progress_never_below_nobody_missing_and_unknown_without_anyone_expected() -> None:
    full = campaign.progress(
        expected=3, sampled=5, sampled_exempt=0, positives=0, negatives=5, pending=0, invalid=0
    )
    assert (full.missing, full.coverage) == (0, 1.0)
    empty = campaign.progress(
        expected=0, sampled=2, sampled_exempt=2, positives=0, negatives=2, pending=0, invalid=0
    )
    assert (empty.missing, empty.coverage) == (0, None)


# --------------------------------------------------------------------------- schedule


def test_elapsed_share_of_the_window() -> None:
    assert campaign.elapsed_share(start_at=START, deadline_at=DEADLINE, at=START) == 0.0
    at_six = START + timedelta(hours=6)
    assert campaign.elapsed_share(start_at=START, deadline_at=DEADLINE, at=at_six) == 0.25
    before = START - timedelta(hours=1)
    assert campaign.elapsed_share(start_at=START, deadline_at=DEADLINE, at=before) == 0.0
    after = DEADLINE + timedelta(hours=5)
    assert campaign.elapsed_share(start_at=START, deadline_at=DEADLINE, at=after) == 1.0
    assert campaign.elapsed_share(start_at=START, deadline_at=START, at=START) == 1.0


@pytest.mark.parametrize(
    ("missing", "coverage", "share", "behind"),
    [
        (5, 0.20, 0.25, True),  # below the line
        (5, 0.25, 0.25, False),  # on the line
        (5, 0.30, 0.25, False),  # ahead
        (0, 1.00, 1.00, False),  # everyone sampled
        (1, 0.99, 1.00, True),  # after the deadline with someone missing
        (0, None, 0.50, False),  # nobody expected
        (3, 0.00, 0.00, False),  # the round has just started
    ],
)
def test_behind_schedule(missing: int, coverage: float | None, share: float, behind: bool) -> None:
    assert campaign.behind_schedule(missing=missing, coverage=coverage, share=share) is behind


# --------------------------------------------------------------------------- pace


HOURLY = [
    (_local(8), 200),
    (_local(9), 150),
    (_local(10), 90),
    (_local(11), 60),
    (_local(12), 40),
    (_local(13), 30),
    (_local(14), 10),
    (_local(15), 99),  # after now: ignored
]


def test_recent_pace_over_the_last_three_clock_hours() -> None:
    # At 14:30 the window is 12:00–14:30: 40 + 30 + 10 = 80 samples in 2.5 h.
    pace = campaign.recent_pace(hourly=HOURLY, start_at=START, now=_local(14, 30))
    assert (pace.samples, pace.hours) == (80, pytest.approx(2.5))
    assert pace.per_hour == pytest.approx(32.0)
    assert pace.since == _local(12)
    # The average since the start would be 580 / 6.5 = 89 an hour: the recent pace is slower.


def test_recent_pace_of_a_round_that_started_inside_the_window() -> None:
    start = _local(12, 45)
    hourly = [(_local(12), 14), (_local(13), 21)]
    pace = campaign.recent_pace(hourly=hourly, start_at=start, now=_local(13, 30))
    assert (pace.samples, pace.hours, pace.since) == (35, pytest.approx(0.75), start)
    assert pace.per_hour == pytest.approx(35 / 0.75)


def test_recent_pace_with_another_window_and_at_the_start() -> None:
    pace = campaign.recent_pace(hourly=HOURLY, start_at=START, now=_local(14), window_hours=1)
    assert (pace.samples, pace.hours, pace.per_hour) == (10, 0.0, None)
    assert campaign.recent_pace(hourly=[], start_at=START, now=START).per_hour is None


def test_recent_pace_in_a_zone_with_half_hours() -> None:
    kolkata = ZoneInfo("Asia/Kolkata")
    now = datetime(2026, 3, 21, 14, 30, tzinfo=UTC)  # 20:00 in Kolkata
    hourly = [
        (datetime(2026, 3, 21, 17, 0, tzinfo=kolkata), 7),  # outside
        (datetime(2026, 3, 21, 18, 0, tzinfo=kolkata), 5),
        (datetime(2026, 3, 21, 19, 0, tzinfo=kolkata), 6),
        (datetime(2026, 3, 21, 20, 0, tzinfo=kolkata), 1),
    ]
    pace = campaign.recent_pace(hourly=hourly, start_at=START, now=now, tz=kolkata)
    assert (pace.samples, pace.hours) == (12, pytest.approx(2.0))
    assert pace.since == datetime(2026, 3, 21, 12, 30, tzinfo=UTC)


# --------------------------------------------------------------------------- forecast


def _pace(samples: int, hours: float, now: datetime) -> campaign.Pace:
    return campaign.Pace(
        samples=samples,
        hours=hours,
        per_hour=samples / hours if hours else None,
        since=now - timedelta(hours=hours),
    )


def test_forecast_at_the_recent_pace() -> None:
    now = START + timedelta(hours=6)
    # 80 in the last 2.5 h = 32 an hour; 320 missing → 10 h → START + 16 h, before the deadline.
    result = campaign.forecast(missing=320, pace=_pace(80, 2.5, now), now=now, deadline_at=DEADLINE)
    assert result.projected_finish == START + timedelta(hours=16)
    assert result.on_time is True
    assert result.hours_to_deadline == pytest.approx(18.0)


def test_forecast_that_misses_the_deadline_or_lands_on_it() -> None:
    now = START + timedelta(hours=6)
    late = campaign.forecast(missing=640, pace=_pace(80, 2.5, now), now=now, deadline_at=DEADLINE)
    assert late.projected_finish == START + timedelta(hours=26)
    assert late.on_time is False
    exact = campaign.forecast(missing=576, pace=_pace(80, 2.5, now), now=now, deadline_at=DEADLINE)
    assert exact.projected_finish == DEADLINE
    assert exact.on_time is True


def test_forecast_when_done_without_a_pace_or_closed() -> None:
    now = START + timedelta(hours=6)
    done = campaign.forecast(missing=0, pace=_pace(0, 2.0, now), now=now, deadline_at=DEADLINE)
    assert (done.projected_finish, done.on_time) == (now, True)
    stalled = campaign.forecast(missing=5, pace=_pace(0, 2.0, now), now=now, deadline_at=DEADLINE)
    assert (stalled.projected_finish, stalled.on_time) == (None, None)
    closed = campaign.forecast(
        missing=5,
        pace=_pace(10, 2.0, now),
        now=now,
        deadline_at=DEADLINE,
        closed_at=DEADLINE + timedelta(minutes=1),
    )
    assert (closed.projected_finish, closed.on_time) == (None, False)


# --------------------------------------------------------------------------- staffing


def test_staffing_from_the_policy_ratios() -> None:
    # 1,500 residents: 1500/800 → 2 … 1500/600 → 3 desks; 1500/360 = 4.2 → 5 samplers.
    staff = campaign.staffing(residents=1500, desks=1, workers=3, policy=Policy())
    assert (staff.desks_min, staff.desks_max, staff.desks, staff.desks_short) == (2, 3, 1, 1)
    assert (staff.samplers_needed, staff.workers, staff.samplers_short) == (5, 3, 2)
    enough = campaign.staffing(residents=1500, desks=4, workers=9, policy=Policy())
    assert (enough.desks_short, enough.samplers_short) == (0, 0)
    other = campaign.staffing(
        residents=1500, desks=1, workers=3, policy=Policy(residents_per_sampler=500)
    )
    assert other.samplers_needed == 3


# --------------------------------------------------------------------------- rollup


def test_rollup_sums_grids_and_recomputes_coverage() -> None:
    grids = pd.DataFrame(
        [
            ("C1", 10, 8, 3, 1, 5, 2, 0, True),
            ("C1", 20, 18, 2, 0, 16, 2, 0, False),
            ("C2", 0, 0, 0, 0, 0, 0, 0, False),
        ],
        columns=["community", *campaign.COUNT_COLUMNS, "behind"],
    )
    frame = campaign.rollup(grids=grids, by="community")
    assert list(frame.columns) == [
        "community",
        "grids",
        *campaign.COUNT_COLUMNS,
        "coverage",
        "behind_grids",
    ]
    c1, c2 = frame.to_dict("records")
    assert (c1["grids"], c1["expected"], c1["sampled"], c1["missing"]) == (2, 30, 26, 5)
    assert c1["coverage"] == pytest.approx(25 / 30)
    assert (c1["positives"], c1["behind_grids"]) == (1, 1)
    assert c2["grids"] == 1 and math.isnan(c2["coverage"])
    empty = campaign.rollup(grids=grids.iloc[0:0], by="community")
    assert empty.empty and list(empty.columns) == list(frame.columns)
