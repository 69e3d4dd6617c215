"""Policy settings: the protocol's timers and targets, stored as data with 2022 defaults."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any

from sqlmodel import Session, select

from gridcore.models import PolicySetting


@dataclass(frozen=True)
class Policy:
    """Defaults: China's 9th-edition prevention plan (June 2022) and regional testing guides."""

    close_central_days: int = 7
    close_home_monitoring_days: int = 3
    close_test_days: tuple[int, ...] = (1, 2, 3, 5, 7)
    close_home_test_days: tuple[int, ...] = (3,)
    secondary_home_days: int = 7
    secondary_test_days: tuple[int, ...] = (1, 4, 7)
    sealed_stepdown_days: int = 7
    controlled_stepdown_days: int = 7
    round_max_hours: int = 24
    residents_per_desk_min: int = 600
    residents_per_desk_max: int = 800
    residents_per_sampler: int = 360
    households_per_fulltime_worker: int = 300
    target_hours_urgent_medical: int = 2
    target_hours_medicine: int = 24
    target_hours_food: int = 24
    target_hours_other: int = 72
    # Elderly residents living alone, bedridden or disabled get a home visit this often.
    vulnerable_visit_days: int = 3
    # Alerts (gridcore.analytics.alerts): a case found outside quarantine alerts for this many
    # days from its report; a grid this many percentage points under its round's schedule is
    # behind; stock under this many days of cover is short; a contact who missed this many
    # protocol tests is followed up; a worker with this workload score is overloaded.
    alert_community_case_days: int = 1
    alert_coverage_lag_points: int = 10
    alert_cover_days: int = 2
    alert_missed_contact_tests: int = 1
    alert_workload_score: int = 10


DEFAULT_POLICY = Policy()

# Supplies: a depot with more days of cover than this may give an item to a depot short of
# it, keeping this many days of its own use (and its minimum). Not yet an editable setting.
TRANSFER_GIVER_COVER_DAYS = 7
POLICY_KEYS: tuple[str, ...] = tuple(f.name for f in fields(Policy))


def _decode(name: str, raw: str) -> Any:
    value = json.loads(raw)
    default = getattr(DEFAULT_POLICY, name)
    if isinstance(default, tuple):
        return tuple(int(v) for v in value)
    return type(default)(value)


def load_policy(session: Session) -> Policy:
    """The policy in force: stored values over the defaults (unknown keys ignored)."""
    stored = {row.key: row.value for row in session.exec(select(PolicySetting)).all()}
    values = asdict(DEFAULT_POLICY)
    for name in POLICY_KEYS:
        if name in stored:
            values[name] = _decode(name, stored[name])
    return Policy(**values)


def encode(value: Any) -> str:
    """The stored form of a policy value."""
    return json.dumps(list(value) if isinstance(value, tuple) else value)
