"""Who is acting and what they may do: the actor, roles, scope checks and the one masking function.

This module sits below queries and services: both import it, it imports neither.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

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


# Pages offered to some roles only (url path → roles); every other page is offered to all.
PAGE_ROLES: dict[str, tuple[UserRole, ...]] = {"admin": (UserRole.admin,)}


def offers_page(role: UserRole | str | None, url_path: str) -> bool:
    """Whether the navigation offers the page at `url_path` to `role` (and the page shows
    itself to it: a page offered to some roles refuses the others at its address)."""
    allowed = PAGE_ROLES.get(url_path)
    return allowed is None or role in allowed


MASK = "***"


def mask_name(name: str | None) -> str | None:
    """A name hidden entirely: a first character still narrows a household down to a person."""
    return mask_text(name)


def mask_phone(phone: str | None) -> str | None:
    """A phone number hidden entirely: seven of eleven digits still identify a person."""
    return mask_text(phone)


def mask_text(text: str | None) -> str | None:
    """A personal value (a name, a phone, an address, a flat) hidden entirely."""
    return MASK if text else text


def mask_number(value: object) -> None:
    """A personal number (a birth year) left out."""
    return None


# What kind of personal value a column holds. Whoever may not see a resident's personal data
# sees none of it: names, phones, free texts and flat numbers become MASK, birth years empty.
NAME, PHONE, TEXT, FLAT, YEAR = "name", "phone", "text", "flat", "year"
_MASKS: dict[str, Callable[[Any], Any]] = {
    NAME: mask_text,
    PHONE: mask_text,
    TEXT: mask_text,
    FLAT: mask_text,
    YEAR: mask_number,
}


def personal(value: Any, *, kind: str, actor: Actor, grid_id: int | None) -> Any:
    """A resident's personal value as `actor` may see it: itself, or hidden (one value)."""
    if actor.sees_personal_data_of(grid_id):
        return value
    return _MASKS[kind](value)


def mask_personal(
    frame: pd.DataFrame, *, actor: Actor, grid_id: int | None, columns: Mapping[str, str]
) -> pd.DataFrame:
    """`frame` (rows of one grid) as `actor` may see it: `columns` (name → kind) shown or hidden.

    The one place that decides what of a resident a reader sees; queries, exports, the
    kiosk and the briefing all go through it or through `personal` for a single value.
    Administrators and leaders see everything, a grid worker their own grids; viewers and
    the kiosk see none of it (README: "Who sees what").
    """
    if actor.sees_personal_data_of(grid_id):
        return frame
    for column, kind in columns.items():
        if kind == YEAR:
            frame[column] = pd.Series(pd.NA, index=frame.index, dtype="Int64")
        else:
            frame[column] = frame[column].map(_MASKS[kind], na_action="ignore")
    return frame


def mask_personal_per_grid(
    frame: pd.DataFrame, *, actor: Actor, columns: Mapping[str, str], grid_column: str = "grid_id"
) -> pd.DataFrame:
    """`frame` (rows of many grids, in `grid_column`) as `actor` may see each row's grid.

    The rows of the grids `actor` may not see are masked together by `mask_personal` (its
    answer is the same for each of them); the other rows, and the order, stay as they are.
    """
    if frame.empty:
        return frame
    grids = frame[grid_column]
    hidden = [int(g) for g in grids.dropna().unique() if not actor.sees_personal_data_of(int(g))]
    if not hidden:
        return frame
    rows = grids.isin(hidden)
    masked = mask_personal(frame.loc[rows].copy(), actor=actor, grid_id=hidden[0], columns=columns)
    names = list(columns)
    frame.loc[rows, names] = masked[names]
    return frame
