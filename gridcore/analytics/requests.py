"""Residents' requests: resolution targets by urgency and category, and what is overdue."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from gridcore.models import OPEN_REQUEST_STATUSES, RequestCategory, Urgency
from gridcore.policy import Policy


def request_target_hours(*, category: str, urgency: str, policy: Policy) -> int:
    """Hours within which a request should be resolved.

    Urgent medical care: the urgent-medical target. Medical care that is not urgent is
    held to the medicine target; medicine, food and other have their own targets,
    whatever their urgency.
    """
    if category == RequestCategory.medical_care:
        if urgency == Urgency.urgent:
            return policy.target_hours_urgent_medical
        return policy.target_hours_medicine
    if category == RequestCategory.medicine:
        return policy.target_hours_medicine
    if category == RequestCategory.food:
        return policy.target_hours_food
    return policy.target_hours_other


def request_targets(*, policy: Policy) -> dict[tuple[str, str], int]:
    """Target hours for every (category, urgency) pair, for building one SQL condition."""
    return {
        (category.value, urgency.value): request_target_hours(
            category=category, urgency=urgency, policy=policy
        )
        for category in RequestCategory
        for urgency in Urgency
    }


def request_overdue(
    *,
    category: str,
    urgency: str,
    status: str,
    created_at: datetime,
    now: datetime,
    policy: Policy,
) -> bool:
    """Whether an open request has waited longer than its target."""
    if status not in OPEN_REQUEST_STATUSES:
        return False
    hours = request_target_hours(category=category, urgency=urgency, policy=policy)
    return now - created_at > timedelta(hours=hours)


def supply_key(category: str, item_id: int | None) -> tuple[str, int | None]:
    """What a request asks for, for telling the same need twice: its category and item."""
    return category, item_id


def likely_duplicates(requests: Sequence[Mapping[str, Any]]) -> dict[int, int]:
    """Requests made while an earlier one of the same household for the same thing was open.

    `requests` need: id, household_id, category, item_id, created_at, closed_at (None while
    open; the time it was done or cancelled). Returns the later request's id → the id of
    the earlier one still open at that time. Requests without a household are never flagged.
    """
    by_need: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    for request in requests:
        if request.get("household_id") is None:
            continue
        key = (request["household_id"], *supply_key(request["category"], request.get("item_id")))
        by_need.setdefault(key, []).append(request)
    found: dict[int, int] = {}
    for same in by_need.values():
        same.sort(key=lambda r: (r["created_at"], r["id"]))
        for i, later in enumerate(same):
            for earlier in same[:i]:
                closed = earlier.get("closed_at")
                if closed is None or closed > later["created_at"]:
                    found[int(later["id"])] = int(earlier["id"])
                    break
    return found


def hours_to_resolve(created_at: datetime, done_at: datetime | None) -> float | None:
    """Hours from a request's creation to its done time (None while it is not done)."""
    if done_at is None:
        return None
    return (done_at - created_at).total_seconds() / 3600


def resolution_by_category(
    done: Sequence[tuple[str, str, float]], *, policy: Policy
) -> list[dict[str, Any]]:
    """Per category: requests done, median and longest hours, and how many within target.

    `done` holds (category, urgency, hours to resolve) of done requests. Categories in the
    order of the RequestCategory list; one with nothing done is left out.
    """
    rows: list[dict[str, Any]] = []
    for category in RequestCategory:
        mine = [(u, h) for c, u, h in done if c == category]
        if not mine:
            continue
        hours = sorted(h for _, h in mine)
        within = sum(
            h <= request_target_hours(category=category, urgency=u, policy=policy) for u, h in mine
        )
        middle = len(hours) // 2
        median = hours[middle] if len(hours) % 2 else (hours[middle - 1] + hours[middle]) / 2
        rows.append(
            {
                "category": category.value,
                "done": len(mine),
                "median_hours": median,
                "max_hours": hours[-1],
                "within_target": within,
                "target_hours": request_target_hours(
                    category=category, urgency=Urgency.normal, policy=policy
                ),
            }
        )
    return rows
