"""The actor's rights and the one masking function for residents' personal data."""

from __future__ import annotations

import pandas as pd

from gridcore.access import (
    NAME,
    PHONE,
    TEXT,
    Actor,
    mask_name,
    mask_personal,
    mask_phone,
    mask_text,
    personal,
)
from gridcore.models import UserRole

LEADER = Actor(username="leader", role=UserRole.leader)
VIEWER = Actor(username="viewer", role=UserRole.viewer)
WORKER_G1 = Actor(username="w1", role=UserRole.grid_worker, grid_ids=frozenset({1}))


def test_masking_helpers() -> None:
    assert mask_name("张三丰") == "张**"
    assert mask_name("李四") == "李*"
    assert mask_name(None) is None
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("5551234") == "*****34"
    assert mask_text("1 Heping Lane") == "***"
    assert mask_text("") == ""


def test_one_value_is_shown_to_who_may_see_it() -> None:
    assert personal("张三丰", kind=NAME, actor=LEADER, grid_id=2) == "张三丰"
    assert personal("张三丰", kind=NAME, actor=WORKER_G1, grid_id=1) == "张三丰"
    assert personal("张三丰", kind=NAME, actor=WORKER_G1, grid_id=2) == "张**"
    assert personal("13812345678", kind=PHONE, actor=VIEWER, grid_id=1) == "138****5678"
    assert personal("3-502", kind=TEXT, actor=VIEWER, grid_id=1) == "***"


def test_a_frame_is_masked_by_column_kind() -> None:
    def frame() -> pd.DataFrame:
        return pd.DataFrame({"name": ["张三丰", None], "phone": ["13812345678", "5551234"]})

    columns = {"name": NAME, "phone": PHONE}
    shown = mask_personal(frame(), actor=WORKER_G1, grid_id=1, columns=columns)
    assert shown.to_dict("list") == frame().to_dict("list")
    hidden = mask_personal(frame(), actor=VIEWER, grid_id=1, columns=columns)
    assert hidden["name"].tolist()[0] == "张**"
    assert pd.isna(hidden["name"].tolist()[1])
    assert hidden["phone"].tolist() == ["138****5678", "*****34"]


def test_roles_write_and_see_by_scope() -> None:
    assert LEADER.may_write_grid(7) and LEADER.sees_personal_data_of(7)
    assert WORKER_G1.may_write_grid(1) and not WORKER_G1.may_write_grid(2)
    assert not WORKER_G1.may_write_grid(None)
    assert not VIEWER.can_write and not VIEWER.may_write_grid(1)
    assert not VIEWER.sees_personal_data_of(1)
