"""Field checks that the write services share: times, phones, rows that must exist.

The write path itself (roles, validation, replays, audit, the transaction) is in base.py.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from gridcore.config import get_settings, local_today
from gridcore.models import Area, AreaLevel, utcnow
from gridcore.services.base import M, plain

# How far ahead of the server clock an entered time may be (clocks of phones differ).
CLOCK_SKEW = timedelta(minutes=5)


# --------------------------------------------------------------------------- shared checks


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is read as the deployment's local time."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=get_settings().tz)
    return moment.astimezone(UTC)


def in_future(day: date | None) -> bool:
    """Whether a calendar day lies after today (local time)."""
    return day is not None and day > local_today()


def time_in_future(moment: datetime | None, now: datetime | None = None) -> bool:
    """Whether a moment lies after now, allowing for a few minutes of clock skew."""
    return moment is not None and as_utc(moment) > (now or utcnow()) + CLOCK_SKEW


def phone_ok(phone: str | None) -> bool:
    """Whether `phone` is 7 to 15 digits, spaces and dashes allowed (empty: not given)."""
    if not phone:
        return True
    digits = re.sub(r"[ -]", "", phone.strip()).removeprefix("+")
    return digits.isascii() and digits.isdigit() and 7 <= len(digits) <= 15


def grid_area(session: Session, grid_id: int | None) -> Area | None:
    """The grid-level area `grid_id`, or None if there is none."""
    area = session.get(Area, grid_id) if grid_id is not None else None
    return area if area is not None and area.level == AreaLevel.grid else None


def get_row(session: Session, model: type[M], row_id: Any) -> M | None:
    """The row of `model` with primary key `row_id`, or None (also for None)."""
    return session.get(model, row_id) if row_id is not None else None


def row_id(row: Any) -> int:
    """The primary key of a stored (flushed) row."""
    value = row.id
    if value is None:
        raise RuntimeError(f"{type(row).__name__} has no id yet; flush first")
    return int(value)


def changed(old: Any, new: Any) -> list[Any]:
    """An audit record of one field's change: [before, after]."""
    return [plain(old), plain(new)]


def area_path(session: Session, area_id: int) -> list[int]:
    """`area_id` and the ids of all the areas above it."""
    ids: list[int] = []
    current: int | None = area_id
    while current is not None and current not in ids:
        ids.append(current)
        current = session.exec(select(Area.parent_id).where(Area.id == current)).first()
    return ids
