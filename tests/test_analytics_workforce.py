"""Workforce analytics on hand-worked numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gridcore.analytics import requests, workforce
from gridcore.policy import Policy

NOW = datetime(2026, 3, 21, 4, 0, tzinfo=UTC)


def test_households_per_full_time_worker() -> None:
    assert workforce.households_per_worker(households=600, full_time_workers=2) == 300.0
    assert workforce.households_per_worker(households=10, full_time_workers=1) == 10.0
    assert workforce.households_per_worker(households=10, full_time_workers=0) is None


def test_understaffed_against_the_policy_standard() -> None:
    policy = Policy(households_per_fulltime_worker=300)
    assert not workforce.understaffed(households=600, full_time_workers=2, policy=policy)
    assert workforce.understaffed(households=601, full_time_workers=2, policy=policy)
    assert workforce.understaffed(households=50, full_time_workers=0, policy=policy)
    assert not workforce.understaffed(households=0, full_time_workers=0, policy=policy)
    small = Policy(households_per_fulltime_worker=5)
    assert workforce.understaffed(households=10, full_time_workers=1, policy=small)


@pytest.mark.parametrize(
    ("category", "urgency", "hours"),
    [
        ("medical_care", "urgent", 2),
        ("medical_care", "normal", 24),
        ("medicine", "urgent", 24),
        ("medicine", "normal", 24),
        ("food", "urgent", 24),
        ("food", "normal", 24),
        ("other", "urgent", 72),
        ("other", "normal", 72),
    ],
)
def test_request_targets_follow_the_default_policy(category: str, urgency: str, hours: int) -> None:
    policy = Policy()
    assert requests.request_target_hours(category=category, urgency=urgency, policy=policy) == hours
    assert requests.request_targets(policy=policy)[(category, urgency)] == hours


def test_request_targets_follow_a_changed_policy() -> None:
    policy = Policy(target_hours_urgent_medical=1, target_hours_medicine=12,
                    target_hours_food=6, target_hours_other=48)  # fmt: skip
    assert (
        requests.request_target_hours(category="medical_care", urgency="urgent", policy=policy) == 1
    )
    assert requests.request_target_hours(category="food", urgency="normal", policy=policy) == 6
    assert requests.request_target_hours(category="other", urgency="urgent", policy=policy) == 48


def test_an_open_request_is_overdue_once_past_its_target() -> None:
    policy = Policy()

    def overdue(category: str, urgency: str, status: str, age_hours: float) -> bool:
        return requests.request_overdue(
            category=category, urgency=urgency, status=status,
            created_at=NOW - timedelta(hours=age_hours), now=NOW, policy=policy,
        )  # fmt: skip

    assert overdue("medical_care", "urgent", "new", 3)
    assert not overdue("medical_care", "urgent", "assigned", 1)
    assert not overdue("medical_care", "urgent", "new", 2)  # exactly on target
    assert overdue("medicine", "normal", "in_progress", 30)
    assert overdue("food", "urgent", "new", 25)
    assert not overdue("other", "normal", "in_progress", 50)
    assert overdue("other", "normal", "assigned", 80)


def test_closed_requests_are_never_overdue() -> None:
    for status in ("done", "cancelled"):
        assert not requests.request_overdue(
            category="medical_care", urgency="urgent", status=status,
            created_at=NOW - timedelta(hours=100), now=NOW, policy=Policy(),
        )  # fmt: skip
