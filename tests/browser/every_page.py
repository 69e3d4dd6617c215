"""Every page of the app in real Chromium: what the every-page, page-time and kiosk tests share.

A page is visited by clicking its navigation link and counted until it is drawn; each visit
is checked (no exception, the map drawn, no English in the Chinese view, no sideways
scrolling on a phone, no personal data the role may not see) and photographed.
"""

from __future__ import annotations

import io
import re
import time
from dataclasses import dataclass, field
from ipaddress import ip_address
from urllib.parse import urlparse

from PIL import Image
from playwright.sync_api import BrowserContext, Page
from sqlmodel import Session, select

from gridcore.i18n import catalogues
from gridcore.models import Contact, Resident, User, UserGrid, UserRole, Worker

from .browser_support import MAP_ELEMENT, SCREENSHOTS, Driver, settle

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
# Seconds from a click to the drawn page, per page path, in the order visited by this test
# process (the every-page tests fill it; test_page_times reads it).
VISIT_SECONDS: dict[str, list[float]] = {}
# What those visits saw: each page's heading, and which pages draw a map.
HEADINGS: dict[str, str] = {}
MAP_PAGES: set[str] = set()

# Ready when on `path`, the first heading is new (or the expected one), the run is over, and
# (needsMap) a map is drawn: deck.gl's canvas at a size, or the light map's shapes.
PAGE_READY = """([path, previousHeading, expectedHeading, needsMap]) => {
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
    if (needsMap) {
        const canvas = document.querySelector('[data-testid="stDeckGlJsonChart"] canvas');
        const drawn = canvas && canvas.width > 0 && canvas.height > 0;
        if (!drawn && !document.querySelector('.gc-light-map path')) return false;
    }
    return true;
}"""


@dataclass
class Visit:
    """One page as seen in the browser."""

    name: str
    path: str
    problems: list[str] = field(default_factory=list)


def page_name(path: str) -> str:
    """'/' → 'overview' (the default page), '/map' → 'map'."""
    return path.strip("/").split("/")[-1] or "overview"


def nav_paths(page: Page) -> list[str]:
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


def current_heading(page: Page) -> str:
    heading = page.locator('[data-testid="stMain"] h1').first
    return heading.inner_text().strip() if heading.count() else ""


def go(
    page: Page, path: str, *, expected_heading: str | None = None, has_map: bool | None = None
) -> float:
    """Click the navigation link to `path`; seconds from the click to the rendered page."""
    _show_navigation(page)
    previous = current_heading(page)
    link = page.locator(f'{NAV_LINK}[href$="{path}"]').first
    needs_map = page_name(path) == "map" if has_map is None else has_map
    start = time.perf_counter()
    link.click()
    page.wait_for_function(
        PAGE_READY, arg=[path, previous, expected_heading, needs_map], polling="raf"
    )
    seconds = time.perf_counter() - start
    # A WebGL map's first frame blocks the browser after the page is ready: count it here,
    # not against the page visited next.
    return seconds + settle(page) if page.locator(DECK_CANVAS).count() else seconds


def _english_titles() -> list[str]:
    en = catalogues()["en"]
    return sorted({en[k] for k in en if k.startswith("page.")})


def _map_problems(page: Page, *, webgl: bool) -> list[str]:
    """The map is a deck.gl WebGL canvas (`webgl`) or a light SVG map, of a useful size,
    showing the grids."""
    canvas = page.locator(DECK_CANVAS if webgl else ".gc-light-map")
    if not canvas.count():
        return ["no deck.gl canvas" if webgl else "no light map"]
    box = canvas.first.bounding_box()
    viewport = page.viewport_size or {"width": 0, "height": 0}
    # A light map is as tall as the street is at the column's width (a wide street on a phone
    # is about 250 px); a WebGL map's box keeps the page's height whatever it shows.
    least_height = 300 if webgl else 200
    least_width = 0.8 * min(viewport["width"], 1000)
    if box is None or box["width"] < least_width or box["height"] < least_height:
        return [f"the map is too small: {box}"]
    if not webgl:
        fills = page.locator(".gc-light-map .gc-grid").evaluate_all(
            "els => els.map(e => e.getAttribute('fill'))"
        )
        return [] if len(fills) >= 10 else [f"the light map shows {len(fills)} grids"]
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


def _check_page(page: Page, visit: Visit, *, lang: str, phone: bool, webgl: bool) -> None:
    if page.locator(EXCEPTION).count():
        visit.problems.append("exception: " + page.locator(EXCEPTION).first.inner_text()[:500])
    if visit.name == "map":
        visit.problems += _map_problems(page, webgl=webgl)
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


def record_requests(context: BrowserContext) -> list[str]:
    """Every URL the browser asks for from now on (pages, fetches, fonts, tiles, sockets)."""
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    context.on("websocket", lambda ws: requested.append(ws.url))
    return requested


def outside_hosts(requested: list[str]) -> list[str]:
    assert any("/_stcore/" in url for url in requested), "no request was recorded"
    return sorted({url for url in requested if not is_loopback(url)})


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
    # Stored ID numbers are masked: three characters, stars, the last four.
    found |= set(re.findall(r"[0-9A-Za-z]{3}\*+[0-9A-Za-z]{4}", text)) & data.ids
    return found, found - data.allowed_names - data.allowed_phones


def visit_every_page(
    driver: Driver, viewport: dict[str, int], lang: str, username: str, *, webgl: bool = False
) -> None:
    """Every page in the role's navigation, a screenshot of each, every request recorded;
    the times go to VISIT_SECONDS, the English headings and map pages to HEADINGS and
    MAP_PAGES. The maps are light SVG ones, or with `webgl` deck.gl's (GPU_STAND_IN)."""
    size = f"{viewport['width']}x{viewport['height']}"
    phone = viewport["width"] < 600
    personal = _personal_data_for(driver, username)
    seen: set[str] = set()
    context = driver.new_context(viewport, lang, webgl=webgl)
    requested = record_requests(context)
    try:
        page = context.new_page()
        driver.sign_in(page, lang=lang, username=username)
        paths = nav_paths(page)
        assert len(paths) >= 3, f"navigation offers {paths}"
        if lang == "zh":
            labels = page.locator(NAV_LINK).all_inner_texts()
            assert [t for t in _english_titles() if t in labels] == [], labels
        visits = []
        for path in paths:
            visit = Visit(name=page_name(path), path=path)
            if path != urlparse(page.url).path or visit.name != "overview":
                VISIT_SECONDS.setdefault(path, []).append(go(page, path))
            else:
                driver.wait_for_render(page)
            _check_page(page, visit, lang=lang, phone=phone, webgl=webgl)
            shown, not_allowed = _personal_data_shown(page.locator("body").inner_text(), personal)
            seen |= shown
            if not_allowed:
                visit.problems.append(f"personal data {username} may not see: {not_allowed}")
            if lang == "en":
                HEADINGS[path] = current_heading(page)
                if page.locator(MAP_ELEMENT).count():
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
    assert outside_hosts(requested) == []


def is_loopback(url: str) -> bool:
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
