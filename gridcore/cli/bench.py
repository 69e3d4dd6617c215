"""`python -m gridcore bench --scale street|district [--database-url URL] [--json FILE]
[--quick]`: the benchmark harness (gridcore.bench) on the command line.

The database is the configured one unless --database-url names another; an empty one is
seeded with the demo world of --scale first, one with data is measured as it is (the
output says which). Prints the tables; --json writes every figure. Exit 0 when done.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from gridcore.cli.common import CliError, table
from gridcore.config import get_settings
from gridcore.i18n import fmt_int, t

BENCH_SCALES = ("street", "district")


def add_bench_command(commands: Any, lang: str) -> None:
    """Add the `bench` command to the command line's subparsers."""
    bench = commands.add_parser(
        "bench", help=t("cli.help.bench", lang), description=t("cli.help.bench", lang)
    )
    bench.add_argument(
        "--scale", choices=BENCH_SCALES, required=True, help=t("cli.help.bench_scale", lang)
    )
    bench.add_argument("--database-url", metavar="URL", help=t("cli.help.bench_database_url", lang))
    bench.add_argument("--json", metavar="FILE", help=t("cli.help.bench_json", lang))
    bench.add_argument("--quick", action="store_true", help=t("cli.help.bench_quick", lang))
    bench.set_defaults(handler=run_bench)


def run_bench(args: argparse.Namespace, lang: str) -> None:
    """Run every part of the benchmark and report it."""
    from gridcore import bench

    target = Path(args.json).expanduser().resolve() if args.json else None
    if target is not None and not target.parent.is_dir():
        raise CliError(t("cli.error.no_folder", lang, path=target.parent))
    url = args.database_url or get_settings().database_url
    log_dir = target.parent if target is not None else Path.cwd()

    def say(key: str, **params: Any) -> None:
        print(t(key, lang, **params), file=sys.stderr, flush=True)

    def write(results: dict[str, Any]) -> None:
        if target is not None:
            target.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")

    plan = bench.Plan(scale=args.scale, database_url=url, quick=args.quick, log_dir=log_dir)
    results = bench.run(plan, say=say, done=write)
    print("\n".join(lines(results, lang)))
    if target is not None:
        write(results)
        print(t("cli.bench.json_written", lang, path=target))


# --------------------------------------------------------------------------- the tables


def _s(value: float) -> str:
    return f"{value:.3f}"


def _mb(value: float) -> str:
    return f"{value:.0f}"


def _header(lang: str, *columns: str) -> list[str]:
    return [t(f"cli.bench.col.{c}", lang) for c in columns]


def _pages(figures: dict[str, Any], lang: str) -> str:
    rows = [
        [page, _s(f["cold_s"]), _s(f["warm_s"]), _s(f["cache_expired_s"])]
        for page, f in figures.items()
    ]
    return table(_header(lang, "page", "cold", "warm", "expired"), rows)


def _queries(figures: dict[str, Any], lang: str) -> str:
    rows = [
        [name, _s(f["median_s"]), _s(f["baseline_median_s"]), f"{f['ratio']:.1f}×"]
        for name, f in figures.items()
    ]
    return table(_header(lang, "query", "ours", "baseline", "ratio"), rows)


def _imports(figures: dict[str, Any], lang: str) -> str:
    rows = [
        [
            kind,
            fmt_int(f["rows"], lang),
            fmt_int(round(f["rows_per_s"]), lang),
            _mb(f["tenth"]["rss_growth_mb"]),
            _mb(f["rss_growth_mb"]),
        ]
        for kind, f in figures.items()
    ]
    columns = ("kind", "rows", "rows_per_s", "memory_tenth", "memory_whole")
    return table(_header(lang, *columns), rows)


def _desk_writes(d: dict[str, Any], lang: str) -> str:
    row = [
        str(d["writers"]),
        fmt_int(round(d["writes_per_s"]), lang),
        fmt_int(d["committed"], lang),
        str(d["busy"]),
        str(d["lost"]),
        str(d["doubled"]),
    ]
    columns = ("writers", "writes_per_s", "committed", "busy", "lost", "doubled")
    return table(_header(lang, *columns), [row])


def _server_memory(memory: dict[str, Any], lang: str) -> str:
    rows = [["0", _mb(memory["idle_mb"])]]
    rows += [[n, _mb(f["rss_mb"])] for n, f in memory["sessions"].items()]
    return table(_header(lang, "sessions", "rss"), rows)


SECTION_TABLES = {
    "pages": _pages,
    "queries": _queries,
    "imports": _imports,
    "desk_writes": _desk_writes,
    "server_memory": _server_memory,
}


def lines(results: dict[str, Any], lang: str) -> list[str]:
    """Every section of `results` as text; a part not measured says why."""
    m, db = results["machine"], results["database"]
    out = [
        t(
            "cli.bench.machine",
            lang,
            cpus=m["cpu_count"],
            model=m["cpu_model"],
            memory=fmt_int(m["memory_mb"], lang),
            start=" ".join(map(str, results["load_average_start"])),
            end=" ".join(map(str, results.get("load_average_end", []))),
        ),
        t(
            "cli.bench.database",
            lang,
            kind=db["kind"],
            size=fmt_int(round(db["size_mb"]), lang),
            residents=fmt_int(db["rows"]["residents"], lang),
            records=fmt_int(db["rows"]["test_records"], lang),
            rounds=db["rows"]["test_rounds"],
        ),
    ]
    for name, render in SECTION_TABLES.items():
        out += ["", t(f"cli.bench.section.{name}", lang)]
        figures = results.get(name, {})
        reason = figures.get("skipped") or figures.get("error")
        out.append(t("cli.bench.skipped", lang, reason=reason) if reason else render(figures, lang))
    return out
