"""Requests and tasks analytics on hand-worked numbers: duplicates, time to resolve, turns, undo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from gridcore.analytics.requests import (
    hours_to_resolve,
    likely_duplicates,
    request_overdue,
    resolution_by_category,
)
from gridcore.analytics.tasks import in_turn, undo_allowed
from gridcore.policy import Policy

T = datetime(2026, 3, 21, 0, 0, tzinfo=UTC)


def _r(number: int, household: int | None, category: str, item: int | None, created_h: float,
       closed_h: float | None = None) -> dict[str, Any]:  # fmt: skip
    return {
        "id": number,
        "household_id": household,
        "category": category,
        "item_id": item,
        "created_at": T + timedelta(hours=created_h),
        "closed_at": None if closed_h is None else T + timedelta(hours=closed_h),
    }


def test_a_second_request_for_the_same_thing_while_the_first_is_open_is_a_likely_duplicate() -> (
    None
):
    requests = [
        _r(1, 10, "food", 5, 0),  # open
        _r(2, 10, "food", 5, 3),  # while 1 is open → duplicate of 1
        _r(3, 10, "food", 6, 4),  # another item: not a duplicate
        _r(4, 10, "medicine", None, 5),  # another category
        _r(5, 20, "food", 5, 5),  # another household
        _r(6, 30, "other", None, 0, closed_h=2),  # done at 2 h …
        _r(7, 30, "other", None, 2),  # … taken at 2 h: 6 no longer open, but 8 is → of 8
        _r(8, 30, "other", None, 1),  # taken at 1 h, while 6 was open → duplicate of 6
        _r(9, None, "food", 5, 6),  # no household: never flagged
        _r(10, None, "food", 5, 7),
    ]
    assert likely_duplicates(requests) == {2: 1, 8: 6, 7: 8}


def test_hours_to_resolve_and_overdue_by_the_policys_targets() -> None:
    policy = Policy()  # urgent medical care 2 h, medicine and food 24 h, other 72 h
    assert hours_to_resolve(T, T + timedelta(hours=5, minutes=30)) == 5.5
    assert hours_to_resolve(T, None) is None
    late = {"created_at": T, "policy": policy, "status": "assigned"}
    assert request_overdue(
        category="medical_care", urgency="urgent", now=T + timedelta(hours=2, minutes=1), **late
    )
    assert not request_overdue(
        category="medical_care", urgency="urgent", now=T + timedelta(hours=2), **late
    )
    assert not request_overdue(
        category="other", urgency="urgent", now=T + timedelta(hours=71), **late
    )
    assert not request_overdue(category="food", urgency="normal", now=T + timedelta(days=9),
                               created_at=T, policy=policy, status="done")  # fmt: skip


def test_time_to_resolve_per_category_against_the_target() -> None:
    """Food: 10, 20, 30 h → median 20, longest 30, 2 of 3 within 24 h. Medical care: urgent
    1 h and 3 h (target 2 h), normal 20 h (target 24 h) → median 3, 2 of 3 in target.
    Medicine and other: nothing done, left out."""
    done = [
        ("food", "normal", 10.0), ("food", "urgent", 30.0), ("food", "normal", 20.0),
        ("medical_care", "urgent", 1.0), ("medical_care", "urgent", 3.0),
        ("medical_care", "normal", 20.0),
    ]  # fmt: skip
    rows = resolution_by_category(done, policy=Policy())
    assert rows == [
        {"category": "food", "done": 3, "median_hours": 20.0, "max_hours": 30.0,
         "within_target": 2, "target_hours": 24},
        {"category": "medical_care", "done": 3, "median_hours": 3.0, "max_hours": 20.0,
         "within_target": 2, "target_hours": 24},
    ]  # fmt: skip
    even = resolution_by_category(
        [("other", "normal", 4.0), ("other", "normal", 7.0)], policy=Policy()
    )
    assert even[0]["median_hours"] == 5.5


def test_in_turn_starts_with_the_least_busy_worker() -> None:
    assert in_turn([11, 12, 13], {11: 2, 12: 1, 13: 1}) == [12, 13, 11]
    assert in_turn([11, 12, 13], {}) == [11, 12, 13]
    assert in_turn([11, 12, 13], {11: 1, 12: 1}) == [13, 11, 12]
    assert in_turn([], {}) == []


def test_a_step_can_be_undone_for_one_minute() -> None:
    assert undo_allowed(previous="open", changed_at=T, now=T + timedelta(seconds=60))
    assert not undo_allowed(previous="open", changed_at=T, now=T + timedelta(seconds=61))
    assert not undo_allowed(previous=None, changed_at=T, now=T)
    assert not undo_allowed(previous="open", changed_at=None, now=T)
