"""`python -m gridcore verify-counters [--repair]`: the counters checked against the records.

Every counter dashboards read (gridcore.queries.counters) is recounted from its records;
each difference is printed. Exit 0 when there is none, 1 when there is one (with --repair
the counters are then set from the records, and the exit is 0), 2 when the command cannot
run (a database without the schema).
"""

from __future__ import annotations

import argparse
from typing import Any

from sqlmodel import Session, select

from gridcore import migrate
from gridcore.access import SYSTEM
from gridcore.cli.common import CliError, table
from gridcore.config import get_settings
from gridcore.db import make_engine
from gridcore.i18n import fmt_int, pick_name, t
from gridcore.io.cells import local_text
from gridcore.models import TestSite
from gridcore.queries.areas import grid_rows
from gridcore.queries.counters import CounterDifference, counter_differences, hour_start
from gridcore.queries.stock import item_list
from gridcore.services.counters import repair_counters

EXIT_DIFFERENCES = 1


def add_counters_command(commands: Any, lang: str) -> None:
    """Add the `verify-counters` command to the command line's subparsers."""
    verify = commands.add_parser(
        "verify-counters",
        help=t("cli.help.verify_counters", lang),
        description=t("cli.help.verify_counters", lang),
    )
    verify.add_argument("--repair", action="store_true", help=t("cli.help.repair_counters", lang))
    verify.set_defaults(handler=run_verify_counters)


def _where(difference: CounterDifference, names: dict[str, dict[int, str]], lang: str) -> str:
    """Where a counter is: its round and grid, its grid, or its depot and item (by code)."""
    key = difference.key
    if difference.table == "roundgridcount":
        grid = names["grid"].get(key[1], str(key[1]))
        return t("cli.counters.round_grid", lang, round=key[0], grid=grid)
    if difference.table == "roundsitehour":
        site = (
            names["site"].get(key[1], str(key[1]))
            if key[1]
            else t("cli.counters.door_to_door", lang)
        )
        hour = local_text(hour_start(key[2]), get_settings().tz)
        return t("cli.counters.round_site_hour", lang, round=key[0], site=site, hour=hour)
    if difference.table == "stockbalance":
        item = names["item"].get(key[1], str(key[1]))
        return t("cli.counters.depot_item", lang, depot=key[0], item=item)
    return t("cli.counters.grid", lang, grid=names["grid"].get(key[0], str(key[0])))


def difference_table(
    differences: list[CounterDifference], names: dict[str, dict[int, str]], lang: str
) -> str:
    """The differences as an aligned table: where, which figure, stored, counted."""
    header = [t(f"cli.counters.col_{c}", lang) for c in ("where", "figure", "stored", "counted")]
    rows = [
        [
            _where(d, names, lang),
            t(f"cli.counters.figure_{d.column}", lang),
            fmt_int(d.stored, lang),
            fmt_int(d.counted, lang),
        ]
        for d in differences
    ]
    return table(header, rows)


def _codes(session: Session, lang: str) -> dict[str, dict[int, str]]:
    """Grid and item codes and site names by id, to say where a counter is."""
    items = item_list(session=session)
    sites = session.exec(select(TestSite.id, TestSite.name, TestSite.name_zh)).all()
    return {
        "grid": {int(g["grid_id"]): str(g["code"]) for g in grid_rows(session=session)},
        "item": dict(zip(items["item_id"].astype(int), items["code"].astype(str), strict=True)),
        "site": {int(i or 0): pick_name(name, name_zh, lang) for i, name, name_zh in sites},
    }


def run_verify_counters(args: argparse.Namespace, lang: str) -> None:
    """Recount every counter from the records; print the differences (or that there is none)."""
    engine = make_engine(get_settings().database_url)
    if not migrate.is_initialised(engine):
        raise CliError(t("cli.error.not_initialised", lang))
    with Session(engine) as session:
        differences = counter_differences(session=session)
        if not differences:
            print(t("cli.counters.no_difference", lang))
            return
        print(t("cli.counters.differences", lang, count=fmt_int(len(differences), lang)))
        print(difference_table(differences, _codes(session, lang), lang))
        if not args.repair:
            raise SystemExit(EXIT_DIFFERENCES)
        repair_counters(session=session, actor=SYSTEM)
        print(t("cli.counters.repaired", lang))
