"""Input checks that every write service shares: validation, roles, times, client tokens.

A write service validates its input (a Create model plus domain checks), checks the
actor, writes its rows and one audit entry, and commits — all or nothing. Validation
messages are catalogue keys (see gridcore/i18n/catalog_services.py for the convention).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from gridcore.access import Actor
from gridcore.config import get_settings, local_today
from gridcore.models import Area, AreaLevel, AuditEntry, utcnow
from gridcore.services.base import M, plain

# How far ahead of the server clock an entered time may be (clocks of phones differ).
CLOCK_SKEW = timedelta(minutes=5)
# How long a form's client token protects against a second submission.
TOKEN_WINDOW = timedelta(hours=1)


# --------------------------------------------------------------------------- shared checks


@contextmanager
def writing(session: Session) -> Iterator[None]:
    """The service's transaction: commit when the block ends, roll back on any error."""
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise


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


def replayed_entry(
    session: Session, *, actor: Actor, entity: str, client_token: str | None
) -> AuditEntry | None:
    """The audit entry of an earlier create with the same client token (a double click)."""
    if client_token is None:
        return None
    # Only the time index narrows this search: the entity index would match every write of
    # that kind, so the entity is compared on the (zero or one) entries found.
    entries = session.exec(
        select(AuditEntry)
        .where(
            AuditEntry.at >= utcnow() - TOKEN_WINDOW,
            AuditEntry.username == actor.username,
            col(AuditEntry.changes).contains(f'"client_token": "{client_token}"', autoescape=True),
        )
        .order_by(col(AuditEntry.at).desc())
    ).all()
    return next((e for e in entries if e.entity == entity and e.action == "create"), None)


def replayed(
    session: Session, model: type[M], *, actor: Actor, entity: str, client_token: str | None
) -> M | None:
    """The row an earlier create with the same client token wrote, or None."""
    entry = replayed_entry(session, actor=actor, entity=entity, client_token=client_token)
    if entry is None or entry.entity_id is None:
        return None
    return session.get(model, int(entry.entity_id))


def with_token(changes: dict[str, Any], client_token: str | None) -> dict[str, Any]:
    """`changes` plus the client token, when one was given (it marks the write as done)."""
    return {**changes, "client_token": client_token} if client_token else changes


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
