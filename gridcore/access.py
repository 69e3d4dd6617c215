"""Who is acting and what they may do: the actor, roles, scope checks and the one masking function.

This module sits below queries and services: both import it, it imports neither.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd

from gridcore.models import (
    UserRole,
)


class PermissionDenied(Exception):
    """The actor's role or grid scope does not allow this write."""


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


WRITER_ROLES: tuple[UserRole, ...] = (UserRole.admin, UserRole.leader, UserRole.grid_worker)


COMMAND_ROLES: tuple[UserRole, ...] = (UserRole.admin, UserRole.leader)


MASK = "***"


def mask_name(name: str | None) -> str | None:
    """A name with only its first character shown: '张三丰' → '张**'."""
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1)


def mask_phone(phone: str | None) -> str | None:
    """A phone number with its middle hidden: '13812345678' → '138****5678'."""
    if not phone:
        return phone
    if len(phone) >= 8:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return "*" * (len(phone) - 2) + phone[-2:]


def mask_text(text: str | None) -> str | None:
    """A free text (an address, a description) hidden entirely."""
    return MASK if text else text


# What kind of personal value a column holds decides how it is masked.
NAME, PHONE, TEXT = "name", "phone", "text"
_MASKS: dict[str, Callable[[str | None], str | None]] = {
    NAME: mask_name,
    PHONE: mask_phone,
    TEXT: mask_text,
}


def personal(value: str | None, *, kind: str, actor: Actor, grid_id: int | None) -> str | None:
    """A resident's personal value as `actor` may see it: itself, or masked (one value)."""
    if actor.sees_personal_data_of(grid_id):
        return value
    return _MASKS[kind](value)


def mask_personal(
    frame: pd.DataFrame, *, actor: Actor, grid_id: int | None, columns: Mapping[str, str]
) -> pd.DataFrame:
    """`frame` (rows of one grid) as `actor` may see it: `columns` (name → kind) masked or not.

    The one place that decides what of a resident a reader sees; queries, exports and the
    kiosk all go through it or through `personal` for a single value.
    """
    if actor.sees_personal_data_of(grid_id):
        return frame
    for column, kind in columns.items():
        frame[column] = frame[column].map(_MASKS[kind], na_action="ignore")
    return frame
