"""Accounts and kiosk links: argon2 password hashes, sign-in, signed kiosk-link tokens."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadData, URLSafeSerializer
from sqlmodel import Session, col, select

from gridcore.access import COMMAND_ROLES, Actor
from gridcore.models import (
    KIOSK_LABEL_MAX_LENGTH,
    Area,
    AreaLevel,
    KioskLink,
    User,
    UserCreate,
    UserGrid,
    UserRole,
    utcnow,
)
from gridcore.queries.access import KioskLinkState, kiosk_link_state
from gridcore.services.base import ValidationFailed, validated, write
from gridcore.services.checks import changed, row_id

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


# --------------------------------------------------------------------------- kiosk links

# Signs kiosk links only: a signature made for another purpose with the same key never verifies.
KIOSK_SALT = "gridcore.kiosk-link"
# The longest a kiosk link may last.
KIOSK_MAX_HOURS = 24 * 31
# A shorter link is a typo (0.0001 h is a third of a second), not a wish: 6 minutes at least.
KIOSK_MIN_HOURS = 0.1
# Longer than any token made here: anything else is refused before it is parsed.
_TOKEN_MAX_LENGTH = 200


def _serializer(secret: str) -> URLSafeSerializer:
    # Untimed: the link's row holds its expiry. A signature timestamp would add nothing but a
    # refusal when the checking server's clock runs a second behind the one that signed.
    return URLSafeSerializer(secret, salt=KIOSK_SALT)


def create_kiosk_link(
    session: Session, *, hours: float, secret: str, actor: Actor, label: str = ""
) -> tuple[KioskLink, str]:
    """A read-only kiosk link valid for `hours`, and its signed token (administrators, leaders).

    The token carries only the link's id; the row decides whether it still works.
    """
    with write(
        session, actor=actor, entity="kiosk_link", action="create", roles=COMMAND_ROLES
    ) as op:
        if not (KIOSK_MIN_HOURS <= hours <= KIOSK_MAX_HOURS):
            raise ValidationFailed({"hours": "services.error.kiosk_hours"}, {"hours": hours})
        label = label.strip()
        if len(label) > KIOSK_LABEL_MAX_LENGTH:
            raise ValidationFailed({"label": "services.error.too_long"})
        link = KioskLink(
            label=label,
            expires_at=utcnow() + timedelta(hours=hours),
            created_by=actor.username,
        )
        session.add(link)
        session.flush()
        op.record(link, {"expires_at": link.expires_at, "label": label})
    return link, _serializer(secret).dumps(row_id(link))


def revoke_kiosk_link(session: Session, *, link_id: int, actor: Actor) -> KioskLink:
    """Withdraw a kiosk link (administrators, leaders): its display stops at the next refresh.

    Revoking a link that is already revoked writes nothing.
    """
    with write(
        session, actor=actor, entity="kiosk_link", action="revoke", roles=COMMAND_ROLES
    ) as op:
        link = session.get(KioskLink, link_id, with_for_update=True)
        if link is None:
            raise ValidationFailed(
                {"link_id": "services.error.kiosk_link_unknown"}, {"link_id": link_id}
            )
        if not link.revoked:
            link.revoked = True
            session.add(link)
            op.record(link, {"revoked": changed(False, True)})
    return link


def verify_kiosk_token(
    session: Session, *, token: str, secret: str, now: datetime | None = None
) -> bool:
    """Whether `token` is a genuine kiosk-link token whose link exists, unrevoked, unexpired.

    The signature proves the link id was issued with this key for this purpose; the row in the
    database is the authority on expiry and revocation, so it is read at every check.
    """
    if not token or len(token) > _TOKEN_MAX_LENGTH:
        return False
    try:
        link_id = _serializer(secret).loads(token)
    except BadData:
        return False
    if not isinstance(link_id, int) or isinstance(link_id, bool):
        return False
    link = session.get(KioskLink, link_id)
    return link is not None and kiosk_link_state(link, now or utcnow()) == KioskLinkState.active
