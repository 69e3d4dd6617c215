"""Files that hold personal data are readable by their owner only, from the moment they exist:
the database (and its write-ahead log), exports, backups and the secret key; and what `init`
(the first step of `make run`) says about the demo accounts' public password.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from gridcore.config import write_private
from gridcore.db import make_engine
from gridcore.demo import DEMO_PASSWORD
from tests.cli_support import run_cli


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def _permissive_umask() -> Iterator[None]:
    """The usual umask of a shell (files 0644), whatever an earlier test set."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_a_new_sqlite_database_and_its_log_are_private(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    with _permissive_umask():
        engine = make_engine(f"sqlite:///{path}")
        try:
            with engine.begin() as connection:
                connection.execute(text("CREATE TABLE t (x INTEGER)"))
                connection.execute(text("INSERT INTO t VALUES (1)"))
            assert _mode(path) == 0o600
            wal = path.with_name("new.db-wal")
            assert wal.exists() and _mode(wal) == 0o600
        finally:
            engine.dispose()


def test_a_private_file_is_never_readable_by_others_and_a_kept_one_wins(tmp_path: Path) -> None:
    target = tmp_path / ".secret_key"
    with _permissive_umask():
        assert write_private(target, b"first", replace=False)
        assert _mode(target) == 0o600
        # A second process making the key at the same moment keeps the first one's.
        assert not write_private(target, b"second", replace=False)
        assert target.read_bytes() == b"first"
        assert write_private(target, b"third")
        assert target.read_bytes() == b"third" and _mode(target) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [".secret_key"]  # no temporary left


def test_init_backup_and_export_make_private_files_and_name_the_demo_password(
    tmp_path: Path,
) -> None:
    path = tmp_path / "gridcore.db"
    url = f"sqlite:///{path}"
    with _permissive_umask():
        run = run_cli("init", "--demo", "tiny", url=url)
        assert run.code == 0, run
        # What `make run` prints on a fresh machine.
        assert DEMO_PASSWORD in run.out
        assert "admin, leader, viewer, worker" in run.out
        assert "python -m gridcore users set-password" in run.out
        assert _mode(path) == 0o600
        backup = tmp_path / "copy.db"
        assert run_cli("backup", str(backup), url=url).code == 0
        assert _mode(backup) == 0o600
        exported = tmp_path / "residents.csv"
        assert run_cli("export", "residents", str(exported), url=url).code == 0
        assert _mode(exported) == 0o600
    # Once the passwords are changed, or with the demo accounts off, it says so no more.
    for username in ("admin", "leader", "viewer"):
        changed = run_cli("users", "set-password", username, "--password", "s3cret-pass", url=url)
        assert changed.code == 0, changed
    again = run_cli("init", url=url)
    assert "worker" in again.out and "admin" not in again.out.split("(")[1].split(")")[0]
    off = run_cli("init", url=url, GRIDCORE_DEMO_ACCOUNTS="off")
    assert DEMO_PASSWORD not in off.out and "GRIDCORE_DEMO_ACCOUNTS=off" in off.out
