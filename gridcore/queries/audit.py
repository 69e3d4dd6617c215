"""The audit log: who changed what, and when, newest first."""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
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
        for e in session.exec(query).all()
    ]
    frame = pd.DataFrame(records, columns=AUDIT_COLUMNS)
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame
