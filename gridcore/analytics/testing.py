"""Mass-testing figures: coverage, projected finish, and the staff a round needs."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from gridcore.models import HealthStatus
from gridcore.policy import Policy

# Residents in any other health status are exempt from a round (in hospital, isolated, away).
EXPECTED_STATUS: str = HealthStatus.at_home


def coverage(*, sampled: int, expected: int) -> float | None:
    """Sampled ÷ expected, at most 1; None when nobody is expected.

    Capped at 1 because a resident who left home after being sampled is no longer
    expected but stays sampled.
    """
    if expected <= 0:
        return None
    return min(1.0, sampled / expected)


def projected_finish(
    *, start_at: datetime, now: datetime, sampled: int, expected: int
) -> datetime | None:
    """When the round will have sampled everyone at the pace so far; None without a pace.

    Returns `now` when everyone expected is already sampled.
    """
    remaining = expected - sampled
    if remaining <= 0:
        return now
    elapsed_hours = (now - start_at).total_seconds() / 3600
    if sampled <= 0 or elapsed_hours <= 0:
        return None
    per_hour = sampled / elapsed_hours
    return now + timedelta(hours=remaining / per_hour)


def samplers_needed(*, residents: int, policy: Policy) -> int:
    """Samplers for one round-day: residents ÷ residents per sampler, rounded up."""
    return math.ceil(residents / policy.residents_per_sampler)


def desks_needed(*, residents: int, policy: Policy) -> tuple[int, int]:
    """Fewest and most sampling desks the guide asks for (one per 600–800 residents)."""
    return (
        math.ceil(residents / policy.residents_per_desk_max),
        math.ceil(residents / policy.residents_per_desk_min),
    )
