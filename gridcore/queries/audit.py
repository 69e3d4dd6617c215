"""The audit log: who changed what, and when, newest first."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import func
from sqlmodel import Session, col, select

from gridcore.access import Actor
from gridcore.models import AuditEntry, UserRole

AUDIT_COLUMNS = ["audit_id", "at", "username", "action", "entity", "entity_id", "changes"]


def recent_audit(
    *,
    session: Session,
    actor: Actor,
    limit: int = 100,
    entity: str | None = None,
    entity_id: str | int | None = None,
    username: str | None = None,
    since: datetime | None = None,
) -> pd.DataFrame:
    """The latest audit entries, optionally of one entity (and row), user or period.

    `changes` is a dict; it may name residents, so it is shown only to administrators and
    leaders and is an empty dict for everyone else.
    """
    query = select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(max(1, limit))
    if entity is not None:
        query = query.where(AuditEntry.entity == entity)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == str(entity_id))
    if username is not None:
        query = query.where(AuditEntry.username == username)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    return _frame(session.exec(query).all(), actor)


def _frame(entries: Any, actor: Actor) -> pd.DataFrame:
    shows_changes = actor.role in (UserRole.admin, UserRole.leader)
    records = [
        (
            e.id,
            e.at,
            e.username,
            e.action,
            e.entity,
            e.entity_id,
            json.loads(e.changes) if shows_changes else {},
        )
        for e in entries
    ]
    frame = pd.DataFrame(records, columns=AUDIT_COLUMNS)
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame


@dataclass(frozen=True)
class AuditPage:
    """One page of the filtered log, newest first, and how many entries the filter matches."""

    entries: pd.DataFrame
    total: int


def audit_page(
    *,
    session: Session,
    actor: Actor,
    username: str | None = None,
    action: str | None = None,
    entity: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> AuditPage:
    """The entries by `username`, of `action`, on `entity`, from `start` (inclusive) to `end`
    (exclusive): one page of `limit` from `offset`, counted and cut in SQL (the log is long)."""
    filters: list[Any] = []
    if username is not None:
        filters.append(AuditEntry.username == username)
    if action is not None:
        filters.append(AuditEntry.action == action)
    if entity is not None:
        filters.append(AuditEntry.entity == entity)
    if start is not None:
        filters.append(col(AuditEntry.at) >= start)
    if end is not None:
        filters.append(col(AuditEntry.at) < end)
    total = session.exec(select(func.count()).select_from(AuditEntry).where(*filters)).one()
    query = (
        select(AuditEntry)
        .where(*filters)
        .order_by(col(AuditEntry.id).desc())
        .offset(max(0, offset))
        .limit(max(1, limit))
    )
    return AuditPage(entries=_frame(session.exec(query).all(), actor), total=int(total))


@dataclass(frozen=True)
class AuditChoices:
    """What the log's filters can offer: the users, actions and subjects it holds."""

    usernames: tuple[str, ...]
    actions: tuple[str, ...]
    entities: tuple[str, ...]


def audit_choices(*, session: Session) -> AuditChoices:
    """The distinct users, actions and subjects in the log (DISTINCT in SQL)."""

    def distinct(column: Any) -> tuple[str, ...]:
        return tuple(sorted(session.exec(select(column).distinct()).all()))

    return AuditChoices(
        usernames=distinct(AuditEntry.username),
        actions=distinct(AuditEntry.action),
        entities=distinct(AuditEntry.entity),
    )
