"""Residents' requests: resolution targets by urgency and category, and what is overdue."""

from __future__ import annotations

from datetime import datetime, timedelta

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
