"""The audit log: who changed what, and when, newest first."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from gridcore.access import Actor
from gridcore.models import Area, AreaLevel, AuditEntry, UserRole
from gridcore.queries._sql import select_columns

AUDIT_COLUMNS = [
    "audit_id", "at", "username", "action", "entity", "entity_id", "changes",
    "area_id", "area_code", "area_name", "area_name_zh",
]  # fmt: skip
# The levels the log can be read by (a street or community holds its grids' entries).
AREA_LEVELS: tuple[AreaLevel, ...] = (AreaLevel.street, AreaLevel.community, AreaLevel.grid)


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
    query = _with_area(select(AuditEntry)).order_by(col(AuditEntry.id).desc()).limit(max(1, limit))
    if entity is not None:
        query = query.where(AuditEntry.entity == entity)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == str(entity_id))
    if username is not None:
        query = query.where(AuditEntry.username == username)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    return _frame(session.execute(query).all(), actor)


def _with_area(query: Any) -> Any:
    """`query` of entries, with the code and names of each entry's area (when it has one)."""
    return query.add_columns(col(Area.code), col(Area.name), col(Area.name_zh)).outerjoin(
        Area, col(Area.id) == col(AuditEntry.area_id)
    )


def _frame(rows: Any, actor: Actor) -> pd.DataFrame:
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
            e.area_id,
            code,
            name,
            name_zh,
        )
        for e, code, name, name_zh in rows
    ]
    frame = pd.DataFrame(records, columns=AUDIT_COLUMNS)
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    frame["area_id"] = frame["area_id"].astype("Int64")
    return frame


def within_area(area_id: int) -> Any:
    """A filter: the entry's area is `area_id` or lies below it (a recursive query over the
    area tree, in SQL: a community's entries are its own and its grids')."""
    tree = select(col(Area.id)).where(col(Area.id) == area_id).cte("subtree", recursive=True)
    child = aliased(Area)
    tree = tree.union_all(select(child.id).where(child.parent_id == tree.c.id))
    return col(AuditEntry.area_id).in_(select(tree.c.id))


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
    area_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> AuditPage:
    """The entries by `username`, of `action`, on `entity`, in the area `area_id` (and every
    area below it), from `start` (inclusive) to `end` (exclusive): one page of `limit` from
    `offset`, counted and cut in SQL (the log is long)."""
    filters: list[Any] = []
    if username is not None:
        filters.append(AuditEntry.username == username)
    if action is not None:
        filters.append(AuditEntry.action == action)
    if entity is not None:
        filters.append(AuditEntry.entity == entity)
    if area_id is not None:
        filters.append(within_area(area_id))
    if start is not None:
        filters.append(col(AuditEntry.at) >= start)
    if end is not None:
        filters.append(col(AuditEntry.at) < end)
    total = session.exec(select(func.count()).select_from(AuditEntry).where(*filters)).one()
    query = (
        _with_area(select(AuditEntry))
        .where(*filters)
        .order_by(col(AuditEntry.id).desc())
        .offset(max(0, offset))
        .limit(max(1, limit))
    )
    return AuditPage(entries=_frame(session.execute(query).all(), actor), total=int(total))


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


AREA_CHOICE_COLUMNS: list[str] = ["area_id", "code", "name", "name_zh", "level"]


def area_choices(*, session: Session) -> pd.DataFrame:
    """The streets, communities and grids the log can be read by, each street followed by its
    communities and each community by its grids (in code order)."""
    rows = session.execute(
        select_columns(col(Area.id), col(Area.code), col(Area.name), col(Area.name_zh),
                       col(Area.level), col(Area.parent_id))
        .where(col(Area.level).in_(AREA_LEVELS))
    ).all()  # fmt: skip
    children: dict[int | None, list[Any]] = {}
    ids = {int(r[0]) for r in rows}
    for r in sorted(rows, key=lambda r: str(r[1])):
        parent = r[5] if r[5] in ids else None
        children.setdefault(parent, []).append(r)
    ordered: list[tuple[Any, ...]] = []

    def walk(parent: int | None) -> None:
        for r in children.get(parent, []):
            ordered.append((int(r[0]), r[1], r[2], r[3], str(r[4])))
            walk(int(r[0]))

    walk(None)
    return pd.DataFrame(ordered, columns=AREA_CHOICE_COLUMNS)
