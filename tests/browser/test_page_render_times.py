"""How long each page's script takes on the demo street once warm: the product's 1 s target.

The browser tests time a click to a drawn page, which on this machine includes Chromium's
software WebGL; this measures the server's part alone, with Streamlit's AppTest, on the same
street database (about 50,000 residents), signed in as a leader (who sees every form).
"""

from __future__ import annotations

import statistics
import time

import pytest
from apptest_support import app_on, no_exception, route_through_navigation, signed_in
from sqlalchemy.engine import Engine

from .browser_support import ARTIFACTS

pytestmark = pytest.mark.browser

PAGES = (
    "pages/overview.py",
    "pages/grid_map.py",
    "pages/grid_detail.py",
    "pages/testing.py",
    "pages/sampling_desk.py",
    "pages/roll_call.py",
    "pages/supplies.py",
    "pages/data_entry.py",
    "pages/workforce.py",
)
RENDER_LIMIT_S = 1.0
RUNS = 3


def test_every_page_renders_in_under_a_second_on_the_street(
    street_database: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = street_database
    route_through_navigation(monkeypatch)
    times: dict[str, list[float]] = {}
    with app_on(url):
        at = signed_in("leader")
        for page in PAGES:
            at.switch_page(page).run()  # the first run fills the caches
            no_exception(at, page)
            times[page] = []
            for _ in range(RUNS):
                start = time.perf_counter()
                at.switch_page(page).run()
                times[page].append(time.perf_counter() - start)
                no_exception(at, page)
    median = {page: statistics.median(seconds) for page, seconds in times.items()}
    lines = [f"{'page':<24}{'median s':>9}  runs"]
    lines += [
        f"{page:<24}{median[page]:>9.3f}  " + " ".join(f"{s:.3f}" for s in times[page])
        for page in PAGES
    ]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "render_times.txt").write_text("\n".join(lines) + "\n")
    print("\n" + "\n".join(lines))
    slow = {page: round(s, 3) for page, s in median.items() if s > RENDER_LIMIT_S}
    assert slow == {}, f"pages slower than {RENDER_LIMIT_S} s on the street once warm"
