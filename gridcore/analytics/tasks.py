"""Tasks: who gets the next one in turn, which residents need visits, when a step may be undone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from gridcore.models import Vulnerability

# Residents who cannot come out and get a home visit at the policy's interval.
VISIT_TAGS: tuple[str, ...] = (
    Vulnerability.elderly_alone,
    Vulnerability.bedridden,
    Vulnerability.disabled,
)
# How long a one-tap step (start, finish) can be undone.
UNDO_WINDOW = timedelta(minutes=1)


def in_turn(workers: Sequence[int], open_tasks: Mapping[int, int]) -> list[int]:
    """`workers` (in their order) rotated so that the one with the fewest open tasks comes first.

    Handing out tasks round-robin from this order gives the least busy worker the first
    one; ties go to the earlier worker in `workers`.
    """
    if not workers:
        return []
    first = min(range(len(workers)), key=lambda i: (open_tasks.get(workers[i], 0), i))
    return [*workers[first:], *workers[:first]]


def undo_allowed(*, previous: str | None, changed_at: datetime | None, now: datetime) -> bool:
    """Whether the last step can still be undone: there is one, taken within the last minute."""
    if previous is None or changed_at is None:
        return False
    return timedelta(0) <= now - changed_at <= UNDO_WINDOW
