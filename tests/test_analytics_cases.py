"""Epidemic analytics on hand-worked numbers."""

from __future__ import annotations

from datetime import date

import pandas as pd
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


# --------------------------------------------------------------------------- daily counts


def _daily(*rows: tuple[int, int, str, str, int]) -> pd.DataFrame:
    """Rows of (day of March 2026, area, kind, found_via, count)."""
    return pd.DataFrame(
        [(date(2026, 3, d), a, k, f, n) for d, a, k, f, n in rows],
        columns=epidemic.DAILY_COLUMNS,
    )


# A small outbreak in two areas. Last 7 days (15..21): area 1: 2 quarantine + 1 screening
# + 3 community = 6; area 2: 2 mass testing; 3 reclassified (not new). The 7 days before
# (8..14): 2 in area 1. Outside the window: 5 on the 1st.
OUTBREAK = _daily(
    (1, 1, "confirmed", "community", 5),
    (9, 1, "confirmed", "community", 1),
    (14, 1, "asymptomatic", "quarantine", 1),
    (15, 1, "confirmed", "quarantine", 2),
    (18, 1, "asymptomatic", "screening", 1),
    (20, 1, "confirmed", "community", 3),
    (20, 1, "confirmed", "reclassified", 3),
    (21, 2, "asymptomatic", "mass_testing", 2),
)


def test_a_reclassified_case_is_not_new_and_not_a_community_case() -> None:
    assert not epidemic.is_new_case(found_via="reclassified")
    assert epidemic.is_new_case(found_via="quarantine")
    assert epidemic.is_new_community_case(found_via="community")
    assert not epidemic.is_new_community_case(found_via="reclassified")
    assert not epidemic.is_new_community_case(found_via="quarantine")
    assert not epidemic.is_community_case(found_via="reclassified")


def test_epidemic_curve_stacks_each_day_by_how_found() -> None:
    curve = epidemic.epidemic_curve(OUTBREAK, start=date(2026, 3, 18), end=TODAY)
    assert list(curve["day"]) == [date(2026, 3, d) for d in (18, 19, 20, 21)]
    assert list(curve["screening"]) == [1, 0, 0, 0]
    assert list(curve["community"]) == [0, 0, 3, 0]
    assert list(curve["reclassified"]) == [0, 0, 3, 0]
    assert list(curve["mass_testing"]) == [0, 0, 0, 2]
    assert list(curve["new"]) == [1, 0, 3, 2]  # reclassified apart
    confirmed = epidemic.epidemic_curve(
        OUTBREAK, start=date(2026, 3, 18), end=TODAY, kind="confirmed"
    )
    assert list(confirmed["new"]) == [0, 0, 3, 0]
    asymptomatic = epidemic.epidemic_curve(
        OUTBREAK, start=date(2026, 3, 18), end=TODAY, kind="asymptomatic"
    )
    assert list(asymptomatic["new"]) == [1, 0, 0, 2]


def test_new_cases_per_area_and_incidence() -> None:
    week = epidemic.window_start(today=TODAY)
    assert epidemic.new_cases(OUTBREAK, start=week, end=TODAY) == 8
    assert epidemic.new_cases(OUTBREAK, start=week, end=TODAY, community_only=True) == 6
    by_area = epidemic.new_cases_by_area(OUTBREAK, start=week, end=TODAY)
    assert by_area == {1: 6, 2: 2}
    # Area 1: 6 of 3,000 → 20 per 10k; area 2: 2 of 800 → 25; area 3: none of 500 → 0.
    assert epidemic.incidence_7d_by_area(
        new_7d=by_area, population={1: 3000, 2: 800, 3: 500, 4: 0}
    ) == {1: 20.0, 2: 25.0, 3: 0.0, 4: None}


def test_doubling_time_over_the_last_seven_days() -> None:
    # 8 this week against 2 the week before: 7 · ln 2 / ln 4 = 3.5 days.
    assert epidemic.doubling_time_7d(OUTBREAK, today=TODAY) == pytest.approx(3.5)
    # A week later nothing new: not growing.
    assert epidemic.doubling_time_7d(OUTBREAK, today=date(2026, 3, 28)) is None


def test_share_found_in_quarantine_leaves_reclassified_cases_out() -> None:
    week = epidemic.window_start(today=TODAY)
    # 2 of the 8 new cases this week were found in quarantine.
    assert epidemic.share_found_in_quarantine(OUTBREAK, start=week, end=TODAY) == 0.25
    assert epidemic.share_found_in_quarantine(OUTBREAK, start=TODAY, end=TODAY) == 0.0
    assert epidemic.share_found_in_quarantine(OUTBREAK, start=date(2026, 3, 2), end=date(
        2026, 3, 8)) is None  # fmt: skip


def test_days_since_community_case_and_contacts_per_case() -> None:
    assert epidemic.days_since_community_case(
        last_day={1: date(2026, 3, 20), 2: date(2026, 3, 1)}, areas=[1, 2, 3], today=TODAY
    ) == {1: 1, 2: 20, 3: None}
    assert epidemic.contacts_per_case(contacts=17, cases=4) == 4.25
    assert epidemic.contacts_per_case(contacts=3, cases=0) is None


# --------------------------------------------------------------------------- quarantine


def test_a_close_contacts_schedule_from_the_policy() -> None:
    # Close contact from 03-11 (day 1), released 03-21: tests 11, 12, 13, 15, 17 and 20.
    plan = epidemic.quarantine_schedule(
        contact_type="close",
        place="central",
        start_date=date(2026, 3, 11),
        planned_end_date=TODAY,
        tested_days={date(2026, 3, 11), date(2026, 3, 12), date(2026, 3, 15)},
        today=date(2026, 3, 17),
        policy=Policy(),
    )
    assert [d.day for d in plan.test_days] == [11, 12, 13, 15, 17, 20]
    assert plan.due_today and plan.next_test == date(2026, 3, 17)
    assert plan.overdue == (date(2026, 3, 13),)
    assert (plan.place, plan.days_left, plan.ends_today) == ("central", 4, False)


def test_a_secondary_contact_tested_today_is_not_due() -> None:
    plan = epidemic.quarantine_schedule(
        contact_type="secondary",
        place="home",
        start_date=date(2026, 3, 14),
        planned_end_date=TODAY,
        tested_days={date(2026, 3, 14), date(2026, 3, 20)},
        today=date(2026, 3, 20),
        policy=Policy(),
    )
    # Days 1, 4, 7: 14, 17, 20; the 17th missed; none left after today's.
    assert not plan.due_today and plan.next_test is None
    assert plan.overdue == (date(2026, 3, 17),)


def test_an_extended_quarantine_is_tested_on_its_last_day() -> None:
    # Secondary from 03-14, released 03-21 by the policy; extended to 03-25: a test on 03-24.
    days = epidemic.quarantine_test_days(
        contact_type="secondary",
        start_date=date(2026, 3, 14),
        planned_end_date=date(2026, 3, 25),
        policy=Policy(),
    )
    assert [d.day for d in days] == [14, 17, 20, 24]
    plan = epidemic.quarantine_schedule(
        contact_type="secondary", place="home", start_date=date(2026, 3, 14),
        planned_end_date=TODAY, tested_days=set(), today=TODAY, policy=Policy(),
    )  # fmt: skip
    assert plan.ends_today


# --------------------------------------------------------------------------- transmission


def test_transmission_clusters_join_chains_and_count_people() -> None:
    # 1 → 2 → 4 is one chain (contacts of 1 and of 2 became cases); 3 and 5 stand alone.
    cases = {1: date(2026, 3, 1), 2: date(2026, 3, 4), 3: date(2026, 3, 5), 4: date(2026, 3, 8),
             5: date(2026, 3, 2)}  # fmt: skip
    clusters = epidemic.transmission_clusters(
        cases=cases, links=[(2, 4), (1, 2)], contacts={1: 3, 2: 1, 3: 6, 5: 0}
    )
    assert [(c.root, c.cases, c.contacts, c.people) for c in clusters] == [
        (1, (1, 2, 4), 4, 7),
        (3, (3,), 6, 7),
        (5, (5,), 0, 1),
    ]
