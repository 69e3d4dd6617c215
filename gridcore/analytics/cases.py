"""Epidemic figures: which cases count, incidence, doubling time, quarantine timers, step-down.

A *case* in every figure is an infection: kind confirmed or asymptomatic, and not
ruled out. Suspected cases are followed on the Cases page but counted nowhere.
A *community case* is one not found inside quarantine (found by community
screening, mass testing or anywhere else in the community): it is what tells an
area's spread. A reclassified case (an earlier asymptomatic one, now confirmed) is not new.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

from gridcore.models import CaseKind, CaseStatus, ContactType, FoundVia
from gridcore.policy import Policy

COUNTED_KINDS: tuple[str, ...] = (CaseKind.confirmed, CaseKind.asymptomatic)
NOT_COUNTED_STATUS: str = CaseStatus.discarded
QUARANTINE_FOUND: str = FoundVia.quarantine
WINDOW_DAYS = 7


def is_counted_case(*, kind: str, status: str) -> bool:
    """Whether a case is an infection that the figures count."""
    return kind in COUNTED_KINDS and status != NOT_COUNTED_STATUS


def is_community_case(*, found_via: str) -> bool:
    """Whether a case was found outside quarantine."""
    return found_via != QUARANTINE_FOUND


def window_start(*, today: date, days: int = WINDOW_DAYS) -> date:
    """First day of the `days`-day window that ends with `today` (both days included)."""
    return today - timedelta(days=days - 1)


def incidence_per_10k(*, cases: int, population: int) -> float | None:
    """Cases per 10,000 residents; None when nobody lives there."""
    if population <= 0:
        return None
    return cases * 10_000 / population


def doubling_time_days(*, current_7d: int, previous_7d: int) -> float | None:
    """Days for cases to double, from two consecutive 7-day windows; None unless growing.

    Growth is exponential at rate r with current = previous · e^(7r), so the doubling
    time is 7 · ln 2 / ln(current / previous). It is undefined (None) when the previous
    window had no case or when cases did not grow.
    """
    if previous_7d <= 0 or current_7d <= previous_7d:
        return None
    return WINDOW_DAYS * math.log(2) / math.log(current_7d / previous_7d)


def share_in_quarantine(*, in_quarantine: int, total: int) -> float | None:
    """Share of new cases found inside quarantine (0..1); None without cases."""
    if total <= 0:
        return None
    return in_quarantine / total


def days_since(*, last_day: date | None, today: date) -> int | None:
    """Whole days from `last_day` to `today` (0 on the day itself); None if never."""
    if last_day is None:
        return None
    return (today - last_day).days


def quarantine_days(*, contact_type: str, policy: Policy) -> int:
    """Length of a contact's quarantine under the policy (close: isolation + monitoring)."""
    if contact_type == ContactType.close:
        return policy.close_central_days + policy.close_home_monitoring_days
    return policy.secondary_home_days


def planned_end_date(*, contact_type: str, start_date: date, policy: Policy) -> date:
    """The day a contact's quarantine ends: start plus the policy's days."""
    return start_date + timedelta(days=quarantine_days(contact_type=contact_type, policy=policy))


def quarantine_days_left(*, planned_end_date: date, today: date) -> int:
    """Days until the planned end (0: due to end today; negative: overdue for release)."""
    return (planned_end_date - today).days


def contact_test_schedule(*, contact_type: str, start_date: date, policy: Policy) -> list[date]:
    """The days a contact is tested: day 1 is the first day of quarantine.

    Close contacts: the isolation test days, then the home-monitoring test days
    counted from the first day of monitoring; secondary contacts: their own days.
    """
    if contact_type == ContactType.close:
        days = list(policy.close_test_days) + [
            policy.close_central_days + d for d in policy.close_home_test_days
        ]
    else:
        days = list(policy.secondary_test_days)
    return [start_date + timedelta(days=d - 1) for d in sorted(days)]


def next_test_day(
    *, contact_type: str, start_date: date, today: date, policy: Policy
) -> date | None:
    """The next test day on or after `today`; None when every test day has passed."""
    upcoming = [
        d
        for d in contact_test_schedule(
            contact_type=contact_type, start_date=start_date, policy=policy
        )
        if d >= today
    ]
    return upcoming[0] if upcoming else None
