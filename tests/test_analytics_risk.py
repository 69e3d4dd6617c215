"""The per-grid risk level and its reasons, rule by rule, and the reason texts."""

from __future__ import annotations

from typing import Any

import pytest

from gridcore.analytics.risk import Reason, assess_grid_risk, level_rank
from gridcore.i18n import catalog_reasons, t
from gridcore.policy import Policy

POLICY = Policy(households_per_fulltime_worker=300)

CALM: dict[str, Any] = {
    "zone_level": "",
    "community_cases_7d": 0,
    "new_cases_7d": 0,
    "incidence_7d_per_10k": 0.0,
    "active_cases": 0,
    "coverage": 0.97,
    "round_name": "Round 5",
    "round_ended": False,
    "overdue_requests": 0,
    "households": 600,
    "full_time_workers": 2,
}


def assess(**changes: Any) -> tuple[str, list[Reason]]:
    risk = assess_grid_risk(**{**CALM, **changes}, policy=POLICY)
    return risk.level, risk.reasons


def test_a_calm_grid_is_normal_with_no_reasons() -> None:
    assert assess() == ("normal", [])
    assert assess(coverage=None, round_name=None) == ("normal", [])


@pytest.mark.parametrize(
    ("zone", "level"), [("sealed", "high"), ("controlled", "medium"), ("precaution", "low")]
)
def test_zone_orders(zone: str, level: str) -> None:
    assert assess(zone_level=zone) == (level, [Reason(f"reason.zone_{zone}")])


def test_community_cases_in_seven_days() -> None:
    one = Reason("reason.community_cases_7d.one", {"n": 1})
    assert assess(community_cases_7d=1) == ("medium", [one])
    assert assess(community_cases_7d=2)[0] == "medium"
    assert assess(community_cases_7d=3) == (
        "high",
        [Reason("reason.community_cases_7d", {"n": 3})],
    )


def test_incidence_is_judged_only_from_three_cases() -> None:
    # 2 cases on 400 residents = 50 per 10,000, but two cases are not a rate.
    assert assess(new_cases_7d=2, incidence_7d_per_10k=50.0) == ("normal", [])
    high = Reason("reason.incidence_7d", {"incidence": 50.0, "n": 3})
    assert assess(new_cases_7d=3, incidence_7d_per_10k=50.0) == ("high", [high])
    medium = Reason("reason.incidence_7d", {"incidence": 10.0, "n": 3})
    assert assess(new_cases_7d=3, incidence_7d_per_10k=10.0) == ("medium", [medium])
    assert assess(new_cases_7d=3, incidence_7d_per_10k=9.9) == ("normal", [])
    assert assess(new_cases_7d=3, incidence_7d_per_10k=None) == ("normal", [])


def test_active_cases_are_low() -> None:
    assert assess(active_cases=1) == ("low", [Reason("reason.active_cases.one", {"n": 1})])
    assert assess(active_cases=4) == ("low", [Reason("reason.active_cases", {"n": 4})])


def test_testing_coverage_of_the_latest_round() -> None:
    # A round in progress is progress, not risk: the Testing page tracks its schedule.
    assert assess(coverage=0.4) == ("normal", [])
    incomplete = Reason("reason.testing_coverage", {"coverage": 0.89, "round": "Round 5"})
    assert assess(coverage=0.89, round_ended=True) == ("low", [incomplete])
    assert assess(coverage=0.9, round_ended=True) == ("normal", [])
    missed = Reason("reason.testing_missed", {"coverage": 0.4, "round": "Round 5"})
    assert assess(coverage=0.4, round_ended=True) == ("medium", [missed])
    # A round that ended at 60% is incomplete, but not missed.
    assert assess(coverage=0.6, round_ended=True)[0] == "low"


def test_overdue_requests() -> None:
    assert assess(overdue_requests=1) == (
        "low",
        [Reason("reason.overdue_requests.one", {"n": 1})],
    )
    assert assess(overdue_requests=2)[0] == "low"
    assert assess(overdue_requests=3) == ("medium", [Reason("reason.overdue_requests", {"n": 3})])


def test_staffing_against_the_standard() -> None:
    assert assess(full_time_workers=0) == ("low", [Reason("reason.no_fulltime_worker")])
    assert assess(households=700, full_time_workers=2) == (
        "low",
        [Reason("reason.households_per_worker", {"ratio": 350.0, "standard": 300})],
    )
    assert assess(households=600, full_time_workers=2) == ("normal", [])
    assert assess(households=0, full_time_workers=0) == ("normal", [])


def test_the_level_is_the_most_severe_reason_and_reasons_come_most_severe_first() -> None:
    level, reasons = assess(
        zone_level="controlled",
        community_cases_7d=4,
        new_cases_7d=5,
        incidence_7d_per_10k=40.0,
        active_cases=5,
        coverage=0.5,
        round_ended=True,
        overdue_requests=1,
        full_time_workers=0,
    )
    assert level == "high"
    assert [r.key for r in reasons] == [
        "reason.community_cases_7d",  # high
        "reason.zone_controlled",  # medium, in table order
        "reason.incidence_7d",
        "reason.active_cases",  # low
        "reason.testing_coverage",
        "reason.overdue_requests.one",
        "reason.no_fulltime_worker",
    ]


def test_level_rank_orders_most_severe_first() -> None:
    assert sorted(["low", "normal", "high", "medium"], key=level_rank) == [
        "high",
        "medium",
        "low",
        "normal",
    ]


SAMPLE_PARAMS: dict[str, dict[str, Any]] = {
    "reason.community_cases_7d": {"n": 3},
    "reason.community_cases_7d.one": {"n": 1},
    "reason.incidence_7d": {"incidence": 1234.5, "n": 4},
    "reason.active_cases": {"n": 4},
    "reason.active_cases.one": {"n": 1},
    "reason.testing_coverage": {"coverage": 0.5, "round": "Round 2"},
    "reason.testing_missed": {"coverage": 0.25, "round": "Round 2"},
    "reason.overdue_requests": {"n": 2},
    "reason.overdue_requests.one": {"n": 1},
    "reason.households_per_worker": {"ratio": 350.0, "standard": 300},
    "reason.stepdown_sealed": {"days": 7},
    "reason.stepdown_controlled": {"days": 7},
    "reason.contacts_end_today": {"n": 2},
    "reason.contacts_end_today.one": {"n": 1},
    "reason.supplies_below_min": {"n": 2, "depot": "Grid 1-1 depot"},
    "reason.supplies_below_min.one": {"n": 1, "depot": "Grid 1-1 depot"},
}


def test_every_reason_has_an_english_and_a_chinese_text_that_formats() -> None:
    assert catalog_reasons.EN.keys() == catalog_reasons.ZH.keys()
    for key in catalog_reasons.EN:
        params = SAMPLE_PARAMS.get(key, {})
        english, chinese = t(key, "en", **params), t(key, "zh", **params)
        assert "{" not in english and "{" not in chinese, key
        assert english != chinese, key


def test_reason_texts_read_as_written() -> None:
    assert t("reason.community_cases_7d", "en", n=3) == "3 community cases in the last 7 days"
    assert t("reason.community_cases_7d", "zh", n=3) == "近7日社会面病例3例"
    assert t("reason.community_cases_7d.one", "en", n=1) == "1 community case in the last 7 days"
    assert (
        t("reason.incidence_7d", "en", incidence=2000.0, n=4)
        == "7-day incidence 2,000.0 per 10,000 (4 cases)"
    )
    assert (
        t("reason.testing_coverage", "en", coverage=0.5, round="Round 2")
        == "Testing coverage 50% in Round 2"
    )
    assert t("reason.testing_coverage", "zh", coverage=0.75, round="第2轮") == (
        "第2轮核酸检测覆盖率75%"
    )
    assert t("reason.households_per_worker", "en", ratio=10.0, standard=5) == (
        "10 households per full-time worker (standard 5)"
    )
