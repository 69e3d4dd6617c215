"""The actor's rights and the one masking function for residents' personal data."""

from __future__ import annotations

import pandas as pd
import pytest

from gridcore.access import (
    FLAT,
    KIOSK,
    NAME,
    PHONE,
    TEXT,
    YEAR,
    Actor,
    mask_name,
    mask_personal,
    mask_phone,
    mask_text,
    offers_page,
    personal,
)
from gridcore.models import UserRole

LEADER = Actor(username="leader", role=UserRole.leader)
VIEWER = Actor(username="viewer", role=UserRole.viewer)
WORKER_G1 = Actor(username="w1", role=UserRole.grid_worker, grid_ids=frozenset({1}))
WORKER_G2 = Actor(username="w2", role=UserRole.grid_worker, grid_ids=frozenset({2}))


def test_masking_helpers_hide_everything() -> None:
    """A first character or seven digits of eleven still identify someone: nothing is kept."""
    assert mask_name("张三丰") == "***"
    assert mask_name(None) is None
    assert mask_phone("13812345678") == "***"
    assert mask_text("1 Heping Lane") == "***"
    assert mask_text("") == ""


ADMIN = Actor(username="admin", role=UserRole.admin)
ROLES_SEEING = {"admin": ADMIN, "leader": LEADER, "worker of grid 1": WORKER_G1}
ROLES_NOT_SEEING = {"worker of grid 2": WORKER_G2, "viewer": VIEWER, "kiosk": KIOSK}
VALUES = {NAME: "沈秀英", PHONE: "13812344963", TEXT: "8 Heping Lane", FLAT: "3-502", YEAR: 1952}
HIDDEN = {NAME: "***", PHONE: "***", TEXT: "***", FLAT: "***", YEAR: None}


@pytest.mark.parametrize("who", list(ROLES_SEEING) + list(ROLES_NOT_SEEING))
@pytest.mark.parametrize("kind", list(VALUES))
def test_one_value_is_shown_whole_or_not_at_all(who: str, kind: str) -> None:
    """The README's table "Who sees what", for one resident of grid 1."""
    actor = {**ROLES_SEEING, **ROLES_NOT_SEEING}[who]
    expected = VALUES[kind] if who in ROLES_SEEING else HIDDEN[kind]
    assert personal(VALUES[kind], kind=kind, actor=actor, grid_id=1) == expected


@pytest.mark.parametrize("who", list(ROLES_SEEING) + list(ROLES_NOT_SEEING))
def test_a_frame_is_shown_whole_or_with_every_personal_column_hidden(who: str) -> None:
    def frame() -> pd.DataFrame:
        return pd.DataFrame(
            {
                "name": ["沈秀英", None],
                "phone": ["13812344963", "5551234"],
                "unit": ["3-502", "1-101"],
                "birth_year": pd.array([1952, None], dtype="Int64"),
                "sex": ["female", "male"],
            }
        )

    columns = {"name": NAME, "phone": PHONE, "unit": FLAT, "birth_year": YEAR}
    actor = {**ROLES_SEEING, **ROLES_NOT_SEEING}[who]
    shown = mask_personal(frame(), actor=actor, grid_id=1, columns=columns)
    if who in ROLES_SEEING:
        assert shown.equals(frame())
        return
    assert shown["name"].tolist()[0] == "***" and pd.isna(shown["name"].tolist()[1])
    assert shown["phone"].tolist() == ["***", "***"]
    assert shown["unit"].tolist() == ["***", "***"]
    assert shown["birth_year"].isna().all()
    assert shown["sex"].tolist() == ["female", "male"]  # not personal on its own


def test_roles_write_and_see_by_scope() -> None:
    assert LEADER.may_write_grid(7) and LEADER.sees_personal_data_of(7)
    assert WORKER_G1.may_write_grid(1) and not WORKER_G1.may_write_grid(2)
    assert not WORKER_G1.may_write_grid(None)
    assert not VIEWER.can_write and not VIEWER.may_write_grid(1)
    assert not VIEWER.sees_personal_data_of(1)


def test_the_administration_page_is_offered_to_administrators_only() -> None:
    offered = {role.value: offers_page(role, "admin") for role in UserRole}
    assert offered == {"admin": True, "leader": False, "grid_worker": False, "viewer": False}
    assert not offers_page(None, "admin")  # signed out
    # Every other page is offered to every role.
    assert all(offers_page(role, "overview") for role in UserRole)
