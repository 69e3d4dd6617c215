"""Since the last meeting: figure changes and the attention list's moves, on hand-made data."""

from __future__ import annotations

import math

from gridcore.analytics.meeting import (
    HEADLINE_FIELDS,
    AttentionState,
    attention_changes,
    change,
    changes_since,
)


def test_a_change_is_now_less_the_mark_and_unknown_when_either_is() -> None:
    assert change(12, 9) == 3
    assert change(0.62, 0.5) == 0.62 - 0.5
    assert change(None, 4) is None
    assert change(4, None) is None
    assert change(math.nan, 4) is None


def test_every_headline_figure_is_compared() -> None:
    at_mark = {"new_cases": 3, "active_cases": 20, "understaffed_grids": None}
    now = {"new_cases": 5, "active_cases": 18, "understaffed_grids": 2, "open_requests": 4}
    moved = changes_since(now, at_mark)
    assert set(moved) == set(HEADLINE_FIELDS)
    assert moved["new_cases"] == 2
    assert moved["active_cases"] == -2
    assert moved["understaffed_grids"] is None  # not known at the mark
    assert moved["open_requests"] is None  # not in the mark at all


def _state(code: str, severity: str, *reasons: str) -> AttentionState:
    return AttentionState(code=code, name=code, name_zh=None, severity=severity, reasons=reasons)


def test_attention_new_worse_and_resolved() -> None:
    at_mark = [
        _state("G1", "medium", "reason.community_cases"),
        _state("G2", "low", "reason.active_cases.one"),
        _state("G3", "high", "reason.zone_sealed"),
        _state("G4", "low", "reason.overdue_requests.one"),
    ]
    now = [
        _state("G1", "high", "reason.community_cases"),  # severity rose: worse
        _state("G2", "low", "reason.active_cases"),  # 1 → 2 active: same reason, not worse
        _state("G4", "low", "reason.overdue_requests.one", "reason.understaffed"),  # new reason
        _state("G5", "medium", "reason.community_cases.one"),  # new on the list
        _state("G6", "low", "reason.contacts_end_today"),  # new on the list
    ]
    moved = attention_changes(at_mark, now)
    assert [s.code for s in moved.new] == ["G5", "G6"]  # most severe first
    assert [s.code for s in moved.worse] == ["G1", "G4"]
    assert [s.code for s in moved.resolved] == ["G3"]
    assert not moved.empty


def test_an_unchanged_list_has_nothing_to_say() -> None:
    same = [_state("G1", "medium", "reason.community_cases")]
    assert attention_changes(same, same).empty
    # A lower severity is neither worse nor resolved.
    assert attention_changes(same, [_state("G1", "low", "reason.community_cases")]).empty
