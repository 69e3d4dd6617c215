"""The shared undo of one-tap writes (gridcore.ui.forms): offered for a while, used once."""

from __future__ import annotations

from typing import Any

from gridcore.ui.forms import UNDO_SECONDS, offer_undo, run_undo


def test_an_undo_runs_once_and_only_while_it_is_offered() -> None:
    state: dict[str, Any] = {}
    calls: list[str] = []

    def undo(token: str) -> bool:
        calls.append(token)
        return True

    offer_undo("desk", message="done", undo=undo, done_message="undone", state=state, now=100.0)
    assert UNDO_SECONDS >= 60
    # Within the minute: undone once, with the offer's own client token.
    assert run_undo("desk", state=state, now=100.0 + 59) == "undone"
    assert len(calls) == 1 and len(calls[0]) == 32
    # A second tap finds nothing to undo and calls nothing.
    assert run_undo("desk", state=state, now=100.0 + 60) is None
    assert len(calls) == 1
    # An offer past its time is dropped without calling the service.
    offer_undo("desk", message="d", undo=undo, done_message="u", state=state, now=0.0)
    assert run_undo("desk", state=state, now=UNDO_SECONDS + 1) is None
    assert len(calls) == 1


def test_an_undo_the_service_refuses_says_nothing() -> None:
    state: dict[str, Any] = {}
    offer_undo("rc", message="m", undo=lambda token: False, done_message="u", state=state, now=0)
    assert run_undo("rc", state=state, now=1) is None
