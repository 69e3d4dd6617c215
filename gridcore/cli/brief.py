"""`python -m gridcore brief --out FILE [--lang zh|en]`: the command meeting briefing to a file.

A .pdf is the briefing as a PDF, a .html the same content as a printable page. It holds
no personal data. Exit 0 when written; 2 (one line on stderr) for an unknown --lang, a
file name that is neither, a missing folder or a database that has no schema.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sqlmodel import Session

from gridcore import migrate
from gridcore.cli.common import CliError
from gridcore.config import get_settings, write_private
from gridcore.db import make_engine
from gridcore.i18n import LANGUAGES, fmt_int, t
from gridcore.io.briefing import FORMATS, briefing_bytes


def add_brief_command(commands: Any, lang: str) -> None:
    """Add the `brief` command to the command line's subparsers."""
    brief = commands.add_parser(
        "brief", help=t("cli.help.brief", lang), description=t("cli.help.brief", lang)
    )
    brief.add_argument("--out", required=True, metavar="FILE", help=t("cli.help.brief_out", lang))
    # Checked by the command rather than by `choices`: the message then says what to use.
    brief.add_argument("--lang", metavar="zh|en", help=t("cli.help.brief_lang", lang))
    brief.set_defaults(handler=run_brief)


def run_brief(args: argparse.Namespace, lang: str) -> None:
    """Write the briefing as of now to --out, in --lang (default: the messages' language)."""
    wanted = lang if args.lang is None else args.lang.strip().lower()
    if wanted not in LANGUAGES:
        raise CliError(t("cli.error.brief_lang", lang, given=args.lang))
    target = Path(args.out).expanduser().resolve()
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise CliError(t("cli.error.brief_format", lang, path=target))
    if not target.parent.is_dir():
        raise CliError(t("cli.error.no_folder", lang, path=target.parent))
    engine = make_engine(get_settings().database_url)
    if not migrate.is_initialised(engine):
        raise CliError(t("cli.error.not_initialised", lang))
    with Session(engine) as session:
        content = briefing_bytes(session=session, lang=wanted, fmt=fmt)
    write_private(target, content)
    print(t("cli.done.brief", lang, path=target, size=fmt_int(len(content), lang)))
