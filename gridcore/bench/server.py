"""The web server's memory with 1 and with 20 sessions.

`streamlit run server.py` is started on a free port of the given range against the same
database; headless Chromium (Playwright, Debian's /usr/bin/chromium) signs in as the demo
leader in one page, then opens more pages in the same profile, which the session cookie
signs in: each page is one Streamlit session of its own, on a page of the app in turn
(their query results are shared between sessions, as on a real server). The server's
resident memory is read from /proc after every session has finished rendering.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gridcore.bench.machine import rss_mb
from gridcore.demo import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
# Headless Debian Chromium as GridCore's browser checks run it (the tests, the kiosk soak).
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
# Maps are drawn by the browser alone; without WebGL this machine's CPU is left to the
# server, whose memory is what is measured.
BENCH_CHROMIUM_ARGS = [*CHROMIUM_ARGS, "--disable-3d-apis"]
# The app's pages in turn, by their address (app.py's PAGES).
PATHS = ("overview", "map", "grid", "cases", "testing", "desk", "roll-call", "zones",
         "supplies", "data", "requests", "my-tasks", "workforce")  # fmt: skip
# Streamlit has drawn the page and is idle (as Streamlit's own end-to-end suite waits).
IDLE = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return !!app
        && app.getAttribute('data-test-connection-state') === 'CONNECTED'
        && app.getAttribute('data-test-script-state') === 'notRunning'
        && !document.querySelector('[data-testid="stSkeleton"]')
        && !document.querySelector('[data-stale="true"]');
}"""
RENDER_TIMEOUT_MS = 180_000


def free_port(ports: range) -> int:
    """The first port of `ports` nothing listens on."""
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")


def wait_healthy(
    base_url: str,
    process: subprocess.Popen[bytes],
    log: Path | None = None,
    timeout: float = 90,
) -> None:
    """Wait until the app at `base_url` answers its health check (its log, if any, in the
    error when it stops or does not answer)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            said = f":\n{log.read_text()}" if log else ""
            raise RuntimeError(f"the server stopped (exit {process.returncode}){said}")
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as response:
                if response.read().decode().strip() == "ok":
                    return
        except OSError:
            pass
        time.sleep(0.3)
    said = f":\n{log.read_text()}" if log else ""
    raise RuntimeError(f"the server was not healthy after {timeout:.0f} s{said}")


def server_command(port: int) -> list[str]:
    """`streamlit run server.py` on loopback `port`, headless, watching no files."""
    return [
        sys.executable, "-m", "streamlit", "run", "server.py",
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.headless", "true", "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip


@contextmanager
def serving(database_url: str, port: int, log: Path) -> Iterator[tuple[str, int]]:
    """`streamlit run server.py` on 127.0.0.1:`port`; its base URL and process id."""
    env = dict(os.environ, DATABASE_URL=database_url)
    with log.open("wb") as out:
        process = subprocess.Popen(
            server_command(port), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_healthy(base_url, process, timeout=120)
        yield base_url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def _rendered(page: Any) -> bool:
    """Wait until the tab has rendered; False when it still had not after the timeout."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.wait_for_timeout(200)
    try:
        page.wait_for_function(IDLE, timeout=RENDER_TIMEOUT_MS, polling=100)
    except PlaywrightTimeout:
        return False
    return True


def measure(
    database_url: str, *, ports: range, sessions: tuple[int, ...], log: Path
) -> dict[str, Any]:
    """The server's RSS idle and with each number of `sessions` open (MB)."""
    from playwright.sync_api import sync_playwright

    figures: dict[str, Any] = {"client": "playwright-chromium", "sessions": {}}
    port = free_port(ports)
    with serving(database_url, port, log) as (base_url, pid), sync_playwright() as p:
        figures["port"] = port
        figures["idle_mb"] = rss_mb(pid)
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=BENCH_CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            context.set_default_timeout(RENDER_TIMEOUT_MS)
            first = context.new_page()
            first.goto(f"{base_url}/?lang=en")
            first.locator(".st-key-signin_username input").wait_for()
            first.locator(".st-key-signin_username input").fill("leader")
            first.locator(".st-key-signin_password input").fill(DEMO_PASSWORD)
            first.locator('[data-testid="stFormSubmitButton"] button').click()
            first.locator('[data-testid="stSidebarNavLink"]').first.wait_for(state="attached")
            _rendered(first)
            pages = [first]
            for wanted in sessions:
                started = time.perf_counter()
                while len(pages) < wanted:
                    page = context.new_page()
                    page.goto(f"{base_url}/{PATHS[len(pages) % len(PATHS)]}?lang=en")
                    pages.append(page)
                # A tab still rendering after the timeout is counted, not fatal: what is
                # measured is the memory its session holds.
                unfinished = sum(0 if _rendered(page) else 1 for page in pages)
                if not pages[-1].locator('[data-testid="stSidebarNavLink"]').count():
                    raise RuntimeError("a new page was not signed in by the session cookie")
                time.sleep(1.0)  # let the server settle after the last render
                figures["sessions"][str(wanted)] = {
                    "rss_mb": rss_mb(pid),
                    "open_seconds": time.perf_counter() - started,
                    "still_rendering": unfinished,
                }
            context.close()
        finally:
            browser.close()
    return figures
