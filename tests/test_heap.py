"""The server freezes its heap once per page, after that page's first complete render."""

from __future__ import annotations

import gc

import pytest
from apptest_support import open_page

from gridcore.ui import heap


def test_settling_freezes_what_lives_now_once_per_page() -> None:
    held = [[n] for n in range(2_000)]  # 2,000 live containers made before the first call
    heap.settle_after("test-page-one")
    frozen = gc.get_freeze_count()
    assert frozen >= len(held)

    later = [[n] for n in range(2_000)]
    heap.settle_after("test-page-one")  # the same page again: nothing more is frozen
    assert gc.get_freeze_count() < frozen + len(later)

    heap.settle_after("test-page-two")  # another page's first render: what lives now is
    assert gc.get_freeze_count() >= frozen + len(later)
    assert {"test-page-one", "test-page-two"} <= heap.settled_pages()


def test_a_page_settles_the_heap_after_its_first_render(
    shared_tiny_app: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(heap, "_settled", set())  # as in a new process
    open_page("leader", "pages/supplies.py")
    assert "supplies" in heap.settled_pages()
