"""Importing test results: every problem found before anything is written; good files once."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from factories import (
    ADMIN,
    VIEWER,
    World,
    count,
    grid_worker,
    make_resident,
    make_street_with_grids,
)
from sqlmodel import Session, col, select

from gridcore.access import SYSTEM, PermissionDenied
from gridcore.config import get_settings
from gridcore.io import testing as test_results
from gridcore.io.cells import local_text
from gridcore.io.exchange import export_rows, export_to
from gridcore.io.report import ImportReport, describe, summary
from gridcore.io.tabular import FORMATS, Table, read_table, write_table
from gridcore.io.testing import (
    COLUMNS,
    KIND,
    export_test_results,
    import_test_results,
    resident_check,
)
from gridcore.models import (
    AuditEntry,
    Resident,
    TestRecord,
    TestRound,
    TestRoundArea,
    TestSite,
)
from gridcore.queries.testing import RoundNotFound, resolve_round, round_choices

pytestmark = pytest.mark.both_backends  # bulk import and export: the dialect matters

# The round runs from START for 24 hours; "now" is 30 hours after START.
START = datetime(2026, 3, 20, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
NOW = START + timedelta(hours=30)
ID_NUMBERS = ("11010519491231002X", "110105194912310038", "110105194912310054")


@dataclass
class Scene:
    """Grids G1, G2 in Round A (and G3 outside it); residents of G1 (`people`), G2, G3."""

    world: World
    round: TestRound
    site: TestSite
    other_site: TestSite
    people: list[Resident]
    g2_person: Resident
    g3_person: Resident

    def row(self, person: Resident | None = None, **cells: Any) -> dict[str, Any]:
        """A good row for `person` (default the first of G1), with `cells` changed."""
        person = person or self.people[0]
        grid = {g.id: g.code for g in self.world.grids}[person.grid_id]
        row = {
            "round": "Round A",
            "resident_id": person.id,
            "resident_check": resident_check(person.id_suffix, person.phone),
            "name": person.name,
            "grid_code": grid,
            "sampled_at": local_text(START + timedelta(hours=2), get_settings().tz),
            "method": "site",
            "site": self.site.name,
            "tube_code": "T0001",
            "result": "pending",
            "result_at": "",
        }
        row.update(cells)
        return row


def _scene(session: Session) -> Scene:
    world = make_street_with_grids(session, grids=3, buildings_per_grid=1)
    b1, b2, b3 = (w[0] for w in world.buildings)
    people = [
        make_resident(session, building=b1, unit="1-101", name="甲一", id_number=ID_NUMBERS[0]),
        make_resident(session, building=b1, unit="1-101", name="甲二", phone="139-0000-4321"),
        make_resident(session, building=b1, unit="1-102", name="甲三"),  # no ID, no phone
    ]
    people += [
        make_resident(
            session, building=b1, unit=f"2-{i:03d}", name=f"乙{i}", phone=f"1380000{i:04d}"
        )
        for i in range(1, 21)
    ]
    g2_person = make_resident(session, building=b2, name="丙", id_number=ID_NUMBERS[1])
    g3_person = make_resident(session, building=b3, name="丁", id_number=ID_NUMBERS[2])
    test_round = TestRound(name="Round A", start_at=START, deadline_at=START + timedelta(hours=24))
    other = TestRound(name="Round B", start_at=START - timedelta(days=3),
                      deadline_at=START - timedelta(days=2))  # fmt: skip
    session.add_all([test_round, other])
    session.flush()
    session.add_all([TestRoundArea(round_id=test_round.id, grid_id=g.id) for g in world.grids[:2]])
    session.add(TestRoundArea(round_id=other.id, grid_id=world.grids[0].id))
    site = TestSite(round_id=test_round.id, name="Hall", hourly_capacity=300)
    other_site = TestSite(round_id=test_round.id, name="School", hourly_capacity=300)
    session.add_all([site, other_site])
    session.commit()
    return Scene(world, test_round, site, other_site, people, g2_person, g3_person)


@pytest.fixture(scope="module")
def world_builder() -> Callable[[Session], Scene]:
    """The scene of `_scene` (built once a run)."""
    return _scene


@pytest.fixture
def scene(world: Scene) -> Scene:
    return world


def _table(
    rows: list[dict[str, Any]], fmt: str = "csv", columns: tuple[str, ...] = COLUMNS
) -> Table:
    """The rows written to a real file and read back, as an upload would be."""
    data = write_table(
        columns=list(columns), rows=[[r.get(c, "") for c in columns] for r in rows], fmt=fmt
    )
    return read_table(data=data, fmt=fmt)


def _import(session: Session, table: Table, **kwargs: Any) -> ImportReport:
    kwargs.setdefault("actor", SYSTEM)
    return import_test_results(session=session, table=table, now=NOW, **kwargs)


def _records(session: Session) -> list[tuple[Any, ...]]:
    rows = session.exec(
        select(
            TestRecord.round_id, TestRecord.resident_id, TestRecord.grid_id, TestRecord.site_id,
            TestRecord.method, TestRecord.sampled_at, TestRecord.tube_code, TestRecord.result,
            TestRecord.result_at,
        ).order_by(col(TestRecord.resident_id))
    ).all()  # fmt: skip
    return [tuple(r) for r in rows]


def _found(report: ImportReport) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.key) for p in report.problems]


# --------------------------------------------------------------------------- good files


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_good_file_writes_exactly_its_rows(session: Session, scene: Scene, fmt: str) -> None:
    p = scene.people
    rows = [
        scene.row(p[0]),
        scene.row(
            p[1],
            method="door_to_door",
            site="",
            tube_code="",
            result="阴性",
            result_at="2026-03-20 15:30",
        ),  # fmt: skip
        scene.row(p[2], site="School", result="positive", result_at="2026-03-20T16:00:00+08:00"),
        scene.row(
            scene.g2_person,
            sampled_at="2026-03-20T09:15:00Z",
            result="INVALID",
            result_at="2026-03-20T10:00:00Z",
            round="",
            method="上门",
            site="",
        ),  # fmt: skip
    ]
    report = _import(session, _table(rows, fmt), round_id=scene.round.id, source=f"desk.{fmt}")
    assert report.ok, report.frame()
    assert (report.rows, report.created, report.updated, report.unchanged) == (4, 4, 0, 0)
    assert report.written
    g1, g2 = scene.world.grids[0].id, scene.world.grids[1].id
    ten = START + timedelta(hours=2)
    assert _records(session) == [
        (scene.round.id, p[0].id, g1, scene.site.id, "site", ten, "T0001", "pending", None),
        (scene.round.id, p[1].id, g1, None, "door_to_door", ten, None, "negative",
         datetime(2026, 3, 20, 7, 30, tzinfo=UTC)),  # 15:30 local time
        (scene.round.id, p[2].id, g1, scene.other_site.id, "site", ten, "T0001", "positive",
         datetime(2026, 3, 20, 8, 0, tzinfo=UTC)),
        (scene.round.id, scene.g2_person.id, g2, None, "door_to_door",
         datetime(2026, 3, 20, 9, 15, tzinfo=UTC), "T0001", "invalid",
         datetime(2026, 3, 20, 10, 0, tzinfo=UTC)),
    ]  # fmt: skip
    entries = session.exec(select(AuditEntry).where(AuditEntry.action == "import")).all()
    assert len(entries) == 1
    assert (entries[0].username, entries[0].entity, entries[0].entity_id) == (
        "system",
        "test_record",
        str(scene.round.id),
    )
    assert json.loads(entries[0].changes) == {
        "file": f"desk.{fmt}",
        "rows": 4,
        "created": 4,
        "updated": 0,
        "unchanged": 0,
        "rows_with_problems": 0,
        "rounds": [scene.round.id],
    }


def test_importing_the_same_file_again_changes_nothing(session: Session, scene: Scene) -> None:
    rows = [scene.row(p, tube_code=f"T{i}") for i, p in enumerate(scene.people[:5])]
    first = _import(session, _table(rows))
    before = _records(session)
    again = _import(session, _table(rows))
    assert (first.created, again.created, again.updated, again.unchanged) == (5, 0, 0, 5)
    assert _records(session) == before


def test_a_results_file_completes_pending_samples(session: Session, scene: Scene) -> None:
    people = scene.people[:4]
    _import(session, _table([scene.row(p, tube_code="" if p is people[3] else "T1")
                             for p in people]))  # fmt: skip
    later = "2026-03-20T18:00:00+08:00"
    results = [
        scene.row(people[0], tube_code="T1", result="negative", result_at=later),
        scene.row(people[1], tube_code="", result="pending"),  # no news: stays as it is
        scene.row(people[2], tube_code="", result="阳性", result_at=later),
        scene.row(people[3], tube_code="T9"),  # the tube was not known yet
    ]
    report = _import(session, _table(results))
    assert report.ok, report.frame()
    assert (report.created, report.updated, report.unchanged) == (0, 3, 1)
    by_resident = {r[1]: r for r in _records(session)}
    when = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)
    assert by_resident[people[0].id][7:] == ("negative", when)
    assert by_resident[people[1].id][7:] == ("pending", None)
    assert by_resident[people[2].id][7:] == ("positive", when)
    assert by_resident[people[3].id][6] == "T9"
    # A pending row never undoes a known result.
    report = _import(session, _table([scene.row(people[0], tube_code="T1")]))
    assert (report.updated, report.unchanged) == (0, 1)
    assert {r[1]: r for r in _records(session)}[people[0].id][7] == "negative"


def test_results_that_contradict_stored_ones_are_conflicts(session: Session, scene: Scene) -> None:
    p = scene.people
    stored = [
        scene.row(p[0], result="negative", result_at="2026-03-20T18:00:00+08:00"),
        scene.row(p[1]),
        scene.row(p[2]),
        scene.row(p[3]),
    ]
    _import(session, _table(stored))
    before = _records(session)
    changed = [
        scene.row(p[0], result="positive", result_at="2026-03-20T18:00:00+08:00"),
        scene.row(p[1], sampled_at="2026-03-20T11:00:00+08:00"),
        scene.row(p[2], site="School"),
        scene.row(p[3], tube_code="T2", method="door_to_door", site=""),
    ]
    report = _import(session, _table(changed))
    assert _found(report) == [
        (2, "result", "io.problem.conflict"),
        (3, "sampled_at", "io.problem.conflict"),
        (4, "site", "io.problem.conflict"),
        (5, "method", "io.problem.conflict"),
        (5, "tube_code", "io.problem.conflict"),
    ]
    assert report.problems[0].params == {"stored": "negative"}
    assert report.problems[1].params == {"stored": "2026-03-20T10:00:00+08:00"}
    assert report.problems[2].params == {"stored": "Hall"}
    assert not report.written
    assert _records(session) == before


# --------------------------------------------------------------------------- every mistake


def _mistakes(scene: Scene) -> list[dict[str, Any]]:
    """Rows 2-23 of a file: one good row, then one mistake a row (p[22] has a stored sample)."""
    p = scene.people
    return [
        scene.row(p[0]),  # row 2: good
        scene.row(p[1], resident_id="99999"),  # 3
        scene.row(p[2], resident_check="0000"),  # 4
        scene.row(p[3], grid_code="NO-SUCH-GRID"),  # 5
        scene.row(p[4], grid_code=scene.world.grids[1].code),  # 6: lives in G1
        scene.row(scene.g3_person),  # 7: G3 is not in the round
        scene.row(p[0], tube_code="T0002"),  # 8: the same resident as row 2
        scene.row(p[22], sampled_at="2026-03-20T11:00:00+08:00"),  # 9: recorded at 10:00
        scene.row(p[5], sampled_at="20/03/2026 10h"),  # 10
        scene.row(p[6], sampled_at="2026-03-21T12:00:00+08:00"),  # 11: after the deadline
        scene.row(p[7], result="maybe"),  # 12
        scene.row(p[8], method="drive-through"),  # 13
        scene.row(p[9], round="Round Z"),  # 14
        scene.row(p[10], result="negative", result_at="2026-03-21T18:00:00+08:00"),  # 15
        scene.row(p[11], site="Nowhere"),  # 16
        scene.row(p[12], method="door_to_door"),  # 17: a site given
        scene.row(p[13], result="negative", result_at="2026-03-20T09:00:00+08:00"),  # 18
        scene.row(p[14], result_at="2026-03-20T18:00:00+08:00"),  # 19: still pending
        scene.row(p[15], grid_code=""),  # 20
        scene.row(p[16], tube_code="T" * 41),  # 21
        scene.row(p[17], site=""),  # 22: on site, but where?
        scene.row(p[18], round="Round B", method="door_to_door", site=""),  # 23: too late
    ]


def test_a_file_full_of_mistakes_gives_exactly_those_problems_and_writes_nothing(
    session: Session, scene: Scene
) -> None:
    p = scene.people
    # p[22] already has a sample, taken at 10:00 local time.
    _import(session, _table([scene.row(p[22])]))
    records_before, audit_before = count(session, TestRecord), count(session, AuditEntry)
    rows = _mistakes(scene)
    report = _import(session, _table(rows))
    assert _found(report) == [
        (3, "resident_id", "io.problem.unknown_resident"),
        (4, "resident_check", "io.problem.check_mismatch"),
        (5, "grid_code", "io.problem.unknown_grid"),
        (6, "grid_code", "io.problem.grid_mismatch"),
        (7, "grid_code", "io.problem.not_in_round"),
        (8, "resident_id", "io.problem.duplicate"),
        (9, "sampled_at", "io.problem.conflict"),
        (10, "sampled_at", "io.problem.bad_time"),
        (11, "sampled_at", "io.problem.outside_round"),
        (12, "result", "io.problem.bad_result"),
        (13, "method", "io.problem.bad_method"),
        (14, "round", "io.problem.unknown_round"),
        (15, "result_at", "io.problem.in_future"),
        (16, "site", "io.problem.unknown_site"),
        (17, "site", "io.problem.site_for_door"),
        (18, "result_at", "io.problem.result_before_sample"),
        (19, "result_at", "io.problem.pending_with_time"),
        (20, "grid_code", "io.problem.required"),
        (21, "tube_code", "io.problem.too_long"),
        (22, "site", "io.problem.site_required"),
        (23, "sampled_at", "io.problem.outside_round"),
    ]
    params = {p.row: p.params for p in report.problems}
    assert params[4] == {"resident": p[2].id}
    assert params[6] == {"grid": scene.world.grids[0].code}
    assert params[7] == {"round": "Round A"}
    assert params[8] == {"first": 2}
    assert params[11] == {"start": "2026-03-20 08:00", "end": "2026-03-21 08:00"}
    assert params[21] == {"max": 40}
    values = {p.row: p.value for p in report.problems}
    assert values[10] == "20/03/2026 10h"
    assert values[3] == "99999"
    assert (report.rows, report.bad_rows, report.created) == (22, 21, 1)
    assert not report.written
    assert (count(session, TestRecord), count(session, AuditEntry)) == (
        records_before,
        audit_before,
    )


def test_a_file_read_in_chunks_gives_the_same_report_as_read_whole(
    session: Session, scene: Scene
) -> None:
    p = scene.people
    _import(session, _table([scene.row(p[22]), scene.row(p[21])]))  # stored samples
    records_before, audit_before = count(session, TestRecord), count(session, AuditEntry)
    rows = [
        scene.row(p[19]),  # row 2: good
        scene.row(p[21], result="negative", result_at="2026-03-20T12:00:00+08:00"),  # an update
        scene.row(p[19], site=""),  # 4: a duplicate of row 2, written by then in small chunks
        *_mistakes(scene),
        scene.row(p[20]),  # 27: good
    ]
    whole = _import(session, _table(rows), chunk_rows=10_000)
    assert (whole.created, whole.updated, whole.bad_rows) == (3, 1, 22)
    assert _found(whole)[:2] == [
        (4, "resident_id", "io.problem.duplicate"),
        (4, "site", "io.problem.site_required"),
    ]
    for size in (2, 5):
        chunked = _import(session, _table(rows), chunk_rows=size)
        assert chunked == whole
        assert (count(session, TestRecord), count(session, AuditEntry)) == (
            records_before,
            audit_before,
        )
    written = _import(session, _table(rows), chunk_rows=3, skip_bad_rows=True)
    assert (written.problems, written.created, written.updated) == (whole.problems, 3, 1)
    assert written.written
    assert count(session, TestRecord) == records_before + 3


def test_a_bad_row_in_the_last_chunk_writes_nothing_at_all(session: Session, scene: Scene) -> None:
    records_before, audit_before = count(session, TestRecord), count(session, AuditEntry)
    rows = [scene.row(person) for person in scene.people[:10]]
    rows.append(scene.row(scene.people[10], result="maybe"))  # row 12, in the fourth chunk
    report = _import(session, _table(rows), chunk_rows=3)
    assert _found(report) == [(12, "result", "io.problem.bad_result")]
    assert (report.rows, report.created, report.written) == (11, 10, False)
    assert (count(session, TestRecord), count(session, AuditEntry)) == (
        records_before,
        audit_before,
    )
    good = _import(session, _table(rows[:10]), chunk_rows=3, source="good.csv")
    assert (good.created, good.written) == (10, True)
    entry = session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc())).first()
    assert entry is not None and json.loads(entry.changes)["rows"] == 10
    assert count(session, TestRecord) == records_before + 10


def test_an_export_read_in_chunks_has_every_row(
    session: Session, scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    _import(session, _table([scene.row(person) for person in scene.people]))
    columns, whole = export_rows(session=session, kind=KIND, actor=ADMIN)
    assert len(whole) == len(scene.people)
    monkeypatch.setattr(test_results, "CHUNK", 4)
    for fmt in FORMATS:
        with tempfile.TemporaryFile() as out:
            written = export_to(out, session=session, kind=KIND, fmt=fmt, actor=ADMIN)
            out.seek(0)
            data = out.read()
        assert written == len(whole)
        if fmt == "csv":
            assert data == write_table(columns=columns, rows=whole, fmt=fmt)
        else:
            expected = read_table(data=write_table(columns=columns, rows=whole, fmt=fmt), fmt=fmt)
            assert read_table(data=data, fmt=fmt) == expected


def test_the_problems_read_in_both_languages(session: Session, scene: Scene) -> None:
    report = _import(session, _table([scene.row(resident_id="x1"), scene.row(result="?")]))
    for lang in ("en", "zh"):
        frame = describe(report.frame(), lang)
        assert list(frame.iloc[:, 0]) == [2, 3]
        assert all(message and "{" not in message for message in frame.iloc[:, 3])
    assert "2 rows: 0 new" in summary(report, "en")
    assert "Nothing was written" in summary(report, "en")


def test_missing_columns_are_a_file_level_problem(session: Session, scene: Scene) -> None:
    table = _table([scene.row()], columns=("resident_id", "grid_code", "sampled_at", "GRID_CODE"))
    report = _import(session, table)
    assert [(p.row, p.column, p.key) for p in report.problems] == [
        (1, "GRID_CODE", "io.problem.duplicate_column"),
        (1, "round", "io.problem.missing_column"),
        (1, "resident_check", "io.problem.missing_column"),
    ]
    assert report.bad_rows == 0 and not report.written
    # With the round given, its column may be left out.
    report = _import(session, table, round_id=scene.round.id)
    assert [p.column for p in report.problems] == ["GRID_CODE", "resident_check"]


def test_a_row_naming_another_round_than_the_chosen_one(session: Session, scene: Scene) -> None:
    other = session.exec(select(TestRound).where(TestRound.name == "Round B")).one()
    report = _import(session, _table([scene.row(round="Round B")]), round_id=scene.round.id)
    assert _found(report) == [(2, "round", "io.problem.round_differs")]
    report = _import(
        session, _table([scene.row(round=str(scene.round.id))]), round_id=scene.round.id
    )
    assert report.ok and report.created == 1
    assert other.id != scene.round.id


def test_rounds_are_found_by_id_or_name(session: Session, scene: Scene) -> None:
    assert resolve_round(session=session, ref="Round A") == scene.round.id
    assert resolve_round(session=session, ref=f" {scene.round.id} ") == scene.round.id
    with pytest.raises(RoundNotFound) as caught:
        resolve_round(session=session, ref="Round Z")
    assert (caught.value.key, caught.value.params) == (
        "io.error.unknown_round",
        {"round": "Round Z"},
    )
    session.add(TestRound(name="Round A", start_at=START, deadline_at=START + timedelta(days=1)))
    session.commit()
    with pytest.raises(RoundNotFound) as caught:
        resolve_round(session=session, ref="Round A")
    assert caught.value.key == "io.error.ambiguous_round"
    assert [name for _, name in round_choices(session=session)][-1] == "Round B"


# --------------------------------------------------------------------------- who may


def test_a_grid_worker_may_import_only_rows_of_their_grids(session: Session, scene: Scene) -> None:
    worker = grid_worker(scene.world.grids[0])
    rows = [scene.row(scene.people[0]), scene.row(scene.g2_person)]
    report = _import(session, _table(rows), actor=worker)
    assert _found(report) == [
        (3, "resident_id", "io.problem.unknown_resident"),
        (3, "grid_code", "io.problem.outside_scope"),
    ]
    assert count(session, TestRecord) == 0
    report = _import(session, _table(rows[:1]), actor=worker)
    assert report.written and count(session, TestRecord) == 1
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "import")).one()
    assert entry.username == worker.username


def test_skip_bad_rows_writes_the_good_ones(session: Session, scene: Scene) -> None:
    worker = grid_worker(scene.world.grids[0])
    rows = [scene.row(scene.people[0]), scene.row(scene.g2_person), scene.row(scene.people[1])]
    report = _import(session, _table(rows), actor=worker, skip_bad_rows=True)
    assert (report.created, report.bad_rows, report.written) == (2, 1, True)
    assert sorted(r[1] for r in _records(session)) == [scene.people[0].id, scene.people[1].id]
    changes = json.loads(session.exec(select(AuditEntry.changes)).all()[-1])
    assert (changes["created"], changes["rows_with_problems"]) == (2, 1)


def test_the_check_tells_a_worker_nothing_about_residents_of_other_grids(
    session: Session, scene: Scene
) -> None:
    """Every check value for another grid's resident reads as a number that does not exist."""
    worker = grid_worker(scene.world.grids[0])
    own_grid = scene.world.grids[0].code
    target = scene.g2_person  # lives in G2; check "0038"
    checks = [f"{n:04d}" for n in range(0, 100)] + ["0038"]
    rows = [scene.row(target, resident_check=c, grid_code=own_grid) for c in checks]
    rows.append(scene.row(target, resident_id="99999", grid_code=own_grid))  # no such resident

    def problems(report: ImportReport) -> set[tuple[str, str, str]]:
        return {(p.column, p.key, json.dumps(p.params, sort_keys=True)) for p in report.problems}

    report = _import(session, _table(rows), actor=worker, dry_run=True)
    per_row: dict[int, set[tuple[str, str, str]]] = {}
    for p in report.problems:
        per_row.setdefault(p.row, set()).add((p.column, p.key, json.dumps(p.params)))
    assert len(per_row) == len(rows)
    assert {frozenset(found) for found in per_row.values()} == {
        frozenset({("resident_id", "io.problem.unknown_resident", "{}")})
    }
    # The right check and the wrong ones, alone in a file each: the same report.
    right = _import(session, _table(rows[-2:-1]), actor=worker, dry_run=True)
    wrong = _import(session, _table(rows[:1]), actor=worker, dry_run=True)
    unknown = _import(session, _table(rows[-1:]), actor=worker, dry_run=True)
    assert problems(right) == problems(wrong) == problems(unknown)
    assert [(p.row, p.value) for p in right.problems] == [(2, str(target.id))]
    # The same resident, to an administrator: the check is compared.
    admin = _import(session, _table([scene.row(target, resident_check="0000")]), dry_run=True)
    assert _found(admin) == [(2, "resident_check", "io.problem.check_mismatch")]
    assert count(session, TestRecord) == 0


def test_a_dry_run_writes_nothing(session: Session, scene: Scene) -> None:
    audit_before = count(session, AuditEntry)  # the residents' registrations
    report = _import(session, _table([scene.row()]), dry_run=True)
    assert report.ok and report.created == 1 and not report.written
    assert (count(session, TestRecord), count(session, AuditEntry)) == (0, audit_before)


def test_a_viewer_may_not_import(session: Session, scene: Scene) -> None:
    with pytest.raises(PermissionDenied):
        _import(session, _table([scene.row()]), actor=VIEWER)
    assert count(session, TestRecord) == 0


# --------------------------------------------------------------------------- export


def test_export_writes_one_row_per_record_in_the_documented_columns(
    session: Session, scene: Scene
) -> None:
    _import(
        session,
        _table([scene.row(scene.people[0], result="negative",
                          result_at="2026-03-20T12:00:00+08:00"),
                scene.row(scene.g2_person, method="door_to_door", site="")]),
    )  # fmt: skip
    columns, rows = export_test_results(session=session, actor=ADMIN)
    assert tuple(columns) == COLUMNS
    assert list(rows) == [
        ["Round A", scene.people[0].id, ID_NUMBERS[0][-4:], "甲一", scene.world.grids[0].code,
         "2026-03-20T10:00:00+08:00", "site", "Hall", "T0001", "negative",
         "2026-03-20T12:00:00+08:00"],
        ["Round A", scene.g2_person.id, ID_NUMBERS[1][-4:], "丙", scene.world.grids[1].code,
         "2026-03-20T10:00:00+08:00", "door_to_door", "", "T0001", "pending", ""],
    ]  # fmt: skip
    _, mine = export_test_results(session=session, actor=grid_worker(scene.world.grids[1]))
    assert [r[1] for r in mine] == [scene.g2_person.id]
    _, other_round = export_test_results(session=session, actor=ADMIN, round_id=scene.round.id + 1)
    assert list(other_round) == []
    with pytest.raises(PermissionDenied):
        export_test_results(session=session, actor=VIEWER)


def test_the_resident_check_is_id_then_phone_then_nothing() -> None:
    assert resident_check("002X", "13900001234") == "002X"
    assert resident_check(None, "139-0000-4321") == "4321"
    assert resident_check(None, None) == ""


# The desks' spreadsheets have Chinese headers.
CHINESE = ("轮次", "居民编号", "核验码", "姓名", "网格编码", "采样时间", "采样方式", "采样点",
           "管号", "检测结果", "出结果时间")  # fmt: skip


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_chinese_headers_are_read_like_english_ones(
    session: Session, scene: Scene, fmt: str
) -> None:
    def table(rows: list[dict[str, Any]]) -> Table:
        data = write_table(columns=list(CHINESE), rows=[[r[c] for c in COLUMNS] for r in rows],
                           fmt=fmt)  # fmt: skip
        return read_table(data=data, fmt=fmt)

    p = scene.people
    rows = [
        scene.row(p[0], result="阴性", result_at="2026-03-20 15:30"),
        scene.row(p[1], method="上门", site=""),
        scene.row(p[2], result="也许"),
    ]
    report = _import(session, table(rows))
    assert _found(report) == [(4, "检测结果", "io.problem.bad_result")]
    assert count(session, TestRecord) == 0
    report = _import(session, table(rows[:2]))
    assert report.ok and report.written and report.created == 2
    assert [r[4] for r in _records(session)] == ["site", "door_to_door"]
    assert [r[7] for r in _records(session)] == ["negative", "pending"]


def test_columns_the_kind_does_not_know_are_listed_and_not_read(
    session: Session, scene: Scene
) -> None:
    table = _table([scene.row()], columns=(*COLUMNS, "备注", "remarks"))
    report = _import(session, table)
    assert report.ok and report.created == 1
    assert report.ignored_columns == ["备注", "remarks"]
