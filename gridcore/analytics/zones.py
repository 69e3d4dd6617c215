"""Zone orders: when a sealed or controlled area may step down, and what command should do next.

The protocol (policy settings, default 9th edition): a sealed area steps down to controlled
after `sealed_stepdown_days` days without a new infection, a controlled area is lifted after
`controlled_stepdown_days` more. A precaution order has no timer: command lifts it. "Without
a new infection" counts community cases (found outside quarantine, see analytics.cases): a
case found inside quarantine was already shut away and does not restart an area's clock.

A step-down is *due* from its step-down date on and *overdue* the day after: an order still
at its level then is waiting for a decision.

Suggestions say why in words: each carries a Reason (an i18n key of catalog_zones and its
parameters; dates stay dates, the page formats them in its language).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from gridcore.analytics.risk import Reason
from gridcore.models import ZoneLevel
from gridcore.policy import Policy

# What to do with an area: nothing, keep its order, put one on it, make it stricter, step
# it down one level, or lift it.
NONE, KEEP, ISSUE, ESCALATE, STEP_DOWN, LIFT = (
    "none",
    "keep",
    "issue",
    "escalate",
    "step_down",
    "lift",
)
ACTIONS: tuple[str, ...] = (ISSUE, ESCALATE, STEP_DOWN, LIFT, KEEP, NONE)  # most urgent first

_NEXT_LEVEL: dict[str, str | None] = {
    ZoneLevel.sealed: ZoneLevel.controlled,
    ZoneLevel.controlled: ZoneLevel.precaution,
    ZoneLevel.precaution: None,
}


def quiet_days(*, order_start: date, last_case_day: date | None, today: date) -> int:
    """Days an ordered area has gone without a community case.

    Counted from the later of the order's start and the last community case: an area
    sealed on the 14th whose last community case was on the 13th has been quiet for
    7 days on the 21st.
    """
    since = order_start if last_case_day is None else max(order_start, last_case_day)
    return (today - since).days


def _needed(level: str, policy: Policy) -> int | None:
    if level == ZoneLevel.sealed:
        return policy.sealed_stepdown_days
    if level == ZoneLevel.controlled:
        return policy.controlled_stepdown_days
    return None


def stepdown_days_left(*, level: str, quiet_days: int, policy: Policy) -> int | None:
    """Days until a sealed or controlled order may step down (0: eligible now).

    None for other levels, which have no step-down rule.
    """
    needed = _needed(level, policy)
    if needed is None:
        return None
    return max(0, needed - quiet_days)


def next_level(level: str) -> str | None:
    """The level an order steps down to: sealed → controlled → precaution; None: lift it."""
    if level not in _NEXT_LEVEL:
        raise ValueError(f"unknown zone level {level!r}")
    return _NEXT_LEVEL[level]


@dataclass(frozen=True)
class OrderTimer:
    """An order's step-down clock on a given day."""

    quiet_days: int
    stepdown_date: date | None  # None: no step-down rule (precaution)
    days_left: int | None  # 0: may step down now
    overdue_days: int  # days past the step-down date (0: not overdue)

    @property
    def overdue(self) -> bool:
        return self.overdue_days > 0


def order_timer(
    *, level: str, order_start: date, last_case_day: date | None, today: date, policy: Policy
) -> OrderTimer:
    """The step-down date, countdown and delay of an order on `today`.

    The step-down date is the later of the start and the last community case, plus the
    level's days: sealed on 03-16 with a case on 03-21 → 03-28 (7 days later).
    """
    quiet = quiet_days(order_start=order_start, last_case_day=last_case_day, today=today)
    needed = _needed(level, policy)
    if needed is None:
        return OrderTimer(quiet_days=quiet, stepdown_date=None, days_left=None, overdue_days=0)
    due = today + timedelta(days=needed - quiet)
    return OrderTimer(
        quiet_days=quiet,
        stepdown_date=due,
        days_left=max(0, needed - quiet),
        overdue_days=max(0, (today - due).days),
    )


@dataclass(frozen=True)
class Suggestion:
    """What command should do with an area, the level it would then have, and why."""

    action: str
    level: str  # the suggested level; '' means no order
    reason: Reason


def suggest_zone(
    *,
    level: str,
    order_start: date | None,
    last_community_case: date | None,
    community_cases_recent: int,
    quarantine_cases_recent: int,
    today: date,
    policy: Policy,
) -> Suggestion:
    """The suggested zone level of a grid (or building) and the reason for it.

    `level` is its order in force ('' for none) since `order_start`; the counts are cases
    reported in the last `policy.sealed_stepdown_days` days up to `today`.

    - no order: a community case in those days → seal it; cases only in quarantine → no
      order needed; otherwise nothing to do;
    - sealed: quiet for the sealed days → step down to controlled, else keep (countdown);
    - controlled or precaution: a community case after the order began → seal; controlled
      quiet for its days → lift, else keep; precaution has no timer: keep.
    """
    window = policy.sealed_stepdown_days
    recent = (
        last_community_case is not None
        and last_community_case <= today
        and (today - last_community_case).days < window
    )
    if not level or order_start is None:
        if recent and community_cases_recent > 0:
            return Suggestion(
                ISSUE,
                ZoneLevel.sealed,
                _counted(
                    "zones.why.community_cases",
                    community_cases_recent,
                    days=window,
                    day=last_community_case,
                ),
            )
        if quarantine_cases_recent > 0:
            return Suggestion(
                NONE,
                "",
                _counted("zones.why.quarantine_only", quarantine_cases_recent, days=window),
            )
        return Suggestion(NONE, "", Reason("zones.why.no_cases", {"days": window}))
    if (
        level != ZoneLevel.sealed
        and recent
        and last_community_case is not None
        and last_community_case > order_start
    ):
        return Suggestion(
            ESCALATE,
            ZoneLevel.sealed,
            Reason(f"zones.why.case_in_{level}", {"day": last_community_case}),
        )
    timer = order_timer(
        level=level,
        order_start=order_start,
        last_case_day=last_community_case,
        today=today,
        policy=policy,
    )
    if timer.days_left is None:
        return Suggestion(KEEP, level, Reason("zones.why.precaution"))
    if timer.days_left == 0:
        lower = next_level(level)
        if level == ZoneLevel.controlled:
            lower = None  # the protocol lifts a quiet controlled area (low risk: no order)
        return Suggestion(
            STEP_DOWN if lower else LIFT,
            lower or "",
            Reason(
                f"zones.why.{level}_quiet",
                {"days": timer.quiet_days, "since": today - timedelta(days=timer.quiet_days)},
            ),
        )
    return Suggestion(
        KEEP,
        level,
        _counted("zones.why.keep", timer.days_left, day=timer.stepdown_date),
    )


def _counted(key: str, n: int, **params: object) -> Reason:
    return Reason(f"{key}.one" if n == 1 else key, {"n": n, **params})


# --------------------------------------------------------------------------- case places


@dataclass(frozen=True)
class PlaceZone:
    """The zone a place with cases would have had on a day under the protocol."""

    level: str
    days_left: int  # to its next step (sealed → controlled, controlled → lifted)
    next_step: date


def place_window_days(policy: Policy) -> int:
    """How long after its last case a place stays under a zone (sealed, then controlled)."""
    return policy.sealed_stepdown_days + policy.controlled_stepdown_days


def place_zone(*, last_case_day: date, as_of: date, policy: Policy) -> PlaceZone | None:
    """The zone of a place whose last case was on `last_case_day`, as of `as_of`.

    Sealed from the case day for the sealed days, then controlled for the controlled
    days, then lifted (None). A case on 04-01 with 7 + 7 days: sealed 04-01..04-07,
    controlled 04-08..04-14, lifted from 04-15.
    """
    quiet = (as_of - last_case_day).days
    if quiet < 0:
        return None
    sealed = policy.sealed_stepdown_days
    if quiet < sealed:
        step = last_case_day + timedelta(days=sealed)
        return PlaceZone(ZoneLevel.sealed, (step - as_of).days, step)
    if quiet < place_window_days(policy):
        step = last_case_day + timedelta(days=place_window_days(policy))
        return PlaceZone(ZoneLevel.controlled, (step - as_of).days, step)
    return None
