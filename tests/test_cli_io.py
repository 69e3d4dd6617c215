"""`python -m gridcore export|import`: files, exit statuses and messages, on the tiny world."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import failed_cleanly, run_cli, run_program
from sqlalchemy import delete, func, select
from sqlmodel import Session, col

from gridcore.access import SYSTEM
from gridcore.db import make_engine
from gridcore.io.exchange import export_rows
from gridcore.io.tabular import read_table, write_table
from gridcore.models import AuditEntry, Resident, TestRecord
from gridcore.queries.testing import resolve_round


@pytest.fixture
def url(tiny_url: str) -> str:
    """A new SQLite file with the tiny world for each test."""
    return tiny_url


def _counts(url: str) -> tuple[int, int, int]:
    engine = make_engine(url)
    with Session(engine) as s:
        found = tuple(
            int(s.execute(select(func.count()).select_from(m)).scalar_one())
            for m in (TestRecord, Resident, AuditEntry)
        )
    engine.dispose()
    return found  # type: ignore[return-value]


# --------------------------------------------------------------------------- round trips


def test_export_then_import_in_a_subprocess_changes_nothing(url: str, tmp_path: Path) -> None:
    target = tmp_path / "round2.csv"
    run = run_program("export", "test-results", str(target), "--round", "Round 2", url=url)
    assert run.code == 0, run
    assert run.out.startswith("Wrote 39 rows to ")
    assert len(read_table(data=target.read_bytes(), fmt="csv").rows) == 39
    before = _counts(url)
    run = run_program("import", "test-results", str(target), "--round", "Round 2", url=url)
    assert (run.code, run.err) == (0, ""), run
    assert "39 rows: 0 new, 0 changed, 39 unchanged" in run.out
    assert "Imported." in run.out
    records, residents, audits = _counts(url)
    assert (records, residents, audits) == (before[0], before[1], before[2] + 1)


def test_a_dry_run_of_a_workbook_writes_nothing(url: str, tmp_path: Path) -> None:
    target = tmp_path / "all.xlsx"
    assert run_cli("export", "test-results", str(target), url=url).code == 0
    before = _counts(url)
    run = run_cli("import", "test-results", str(target), "--dry-run", url=url)
    assert run.code == 0, run
    assert "103 rows: 0 new, 0 changed, 103 unchanged" in run.out
    assert "Checked only" in run.out
    assert _counts(url) == before


def test_residents_export_and_import_in_process(url: str,
                                                tmp_path: Path) -> None:  # fmt: skip
    target = tmp_path / "register.xlsx"
    assert run_cli("export", "residents", str(target), url=url).code == 0
    run = run_cli("import", "residents", str(target), url=url)
    assert run.code == 0, run
    assert "71 rows: 0 new, 0 changed, 71 unchanged" in run.out


def test_chinese_headers_export_and_import_by_round_name_in_chinese(
    url: str, tmp_path: Path
) -> None:
    """--headers zh writes 轮次, 居民编号 …; the file imports as it is; rounds named in Chinese."""
    target = tmp_path / "第2轮.csv"
    run = run_cli(
        "export", "test-results", str(target), "--round", "第2轮全员核酸", "--headers", "zh",
        url=url,
    )  # fmt: skip
    assert run.code == 0, run
    table = read_table(data=target.read_bytes(), fmt="csv")
    assert table.columns[:3] == ["轮次", "居民编号", "核验码"]
    assert len(table.rows) == 39
    before = _counts(url)
    run = run_cli("import", "test-results", str(target), url=url)
    assert run.code == 0, run
    assert "39 rows: 0 new, 0 changed, 39 unchanged" in run.out
    assert _counts(url) == (before[0], before[1], before[2] + 1)


# --------------------------------------------------------------------------- problems: status 1


def _bad_file(path: Path, url: str) -> None:
    """Round 2's export with row 3 pointing at an unknown resident and row 5 a bad result."""
    engine = make_engine(url)
    with Session(engine) as s:
        round_id = resolve_round(session=s, ref="Round 2")
        columns, rows = export_rows(session=s, kind="test-results", actor=SYSTEM, round_id=round_id)
    engine.dispose()
    rows[1][1] = 99999
    rows[3][9] = "maybe"
    path.write_bytes(write_table(columns=columns, rows=rows, fmt="csv"))


def test_problems_exit_1_and_write_nothing(url: str, tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    _bad_file(source, url)
    before = _counts(url)
    run = run_cli("import", "test-results", str(source), "--dry-run", url=url)
    assert run.code == 1, run
    lines = run.out.strip().splitlines()
    assert lines[0].startswith(
        "39 rows: 0 new, 0 changed, 37 unchanged; 2 rows with problems (2 problems in all)."
    )
    assert lines[1] == (
        'row 3, resident_id "99999": '
        "There is no resident with this number in the grids you may change."
    )
    assert lines[2].startswith('row 5, result "maybe": Not a result')
    assert "Traceback" not in run.err
    run = run_cli("import", "test-results", str(source), url=url)
    assert run.code == 1
    assert "Nothing was written" in run.out
    assert _counts(url) == before


def test_times_at_the_ends_of_the_calendar_are_problems_not_crashes(
    url: str, tmp_path: Path
) -> None:
    engine = make_engine(url)
    with Session(engine) as s:
        round_id = resolve_round(session=s, ref="Round 2")
        columns, rows = export_rows(session=s, kind="test-results", actor=SYSTEM, round_id=round_id)
    engine.dispose()
    at = columns.index("sampled_at")
    rows[0][at] = "0001-01-01T00:00:00+08:00"
    rows[1][at] = "9999-12-31T23:59:59-08:00"
    rows[2][at] = "9999-12-31T23:59:59"
    source = tmp_path / "ends.csv"
    source.write_bytes(write_table(columns=columns, rows=rows[:3], fmt="csv"))
    run = run_cli("import", "test-results", str(source), "--dry-run", url=url)
    assert run.code == 1, run
    lines = run.out.strip().splitlines()
    assert [line.split(":")[0] for line in lines[1:4]] == [
        'row 2, sampled_at "0001-01-01T00',
        'row 3, sampled_at "9999-12-31T23',
        'row 4, sampled_at "9999-12-31T23',
    ]
    assert all("Not a date and time" in line for line in lines[1:4])
    assert "Traceback" not in run.err


def test_skip_bad_rows_writes_the_good_rows_and_still_exits_1(url: str, tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    _bad_file(source, url)
    engine = make_engine(url)
    with Session(engine) as s:  # remove round 2, so that its good rows are new again
        round_id = resolve_round(session=s, ref="Round 2")
        s.execute(delete(TestRecord).where(col(TestRecord.round_id) == round_id))
        s.commit()
    engine.dispose()
    before = _counts(url)
    run = run_cli("import", "test-results", str(source), "--skip-bad-rows", "--show", "1", url=url)
    assert run.code == 1
    assert "37 new" in run.out and "the rows with problems were left out" in run.out
    assert "… and 1 more problems." in run.out
    assert _counts(url) == (before[0] + 37, before[1], before[2] + 1)


# --------------------------------------------------------------------------- cannot run: status 2


def test_a_missing_file_is_one_line_and_status_2(url: str, tmp_path: Path) -> None:
    failed_cleanly(
        run_cli("import", "test-results", str(tmp_path / "none.csv"), url=url),
        "none.csv",
        "no file",
    )


def test_an_unreadable_workbook(url: str, tmp_path: Path) -> None:
    source = tmp_path / "broken.xlsx"
    source.write_bytes(b"this is not a workbook")
    failed_cleanly(run_cli("import", "residents", str(source), url=url), "broken.xlsx", "Excel")


def test_an_unknown_round(url: str, tmp_path: Path) -> None:
    source = tmp_path / "r.csv"
    source.write_text("resident_id,resident_check,grid_code,sampled_at\n")
    failed_cleanly(
        run_cli("import", "test-results", str(source), "--round", "Round 9", url=url), "Round 9"
    )
    failed_cleanly(
        run_cli("export", "test-results", str(tmp_path / "x.csv"), "--round", "9", url=url), "9"
    )


def test_an_unknown_extension(url: str, tmp_path: Path) -> None:
    source = tmp_path / "r.txt"
    source.write_text("a\n")
    failed_cleanly(run_cli("import", "residents", str(source), url=url), ".csv and .xlsx")
    failed_cleanly(run_cli("export", "residents", str(tmp_path / "r.xls"), url=url), "r.xls")


def test_export_does_not_overwrite_unless_told(url: str, tmp_path: Path) -> None:
    target = tmp_path / "register.csv"
    target.write_text("keep me")
    failed_cleanly(run_cli("export", "residents", str(target), url=url), "already exists")
    assert target.read_text() == "keep me"
    assert run_cli("export", "residents", str(target), "--overwrite", url=url).code == 0
    assert target.read_text(encoding="utf-8-sig").startswith("resident_id,grid_code,")
    failed_cleanly(
        run_cli("export", "residents", str(tmp_path / "no" / "such.csv"), url=url), "does not exist"
    )


def test_a_database_without_the_schema(tmp_path: Path) -> None:
    source = tmp_path / "r.csv"
    source.write_text("grid_code\n")
    failed_cleanly(
        run_cli("import", "residents", str(source), url=f"sqlite:///{tmp_path / 'empty.db'}"),
        "init",
    )


def test_columns_that_are_not_read_are_named(url: str, tmp_path: Path) -> None:
    target = tmp_path / "register.csv"
    assert run_cli("export", "residents", str(target), url=url).code == 0
    table = read_table(data=target.read_bytes(), fmt="csv")
    rows = [[*cells, "note"] for _, cells in table.rows]
    target.write_bytes(write_table(columns=[*table.columns, "备注"], rows=rows, fmt="csv"))
    run = run_cli("import", "residents", str(target), "--dry-run", url=url)
    assert run.code == 0, run
    assert run.out.strip().splitlines()[-1] == (
        "Columns not read (this kind of file has no such column): 备注"
    )
