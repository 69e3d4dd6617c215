"""Zone clocks and suggestions, against answers worked out by hand (default policy: 7 + 7 days)."""

from __future__ import annotations

from datetime import date

import pytest

from gridcore.analytics import zones
from gridcore.analytics.risk import Reason
from gridcore.policy import DEFAULT_POLICY, Policy

TODAY = date(2026, 3, 21)
POLICY = DEFAULT_POLICY


def _day(d: int) -> date:
    return date(2026, 3, d)


def test_a_sealed_order_with_a_case_today_steps_down_in_seven_days() -> None:
    # Sealed 03-16, last community case 03-21: quiet since 03-21, 0 days; 03-21 + 7 = 03-28.
    timer = zones.order_timer(
        level="sealed", order_start=_day(16), last_case_day=_day(21), today=TODAY, policy=POLICY
    )
    assert timer == zones.OrderTimer(
        quiet_days=0, stepdown_date=_day(28), days_left=7, overdue_days=0
    )


def test_a_controlled_order_quiet_since_before_it_began_may_step_down_today() -> None:
    # Controlled 03-14, last case 03-13: quiet since 03-14, 7 days; may step down 03-21.
    timer = zones.order_timer(
        level="controlled",
        order_start=_day(14),
        last_case_day=_day(13),
        today=TODAY,
        policy=POLICY,
    )
    assert (timer.quiet_days, timer.stepdown_date, timer.days_left) == (7, _day(21), 0)
    assert not timer.overdue


def test_an_order_past_its_step_down_date_is_overdue() -> None:
    # Sealed 03-05, no case: may step down 03-12; on 03-21 nine days overdue.
    timer = zones.order_timer(
        level="sealed", order_start=_day(5), last_case_day=None, today=TODAY, policy=POLICY
    )
    assert (timer.quiet_days, timer.stepdown_date, timer.days_left) == (16, _day(12), 0)
    assert timer.overdue_days == 9 and timer.overdue


def test_the_timer_follows_the_policy_and_precaution_has_none() -> None:
    longer = Policy(sealed_stepdown_days=14)
    timer = zones.order_timer(
        level="sealed", order_start=_day(16), last_case_day=None, today=TODAY, policy=longer
    )
    assert (timer.stepdown_date, timer.days_left) == (date(2026, 3, 30), 9)
    none = zones.order_timer(
        level="precaution", order_start=_day(1), last_case_day=None, today=TODAY, policy=POLICY
    )
    assert (none.stepdown_date, none.days_left, none.overdue_days) == (None, None, 0)


def test_levels_step_down_one_at_a_time() -> None:
    assert zones.next_level("sealed") == "controlled"
    assert zones.next_level("controlled") == "precaution"
    assert zones.next_level("precaution") is None
    with pytest.raises(ValueError):
        zones.next_level("lockdown")


def _suggest(
    level: str, start: int | None, last: int | None, community: int = 0, quarantine: int = 0
):
    return zones.suggest_zone(
        level=level,
        order_start=_day(start) if start else None,
        last_community_case=_day(last) if last else None,
        community_cases_recent=community,
        quarantine_cases_recent=quarantine,
        today=TODAY,
        policy=POLICY,
    )


def test_a_grid_with_a_recent_community_case_and_no_order_should_be_sealed() -> None:
    s = _suggest("", None, 19, community=2)
    assert (s.action, s.level) == ("issue", "sealed")
    assert s.reason == Reason("zones.why.community_cases", {"n": 2, "days": 7, "day": _day(19)})
    one = _suggest("", None, 15, community=1)
    assert one.reason.key == "zones.why.community_cases.one"


def test_a_case_eight_days_ago_or_only_in_quarantine_needs_no_order() -> None:
    # 03-14 is 7 days before 03-21: outside the 7-day window (03-15..03-21).
    old = _suggest("", None, 14, community=0)
    assert (old.action, old.level, old.reason.key) == ("none", "", "zones.why.no_cases")
    quarantine = _suggest("", None, None, quarantine=3)
    assert quarantine.reason == Reason("zones.why.quarantine_only", {"n": 3, "days": 7})


def test_sealed_keeps_its_countdown_then_steps_down_to_controlled() -> None:
    keep = _suggest("sealed", 16, 21, community=2)
    assert (keep.action, keep.level) == ("keep", "sealed")
    assert keep.reason == Reason("zones.why.keep", {"n": 7, "day": _day(28)})
    quiet = _suggest("sealed", 10, 13)
    assert (quiet.action, quiet.level) == ("step_down", "controlled")
    assert quiet.reason == Reason("zones.why.sealed_quiet", {"days": 8, "since": _day(13)})


def test_controlled_is_lifted_when_quiet_and_raised_on_a_new_community_case() -> None:
    lift = _suggest("controlled", 14, 13)
    assert (lift.action, lift.level) == ("lift", "")
    assert lift.reason == Reason("zones.why.controlled_quiet", {"days": 7, "since": _day(14)})
    raised = _suggest("controlled", 14, 18, community=1)
    assert (raised.action, raised.level) == ("escalate", "sealed")
    assert raised.reason == Reason("zones.why.case_in_controlled", {"day": _day(18)})
    # A case on the day the order began is the case it was issued for: keep, 4 days left.
    same_day = _suggest("controlled", 18, 18, community=1)
    assert (same_day.action, same_day.reason.params["n"]) == ("keep", 4)


def test_precaution_is_kept_without_a_timer() -> None:
    s = _suggest("precaution", 1, None)
    assert (s.action, s.level, s.reason.key) == ("keep", "precaution", "zones.why.precaution")


def test_a_place_is_sealed_seven_days_then_controlled_seven_then_lifted() -> None:
    case = date(2022, 4, 1)
    on = zones.place_zone(last_case_day=case, as_of=date(2022, 4, 1), policy=POLICY)
    assert on == zones.PlaceZone("sealed", 7, date(2022, 4, 8))
    assert zones.place_zone(last_case_day=case, as_of=date(2022, 4, 7), policy=POLICY) == (
        zones.PlaceZone("sealed", 1, date(2022, 4, 8))
    )
    assert zones.place_zone(last_case_day=case, as_of=date(2022, 4, 8), policy=POLICY) == (
        zones.PlaceZone("controlled", 7, date(2022, 4, 15))
    )
    assert zones.place_zone(last_case_day=case, as_of=date(2022, 4, 14), policy=POLICY) == (
        zones.PlaceZone("controlled", 1, date(2022, 4, 15))
    )
    assert zones.place_zone(last_case_day=case, as_of=date(2022, 4, 15), policy=POLICY) is None
    assert zones.place_zone(last_case_day=case, as_of=date(2022, 3, 31), policy=POLICY) is None
    assert zones.place_window_days(POLICY) == 14
