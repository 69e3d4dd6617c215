"""`python -m gridcore`: the commands on a temporary database, in this process and as a program."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from cli_support import SECRET, failed_cleanly, run_cli, run_program
from sqlalchemy import text
from sqlmodel import Session

from gridcore.config import PROJECT_ROOT
from gridcore.db import make_engine
from gridcore.services.auth import authenticate, verify_kiosk_token

HAS_TINY = (PROJECT_ROOT / "gridcore" / "demo" / "tiny.py").exists()


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, str]]:
    """A database made by `init` (with the tiny demo when there is one); url, path, a grid code."""
    path = tmp_path_factory.mktemp("cli") / "gridcore.db"
    url = f"sqlite:///{path}"
    if HAS_TINY:
        run = run_cli("init", "--demo", "tiny", url=url)
        assert run.code == 0, run
        assert "Seeded the tiny demo world" in run.out
    else:
        run = run_cli("init", url=url)
        assert run.code == 0, run
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO area (code, name, level, households) "
                    "VALUES ('G-1', 'Grid 1', 'grid', 0)"
                )
            )
        engine.dispose()
    engine = make_engine(url)
    with engine.connect() as connection:
        code = connection.execute(
            text("SELECT code FROM area WHERE level = 'grid' ORDER BY id")
        ).scalar()
    engine.dispose()
    yield url, path, str(code)


def test_the_program_reports_a_failure_with_status_2() -> None:
    """A smoke test of `python -m gridcore` itself (test_cli_io has one that succeeds)."""
    failed_cleanly(run_program("users", "list", url="mysql://somewhere/db"), "DATABASE_URL")


def test_every_command_has_help(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'none.db'}"
    for command in (
        [],
        ["init"],
        ["seed"],
        ["users"],
        ["users", "add"],
        ["users", "list"],
        ["users", "set-password"],
        ["backup"],
        ["kiosk-link"],
    ):
        helped = run_cli(*command, "--help", url=url)
        assert helped.code == 0, (command, helped)
        assert "usage: python -m gridcore" in helped.out
    chinese = run_cli("--help", url=url, GRIDCORE_LANGUAGE="zh").out
    assert "网格" in chinese or "数据库" in chinese


def test_init_again_does_not_seed_twice(database: tuple[str, Path, str]) -> None:
    url, _, _ = database
    run = run_cli("init", "--demo", "tiny", url=url)
    assert run.code == 0, run
    assert "already" in run.out if HAS_TINY else "Seeded" in run.out


def test_users_add_list_and_set_password(database: tuple[str, Path, str]) -> None:
    url, _, grid = database
    added = run_cli(
        "users", "add", "alice", "--role", "grid_worker", "--grid", grid,
        "--full-name", "Alice Wang", "--password", "first-password", url=url,
    )  # fmt: skip
    assert added.code == 0, added
    assert "alice" in added.out
    listing = run_cli("users", "list", url=url)
    assert listing.code == 0
    line = next(row for row in listing.out.splitlines() if row.startswith("alice |"))
    assert "grid_worker" in line and "Alice Wang" in line and grid in line
    changed = run_cli("users", "set-password", "alice", "--password", "second-password", url=url)
    assert changed.code == 0, changed
    engine = make_engine(url)
    with Session(engine) as session:
        assert authenticate(session, username="alice", password="first-password") is None
        actor = authenticate(session, username="alice", password="second-password")
    engine.dispose()
    assert actor is not None and actor.grid_ids is not None and len(actor.grid_ids) == 1


def test_a_duplicate_user_is_one_clear_line_and_status_2(database: tuple[str, Path, str]) -> None:
    url, _, _ = database
    assert (
        run_cli("users", "add", "bob", "--role", "viewer", "--password", "bob-pass", url=url).code
        == 0
    )
    failed_cleanly(
        run_cli("users", "add", "bob", "--role", "viewer", "--password", "another-one", url=url),
        "bob",
        "taken",
    )


def test_bad_or_unreachable_database_is_reported_plainly(tmp_path: Path) -> None:
    failed_cleanly(run_cli("users", "list", url="mysql://somewhere/db"), "DATABASE_URL")
    failed_cleanly(run_cli("init", url="postgresql+psycopg://nobody@127.0.0.1:9/none"), "database")
    failed_cleanly(run_cli("users", "list", url=f"sqlite:///{tmp_path / 'empty.db'}"), "init")


def test_other_mistakes_are_explained(database: tuple[str, Path, str], tmp_path: Path) -> None:
    url, _, _ = database
    failed_cleanly(
        run_cli("users", "add", "carol", "--role", "grid_worker", "--grid", "NO-SUCH-GRID",
            "--password", "carol-password", url=url),
        "NO-SUCH-GRID",
    )  # fmt: skip
    failed_cleanly(
        run_cli(
            "users", "add", "carol", "--role", "grid_worker", "--password", "carol-pw", url=url
        ),
        "grid",
    )
    failed_cleanly(
        run_cli("users", "set-password", "nobody", "--password", "long-enough", url=url), "nobody"
    )
    failed_cleanly(run_cli("users", "set-password", "admin", "--password", "short", url=url), "8")
    # No terminal to ask for a password on, and none given.
    failed_cleanly(run_cli("users", "add", "dave", "--role", "viewer", url=url), "--password")
    failed_cleanly(run_cli("seed", "--scale", "tiny", url=url), "--replace")
    failed_cleanly(run_cli("kiosk-link", "--hours", "0", url=url), "hours")
    failed_cleanly(run_cli("backup", str(tmp_path / "missing" / "copy.db"), url=url), "missing")
    failed_cleanly(
        run_cli("backup", str(tmp_path / "c.db"), url=f"sqlite:///{tmp_path / 'none.db'}"),
        "none.db",
    )


def test_backup_makes_a_readable_copy(database: tuple[str, Path, str], tmp_path: Path) -> None:
    url, path, _ = database
    target = tmp_path / "copy.db"
    run = run_cli("backup", str(target), url=url)
    assert run.code == 0, run
    assert str(target) in run.out
    copy = sqlite3.connect(target)
    original = sqlite3.connect(path)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        for table in ("area", "user", "resident"):
            count = f"SELECT COUNT(*) FROM {table}"
            assert copy.execute(count).fetchone() == original.execute(count).fetchone()
    finally:
        copy.close()
        original.close()
    failed_cleanly(run_cli("backup", str(target), url=url), "--overwrite")


def test_kiosk_link_prints_a_url_whose_token_verifies(database: tuple[str, Path, str]) -> None:
    url, _, _ = database
    run = run_cli("kiosk-link", "--hours", "8", "--label", "Command room",
                   "--base-url", "http://command.local:8501/", url=url)  # fmt: skip
    assert run.code == 0, run
    link = urlparse(run.out.strip())
    assert (link.scheme, link.netloc, link.path) == ("http", "command.local:8501", "/")
    query = parse_qs(link.query)
    assert query["kiosk"] == ["1"]
    token = query["token"][0]
    engine = make_engine(url)
    with Session(engine) as session:
        assert verify_kiosk_token(session, token=token, secret=SECRET)
        assert not verify_kiosk_token(session, token=token, secret="another-secret")
    engine.dispose()


@pytest.mark.skipif(not HAS_TINY, reason="the tiny demo world is not there")
def test_seed_replace_starts_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'again.db'}"
    assert run_cli("seed", "--scale", "tiny", "--anchor", "2026-03-21", url=url).code == 0
    assert (
        run_cli(
            "users", "add", "erin", "--role", "viewer", "--password", "erin-password", url=url
        ).code
        == 0
    )
    failed_cleanly(run_cli("seed", "--scale", "tiny", url=url), "--replace")
    run = run_cli("seed", "--scale", "tiny", "--anchor", "2026-03-21", "--replace", url=url)
    assert run.code == 0, run
    assert "Seeded the tiny demo world in" in run.out and "area" in run.out
    listing = run_cli("users", "list", url=url).out
    assert "admin |" in listing and "erin" not in listing
    bad = run_cli("seed", "--scale", "tiny", "--anchor", "21/03/2026", url=url)
    assert bad.code == 2 and "Traceback" not in bad.err
