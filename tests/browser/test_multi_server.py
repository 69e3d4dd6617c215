"""A district on two app servers: a write made through one is on the other at its next refresh.

Two `streamlit run server.py` processes share one PostgreSQL database holding the tiny world;
when Debian's nginx is installed they sit behind it, configured from the repository's own
deploy/nginx-gridcore.conf (rendered with this test's ports), with one browser routed to each
server by its routing cookie. A leader taps "Sampled" on the roll call served by server A;
the roll call open on server B, refreshing itself every REFRESH_SECONDS, must drop that
resident at the first refresh it asks for after the write: server B's cached results are
forgotten because the write raised the data version (ui/data.py), not because they aged.

Ports: free loopback ports, or GRIDCORE_MULTI_SERVER_PORTS="A,B,PROXY" on a shared machine.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import PG_SERVER
from playwright.sync_api import Browser, BrowserContext, Page, Playwright
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from gridcore import migrate
from gridcore.config import local_today
from gridcore.db import make_engine
from gridcore.demo import DEMO_PASSWORD, seed
from gridcore.models import Area, AreaLevel, User, UserGrid
from gridcore.queries import testing as tq

from .browser_support import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    RENDER_TIMEOUT_MS,
    ROOT,
    SCREENSHOTS,
    WAIT_FOR_IDLE,
    free_port,
    start_server,
    stop,
    wait_healthy,
)

pytestmark = [pytest.mark.browser, pytest.mark.pg]

REFRESH_SECONDS = 3
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
TEMPLATE = ROOT / "deploy" / "nginx-gridcore.conf"
ROUTE_COOKIE = "gridcore_route"
EXCEPTION = '[data-testid="stException"]'


@dataclass(frozen=True)
class District:
    """Two app servers on one database, and the addresses a browser uses to reach each."""

    engine: Engine
    servers: tuple[str, str]  # each server's own address
    entrances: tuple[str, str]  # the address a browser opens to be served by each
    route_keys: tuple[str | None, str | None]  # the routing cookie that leads to each (proxy)
    access_log: Path | None  # the proxy's: routing key and upstream of every request


def _ports() -> tuple[int, int, int]:
    given = os.environ.get("GRIDCORE_MULTI_SERVER_PORTS")
    if given:
        a, b, proxy = (int(p) for p in given.split(","))
        return a, b, proxy
    return free_port(), free_port(), free_port()


def render_nginx_config(template: str, *, upstreams: list[int], listen: int) -> str:
    """The repository's nginx site with its upstream servers and listening port replaced."""
    lines = "".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;\n" for p in upstreams)
    rendered, servers = re.subn(r"(    server 127\.0\.0\.1:\d+[^\n]*\n)+", lines, template)
    rendered, listens = re.subn(r"listen 80;", f"listen 127.0.0.1:{listen};", rendered)
    assert servers == 1 and listens == 1, "deploy/nginx-gridcore.conf changed shape"
    return rendered


def _start_nginx(folder: Path, servers: list[int], port: int) -> subprocess.Popen[bytes]:
    """nginx in the foreground, everything of its own under `folder`."""
    (folder / "gridcore.conf").write_text(
        render_nginx_config(TEMPLATE.read_text(), upstreams=servers, listen=port)
    )
    user = "user root;\n" if os.geteuid() == 0 else ""  # its temp files live in our folder
    (folder / "nginx.conf").write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {folder}/nginx.pid;\n"
        f"error_log {folder}/error.log warn;\nevents {{ worker_connections 256; }}\n"
        "http {\n"
        f"    log_format route '$cookie_{ROUTE_COOKIE} $upstream_addr $request_uri';\n"
        f"    access_log {folder}/access.log route;\n"
        + "".join(
            f"    {kind}_temp_path {folder}/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )  # fmt: skip
        + f"    include {folder}/gridcore.conf;\n}}\n"
    )
    command = [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", "stderr"]
    log = ARTIFACTS / "nginx-multi-server.log"
    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)


def _upstream_of(proxy: str, access_log: Path, cookie: str | None) -> tuple[str, str | None]:
    """Which server the proxy sends a request with routing `cookie` to, and the cookie it sets.

    The request is told apart in the access log by an address of its own: the line of an
    earlier request (the health wait's) can be written after this one was sent."""
    _PROBES.append(len(_PROBES))
    uri = f"/_stcore/health?probe={os.getpid()}-{_PROBES[-1]}"
    request = urllib.request.Request(f"{proxy}{uri}")
    if cookie is not None:
        request.add_header("Cookie", f"{ROUTE_COOKIE}={cookie}")
    with urllib.request.urlopen(request, timeout=10) as response:
        set_cookie = next(
            (c for c in response.headers.get_all("Set-Cookie") or [] if c.startswith(ROUTE_COOKIE)),
            None,
        )
    deadline = time.monotonic() + 10
    while not (mine := [f for f in _lines(access_log) if f[-1] == uri]):
        assert time.monotonic() < deadline, f"{uri} is not in nginx's access log"
        time.sleep(0.01)  # nginx logs a request just after answering it
    return mine[0][1], set_cookie


# The probes sent so far (each has an address of its own).
_PROBES: list[int] = []


def _lines(access_log: Path) -> list[list[str]]:
    return [line.split() for line in access_log.read_text().splitlines() if line.strip()]


def _route_keys(proxy: str, access_log: Path, servers: list[int]) -> tuple[str, str]:
    """A routing cookie leading to each server, found by asking (nginx's hash is its own)."""
    # A browser without the cookie is given one, which leads it back to the same server.
    first, set_cookie = _upstream_of(proxy, access_log, None)
    assert set_cookie is not None and "HttpOnly" in set_cookie, set_cookie
    given = set_cookie.split(";")[0].split("=", 1)[1]
    again, set_again = _upstream_of(proxy, access_log, given)
    assert again == first and set_again is None
    keys: dict[str, str] = {}
    for number in range(64):
        upstream, _ = _upstream_of(proxy, access_log, f"route-{number}")
        keys.setdefault(upstream, f"route-{number}")
        if len(keys) == 2:
            break
    return keys[f"127.0.0.1:{servers[0]}"], keys[f"127.0.0.1:{servers[1]}"]


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Iterator[District]:
    """A PostgreSQL database with the tiny world, two app servers on it, nginx if installed."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    name = f"gridcore_multi_{os.getpid()}"
    try:
        admin = make_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # no server: the PostgreSQL tests are skipped, and say why
        pytest.skip(f"PostgreSQL not reachable at {PG_SERVER}: {type(exc).__name__}")
    url = f"{PG_SERVER}/{name}"
    engine = make_engine(url)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        migrate.upgrade(engine)
        # The story ends yesterday: its current round began then, whatever the hour now (on
        # today's story a run after local midnight comes before the round's start).
        seed(engine=engine, scale="tiny", anchor=local_today() - timedelta(days=1))
        port_a, port_b, proxy_port = _ports()
        # The map as a browser without a GPU gets it by itself (this Chromium draws WebGL in
        # software): the light map, checked below.
        environment = {
            "GRIDCORE_REFRESH_SECONDS": str(REFRESH_SECONDS),
            "GRIDCORE_MAP_RENDERER": "auto",
        }
        servers = (f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}")
        logs = [ARTIFACTS / f"streamlit-multi-server-{n}.log" for n in "ab"]
        for port, log in zip((port_a, port_b), logs, strict=True):
            processes.append(start_server(url, port=port, log=log, **environment))
        for server, process, log in zip(servers, processes, logs, strict=True):
            wait_healthy(server, process, log, timeout=90)
        if not Path(NGINX).exists():
            yield District(engine, servers, servers, (None, None), None)
            return
        folder = tmp_path_factory.mktemp("nginx")
        processes.append(_start_nginx(folder, [port_a, port_b], proxy_port))
        proxy = f"http://127.0.0.1:{proxy_port}"
        wait_healthy(proxy, processes[-1], ARTIFACTS / "nginx-multi-server.log", timeout=20)
        keys = _route_keys(proxy, folder / "access.log", [port_a, port_b])
        yield District(engine, servers, (proxy, proxy), keys, folder / "access.log")
    finally:
        for process in reversed(processes):
            stop(process)
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Chromium for this module alone (the suite's own browser comes with the demo street)."""
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


def _context(browser: Browser, district: District, server: int) -> BrowserContext:
    """A browser profile that the proxy (if any) sends to server `server` (0 is A, 1 is B)."""
    context = browser.new_context(viewport=DESKTOP, locale="en-GB", timezone_id="Asia/Shanghai")
    context.set_default_timeout(RENDER_TIMEOUT_MS)
    key = district.route_keys[server]
    if key is not None:
        context.add_cookies([{"name": ROUTE_COOKIE, "value": key, "url": district.entrances[0]}])
    return context


def _wait_for_render(page: Page) -> None:
    page.wait_for_timeout(200)
    page.wait_for_function(WAIT_FOR_IDLE, timeout=RENDER_TIMEOUT_MS, polling=50)


def _wait_for_cookie(page: Page, context: BrowserContext) -> None:
    """Until the page has exchanged its sign-in ticket for the session cookie."""
    for _ in range(200):
        if any(c["name"] == "gridcore_session" for c in context.cookies()):
            return
        page.wait_for_timeout(50)
    raise AssertionError("no session cookie after sign-in")


def _roll_call(district: District) -> str:
    """The worker's grid (whose roll call lists people) and the current round."""
    with Session(district.engine) as s:
        user = s.exec(select(User).where(User.username == "worker")).one()
        grid_id = s.exec(select(UserGrid.grid_id).where(UserGrid.user_id == user.id)).one()
        grid = s.get(Area, grid_id)
        round_id = tq.current_round_id(session=s)
    assert grid is not None and round_id is not None
    return f"/roll-call?grid={grid.code}&round={round_id}"


def test_a_write_through_one_server_is_on_the_other_at_its_next_refresh(
    browser: Browser, district: District
) -> None:
    path = _roll_call(district)
    contexts = [_context(browser, district, n) for n in (0, 1)]
    try:
        pages = [context.new_page() for context in contexts]
        # Every frame B's page sends its server asks for a run: once signed in, its refreshes.
        asked: list[float] = []
        pages[1].on("websocket", lambda ws: ws.on("framesent", lambda _: asked.append(1)))
        # Signed in on the front page: a fresh server's first run knows no other page yet.
        for page, entrance in zip(pages, district.entrances, strict=True):
            page.goto(entrance)
        for page in pages:  # both servers work at once
            _wait_for_render(page)
            page.locator(".st-key-signin_username input").fill("leader")
            page.locator(".st-key-signin_password input").fill(DEMO_PASSWORD)
            page.locator('[data-testid="stFormSubmitButton"] button').click()
        for page, context, entrance in zip(pages, contexts, district.entrances, strict=True):
            page.locator('[data-testid="stSidebarNavLink"]').first.wait_for(state="attached")
            _wait_for_cookie(page, context)
            page.goto(f"{entrance}{path}")  # signed in by the session cookie
        buttons = [page.locator('[class*="st-key-rc_s_"]') for page in pages]
        for listed in buttons:
            listed.first.wait_for(state="visible")
        page_a, page_b = pages
        key = next(
            c
            for c in (buttons[0].first.get_attribute("class") or "").split()
            if c.startswith("st-key-rc_s_")
        )
        assert page_b.locator(f".{key}").count() == 1  # B lists the same resident

        page_a.locator(f".{key} button").click()
        # Written, and A shows it: the button is gone, the old one kept while A redraws too.
        page_a.wait_for_function("key => !document.querySelector('.' + key)", arg=key)
        written, before = time.monotonic(), len(asked)
        # Gone from B before B asks for its second refresh after the write: the first one
        # (or one already under way) showed it. A cache forgotten only when its results aged
        # (35 s by default, 5 s here) would show the old list at that first refresh.
        while page_b.locator(f".{key}").count():
            assert len(asked) - before < 2, "B's next refresh still listed the resident"
            assert time.monotonic() - written < 4 * REFRESH_SECONDS, "B stopped refreshing"
            page_b.wait_for_timeout(20)
        seen = time.monotonic() - written
        page_b.screenshot(path=SCREENSHOTS / "multi-server-b-after-write.png")
        assert page_a.locator(EXCEPTION).count() == page_b.locator(EXCEPTION).count() == 0
        print(f"\nwrite on A to gone on B: {seen:.2f} s (refresh every {REFRESH_SECONDS} s)")
    finally:
        for context in contexts:
            context.close()
    if district.access_log is not None:
        # Sticky: every request of each browser (pages, scripts, WebSocket) went to its server.
        lines = _lines(district.access_log)
        for key_of, server in zip(district.route_keys, district.servers, strict=True):
            upstreams = {fields[1] for fields in lines if fields[0] == key_of}
            assert upstreams == {server.removeprefix("http://")}, upstreams


def test_without_a_gpu_the_map_is_drawn_light_and_a_click_opens_a_grid(
    browser: Browser, district: District
) -> None:
    """Where the browser draws WebGL in software the app draws its maps as SVG by itself, in
    the same colours, and a click on a grid opens it."""
    with Session(district.engine) as s:
        codes = set(s.exec(select(Area.code).where(Area.level == AreaLevel.grid)).all())
    context = _context(browser, district, 0)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(district.entrances[0])
        _wait_for_render(page)
        page.locator(".st-key-signin_username input").fill("leader")
        page.locator(".st-key-signin_password input").fill(DEMO_PASSWORD)
        page.locator('[data-testid="stFormSubmitButton"] button').click()
        page.locator('[data-testid="stSidebarNavLink"]').first.wait_for(state="attached")
        _wait_for_cookie(page, context)
        page.goto(f"{district.entrances[0]}/map")
        grids = page.locator(".gc-light-map .gc-grid")
        grids.first.wait_for(state="visible")
        _wait_for_render(page)
        drawn = grids.evaluate_all("els => els.map(e => e.dataset.code)")
        assert set(drawn) == codes, drawn
        assert page.locator('[data-testid="stDeckGlJsonChart"]').count() == 0
        fills = grids.evaluate_all("els => els.map(e => e.getAttribute('fill'))")
        assert all(fill.startswith("rgb(") for fill in fills), fills
        page.screenshot(path=SCREENSHOTS / "light-map-en-1920x1080.png")
        grids.first.click()
        page.wait_for_url("**/grid?grid=*", timeout=RENDER_TIMEOUT_MS)
        _wait_for_render(page)
        assert page.url.split("grid=")[-1] == drawn[0]
        assert page.locator(EXCEPTION).count() == 0 and errors == []
    finally:
        context.close()
