"""Accounts: argon2 password hashes, sign-in, and signed read-only kiosk links."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, select

from gridcore.access import Actor, require_role
from gridcore.models import (
    Area,
    AreaLevel,
    KioskLink,
    User,
    UserCreate,
    UserGrid,
    UserRole,
    utcnow,
)
from gridcore.services.base import ValidationFailed, audit, validated, write
from gridcore.services.checks import row_id

# Every role may sign in and change their own password.
ALL_ROLES: tuple[UserRole, ...] = tuple(UserRole)
PASSWORD_MIN_LENGTH = 8


@cache
def password_hasher() -> PasswordHasher:
    """The argon2id hasher with argon2-cffi's recommended cost (made on first use)."""
    return PasswordHasher()


@cache
def _dummy_hash() -> str:
    """A hash to verify against for an unknown user, so that a failed sign-in takes as long."""
    return password_hasher().hash("not-a-real-password")


def hash_password(password: str) -> str:
    """An argon2id hash of `password`."""
    return password_hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches `password_hash`."""
    try:
        return password_hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def actor_for(session: Session, user: User) -> Actor:
    """The Actor a signed-in user acts as (grid workers carry their grid scope)."""
    grid_ids = session.exec(select(UserGrid.grid_id).where(UserGrid.user_id == user.id)).all()
    scope = frozenset(grid_ids) if user.role == UserRole.grid_worker else None
    return Actor(username=user.username, role=UserRole(user.role), grid_ids=scope, user_id=user.id)


def authenticate(session: Session, *, username: str, password: str) -> Actor | None:
    """The actor for a correct username and password of an active account, else None."""
    user = session.exec(select(User).where(User.username == username.strip())).first()
    if user is None or not user.active:
        verify_password(_dummy_hash(), password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    actor = actor_for(session, user)
    with write(session, actor=actor, entity="user", action="sign_in", roles=ALL_ROLES) as op:
        op.record(user.id)
    return actor


def _grid_ids_for_codes(session: Session, codes: list[str]) -> list[int]:
    if not codes:
        return []
    rows = session.exec(
        select(Area.code, Area.id).where(col(Area.code).in_(codes), Area.level == AreaLevel.grid)
    ).all()
    found: dict[str, int] = {code: grid_id for code, grid_id in rows if grid_id is not None}
    missing = [c for c in codes if c not in found]
    if missing:
        raise ValidationFailed(
            {"grid_codes": "services.error.grid_code_unknown"}, {"grid_codes": ", ".join(missing)}
        )
    return [found[c] for c in codes]


def create_user(session: Session, *, data: UserCreate | dict, actor: Actor) -> User:
    """Create an account (administrators only); grid workers need at least one grid."""
    with write(session, actor=actor, entity="user", action="create", roles=(UserRole.admin,)) as op:
        user_in = validated(UserCreate, data)
        taken = session.exec(select(User.id).where(User.username == user_in.username)).first()
        if taken is not None:
            raise ValidationFailed(
                {"username": "services.error.username_taken"}, {"username": user_in.username}
            )
        if user_in.role == UserRole.grid_worker and not user_in.grid_codes:
            raise ValidationFailed({"grid_codes": "services.error.grid_worker_needs_grid"})
        grid_ids = _grid_ids_for_codes(session, user_in.grid_codes)
        user = User(
            username=user_in.username,
            full_name=user_in.full_name,
            role=user_in.role,
            active=user_in.active,
            worker_id=user_in.worker_id,
            password_hash=hash_password(user_in.password),
        )
        session.add(user)
        session.flush()
        session.add_all(UserGrid(user_id=row_id(user), grid_id=grid_id) for grid_id in grid_ids)
        op.record(
            user,
            {"username": user.username, "role": user.role, "grids": user_in.grid_codes},
        )
    return user


def set_password(session: Session, *, username: str, password: str, actor: Actor) -> None:
    """Set a new password (administrators, or the user themself)."""
    roles = ALL_ROLES if actor.username == username else (UserRole.admin,)
    with write(session, actor=actor, entity="user", roles=roles) as op:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None:
            raise ValidationFailed(
                {"username": "services.error.user_not_found"}, {"username": username}
            )
        if len(password) < PASSWORD_MIN_LENGTH:
            raise ValidationFailed({"password": "services.error.password_too_short"})
        user.password_hash = hash_password(password)
        session.add(user)
        op.record(user, {"password": "changed"})


def list_users(session: Session) -> list[tuple[User, list[str]]]:
    """Every account with the codes of the grids in its scope."""
    users = session.exec(select(User).order_by(User.username)).all()
    scope_rows = session.exec(
        select(UserGrid.user_id, Area.code).join(Area, col(Area.id) == UserGrid.grid_id)
    ).all()
    scopes: dict[int, list[str]] = {}
    for user_id, code in scope_rows:
        scopes.setdefault(user_id, []).append(code)
    return [(u, sorted(scopes.get(u.id or 0, []))) for u in users]


# --------------------------------------------------------------------------- kiosk links


def _sign(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode().rstrip("=")


def create_kiosk_link(
    session: Session, *, hours: float, secret: str, actor: Actor, label: str = ""
) -> tuple[KioskLink, str]:
    """A read-only kiosk token valid for `hours` (administrators and leaders)."""
    require_role(actor, UserRole.admin, UserRole.leader)
    if not 0 < hours <= 24 * 31:
        raise ValidationFailed({"hours": "a kiosk link lasts between a few minutes and 31 days"})
    link = KioskLink(
        label=label,
        expires_at=utcnow() + timedelta(hours=hours),
        created_by=actor.username,
    )
    session.add(link)
    session.flush()
    expires = int(link.expires_at.timestamp())
    payload = f"{link.id}.{expires}"
    audit(
        session,
        actor=actor,
        action="create",
        entity="kiosk_link",
        entity_id=link.id,
        changes={"expires_at": link.expires_at, "label": label},
    )
    session.commit()
    return link, f"{payload}.{_sign(secret, payload)}"


def verify_kiosk_token(
    session: Session, *, token: str, secret: str, now: datetime | None = None
) -> bool:
    """Whether `token` is a genuine, unexpired, unrevoked kiosk link."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return False
    payload = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(_sign(secret, payload), parts[2]):
        return False
    now = now or datetime.now(UTC)
    if int(parts[1]) < now.timestamp():
        return False
    link = session.get(KioskLink, int(parts[0]))
    return link is not None and not link.revoked and link.expires_at > now
