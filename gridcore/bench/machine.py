"""The machine and the database a benchmark ran on: CPU, memory, load, size, row counts."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from gridcore.models import Area, Case, Household, Resident, StockMovement, TestRecord, TestRound

# The tables whose sizes say what a run measured.
COUNTED = {
    "areas": Area,
    "households": Household,
    "residents": Resident,
    "test_rounds": TestRound,
    "test_records": TestRecord,
    "cases": Case,
    "stock_movements": StockMovement,
}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_total_mb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return [0.0, 0.0, 0.0]


def rss_mb(pid: int | str = "self") -> float:
    """A process's resident memory in MB (from /proc; 0 where there is none)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def commit() -> str:
    """The commit of the code measured (with "+changes" when the work tree differs), or ""."""
    root = Path(__file__).resolve().parents[2]
    try:
        head, dirty = (
            subprocess.run(
                ["git", *args], cwd=root, capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            for args in (
                ("rev-parse", "--short", "HEAD"),
                ("status", "--porcelain", "--untracked-files=no"),
            )
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return f"{head}+changes" if dirty else head


def machine() -> dict[str, Any]:
    """CPU count and model, memory, Python and the system."""
    return {
        "cpu_count": os.cpu_count() or 0,
        "cpu_model": _cpu_model(),
        "memory_mb": round(_memory_total_mb()),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "hostname": platform.node(),
    }


def database_size_mb(engine: Engine) -> float:
    """The database's size on disk (SQLite: the file and its write-ahead log)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            size = connection.execute(text("SELECT pg_database_size(current_database())"))
            return int(size.scalar_one()) / 1_000_000
    path = engine.url.database or ""
    total = 0
    for suffix in ("", "-wal"):
        if path and Path(path + suffix).exists():
            total += Path(path + suffix).stat().st_size
    return total / 1_000_000


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows of the tables that make a world's size."""
    with engine.connect() as connection:
        return {
            name: int(connection.execute(select(func.count()).select_from(model)).scalar() or 0)
            for name, model in COUNTED.items()
        }


def database(engine: Engine) -> dict[str, Any]:
    """The database's kind, where it is (no password), size and row counts."""
    return {
        "kind": engine.dialect.name,
        "url": engine.url.render_as_string(hide_password=True),
        "size_mb": round(database_size_mb(engine), 1),
        "rows": row_counts(engine),
    }
