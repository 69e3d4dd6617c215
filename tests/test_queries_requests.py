"""Requests & tasks queries against the tiny world (answers: gridcore/demo/tiny.py)."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from sqlmodel import Session

from gridcore.access import KIOSK, SYSTEM, Actor
from gridcore.models import UserRole
from gridcore.queries.requests import request_board, resolution_times
from gridcore.queries.tasks import task_list
from tests.tiny_world import TinyWorld

pytestmark = pytest.mark.both_backends  # queries: the dialect matters


def _by_name(board: pd.DataFrame) -> dict[str, dict[str, object]]:
    """The board's rows by the tiny request's name (its description is "Request Rnn")."""
    return {str(r["description"]).split()[-1]: r for r in board.to_dict("records")}


def test_the_board_holds_open_requests_and_those_closed_in_the_last_day(
    tiny: TinyWorld, tiny_session: Session
) -> None:
    board = request_board(session=tiny_session, now=tiny.now, actor=SYSTEM)
    rows = _by_name(board)
    # Open R01-R03, R05-R09, R11; R04 done 2 h ago; R10 cancelled without a time: left out.
    assert sorted(rows) == ["R01", "R02", "R03", "R04", "R05", "R06", "R07", "R08", "R09", "R11"]
    assert sorted(n for n, r in rows.items() if r["overdue"]) == ["R01", "R03", "R06", "R07", "R08"]
    # R01 and R02: the same household asking for urgent medical care 2 h apart, R01 open.
    flagged = {n: r["duplicate_of"] for n, r in rows.items() if pd.notna(r["duplicate_of"])}
    assert flagged == {"R02": rows["R01"]["request_id"]}
    assert rows["R03"]["age_hours"] == pytest.approx(30)
    assert rows["R04"]["age_hours"] == pytest.approx(38)  # 40 h ago, done 2 h ago
    assert (rows["R01"]["target_hours"], rows["R06"]["target_hours"]) == (2, 72)


def test_a_viewer_sees_no_household_nor_description(tiny: TinyWorld, tiny_session: Session) -> None:
    board = request_board(session=tiny_session, now=tiny.now, actor=KIOSK)
    assert set(board["household"]) == {"***"}
    assert set(board["description"]) == {"***"}


def test_a_grid_worker_sees_households_and_descriptions_of_their_own_grids_only(
    tiny: TinyWorld, tiny_session: Session
) -> None:
    worker = Actor(
        username="wang", role=UserRole.grid_worker, user_id=4,
        grid_ids=frozenset({tiny.gid("T-C1-G1"), tiny.gid("T-C2-G1")}),
    )  # fmt: skip
    everything = request_board(session=tiny_session, now=tiny.now, actor=SYSTEM)
    board = request_board(session=tiny_session, now=tiny.now, actor=worker)
    assert list(board["request_id"]) == list(everything["request_id"])  # same rows, same order
    own = board["grid_id"].isin(worker.grid_ids)
    assert sorted(set(board.loc[own, "grid_code"])) == ["T-C1-G1", "T-C2-G1"]
    for column in ("household", "household_zh", "description"):
        assert list(board.loc[own, column]) == list(everything.loc[own, column])
        assert set(board.loc[~own, column]) == {"***"}, column
    assert (~own).sum() == 3  # R05, R06 (G2) and R11 (G4)


def test_time_to_resolve_counts_done_requests(tiny: TinyWorld, tiny_session: Session) -> None:
    frame = resolution_times(session=tiny_session, since=tiny.now - timedelta(days=30))
    # Only R04 is done: food, 38 h against 24 h.
    assert frame.to_dict("records") == [
        {"category": "food", "done": 1, "median_hours": pytest.approx(38),
         "max_hours": pytest.approx(38), "within_target": 0, "target_hours": 24}
    ]  # fmt: skip


def test_a_grids_task_list_puts_the_overdue_first(tiny: TinyWorld, tiny_session: Session) -> None:
    g1 = tiny.gid("T-C1-G1")
    frame = task_list(session=tiny_session, now=tiny.now, actor=SYSTEM, grid_ids=(g1,),
                      due_before=tiny.now + timedelta(hours=7))  # fmt: skip
    # The survey (due 2 h ago, in progress), then door to door (due in 6 h); disinfection done.
    assert list(frame["kind"]) == ["epidemiological_survey", "door_to_door_testing"]
    assert list(frame["overdue"]) == [True, False]
    shorter = task_list(session=tiny_session, now=tiny.now, actor=SYSTEM, grid_ids=(g1,),
                        due_before=tiny.now + timedelta(hours=5))  # fmt: skip
    assert list(shorter["kind"]) == ["epidemiological_survey"]


def test_task_titles_outside_a_grid_workers_grids_are_masked_in_place(
    tiny: TinyWorld, tiny_session: Session
) -> None:
    g1 = tiny.gid("T-C1-G1")
    worker = Actor(username="wang", role=UserRole.grid_worker, user_id=4, grid_ids=frozenset({g1}))
    everything = task_list(session=tiny_session, now=tiny.now, actor=SYSTEM)
    tasks = task_list(session=tiny_session, now=tiny.now, actor=worker)
    assert list(tasks["task_id"]) == list(everything["task_id"])  # same rows, same order
    own = tasks["grid_id"] == g1
    assert own.any() and (~own).any()
    for column in ("title", "title_zh"):
        assert list(tasks.loc[own, column]) == list(everything.loc[own, column])
        assert "***" not in set(tasks.loc[own, column])
        assert set(tasks.loc[~own, column]) == {"***"}, column
