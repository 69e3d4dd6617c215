"""The per-grid risk level, always with the reasons that set it.

Every indicator that is out of the ordinary adds one reason with a severity; the
grid's level is the highest severity among its reasons, and 'normal' when it has
none. Reasons are ordered most severe first (ties in the order of the table).


    indicator                            high         medium                 low
    zone order in force on the grid      sealed       controlled             precaution
    community cases in the last 7 days   3 or more    1 or 2
    7-day incidence per 10,000 (*)       50 or more   10 or more
    active cases                                                             1 or more
    coverage of the grid's latest round               under 50%              under 90%
      (judged only once the round is over)
    overdue resident requests                         3 or more              1 or more
    staffing (policy standard)                                               see below

A round still in progress is not judged here: its coverage is progress, not risk, and the
Testing page tracks whether it is behind schedule.

Staffing is 'low' when a grid with households has no full-time worker, or more
households per full-time worker than policy.households_per_fulltime_worker.

(*) only judged when the grid has at least 3 cases in the 7 days: on a few hundred
residents one case is already 10–30 per 10,000, so a rate from one or two cases says
nothing that the case counts do not. Community cases are those found outside
quarantine; see gridcore.analytics.cases.

A reason is an i18n key (gridcore/i18n/catalog_reasons.py) and its parameters; keys
for counts have a '.one' variant chosen when the count is 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gridcore.analytics.workforce import households_per_worker, understaffed
from gridcore.i18n import Named
from gridcore.models import ZoneLevel
from gridcore.policy import Policy

HIGH, MEDIUM, LOW, NORMAL = "high", "medium", "low", "normal"
RISK_LEVELS: tuple[str, ...] = (HIGH, MEDIUM, LOW, NORMAL)  # most severe first

HIGH_COMMUNITY_CASES_7D = 3
INCIDENCE_MIN_CASES_7D = 3
HIGH_INCIDENCE_PER_10K = 50.0
MEDIUM_INCIDENCE_PER_10K = 10.0
COVERAGE_TARGET = 0.9
MISSED_COVERAGE = 0.5
MANY_OVERDUE_REQUESTS = 3

_ZONE_SEVERITY: dict[str, str] = {
    ZoneLevel.sealed: HIGH,
    ZoneLevel.controlled: MEDIUM,
    ZoneLevel.precaution: LOW,
}


@dataclass(frozen=True)
class Reason:
    """Why a grid is flagged: an i18n key plus the parameters of its text."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Risk:
    """A grid's risk level and the reasons for it, most severe first."""

    level: str
    reasons: list[Reason]


def counted_reason(key: str, n: int, **params: Any) -> Reason:
    """A reason about a count `n`, using the '.one' text when n is 1."""
    return Reason(f"{key}.one" if n == 1 else key, {"n": n, **params})


def level_rank(level: str) -> int:
    """0 for 'high' … 3 for 'normal' (for sorting, most severe first)."""
    return RISK_LEVELS.index(level)


def assess_grid_risk(
    *,
    zone_level: str,
    community_cases_7d: int,
    new_cases_7d: int,
    incidence_7d_per_10k: float | None,
    active_cases: int,
    coverage: float | None,
    round_name: str | Named | None,
    round_ended: bool,
    overdue_requests: int,
    households: int,
    full_time_workers: int,
    policy: Policy,
) -> Risk:
    """The risk level of one grid with its reasons (rule: see the module docstring)."""
    found: list[tuple[str, Reason]] = []
    if zone_level in _ZONE_SEVERITY:
        found.append((_ZONE_SEVERITY[zone_level], Reason(f"reason.zone_{zone_level}")))
    if community_cases_7d > 0:
        severity = HIGH if community_cases_7d >= HIGH_COMMUNITY_CASES_7D else MEDIUM
        found.append((severity, counted_reason("reason.community_cases_7d", community_cases_7d)))
    if new_cases_7d >= INCIDENCE_MIN_CASES_7D and incidence_7d_per_10k is not None:
        reason = Reason(
            "reason.incidence_7d", {"incidence": incidence_7d_per_10k, "n": new_cases_7d}
        )
        if incidence_7d_per_10k >= HIGH_INCIDENCE_PER_10K:
            found.append((HIGH, reason))
        elif incidence_7d_per_10k >= MEDIUM_INCIDENCE_PER_10K:
            found.append((MEDIUM, reason))
    if active_cases > 0:
        found.append((LOW, counted_reason("reason.active_cases", active_cases)))
    if round_ended and coverage is not None and coverage < COVERAGE_TARGET:
        params = {"coverage": coverage, "round": round_name or ""}
        if coverage < MISSED_COVERAGE:
            found.append((MEDIUM, Reason("reason.testing_missed", params)))
        else:
            found.append((LOW, Reason("reason.testing_coverage", params)))
    if overdue_requests > 0:
        severity = MEDIUM if overdue_requests >= MANY_OVERDUE_REQUESTS else LOW
        found.append((severity, counted_reason("reason.overdue_requests", overdue_requests)))
    found.extend(
        (LOW, r)
        for r in staffing_reasons(
            households=households, full_time_workers=full_time_workers, policy=policy
        )
    )
    found.sort(key=lambda pair: level_rank(pair[0]))  # stable: table order within a level
    level = found[0][0] if found else NORMAL
    return Risk(level=level, reasons=[reason for _, reason in found])


def staffing_reasons(*, households: int, full_time_workers: int, policy: Policy) -> list[Reason]:
    """The staffing reason of a grid that is understaffed (see workforce.understaffed)."""
    if not understaffed(households=households, full_time_workers=full_time_workers, policy=policy):
        return []
    ratio = households_per_worker(households=households, full_time_workers=full_time_workers)
    if ratio is None:
        return [Reason("reason.no_fulltime_worker")]
    return [
        Reason(
            "reason.households_per_worker",
            {"ratio": ratio, "standard": policy.households_per_fulltime_worker},
        )
    ]
