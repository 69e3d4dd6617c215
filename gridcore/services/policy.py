"""Policy settings: an administrator changes one protocol value, checked against its range.

Each setting has a type (a whole number or a list of test days, as in gridcore.policy.Policy)
and a range; a few are checked against the others (test days must fall inside the period
they belong to, the lower desk figure must not exceed the upper one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlmodel import Session

from gridcore.access import Actor
from gridcore.models import PolicySetting, UserRole, utcnow
from gridcore.policy import DEFAULT_POLICY, POLICY_KEYS, Policy, encode, load_policy
from gridcore.services.base import ValidationFailed, write
from gridcore.services.checks import changed

ADMIN_ONLY: tuple[UserRole, ...] = (UserRole.admin,)

# Allowed range (inclusive) of each whole-number setting and of each day in a list.
POLICY_RANGES: dict[str, tuple[int, int]] = {
    "close_central_days": (1, 60),
    "close_home_monitoring_days": (0, 60),
    "close_test_days": (1, 60),
    "close_home_test_days": (1, 60),
    "secondary_home_days": (1, 60),
    "secondary_test_days": (1, 60),
    "sealed_stepdown_days": (1, 60),
    "controlled_stepdown_days": (1, 60),
    "round_max_hours": (1, 168),
    "residents_per_desk_min": (50, 5000),
    "residents_per_desk_max": (50, 5000),
    "residents_per_sampler": (10, 5000),
    "households_per_fulltime_worker": (10, 5000),
    "target_hours_urgent_medical": (1, 720),
    "target_hours_medicine": (1, 720),
    "target_hours_food": (1, 720),
    "target_hours_other": (1, 720),
    "vulnerable_visit_days": (1, 60),
    "alert_community_case_days": (1, 14),
    "alert_coverage_lag_points": (0, 100),
    "alert_cover_days": (1, 60),
    "alert_missed_contact_tests": (1, 10),
    "alert_workload_score": (1, 500),
}
# Which list of test days lies within which period.
_TEST_DAYS_WITHIN: dict[str, str] = {
    "close_test_days": "close_central_days",
    "close_home_test_days": "close_home_monitoring_days",
    "secondary_test_days": "secondary_home_days",
}


def _whole_number(value: Any) -> int | None:
    """`value` as an int when it is one (or a string or float that is one); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _parse_days(value: Any) -> tuple[int, ...] | None:
    """A list of days from a list/tuple or a text like '1, 2, 3'; None if not one."""
    if isinstance(value, str):
        value = [part for part in value.replace("，", ",").split(",") if part.strip()]
    if not isinstance(value, (list, tuple)):
        return None
    days = [_whole_number(v) for v in value]
    if any(d is None for d in days):
        return None
    return tuple(d for d in days if d is not None)


def parse_policy_value(key: str, value: Any) -> Any:
    """`value` as the type of setting `key`, within its range; else ValidationFailed."""
    if key not in POLICY_KEYS:
        raise ValidationFailed({key: "services.error.policy_unknown_key"})
    rejected = {key: value}
    low, high = POLICY_RANGES[key]
    if isinstance(getattr(DEFAULT_POLICY, key), tuple):
        days = _parse_days(value)
        if days is None:
            raise ValidationFailed({key: "services.error.policy_days_list"}, rejected)
        if not days or list(days) != sorted(set(days)):
            raise ValidationFailed({key: "services.error.policy_days_list"}, rejected)
        if not all(low <= d <= high for d in days):
            raise ValidationFailed({key: "services.error.policy_out_of_range"}, rejected)
        return days
    number = _whole_number(value)
    if number is None:
        raise ValidationFailed({key: "services.error.not_a_whole_number"}, rejected)
    if not low <= number <= high:
        raise ValidationFailed({key: "services.error.policy_out_of_range"}, rejected)
    return number


def _consistency_error(policy: Policy, key: str) -> str | None:
    """The rule across settings that changing `key` breaks, if any (its catalogue key)."""
    for days_key, period_key in _TEST_DAYS_WITHIN.items():
        if key in (days_key, period_key) and max(getattr(policy, days_key)) > getattr(
            policy, period_key
        ):
            return "services.error.policy_day_beyond_period"
    if key.startswith("residents_per_desk_") and (
        policy.residents_per_desk_min > policy.residents_per_desk_max
    ):
        return "services.error.policy_desk_range"
    return None


def set_policy_value(*, session: Session, key: str, value: Any, actor: Actor) -> Policy:
    """Change one policy setting (administrators only); return the policy now in force.

    A value equal to the one in force writes nothing.
    """
    return set_policy_values(session=session, values={key: value}, actor=actor)


def set_policy_values(*, session: Session, values: Mapping[str, Any], actor: Actor) -> Policy:
    """Change several policy settings at once (administrators only); return the policy in force.

    Every value is checked against its range, then the rules across settings against the
    policy as it will be (so the lower and upper desk figures can move together); any
    problem writes nothing. Values equal to the ones in force are not written; each
    changed setting is one audit entry.
    """
    with write(session, actor=actor, entity="policy", action="update", roles=ADMIN_ONLY) as op:
        errors: dict[str, str] = {}
        parsed: dict[str, Any] = {}
        for key, value in values.items():
            try:
                parsed[key] = parse_policy_value(key, value)
            except ValidationFailed as exc:
                errors.update(exc.errors)
        if errors:
            raise ValidationFailed(errors, {k: values[k] for k in errors if k in values})
        rows = {key: session.get(PolicySetting, key, with_for_update=True) for key in parsed}
        current = load_policy(session)
        changes = {k: v for k, v in parsed.items() if v != getattr(current, k)}
        if not changes:
            return current
        updated = replace(current, **changes)
        problems = {k: p for k in changes if (p := _consistency_error(updated, k)) is not None}
        if problems:
            raise ValidationFailed(problems, {k: values[k] for k in problems})
        for key, new in changes.items():
            row = rows[key] or PolicySetting(key=key, value=encode(new))
            row.value = encode(new)
            row.updated_at = utcnow()
            row.updated_by = actor.username
            session.add(row)
            op.record(key, {key: changed(getattr(current, key), new)})
    return updated


def reset_policy_value(*, session: Session, key: str, actor: Actor) -> Policy:
    """Return one setting to its default (administrators only); return the policy in force."""
    with write(session, actor=actor, entity="policy", action="delete", roles=ADMIN_ONLY) as op:
        if key not in POLICY_KEYS:
            raise ValidationFailed({key: "services.error.policy_unknown_key"})
        row = session.get(PolicySetting, key, with_for_update=True)
        current = load_policy(session)
        if row is None:
            return current
        updated = replace(current, **{key: getattr(DEFAULT_POLICY, key)})
        problem = _consistency_error(updated, key)
        if problem is not None:
            raise ValidationFailed({key: problem})
        session.delete(row)
        op.record(key, {key: changed(getattr(current, key), getattr(updated, key))})
    return updated
