"""Accounts, sign-in and its sessions, kiosk links.

argon2 password hashes; sign-in with growing delays and lockouts after failures (per account
and per client address), every attempt audited; server-side sessions referred to by a signed
cookie and re-checked at every page run; signed kiosk-link tokens.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadData, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from gridcore.access import COMMAND_ROLES, Actor
from gridcore.config import Settings, get_settings
from gridcore.models import (
    KIOSK_INTERVAL_RANGE,
    KIOSK_LABEL_MAX_LENGTH,
    KIOSK_PANELS,
    Area,
    AreaLevel,
    KioskLink,
    SignInAttempt,
    User,
    UserCreate,
    UserGrid,
    UserRole,
    UserSession,
    utcnow,
)
from gridcore.queries.access import KioskLinkState, kiosk_link_state
from gridcore.services.base import ValidationFailed, choice, validated, write
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
    """The actor for a correct username and password of an active account, else None.

    The same checks, delays and audit as `sign_in`, without a browser session.
    """
    try:
        user = _checked_credentials(
            session, username=username, password=password, client_address=None,
            settings=get_settings(), now=utcnow(),
        )  # fmt: skip
    except SignInRefused:
        return None
    actor = actor_for(session, user)
    with write(session, actor=actor, entity="user", action="sign_in", roles=ALL_ROLES) as op:
        session.add(SignInAttempt(account=account_key(username), succeeded=True))
        op.record(user.id)
    return actor


# --------------------------------------------------------------------------- usernames

# The demo worlds' accounts, whose password is public (gridcore.demo.accounts).
DEMO_USERNAMES: frozenset[str] = frozenset({"admin", "leader", "worker", "viewer"})


def account_key(username: str) -> str:
    """A username as compared: without surrounding spaces and regardless of case."""
    return username.strip().casefold()[:80]


def find_user(session: Session, username: str) -> User | None:
    """The account named `username`, whatever its case and surrounding spaces."""
    key = account_key(username)
    exact = session.exec(select(User).where(User.username == username.strip())).first()
    if exact is not None:
        return exact
    # Few accounts: folding in Python compares non-ASCII letters the same on every database.
    for user_id, name in session.exec(select(User.id, User.username)).all():
        if account_key(name) == key:
            return session.get(User, user_id)
    return None


def is_demo_account(user: User) -> bool:
    """Whether `user` is one of the demo worlds' accounts (public password)."""
    return account_key(user.username) in DEMO_USERNAMES


def demo_accounts_with_password(session: Session, *, password: str) -> list[str]:
    """The demo accounts (active) whose password is still `password` (the public one)."""
    users = session.exec(select(User).where(col(User.active)).order_by(User.username)).all()
    return [
        user.username
        for user in users
        if is_demo_account(user) and verify_password(user.password_hash, password)
    ]


# --------------------------------------------------------------------------- sign-in


class SignInRefused(Exception):
    """A sign-in that did not succeed; `wait_seconds` > 0 when a delay or lockout holds."""

    def __init__(self, reason: str, wait_seconds: int = 0):
        super().__init__(reason)
        # "failed" (wrong name or password, or an account that may not sign in), "wait", "locked"
        self.reason = reason
        self.wait_seconds = wait_seconds


# The longest delay between attempts short of a lockout.
SIGNIN_MAX_DELAY_SECONDS = 60


def signin_wait(
    failures: Sequence[datetime], *, now: datetime, settings: Settings
) -> tuple[int, bool]:
    """Seconds before the next attempt may be checked, and whether that is a lockout.

    `failures` are the failed attempts counted (within the lockout window). The first
    `signin_free_failures` cost nothing; each one after doubles the wait (1, 2, 4 … 60 s)
    counted from the last failure; `signin_lockout_failures` lock for `signin_lockout_minutes`.
    """
    count = len(failures)
    if count < settings.signin_free_failures:
        return 0, False
    last = max(failures)
    if count >= settings.signin_lockout_failures:
        until = last + timedelta(minutes=settings.signin_lockout_minutes)
        return _seconds_until(until, now), True
    delay = min(2 ** (count - settings.signin_free_failures), SIGNIN_MAX_DELAY_SECONDS)
    return _seconds_until(last + timedelta(seconds=delay), now), False


def _seconds_until(moment: datetime, now: datetime) -> int:
    left = (moment - now).total_seconds()
    return max(0, int(left) + (1 if left % 1 else 0))


def _recent_failures(
    session: Session, *, account: str | None, client_address: str | None, since: datetime
) -> list[datetime]:
    query = select(SignInAttempt.at, SignInAttempt.succeeded).where(SignInAttempt.at > since)
    if account is not None:
        query = query.where(SignInAttempt.account == account)
    else:
        query = query.where(SignInAttempt.client_address == client_address)
    rows = session.exec(query.order_by(col(SignInAttempt.at))).all()
    failures: list[datetime] = []
    for at, succeeded in rows:
        if succeeded and account is not None:
            failures.clear()  # the account's owner got in: earlier failures no longer count
        elif not succeeded:
            failures.append(at)
    return failures


def _throttle(
    session: Session, *, account: str, client_address: str | None, now: datetime, settings: Settings
) -> tuple[int, bool]:
    """The wait that holds for this account or this address, the longer one."""
    since = now - timedelta(minutes=settings.signin_lockout_minutes)
    waits = [
        signin_wait(
            _recent_failures(session, account=account, client_address=None, since=since),
            now=now, settings=settings,
        )
    ]  # fmt: skip
    if client_address:
        waits.append(
            signin_wait(
                _recent_failures(
                    session, account=None, client_address=client_address, since=since
                ),
                now=now, settings=settings,
            )
        )  # fmt: skip
    return max(waits)


def _refuse(
    session: Session,
    *,
    username: str,
    user: User | None,
    client_address: str | None,
    reason: str,
    now: datetime,
    counted: bool,
) -> None:
    """Audit a refused sign-in (and count it when the password was checked)."""
    someone = Actor(username=username.strip()[:40] or "?", role=UserRole.viewer)
    with write(
        session, actor=someone, entity="user", action="sign_in_failed", roles=ALL_ROLES
    ) as op:
        if counted:
            session.add(
                SignInAttempt(at=now, account=account_key(username), client_address=client_address)
            )
        op.record(None if user is None else user.id, {"reason": reason, "address": client_address})


def _checked_credentials(
    session: Session,
    *,
    username: str,
    password: str,
    client_address: str | None,
    settings: Settings,
    now: datetime,
) -> User:
    """The account whose name and password these are, if it may sign in now; else refused.

    A refusal while a delay or lockout holds is decided before the password is hashed, so
    a flood of attempts costs the server no argon2 work.
    """
    account = account_key(username)
    address = (client_address or "")[:64] or None
    wait, locked = _throttle(
        session, account=account, client_address=address, now=now, settings=settings
    )
    if wait > 0:
        reason = "locked" if locked else "wait"
        _refuse(
            session, username=username, user=None, client_address=address, reason=reason,
            now=now, counted=False,
        )  # fmt: skip
        raise SignInRefused(reason, wait)
    user = find_user(session, username)
    if user is None:
        verify_password(_dummy_hash(), password)
        reason = "unknown_user"
    elif not verify_password(user.password_hash, password):
        reason = "wrong_password"
    elif not user.active:
        reason = "inactive"
    elif not settings.demo_accounts and is_demo_account(user):
        reason = "demo_accounts_off"
    else:
        return user
    _refuse(
        session, username=username, user=user, client_address=address, reason=reason,
        now=now, counted=True,
    )  # fmt: skip
    raise SignInRefused("failed")


# --------------------------------------------------------------------------- sessions

# Signs session cookies only: a kiosk-link token never passes for a session and vice versa.
SESSION_SALT = "gridcore.session"
# How long the browser has to exchange its one-time ticket for the cookie.
TICKET_SECONDS = 120


@dataclass(frozen=True)
class SignedIn:
    """A successful sign-in: the actor, its session and a one-time ticket for the cookie.

    The browser exchanges the ticket for the cookie (`cookie_for_ticket`: an HttpOnly
    cookie set by the server's response), so page scripts never see the cookie's value.
    """

    actor: Actor
    session_id: int
    ticket: str


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def password_stamp(user: User) -> str:
    """A fingerprint of the account's password hash: it changes with the password."""
    return _digest(user.password_hash)


def _session_serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SESSION_SALT)


def sign_in(
    session: Session,
    *,
    username: str,
    password: str,
    client_address: str | None,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> SignedIn:
    """Check the credentials (delays and lockouts first) and open a session; else SignInRefused.

    Every attempt is audited: `sign_in`, or `sign_in_failed` with the reason and address.
    """
    settings = settings or get_settings()
    moment = now or utcnow()
    user = _checked_credentials(
        session, username=username, password=password, client_address=client_address,
        settings=settings, now=moment,
    )  # fmt: skip
    actor = actor_for(session, user)
    token, ticket = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    address = (client_address or "")[:64] or None
    with write(session, actor=actor, entity="user", action="sign_in", roles=ALL_ROLES) as op:
        # Attempts older than a day count for nothing (the audit log keeps them).
        session.execute(
            delete(SignInAttempt).where(col(SignInAttempt.at) < moment - timedelta(days=1))
        )
        session.add(
            SignInAttempt(
                at=moment, account=account_key(username), client_address=address, succeeded=True
            )
        )
        row = UserSession(
            user_id=row_id(user),
            token_hash=_digest(token),
            ticket_hash=_digest(ticket),
            ticket_expires_at=moment + timedelta(seconds=TICKET_SECONDS),
            password_stamp=password_stamp(user),
            created_at=moment,
            last_seen_at=moment,
            client_address=address,
        )
        session.add(row)
        session.flush()
        op.record(user.id, {"address": address, "session": row.id})
    return SignedIn(actor=actor, session_id=row_id(row), ticket=ticket)


def claim_ticket(session: Session, *, ticket: str, now: datetime | None = None) -> int | None:
    """The session whose one-time ticket this is (used up now), or None."""
    if not ticket or len(ticket) > 100:
        return None
    moment = now or utcnow()
    row = session.exec(
        select(UserSession).where(UserSession.ticket_hash == _digest(ticket))
    ).first()
    if row is None:
        return None
    valid = (
        row.ended_at is None
        and row.ticket_expires_at is not None
        and row.ticket_expires_at > moment
    )
    row.ticket_hash = None
    row.ticket_expires_at = None
    session.add(row)
    session.commit()
    return row.id if valid else None


def cookie_for_ticket(
    session: Session, *, ticket: str, secret: str, now: datetime | None = None
) -> str | None:
    """The signed cookie value of the session whose ticket this is, or None.

    Only a token's hash is stored, so the cookie is made here from a fresh token whose hash
    replaces the one made at sign-in: the cookie given to the browser is the only key.
    """
    session_id = claim_ticket(session, ticket=ticket, now=now)
    if session_id is None:
        return None
    token = secrets.token_urlsafe(32)
    row = session.get(UserSession, session_id)
    assert row is not None
    row.token_hash = _digest(token)
    session.add(row)
    session.commit()
    return _session_serializer(secret).dumps(token)


def session_for_cookie(
    session: Session, *, cookie: str, secret: str, settings: Settings | None = None
) -> int | None:
    """The id of the session a (genuine, unexpired) cookie refers to, or None.

    Whether the session still works is `check_session`'s question.
    """
    settings = settings or get_settings()
    if not cookie or len(cookie) > 300:
        return None
    try:
        token = _session_serializer(secret).loads(cookie, max_age=settings.session_max_minutes * 60)
    except BadData:
        return None
    if not isinstance(token, str):
        return None
    return session.exec(
        select(UserSession.id).where(UserSession.token_hash == _digest(token))
    ).first()


# Re-checks of a session within this many seconds of the last one do not write last_seen_at.
_TOUCH_SECONDS = 60


def check_session(
    session: Session,
    *,
    session_id: int,
    touch: bool = True,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> Actor | None:
    """The actor of a session that still works, rebuilt from the database; else None.

    Checked at every page run and every refresh of a live part of a page: the session is
    not ended (sign-out, new password), not idle for longer than the idle limit, not older
    than the absolute limit; the account is active, may still sign in, has the same
    password; role and grids are read afresh. A session found expired is ended.
    `touch` (a run the user caused) counts as activity; a page refreshing itself does not.
    """
    settings = settings or get_settings()
    moment = now or utcnow()
    row = session.get(UserSession, session_id)
    if row is None or row.ended_at is not None:
        return None
    user = session.get(User, row.user_id)
    reason = None
    if moment - row.last_seen_at > timedelta(minutes=settings.session_idle_minutes):
        reason = "idle"
    elif moment - row.created_at > timedelta(minutes=settings.session_max_minutes):
        reason = "expired"
    elif user is None or not user.active:
        reason = "inactive"
    elif row.password_stamp != password_stamp(user):
        reason = "password"
    elif not settings.demo_accounts and is_demo_account(user):
        reason = "demo_accounts_off"
    if reason is not None:
        row.ended_at, row.end_reason = moment, reason
        session.add(row)
        session.commit()
        return None
    assert user is not None
    if touch and (moment - row.last_seen_at).total_seconds() >= _TOUCH_SECONDS:
        row.last_seen_at = moment
        session.add(row)
        session.commit()
    return actor_for(session, user)


def end_sessions(
    session: Session, *, user_id: int, reason: str, now: datetime | None = None
) -> int:
    """End every open session of an account (the caller commits); how many were open."""
    result = session.execute(
        update(UserSession)
        .where(col(UserSession.user_id) == user_id, col(UserSession.ended_at).is_(None))
        .values(ended_at=now or utcnow(), end_reason=reason)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def sign_out(session: Session, *, actor: Actor) -> int:
    """Sign the account out everywhere: every open session of it ends at once."""
    with write(session, actor=actor, entity="user", action="sign_out", roles=ALL_ROLES) as op:
        if actor.user_id is None:
            return 0
        ended = end_sessions(session, user_id=actor.user_id, reason="sign_out")
        op.record(actor.user_id, {"sessions": ended})
    return ended


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
        if find_user(session, user_in.username) is not None:
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
    roles = ALL_ROLES if account_key(actor.username) == account_key(username) else (UserRole.admin,)
    with write(session, actor=actor, entity="user", roles=roles) as op:
        user = find_user(session, username)
        if user is None:
            raise ValidationFailed(
                {"username": "services.error.user_not_found"}, {"username": username}
            )
        if len(password) < PASSWORD_MIN_LENGTH:
            raise ValidationFailed({"password": "services.error.password_too_short"})
        user.password_hash = hash_password(password)
        session.add(user)
        # Every browser signed in with the old password is signed out at once.
        ended = end_sessions(session, user_id=row_id(user), reason="password")
        op.record(user, {"password": "changed", "sessions_ended": ended})


def _managed_user(session: Session, username: str) -> User:
    """The account an administrator is changing (locked for the change), else a clear error."""
    user = find_user(session, username)
    if user is None:
        raise ValidationFailed(
            {"username": "services.error.user_not_found"}, {"username": username}
        )
    locked = session.get(User, row_id(user), with_for_update=True)
    assert locked is not None
    return locked


def _grid_codes_of(session: Session, user_id: int) -> list[str]:
    rows = session.exec(
        select(Area.code).join(UserGrid, col(UserGrid.grid_id) == Area.id)
        .where(UserGrid.user_id == user_id)
    ).all()  # fmt: skip
    return sorted(rows)


def _is_self(actor: Actor, user: User) -> bool:
    return account_key(actor.username) == account_key(user.username)


def update_user(
    session: Session, *, username: str, role: UserRole | str, grid_codes: list[str], actor: Actor
) -> User:
    """Change an account's role and grids (administrators only).

    A grid worker needs at least one grid; an administrator cannot take the administrator
    role from their own account (nobody would be left to give it back). The new role and
    grids take effect at the account's next page run (sessions re-read them).
    """
    with write(session, actor=actor, entity="user", roles=(UserRole.admin,)) as op:
        new_role = choice(UserRole, role, "role")
        user = _managed_user(session, username)
        codes = sorted(dict.fromkeys(c.strip() for c in grid_codes if c.strip()))
        if new_role == UserRole.grid_worker and not codes:
            raise ValidationFailed({"grid_codes": "services.error.grid_worker_needs_grid"})
        if _is_self(actor, user) and new_role != UserRole.admin:
            raise ValidationFailed({"role": "services.error.own_admin_role"})
        grid_ids = _grid_ids_for_codes(session, codes)
        old_role, old_codes = UserRole(user.role), _grid_codes_of(session, row_id(user))
        if old_role == new_role and old_codes == codes:
            return user
        user.role = new_role
        session.add(user)
        session.execute(delete(UserGrid).where(col(UserGrid.user_id) == row_id(user)))
        session.add_all(UserGrid(user_id=row_id(user), grid_id=grid_id) for grid_id in grid_ids)
        changes: dict[str, object] = {}
        if old_role != new_role:
            changes["role"] = changed(old_role, new_role)
        if old_codes != codes:
            changes["grids"] = changed(old_codes, codes)
        op.record(user, changes)
    return user


def set_user_active(session: Session, *, username: str, active: bool, actor: Actor) -> User:
    """Deactivate or reactivate an account (administrators only; never one's own).

    A deactivated account cannot sign in, and every session of it ends at once.
    """
    action = "reactivate" if active else "deactivate"
    with write(session, actor=actor, entity="user", action=action, roles=(UserRole.admin,)) as op:
        user = _managed_user(session, username)
        if _is_self(actor, user):
            raise ValidationFailed({"username": "services.error.own_account_active"})
        if user.active == active:
            return user
        user.active = active
        session.add(user)
        ended = 0 if active else end_sessions(session, user_id=row_id(user), reason="inactive")
        op.record(user, {"active": changed(not active, active), "sessions_ended": ended})
    return user


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
    session: Session,
    *,
    hours: float,
    secret: str,
    actor: Actor,
    label: str = "",
    interval_seconds: int | None = None,
    panels: Sequence[str] | None = None,
    client_token: str | None = None,
) -> tuple[KioskLink, str]:
    """A read-only kiosk link valid for `hours`, and its signed token (administrators, leaders).

    The link shows `panels` (None or every panel: all of them, including any added later),
    each for `interval_seconds` (None: the deployment's setting), in the standard order.
    The token carries only the link's id; the row decides whether it still works. A form
    sent twice (the same `client_token`) makes one link.
    """
    with write(
        session, actor=actor, entity="kiosk_link", action="create", roles=COMMAND_ROLES,
        client_token=client_token,
    ) as op:  # fmt: skip
        if (earlier := op.replayed(KioskLink)) is not None:
            return earlier, _serializer(secret).dumps(row_id(earlier))
        if not (KIOSK_MIN_HOURS <= hours <= KIOSK_MAX_HOURS):
            raise ValidationFailed({"hours": "services.error.kiosk_hours"}, {"hours": hours})
        label = label.strip()
        if len(label) > KIOSK_LABEL_MAX_LENGTH:
            raise ValidationFailed({"label": "services.error.too_long"})
        low, high = KIOSK_INTERVAL_RANGE
        if interval_seconds is not None and not (low <= interval_seconds <= high):
            raise ValidationFailed(
                {"interval_seconds": "services.error.kiosk_interval"},
                {"interval_seconds": interval_seconds},
            )
        chosen = _panel_list(panels)
        link = KioskLink(
            label=label,
            expires_at=utcnow() + timedelta(hours=hours),
            created_by=actor.username,
            interval_seconds=interval_seconds,
            panels=chosen,
        )
        session.add(link)
        session.flush()
        op.record(
            link,
            {
                "expires_at": link.expires_at,
                "label": label,
                "interval_seconds": interval_seconds,
                "panels": chosen,
            },
        )
    return link, _serializer(secret).dumps(row_id(link))


def _panel_list(panels: Sequence[str] | None) -> str:
    """The panels as stored: comma-separated in the standard order, '' for every panel."""
    if panels is None:
        return ""
    wanted = {p.strip() for p in panels}
    if not wanted or "" in wanted:
        raise ValidationFailed({"panels": "services.error.kiosk_no_panels"})
    unknown = sorted(wanted - set(KIOSK_PANELS))
    if unknown:
        raise ValidationFailed(
            {"panels": "services.error.kiosk_unknown_panel"}, {"panels": ",".join(unknown)}
        )
    if wanted == set(KIOSK_PANELS):
        return ""
    return ",".join(p for p in KIOSK_PANELS if p in wanted)


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


def verified_kiosk_link(
    session: Session, *, token: str, secret: str, now: datetime | None = None
) -> KioskLink | None:
    """The link of `token` when it is a genuine kiosk-link token whose link exists, unrevoked
    and unexpired; else None.

    The signature proves the link id was issued with this key for this purpose; the row in the
    database is the authority on expiry and revocation, so it is read at every check.
    """
    if not token or len(token) > _TOKEN_MAX_LENGTH:
        return None
    try:
        link_id = _serializer(secret).loads(token)
    except BadData:
        return None
    if not isinstance(link_id, int) or isinstance(link_id, bool):
        return None
    link = session.get(KioskLink, link_id)
    if link is None or kiosk_link_state(link, now or utcnow()) != KioskLinkState.active:
        return None
    return link


def verify_kiosk_token(
    session: Session, *, token: str, secret: str, now: datetime | None = None
) -> bool:
    """Whether `token` is a genuine kiosk-link token whose link still works (see above)."""
    return verified_kiosk_link(session, token=token, secret=secret, now=now) is not None
