"""The command line: `python -m gridcore init | seed | users | policy | backup | kiosk-link`
(and export, import: gridcore.cli.files; brief: gridcore.cli.brief; verify-counters:
gridcore.cli.counters; bench: gridcore.cli.bench).

Every command acts as the system actor. A failure prints one line to stderr and exits
with status 2; set GRIDCORE_DEBUG=1 to see the traceback of an unexpected error.
"""

from __future__ import annotations

import argparse
import getpass
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlmodel import Session

from gridcore import bootstrap, migrate
from gridcore.access import SYSTEM, PermissionDenied
from gridcore.cli.bench import add_bench_command
from gridcore.cli.brief import add_brief_command
from gridcore.cli.common import EXIT_FAILURE, CliError, cli_language, table
from gridcore.cli.counters import add_counters_command
from gridcore.cli.files import add_io_commands
from gridcore.config import ConfigError, Settings, get_settings, private_umask
from gridcore.db import make_engine
from gridcore.demo import DEMO_PASSWORD, SCALES
from gridcore.i18n import enum_label, has_key, t
from gridcore.models import UserRole
from gridcore.policy import POLICY_KEYS, load_policy
from gridcore.queries.access import kiosk_links, list_users
from gridcore.queries.policy import policy_settings
from gridcore.services.access import (
    create_kiosk_link,
    create_user,
    demo_accounts_with_password,
    revoke_kiosk_link,
    set_password,
)
from gridcore.services.base import ValidationFailed
from gridcore.services.policy import POLICY_RANGES, reset_policy_value, set_policy_value

DEFAULT_BASE_URL = "http://localhost:8501"

# --------------------------------------------------------------------------- parser


def build_parser(lang: str) -> argparse.ArgumentParser:
    """The argument parser, its help texts in `lang`."""
    parser = argparse.ArgumentParser(
        prog="python -m gridcore", description=t("cli.description", lang)
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = commands.add_parser(
        "init", help=t("cli.help.init", lang), description=t("cli.help.init", lang)
    )
    init.add_argument("--demo", choices=SCALES, help=t("cli.help.init_demo", lang))
    init.add_argument("--seed", type=int, default=1, help=t("cli.help.seed_number", lang))
    init.set_defaults(handler=_init)

    seed = commands.add_parser(
        "seed", help=t("cli.help.seed", lang), description=t("cli.help.seed", lang)
    )
    seed.add_argument("--scale", choices=SCALES, required=True, help=t("cli.help.scale", lang))
    seed.add_argument("--seed", type=int, default=1, help=t("cli.help.seed_number", lang))
    seed.add_argument("--anchor", type=_anchor(lang), help=t("cli.help.anchor", lang))
    seed.add_argument("--replace", action="store_true", help=t("cli.help.replace", lang))
    seed.set_defaults(handler=_seed)

    users = commands.add_parser(
        "users", help=t("cli.help.users", lang), description=t("cli.help.users", lang)
    )
    actions = users.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add", help=t("cli.help.users_add", lang), description=t("cli.help.users_add", lang)
    )
    add.add_argument("username", help=t("cli.help.username", lang))
    add.add_argument(
        "--role", choices=[r.value for r in UserRole], required=True, help=t("cli.help.role", lang)
    )
    add.add_argument(
        "--grid",
        action="extend",
        nargs="+",
        default=[],
        metavar="CODE",
        help=t("cli.help.grid", lang),
    )
    add.add_argument("--full-name", help=t("cli.help.full_name", lang))
    add.add_argument("--password", help=t("cli.help.password", lang))
    add.set_defaults(handler=_users_add)
    listing = actions.add_parser(
        "list", help=t("cli.help.users_list", lang), description=t("cli.help.users_list", lang)
    )
    listing.set_defaults(handler=_users_list)
    reset = actions.add_parser(
        "set-password",
        help=t("cli.help.users_set_password", lang),
        description=t("cli.help.users_set_password", lang),
    )
    reset.add_argument("username", help=t("cli.help.username", lang))
    reset.add_argument("--password", help=t("cli.help.password", lang))
    reset.set_defaults(handler=_users_set_password)

    _add_policy_commands(commands, lang)

    backup = commands.add_parser(
        "backup", help=t("cli.help.backup", lang), description=t("cli.help.backup", lang)
    )
    backup.add_argument("path", metavar="PATH", help=t("cli.help.backup_path", lang))
    backup.add_argument("--overwrite", action="store_true", help=t("cli.help.overwrite", lang))
    backup.set_defaults(handler=_backup)

    kiosk = commands.add_parser(
        "kiosk-link", help=t("cli.help.kiosk", lang), description=t("cli.help.kiosk", lang)
    )
    what = kiosk.add_mutually_exclusive_group(required=True)
    what.add_argument("--hours", type=float, help=t("cli.help.hours", lang))
    what.add_argument("--list", action="store_true", help=t("cli.help.kiosk_list", lang))
    what.add_argument("--revoke", type=int, metavar="ID", help=t("cli.help.kiosk_revoke", lang))
    kiosk.add_argument("--label", help=t("cli.help.label", lang))
    kiosk.add_argument("--interval", type=int, metavar="S", help=t("cli.help.interval", lang))
    kiosk.add_argument("--panels", metavar="A,B,C", help=t("cli.help.panels", lang))
    kiosk.add_argument("--base-url", help=t("cli.help.base_url", lang))
    kiosk.set_defaults(handler=_kiosk_link)
    add_io_commands(commands, lang)
    add_brief_command(commands, lang)
    add_counters_command(commands, lang)
    add_bench_command(commands, lang)
    return parser


def _add_policy_commands(commands: argparse._SubParsersAction, lang: str) -> None:
    policy = commands.add_parser(
        "policy", help=t("cli.help.policy", lang), description=t("cli.help.policy", lang)
    )
    actions = policy.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser(
        "list", help=t("cli.help.policy_list", lang), description=t("cli.help.policy_list", lang)
    )
    listing.set_defaults(handler=_policy_list)
    change = actions.add_parser(
        "set", help=t("cli.help.policy_set", lang), description=t("cli.help.policy_set", lang)
    )
    change.add_argument("key", metavar="KEY", help=t("cli.help.policy_key", lang))
    change.add_argument("value", metavar="VALUE", help=t("cli.help.policy_value", lang))
    change.set_defaults(handler=_policy_set)
    reset = actions.add_parser(
        "reset", help=t("cli.help.policy_reset", lang), description=t("cli.help.policy_reset", lang)
    )
    reset.add_argument("key", metavar="KEY", help=t("cli.help.policy_key", lang))
    reset.set_defaults(handler=_policy_reset)


def _anchor(lang: str) -> Callable[[str], date]:
    def parse(value: str) -> date:
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise argparse.ArgumentTypeError(t("cli.error.bad_anchor", lang, value=value)) from None

    return parse


# --------------------------------------------------------------------------- commands


def _settings_and_engine() -> tuple[Settings, Engine]:
    settings = get_settings()
    return settings, make_engine(settings.database_url)


def _migrated_engine(lang: str) -> tuple[Settings, Engine]:
    """Settings and engine of a database that already has the schema."""
    settings, engine = _settings_and_engine()
    if not migrate.is_initialised(engine):
        raise CliError(t("cli.error.not_initialised", lang))
    return settings, engine


def _init(args: argparse.Namespace, lang: str) -> None:
    _, engine = _settings_and_engine()
    started = time.perf_counter()
    try:
        done = bootstrap.ensure_database(engine=engine, demo=args.demo, seed=args.seed)
    except bootstrap.NotEmpty:
        raise CliError(t("cli.error.accounts_without_areas", lang, scale=args.demo)) from None
    if done == bootstrap.SEEDED:
        print(
            t("cli.done.seeded_short", lang, scale=args.demo, seconds=time.perf_counter() - started)
        )
    elif done == bootstrap.ALREADY_SEEDED:
        print(t("cli.done.already_seeded", lang))
    else:
        print(t("cli.done.migrated", lang))
    _demo_accounts_notice(engine, lang)


def _demo_accounts_notice(engine: Engine, lang: str) -> None:
    """Say which demo accounts still have the public password, and how to change it."""
    if not get_settings().demo_accounts:
        print(t("security.demo_off", lang))
        return
    with Session(engine) as session:
        public = demo_accounts_with_password(session, password=DEMO_PASSWORD)
    if public:
        print(t("security.demo_password", lang, accounts=", ".join(public), password=DEMO_PASSWORD))


def _seed(args: argparse.Namespace, lang: str) -> None:
    _, engine = _settings_and_engine()
    started = time.perf_counter()
    try:
        counts = bootstrap.seed_world(
            engine=engine,
            scale=args.scale,
            seed=args.seed,
            anchor=args.anchor,
            replace=args.replace,
        )
    except bootstrap.NotEmpty:
        raise CliError(t("cli.error.has_data", lang, scale=args.scale)) from None
    summary = ", ".join(f"{name} {count:,}" for name, count in counts.items())
    print(
        t(
            "cli.done.seeded",
            lang,
            scale=args.scale,
            seconds=time.perf_counter() - started,
            counts=summary,
        )
    )


def _ask_password(username: str, lang: str) -> str:
    if not sys.stdin.isatty():
        raise CliError(t("cli.error.no_password", lang))
    first = getpass.getpass(t("cli.prompt.password", lang, username=username))
    if getpass.getpass(t("cli.prompt.repeat", lang)) != first:
        raise CliError(t("cli.error.passwords_differ", lang))
    return first


def _users_add(args: argparse.Namespace, lang: str) -> None:
    _, engine = _migrated_engine(lang)
    password = args.password if args.password is not None else _ask_password(args.username, lang)
    with Session(engine, expire_on_commit=False) as session:
        user = create_user(
            session,
            data={
                "username": args.username,
                "full_name": args.full_name,
                "role": args.role,
                "password": password,
                "grid_codes": args.grid,
            },
            actor=SYSTEM,
        )
    print(t("cli.done.user_added", lang, username=user.username, role=user.role))


def _users_list(args: argparse.Namespace, lang: str) -> None:
    _, engine = _migrated_engine(lang)
    with Session(engine) as session:
        accounts = list_users(session=session)
    if not accounts:
        print(t("cli.users.none", lang))
        return
    print(t("cli.users.header", lang))
    for user, grids in accounts:
        print(
            " | ".join(
                (
                    user.username,
                    str(user.role),
                    user.full_name or "",
                    t("cli.yes" if user.active else "cli.no", lang),
                    " ".join(grids) or t("cli.users.all_grids", lang),
                )
            )
        )


def _users_set_password(args: argparse.Namespace, lang: str) -> None:
    _, engine = _migrated_engine(lang)
    password = args.password if args.password is not None else _ask_password(args.username, lang)
    with Session(engine) as session:
        set_password(session, username=args.username, password=password, actor=SYSTEM)
    print(t("cli.done.password_set", lang, username=args.username))


def _backup(args: argparse.Namespace, lang: str) -> None:
    settings = get_settings()
    target = Path(args.path).expanduser().resolve()
    if not target.parent.is_dir():
        raise CliError(t("cli.error.no_folder", lang, path=target.parent))
    if target.exists() and not args.overwrite:
        raise CliError(t("cli.error.exists", lang, path=target))
    if settings.is_sqlite:
        _backup_sqlite(settings.database_url, target, lang)
    else:
        _backup_postgresql(settings.database_url, target, lang)
    print(t("cli.done.backup", lang, path=target, size=_size(target.stat().st_size)))


def _backup_sqlite(url: str, target: Path, lang: str) -> None:
    """A consistent copy through SQLite's online backup, safe while the app writes."""
    database = make_url(url).database
    if not database or database == ":memory:" or not Path(database).is_file():
        raise CliError(t("cli.error.no_sqlite_file", lang, path=database or url))
    handle, temporary = tempfile.mkstemp(prefix=".backup-", suffix=".db", dir=target.parent)
    os.close(handle)
    try:
        source = sqlite3.connect(database, timeout=30)
        copy = sqlite3.connect(temporary)
        try:
            source.backup(copy)
            # One self-contained file: no write-ahead log beside it.
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
            source.close()
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def _backup_postgresql(url: str, target: Path, lang: str) -> None:
    """pg_dump in its custom format (restore with pg_restore)."""
    program = shutil.which("pg_dump")
    if program is None:
        raise CliError(t("cli.error.no_pg_dump", lang))
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    command = [program, "--format=custom", f"--file={target}"]
    for flag, value in (
        ("--host", parsed.host),
        ("--port", parsed.port),
        ("--username", parsed.username),
    ):
        if value:
            command.append(f"{flag}={value}")
    command.append(f"--dbname={parsed.database or 'postgres'}")
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise CliError(
            t("cli.error.pg_dump_failed", lang, detail=lines[-1] if lines else done.returncode)
        )


def _size(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size / 1000:.1f} kB"


def _local_time(moment: datetime, settings: Settings) -> str:
    return moment.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")


def _kiosk_link(args: argparse.Namespace, lang: str) -> None:
    """Create a link (--hours), list them (--list) or revoke one (--revoke ID)."""
    creating = args.hours is not None
    options = (args.label, args.base_url, args.interval, args.panels)
    if not creating and any(option is not None for option in options):
        raise CliError(t("cli.error.kiosk_create_only", lang))
    settings, engine = _migrated_engine(lang)
    if args.list:
        _kiosk_links_list(engine, settings, lang)
        return
    if args.revoke is not None:
        with Session(engine, expire_on_commit=False) as session:
            link = revoke_kiosk_link(session, link_id=args.revoke, actor=SYSTEM)
        label = link.label or t("cli.kiosk.no_label", lang)
        print(t("cli.done.kiosk_revoked", lang, id=link.id, label=label))
        return
    with Session(engine, expire_on_commit=False) as session:
        _, token = create_kiosk_link(
            session,
            hours=args.hours,
            secret=settings.secret_key,
            actor=SYSTEM,
            label=args.label or "",
            interval_seconds=args.interval,
            panels=args.panels.split(",") if args.panels is not None else None,
        )
    base_url = args.base_url or DEFAULT_BASE_URL
    print(f"{base_url.rstrip('/')}/?kiosk=1&token={token}")


def _kiosk_links_list(engine: Engine, settings: Settings, lang: str) -> None:
    with Session(engine) as session:
        links = kiosk_links(session=session)
    if not links:
        print(t("cli.kiosk.none", lang))
        return
    rows = [
        (
            str(link.id),
            link.label,
            link.created_by,
            _local_time(link.created_at, settings),
            _local_time(link.expires_at, settings),
            enum_label("kiosk_link_state", link.state, lang),
            str(link.interval_seconds or settings.kiosk_rotate_seconds),
            ",".join(link.panels),
        )
        for link in links
    ]
    print(table(t("cli.kiosk.columns", lang).split("|"), rows))


def _policy_value(value: object) -> str:
    """A setting as it is typed on the command line: 24, or 1,2,3,5,7 for test days."""
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def _known_policy_key(key: str, lang: str) -> str:
    if key not in POLICY_KEYS:
        raise CliError(t("cli.error.policy_unknown_key", lang, setting=key))
    return key


def _policy_list(args: argparse.Namespace, lang: str) -> None:
    settings, engine = _migrated_engine(lang)
    with Session(engine) as session:
        rows = policy_settings(session=session)
    print(
        table(
            t("cli.policy.columns", lang).split("|"),
            [
                (
                    row.key,
                    _policy_value(row.value),
                    _policy_value(row.default),
                    row.changed_by or "",
                    _local_time(row.changed_at, settings) if row.changed_at else "",
                )
                for row in rows
            ],
        )
    )


def _policy_set(args: argparse.Namespace, lang: str) -> None:
    """Change one setting as the system administrator."""
    key = _known_policy_key(args.key, lang)
    _, engine = _migrated_engine(lang)
    with Session(engine) as session:
        old = getattr(load_policy(session), key)
        try:
            policy = set_policy_value(session=session, key=key, value=args.value, actor=SYSTEM)
        except ValidationFailed as exc:
            if exc.errors.get(key) != "services.error.policy_out_of_range":
                raise
            low, high = POLICY_RANGES[key]
            message = t(
                "cli.error.policy_out_of_range",
                lang,
                setting=key,
                value=args.value,
                low=low,
                high=high,
            )
            raise CliError(message) from None
    old_text, new_text = _policy_value(old), _policy_value(getattr(policy, key))
    if new_text == old_text:
        print(t("cli.done.policy_unchanged", lang, setting=key, value=new_text))
    else:
        print(t("cli.done.policy_set", lang, setting=key, old=old_text, new=new_text))


def _policy_reset(args: argparse.Namespace, lang: str) -> None:
    """Return one setting to its default as the system administrator."""
    key = _known_policy_key(args.key, lang)
    _, engine = _migrated_engine(lang)
    with Session(engine) as session:
        policy = reset_policy_value(session=session, key=key, actor=SYSTEM)
    print(t("cli.done.policy_reset", lang, setting=key, value=_policy_value(getattr(policy, key))))


# --------------------------------------------------------------------------- entry


def _translated(message: str, lang: str) -> str:
    return t(message, lang) if has_key(message) else message


def _value(values: dict[str, object], field: str) -> str:
    """` 'bob'` when the rejected value of `field` is known, else nothing."""
    return f" {values[field]!r}" if field in values else ""


def _explain(exc: BaseException, lang: str) -> str | None:
    """One line for a failure the user can act on; None for anything unexpected."""
    if isinstance(exc, CliError):
        return str(exc)
    if isinstance(exc, ConfigError):
        return t("cli.error.config", lang, detail=exc.text(lang))
    if isinstance(exc, ValidationFailed):
        detail = "; ".join(
            f"{field}{_value(exc.values, field)}: {_translated(msg, lang)}"
            for field, msg in exc.errors.items()
        )
        return t("cli.error.invalid", lang, detail=detail)
    if isinstance(exc, PermissionDenied):
        return t("cli.error.permission", lang, detail=exc)
    if isinstance(exc, DBAPIError):
        lines = [line for line in str(exc.orig).splitlines() if line.strip()]
        return t("cli.error.database", lang, detail=lines[0] if lines else type(exc.orig).__name__)
    if isinstance(exc, ArgumentError):
        return t("cli.error.config", lang, detail=exc)
    if isinstance(exc, OSError):
        return t("cli.error.file", lang, path=exc.filename or "", detail=exc.strerror or exc)
    if isinstance(exc, KeyboardInterrupt):
        return t("cli.error.interrupted", lang)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; 0 on success, 2 on any failure (one line on stderr)."""
    lang = cli_language()
    args = build_parser(lang).parse_args(argv)
    # Databases, exports and backups hold personal data: readable by this account only.
    private_umask()
    try:
        args.handler(args, lang)
    except (Exception, KeyboardInterrupt) as exc:
        message = _explain(exc, lang)
        if message is None:
            if os.environ.get("GRIDCORE_DEBUG"):
                raise
            message = f"{type(exc).__name__}: {exc}".splitlines()[0]
        print(t("cli.error.prefix", lang, message=message), file=sys.stderr)
        return EXIT_FAILURE
    return 0
