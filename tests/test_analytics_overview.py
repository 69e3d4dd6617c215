"""Headline figures against their targets, and the order of the 'needs attention' grids."""

from __future__ import annotations

import pytest

from gridcore.analytics.overview import (
    ACT,
    GOOD,
    HEADLINE_TARGETS,
    WATCH,
    AttentionFacts,
    Target,
    attention_order,
    figure_status,
)


@pytest.mark.parametrize(
    ("value", "status"), [(0, GOOD), (1, WATCH), (2, WATCH), (3, ACT), (40, ACT)]
)
def test_a_count_at_most_its_target(value: int, status: str) -> None:
    assert figure_status(value, Target(0, act_at=3)) == status


@pytest.mark.parametrize(
    ("value", "status"), [(1.0, GOOD), (0.9, GOOD), (0.899, WATCH), (0.5, WATCH), (0.49, ACT)]
)
def test_coverage_at_least_its_target(value: float, status: str) -> None:
    assert figure_status(value, HEADLINE_TARGETS["latest_round_coverage"]) == status


def test_the_headline_targets() -> None:
    outside = HEADLINE_TARGETS["new_cases_outside_quarantine"]
    # One community case is already a reason to act; active cases are only watched.
    assert [figure_status(v, outside) for v in (0, 1)] == [GOOD, ACT]
    assert [figure_status(v, HEADLINE_TARGETS["active_cases"]) for v in (0, 99)] == [GOOD, WATCH]
    assert [figure_status(v, HEADLINE_TARGETS["overdue_requests"]) for v in (0, 2, 3)] == [
        GOOD,
        WATCH,
        ACT,
    ]
    # No target for people in quarantine or open requests; no value, no status.
    assert "in_quarantine" not in HEADLINE_TARGETS and "open_requests" not in HEADLINE_TARGETS
    assert figure_status(5, None) is None
    assert figure_status(None, outside) is None
    assert figure_status(float("nan"), HEADLINE_TARGETS["latest_round_coverage"]) is None


def test_what_to_do_first() -> None:
    items = [
        AttentionFacts("G-LOW-DUE", "low", due_today=2),
        AttentionFacts("G-LOW-REQ", "low", overdue_requests=1),
        AttentionFacts("G-MED-A", "medium", community_cases_7d=1, active_cases=1),
        AttentionFacts("G-HIGH", "high", community_cases_7d=1),
        AttentionFacts("G-MED-B", "medium", community_cases_7d=2),
        AttentionFacts("G-LOW-ACT", "low", active_cases=5),
        AttentionFacts("G-LOW-ACT2", "low", active_cases=5),
    ]
    assert [a.code for a in attention_order(items)] == [
        "G-HIGH",  # the most severe first, whatever its counts
        "G-MED-B",  # more community cases (spread) before
        "G-MED-A",
        "G-LOW-REQ",  # people waiting past their target before decisions due today
        "G-LOW-DUE",
        "G-LOW-ACT",  # then active cases, then the code
        "G-LOW-ACT2",
    ]
    assert attention_order([]) == []
