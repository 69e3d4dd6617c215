"""The import's states on the Data entry page: one at a time, checked, imported or failed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gridcore.io import testing as test_results
from gridcore.io.report import ImportReport

# One state at a time: the check of a file, the import's result, or why the import failed.
CHECKED, IMPORTED, FAILED = "checked", "imported", "failed"
STATE_KEY = "io_state"

# The page that shows what an import of each kind changed.
CHANGED_PAGE: dict[str, tuple[str, str]] = {
    "residents": ("pages/grid_map.py", "page.grid_map"),
    test_results.KIND: ("pages/testing.py", "page.testing"),
    "cases": ("pages/cases.py", "page.cases"),
    "contacts": ("pages/cases.py", "page.cases"),
    "case-counts": ("pages/cases.py", "page.cases"),
    "case-addresses": ("pages/cases.py", "page.cases"),
    "stock-movements": ("pages/supplies.py", "page.supplies"),
    "requests": ("pages/requests.py", "page.requests"),
    "tasks": ("pages/requests.py", "page.requests"),
    "workers": ("pages/workforce.py", "page.workforce"),
}


@dataclass(frozen=True)
class ImportState:
    """Where one uploaded file stands: checked, imported, or failed (with the error key)."""

    key: tuple[Any, ...]
    phase: str
    report: ImportReport | None
    error: str | None = None
