"""Epidemic analytics on hand-worked numbers."""

from __future__ import annotations

from datetime import date

import pytest

from gridcore.analytics import cases as epidemic
from gridcore.analytics import zones
from gridcore.policy import Policy

TODAY = date(2026, 3, 21)


def test_counted_cases_are_confirmed_or_asymptomatic_infections_not_ruled_out() -> None:
    assert epidemic.is_counted_case(kind="confirmed", status="active")
    assert epidemic.is_counted_case(kind="asymptomatic", status="recovered")
    assert not epidemic.is_counted_case(kind="suspected", status="active")
    assert not epidemic.is_counted_case(kind="confirmed", status="discarded")


def test_community_cases_are_those_found_outside_quarantine() -> None:
    assert not epidemic.is_community_case(found_via="quarantine")
    for found_via in ("screening", "mass_testing", "community"):
        assert epidemic.is_community_case(found_via=found_via)


def test_the_seven_day_window_includes_today() -> None:
    assert epidemic.window_start(today=TODAY) == date(2026, 3, 15)
    assert epidemic.window_start(today=TODAY, days=1) == TODAY


def test_incidence_per_ten_thousand() -> None:
    assert epidemic.incidence_per_10k(cases=4, population=20) == 2000.0
    assert epidemic.incidence_per_10k(cases=3, population=1200) == 25.0
    assert epidemic.incidence_per_10k(cases=0, population=500) == 0.0
    assert epidemic.incidence_per_10k(cases=2, population=0) is None


def test_doubling_time_from_two_weekly_counts() -> None:
    # 4 → 8 in a week: doubles in exactly 7 days; 4 → 16: in 3.5 days.
    assert epidemic.doubling_time_days(current_7d=8, previous_7d=4) == pytest.approx(7.0)
    assert epidemic.doubling_time_days(current_7d=16, previous_7d=4) == pytest.approx(3.5)
    # 2 → 7 (the tiny world): 7 ln 2 / ln 3.5 = 4.852 / 1.2528.
    assert epidemic.doubling_time_days(current_7d=7, previous_7d=2) == pytest.approx(
        3.8731, abs=1e-4
    )


@pytest.mark.parametrize(("current", "previous"), [(5, 5), (3, 6), (4, 0), (0, 0)])
def test_no_doubling_time_unless_growing_from_some_cases(current: int, previous: int) -> None:
    assert epidemic.doubling_time_days(current_7d=current, previous_7d=previous) is None


def test_share_found_inside_quarantine() -> None:
    assert epidemic.share_in_quarantine(in_quarantine=5, total=7) == pytest.approx(5 / 7)
    assert epidemic.share_in_quarantine(in_quarantine=0, total=3) == 0.0
    assert epidemic.share_in_quarantine(in_quarantine=0, total=0) is None


def test_days_since_the_last_case() -> None:
    assert epidemic.days_since(last_day=date(2026, 3, 13), today=TODAY) == 8
    assert epidemic.days_since(last_day=TODAY, today=TODAY) == 0
    assert epidemic.days_since(last_day=None, today=TODAY) is None


def test_quiet_days_count_from_the_later_of_order_start_and_last_case() -> None:
    # Controlled on the 14th, last community case the 13th: quiet 7 days on the 21st.
    assert (
        zones.quiet_days(
            order_start=date(2026, 3, 14), last_case_day=date(2026, 3, 13), today=TODAY
        )
        == 7
    )
    # Sealed on the 16th, a community case today: not quiet at all.
    assert zones.quiet_days(order_start=date(2026, 3, 16), last_case_day=TODAY, today=TODAY) == 0
    assert zones.quiet_days(order_start=date(2026, 3, 18), last_case_day=None, today=TODAY) == 3


def test_stepdown_follows_the_policy_for_each_level() -> None:
    policy = Policy(sealed_stepdown_days=7, controlled_stepdown_days=5)
    assert zones.stepdown_days_left(level="sealed", quiet_days=0, policy=policy) == 7
    assert zones.stepdown_days_left(level="sealed", quiet_days=7, policy=policy) == 0
    assert zones.stepdown_days_left(level="sealed", quiet_days=12, policy=policy) == 0
    assert zones.stepdown_days_left(level="controlled", quiet_days=3, policy=policy) == 2
    assert zones.stepdown_days_left(level="controlled", quiet_days=5, policy=policy) == 0
    assert zones.stepdown_days_left(level="precaution", quiet_days=9, policy=policy) is None
    assert zones.stepdown_days_left(level="", quiet_days=9, policy=policy) is None


def test_quarantine_length_and_planned_end_from_the_policy() -> None:
    policy = Policy()  # close: 7 central + 3 home monitoring; secondary: 7
    assert epidemic.quarantine_days(contact_type="close", policy=policy) == 10
    assert epidemic.quarantine_days(contact_type="secondary", policy=policy) == 7
    start = date(2026, 3, 11)
    assert epidemic.planned_end_date(contact_type="close", start_date=start, policy=policy) == (
        TODAY
    )
    assert epidemic.planned_end_date(
        contact_type="secondary", start_date=start, policy=Policy(secondary_home_days=14)
    ) == date(2026, 3, 25)


def test_days_left_in_quarantine() -> None:
    assert epidemic.quarantine_days_left(planned_end_date=TODAY, today=TODAY) == 0
    assert epidemic.quarantine_days_left(planned_end_date=date(2026, 3, 24), today=TODAY) == 3
    assert epidemic.quarantine_days_left(planned_end_date=date(2026, 3, 19), today=TODAY) == -2


def test_contact_test_schedule_counts_the_first_day_as_day_one() -> None:
    policy = Policy()
    start = date(2026, 3, 1)
    close = epidemic.contact_test_schedule(contact_type="close", start_date=start, policy=policy)
    # Days 1, 2, 3, 5, 7 of isolation, then day 3 of home monitoring = day 10.
    assert [d.day for d in close] == [1, 2, 3, 5, 7, 10]
    secondary = epidemic.contact_test_schedule(
        contact_type="secondary", start_date=start, policy=policy
    )
    assert [d.day for d in secondary] == [1, 4, 7]


def test_next_test_day() -> None:
    policy = Policy()
    start = date(2026, 3, 1)
    assert epidemic.next_test_day(
        contact_type="close", start_date=start, today=date(2026, 3, 4), policy=policy
    ) == date(2026, 3, 5)
    assert epidemic.next_test_day(
        contact_type="close", start_date=start, today=date(2026, 3, 5), policy=policy
    ) == date(2026, 3, 5)
    assert (
        epidemic.next_test_day(
            contact_type="secondary", start_date=start, today=date(2026, 3, 8), policy=policy
        )
        is None
    )
