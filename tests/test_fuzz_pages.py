"""Generated URL query parameters on every page: never a crash, never user text as Markdown.

A link can carry anything after the '?': each example opens one page (as the leader, signed
in once for the module) with some of the parameters the pages read — ?grid=, ?round=,
?lang=, ?as_of=, ?depot=, the cases page's ?area=&from=&to=&kind=&tab=&resident=&found=,
?kiosk= and ?token= — set to hostile texts: digits that int() refuses ('²'), numbers past
64 bits, years 1 and 9999, NUL bytes, Markdown that would fetch an image.

The property: the page runs without an exception, and no Markdown element (a warning
naming the bad value included) carries the hostile Markdown unescaped.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from apptest_support import no_exception, signed_in
from fuzz_support import NASTY
from hypothesis import example, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from gridcore.ui import forms
from tests.tiny_world import TINY_ANCHOR

PAGES = (
    "pages/overview.py",
    "pages/grid_map.py",
    "pages/grid_detail.py",
    "pages/cases.py",
    "pages/testing.py",
    "pages/sampling_desk.py",
    "pages/roll_call.py",
    "pages/zones.py",
    "pages/supplies.py",
    "pages/data_entry.py",
    "pages/requests.py",
    "pages/my_tasks.py",
    "pages/workforce.py",
)
PARAMS = ("grid", "round", "lang", "as_of", "depot", "area", "from", "to", "kind", "tab")
PARAMS += ("resident", "found", "kiosk", "token")
IMAGE = "![x](http://evil.example/p.png)"
# Values the pages' own links carry, so that the hostile ones meet a page in a real state.
PLAUSIBLE = ("T-C1-G1", "1", "2", "zh", "en", TINY_ANCHOR.isoformat(), "new", "confirmed")
VALUES = st.one_of(st.sampled_from(PLAUSIBLE), st.sampled_from((IMAGE, "²", "0001-01-01")), NASTY)
# Each example is a whole page run (about 0.2 s): a tenth of the profile's examples.
PAGE_EXAMPLES = max(3, settings.default.max_examples // 10)


@pytest.fixture(scope="module")
def leader(shared_tiny_app: str) -> Iterator[AppTest]:
    yield signed_in("leader", "en")


def _markdown(at: AppTest) -> list[str]:
    found: list[str] = []
    for kind in ("markdown", "warning", "error", "info", "success", "caption"):
        found += [str(element.value) for element in at.get(kind)]
    return found


@settings(max_examples=PAGE_EXAMPLES)
@given(
    page=st.sampled_from(PAGES),
    params=st.dictionaries(st.sampled_from(PARAMS), VALUES, max_size=4),
)
# Found by this test and fixed (each was "This app has encountered an error" or worse):
@example(page="pages/supplies.py", params={"depot": "²"})  # int('²') after isdigit()
@example(page="pages/testing.py", params={"round": "²"})
@example(page="pages/zones.py", params={"as_of": "0001-01-01"})  # time-zone overflow
@example(page="pages/zones.py", params={"as_of": IMAGE})  # the warning rendered the image
@example(page="pages/supplies.py", params={"depot": IMAGE})
# A period of 10,000 years: the page counted every day of it (timed out after 60 s).
@example(page="pages/cases.py", params={"from": "0001-01-01", "to": "9999-12-31"})
@example(page="pages/cases.py", params={"tab": "new", "resident": "9" * 25})
def test_any_query_parameters_open_the_page(
    leader: AppTest, page: str, params: dict[str, str]
) -> None:
    at = leader
    at.query_params.clear()
    for name, value in params.items():
        at.query_params[name] = value
    at.switch_page(page).run()
    no_exception(at, f"{page}?{params}")
    assert not [m for m in _markdown(at) if "](http" in m], params


@given(raw=st.one_of(NASTY, st.text(alphabet="0123456789²١٢３", max_size=25)))
@example(raw="²")
@example(raw="9" * 19)
def test_a_url_id_is_a_storable_number_or_none(raw: str) -> None:
    found = forms.url_id(raw)
    assert found is None or (raw.isascii() and int(raw) == found and 0 <= found < 2**63)
    assert forms.url_id("0042") == 42 and forms.url_id("9" * 19) is None


@given(raw=NASTY)
@example(raw="0001-01-01")
@example(raw="9999-12-31")
def test_a_url_day_is_near_today_or_none(raw: str) -> None:
    found = forms.url_day(raw, TINY_ANCHOR)
    assert found is None or abs((found - TINY_ANCHOR).days) <= 3652
