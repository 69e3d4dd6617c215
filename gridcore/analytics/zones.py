"""Zone orders: when a sealed or controlled area may step down."""

from __future__ import annotations

from datetime import date

from gridcore.models import ZoneLevel
from gridcore.policy import Policy


def quiet_days(*, order_start: date, last_case_day: date | None, today: date) -> int:
    """Days an ordered area has gone without a community case.

    Counted from the later of the order's start and the last community case: an area
    sealed on the 14th whose last community case was on the 13th has been quiet for
    7 days on the 21st.
    """
    since = order_start if last_case_day is None else max(order_start, last_case_day)
    return (today - since).days


def stepdown_days_left(*, level: str, quiet_days: int, policy: Policy) -> int | None:
    """Days until a sealed or controlled order may step down (0: eligible now).

    None for other levels, which have no step-down rule.
    """
    if level == ZoneLevel.sealed:
        needed = policy.sealed_stepdown_days
    elif level == ZoneLevel.controlled:
        needed = policy.controlled_stepdown_days
    else:
        return None
    return max(0, needed - quiet_days)
