"""GridCore in real Chromium on the demo street: every page, both languages, desktop and phone.

What AppTest cannot see is checked here: the rendered layout, the map's WebGL canvas, kiosk
mode on a projector-sized screen, how long pages take, and that nothing leaves this machine.
"""

from __future__ import annotations

import io
import re
import statistics
import time
from dataclasses import dataclass, field
from ipaddress import ip_address
from urllib.parse import urlparse

import pytest
from PIL import Image
from playwright.sync_api import BrowserContext, Page
from sqlmodel import Session, select

from gridcore.access import SYSTEM
from gridcore.i18n import catalogues
from gridcore.models import KIOSK_PANELS as KIOSK_PANEL_NAMES
from gridcore.models import Contact, Resident, User, UserGrid, UserRole, Worker
from gridcore.services.access import create_kiosk_link

from .browser_support import (
    ARTIFACTS,
    DESKTOP,
    MAP_PAGE_TIME_LIMIT_S,
    PHONE,
    SCREENSHOTS,
    Driver,
    serve,
    settle,
)

pytestmark = pytest.mark.browser

# The projector test's link turns its panels this often, quicker than the deployment's setting,
# so that one rotation through every panel stays short.
KIOSK_LINK_SECONDS = 3
KIOSK_ROTATION_S = len(KIOSK_PANEL_NAMES) * KIOSK_LINK_SECONDS
PROJECTOR = {"width": 1280, "height": 720}

NAV_LINK = '[data-testid="stSidebarNavLink"]'
EXCEPTION = '[data-testid="stException"]'
DECK_CANVAS = '[data-testid="stDeckGlJsonChart"] canvas'
# What shows figures: tiles, a map (WebGL or light), a chart.
FIGURES = (
    '[data-testid="stMetricValue"], [data-testid="stDeckGlJsonChart"], .gc-light-map, .main-svg'
)
# The product's target is 1 s for the page's script (test_page_render_times asserts it on
# the street); here a page counts until it is drawn, which on a shared 2-core machine fails
# only past 3 s. Pages with a WebGL map: see MAP_PAGE_TIME_LIMIT_S.
PAGE_TIME_LIMIT_S = 3.0
WARM_VISITS = 2
# Seconds from a click to the drawn page, per page path, in the order visited (this module's
# tests run in order in one process).
VISIT_SECONDS: dict[str, list[float]] = {}
# What those visits saw: each page's heading, and which pages draw a map.
HEADINGS: dict[str, str] = {}
MAP_PAGES: set[str] = set()

# Ready when on `path`, the first heading is new (or the expected one), and the run is over.
PAGE_READY = """([path, previousHeading, expectedHeading, needsCanvas]) => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
    if (app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    if (document.querySelector('[data-testid="stSkeleton"], [data-stale="true"]')) return false;
    if (location.pathname.replace(/\\/+$/, '') !== path.replace(/\\/+$/, '')) return false;
    const h1 = document.querySelector('[data-testid="stMain"] h1');
    const heading = h1 ? h1.innerText.trim() : '';
    if (!heading) return false;
    if (expectedHeading !== null && heading !== expectedHeading) return false;
    if (expectedHeading === null && heading === previousHeading) return false;
    if (needsCanvas) {
        const canvas = document.querySelector('[data-testid="stDeckGlJsonChart"] canvas');
        if (!canvas || canvas.width === 0 || canvas.height === 0) return false;
    }
    return true;
}"""


@dataclass
class Visit:
    """One page as seen in the browser."""

    name: str
    path: str
    problems: list[str] = field(default_factory=list)


def _page_name(path: str) -> str:
    """'/' → 'overview' (the default page), '/map' → 'map'."""
    return path.strip("/").split("/")[-1] or "overview"


def _nav_paths(page: Page) -> list[str]:
    hrefs: list[str] = page.locator(NAV_LINK).evaluate_all("els => els.map(e => e.href)")
    return [urlparse(h).path or "/" for h in hrefs]


def _show_navigation(page: Page) -> None:
    """On a phone the sidebar is folded away: open it before using a link."""
    expand = page.locator('[data-testid="stExpandSidebarButton"]')
    if expand.count() and expand.is_visible():
        expand.click()
        page.wait_for_function(
            """() => {
                const a = document.querySelector('[data-testid="stSidebarNavLink"]');
                if (!a) return false;
                const r = a.getBoundingClientRect();
                return r.width > 0 && r.left >= 0 && r.right <= window.innerWidth;
            }"""
        )
        page.wait_for_timeout(300)  # the end of the slide-in


def _hide_navigation(page: Page) -> None:
    """On a phone, fold the sidebar away again if it is open."""
    collapse = page.locator('[data-testid="stSidebarCollapseButton"] button')
    if collapse.count() and collapse.first.is_visible():
        collapse.first.click()
        page.wait_for_timeout(300)  # the end of the slide-out


def _current_heading(page: Page) -> str:
    heading = page.locator('[data-testid="stMain"] h1').first
    return heading.inner_text().strip() if heading.count() else ""


def _go(
    page: Page, path: str, *, expected_heading: str | None = None, has_map: bool | None = None
) -> float:
    """Click the navigation link to `path`; seconds from the click to the rendered page."""
    _show_navigation(page)
    previous = _current_heading(page)
    link = page.locator(f'{NAV_LINK}[href$="{path}"]').first
    needs_canvas = _page_name(path) == "map" if has_map is None else has_map
    start = time.perf_counter()
    link.click()
    page.wait_for_function(
        PAGE_READY, arg=[path, previous, expected_heading, needs_canvas], polling="raf"
    )
    seconds = time.perf_counter() - start
    # A map's first frame blocks the browser after the page is ready: count it here, not
    # against the page visited next.
    return seconds + settle(page) if needs_canvas else seconds


def _english_titles() -> list[str]:
    en = catalogues()["en"]
    return sorted({en[k] for k in en if k.startswith("page.")})


def _map_problems(page: Page) -> list[str]:
    """The map is a deck.gl WebGL canvas of a useful size."""
    canvas = page.locator(DECK_CANVAS)
    if not canvas.count():
        return ["no deck.gl canvas"]
    box = canvas.first.bounding_box()
    viewport = page.viewport_size or {"width": 0, "height": 0}
    if box is None or box["width"] < 0.8 * min(viewport["width"], 1000) or box["height"] < 300:
        return [f"the map canvas is too small: {box}"]
    is_webgl = page.evaluate(
        """() => {
            const c = document.querySelector('[data-testid="stDeckGlJsonChart"] canvas');
            return !!(c && (c.getContext('webgl2') || c.getContext('webgl')));
        }"""
    )
    if not is_webgl:
        return ["the map canvas has no WebGL context"]
    return [] if _canvas_is_drawn(page) else ["the map canvas stays blank"]


def _canvas_is_drawn(page: Page, seconds: float = 10) -> bool:
    """Whether the canvas shows a picture (many colours), not an empty area."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        png = page.locator(DECK_CANVAS).first.screenshot()
        colours = Image.open(io.BytesIO(png)).convert("RGB").getcolors(maxcolors=1 << 16)
        if colours is None or len(colours) >= 8:
            return True
        page.wait_for_timeout(250)
    return False


def _check_page(page: Page, visit: Visit, *, lang: str, phone: bool) -> None:
    if page.locator(EXCEPTION).count():
        visit.problems.append("exception: " + page.locator(EXCEPTION).first.inner_text()[:500])
    if visit.name == "map":
        visit.problems += _map_problems(page)
    text = page.locator('[data-testid="stMain"]').inner_text()
    if lang == "zh":
        english = [t for t in _english_titles() if re.search(rf"\b{re.escape(t)}\b", text)]
        if english:
            visit.problems.append(f"English page titles in the Chinese view: {english}")
    if phone:
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 2:
            visit.problems.append(f"the page scrolls sideways by {overflow}px on a phone")


def _record_requests(context: BrowserContext) -> list[str]:
    """Every URL the browser asks for from now on (pages, fetches, fonts, tiles, sockets)."""
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    context.on("websocket", lambda ws: requested.append(ws.url))
    return requested


def _outside_hosts(requested: list[str]) -> list[str]:
    assert any("/_stcore/" in url for url in requested), "no request was recorded"
    return sorted({url for url in requested if not _is_loopback(url)})


@dataclass(frozen=True)
class PersonalData:
    """The demo street's residents' and contacts' names and phones, and which a role may see.

    Staff are shown by name to every role (who is assigned, who serves a grid): their names
    are taken out of a page's text before the search, since a resident may share one.
    """

    staff: tuple[str, ...]
    names: frozenset[str]
    phones: frozenset[str]
    ids: frozenset[str]
    allowed_names: frozenset[str]
    allowed_phones: frozenset[str]


def _personal_data_for(driver: Driver, username: str) -> PersonalData:
    """Everything personal in the database, and the part `username` may see (README: Who sees
    what): everything for an administrator or leader, their own grids' for a grid worker,
    nothing for a viewer."""
    with Session(driver.app.engine) as s:
        user = s.exec(select(User).where(User.username == username)).one()
        own = set(s.exec(select(UserGrid.grid_id).where(UserGrid.user_id == user.id)).all())
        staff = set(s.exec(select(Worker.name)).all()) | set(s.exec(select(User.full_name)).all())
        people: list[tuple[str, str | None, str | None, int | None]] = list(
            s.exec(
                select(Resident.name, Resident.phone, Resident.id_number_masked, Resident.grid_id)
            ).all()
        )
        people += [
            (name, phone, None, grid_id)
            for name, phone, grid_id in s.exec(
                select(Contact.person_name, Contact.phone, Contact.grid_id)
            ).all()
        ]
    every = user.role in (UserRole.admin, UserRole.leader)
    allowed = [p for p in people if every or (user.role == UserRole.grid_worker and p[3] in own)]
    return PersonalData(
        staff=tuple(sorted(staff, key=len, reverse=True)),
        names=frozenset(n for n, *_ in people if len(n) >= 2),
        phones=frozenset(p for _, p, *_ in people if p),
        ids=frozenset(i for _, _, i, _ in people if i),
        allowed_names=frozenset(n for n, *_ in allowed),
        allowed_phones=frozenset(p for _, p, *_ in allowed if p),
    )


def _personal_data_shown(text: str, data: PersonalData) -> tuple[set[str], set[str]]:
    """Names, phones and ID numbers of `data` found in `text`: (all found, those not allowed)."""
    for name in data.staff:
        text = text.replace(name, " ")
    found = {text[i : i + n] for n in (2, 3) for i in range(len(text) - n + 1)} & data.names
    found |= set(re.findall(r"1\d{10}", text)) & data.phones
    found |= {i for i in data.ids if i in text}
    return found, found - data.allowed_names - data.allowed_phones


# Chinese, the street's language, at both sizes; English at a desk (each subject's own browser
# tests walk their pages in English on a phone). Each size signs in as another role, and every
# page's text is searched for residents' names, phones and ID numbers the role may not see.
@pytest.mark.parametrize(
    ("lang", "viewport", "username"),
    [("en", DESKTOP, "leader"), ("zh", DESKTOP, "viewer"), ("zh", PHONE, "worker")],
    ids=["en-1920x1080", "zh-1920x1080", "zh-390x844"],
)
def test_every_page_renders_and_contacts_no_other_host(
    driver: Driver, viewport: dict[str, int], lang: str, username: str
) -> None:
    """Every page in the role's navigation, a screenshot of each, every request recorded."""
    size = f"{viewport['width']}x{viewport['height']}"
    phone = viewport["width"] < 600
    personal = _personal_data_for(driver, username)
    seen: set[str] = set()
    context = driver.new_context(viewport, lang)
    requested = _record_requests(context)
    try:
        page = context.new_page()
        driver.sign_in(page, lang=lang, username=username)
        paths = _nav_paths(page)
        assert len(paths) >= 3, f"navigation offers {paths}"
        if lang == "zh":
            labels = page.locator(NAV_LINK).all_inner_texts()
            assert [t for t in _english_titles() if t in labels] == [], labels
        visits = []
        for path in paths:
            visit = Visit(name=_page_name(path), path=path)
            if path != urlparse(page.url).path or visit.name != "overview":
                VISIT_SECONDS.setdefault(path, []).append(_go(page, path))
            else:
                driver.wait_for_render(page)
            _check_page(page, visit, lang=lang, phone=phone)
            shown, not_allowed = _personal_data_shown(page.locator("body").inner_text(), personal)
            seen |= shown
            if not_allowed:
                visit.problems.append(f"personal data {username} may not see: {not_allowed}")
            if lang == "en":
                HEADINGS[path] = _current_heading(page)
                if page.locator('[data-testid="stDeckGlJsonChart"]').count():
                    MAP_PAGES.add(path)
            if phone:
                _hide_navigation(page)  # the picture shows the page, as after closing the menu
            page.screenshot(path=SCREENSHOTS / f"{visit.name}-{lang}-{size}.png", full_page=True)
            visits.append(visit)
        page.wait_for_timeout(500)  # late fetches: tiles, fonts, styles
        problems = [f"{v.name}: {p}" for v in visits for p in v.problems]
        assert problems == []
        # The search finds what it looks for: a leader or grid worker meets residents somewhere.
        assert bool(seen) == bool(personal.allowed_names), (username, sorted(seen)[:5])
    finally:
        context.close()
    assert _outside_hosts(requested) == []


def test_page_times(driver: Driver) -> None:
    """Navigation to rendered page: the first visit, and the median of the warm visits after it.

    The every-page tests above visit each page once per language and screen size; their
    times are used here, and only what is missing (this test run alone) is visited again.
    One sample is not a measurement on a shared 2-core machine whose Chromium renders WebGL
    in software; the median of the warm visits is, and the limit applies to it.
    """
    context = driver.new_context(DESKTOP)
    try:
        page = context.new_page()
        driver.sign_in(page, lang="en")
        paths = _nav_paths(page)
        headings = {p: HEADINGS[p] for p in paths if p in HEADINGS}
        maps = MAP_PAGES & set(paths)
        # Pages the every-page tests did not see (this test run alone) are visited once first.
        for path in [*paths[1:], paths[0]]:
            if path in headings and path in VISIT_SECONDS:
                continue
            if urlparse(page.url).path.rstrip("/") == path.rstrip("/"):
                driver.wait_for_render(page)  # the page signed in on: seen, not timed
            else:
                VISIT_SECONDS.setdefault(path, []).append(_go(page, path))
            headings[path] = _current_heading(page)
            if page.locator('[data-testid="stDeckGlJsonChart"]').count():
                maps.add(path)
        assert len(set(headings.values())) == len(paths), f"pages share a heading: {headings}"
        assert {_page_name(p) for p in maps} >= {"overview", "map", "grid", "testing"}
        while missing := [p for p in paths if len(VISIT_SECONDS.get(p, [])) < 1 + WARM_VISITS]:
            for path in missing:
                if urlparse(page.url).path.rstrip("/") == path.rstrip("/"):
                    # A click away first, untimed, to a page without a map (quick to draw).
                    other = next(p for p in paths if p != path and p not in maps)
                    _go(page, other, expected_heading=headings[other], has_map=other in maps)
                seconds = _go(page, path, expected_heading=headings[path], has_map=path in maps)
                VISIT_SECONDS.setdefault(path, []).append(seconds)
    finally:
        context.close()
    cold = {path: VISIT_SECONDS[path][0] for path in paths}
    visits = {path: VISIT_SECONDS[path][1:] for path in paths}
    warm = {path: statistics.median(seconds) for path, seconds in visits.items()}
    lines = [f"{'page':<16}{'map':>4}{'warm s':>8}{'first s':>9}  warm visits"]
    lines += [
        f"{_page_name(p):<16}{'yes' if p in maps else '':>4}{warm[p]:>8.2f}{cold[p]:>9.2f}  "
        + " ".join(f"{s:.2f}" for s in visits[p])
        for p in paths
    ]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "page_times.txt").write_text("\n".join(lines) + "\n")
    print("\n" + "\n".join(lines))
    limit = {p: MAP_PAGE_TIME_LIMIT_S if p in maps else PAGE_TIME_LIMIT_S for p in paths}
    slow = {_page_name(p): round(s, 2) for p, s in warm.items() if s > limit[p]}
    assert slow == {}, (
        f"warm visits slower than {PAGE_TIME_LIMIT_S} s "
        f"(pages with a map: {MAP_PAGE_TIME_LIMIT_S} s)"
    )


# --------------------------------------------------------------------------- kiosk


def _kiosk_url(driver: Driver) -> str:
    with Session(driver.app.engine, expire_on_commit=False) as s:
        _, token = create_kiosk_link(
            s, hours=2, secret=driver.app.secret, actor=SYSTEM, label="browser test",
            interval_seconds=KIOSK_LINK_SECONDS,
        )  # fmt: skip
    return f"{driver.base_url}/?kiosk=1&token={token}"


def _personal_data(driver: Driver) -> tuple[set[str], set[str]]:
    """Every resident's and contact's name and phone number in the database."""
    with Session(driver.app.engine) as s:
        names = set(s.exec(select(Resident.name)).all())
        names |= set(s.exec(select(Contact.person_name)).all())
        phones = {p for p in s.exec(select(Resident.phone)).all() if p}
    return {n for n in names if len(n) >= 2}, phones


# How far the drawn page reaches below the window (any scrolling element), in px; null while
# a panel is being drawn (the old panel's elements are still there, greyed, until replaced).
OVERFLOW = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning'
        || document.querySelector('[data-stale="true"], [data-testid="stSkeleton"]')) return null;
    return Math.max(0, ...[document.scrollingElement,
        ...document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"]')]
        .filter(e => e).map(e => e.scrollHeight - e.clientHeight));
}"""


def _kiosk_texts(
    page: Page, seconds: float, *, until_every_panel: bool = False
) -> tuple[list[str], int]:
    """The page's text twice a second for `seconds` (the kiosk rotates through its panels),
    or until every panel has come round, and the most the page ever reached below the window.

    A panel counts once the footer of the one before it has named it as coming next and it
    has been drawn: the footers announce all of them within one rotation and a panel more."""
    texts, overflow = [], 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        texts.append(page.locator("body").inner_text())
        overflow = max(overflow, int(page.evaluate(OVERFLOW) or 0))
        if until_every_panel and _panels_announced(texts[:-1]) == set(KIOSK_PANEL_NAMES):
            break
        page.wait_for_timeout(500)
    return texts, overflow


def _panels_announced(texts: list[str]) -> set[str]:
    """The panels the footers named as coming next."""
    names = {catalogues()["en"][f"kiosk.panel.{p}"]: p for p in KIOSK_PANEL_NAMES}
    return {p for text in texts for name, p in names.items() if f"next: {name} at" in text}


def test_kiosk_on_a_projector(driver: Driver) -> None:
    """At 1280×720, the commonest projector: every panel fits with no scrolling, in type a room
    can read, and shows no personal data; then at 1920×1080 too."""
    context = driver.new_context(PROJECTOR)
    requested = _record_requests(context)
    try:
        page = context.new_page()
        page.goto(_kiosk_url(driver))
        driver.wait_for_render(page)
        assert page.locator(EXCEPTION).count() == 0
        assert page.locator(".st-key-signin_username").count() == 0, "kiosk asks to sign in"
        assert not page.locator('[data-testid="stSidebar"]').is_visible(), "kiosk has a sidebar"
        assert (
            not page.locator(NAV_LINK).first.is_visible()
            if page.locator(NAV_LINK).count()
            else True
        )

        # A panel of big figures comes round within one rotation of all panels.
        value = page.locator('[data-testid="stMetricValue"]').first
        value.wait_for(state="visible", timeout=(KIOSK_ROTATION_S + 15) * 1000)
        page.wait_for_timeout(300)
        size = page.evaluate(
            """() => parseFloat(getComputedStyle(
                document.querySelector('[data-testid="stMetricValue"]')).fontSize)"""
        )
        assert size >= 48, f"headline numbers are {size}px high; a projector needs 48px or more"
        page.screenshot(path=SCREENSHOTS / "kiosk-en-1280x720.png")

        # Every panel in turn; longer than one rotation only when the browser stalls (the
        # software-drawn map can hold a loaded machine's browser for seconds).
        texts, overflow = _kiosk_texts(page, KIOSK_ROTATION_S + 30, until_every_panel=True)
        assert overflow <= 2, f"a panel reaches {overflow}px below a 1280×720 screen"
        assert _panels_announced(texts) == set(KIOSK_PANEL_NAMES), "a panel never came round"
        names, phones = _personal_data(driver)
        assert len(names) > 1000, "the demo street should have many named residents"
        seen = "\n".join(texts)
        assert [n for n in names if n in seen][:10] == []
        assert [p for p in phones if p in seen][:10] == []
        assert page.locator(EXCEPTION).count() == 0

        page.reload()
        driver.wait_for_render(page)
        assert page.locator(".st-key-signin_username").count() == 0, "signed out by a reload"
        # The testing panel has its own forecast alert: only the link's refusal may not show.
        for lang in ("en", "zh"):
            refusal = catalogues()[lang]["frame.kiosk_invalid"]
            assert page.get_by_text(refusal).count() == 0, "the link was refused after a reload"
        page.locator(FIGURES).first.wait_for(state="visible")
        assert "kiosk=1" in page.url

        # A bigger projector: the panels follow the window's size.
        page.set_viewport_size(DESKTOP)
        _, overflow = _kiosk_texts(page, KIOSK_LINK_SECONDS + 2)
        assert overflow <= 2, f"a panel reaches {overflow}px below a 1920×1080 screen"
        page.screenshot(path=SCREENSHOTS / "kiosk-en-1920x1080.png")
    finally:
        context.close()
    assert _outside_hosts(requested) == []


def test_a_bad_kiosk_link_shows_a_message_and_no_data(driver: Driver) -> None:
    context = driver.new_context(DESKTOP)
    try:
        page = context.new_page()
        page.goto(f"{driver.base_url}/?kiosk=1&token=1.99999999999.forged")
        driver.wait_for_render(page)
        page.locator('[data-testid="stAlertContainer"]').first.wait_for(state="visible")
        data = FIGURES
        assert page.locator(data).count() == 0
        assert page.locator('[data-testid="stDataFrame"]').count() == 0
    finally:
        context.close()


# --------------------------------------------------------------------------- first request


@pytest.mark.parametrize("path", ["kiosk", "overview"])
def test_the_first_request_after_a_start_cannot_skip_sign_in(
    driver: Driver, street_database: tuple[str, object], path: str
) -> None:
    """A fresh server's first run must go through app.py, whatever page file the URL names.

    Streamlit runs the very first script run of a server through its old pages/-folder
    mode; a URL naming a page file must still meet sign-in (or the kiosk token check).
    """
    url, _ = street_database
    data = FIGURES + ', [data-testid="stDataFrame"]'
    # Remember whether data was ever on the page, however briefly.
    watch = (
        "window.__sawData = false; new MutationObserver(() => {"
        f" if (document.querySelector({data!r})) window.__sawData = true;"
        " }).observe(document, {subtree: true, childList: true});"
    )
    with serve(url, log_name=f"streamlit-first-{path}.log") as base_url:
        context = driver.new_context(DESKTOP)
        try:
            context.add_init_script(watch)
            page = context.new_page()
            page.goto(f"{base_url}/{path}")
            page.locator(".st-key-signin_username").wait_for(state="visible")
            driver.wait_for_render(page)
            assert page.evaluate("window.__sawData") is False, f"/{path} showed data"
            assert page.locator(data).count() == 0
            assert page.locator(EXCEPTION).count() == 0
        finally:
            context.close()


# --------------------------------------------------------------------------- network


def _is_loopback(url: str) -> bool:
    parsed = urlparse(url)
    if parsed.scheme in ("data", "blob", "about", "chrome-extension"):
        return True
    host = (parsed.hostname or "").strip("[]")
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def test_loopback_check() -> None:
    assert _is_loopback("http://127.0.0.1:8501/_stcore/health")
    assert _is_loopback("ws://[::1]:8501/_stcore/stream")
    assert _is_loopback("data:image/png;base64,AAAA")
    assert not _is_loopback("https://fonts.gstatic.com/s/materialsymbols.woff2")
    assert not _is_loopback("https://basemaps.cartocdn.com/gl/positron-gl-style/style.json")
