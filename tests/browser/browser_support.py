"""What the browser tests share: sizes, paths, the running app, and a driver for Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page
from sqlalchemy.engine import Engine

# Chromium and its flags, and the health wait, are the product's own (the benchmark and the
# kiosk soak drive the same browser and server).
from gridcore.bench.server import CHROMIUM as CHROMIUM
from gridcore.bench.server import CHROMIUM_ARGS as CHROMIUM_ARGS
from gridcore.bench.server import IDLE, server_command
from gridcore.bench.server import wait_healthy as wait_healthy
from gridcore.config import day_bounds_utc, get_settings, local_today
from gridcore.demo import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
SECRET = "browser-test-kiosk-secret"
# The shortest rotation the settings allow, so a test sees every kiosk panel quickly.
KIOSK_ROTATE_SECONDS = 5
DESKTOP = {"width": 1920, "height": 1080}
PHONE = {"width": 390, "height": 844}
RENDER_TIMEOUT_MS = 60_000
# A page with a WebGL map counts until the map is drawn (settle), and this Chromium has no
# GPU: each new map blocks its main thread for 0.1 s to 14 s (measured) while the software
# renderer draws the first frame (ReadPixels waiting on SwiftShader), whatever the map shows.
# That says nothing of a real screen, so such pages are held to this bound instead.
MAP_PAGE_TIME_LIMIT_S = 15.0


@dataclass(frozen=True)
class StreetApp:
    """The running app and the database behind it."""

    base_url: str
    engine: Engine
    secret: str


def next_local_midnight() -> datetime:
    """The UTC instant at which today, in the deployment's time zone, ends."""
    return day_bounds_utc(local_today(), get_settings().tz)[1]


def clear_of_local_midnight(margin: timedelta = timedelta(minutes=3)) -> None:
    """Wait out the local midnight if it falls within `margin` from now.

    For a test that works out "today" before a page writes with the server's today: across the
    midnight the two would differ by a day.
    """
    now = datetime.now(UTC)
    midnight = next_local_midnight()
    if midnight - now < margin:
        time.sleep((midnight - now).total_seconds() + 1)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    database_url: str, *, port: int, log: Path, **environment: str
) -> subprocess.Popen[bytes]:
    """Start `streamlit run server.py` on loopback `port` (not waiting for it: wait_healthy)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        GRIDCORE_SECRET_KEY=SECRET,
        GRIDCORE_KIOSK_ROTATE_SECONDS=str(KIOSK_ROTATE_SECONDS),
        # As deployed: each browser says whether its WebGL is drawn in software (this
        # Chromium's is, and gets the light SVG maps); a test of the WebGL map opens its
        # browser profile with `webgl=True` (GPU_STAND_IN).
        GRIDCORE_MAP_RENDERER="auto",
    )
    env.update(environment)
    with log.open("wb") as out:
        return subprocess.Popen(
            server_command(port), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    """End a process this test started: asked first, killed when it does not end."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


@contextmanager
def serve(database_url: str, *, log_name: str, **environment: str) -> Iterator[str]:
    """Run `streamlit run server.py` (app.py and the session-cookie routes) on a free loopback
    port; yield its base URL."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = ARTIFACTS / log_name
    process = start_server(database_url, port=port, log=log, **environment)
    try:
        wait_healthy(base_url, process, log, timeout=90)
        yield base_url
    finally:
        stop(process)


WAIT_FOR_IDLE = IDLE


# Resolves once the page has drawn frames without a pause for QUIET_S: the main thread is free
# again, a WebGL map's first (software-rendered) frame included.
QUIET_S = 0.5
SETTLED = """(quietMs) => new Promise(resolve => {
    const begin = performance.now();
    let last = begin, quiet = 0;
    function tick(now) {
        const gap = now - last;
        last = now;
        quiet = gap < 100 ? quiet + gap : 0;
        if (quiet >= quietMs || now - begin > 60000) resolve(true);
        else requestAnimationFrame(tick);
    }
    requestAnimationFrame(tick);
})"""


def settle(page: Page) -> float:
    """Wait until the page draws smoothly again; the seconds that took, the quiet window not."""
    start = time.perf_counter()
    page.evaluate(SETTLED, QUIET_S * 1000)
    return max(0.0, time.perf_counter() - start - QUIET_S)


# A drawn map, whichever the browser got: deck.gl's WebGL canvas or the light SVG map's shapes.
MAP_DRAWN = '[data-testid="stDeckGlJsonChart"] canvas, .gc-light-map path'
MAP_ELEMENT = '[data-testid="stDeckGlJsonChart"], .gc-light-map'

# A browser profile that stands for one with a graphics card: WebGL still draws in software
# here, but the renderer's name the app asks for (gridcore/ui/lightmap.py: WEBGL_PROBE_JS)
# is a GPU's, so the app sends its deck.gl maps.
GPU_STAND_IN = """(() => {
    const RENDERER = 0x1F01, UNMASKED_RENDERER = 0x9246;
    for (const type of [self.WebGLRenderingContext, self.WebGL2RenderingContext]) {
        if (!type) continue;
        const getParameter = type.prototype.getParameter;
        type.prototype.getParameter = function (name) {
            if (name === RENDERER || name === UNMASKED_RENDERER) return "ANGLE (test GPU)";
            return getParameter.call(this, name);
        };
    }
})();"""


@dataclass(frozen=True)
class Driver:
    """What a browser test does with the app: profiles, waiting for renders, signing in."""

    browser: Browser
    app: StreetApp

    @property
    def base_url(self) -> str:
        return self.app.base_url

    def new_context(
        self, viewport: dict[str, int], lang: str = "en", *, webgl: bool = False
    ) -> BrowserContext:
        """A fresh browser profile at `viewport` (a phone size gets touch and a phone's scale).

        Its maps are the light SVG ones this GPU-less Chromium gets; `webgl=True` stands in
        for a browser with a GPU, which gets deck.gl's WebGL maps."""
        phone = viewport["width"] < 600
        context = self.browser.new_context(
            viewport=viewport,
            device_scale_factor=2 if phone else 1,
            is_mobile=phone,
            has_touch=phone,
            locale="zh-CN" if lang == "zh" else "en-GB",
            timezone_id="Asia/Shanghai",
        )
        context.set_default_timeout(RENDER_TIMEOUT_MS)
        if webgl:
            context.add_init_script(GPU_STAND_IN)
        return context

    def wait_for_render(self, page: Page, timeout_ms: int = RENDER_TIMEOUT_MS) -> None:
        """Wait as Streamlit's end-to-end suite does: connected, script done, nothing pending."""
        page.wait_for_timeout(200)
        page.wait_for_function(WAIT_FOR_IDLE, timeout=timeout_ms, polling=50)

    def sign_in(self, page: Page, *, lang: str, username: str = "leader") -> None:
        """Open the app in `lang` and sign in through the form in the main area."""
        page.goto(f"{self.base_url}/?lang={lang}")
        self.wait_for_render(page)
        page.locator(".st-key-signin_username input").fill(username)
        page.locator(".st-key-signin_password input").fill(DEMO_PASSWORD)
        page.locator('[data-testid="stFormSubmitButton"] button').click()
        page.locator('[data-testid="stSidebarNavLink"]').first.wait_for(state="attached")
        self.wait_for_render(page)
