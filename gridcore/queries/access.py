"""Accounts and kiosk links as they stand: who may sign in, which projector links still work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import pandas as pd
from sqlalchemy import func
from sqlmodel import Session, col, select

from gridcore.models import KIOSK_PANELS, Area, KioskLink, User, UserGrid, UserSession, utcnow


def list_users(*, session: Session) -> list[tuple[User, list[str]]]:
    """Every account with the codes of the grids in its scope."""
    users = session.exec(select(User).order_by(User.username)).all()
    scope_rows = session.exec(
        select(UserGrid.user_id, Area.code).join(Area, col(Area.id) == UserGrid.grid_id)
    ).all()
    scopes: dict[int, list[str]] = {}
    for user_id, code in scope_rows:
        scopes.setdefault(user_id, []).append(code)
    return [(u, sorted(scopes.get(u.id or 0, []))) for u in users]


USER_COLUMNS = ["username", "full_name", "role", "grid_codes", "active", "last_sign_in"]


def users_table(*, session: Session) -> pd.DataFrame:
    """Every account as the administration page lists it: role, grids, active, last sign-in.

    The last sign-in is the newest session opened (one aggregate over the sessions).
    """
    last = dict(
        session.exec(
            select(UserSession.user_id, func.max(UserSession.created_at)).group_by(
                col(UserSession.user_id)
            )
        ).all()
    )
    rows = [
        (
            user.username,
            user.full_name,
            str(user.role),
            codes,
            bool(user.active),
            last.get(user.id or 0),
        )
        for user, codes in list_users(session=session)
    ]
    frame = pd.DataFrame(rows, columns=USER_COLUMNS)
    frame["last_sign_in"] = pd.to_datetime(frame["last_sign_in"], utc=True)
    return frame


class KioskLinkState(StrEnum):
    """Whether a kiosk link still opens the display."""

    active = "active"
    expired = "expired"
    revoked = "revoked"


@dataclass(frozen=True)
class KioskLinkRow:
    """One kiosk link as listed: no token (tokens are never stored)."""

    id: int
    label: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    state: KioskLinkState
    # Seconds per panel (None: the deployment's setting) and the panels shown, in order.
    interval_seconds: int | None = None
    panels: tuple[str, ...] = KIOSK_PANELS


def link_panels(stored: str) -> tuple[str, ...]:
    """A link's panels in the standard order ('' as stored: every panel)."""
    chosen = set(stored.split(",")) if stored else set(KIOSK_PANELS)
    return tuple(p for p in KIOSK_PANELS if p in chosen) or KIOSK_PANELS


def kiosk_link_state(link: KioskLink, now: datetime) -> KioskLinkState:
    """Revoked before expired: a withdrawn link says so even after its time is up."""
    if link.revoked:
        return KioskLinkState.revoked
    if link.expires_at <= now:
        return KioskLinkState.expired
    return KioskLinkState.active


def kiosk_links(*, session: Session, now: datetime | None = None) -> list[KioskLinkRow]:
    """Every kiosk link, newest first, with its state at `now`."""
    moment = now or utcnow()
    links = session.exec(select(KioskLink).order_by(col(KioskLink.id).desc())).all()
    return [
        KioskLinkRow(
            id=link.id or 0,
            label=link.label,
            created_by=link.created_by,
            created_at=link.created_at,
            expires_at=link.expires_at,
            state=kiosk_link_state(link, moment),
            interval_seconds=link.interval_seconds,
            panels=link_panels(link.panels),
        )
        for link in links
    ]
