"""`python -m gridcore export|import KIND FILE`: files in and out (`import areas` reads GeoJSON).

Both act as the system actor. Options a kind takes (the registry's `options`: --round,
--unmatched, --geocodes) reach its loader; one given to a kind that does not take it, or
`import areas` without --level, is a failure (status 2).

Exit status: 0 done (or a clean dry run); 1 when the file has problems (then nothing is
written, unless --skip-bad-rows wrote the good rows); 2 when the command cannot run at all
(no such file, unreadable workbook, unknown round, an option the kind does not take), with
one line on stderr.
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
from gridcore.io import areas
from gridcore.io.cases import UNMATCHED
from gridcore.io.exchange import (
    HEADER_LANGUAGES,
    KINDS,
    exchange_of,
    export_to,
    import_table,
    open_file,
)
from gridcore.io.report import (
    ImportConflict,
    ImportReport,
    ignored_line,
    note_lines,
    problem_lines,
    summary,
)
from gridcore.io.tabular import (
    FILE_LIMITS,
    LIMITS,
    Limits,
    Table,
    TableError,
    TableStream,
    format_of,
)
from gridcore.models import AreaLevel
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
    export.add_argument(
        "--headers", choices=HEADER_LANGUAGES, default="en", help=t("io.cli.help.headers", lang)
    )
    export.add_argument("--overwrite", action="store_true", help=t("io.cli.help.overwrite", lang))
    export.set_defaults(handler=run_export)

    load = commands.add_parser(
        "import", help=t("io.cli.help.import", lang), description=t("io.cli.help.import", lang)
    )
    load.add_argument("kind", choices=(*KINDS, areas.KIND), help=t("io.cli.help.kind", lang))
    load.add_argument("path", metavar="FILE", help=t("io.cli.help.file", lang))
    load.add_argument("--round", help=t("io.cli.help.round", lang))
    load.add_argument("--unmatched", choices=UNMATCHED, help=t("io.cli.help.unmatched", lang))
    load.add_argument("--geocodes", metavar="FILE", help=t("io.cli.help.geocodes", lang))
    shapes = load.add_argument_group(t("io.cli.help.areas_group", lang))
    shapes.add_argument(
        "--level",
        choices=[level.value for level in AreaLevel if level != AreaLevel.city],
        help=t("io.cli.help.level", lang),
    )
    shapes.add_argument("--parent", metavar="CODE", help=t("io.cli.help.parent", lang))
    shapes.add_argument("--parent-name", metavar="NAME", help=t("io.cli.help.parent_name", lang))
    shapes.add_argument("--datum", choices=areas.DATUMS, help=t("io.cli.help.datum", lang))
    shapes.add_argument("--name-field", metavar="F", help=t("io.cli.help.name_field", lang))
    shapes.add_argument("--code-field", metavar="F", help=t("io.cli.help.code_field", lang))
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
    temporary = target.with_name(f".{target.name}.part")
    with Session(engine) as session:
        round_id = _round_id(session, args.round, lang)
        try:
            # Written as the rows are read, then put in place whole.
            with temporary.open("wb") as out:
                count = export_to(
                    out,
                    session=session,
                    kind=args.kind,
                    fmt=fmt,
                    actor=SYSTEM,
                    round_id=round_id,
                    headers=args.headers,
                )
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    temporary.replace(target)
    print(
        t(
            "io.cli.exported",
            lang,
            rows=fmt_int(count),
            path=target,
            seconds=time.perf_counter() - started,
        )
    )


# Command-line options → the loader's option each gives, and the kinds that take it.
_KIND_OPTIONS: dict[str, str] = {
    "round": "round_id",
    "unmatched": "unmatched",
    "geocodes": "geocodes",
}
_AREA_OPTIONS: tuple[str, ...] = (
    "level", "parent", "parent_name", "datum", "name_field", "code_field",
)  # fmt: skip


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _check_options(args: argparse.Namespace, lang: str) -> None:
    """Fail (status 2) on an option the kind does not take, or areas without --level."""
    if args.kind == areas.KIND:
        given = [_flag(n) for n in _KIND_OPTIONS if getattr(args, n, None) is not None]
        if args.level is None:
            raise _failure(t("io.cli.error.level_needed", lang))
    else:
        taken = exchange_of(args.kind).options
        given = [
            _flag(n)
            for n, option in _KIND_OPTIONS.items()
            if getattr(args, n, None) is not None and option not in taken
        ]
        given += [_flag(n) for n in _AREA_OPTIONS if getattr(args, n, None) is not None]
    if given:
        raise _failure(t("io.cli.error.option_not_for_kind", lang, option=given[0], kind=args.kind))


def _read_table(path_text: str, lang: str) -> Table:
    """The table in a file named on the command line (a failure when it cannot be read)."""
    stream = _open_table(path_text, lang, limits=LIMITS)
    try:
        return stream.table()
    except TableError as exc:
        path = Path(path_text).expanduser()
        raise _failure(f"{path}: {t(exc.key, lang, **exc.params)}") from None


def _open_table(path_text: str, lang: str, *, limits: Limits | None = None) -> TableStream:
    """The file named on the command line, its header read and its rows read as imported
    (a failure when it cannot be read). A CSV may be as large as FILE_LIMITS allows."""
    path = Path(path_text).expanduser()
    fmt = _format(path, lang)
    if limits is None:
        limits = FILE_LIMITS if fmt == "csv" else LIMITS
    if not path.is_file():
        raise _failure(t("io.error.no_file", lang, path=path))
    try:
        return open_file(source=path, limits=limits)
    except TableError as exc:
        raise _failure(f"{path}: {t(exc.key, lang, **exc.params)}") from None


def _print_report(report: ImportReport, lang: str, seconds: float, show: int) -> None:
    print(f"{summary(report, lang)} {t('io.cli.imported_in', lang, seconds=seconds)}")
    for line in note_lines(report, lang):
        print(line)
    for line in problem_lines(report, lang, limit=max(0, show)):
        print(line)
    if (ignored := ignored_line(report, lang)) is not None:
        print(ignored)
    if not report.ok:
        raise SystemExit(EXIT_PROBLEMS)


def run_import(args: argparse.Namespace, lang: str) -> None:
    """Check FILE and, unless --dry-run, import it; exit 1 when it has problems."""
    _check_options(args, lang)
    if args.kind == areas.KIND:
        _import_areas(args, lang)
        return
    started = time.perf_counter()
    table = _open_table(args.path, lang)
    geocodes = _read_table(args.geocodes, lang) if args.geocodes is not None else None
    source = Path(args.path).expanduser()
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
                unmatched=args.unmatched,
                geocodes=geocodes,
                dry_run=args.dry_run,
                skip_bad_rows=args.skip_bad_rows,
                source=source.name,
            )
        except ImportConflict as exc:
            raise _failure(t(str(exc), lang)) from None
        except TableError as exc:  # found part way through a file read as it is imported
            raise _failure(f"{source}: {t(exc.key, lang, **exc.params)}") from None
    _print_report(report, lang, time.perf_counter() - started, args.show)


def _import_areas(args: argparse.Namespace, lang: str) -> None:
    """Read a GeoJSON file of areas at --level and, unless --dry-run, store them."""
    source = Path(args.path).expanduser()
    if not source.is_file():
        raise _failure(t("io.error.no_file", lang, path=source))
    started = time.perf_counter()
    engine = _engine(lang)
    with Session(engine, expire_on_commit=False) as session:
        try:
            report = areas.import_areas(
                session=session,
                data=source.read_bytes(),
                level=args.level,
                actor=SYSTEM,
                parent_code=args.parent,
                parent_name=args.parent_name,
                datum=args.datum or "wgs84",
                name_field=args.name_field,
                code_field=args.code_field,
                dry_run=args.dry_run,
                source=source.name,
            )
        except areas.AreasFileError as exc:
            raise _failure(f"{source}: {t(exc.key, lang, **exc.params)}") from None
    _print_report(report, lang, time.perf_counter() - started, args.show)
