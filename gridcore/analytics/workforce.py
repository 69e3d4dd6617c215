"""Workforce figures: staffing against the standard, and request targets."""

from __future__ import annotations

from gridcore.policy import Policy


def households_per_worker(*, households: int, full_time_workers: int) -> float | None:
    """Households per full-time worker; None without a full-time worker."""
    if full_time_workers <= 0:
        return None
    return households / full_time_workers


def understaffed(*, households: int, full_time_workers: int, policy: Policy) -> bool:
    """Whether a grid with households has no full-time worker or more per worker than standard."""
    if households <= 0:
        return False
    ratio = households_per_worker(households=households, full_time_workers=full_time_workers)
    return ratio is None or ratio > policy.households_per_fulltime_worker
