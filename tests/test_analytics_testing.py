"""Testing analytics on hand-worked numbers."""

from __future__ import annotations

from datetime import UTC, datetime

from gridcore.analytics import testing
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
