"""Alerts: rules on the figures that say "someone must act now", each with a severity.

Every rule is a pure function over per-area figures (gridcore.queries.alerts gathers them
in SQL) and the policy's thresholds; it returns one Alert per area (or depot) that breaks it.

    rule                 fires when                                                 severity
    community_positive   a case found outside quarantine (screening, mass testing,  high
                         community) reported in the last `alert_community_case_days`
                         days
    coverage_behind      a grid of the open round has people missing and its        medium; high
                         coverage is more than `alert_coverage_lag_points`          past the
                         percentage points under the straight-line schedule         deadline
    stock_short          a depot holds an item under its minimum, or with fewer     medium; high
                         than `alert_cover_days` days of cover at the last 7 days'  when an item
                         use                                                        is out
    urgent_overdue       an urgent request open past its target time                high
    contact_test_missed  contacts in quarantine who missed at least                 medium
                         `alert_missed_contact_tests` protocol tests
    worker_overloaded    a frontline worker's workload score (open + 2 × overdue    low
                         tasks) reaches `alert_workload_score`

An alert's `situation` names what it is about right now (the count and the newest record,
the round, the items short); an acknowledgement holds for that situation only, so a new
positive, another item short or a new round makes the alert stand again.
Alerts carry counts and area names only: they are shown on the kiosk as they are.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from gridcore.analytics.risk import HIGH, LOW, MEDIUM, level_rank
from gridcore.analytics.stock import below_minimum, days_of_cover
from gridcore.analytics.workforce import workload_score

COMMUNITY_POSITIVE = "community_positive"
COVERAGE_BEHIND = "coverage_behind"
STOCK_SHORT = "stock_short"
URGENT_OVERDUE = "urgent_overdue"
CONTACT_TEST_MISSED = "contact_test_missed"
WORKER_OVERLOADED = "worker_overloaded"
RULES: tuple[str, ...] = (
    COMMUNITY_POSITIVE,
    URGENT_OVERDUE,
    COVERAGE_BEHIND,
    STOCK_SHORT,
    CONTACT_TEST_MISSED,
    WORKER_OVERLOADED,
)
# Floating-point slack for "at the threshold" comparisons (coverage, days of cover).
_EPSILON = 1e-9


@dataclass(frozen=True)
class Place:
    """The area an alert is about: a grid, or the area of a depot."""

    code: str
    name: str
    name_zh: str | None = None


@dataclass(frozen=True)
class Alert:
    """One rule broken in one place; `subject` is what an acknowledgement is kept for."""

    rule: str
    severity: str
    place: Place
    subject: str
    situation: str
    params: dict[str, Any] = field(default_factory=dict, hash=False)

    @property
    def key(self) -> str:
        """The alert's stable identity: its rule and its subject."""
        return f"{self.rule}:{self.subject}"


@dataclass(frozen=True)
class Counted:
    """Records of one kind in a place: how many, and the newest one's id."""

    place: Place
    n: int
    latest_id: int = 0


@dataclass(frozen=True)
class GridProgress:
    """A grid in the current round: people missing and coverage (None: nobody expected)."""

    place: Place
    missing: int
    coverage: float | None


@dataclass(frozen=True)
class StockPosition:
    """One item at one depot: stock, its minimum, and units issued in the last 7 days."""

    place: Place
    depot_id: int
    item_id: int
    stock: int
    minimum: int
    issued: int


@dataclass(frozen=True)
class ContactsMissed:
    """The protocol tests missed by each contact in quarantine in a grid (one int each)."""

    place: Place
    missed: tuple[int, ...]


@dataclass(frozen=True)
class WorkerLoad:
    """A frontline worker's open and overdue tasks, and the grids they serve."""

    worker_id: int
    places: tuple[Place, ...]
    open_tasks: int
    overdue_tasks: int


def community_positives(figures: Iterable[Counted], *, days: int) -> list[Alert]:
    """A grid with cases found outside quarantine in the last `days` days."""
    return [
        Alert(
            rule=COMMUNITY_POSITIVE,
            severity=HIGH,
            place=f.place,
            subject=f.place.code,
            situation=f"{f.n}:{f.latest_id}",
            params={"n": f.n, "days": days},
        )
        for f in figures
        if f.n >= 1
    ]


def coverage_behind(
    figures: Iterable[GridProgress], *, share: float, lag_points: int, round_id: int
) -> list[Alert]:
    """Grids more than `lag_points` percentage points under the round's schedule.

    The schedule is a straight line from 0 at the start to 100 % at the deadline (`share`
    is the elapsed part of the round's window, 0–1); exactly `lag_points` under it is not
    yet behind. Past the deadline a grid still missing people is high.
    """
    alerts = []
    for f in figures:
        if f.missing <= 0 or f.coverage is None:
            continue
        lag = (share - f.coverage) * 100
        if lag <= lag_points + _EPSILON:
            continue
        alerts.append(
            Alert(
                rule=COVERAGE_BEHIND,
                severity=HIGH if share >= 1 else MEDIUM,
                place=f.place,
                subject=f.place.code,
                situation=f"round:{round_id}",
                params={
                    "coverage": f.coverage,
                    "schedule": share,
                    "missing": f.missing,
                },
            )
        )
    return alerts


def item_short(position: StockPosition, *, cover_days: int) -> bool:
    """Under its minimum, or fewer than `cover_days` days of cover (exactly that is enough)."""
    if below_minimum(stock=position.stock, minimum=position.minimum):
        return True
    cover = days_of_cover(stock=position.stock, issued=position.issued)
    return cover is not None and cover < cover_days - _EPSILON


def stock_short(positions: Iterable[StockPosition], *, cover_days: int) -> list[Alert]:
    """A depot with items under their minimum or under `cover_days` days of cover."""
    short: dict[int, list[StockPosition]] = {}
    for p in positions:
        if item_short(p, cover_days=cover_days):
            short.setdefault(p.depot_id, []).append(p)
    alerts = []
    for depot_id, items in sorted(short.items()):
        out = any(p.stock <= 0 for p in items)
        alerts.append(
            Alert(
                rule=STOCK_SHORT,
                severity=HIGH if out else MEDIUM,
                place=items[0].place,
                subject=f"depot{depot_id}",
                situation=",".join(str(p.item_id) for p in sorted(items, key=_item_id)),
                params={"n": len(items), "out": sum(p.stock <= 0 for p in items)},
            )
        )
    return alerts


def _item_id(position: StockPosition) -> int:
    return position.item_id


def urgent_overdue(figures: Iterable[Counted]) -> list[Alert]:
    """A grid with urgent requests open past their target time."""
    return [
        Alert(
            rule=URGENT_OVERDUE,
            severity=HIGH,
            place=f.place,
            subject=f.place.code,
            situation=f"{f.n}:{f.latest_id}",
            params={"n": f.n},
        )
        for f in figures
        if f.n >= 1
    ]


def contact_test_missed(figures: Iterable[ContactsMissed], *, threshold: int) -> list[Alert]:
    """A grid with contacts who missed at least `threshold` of their protocol tests."""
    alerts = []
    for f in figures:
        missing = [m for m in f.missed if m >= threshold]
        if not missing:
            continue
        alerts.append(
            Alert(
                rule=CONTACT_TEST_MISSED,
                severity=MEDIUM,
                place=f.place,
                subject=f.place.code,
                situation=f"{len(missing)}:{sum(missing)}",
                params={"n": len(missing), "tests": sum(missing)},
            )
        )
    return alerts


def worker_overloaded(workers: Iterable[WorkerLoad], *, score: int) -> list[Alert]:
    """A grid with workers whose workload score reaches `score` (counted in each grid served)."""
    loaded: dict[Place, list[int]] = {}
    for w in workers:
        if workload_score(open_tasks=w.open_tasks, overdue_tasks=w.overdue_tasks) < score:
            continue
        for place in w.places:
            loaded.setdefault(place, []).append(w.worker_id)
    return [
        Alert(
            rule=WORKER_OVERLOADED,
            severity=LOW,
            place=place,
            subject=place.code,
            # Short whatever the number of workers: which ones, as a count, largest id and sum.
            situation=f"{len(ids)}:{max(ids)}:{sum(ids)}",
            params={"n": len(ids), "score": score},
        )
        for place, ids in loaded.items()
    ]


def ordered(alerts: Iterable[Alert]) -> list[Alert]:
    """Most severe first; then in the order of RULES; then by place code and subject."""
    return sorted(
        alerts,
        key=lambda a: (level_rank(a.severity), RULES.index(a.rule), a.place.code, a.subject),
    )


def is_acknowledged(alert: Alert, acknowledged: Collection[tuple[str, str]]) -> bool:
    """Whether the alert's present situation has been acknowledged."""
    return (alert.key, alert.situation) in acknowledged
