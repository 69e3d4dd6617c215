"""Since the last command meeting: how each headline figure and the attention list moved.

Why a snapshot, not a recomputation. A leader marks a meeting held; the mark stores the
headline figures and the attention list exactly as the overview showed them at that moment
(gridcore.services.meeting). Several of them cannot be recomputed later from dated records:
a case keeps no history of its status (active cases at 10:00 is lost once one recovers),
worker-to-grid assignments keep no history (understaffed grids), and the attention list
folds in zone orders, stock and requests as they stood. A snapshot is a few hundred bytes
per meeting and answers "since the meeting" for every figure the same way, so the
comparison is plain arithmetic on two sets of numbers, here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from gridcore.analytics.risk import level_rank

# The overview's headline figures, by their field name in queries.overview.Headline.
HEADLINE_FIELDS: tuple[str, ...] = (
    "new_cases",
    "new_cases_outside_quarantine",
    "active_cases",
    "in_quarantine",
    "latest_round_coverage",
    "open_requests",
    "overdue_requests",
    "supplies_below_min",
    "understaffed_grids",
)


def _known(value: float | None) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def change(value: float | None, at_mark: float | None) -> float | None:
    """`value` less its value at the mark; None when either is unknown."""
    if not (_known(value) and _known(at_mark)):
        return None
    assert value is not None and at_mark is not None
    return value - at_mark


def changes_since(
    now: Mapping[str, float | None], at_mark: Mapping[str, float | None]
) -> dict[str, float | None]:
    """Each headline figure's change since the mark (None: unknown then or now)."""
    return {name: change(now.get(name), at_mark.get(name)) for name in HEADLINE_FIELDS}


@dataclass(frozen=True)
class AttentionState:
    """A grid on the attention list: its severity and the keys of its reasons."""

    code: str
    name: str
    name_zh: str | None
    severity: str
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class AttentionChanges:
    """What is new on the attention list, what got worse and what left it since the mark."""

    new: list[AttentionState]
    worse: list[AttentionState]
    resolved: list[AttentionState]

    @property
    def empty(self) -> bool:
        return not (self.new or self.worse or self.resolved)


def _base(key: str) -> str:
    """A reason key without its '.one' form (one case or several is the same reason)."""
    return key.removesuffix(".one")


def got_worse(before: AttentionState, now: AttentionState) -> bool:
    """A higher severity, or a reason it did not have at the mark."""
    if level_rank(now.severity) < level_rank(before.severity):
        return True
    return bool({_base(k) for k in now.reasons} - {_base(k) for k in before.reasons})


def _order(states: Iterable[AttentionState]) -> list[AttentionState]:
    return sorted(states, key=lambda s: (level_rank(s.severity), s.code))


def attention_changes(
    at_mark: Iterable[AttentionState], now: Iterable[AttentionState]
) -> AttentionChanges:
    """Compare the attention list at the mark with the list now, grid by grid."""
    before = {s.code: s for s in at_mark}
    current = {s.code: s for s in now}
    return AttentionChanges(
        new=_order(s for code, s in current.items() if code not in before),
        worse=_order(
            s for code, s in current.items() if code in before and got_worse(before[code], s)
        ),
        resolved=_order(s for code, s in before.items() if code not in current),
    )
