"""The import framework: the header and cells on their own."""

from __future__ import annotations

from typing import Any

from gridcore.io.cells import resident_number, text
from gridcore.io.importer import Column, Row, check_header, in_chunks, read_rows
from gridcore.io.tabular import Table

COLUMNS = (
    Column("round", "轮次", text()),
    Column("resident_id", "居民编号", resident_number, required=True, filled=True),
    Column("name", "姓名", text(max_length=4), required=True),
)
REQUIRED = ("resident_id", "name")


def _found(problems: list[Any]) -> list[tuple[Any, ...]]:
    return [(p.row, p.column, p.value, p.key, p.params) for p in problems]


# --------------------------------------------------------------------------- the header


def test_headers_match_in_any_case_or_spacing_and_by_their_chinese_names() -> None:
    header = check_header(header=["ROUND", " Resident ID ", "姓 名"], columns=COLUMNS,
                          required=REQUIRED)  # fmt: skip
    assert header.positions == {"round": 0, "resident_id": 1, "name": 2}
    assert header.written == {"round": "ROUND", "resident_id": " Resident ID ", "name": "姓 名"}
    assert (header.problems, header.ignored) == ([], [])
    chinese = check_header(header=["居民编号", "轮次", "姓名"], columns=COLUMNS, required=REQUIRED)
    assert chinese.positions == {"resident_id": 0, "round": 1, "name": 2}


def test_a_column_named_twice_is_a_problem_even_in_two_languages() -> None:
    header = check_header(header=["name", "resident_id", "姓名", "NAME"], columns=COLUMNS,
                          required=REQUIRED)  # fmt: skip
    assert _found(header.problems) == [
        (1, "姓名", "姓名", "io.problem.duplicate_column", {}),
        (1, "NAME", "NAME", "io.problem.duplicate_column", {}),
    ]
    assert header.positions["name"] == 0  # the first one is read


def test_a_missing_column_is_named_with_its_chinese_name() -> None:
    header = check_header(header=["round", "备注"], columns=COLUMNS, required=REQUIRED)
    assert _found(header.problems) == [
        (1, "resident_id", "", "io.problem.missing_column", {"zh": "居民编号"}),
        (1, "name", "", "io.problem.missing_column", {"zh": "姓名"}),
    ]
    # An optional column may be left out.
    assert check_header(header=["居民编号", "姓名"], columns=COLUMNS, required=REQUIRED).ok


def test_unknown_and_unnamed_columns_are_listed_and_not_read() -> None:
    header = check_header(header=["resident_id", "备注", "", "name", "备注"], columns=COLUMNS,
                          required=REQUIRED)  # fmt: skip
    assert header.ok and header.ignored == ["备注", "备注"]
    assert header.positions == {"resident_id": 0, "name": 3}


# --------------------------------------------------------------------------- the cells


def test_cells_are_read_by_their_columns_and_every_bad_cell_is_a_problem() -> None:
    table = Table(
        columns=["姓名", "居民编号", "备注"],
        rows=[(2, ["甲", " 12 ", "x"]), (3, ["乙乙乙乙乙", "", ""]), (5, ["  ", "x1", ""])],
    )
    header = check_header(header=table.columns, columns=COLUMNS, required=REQUIRED)
    good, bad, worse = read_rows(table=table, header=header, columns=COLUMNS)
    assert dict(good) == {"name": "甲", "resident_id": 12, "round": ""}
    assert (good.number, good.problems) == (2, [])
    # A column the file leaves out reads as a blank cell.
    assert good["round"] == "" and good.read("round") and not good.has("round")
    # Problems name the column as the file does, in the file's order of columns.
    assert _found(bad.report()) == [
        (3, "姓名", "乙乙乙乙乙", "io.problem.too_long", {"max": 4}),
        (3, "居民编号", "", "io.problem.required", {}),
    ]
    assert not bad.read("resident_id") and not bad.read("name")
    assert _found(worse.report()) == [(5, "居民编号", "x1", "io.problem.unknown_resident", {})]
    assert worse.read("name") and worse["name"] == ""  # blank, but not required to be filled


def test_a_rule_may_show_another_value_than_the_cell() -> None:
    header = check_header(header=["resident_id", "name"], columns=COLUMNS, required=REQUIRED)
    row = Row(number=7, cells=["3", "甲"], header=header)
    row.problem("round", "io.problem.required")  # a column the file does not have
    row.problem("resident_id", "io.problem.check_mismatch", value="0000", resident=3)
    assert _found(row.report()) == [
        (7, "resident_id", "0000", "io.problem.check_mismatch", {"resident": 3}),
        (7, "round", "", "io.problem.required", {}),
    ]


def test_lookups_are_made_in_chunks() -> None:
    assert list(in_chunks(range(5), size=2)) == [[0, 1], [2, 3], [4]]
    assert list(in_chunks([], size=2)) == []
