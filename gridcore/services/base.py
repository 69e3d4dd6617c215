"""What every write shares: the acting user, permission checks, validation errors, audit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlmodel import Session

from gridcore.models import AuditEntry, UserRole


class PermissionDenied(Exception):
    """The actor's role or grid scope does not allow this write."""


class ValidationFailed(Exception):
    """Input was rejected; `errors` maps each field to a plain-words message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user, the CLI, the demo seed or a read-only kiosk."""

    username: str
    role: UserRole
    # None means every grid; otherwise the grids this actor may change.
    grid_ids: frozenset[int] | None = None
    user_id: int | None = None

    @property
    def can_write(self) -> bool:
        return self.role != UserRole.viewer

    def may_write_grid(self, grid_id: int | None) -> bool:
        """Whether this actor may change data that belongs to `grid_id`."""
        if not self.can_write:
            return False
        if self.role in (UserRole.admin, UserRole.leader):
            return True
        return grid_id is not None and self.grid_ids is not None and grid_id in self.grid_ids

    @property
    def sees_personal_data(self) -> bool:
        """Roles that work with named residents (a grid worker only for their grids)."""
        return self.role in (UserRole.admin, UserRole.leader, UserRole.grid_worker)

    def sees_personal_data_of(self, grid_id: int | None) -> bool:
        """Whether names, phones and ID numbers of residents of `grid_id` are shown unmasked."""
        if self.role in (UserRole.admin, UserRole.leader):
            return True
        if self.role == UserRole.grid_worker:
            return grid_id is not None and self.grid_ids is not None and grid_id in self.grid_ids
        return False


SYSTEM = Actor(username="system", role=UserRole.admin)
KIOSK = Actor(username="kiosk", role=UserRole.viewer)


def require_grid(actor: Actor, grid_id: int | None) -> None:
    """Raise PermissionDenied unless `actor` may write in `grid_id`."""
    if not actor.may_write_grid(grid_id):
        raise PermissionDenied(f"{actor.username} ({actor.role}) may not change grid {grid_id}")


def require_role(actor: Actor, *roles: UserRole) -> None:
    """Raise PermissionDenied unless `actor` has one of `roles`."""
    if actor.role not in roles:
        raise PermissionDenied(f"{actor.username} ({actor.role}) may not do this")


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def audit(
    session: Session,
    *,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: Any = None,
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit entry to the session (committed with the write it describes)."""
    entry = AuditEntry(
        username=actor.username,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        changes=json.dumps(
            {k: _jsonable(v) for k, v in (changes or {}).items()}, ensure_ascii=False
        ),
    )
    session.add(entry)
    return entry


def validation_errors(exc: Exception) -> dict[str, str]:
    """Turn a pydantic ValidationError into field → message."""
    errors: dict[str, str] = {}
    for err in getattr(exc, "errors", lambda: [])():
        field = ".".join(str(p) for p in err.get("loc", ())) or "form"
        errors.setdefault(field, str(err.get("msg", "invalid value")).removeprefix("Value error, "))
    return errors or {"form": str(exc)}
