"""Kiosk links: signed tokens that the link's row can end (expiry, revocation) at any time."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher, Type
from argon2.profiles import RFC_9106_LOW_MEMORY
from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer
from sqlmodel import Session

from gridcore.access import SYSTEM, PermissionDenied
from gridcore.models import KIOSK_PANELS, KioskLink
from gridcore.queries.access import link_panels
from gridcore.services.access import (
    KIOSK_MAX_HOURS,
    KIOSK_SALT,
    create_kiosk_link,
    hash_password,
    revoke_kiosk_link,
    verified_kiosk_link,
    verify_kiosk_token,
    verify_password,
)
from gridcore.services.base import ValidationFailed
from tests.factories import ADMIN, LEADER, VIEWER, grid_worker, grown, last_audit, table_counts
from tests.factories import make_street_with_grids as _world

SECRET = "unit-test-kiosk-secret"


def _link(session: Session, hours: float = 8, label: str = "Command room") -> tuple[int, str]:
    link, token = create_kiosk_link(session, hours=hours, secret=SECRET, actor=LEADER, label=label)
    assert link.id is not None
    return link.id, token


def _ok(session: Session, token: str, now: datetime | None = None) -> bool:
    return verify_kiosk_token(session, token=token, secret=SECRET, now=now)


# --------------------------------------------------------------------------- the token


def test_a_genuine_token_verifies(session: Session) -> None:
    _, token = _link(session)
    assert _ok(session, token)
    # URL-safe: it goes into ?token= as it is.
    assert all(c.isalnum() or c in "-_." for c in token)


def test_a_tampered_token_is_refused(session: Session) -> None:
    first_id, first = _link(session)
    second_id, second = _link(session)
    payload, signature = first.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert not _ok(session, f"{payload}.{flipped}")
    assert not _ok(session, f"{payload}.")
    # The other link's id with this link's signature.
    assert not _ok(session, f"{second.split('.')[0]}.{signature}")
    assert not _ok(session, first + "x")
    assert _ok(session, first) and _ok(session, second) and first_id != second_id


def test_another_salt_or_key_is_refused(session: Session) -> None:
    link_id, _ = _link(session)
    assert not _ok(session, URLSafeSerializer(SECRET, salt="gridcore.other").dumps(link_id))
    assert not _ok(session, URLSafeSerializer(SECRET).dumps(link_id))
    assert not _ok(session, URLSafeSerializer("another-key", salt=KIOSK_SALT).dumps(link_id))
    assert not _ok(session, URLSafeTimedSerializer(SECRET, salt="gridcore.other").dumps(link_id))
    # Made with the right key and purpose, the same id verifies: the id is all a token carries.
    assert _ok(session, URLSafeSerializer(SECRET, salt=KIOSK_SALT).dumps(link_id))


def test_an_expired_link_is_refused(session: Session) -> None:
    link_id, token = _link(session, hours=1)
    link = session.get(KioskLink, link_id)
    assert link is not None
    assert _ok(session, token, now=link.expires_at - timedelta(seconds=1))
    assert not _ok(session, token, now=link.expires_at)
    assert not _ok(session, token, now=link.expires_at + timedelta(days=1))


def test_the_database_decides_expiry(session: Session) -> None:
    """The same token stops working when the row's expiry is moved into the past."""
    link_id, token = _link(session, hours=8)
    link = session.get(KioskLink, link_id)
    assert link is not None
    link.expires_at = link.created_at - timedelta(minutes=1)
    session.add(link)
    session.commit()
    assert not _ok(session, token)


def test_a_revoked_link_is_refused(session: Session) -> None:
    link_id, token = _link(session)
    before = table_counts(session)
    revoked = revoke_kiosk_link(session, link_id=link_id, actor=ADMIN)
    assert revoked.revoked
    assert not _ok(session, token)
    assert grown(before, session) == {"auditentry": 1}
    entry = last_audit(session)
    assert (entry.username, entry.action, entry.entity, entry.entity_id) == (
        "ada",
        "revoke",
        "kiosk_link",
        str(link_id),
    )
    assert json.loads(entry.changes) == {"revoked": [False, True]}
    # Revoking again changes nothing and writes nothing.
    revoke_kiosk_link(session, link_id=link_id, actor=LEADER)
    assert grown(before, session) == {"auditentry": 1}


def test_a_deleted_or_unknown_link_is_refused(session: Session) -> None:
    link_id, token = _link(session)
    session.delete(session.get(KioskLink, link_id))
    session.commit()
    assert not _ok(session, token)
    assert not _ok(session, URLSafeSerializer(SECRET, salt=KIOSK_SALT).dumps(987654))


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "a.b.c",
        "....",
        "1.99999999999.forged",  # the old hand-made format
        "MQ",
        "x" * 10_000,
        "MQ.%%%",
    ],
)
def test_garbage_is_refused(session: Session, token: str) -> None:
    _link(session)
    assert not _ok(session, token)


@pytest.mark.parametrize("payload", ["1", True, 1.0, [1], {"id": 1}, None])
def test_a_signed_payload_that_is_not_a_link_id_is_refused(
    session: Session, payload: object
) -> None:
    _link(session)
    assert not _ok(session, URLSafeSerializer(SECRET, salt=KIOSK_SALT).dumps(payload))


# --------------------------------------------------------------------------- the writes


def test_creating_a_link_is_audited(session: Session) -> None:
    before = table_counts(session)
    link, _ = create_kiosk_link(
        session, hours=24, secret=SECRET, actor=ADMIN, label="  Command room  "
    )
    assert grown(before, session) == {"kiosklink": 1, "auditentry": 1}
    assert (link.label, link.created_by, link.revoked) == ("Command room", "ada", False)
    assert abs(link.expires_at - link.created_at - timedelta(hours=24)) < timedelta(seconds=5)
    entry = last_audit(session)
    assert (entry.action, entry.entity, entry.entity_id) == ("create", "kiosk_link", str(link.id))
    assert json.loads(entry.changes)["label"] == "Command room"


def test_only_administrators_and_leaders_create_or_revoke(session: Session) -> None:
    world = _world(session, grids=1)
    link_id, _ = _link(session)
    before = table_counts(session)
    for actor in (VIEWER, grid_worker(world.grids[0])):
        with pytest.raises(PermissionDenied):
            create_kiosk_link(session, hours=1, secret=SECRET, actor=actor)
        with pytest.raises(PermissionDenied):
            revoke_kiosk_link(session, link_id=link_id, actor=actor)
    assert grown(before, session) == {}
    create_kiosk_link(session, hours=1, secret=SECRET, actor=SYSTEM)


@pytest.mark.parametrize(
    ("hours", "label", "field"),
    [
        (0, "", "hours"),
        (-1, "", "hours"),
        (KIOSK_MAX_HOURS + 1, "", "hours"),
        (float("nan"), "", "hours"),
        (float("inf"), "", "hours"),
        (1, "x" * 81, "label"),
    ],
)
def test_bad_input_writes_nothing(session: Session, hours: float, label: str, field: str) -> None:
    before = table_counts(session)
    with pytest.raises(ValidationFailed) as failed:
        create_kiosk_link(session, hours=hours, secret=SECRET, actor=ADMIN, label=label)
    assert list(failed.value.errors) == [field]
    assert grown(before, session) == {}


def test_a_link_keeps_its_own_interval_and_panels_in_the_standard_order(session: Session) -> None:
    link, token = create_kiosk_link(
        session, hours=2, secret=SECRET, actor=ADMIN, interval_seconds=3,
        panels=["workforce", "headline", " cases"],
    )  # fmt: skip
    assert (link.interval_seconds, link.panels) == (3, "headline,cases,workforce")
    assert json.loads(last_audit(session).changes)["panels"] == "headline,cases,workforce"
    found = verified_kiosk_link(session, token=token, secret=SECRET)
    assert found is not None and found.id == link.id
    assert link_panels(found.panels) == ("headline", "cases", "workforce")
    # Every panel chosen, or none given: every panel, including any added later.
    every, _ = create_kiosk_link(
        session, hours=2, secret=SECRET, actor=ADMIN, panels=list(reversed(KIOSK_PANELS))
    )
    plain, _ = create_kiosk_link(session, hours=2, secret=SECRET, actor=ADMIN)
    assert (every.panels, plain.panels, plain.interval_seconds) == ("", "", None)
    assert link_panels("") == KIOSK_PANELS


@pytest.mark.parametrize(
    ("interval", "panels", "message"),
    [
        (2, None, "services.error.kiosk_interval"),
        (601, None, "services.error.kiosk_interval"),
        (20, [], "services.error.kiosk_no_panels"),
        (20, ["headline", "weather"], "services.error.kiosk_unknown_panel"),
    ],
)
def test_a_bad_interval_or_panel_list_writes_nothing(
    session: Session, interval: int, panels: list[str] | None, message: str
) -> None:
    before = table_counts(session)
    with pytest.raises(ValidationFailed) as failed:
        create_kiosk_link(
            session, hours=1, secret=SECRET, actor=ADMIN, interval_seconds=interval,
            panels=panels,
        )  # fmt: skip
    assert list(failed.value.errors.values()) == [message]
    assert grown(before, session) == {}


def test_revoking_an_unknown_link_is_a_clear_error(session: Session) -> None:
    before = table_counts(session)
    with pytest.raises(ValidationFailed) as failed:
        revoke_kiosk_link(session, link_id=424242, actor=ADMIN)
    assert failed.value.errors == {"link_id": "services.error.kiosk_link_unknown"}
    assert failed.value.values == {"link_id": 424242}
    assert grown(before, session) == {}


# --------------------------------------------------------------------------- passwords


def test_the_product_hashes_at_the_recommended_cost(
    cheap_password_hashing: PasswordHasher,
) -> None:
    """Tests hash cheaply (tests/conftest.py); the product's own hasher must not."""
    product = cheap_password_hashing
    assert product.type is Type.ID
    assert product.time_cost >= RFC_9106_LOW_MEMORY.time_cost
    assert product.memory_cost >= RFC_9106_LOW_MEMORY.memory_cost
    assert product.parallelism >= RFC_9106_LOW_MEMORY.parallelism


def test_a_hash_verifies_its_password_and_no_other() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "correct horse battery!")
    assert not verify_password("not a hash", "correct horse battery")
