"""Policy settings as they stand: each value in force beside its default, and who changed it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from gridcore.models import PolicySetting
from gridcore.policy import DEFAULT_POLICY, POLICY_KEYS, Policy, load_policy


@dataclass(frozen=True)
class PolicySettingRow:
    """One setting: the value in force, the default, and the last change (None: the default)."""

    key: str
    value: Any
    default: Any
    changed_by: str | None
    changed_at: datetime | None

    @property
    def is_default(self) -> bool:
        return self.changed_at is None


def current_policy(*, session: Session) -> Policy:
    """The policy in force (defaults where nothing is set)."""
    return load_policy(session)


def policy_settings(*, session: Session) -> list[PolicySettingRow]:
    """Every policy setting, in the order of gridcore.policy.Policy."""
    policy = load_policy(session)
    stored = {row.key: row for row in session.exec(select(PolicySetting)).all()}
    rows = []
    for key in POLICY_KEYS:
        change = stored.get(key)
        rows.append(
            PolicySettingRow(
                key=key,
                value=getattr(policy, key),
                default=getattr(DEFAULT_POLICY, key),
                changed_by=change.updated_by if change is not None else None,
                changed_at=change.updated_at if change is not None else None,
            )
        )
    return rows
