"""Policy settings as listed: the value in force beside the default, and the last change."""

from __future__ import annotations

from sqlmodel import Session

from gridcore.policy import DEFAULT_POLICY, POLICY_KEYS
from gridcore.queries.policy import policy_settings
from gridcore.services.policy import reset_policy_value, set_policy_value
from tests.factories import ADMIN, table_counts


def test_every_setting_is_listed_at_its_default(session: Session) -> None:
    rows = policy_settings(session=session)
    assert [r.key for r in rows] == list(POLICY_KEYS)
    assert all(r.is_default and r.changed_by is None and r.value == r.default for r in rows)
    assert {r.key: r.default for r in rows}["close_test_days"] == (1, 2, 3, 5, 7)


def test_a_change_shows_who_made_it_until_it_is_reset(session: Session) -> None:
    set_policy_value(session=session, key="close_test_days", value="1, 3, 7", actor=ADMIN)
    before = table_counts(session)
    row = {r.key: r for r in policy_settings(session=session)}["close_test_days"]
    assert table_counts(session) == before, "a listing writes nothing"
    assert (row.value, row.default, row.changed_by) == ((1, 3, 7), (1, 2, 3, 5, 7), "ada")
    assert row.changed_at is not None and not row.is_default
    reset_policy_value(session=session, key="close_test_days", actor=ADMIN)
    row = {r.key: r for r in policy_settings(session=session)}["close_test_days"]
    assert row.is_default and row.value == DEFAULT_POLICY.close_test_days
