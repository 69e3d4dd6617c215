"""The server's long-lived objects, kept out of the garbage collector's way.

A page render makes hundreds of thousands of short-lived objects (query rows, frames, chart
specs), and every so often the collector scans every object the process holds: the modules of
Streamlit, pandas, plotly and GridCore and what they build on first use, about 270,000 objects
once the pages have been drawn. At district scale those scans took 0.2–0.6 s of a 1–2.7 s
render. After a page's first complete render in the process, `settle_after` collects what is
garbage then and freezes the rest (`gc.freeze`): the collector leaves those objects alone from
then on, and still collects everything made later. Once per page: at most one full collection
per page and process.
"""

from __future__ import annotations

import gc
import threading

_lock = threading.Lock()
_settled: set[str] = set()


def settle_after(page: str) -> None:
    """Freeze the heap after `page`'s first complete render in this process."""
    with _lock:
        if page in _settled:
            return
        _settled.add(page)
    gc.collect()
    gc.freeze()


def settled_pages() -> frozenset[str]:
    """The pages after whose first render the heap was frozen."""
    with _lock:
        return frozenset(_settled)
