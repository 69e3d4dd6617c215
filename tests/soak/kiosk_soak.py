"""Kiosk soak: a projector left on for a long time with an accelerated rotation.

Not a test (pytest does not collect this folder: see `norecursedirs` in pyproject.toml); a
measurement, run by hand:

    .venv/bin/python tests/soak/kiosk_soak.py --minutes 30 --port 8821

It seeds the demo street into a SQLite file under /tmp (once; kept for the next run, and
migrated at each), starts
`streamlit run server.py` with the shortest kiosk rotation the settings allow, makes a kiosk
link with `python -m gridcore kiosk-link`, opens it in Chromium at 1280×720 and, every
`--sample-seconds`, records:

- the page, through the DevTools protocol (`Performance.getMetrics`): JS heap used (as is, and
  again after a forced garbage collection: what is really kept), DOM nodes, event listeners,
  documents, frames;
- timers: intervals set and not cleared, and timeouts pending (setInterval/setTimeout are
  counted by a small script added before the page loads);
- the connection: websockets opened (every one after the first is a reconnect), closed, socket
  errors, console errors and page errors, messages sent to the server (each is a run request)
  and received;
- panels drawn (a change of the panel on screen, polled every second);
- the server process's resident memory (RSS, from /proc) and Chromium's (all its processes);
- the machine's load average.

It prints a table and writes JSON (`--json`). "Growing" compares the average of the first
5 minutes' samples with that of the last 5 minutes' (for shorter runs: the first and last
third).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import CDPSession, Page, WebSocket, sync_playwright

from gridcore.bench.server import CHROMIUM, CHROMIUM_ARGS, server_command

ROOT = Path(__file__).resolve().parents[2]
SECRET = "kiosk-soak-secret"
VIEWPORT = {"width": 1280, "height": 720}
# The shortest the settings allow (GRIDCORE_KIOSK_ROTATE_SECONDS, at least 5).
ROTATE_SECONDS = 5
REFRESH_SECONDS = 5

# Counts the page's timers: intervals set and not yet cleared, timeouts not yet fired or
# cleared. Added before any of the page's own scripts run.
TIMER_COUNTER = """
(() => {
  const intervals = new Set(), timeouts = new Set();
  const si = window.setInterval, ci = window.clearInterval;
  const st = window.setTimeout, ct = window.clearTimeout;
  window.setInterval = function (...a) {
    const id = si.apply(this, a);
    intervals.add(id);
    return id;
  };
  window.clearInterval = function (id) { intervals.delete(id); return ci.call(this, id); };
  window.setTimeout = function (fn, ...rest) {
    let id;
    const wrapped = typeof fn === 'function'
      ? function (...x) { timeouts.delete(id); return fn.apply(this, x); }
      : fn;
    id = st.call(this, wrapped, ...rest);
    timeouts.add(id);
    return id;
  };
  window.clearTimeout = function (id) { timeouts.delete(id); return ct.call(this, id); };
  window.__soakTimers = () => ({ intervals: intervals.size, timeouts: timeouts.size });
})();
"""

# Which kiosk panel is on screen (null while a run is half drawn or none is).
PANEL_ON_SCREEN = """() => {
  const q = s => document.querySelector(s);
  if (q('[data-testid="stApp"]')?.getAttribute('data-test-script-state') === 'running') return null;
  if (q('[data-testid="stDeckGlJsonChart"], .gc-light-map')) return 'map';
  if (q('.main-svg')) return 'trend';
  if (q('[data-testid="stTable"]')) return 'testing';
  if (q('.gc-alerts')) return 'alerts';
  if (q('[data-testid="stMetricValue"]')) return 'headline';
  // The alerts panel with none standing, the testing panel with no round: a message.
  if (q('[data-testid="stAlertContainer"]')) return 'message';
  return null;
}"""

# What the live document holds (CDP's Nodes also counts nodes detached but still referenced).
DOCUMENT_COUNTS = """() => ({
  live: document.getElementsByTagName('*').length,
  styles: document.getElementsByTagName('style').length,
  canvases: document.getElementsByTagName('canvas').length,
  svgs: document.getElementsByTagName('svg').length,
  stale: document.querySelectorAll('[data-stale="true"]').length,
})"""

METRICS = ("JSHeapUsedSize", "JSHeapTotalSize", "Nodes", "JSEventListeners", "Documents", "Frames")


@dataclass
class Connection:
    """What the page's websockets and console said."""

    opened: int = 0
    closed: int = 0
    socket_errors: int = 0
    sent: int = 0
    received: int = 0
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("websocket", self._socket)
        page.on(
            "console",
            lambda m: self.console_errors.append(m.text[:200]) if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: self.page_errors.append(str(e)[:200]))

    def _socket(self, ws: WebSocket) -> None:
        self.opened += 1
        ws.on("close", lambda _: setattr(self, "closed", self.closed + 1))
        ws.on("socketerror", lambda _: setattr(self, "socket_errors", self.socket_errors + 1))
        ws.on("framesent", lambda _: setattr(self, "sent", self.sent + 1))
        ws.on("framereceived", lambda _: setattr(self, "received", self.received + 1))


@dataclass
class Panels:
    """Panel changes seen on screen."""

    drawn: int = 0
    current: str | None = None
    seen: dict[str, int] = field(default_factory=dict)

    def poll(self, page: Page) -> None:
        name = page.evaluate(PANEL_ON_SCREEN)
        if name and name != self.current:
            self.current = name
            self.drawn += 1
            self.seen[name] = self.seen.get(name, 0) + 1


def rss_mb(pid: int, key: str = "VmRSS:", source: str = "status") -> float:
    """Resident memory of one process, in MB (0 when it has gone)."""
    try:
        for line in Path(f"/proc/{pid}/{source}").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def pss_mb(pid: int) -> float:
    """Proportional memory of one process (shared pages divided among their sharers), MB."""
    return rss_mb(pid, "Pss:", "smaps_rollup")


def descendants(pid: int) -> list[int]:
    """Every process below `pid`."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def chromium_pss_mb() -> float:
    """Memory of every Chromium process this script started: their proportional set sizes
    summed (RSS would count every shared page once per process)."""
    total = 0.0
    for pid in descendants(os.getpid()):
        try:
            name = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            continue
        if "chrom" in name:
            total += pss_mb(pid)
    return total


def seed(database: Path) -> None:
    """The demo street in `database`: seeded once, brought up to the current schema after."""
    database.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{database}", GRIDCORE_SECRET_KEY=SECRET)
    command = [sys.executable, "-m", "gridcore", "init", "--demo", "street"]
    subprocess.run(command, cwd=ROOT, env=env, check=True)


def start_server(database: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{database}",
        GRIDCORE_SECRET_KEY=SECRET,
        GRIDCORE_KIOSK_ROTATE_SECONDS=str(ROTATE_SECONDS),
        GRIDCORE_REFRESH_SECONDS=str(REFRESH_SECONDS),
    )
    command = server_command(port)
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the app stopped (exit {process.returncode}); see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.read().decode().strip() == "ok":
                    return process
        except OSError:
            pass
        time.sleep(0.5)
    process.terminate()
    raise SystemExit(f"the app was not healthy after 90 s; see {log}")


def kiosk_link(database: Path, port: int, hours: int) -> str:
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{database}",
        GRIDCORE_SECRET_KEY=SECRET,
        GRIDCORE_LANGUAGE="en",
    )
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "gridcore",
            "kiosk-link",
            "--hours",
            str(hours),
            "--label",
            "soak",
            "--base-url",
            f"http://127.0.0.1:{port}",
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


def page_metrics(cdp: CDPSession) -> dict[str, float]:
    got = cdp.send("Performance.getMetrics")
    return {m["name"]: m["value"] for m in got["metrics"] if m["name"] in METRICS}


def sample(
    page: Page,
    cdp: CDPSession,
    server_pid: int,
    connection: Connection,
    panels: Panels,
    started: float,
) -> dict[str, Any]:
    before_gc = page_metrics(cdp)
    cdp.send("HeapProfiler.collectGarbage")
    after_gc = page_metrics(cdp)
    timers = page.evaluate("() => window.__soakTimers ? window.__soakTimers() : null") or {}
    document = page.evaluate(DOCUMENT_COUNTS)
    server = rss_mb(server_pid) + sum(rss_mb(p) for p in descendants(server_pid))
    return {
        "minute": round((time.monotonic() - started) / 60, 2),
        "heap_mb": round(before_gc.get("JSHeapUsedSize", 0) / 2**20, 2),
        "heap_after_gc_mb": round(after_gc.get("JSHeapUsedSize", 0) / 2**20, 2),
        "heap_total_mb": round(after_gc.get("JSHeapTotalSize", 0) / 2**20, 2),
        "panel": panels.current,
        "nodes": int(after_gc.get("Nodes", 0)),
        "dom_live": document["live"],
        "styles": document["styles"],
        "canvases": document["canvases"],
        "stale": document["stale"],
        "listeners": int(after_gc.get("JSEventListeners", 0)),
        "documents": int(after_gc.get("Documents", 0)),
        "frames": int(after_gc.get("Frames", 0)),
        "intervals": timers.get("intervals"),
        "timeouts": timers.get("timeouts"),
        "ws_opened": connection.opened,
        "reconnects": max(0, connection.opened - 1),
        "ws_closed": connection.closed,
        "ws_errors": connection.socket_errors,
        "console_errors": len(connection.console_errors),
        "page_errors": len(connection.page_errors),
        "runs_requested": connection.sent,
        "messages_received": connection.received,
        "panels_drawn": panels.drawn,
        "server_rss_mb": round(server, 1),
        "chromium_pss_mb": round(chromium_pss_mb(), 1),
        "load_1m": round(os.getloadavg()[0], 2),
    }


COLUMNS = (
    ("minute", "min", 6),
    ("heap_mb", "heap", 7),
    ("heap_after_gc_mb", "heap-gc", 8),
    ("panel", "panel", 8),
    ("nodes", "nodes", 6),
    ("dom_live", "live", 5),
    ("styles", "css", 4),
    ("listeners", "listen", 7),
    ("documents", "docs", 5),
    ("frames", "frm", 4),
    ("intervals", "intv", 5),
    ("timeouts", "tmo", 4),
    ("reconnects", "recon", 6),
    ("ws_errors", "wserr", 6),
    ("console_errors", "cerr", 5),
    ("runs_requested", "runs", 6),
    ("panels_drawn", "panels", 7),
    ("server_rss_mb", "srv-MB", 8),
    ("chromium_pss_mb", "chr-MB", 8),
    ("load_1m", "load", 6),
)


def row(values: dict[str, Any] | None) -> str:
    if values is None:
        return " ".join(f"{title:>{width}}" for _, title, width in COLUMNS)
    return " ".join(f"{values.get(key)!s:>{width}}" for key, _, width in COLUMNS)


# A figure "grows" when its last window's average is above its first window's by more than
# both of these (noise from one panel to the next is larger than a few per cent).
GROWTH_SHARE = 0.10
GROWTH_FLOOR = {
    "heap_after_gc_mb": 2.0,
    "nodes": 200,
    "dom_live": 100,
    "styles": 5,
    "listeners": 50,
    "documents": 1,
    "frames": 1,
    "intervals": 2,
    "server_rss_mb": 30.0,
    "chromium_pss_mb": 50.0,
}


def verdict(samples: list[dict[str, Any]], window_minutes: float) -> dict[str, Any]:
    """First window's average against the last window's, per figure."""
    last_minute = samples[-1]["minute"]
    window = min(window_minutes, last_minute / 3) if last_minute else 0
    first = [s for s in samples if s["minute"] <= window] or samples[:1]
    last = [s for s in samples if s["minute"] >= last_minute - window] or samples[-1:]
    out: dict[str, Any] = {"window_minutes": round(window, 2)}
    for key, floor in GROWTH_FLOOR.items():
        a = statistics.fmean(s[key] or 0 for s in first)
        b = statistics.fmean(s[key] or 0 for s in last)
        grows = b - a > max(floor, GROWTH_SHARE * abs(a))
        out[key] = {"first": round(a, 2), "last": round(b, 2), "growing": grows}
    out["growing"] = [k for k in GROWTH_FLOOR if out[k]["growing"]]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--port", type=int, default=8821)
    parser.add_argument("--sample-seconds", type=float, default=60)
    parser.add_argument("--database", type=Path, default=Path("/tmp/gridcore-soak/street.db"))
    parser.add_argument("--json", type=Path, default=Path("/tmp/gridcore-soak/kiosk_soak.json"))
    parser.add_argument("--lang", choices=("en", "zh"), default="en")
    args = parser.parse_args()

    seed(args.database)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    log = args.json.with_suffix(".server.log")
    server = start_server(args.database, args.port, log)
    samples: list[dict[str, Any]] = []
    connection, panels = Connection(), Panels()
    try:
        url = kiosk_link(args.database, args.port, hours=max(2, int(args.minutes / 60) + 2))
        if args.lang == "zh":
            url += "&lang=zh"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            context = browser.new_context(
                viewport=VIEWPORT,
                locale="zh-CN" if args.lang == "zh" else "en-GB",
                timezone_id="Asia/Shanghai",
            )
            context.add_init_script(TIMER_COUNTER)
            page = context.new_page()
            page.set_default_timeout(120_000)
            connection.watch(page)
            cdp = context.new_cdp_session(page)
            cdp.send("Performance.enable")
            page.goto(url)
            page.locator(
                '[data-testid="stMetricValue"], [data-testid="stDeckGlJsonChart"], '
                ".gc-light-map, .main-svg, "
                '[data-testid="stTable"], .gc-alerts'
            ).first.wait_for(state="visible")
            started = time.monotonic()
            end = started + args.minutes * 60
            next_sample = started
            print(
                f"kiosk soak: {args.minutes:g} min, rotation {ROTATE_SECONDS} s, "
                f"{VIEWPORT['width']}×{VIEWPORT['height']}, server pid {server.pid}",
                flush=True,
            )
            print(row(None), flush=True)
            while True:
                now = time.monotonic()
                if now >= next_sample:
                    samples.append(sample(page, cdp, server.pid, connection, panels, started))
                    print(row(samples[-1]), flush=True)
                    args.json.write_text(json.dumps({"samples": samples}, indent=1))
                    next_sample += args.sample_seconds
                    if now >= end:
                        break
                panels.poll(page)
                page.wait_for_timeout(1000)
            browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
    result = {
        "settings": {
            "minutes": args.minutes,
            "rotate_seconds": ROTATE_SECONDS,
            "refresh_seconds": REFRESH_SECONDS,
            "viewport": VIEWPORT,
            "lang": args.lang,
            "database": str(args.database),
        },
        "samples": samples,
        "panels_seen": panels.seen,
        "console_errors": connection.console_errors[:50],
        "page_errors": connection.page_errors[:50],
        "verdict": verdict(samples, window_minutes=5) if samples else None,
    }
    args.json.write_text(json.dumps(result, indent=1))
    print(json.dumps({"verdict": result["verdict"], "panels_seen": panels.seen}, indent=1))
    print(f"written: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
