"""Alert rules on hand-made figures: each fires past its threshold and not at it."""

from __future__ import annotations

from gridcore.analytics import alerts
from gridcore.analytics.alerts import (
    Alert,
    ContactsMissed,
    Counted,
    GridProgress,
    Place,
    StockPosition,
    WorkerLoad,
)

G1 = Place(code="S-C1-G1", name="Grid 1", name_zh="第一网格")
G2 = Place(code="S-C1-G2", name="Grid 2", name_zh="第二网格")


def test_a_case_outside_quarantine_fires_high_and_none_does_not() -> None:
    found = alerts.community_positives(
        [Counted(place=G1, n=2, latest_id=41), Counted(place=G2, n=0)], days=1
    )
    assert [(a.key, a.severity, a.situation) for a in found] == [
        ("community_positive:S-C1-G1", "high", "2:41")
    ]
    assert found[0].params == {"n": 2, "days": 1}


def test_coverage_behind_fires_only_past_the_lag() -> None:
    # Half the window gone (schedule 50 %), lag 10 points: 40 % is at the edge, 39 % behind.
    figures = [
        GridProgress(place=G1, missing=60, coverage=0.40),
        GridProgress(place=G2, missing=61, coverage=0.39),
    ]
    found = alerts.coverage_behind(figures, share=0.5, lag_points=10, round_id=7)
    assert [(a.place, a.severity, a.situation) for a in found] == [(G2, "medium", "round:7")]
    assert found[0].params == {"coverage": 0.39, "schedule": 0.5, "missing": 61}


def test_coverage_behind_ignores_grids_done_or_without_people() -> None:
    figures = [
        GridProgress(place=G1, missing=0, coverage=0.0),  # everyone exempt or sampled
        GridProgress(place=G2, missing=5, coverage=None),  # nobody expected
    ]
    assert alerts.coverage_behind(figures, share=0.9, lag_points=0, round_id=1) == []


def test_coverage_behind_past_the_deadline_is_high() -> None:
    found = alerts.coverage_behind(
        [GridProgress(place=G1, missing=1, coverage=0.89)], share=1.0, lag_points=10, round_id=3
    )
    assert [a.severity for a in found] == ["high"]
    # 90 % at the deadline with a 10-point lag is exactly at the edge: no alert.
    at_edge = [GridProgress(place=G1, missing=1, coverage=0.90)]
    assert alerts.coverage_behind(at_edge, share=1.0, lag_points=10, round_id=3) == []


def _position(
    item_id: int, stock: int, minimum: int, issued: int, depot_id: int = 1
) -> StockPosition:
    return StockPosition(
        place=G1, depot_id=depot_id, item_id=item_id, stock=stock, minimum=minimum, issued=issued
    )


def test_stock_under_minimum_or_cover_fires_at_the_edges() -> None:
    # 7 units issued in 7 days = 1 a day: 2 in stock is exactly 2 days of cover (enough);
    # 14 issued = 2 a day, 3 in stock is 1.5 days (short). Stock 10 against minimum 10 is
    # enough, 9 is under.
    assert not alerts.item_short(_position(1, 2, 0, 7), cover_days=2)
    assert alerts.item_short(_position(1, 3, 0, 14), cover_days=2)
    assert not alerts.item_short(_position(1, 10, 10, 0), cover_days=2)
    assert alerts.item_short(_position(1, 9, 10, 0), cover_days=2)
    # Nothing issued: no cover figure, so only the minimum counts.
    assert not alerts.item_short(_position(1, 0, 0, 0), cover_days=2)


def test_one_stock_alert_per_depot_high_when_an_item_is_out() -> None:
    positions = [
        _position(5, 9, 10, 0, depot_id=1),  # under minimum
        _position(3, 0, 4, 0, depot_id=1),  # out
        _position(2, 50, 10, 7, depot_id=1),  # fine
        _position(5, 3, 0, 14, depot_id=2),  # 1.5 days of cover
    ]
    found = alerts.stock_short(positions, cover_days=2)
    assert [(a.subject, a.severity, a.situation, a.params) for a in found] == [
        ("depot1", "high", "3,5", {"n": 2, "out": 1}),
        ("depot2", "medium", "5", {"n": 1, "out": 0}),
    ]


def test_urgent_overdue_requests() -> None:
    found = alerts.urgent_overdue([Counted(place=G1, n=0), Counted(place=G2, n=1, latest_id=9)])
    assert [(a.key, a.severity, a.situation) for a in found] == [
        ("urgent_overdue:S-C1-G2", "high", "1:9")
    ]


def test_missed_contact_tests_count_contacts_at_the_threshold() -> None:
    figures = [ContactsMissed(place=G1, missed=(1, 2, 3)), ContactsMissed(place=G2, missed=(1,))]
    found = alerts.contact_test_missed(figures, threshold=2)
    # Grid 1: the contacts who missed 2 and 3 tests; grid 2's one missed test is under it.
    assert [(a.place, a.params, a.situation) for a in found] == [(G1, {"n": 2, "tests": 5}, "2:5")]
    assert len(alerts.contact_test_missed(figures, threshold=1)) == 2


def test_an_overloaded_worker_counts_in_each_grid_served() -> None:
    workers = [
        # 4 open + 2 × 3 overdue = 10: at the threshold, overloaded.
        WorkerLoad(worker_id=4, places=(G1, G2), open_tasks=4, overdue_tasks=3),
        # 9 open, none overdue = 9: under it.
        WorkerLoad(worker_id=5, places=(G1,), open_tasks=9, overdue_tasks=0),
        WorkerLoad(worker_id=6, places=(G1,), open_tasks=12, overdue_tasks=0),
    ]
    found = alerts.worker_overloaded(workers, score=10)
    assert [(a.place, a.severity, a.params["n"], a.situation) for a in found] == [
        (G1, "low", 2, "2:6:10"),
        (G2, "low", 1, "1:4:4"),
    ]


def test_alerts_are_ordered_by_severity_then_rule_then_place() -> None:
    low = Alert("worker_overloaded", "low", G1, "S-C1-G1", "1")
    stock = Alert("stock_short", "medium", G1, "depot1", "1")
    late = Alert("urgent_overdue", "high", G1, "S-C1-G1", "1")
    case_g2 = Alert("community_positive", "high", G2, "S-C1-G2", "1")
    case_g1 = Alert("community_positive", "high", G1, "S-C1-G1", "1")
    assert alerts.ordered([low, stock, late, case_g2, case_g1]) == [
        case_g1, case_g2, late, stock, low,
    ]  # fmt: skip


def test_an_acknowledgement_holds_for_its_situation_only() -> None:
    alert = Alert("community_positive", "high", G1, "S-C1-G1", "2:41")
    assert alerts.is_acknowledged(alert, {("community_positive:S-C1-G1", "2:41")})
    # A third case (situation 3:44) stands again.
    assert not alerts.is_acknowledged(alert, {("community_positive:S-C1-G1", "1:40")})
