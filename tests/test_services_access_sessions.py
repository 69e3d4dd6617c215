"""Sign-in and its sessions: delays and lockouts on a fake clock, audits, and sessions that
end at the next check when the account, its grids, its password or the clock say so.

`check_session` is what every page run (touch=True) and every refresh of a live part of a
page (touch=False) calls (gridcore/ui/session.py); calling it here is the next run.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, delete, select

from gridcore.access import SYSTEM, PermissionDenied
from gridcore.config import Settings
from gridcore.models import Area, AuditEntry, SignInAttempt, User, UserGrid, UserRole, UserSession
from gridcore.services.access import (
    SignInRefused,
    authenticate,
    check_session,
    claim_ticket,
    cookie_for_ticket,
    create_kiosk_link,
    create_user,
    session_for_cookie,
    set_password,
    set_user_active,
    sign_in,
    sign_out,
    signin_wait,
    update_user,
)
from gridcore.services.base import ValidationFailed
from tests.factories import ADMIN, LEADER, make_street_with_grids

SECRET = "unit-test-session-secret"
PASSWORD = "correct-horse"
T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
# The defaults: 12 h idle, 24 h in all, 5 free failures, lockout at 10 for 15 min.
SETTINGS = Settings(configured_secret_key=SECRET)


def _accounts(session: Session) -> dict[str, User]:
    world = make_street_with_grids(session, grids=2, buildings_per_grid=1)
    users = {}
    for username, role, grids in (
        ("alice", UserRole.grid_worker, [world.grids[0].code, world.grids[1].code]),
        ("bob", UserRole.leader, []),
        ("viewer", UserRole.viewer, []),
    ):
        users[username] = create_user(
            session,
            data={"username": username, "role": role, "password": PASSWORD, "grid_codes": grids},
            actor=SYSTEM,
        )
    return users


def _sign_in(
    session: Session,
    username: str,
    password: str = PASSWORD,
    *,
    at: datetime = T0,
    address: str | None = "10.0.0.7",
    settings: Settings = SETTINGS,
) -> int:
    return sign_in(
        session, username=username, password=password, client_address=address,
        settings=settings, now=at,
    ).session_id  # fmt: skip


def _check(
    session: Session,
    session_id: int,
    at: datetime,
    *,
    touch: bool = True,
    settings: Settings = SETTINGS,
):
    session.expire_all()
    return check_session(session, session_id=session_id, touch=touch, settings=settings, now=at)


def _ended(session: Session, session_id: int) -> str | None:
    session.expire_all()
    row = session.get(UserSession, session_id)
    assert row is not None
    return row.end_reason


# --------------------------------------------------------------------------- sessions


def test_a_session_works_until_it_is_idle_for_twelve_hours(session: Session) -> None:
    _accounts(session)
    sid = _sign_in(session, "alice")
    actor = _check(session, sid, T0 + timedelta(hours=11, minutes=59))
    assert actor is not None and actor.username == "alice"
    # That run was activity: 11 h after it the session still works.
    assert _check(session, sid, T0 + timedelta(hours=23)) is not None
    assert _check(session, sid, T0 + timedelta(hours=35, minutes=1)) is None
    assert _ended(session, sid) == "idle"
    # Ended is ended: no later check brings it back.
    assert _check(session, sid, T0 + timedelta(hours=36)) is None


def test_a_page_refreshing_itself_is_not_activity(session: Session) -> None:
    _accounts(session)
    sid = _sign_in(session, "alice")
    for hour in range(1, 12):  # a live page refreshing all morning, nobody touching it
        assert _check(session, sid, T0 + timedelta(hours=hour), touch=False) is not None
    assert _check(session, sid, T0 + timedelta(hours=12, minutes=1), touch=False) is None
    assert _ended(session, sid) == "idle"


def test_a_session_ends_after_its_absolute_limit_however_active(session: Session) -> None:
    _accounts(session)
    sid = _sign_in(session, "alice")
    for hour in range(2, 24, 2):
        assert _check(session, sid, T0 + timedelta(hours=hour)) is not None
    assert _check(session, sid, T0 + timedelta(hours=24, minutes=1)) is None
    assert _ended(session, sid) == "expired"


def test_idle_and_absolute_limits_come_from_the_settings(session: Session) -> None:
    _accounts(session)
    short = replace(SETTINGS, session_idle_minutes=30, session_max_minutes=60)
    sid = _sign_in(session, "alice", settings=short)
    assert _check(session, sid, T0 + timedelta(minutes=29), settings=short) is not None
    assert _check(session, sid, T0 + timedelta(minutes=58), settings=short) is not None
    assert _check(session, sid, T0 + timedelta(minutes=61), settings=short) is None
    assert _ended(session, sid) == "expired"


def test_deactivating_an_account_ends_its_session_at_the_next_check(session: Session) -> None:
    users = _accounts(session)
    sid = _sign_in(session, "alice")
    users["alice"].active = False
    session.add(users["alice"])
    session.commit()
    assert _check(session, sid, T0 + timedelta(minutes=1), touch=False) is None
    assert _ended(session, sid) == "inactive"


def test_a_removed_grid_and_a_new_role_apply_at_the_next_check(session: Session) -> None:
    users = _accounts(session)
    sid = _sign_in(session, "alice")
    before = _check(session, sid, T0 + timedelta(minutes=1), touch=False)
    assert before is not None and before.grid_ids is not None and len(before.grid_ids) == 2
    kept, removed = sorted(before.grid_ids)
    session.exec(delete(UserGrid).where(col(UserGrid.grid_id) == removed))  # type: ignore[call-overload]
    session.commit()
    after = _check(session, sid, T0 + timedelta(minutes=2), touch=False)
    assert after is not None and after.grid_ids == frozenset({kept})
    assert not after.may_write_grid(removed)
    users["alice"].role = UserRole.viewer
    session.add(users["alice"])
    session.commit()
    demoted = _check(session, sid, T0 + timedelta(minutes=3), touch=False)
    assert demoted is not None and demoted.role == UserRole.viewer and not demoted.can_write


@pytest.mark.both_backends  # timestamps compared and updated in SQL
def test_a_new_password_ends_every_session_of_that_account_at_once(session: Session) -> None:
    _accounts(session)
    phone, desk = _sign_in(session, "alice"), _sign_in(session, "alice")
    other = _sign_in(session, "bob")
    set_password(session, username="alice", password="another-password", actor=SYSTEM)
    assert _check(session, phone, T0 + timedelta(minutes=1)) is None
    assert _check(session, desk, T0 + timedelta(minutes=1), touch=False) is None
    assert _ended(session, phone) == _ended(session, desk) == "password"
    assert _check(session, other, T0 + timedelta(minutes=1)) is not None
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "update")).all()[-1]
    assert json.loads(entry.changes) == {"password": "changed", "sessions_ended": 2}


def test_a_password_changed_behind_the_service_still_ends_the_session(session: Session) -> None:
    users = _accounts(session)
    sid = _sign_in(session, "alice")
    users["alice"].password_hash = users["bob"].password_hash  # e.g. restored from elsewhere
    session.add(users["alice"])
    session.commit()
    assert _check(session, sid, T0 + timedelta(minutes=1)) is None
    assert _ended(session, sid) == "password"


def test_signing_out_ends_every_session_of_the_account_only(session: Session) -> None:
    _accounts(session)
    first, second, other = (
        _sign_in(session, "alice"),
        _sign_in(session, "alice"),
        _sign_in(session, "bob"),
    )
    actor = _check(session, first, T0)
    assert actor is not None
    assert sign_out(session, actor=actor) == 2
    assert _check(session, second, T0 + timedelta(seconds=5)) is None
    assert _ended(session, second) == "sign_out"
    assert _check(session, other, T0 + timedelta(seconds=5)) is not None


@pytest.mark.both_backends  # timestamps compared and updated in SQL
def test_the_cookie_is_given_once_for_a_ticket_and_leads_back_to_the_session(
    session: Session,
) -> None:
    _accounts(session)
    signed = sign_in(
        session, username="alice", password=PASSWORD, client_address=None, settings=SETTINGS
    )
    cookie = cookie_for_ticket(session, ticket=signed.ticket, secret=SECRET)
    assert cookie is not None
    assert cookie_for_ticket(session, ticket=signed.ticket, secret=SECRET) is None  # used up
    assert session_for_cookie(session, cookie=cookie, secret=SECRET) == signed.session_id
    # The cookie holds no account name, id or role.
    assert "alice" not in cookie
    assert session_for_cookie(session, cookie=cookie, secret="another-key") is None
    assert session_for_cookie(session, cookie=cookie[:-2] + "xx", secret=SECRET) is None
    _, kiosk_token = create_kiosk_link(session, hours=1, secret=SECRET, actor=SYSTEM)
    assert session_for_cookie(session, cookie=kiosk_token, secret=SECRET) is None
    assert session_for_cookie(session, cookie="", secret=SECRET) is None


def test_a_ticket_expires_after_two_minutes(session: Session) -> None:
    _accounts(session)
    signed = sign_in(
        session, username="alice", password=PASSWORD, client_address=None,
        settings=SETTINGS, now=T0,
    )  # fmt: skip
    assert claim_ticket(session, ticket=signed.ticket, now=T0 + timedelta(seconds=121)) is None
    assert claim_ticket(session, ticket="not-a-ticket", now=T0) is None


# --------------------------------------------------------------------------- sign-in


@pytest.mark.parametrize(
    ("failures", "seconds_since_last", "expected"),
    [
        (0, 0, (0, False)),
        (4, 0, (0, False)),  # the first five failures cost nothing
        (5, 0, (1, False)),
        (6, 0, (2, False)),
        (7, 1, (3, False)),  # 4 s after the last, one already passed
        (9, 0, (16, False)),
        (9, 16, (0, False)),
        (10, 0, (900, True)),  # the tenth locks for 15 minutes
        (12, 600, (300, True)),
    ],
)
def test_the_wait_grows_with_the_failures_then_locks(
    failures: int, seconds_since_last: int, expected: tuple[int, bool]
) -> None:
    last = T0
    times = [last - timedelta(seconds=i) for i in range(failures)]
    now = last + timedelta(seconds=seconds_since_last)
    assert signin_wait(times, now=now, settings=SETTINGS) == expected


@pytest.mark.both_backends  # timestamps compared and updated in SQL
def test_failures_of_one_account_delay_then_lock_it_and_are_all_audited(
    session: Session,
) -> None:
    _accounts(session)
    clock = T0
    for _ in range(5):
        with pytest.raises(SignInRefused) as refused:
            _sign_in(session, "alice", "wrong", at=clock, address=None)
        assert refused.value.reason == "failed"
        clock += timedelta(milliseconds=200)
    # The sixth attempt straight away: refused unchecked, even with the right password.
    with pytest.raises(SignInRefused) as refused:
        _sign_in(session, "alice", at=clock, address=None)
    assert (refused.value.reason, refused.value.wait_seconds) == ("wait", 1)
    for _ in range(5):  # waiting out each delay, still wrong
        clock += timedelta(seconds=60)
        with pytest.raises(SignInRefused):
            _sign_in(session, "alice", "wrong", at=clock, address=None)
    clock += timedelta(seconds=1)
    with pytest.raises(SignInRefused) as refused:
        _sign_in(session, "alice", at=clock, address=None)
    assert refused.value.reason == "locked" and 850 < refused.value.wait_seconds <= 900
    # Another account is not locked by it.
    assert _sign_in(session, "bob", at=clock, address=None) > 0
    # Every attempt is in the audit, with the reason.
    failed = session.exec(select(AuditEntry).where(AuditEntry.action == "sign_in_failed")).all()
    reasons = [json.loads(e.changes)["reason"] for e in failed]
    assert reasons == ["wrong_password"] * 5 + ["wait"] + ["wrong_password"] * 5 + ["locked"]
    assert {e.username for e in failed} == {"alice"}
    # After the lockout, the right password gets in and the count starts again.
    clock += timedelta(minutes=15)
    assert _sign_in(session, "alice", at=clock, address=None) > 0
    with pytest.raises(SignInRefused) as refused:
        _sign_in(session, "alice", "wrong", at=clock, address=None)
    assert refused.value.reason == "failed"
    # Attempts are kept a day, for counting; the audit log keeps them for good.
    _sign_in(session, "bob", at=clock + timedelta(days=1, minutes=1), address=None)
    kept = session.exec(select(SignInAttempt)).all()
    assert [(a.account, a.succeeded) for a in kept] == [("bob", True)]


def test_failures_from_one_address_over_many_accounts_delay_that_address(
    session: Session,
) -> None:
    _accounts(session)
    for i in range(5):
        with pytest.raises(SignInRefused):
            _sign_in(session, f"guess{i}", "wrong", address="203.0.113.9")
    with pytest.raises(SignInRefused) as refused:
        _sign_in(session, "bob", address="203.0.113.9")
    assert refused.value.reason == "wait"
    assert _sign_in(session, "bob", address="198.51.100.1") > 0  # another address is not
    unknown = session.exec(
        select(AuditEntry).where(
            AuditEntry.action == "sign_in_failed", AuditEntry.username == "guess0"
        )
    ).one()
    assert json.loads(unknown.changes) == {"reason": "unknown_user", "address": "203.0.113.9"}


def test_an_inactive_account_and_a_wrong_password_get_the_same_answer(session: Session) -> None:
    users = _accounts(session)
    users["bob"].active = False
    session.add(users["bob"])
    session.commit()
    answers = []
    for username, password in (("bob", PASSWORD), ("alice", "wrong"), ("nobody", PASSWORD)):
        with pytest.raises(SignInRefused) as refused:
            _sign_in(session, username, password)
        answers.append((refused.value.reason, refused.value.wait_seconds))
    assert answers == [("failed", 0)] * 3


def test_demo_accounts_can_be_turned_off(session: Session) -> None:
    _accounts(session)  # "viewer" is a demo account name
    sid = _sign_in(session, "viewer")
    off = replace(SETTINGS, demo_accounts=False)
    assert _check(session, sid, T0 + timedelta(minutes=1), settings=off) is None
    assert _ended(session, sid) == "demo_accounts_off"
    with pytest.raises(SignInRefused):
        _sign_in(session, "viewer", settings=off)
    assert _sign_in(session, "alice", settings=off) > 0


# --------------------------------------------------------------------------- usernames


def test_usernames_are_unique_whatever_their_case_and_spaces(session: Session) -> None:
    users = _accounts(session)
    spaced = create_user(
        session, data={"username": " carol ", "role": "viewer", "password": PASSWORD}, actor=SYSTEM
    )
    assert spaced.username == "carol"
    for taken in ("Alice", " ALICE", "carol\t", "CAROL"):
        with pytest.raises(ValidationFailed) as failed:
            create_user(
                session, data={"username": taken, "role": "viewer", "password": PASSWORD},
                actor=SYSTEM,
            )  # fmt: skip
        assert failed.value.errors == {"username": "services.error.username_taken"}, taken
    assert session.exec(select(User)).all().__len__() == len(users) + 1
    # Signing in folds the same way.
    assert _sign_in(session, " Carol ") > 0
    assert authenticate(session, username="BOB", password=PASSWORD) is not None
    set_password(session, username="CAROL", password="carol-new-pass", actor=SYSTEM)
    assert authenticate(session, username="carol", password="carol-new-pass") is not None


# --------------------------------------------------------------------------- administration


def test_deactivating_ends_every_session_at_once_and_reactivating_lets_in_again(
    session: Session,
) -> None:
    _accounts(session)
    phone, desk, other = (
        _sign_in(session, "alice"),
        _sign_in(session, "alice"),
        _sign_in(session, "bob"),
    )
    set_user_active(session, username="ALICE", active=False, actor=ADMIN)
    # Ended in the same write, not only at the next check.
    assert _ended(session, phone) == _ended(session, desk) == "inactive"
    assert _ended(session, other) is None
    entry = session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc())).first()
    assert entry is not None and (entry.username, entry.action) == ("ada", "deactivate")
    assert json.loads(entry.changes) == {"active": [True, False], "sessions_ended": 2}
    with pytest.raises(SignInRefused):
        _sign_in(session, "alice", at=T0 + timedelta(minutes=1))
    set_user_active(session, username="alice", active=True, actor=ADMIN)
    assert _sign_in(session, "alice", at=T0 + timedelta(minutes=2)) > 0


def test_an_administrator_cannot_deactivate_or_demote_their_own_account(session: Session) -> None:
    _accounts(session)
    create_user(session, data={"username": "ada", "role": "admin", "password": PASSWORD},
                actor=SYSTEM)  # fmt: skip
    audits = len(session.exec(select(AuditEntry)).all())
    with pytest.raises(ValidationFailed) as own:
        set_user_active(session, username="Ada", active=False, actor=ADMIN)
    assert own.value.errors == {"username": "services.error.own_account_active"}
    with pytest.raises(ValidationFailed) as demote:
        update_user(session, username="ada", role="leader", grid_codes=[], actor=ADMIN)
    assert demote.value.errors == {"role": "services.error.own_admin_role"}
    assert len(session.exec(select(AuditEntry)).all()) == audits


def test_role_and_grids_change_together_and_apply_at_the_next_check(session: Session) -> None:
    users = _accounts(session)
    codes = sorted(
        session.exec(
            select(Area.code).join(UserGrid, col(UserGrid.grid_id) == Area.id)
            .where(UserGrid.user_id == users["alice"].id)
        ).all()
    )  # fmt: skip
    sid = _sign_in(session, "alice")
    update_user(session, username="alice", role="grid_worker", grid_codes=codes[:1], actor=ADMIN)
    after = _check(session, sid, T0 + timedelta(minutes=1), touch=False)
    assert after is not None and after.grid_ids is not None and len(after.grid_ids) == 1
    entry = session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc())).first()
    assert entry is not None and json.loads(entry.changes) == {"grids": [codes, codes[:1]]}
    with pytest.raises(ValidationFailed) as no_grid:
        update_user(session, username="alice", role="grid_worker", grid_codes=[], actor=ADMIN)
    assert no_grid.value.errors == {"grid_codes": "services.error.grid_worker_needs_grid"}
    with pytest.raises(ValidationFailed) as unknown:
        update_user(session, username="alice", role="grid_worker", grid_codes=["NOPE"],
                    actor=ADMIN)  # fmt: skip
    assert unknown.value.errors == {"grid_codes": "services.error.grid_code_unknown"}
    update_user(session, username="alice", role="leader", grid_codes=[], actor=ADMIN)
    promoted = _check(session, sid, T0 + timedelta(minutes=2), touch=False)
    assert promoted is not None and promoted.role == UserRole.leader and promoted.grid_ids is None
    assert session.exec(select(UserGrid).where(UserGrid.user_id == users["alice"].id)).all() == []
    with pytest.raises(PermissionDenied):
        update_user(session, username="bob", role="viewer", grid_codes=[], actor=LEADER)
