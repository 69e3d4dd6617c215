"""Policy settings: administrators change one value at a time, checked by type and range."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session

from gridcore.access import PermissionDenied
from gridcore.policy import DEFAULT_POLICY, POLICY_KEYS, load_policy
from gridcore.services.base import ValidationFailed
from gridcore.services.policy import (
    POLICY_RANGES,
    parse_policy_value,
    reset_policy_value,
    set_policy_value,
    set_policy_values,
)
from tests.factories import ADMIN, LEADER, VIEWER, grid_worker, grown, last_audit, table_counts
from tests.factories import make_street_with_grids as _world


def test_every_setting_has_a_range() -> None:
    assert set(POLICY_RANGES) == set(POLICY_KEYS)
    for key in POLICY_KEYS:
        default = getattr(DEFAULT_POLICY, key)
        assert parse_policy_value(key, default) == default, key


@pytest.mark.both_backends  # row locks (FOR UPDATE) and the transaction
def test_an_administrator_changes_a_value(session: Session) -> None:
    before = table_counts(session)
    policy = set_policy_value(session=session, key="sealed_stepdown_days", value=10, actor=ADMIN)
    assert policy.sealed_stepdown_days == 10
    assert load_policy(session).sealed_stepdown_days == 10
    assert grown(before, session) == {"policysetting": 1, "auditentry": 1}
    entry = last_audit(session)
    assert (entry.entity, entry.entity_id) == ("policy", "sealed_stepdown_days")
    assert json.loads(entry.changes) == {"sealed_stepdown_days": [7, 10]}
    # A second change updates the same row; the same value again writes nothing.
    set_policy_value(session=session, key="sealed_stepdown_days", value="14", actor=ADMIN)
    set_policy_value(session=session, key="sealed_stepdown_days", value=14, actor=ADMIN)
    assert grown(before, session) == {"policysetting": 1, "auditentry": 2}
    assert load_policy(session).sealed_stepdown_days == 14


def test_only_administrators(session: Session) -> None:
    world = _world(session, grids=1)
    before = table_counts(session)
    for actor in (LEADER, VIEWER, grid_worker(world.grids[0])):
        with pytest.raises(PermissionDenied):
            set_policy_value(session=session, key="round_max_hours", value=12, actor=actor)
        with pytest.raises(PermissionDenied):
            reset_policy_value(session=session, key="round_max_hours", actor=actor)
    assert grown(before, session) == {}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("no_such_setting", 1, "services.error.policy_unknown_key"),
        ("round_max_hours", 0, "services.error.policy_out_of_range"),
        ("round_max_hours", 1000, "services.error.policy_out_of_range"),
        ("round_max_hours", "a day", "services.error.not_a_whole_number"),
        ("round_max_hours", 2.5, "services.error.not_a_whole_number"),
        ("round_max_hours", True, "services.error.not_a_whole_number"),
        ("close_test_days", "3, 1, 2", "services.error.policy_days_list"),
        ("close_test_days", [1, 1, 2], "services.error.policy_days_list"),
        ("close_test_days", [], "services.error.policy_days_list"),
        ("close_test_days", "1, two", "services.error.policy_days_list"),
        ("close_test_days", [0, 1], "services.error.policy_out_of_range"),
        # Test days must fall inside their period (7 days of central isolation).
        ("close_test_days", [1, 4, 8], "services.error.policy_day_beyond_period"),
        ("close_central_days", 5, "services.error.policy_day_beyond_period"),
        ("residents_per_desk_min", 900, "services.error.policy_desk_range"),
        ("residents_per_desk_max", 500, "services.error.policy_desk_range"),
    ],
)
def test_bad_values_write_nothing(session: Session, key: str, value: object, message: str) -> None:
    before = table_counts(session)
    with pytest.raises(ValidationFailed) as failed:
        set_policy_value(session=session, key=key, value=value, actor=ADMIN)
    assert failed.value.errors == {key: message}
    assert grown(before, session) == {}
    assert load_policy(session) == DEFAULT_POLICY


def test_lists_of_days(session: Session) -> None:
    policy = set_policy_value(session=session, key="close_test_days", value="1，3, 7", actor=ADMIN)
    assert policy.close_test_days == (1, 3, 7)
    assert load_policy(session).close_test_days == (1, 3, 7)


@pytest.mark.both_backends  # row locks (FOR UPDATE) and the transaction
def test_reset_returns_to_the_default(session: Session) -> None:
    set_policy_value(session=session, key="target_hours_food", value=12, actor=ADMIN)
    before = table_counts(session)
    policy = reset_policy_value(session=session, key="target_hours_food", actor=ADMIN)
    assert policy.target_hours_food == DEFAULT_POLICY.target_hours_food
    assert load_policy(session) == DEFAULT_POLICY
    assert grown(before, session) == {"policysetting": -1, "auditentry": 1}
    reset_policy_value(session=session, key="target_hours_food", actor=ADMIN)
    assert grown(before, session) == {"policysetting": -1, "auditentry": 1}


def test_several_values_change_together_or_not_at_all(session: Session) -> None:
    before = table_counts(session)
    # 600–800 to 900–1000: the lower figure alone would pass the upper one; together they fit.
    values = {"residents_per_desk_min": "900", "residents_per_desk_max": 1000,
              "round_max_hours": 24}  # fmt: skip
    policy = set_policy_values(session=session, values=values, actor=ADMIN)
    assert (policy.residents_per_desk_min, policy.residents_per_desk_max) == (900, 1000)
    # Two changed, one already in force: two rows, two audit entries.
    assert grown(before, session) == {"policysetting": 2, "auditentry": 2}
    before = table_counts(session)
    with pytest.raises(ValidationFailed) as failed:
        set_policy_values(
            session=session, values={"sealed_stepdown_days": 10, "round_max_hours": 500},
            actor=ADMIN,
        )  # fmt: skip
    assert failed.value.errors == {"round_max_hours": "services.error.policy_out_of_range"}
    assert failed.value.values == {"round_max_hours": 500}
    assert grown(before, session) == {}
    assert load_policy(session).sealed_stepdown_days == DEFAULT_POLICY.sealed_stepdown_days
