"""Accounts and kiosk links as listed by the command line."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
from sqlmodel import Session, select

from gridcore.models import UserRole, UserSession
from gridcore.queries.access import KioskLinkState, kiosk_links, list_users, users_table
from gridcore.services.access import create_kiosk_link, create_user, revoke_kiosk_link, sign_in
from tests.factories import ADMIN, LEADER, table_counts
from tests.factories import make_street_with_grids as _world

SECRET = "unit-test-kiosk-secret"


def test_kiosk_links_newest_first_with_their_state(session: Session) -> None:
    assert kiosk_links(session=session) == []
    old, _ = create_kiosk_link(session, hours=1, secret=SECRET, actor=ADMIN, label="Old")
    gone, _ = create_kiosk_link(session, hours=48, secret=SECRET, actor=LEADER, label="Gone")
    live, _ = create_kiosk_link(session, hours=48, secret=SECRET, actor=LEADER)
    revoke_kiosk_link(session, link_id=gone.id or 0, actor=ADMIN)
    before = table_counts(session)
    later = old.expires_at + timedelta(seconds=1)
    rows = kiosk_links(session=session, now=later)
    assert table_counts(session) == before, "a listing writes nothing"
    assert [(r.id, r.label, r.created_by, r.state) for r in rows] == [
        (live.id, "", "lee", KioskLinkState.active),
        (gone.id, "Gone", "lee", KioskLinkState.revoked),
        (old.id, "Old", "ada", KioskLinkState.expired),
    ]
    assert rows[2].expires_at == old.expires_at
    assert rows[2].created_at == old.created_at
    # Before its time is up the first link is still active; a revoked one stays revoked.
    states = {r.id: r.state for r in kiosk_links(session=session)}
    assert states[old.id] == KioskLinkState.active
    assert states[gone.id] == KioskLinkState.revoked


def test_list_users_with_their_grids(session: Session) -> None:
    world = _world(session, grids=2)
    codes = [g.code for g in world.grids]
    create_user(
        session,
        data={"username": "wang", "role": "grid_worker", "password": "long-enough",
              "grid_codes": list(reversed(codes))},
        actor=ADMIN,
    )  # fmt: skip
    create_user(
        session,
        data={"username": "boss", "role": "leader", "password": "long-enough"},
        actor=ADMIN,
    )
    listed = [(u.username, u.role, grids) for u, grids in list_users(session=session)]
    assert listed == [("boss", UserRole.leader, []), ("wang", UserRole.grid_worker, sorted(codes))]


def test_users_table_has_the_last_sign_in_of_each_account(session: Session) -> None:
    for name in ("amy", "bob"):
        create_user(session, data={"username": name, "role": "viewer", "password": "long-enough"},
                    actor=ADMIN)  # fmt: skip
    first = sign_in(session, username="amy", password="long-enough", client_address=None)
    second = sign_in(session, username="amy", password="long-enough", client_address=None)
    table = users_table(session=session)
    assert table["username"].tolist() == ["amy", "bob"]
    assert table["active"].tolist() == [True, True]
    opened = {
        s.id: s.created_at
        for s in session.exec(select(UserSession)).all()
        if s.id in (first.session_id, second.session_id)
    }
    assert table["last_sign_in"].iloc[0] == max(opened.values())
    assert pd.isna(table["last_sign_in"].iloc[1])
