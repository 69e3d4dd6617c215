"""`python -m gridcore export|import residents|test-results FILE`: files in and out.

Both act as the system actor. Exit status: 0 done (or a clean dry run); 1 when the file
has problems (then nothing is written, unless --skip-bad-rows wrote the good rows);
2 when the command cannot run at all (no such file, unreadable workbook, unknown round),
with one line on stderr.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from gridcore import migrate
from gridcore.access import SYSTEM
from gridcore.cli.common import CliError
from gridcore.config import get_settings
from gridcore.db import make_engine
from gridcore.i18n import fmt_int, t
from gridcore.io.exchange import KINDS, export_rows, import_table, read_file
from gridcore.io.report import ImportConflict, ignored_line, problem_lines, summary
from gridcore.io.tabular import LIMITS, TableError, format_of, write_table
from gridcore.queries.testing import RoundNotFound, resolve_round

EXIT_PROBLEMS = 1
DEFAULT_SHOWN = 20


def add_io_commands(commands: Any, lang: str) -> None:
    """Add the `export` and `import` commands to the command line's subparsers."""
    export = commands.add_parser(
        "export", help=t("io.cli.help.export", lang), description=t("io.cli.help.export", lang)
    )
    export.add_argument("kind", choices=KINDS, help=t("io.cli.help.kind", lang))
    export.add_argument("path", metavar="FILE", help=t("io.cli.help.file", lang))
    export.add_argument("--round", help=t("io.cli.help.round", lang))
    export.add_argument("--overwrite", action="store_true", help=t("io.cli.help.overwrite", lang))
    export.set_defaults(handler=run_export)

    load = commands.add_parser(
        "import", help=t("io.cli.help.import", lang), description=t("io.cli.help.import", lang)
    )
    load.add_argument("kind", choices=KINDS, help=t("io.cli.help.kind", lang))
    load.add_argument("path", metavar="FILE", help=t("io.cli.help.file", lang))
    load.add_argument("--round", help=t("io.cli.help.round", lang))
    load.add_argument("--dry-run", action="store_true", help=t("io.cli.help.dry_run", lang))
    load.add_argument(
        "--skip-bad-rows", action="store_true", help=t("io.cli.help.skip_bad_rows", lang)
    )
    load.add_argument(
        "--show", type=int, default=DEFAULT_SHOWN, metavar="N", help=t("io.cli.help.show", lang)
    )
    load.set_defaults(handler=run_import)


def _failure(message: str) -> Exception:
    """An error the command line prints as one line and exits 2 on."""
    return CliError(message)


def _engine(lang: str) -> Engine:
    engine = make_engine(get_settings().database_url)
    if not migrate.is_initialised(engine):
        raise _failure(t("cli.error.not_initialised", lang))
    return engine


def _round_id(session: Session, ref: str | None, lang: str) -> int | None:
    if ref is None:
        return None
    try:
        return resolve_round(session=session, ref=ref)
    except RoundNotFound as exc:
        raise _failure(t(exc.key, lang, **exc.params)) from None


def _format(path: Path, lang: str) -> str:
    try:
        return format_of(path)
    except TableError as exc:
        raise _failure(t(exc.key, lang, **exc.params)) from None


def run_export(args: argparse.Namespace, lang: str) -> None:
    """Write every resident, or the test results (of one round), to FILE."""
    target = Path(args.path).expanduser().resolve()
    fmt = _format(target, lang)
    if not target.parent.is_dir():
        raise _failure(t("cli.error.no_folder", lang, path=target.parent))
    if target.exists() and not args.overwrite:
        raise _failure(t("cli.error.exists", lang, path=target))
    started = time.perf_counter()
    engine = _engine(lang)
    with Session(engine) as session:
        round_id = _round_id(session, args.round, lang)
        columns, rows = export_rows(
            session=session, kind=args.kind, actor=SYSTEM, round_id=round_id
        )
    data = write_table(columns=columns, rows=rows, fmt=fmt)
    temporary = target.with_name(f".{target.name}.part")
    temporary.write_bytes(data)
    temporary.replace(target)
    print(
        t(
            "io.cli.exported",
            lang,
            rows=fmt_int(len(rows)),
            path=target,
            seconds=time.perf_counter() - started,
        )
    )


def run_import(args: argparse.Namespace, lang: str) -> None:
    """Check FILE and, unless --dry-run, import it; exit 1 when it has problems."""
    source = Path(args.path).expanduser()
    fmt = _format(source, lang)
    if not source.is_file():
        raise _failure(t("io.error.no_file", lang, path=source))
    started = time.perf_counter()
    try:
        if source.stat().st_size > LIMITS.file_bytes:  # refused before it is read into memory
            raise TableError("io.error.file_too_big", max_mb=LIMITS.file_bytes >> 20)
        table = read_file(data=source.read_bytes(), name=f"file.{fmt}")
    except TableError as exc:
        raise _failure(f"{source}: {t(exc.key, lang, **exc.params)}") from None
    engine = _engine(lang)
    with Session(engine, expire_on_commit=False) as session:
        round_id = _round_id(session, args.round, lang)
        try:
            report = import_table(
                session=session,
                kind=args.kind,
                table=table,
                actor=SYSTEM,
                round_id=round_id,
                dry_run=args.dry_run,
                skip_bad_rows=args.skip_bad_rows,
                source=source.name,
            )
        except ImportConflict as exc:
            raise _failure(t(str(exc), lang)) from None
    seconds = time.perf_counter() - started
    print(f"{summary(report, lang)} {t('io.cli.imported_in', lang, seconds=seconds)}")
    for line in problem_lines(report, lang, limit=max(0, args.show)):
        print(line)
    if (ignored := ignored_line(report, lang)) is not None:
        print(ignored)
    if not report.ok:
        raise SystemExit(EXIT_PROBLEMS)
