"""The overview as a decision aid: each headline figure against its target, and what to do first.

A headline figure is judged against a target:

    figure                                  target              act when
    new cases today                         0                   3 or more
    new cases found outside quarantine      0                   1 or more
    active cases                            0                   (watch only)
    testing coverage of the latest round    at least 90%        under 50%
    overdue requests                        0                   3 or more
    supplies below minimum                  0                   (watch only)
    understaffed grids                      0                   (watch only)

People in quarantine and open requests have no target (more of either can be right). The
thresholds are the risk table's (gridcore.analytics.risk), so a tile and the map agree;
what makes a request overdue or a grid understaffed comes from the policy settings.

The 'needs attention' grids are ranked by what to do first: the most severe risk level,
then community cases in 7 days (spread), overdue requests (people kept waiting), decisions
due today (contacts leaving quarantine, a zone that may step down, a depot below
minimum), active cases, and finally the grid code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gridcore.analytics.risk import (
    COVERAGE_TARGET,
    HIGH_COMMUNITY_CASES_7D,
    MANY_OVERDUE_REQUESTS,
    MISSED_COVERAGE,
    level_rank,
)

GOOD, WATCH, ACT = "good", "watch", "act"
STATUSES: tuple[str, ...] = (GOOD, WATCH, ACT)


@dataclass(frozen=True)
class Target:
    """What a figure should be: at most `value` (or at least, when `higher_is_better`);
    `act_at` the value from which (or, when higher is better, under which) to act now."""

    value: float
    act_at: float | None = None
    higher_is_better: bool = False


HEADLINE_TARGETS: dict[str, Target] = {
    "new_cases": Target(0, act_at=HIGH_COMMUNITY_CASES_7D),
    "new_cases_outside_quarantine": Target(0, act_at=1),
    "active_cases": Target(0),
    "latest_round_coverage": Target(COVERAGE_TARGET, act_at=MISSED_COVERAGE, higher_is_better=True),
    "overdue_requests": Target(0, act_at=MANY_OVERDUE_REQUESTS),
    "supplies_below_min": Target(0),
    "understaffed_grids": Target(0),
}


def figure_status(value: float | None, target: Target | None) -> str | None:
    """'good', 'watch' or 'act' for `value` against `target`; None without a value or target."""
    if target is None or value is None or value != value:
        return None
    if target.higher_is_better:
        if value >= target.value:
            return GOOD
        return ACT if target.act_at is not None and value < target.act_at else WATCH
    if value <= target.value:
        return GOOD
    return ACT if target.act_at is not None and value >= target.act_at else WATCH


@dataclass(frozen=True)
class AttentionFacts:
    """What decides a flagged grid's place in the 'needs attention' list."""

    code: str
    severity: str
    community_cases_7d: int = 0
    overdue_requests: int = 0
    due_today: int = 0
    active_cases: int = 0


def attention_order(items: Iterable[AttentionFacts]) -> list[AttentionFacts]:
    """The flagged grids, what to do first at the top (the order: see the module docstring)."""
    return sorted(
        items,
        key=lambda a: (
            level_rank(a.severity),
            -a.community_cases_7d,
            -a.overdue_requests,
            -a.due_today,
            -a.active_cases,
            a.code,
        ),
    )
