"""`python -m gridcore`: the commands on a temporary database, in this process and as a program."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from cli_support import SECRET, Run, failed_cleanly, run_cli, run_program
from sqlalchemy import text
from sqlmodel import Session

from gridcore.cli import build_parser
from gridcore.config import PROJECT_ROOT
from gridcore.db import make_engine
from gridcore.i18n import catalogues
from gridcore.policy import DEFAULT_POLICY
from gridcore.services.access import authenticate, verify_kiosk_token

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
        ["policy"],
        ["policy", "list"],
        ["policy", "set"],
        ["policy", "reset"],
        ["brief"],
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
    failed_cleanly(run_cli("kiosk-link", "--hours", "0.0001", url=url), "hours", "0.1")
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


def _token(run: Run) -> str:
    assert run.code == 0, run
    return parse_qs(urlparse(run.out.strip()).query)["token"][0]


def _verifies(url: str, token: str) -> bool:
    engine = make_engine(url)
    with Session(engine) as session:
        ok = verify_kiosk_token(session, token=token, secret=SECRET)
    engine.dispose()
    return ok


def _table_row(out: str, first: str) -> list[str]:
    """The cells of the table row whose first cell is `first`."""
    for line in out.splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if cells[0] == first:
            return cells
    raise AssertionError(f"no row {first!r} in:\n{out}")


def test_kiosk_links_are_listed_and_revoked(database: tuple[str, Path, str]) -> None:
    url, _, _ = database
    token = _token(run_cli("kiosk-link", "--hours", "8", "--label", "Hall projector", url=url))
    listing = run_cli("kiosk-link", "--list", url=url)
    assert listing.code == 0, listing
    header = [cell.strip() for cell in listing.out.splitlines()[0].split("|")]
    assert header == [
        "id",
        "label",
        "created by",
        "created",
        "expires",
        "state",
        "seconds",
        "panels",
    ]
    link_id = next(
        line.split("|")[0].strip() for line in listing.out.splitlines() if "Hall projector" in line
    )
    row = _table_row(listing.out, link_id)
    assert (row[1], row[2], row[5]) == ("Hall projector", "system", "active")
    assert _verifies(url, token)

    revoked = run_cli("kiosk-link", "--revoke", link_id, url=url)
    assert revoked.code == 0, revoked
    assert f"Kiosk link {link_id} (Hall projector) is revoked" in revoked.out
    assert not _verifies(url, token)
    assert _table_row(run_cli("kiosk-link", "--list", url=url).out, link_id)[5] == "revoked"
    # Again: still revoked, still status 0.
    assert run_cli("kiosk-link", "--revoke", link_id, url=url).code == 0

    chinese = run_cli("kiosk-link", "--list", url=url, GRIDCORE_LANGUAGE="zh")
    assert chinese.code == 0 and _table_row(chinese.out, link_id)[5] == "已收回"


def test_kiosk_link_with_its_own_interval_and_panels(database: tuple[str, Path, str]) -> None:
    url, path, _ = database
    token = _token(run_cli("kiosk-link", "--hours", "2", "--interval", "7",
                           "--panels", "supplies,cases", "--label", "Panels", url=url))  # fmt: skip
    assert _verifies(url, token)
    listing = run_cli("kiosk-link", "--list", url=url).out
    link_id = next(line.split("|")[0].strip() for line in listing.splitlines() if "Panels" in line)
    assert _table_row(listing, link_id)[6:] == ["7", "cases,supplies"]

    def links() -> int:
        with sqlite3.connect(path) as db:
            return int(db.execute("select count(*) from kiosklink").fetchone()[0])

    before = links()
    for args, words in (
        (("--interval", "601"), ("interval_seconds", "601", "600")),
        (("--interval", "2"), ("interval_seconds", "3 to 600")),
        (("--panels", "cases,weather"), ("panels", "weather", "supplies")),
        (("--panels", ""), ("panels", "at least one")),
    ):
        failed_cleanly(run_cli("kiosk-link", "--hours", "1", *args, url=url), *words)
    assert links() == before, "a refused link was written"


def test_kiosk_link_mistakes_are_one_line(database: tuple[str, Path, str]) -> None:
    url, _, _ = database
    failed_cleanly(run_cli("kiosk-link", "--revoke", "987654", url=url), "987654", "no kiosk link")
    failed_cleanly(run_cli("kiosk-link", "--hours", "800", url=url), "hours", "744")
    failed_cleanly(run_cli("kiosk-link", "--list", "--label", "x", url=url), "--hours")
    failed_cleanly(
        run_cli("kiosk-link", "--revoke", "1", "--base-url", "http://x", url=url), "--hours"
    )
    failed_cleanly(run_cli("kiosk-link", "--list", "--interval", "5", url=url), "--interval")
    zh = run_cli("kiosk-link", "--revoke", "987654", url=url, GRIDCORE_LANGUAGE="zh")
    assert zh.code == 2 and "没有这个编号的大屏链接" in zh.err and len(zh.err.splitlines()) == 1
    with pytest.raises(SystemExit) as exit_:
        build_parser("en").parse_args(["kiosk-link", "--list", "--revoke", "1"])
    assert exit_.value.code == 2


def test_policy_list_set_and_reset(database: tuple[str, Path, str]) -> None:
    url, _, _ = database
    listing = run_cli("policy", "list", url=url)
    assert listing.code == 0, listing
    header = [cell.strip() for cell in listing.out.splitlines()[0].split("|")]
    assert header == ["setting", "value", "default", "changed by", "changed at"]
    assert _table_row(listing.out, "close_test_days")[1:4] == ["1,2,3,5,7", "1,2,3,5,7", ""]

    changed = run_cli("policy", "set", "round_max_hours", "12", url=url)
    assert changed.code == 0, changed
    assert changed.out.strip() == "round_max_hours: 24 → 12."
    again = run_cli("policy", "set", "round_max_hours", "12", url=url)
    assert again.code == 0 and "already 12" in again.out
    assert run_cli("policy", "set", "close_test_days", "1, 3,7", url=url).code == 0
    listing = run_cli("policy", "list", url=url).out
    assert _table_row(listing, "round_max_hours")[1:4] == ["12", "24", "system"]
    assert _table_row(listing, "round_max_hours")[4], "when it was changed"
    assert _table_row(listing, "close_test_days")[1:3] == ["1,3,7", "1,2,3,5,7"]

    for key in ("round_max_hours", "close_test_days"):
        reset = run_cli("policy", "reset", key, url=url)
        assert reset.code == 0, reset
        assert "back to its default" in reset.out
    listing = run_cli("policy", "list", url=url).out
    assert _table_row(listing, "round_max_hours")[1:4] == [
        str(DEFAULT_POLICY.round_max_hours),
        str(DEFAULT_POLICY.round_max_hours),
        "",
    ]


def test_policy_mistakes_are_one_line_in_both_languages(database: tuple[str, Path, str]) -> None:
    url, _, _ = database
    failed_cleanly(run_cli("policy", "set", "no_such_setting", "3", url=url), "no_such_setting")
    failed_cleanly(run_cli("policy", "reset", "no_such_setting", url=url), "policy list")
    failed_cleanly(run_cli("policy", "set", "round_max_hours", "1000", url=url), "1000", "1 to 168")
    failed_cleanly(run_cli("policy", "set", "round_max_hours", "-5", url=url), "-5", "1 to 168")
    failed_cleanly(run_cli("policy", "set", "round_max_hours", "a day", url=url), "whole number")
    failed_cleanly(run_cli("policy", "set", "close_test_days", "1,9", url=url), "close_test_days")
    zh = run_cli("policy", "set", "round_max_hours", "0", url=url, GRIDCORE_LANGUAGE="zh")
    assert zh.code == 2 and len(zh.err.splitlines()) == 1
    assert zh.err.startswith("错误：") and "允许范围为 1 至 168" in zh.err
    unknown = run_cli("policy", "set", "nope", "1", url=url, GRIDCORE_LANGUAGE="zh")
    assert unknown.code == 2 and "没有名为 'nope' 的防控策略设置" in unknown.err
    # Nothing of that was written.
    assert "system" not in run_cli("policy", "list", url=url).out
    assert catalogues()["zh"]["cli.help.policy"] in build_parser("zh").format_help()
