"""Overview queries against the tiny world (answers: gridcore/demo/tiny.py), on both backends."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlmodel import Session

from gridcore.analytics.risk import Reason
from gridcore.i18n import Named, t
from gridcore.queries import overview

if TYPE_CHECKING:
    from tiny_world import TinyWorld

pytestmark = pytest.mark.both_backends  # queries: the dialect matters


@pytest.fixture
def headline(tiny: TinyWorld, tiny_session: Session) -> overview.Headline:
    return overview.headline(session=tiny_session, today=tiny.anchor, now=tiny.now)


def test_headline_cases(headline: overview.Headline) -> None:
    assert headline.new_cases == overview.Figure(2, 1)  # C10, C11 today; C08 yesterday
    assert headline.new_cases_outside_quarantine == overview.Figure(1, 0)  # C10
    assert headline.active_cases == overview.Figure(7, 5)


def test_headline_contacts_in_quarantine(headline: overview.Headline) -> None:
    # Now: 8 with status in quarantine. Yesterday: K01–K05, K07, K09 covered 03-20.
    assert headline.in_quarantine == overview.Figure(8, 7)


def test_headline_coverage_of_the_latest_round(headline: overview.Headline) -> None:
    assert headline.latest_round_name == Named("Round 2", "第2轮全员核酸")
    assert headline.latest_round_coverage.value == pytest.approx(39 / 57)
    # Round 2 started today: it has no figure at the end of yesterday, and Round 1's final
    # 64/66 is a different round, not a fall.
    assert headline.latest_round_coverage.previous is None


def test_headline_requests(headline: overview.Headline) -> None:
    assert headline.open_requests == overview.Figure(9, 7)
    # At midnight only R04 (food, 28 h old, done since) was past its target.
    assert headline.overdue_requests == overview.Figure(5, 1)


def test_headline_supplies_and_staffing(headline: overview.Headline) -> None:
    assert headline.supplies_below_min == overview.Figure(1, 0)  # grid KIT 18 < 20 (26 at midnight)
    assert headline.understaffed_grids == overview.Figure(2, None)


def test_daily_trend_over_the_last_week(tiny: TinyWorld, tiny_session: Session) -> None:
    trend = overview.daily_trend(
        session=tiny_session, start=tiny.anchor - timedelta(days=6), end=tiny.anchor
    )
    assert list(trend.columns) == overview.TREND_COLUMNS
    assert list(trend["day"]) == [date(2026, 3, d) for d in range(15, 22)]
    assert list(trend["new_cases"]) == [0, 1, 1, 1, 1, 1, 2]
    assert list(trend["outside_quarantine"]) == [0, 1, 0, 0, 0, 0, 1]
    assert list(trend["in_quarantine"]) == [5, 6, 6, 6, 7, 7, 8]
    assert list(trend["active_cases"]) == [0, 1, 2, 3, 4, 5, 7]


def test_daily_trend_is_zero_filled_and_counts_active_cases_from_before(
    tiny: TinyWorld, tiny_session: Session
) -> None:
    trend = overview.daily_trend(
        session=tiny_session, start=date(2026, 3, 17), end=date(2026, 3, 23)
    )
    assert len(trend) == 7
    assert list(trend["new_cases"]) == [1, 1, 1, 1, 2, 0, 0]
    # C04 (03-16, before the range) is active: the count starts at 2 on the 17th.
    assert list(trend["active_cases"]) == [2, 3, 4, 5, 7, 7, 7]
    # K01, K02 end on the 21st, K04 on the 24th; K07 on the 23rd.
    assert list(trend["in_quarantine"]) == [6, 6, 7, 7, 8, 6, 6]


def test_daily_trend_of_an_empty_range(tiny_session: Session) -> None:
    trend = overview.daily_trend(
        session=tiny_session, start=date(2026, 3, 21), end=date(2026, 3, 20)
    )
    assert trend.empty and list(trend.columns) == overview.TREND_COLUMNS


def test_needs_attention_most_urgent_first(tiny: TinyWorld, tiny_session: Session) -> None:
    items = overview.needs_attention(session=tiny_session, today=tiny.anchor, now=tiny.now)
    assert [(a.grid_code, a.severity) for a in items] == [
        ("T-C1-G1", "high"),
        ("T-C1-G2", "medium"),
        ("T-C2-G1", "low"),
    ]
    g1, g2, g3 = items
    assert (g1.grid_name, g1.grid_name_zh) == ("Grid 1-1", "第一社区1号网格")
    # Risk reasons first, then what is due today.
    assert g1.reasons[-2:] == [
        Reason("reason.contacts_end_today", {"n": 2}),
        Reason(
            "reason.supplies_below_min.one",
            {"n": 1, "depot": Named("Grid 1-1 depot", "第一社区1号网格物资点")},
        ),
    ]
    # The depot is named in the reader's language.
    assert t(g1.reasons[-1].key, "zh", **g1.reasons[-1].params).count("第一社区1号网格物资点") == 1
    assert g1.reasons[0] == Reason("reason.zone_sealed")
    assert g2.reasons[-1] == Reason("reason.stepdown_controlled", {"days": 7})
    assert g2.reasons[0] == Reason("reason.zone_controlled")
    assert [r.key for r in g3.reasons] == [
        "reason.active_cases",
        "reason.overdue_requests",
        "reason.households_per_worker",
    ]


def test_needs_attention_keeps_to_the_limit(tiny: TinyWorld, tiny_session: Session) -> None:
    items = overview.needs_attention(session=tiny_session, today=tiny.anchor, now=tiny.now, limit=1)
    assert [a.grid_code for a in items] == ["T-C1-G1"]


def test_an_empty_database(session: Session) -> None:
    today, now = date(2026, 3, 21), datetime(2026, 3, 21, 4, tzinfo=UTC)
    head = overview.headline(session=session, today=today, now=now)
    trend = overview.daily_trend(session=session, start=today - timedelta(days=2), end=today)
    items = overview.needs_attention(session=session, today=today, now=now)
    assert head.new_cases == overview.Figure(0, 0)
    assert head.latest_round_coverage == overview.Figure(None, None)
    assert head.latest_round_name is None
    assert head.supplies_below_min == overview.Figure(0, 0)
    assert head.understaffed_grids == overview.Figure(0, None)
    assert list(trend["new_cases"]) == [0, 0, 0]
    assert items == []
