"""Testing writes: opening and closing rounds, sampling, results, door-to-door tasks."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from gridcore.access import PermissionDenied
from gridcore.models import (
    AuditEntry,
    ReplayKey,
    Task,
    TestRecord,
    TestRoundArea,
    TestSite,
    Worker,
)
from gridcore.queries.testing import roll_call
from gridcore.services.base import ValidationFailed
from gridcore.services.policy import set_policy_value
from gridcore.services.tasks import set_task_status
from gridcore.services.testing import (
    close_round,
    create_door_to_door_tasks,
    open_round,
    record_positive,
    record_results_batch,
    record_sample,
    undo_sample,
)
from tests.factories import (
    ADMIN,
    LEADER,
    VIEWER,
    grid_worker,
    grown,
    last_audit,
    table_counts,
)
from tests.testing_world import NOW, S, TestingWorld, build_testing_world


@pytest.fixture(scope="module")
def world_builder() -> Callable[[Session], TestingWorld]:
    """The world of tests/testing_world.py (built once a run)."""
    return build_testing_world


def _rid(world: TestingWorld) -> int:
    assert world.round.id is not None
    return world.round.id


def _round_data(world: TestingWorld, **fields: object) -> dict[str, object]:
    return {
        "name": "R2",
        "area_ids": [world.communities["C2"].id],
        "start_at": S + timedelta(days=1),
        "deadline_at": S + timedelta(days=1, hours=12),
        "sites": [{"name": "Square", "hourly_capacity": 250, "desks": 3, "lng": 121.4}],
        **fields,
    }


def _rejected(session: Session, errors: dict[str, str], call: object) -> None:
    """`call()` raises ValidationFailed with exactly `errors` and writes nothing."""
    before = table_counts(session)
    with pytest.raises(ValidationFailed) as failure:
        call()  # type: ignore[operator]
    assert failure.value.errors == errors
    assert grown(before, session) == {}


# --------------------------------------------------------------------------- rounds


@pytest.mark.both_backends  # a query that PostgreSQL plans and types differently
def test_open_round_over_a_community_means_its_grids(session: Session, world: TestingWorld) -> None:
    before = table_counts(session)
    test_round = open_round(session=session, data=_round_data(world), actor=LEADER)
    assert grown(before, session) == {
        "testround": 1,
        "testroundarea": 2,
        "testsite": 1,
        "auditentry": 1,
    }
    grids = session.exec(
        select(TestRoundArea.grid_id).where(TestRoundArea.round_id == test_round.id)
    ).all()
    assert sorted(grids) == sorted([world.gid("G3"), world.gid("G4")])
    site = session.exec(select(TestSite).where(TestSite.round_id == test_round.id)).one()
    assert (site.name, site.hourly_capacity, site.desks, site.lng) == ("Square", 250, 3, 121.4)
    assert test_round.closed_at is None
    entry = last_audit(session)
    assert (entry.action, entry.entity, entry.entity_id) == (
        "create",
        "test_round",
        str(test_round.id),
    )
    assert json.loads(entry.changes)["grid_ids"] == sorted([world.gid("G3"), world.gid("G4")])


@pytest.mark.both_backends  # time zones of stored timestamps
def test_open_round_over_the_street_with_a_naive_local_start(
    session: Session, world: TestingWorld
) -> None:
    data = _round_data(world, area_ids=[world.street.id, world.gid("G1")], sites=[])
    data["start_at"] = data["start_at"].replace(tzinfo=None) + timedelta(hours=8)  # type: ignore[union-attr]
    test_round = open_round(session=session, data=data, actor=ADMIN)
    assert test_round.start_at == S + timedelta(days=1)  # read as Shanghai time
    grids = session.exec(
        select(TestRoundArea.grid_id).where(TestRoundArea.round_id == test_round.id)
    ).all()
    assert len(grids) == 4


@pytest.mark.both_backends  # the replay check searches the audit log with LIKE
def test_a_double_submit_opens_one_round(session: Session, world: TestingWorld) -> None:
    first = open_round(
        session=session, data=_round_data(world), actor=LEADER, client_token="form-123456"
    )
    before = table_counts(session)
    again = open_round(
        session=session, data=_round_data(world), actor=LEADER, client_token="form-123456"
    )
    assert again.id == first.id
    assert grown(before, session) == {}


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"area_ids": []}, {"area_ids": "testing.error.no_grids"}),
        ({"area_ids": [99999]}, {"area_ids": "testing.error.area_not_found"}),
        (
            {"deadline_at": S + timedelta(days=1)},
            {"deadline_at": "services.error.end_before_start"},
        ),
        (
            {"deadline_at": S + timedelta(days=2, minutes=1)},
            {"deadline_at": "testing.error.round_too_long"},
        ),
        (
            {"sites": [{"name": "X", "area_id": 99999}]},
            {"sites.0.area_id": "testing.error.site_area_not_found"},
        ),
        ({"sites": [{"name": "X", "desks": 0}]}, {"sites": "services.error.too_small"}),
        ({"name": "  "}, {"name": "services.error.required"}),
    ],
)
def test_open_round_refuses_bad_input(
    session: Session, world: TestingWorld, fields: dict[str, object], errors: dict[str, str]
) -> None:
    _rejected(
        session,
        errors,
        lambda: open_round(session=session, data=_round_data(world, **fields), actor=LEADER),
    )


def test_open_round_follows_the_policys_limit(session: Session, world: TestingWorld) -> None:
    set_policy_value(session=session, key="round_max_hours", value=12, actor=ADMIN)
    data = _round_data(world, deadline_at=S + timedelta(days=1, hours=13))
    _rejected(
        session,
        {"deadline_at": "testing.error.round_too_long"},
        lambda: open_round(session=session, data=data, actor=LEADER),
    )
    assert open_round(session=session, data=_round_data(world), actor=LEADER).id is not None


@pytest.mark.parametrize("who", ["worker", "viewer"])
def test_only_command_opens_and_closes_rounds(
    session: Session, world: TestingWorld, who: str
) -> None:
    actor = grid_worker(world.grids["G3"], world.grids["G4"]) if who == "worker" else VIEWER
    before = table_counts(session)
    with pytest.raises(PermissionDenied):
        open_round(session=session, data=_round_data(world), actor=actor)
    with pytest.raises(PermissionDenied):
        close_round(session=session, round_id=_rid(world), actor=actor)
    assert grown(before, session) == {}


@pytest.mark.both_backends  # row locks (FOR UPDATE) and the transaction
def test_close_round_once(session: Session, world: TestingWorld) -> None:
    before = table_counts(session)
    closed = close_round(session=session, round_id=_rid(world), actor=LEADER, now=NOW)
    assert closed.closed_at == NOW
    assert grown(before, session) == {"auditentry": 1}
    entry = last_audit(session)
    assert (entry.action, entry.entity) == ("update", "test_round")
    before = table_counts(session)
    again = close_round(
        session=session, round_id=_rid(world), actor=LEADER, now=NOW + timedelta(hours=1)
    )
    assert again.closed_at == NOW
    assert grown(before, session) == {}
    _rejected(
        session,
        {"round_id": "testing.error.round_not_found"},
        lambda: close_round(session=session, round_id=99999, actor=LEADER),
    )


# --------------------------------------------------------------------------- sampling


def _sample(
    session: Session, world: TestingWorld, name: str = "乙二", **fields: object
) -> TestRecord:
    arguments: dict[str, object] = {
        "session": session,
        "resident_id": world.pid(name),
        "round_id": _rid(world),
        "site_id": world.sites["School"],
        "sampled_at": NOW - timedelta(minutes=5),
        "actor": grid_worker(world.grids["G1"]),
        "now": NOW,
        **fields,
    }
    return record_sample(**arguments)  # type: ignore[arg-type]


@pytest.mark.both_backends  # row locks (FOR UPDATE) and the transaction
def test_record_sample_writes_one_record_in_the_residents_grid(
    session: Session, world: TestingWorld
) -> None:
    before = table_counts(session)
    record = _sample(session, world, tube_code=" T99 ")
    assert grown(before, session) == {"testrecord": 1, "auditentry": 1}
    assert (record.grid_id, record.site_id, record.method) == (
        world.gid("G1"),
        world.sites["School"],
        "site",
    )
    assert (record.result, record.tube_code, record.sampled_at) == (
        "pending",
        "T99",
        NOW - timedelta(minutes=5),
    )
    entry = last_audit(session)
    assert (entry.action, entry.entity, entry.entity_id) == (
        "create",
        "test_record",
        str(record.id),
    )


def test_record_sample_door_to_door_at_now(session: Session, world: TestingWorld) -> None:
    record = _sample(session, world, site_id=None, door_to_door=True, sampled_at=None)
    assert (record.method, record.site_id, record.sampled_at) == ("door_to_door", None, NOW)


@pytest.mark.both_backends  # the replay check searches the audit log with LIKE
def test_a_double_submit_samples_once(session: Session, world: TestingWorld) -> None:
    first = _sample(session, world, client_token="desk-0000001")
    before = table_counts(session)
    assert _sample(session, world, client_token="desk-0000001").id == first.id
    assert grown(before, session) == {}


def test_undo_takes_a_sample_back_once_and_audits_it(session: Session, world: TestingWorld) -> None:
    record = _sample(session, world)
    assert record.id is not None
    before = table_counts(session)
    assert undo_sample(session=session, record_id=record.id, actor=LEADER, client_token="undo-0001")
    # The record is gone; the undo left one audit entry (and its replay key).
    assert session.get(TestRecord, record.id) is None
    assert grown(before, session) == {"testrecord": -1, "auditentry": 1, "replaykey": 1}
    entry = last_audit(session)
    assert (entry.action, entry.entity, entry.entity_id) == ("undo", "test_record", str(record.id))
    # Undoing twice (same tap sent again, or a second tap) writes nothing more.
    after = table_counts(session)
    assert not undo_sample(
        session=session, record_id=record.id, actor=LEADER, client_token="undo-0001"
    )
    assert not undo_sample(
        session=session, record_id=record.id, actor=LEADER, client_token="undo-0002"
    )
    assert grown(after, session) == {"replaykey": 1}
    # The resident can be sampled again.
    assert _sample(session, world).id is not None


@pytest.mark.counters_unchecked  # the result is set behind the services
def test_undo_is_refused_outside_the_workers_grids_and_once_a_result_is_in(
    session: Session, world: TestingWorld
) -> None:
    record = _sample(session, world)
    assert record.id is not None
    with pytest.raises(PermissionDenied):
        undo_sample(session=session, record_id=record.id, actor=grid_worker(world.grids["G2"]))
    record.result = "negative"  # type: ignore[assignment]
    session.add(record)
    session.commit()
    _rejected(
        session,
        {"record_id": "testing.error.undo_has_result"},
        lambda: undo_sample(session=session, record_id=record.id or 0, actor=LEADER),
    )


@pytest.mark.parametrize(
    ("name", "fields", "errors"),
    [
        ("庚一", {"actor": LEADER}, {"resident_id": "testing.error.resident_not_in_round"}),
        ("甲三", {}, {"resident_id": "testing.error.resident_exempt"}),
        ("甲一", {}, {"resident_id": "testing.error.already_sampled"}),
        ("乙二", {"site_id": None}, {"site_id": "testing.error.site_required"}),
        ("乙二", {"door_to_door": True}, {"site_id": "testing.error.site_and_door"}),
        ("乙二", {"site_id": 99999}, {"site_id": "testing.error.site_not_in_round"}),
        (
            "乙二",
            {"sampled_at": S - timedelta(minutes=1)},
            {"sampled_at": "testing.error.before_round_start"},
        ),
        (
            "乙二",
            {"sampled_at": NOW + timedelta(hours=1)},
            {"sampled_at": "services.error.time_in_future"},
        ),
        ("乙二", {"round_id": 99999}, {"round_id": "testing.error.round_not_found"}),
        ("乙二", {"resident_id": 99999}, {"resident_id": "services.error.resident_not_found"}),
        ("乙二", {"tube_code": "x" * 41}, {"tube_code": "services.error.too_long"}),
    ],
)
def test_record_sample_refuses(
    session: Session,
    world: TestingWorld,
    name: str,
    fields: dict[str, object],
    errors: dict[str, str],
) -> None:
    _rejected(session, errors, lambda: _sample(session, world, name, **fields))


def test_a_site_of_another_round_is_refused(session: Session, world: TestingWorld) -> None:
    old_site = session.exec(select(TestSite).where(TestSite.round_id == world.round0.id)).one()
    _rejected(
        session,
        {"site_id": "testing.error.site_not_in_round"},
        lambda: _sample(session, world, site_id=old_site.id),
    )


def test_an_exempt_resident_is_sampled_with_the_override(
    session: Session, world: TestingWorld
) -> None:
    record = _sample(session, world, "甲三", allow_exempt=True)
    assert record.grid_id == world.gid("G1")
    assert json.loads(last_audit(session).changes)["exempt"] is True


def test_a_closed_round_takes_no_samples(session: Session, world: TestingWorld) -> None:
    close_round(session=session, round_id=_rid(world), actor=LEADER, now=NOW)
    _rejected(session, {"round_id": "testing.error.round_closed"}, lambda: _sample(session, world))


def test_sampling_follows_the_grid_scope(session: Session, world: TestingWorld) -> None:
    before = table_counts(session)
    with pytest.raises(PermissionDenied):
        _sample(session, world, actor=grid_worker(world.grids["G2"]))
    with pytest.raises(PermissionDenied):
        _sample(session, world, actor=VIEWER)
    assert grown(before, session) == {}
    assert _sample(session, world, actor=LEADER).id is not None


# --------------------------------------------------------------------------- two desks at once
# A tap reads what it checks before it writes anything (on SQLite the write lock is then held
# for the writing only): another desk may write between its checks and its row. Here the
# other desk's tap is written and committed, through a connection of its own, just before
# this tap writes its row.


@contextmanager
def _written_first(engine: Engine, other_tap: Callable[[], object]) -> Iterator[None]:
    """Within the block: `other_tap()` runs once, just before a sample's row is written."""
    ran: list[bool] = []

    def before_a_row(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not ran and statement.lstrip().upper().startswith("INSERT INTO TESTRECORD"):
            ran.append(True)
            other_tap()

    event.listen(engine, "before_cursor_execute", before_a_row)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", before_a_row)
    assert ran, "no sample was written"


def _other_desk(engine: Engine, world: TestingWorld, name: str, token: str) -> Callable[[], int]:
    """A tap for `name` at another desk (another session), with the same user's `token`."""

    def tap() -> int:
        with Session(engine, expire_on_commit=False) as own:
            return _sample(own, world, name, client_token=token).id or 0

    return tap


@pytest.mark.both_backends  # the unique keys decide: SQLite's write lock, PostgreSQL's index
def test_a_tap_sent_twice_at_once_is_written_once(
    engine: Engine, session: Session, world: TestingWorld
) -> None:
    before = table_counts(session)
    firsts: list[int] = []
    other = _other_desk(engine, world, "乙二", "desk-race-0001")
    with _written_first(engine, lambda: firsts.append(other())):
        again = _sample(session, world, client_token="desk-race-0001")
    assert firsts and again.id == firsts[0]
    assert grown(before, session) == {"testrecord": 1, "auditentry": 1, "replaykey": 1}
    key = session.exec(select(ReplayKey).where(ReplayKey.client_token == "desk-race-0001")).one()
    assert key.entity_id == str(again.id)


@pytest.mark.both_backends
def test_a_resident_sampled_at_another_desk_meanwhile_is_refused(
    engine: Engine, session: Session, world: TestingWorld
) -> None:
    before = table_counts(session)
    other = _other_desk(engine, world, "乙二", "desk-race-0002")
    with _written_first(engine, other), pytest.raises(ValidationFailed) as refused:
        _sample(session, world, client_token="desk-race-0003")
    assert refused.value.errors == {"resident_id": "testing.error.already_sampled"}
    # The other desk's sample, its audit entry and its token; nothing of this tap.
    assert grown(before, session) == {"testrecord": 1, "auditentry": 1, "replaykey": 1}
    tokens = session.exec(select(ReplayKey.client_token)).all()
    assert "desk-race-0003" not in tokens
    # The token was not used up: the same tap for someone else is written.
    assert _sample(session, world, "丙一", client_token="desk-race-0003").id is not None


@pytest.mark.both_backends
def test_a_token_taken_meanwhile_returns_what_it_wrote_and_writes_nothing(
    engine: Engine, session: Session, world: TestingWorld
) -> None:
    """The same token sent for another resident (as a resent form would be) while this tap
    wrote: the tap's row is rolled back and the token's row returned, as when the token is
    found before the tap."""
    before = table_counts(session)
    firsts: list[int] = []
    other = _other_desk(engine, world, "丙一", "desk-race-0004")
    with _written_first(engine, lambda: firsts.append(other())):
        again = _sample(session, world, "乙二", client_token="desk-race-0004")
    assert firsts and again.id == firsts[0]
    assert grown(before, session) == {"testrecord": 1, "auditentry": 1, "replaykey": 1}
    assert _sample(session, world, "乙二").id is not None


# --------------------------------------------------------------------------- results


def _add_pool(session: Session, world: TestingWorld) -> list[TestRecord]:
    """丙一, 丙二 and 乙二 sampled into one pooled tube 'P1'."""
    return [
        _sample(session, world, name, tube_code="P1", actor=LEADER)
        for name in ("丙一", "丙二", "乙二")
    ]


@pytest.mark.both_backends  # row locks (FOR UPDATE) and the transaction
def test_a_pooled_tube_is_negative_in_one_write(session: Session, world: TestingWorld) -> None:
    pool = _add_pool(session, world)
    before = table_counts(session)
    changed = record_results_batch(
        session=session,
        tube_code="P1",
        round_id=_rid(world),
        actor=grid_worker(world.grids["G1"]),
        now=NOW,
    )
    assert changed == 3
    assert grown(before, session) == {"auditentry": 1}
    for record in pool:
        session.refresh(record)
        assert (record.result, record.result_at) == ("negative", NOW)
    entry = last_audit(session)
    assert (entry.action, entry.entity, entry.entity_id) == ("update", "test_record", None)
    assert sorted(json.loads(entry.changes)["record_ids"]) == sorted(r.id for r in pool)
    # Again: nothing left to change, nothing written.
    before = table_counts(session)
    again = record_results_batch(
        session=session, tube_code="P1", round_id=_rid(world), actor=LEADER, now=NOW
    )
    assert again == 0
    assert grown(before, session) == {}


def test_a_list_of_records_by_id(session: Session, world: TestingWorld) -> None:
    pending = [world.records["乙一"].id or 0, world.records["戊三"].id or 0]
    assert record_results_batch(session=session, record_ids=pending, actor=LEADER, now=NOW) == 2
    result = session.exec(select(TestRecord.result).where(col(TestRecord.id).in_(pending))).all()
    assert result == ["negative", "negative"]


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"result": "positive"}, {"result": "testing.error.batch_positive"}),
        ({"result": "pending"}, {"result": "testing.error.result_not_final"}),
        ({"result": "maybe"}, {"result": "services.error.invalid_choice"}),
        ({"record_ids": []}, {"record_ids": "testing.error.batch_empty"}),
        ({"record_ids": [], "tube_code": "T05"}, {"round_id": "testing.error.tube_needs_round"}),
        (
            {"record_ids": [], "tube_code": "NOPE", "round_id": 0},
            {"tube_code": "testing.error.tube_not_found"},
        ),
        ({"record_ids": [0, 99999]}, {"record_ids": "testing.error.record_not_found"}),
        ({"record_ids": [0, 1]}, {"record_ids": "testing.error.record_positive"}),
        ({"result_at": S}, {"result_at": "testing.error.result_before_sample"}),
        ({"result_at": NOW + timedelta(hours=1)}, {"result_at": "services.error.time_in_future"}),
    ],
)
def test_a_batch_refuses(
    session: Session, world: TestingWorld, fields: dict[str, object], errors: dict[str, str]
) -> None:
    ids = {0: world.records["乙一"].id, 1: world.records["甲二"].id}  # 甲二 is positive
    arguments: dict[str, object] = {"record_ids": [ids[0]], **fields}
    arguments["record_ids"] = [ids.get(i, i) for i in arguments["record_ids"]]  # type: ignore[attr-defined]
    if arguments.get("round_id") == 0:
        arguments["round_id"] = _rid(world)
    _rejected(
        session,
        errors,
        lambda: record_results_batch(session=session, actor=LEADER, now=NOW, **arguments),  # type: ignore[arg-type]
    )


def test_a_batch_across_someone_elses_grid_changes_nothing(
    session: Session, world: TestingWorld
) -> None:
    both = [world.records["乙一"].id or 0, world.records["戊三"].id or 0]  # G1 and G2
    before = table_counts(session)
    with pytest.raises(PermissionDenied):
        record_results_batch(
            session=session, record_ids=both, actor=grid_worker(world.grids["G1"]), now=NOW
        )
    assert grown(before, session) == {}
    session.refresh(world.records["乙一"])
    assert world.records["乙一"].result == "pending"


def test_record_positive(session: Session, world: TestingWorld) -> None:
    record = world.records["乙一"]
    before = table_counts(session)
    positive = record_positive(
        session=session, record_id=record.id or 0, actor=grid_worker(world.grids["G1"]), now=NOW
    )
    assert (positive.result, positive.result_at) == ("positive", NOW)
    assert grown(before, session) == {"auditentry": 1}
    assert json.loads(last_audit(session).changes)["result"] == ["pending", "positive"]
    before = table_counts(session)
    record_positive(session=session, record_id=record.id or 0, actor=LEADER, now=NOW)
    assert grown(before, session) == {}


def test_record_positive_refuses(session: Session, world: TestingWorld) -> None:
    record_id = world.records["乙一"].id or 0
    _rejected(
        session,
        {"record_id": "testing.error.record_not_found"},
        lambda: record_positive(session=session, record_id=99999, actor=LEADER, now=NOW),
    )
    _rejected(
        session,
        {"result_at": "testing.error.result_before_sample"},
        lambda: record_positive(
            session=session, record_id=record_id, result_at=S, actor=LEADER, now=NOW
        ),
    )
    before = table_counts(session)
    with pytest.raises(PermissionDenied):
        record_positive(
            session=session, record_id=record_id, actor=grid_worker(world.grids["G2"]), now=NOW
        )
    assert grown(before, session) == {}


# --------------------------------------------------------------------------- door to door


def _tasks(session: Session) -> list[Task]:
    return list(session.exec(select(Task).order_by(col(Task.id))))


@pytest.mark.both_backends  # a query that PostgreSQL plans and types differently
def test_door_to_door_tasks_one_per_household_still_missing(
    session: Session, world: TestingWorld
) -> None:
    world.round.name_zh = "第R轮"
    session.add(world.round)
    session.commit()
    before = table_counts(session)
    created = create_door_to_door_tasks(
        session=session,
        round_id=_rid(world),
        grid_id=world.gid("G1"),
        actor=grid_worker(world.grids["G1"]),
        now=NOW,
    )
    assert created == 2
    assert grown(before, session) == {"task": 2, "auditentry": 1}
    tasks = _tasks(session)
    assert [t.resident_id for t in tasks] == [world.pid("乙二"), world.pid("丙一")]
    assert [t.title for t in tasks] == [
        "Door-to-door sampling (R): G1 B1 1-102, 1 to sample",
        "Door-to-door sampling (R): G1 B2 2-101, 2 to sample",
    ]
    # Each in Chinese too, with the Chinese names of the round and building (B1 has none).
    assert [t.title_zh for t in tasks] == [
        "上门采样（第R轮）：G1 B1 1-102，待采 1 人",
        "上门采样（第R轮）：G1网格2号楼 2-101，待采 2 人",
    ]
    assert {(t.kind, t.status, t.grid_id, t.due_at) for t in tasks} == {
        ("door_to_door_testing", "open", world.gid("G1"), S + timedelta(hours=24))
    }
    assert json.loads(last_audit(session).changes)["task_ids"] == [t.id for t in tasks]
    call = roll_call(session=session, round_id=_rid(world), grid_id=world.gid("G1"), actor=LEADER)
    assert call["door_to_door_task"].all()
    # A second click adds nothing.
    before = table_counts(session)
    assert (
        create_door_to_door_tasks(
            session=session, round_id=_rid(world), grid_id=world.gid("G1"), actor=LEADER, now=NOW
        )
        == 0
    )
    assert grown(before, session) == {}
    # A household whose task was done without sampling everyone gets a new one.
    set_task_status(session=session, task_id=tasks[1].id or 0, status="done", actor=LEADER, now=NOW)
    assert (
        create_door_to_door_tasks(
            session=session,
            round_id=_rid(world),
            grid_id=world.gid("G1"),
            actor=LEADER,
            now=NOW,
        )
        == 1
    )
    assert _tasks(session)[-1].title_zh == "上门采样（第R轮）：G1网格2号楼 2-101，待采 2 人"


def test_a_door_to_door_task_goes_to_the_grids_worker_and_closes_when_its_household_is_sampled(
    session: Session, world: TestingWorld
) -> None:
    """G1's one worker 李工 gets both tasks; 丙一's sample moves the 2-101 task to 丙二,
    丙二's closes it; 乙二's (at a site) closes the 1-102 task — in the sample's write."""
    rid, g1 = _rid(world), world.gid("G1")
    create_door_to_door_tasks(session=session, round_id=rid, grid_id=g1, actor=LEADER, now=NOW)
    one_two, two_one = _tasks(session)
    worker = session.exec(select(Worker).where(Worker.name == "李工")).one()
    assert {one_two.assigned_worker_id, two_one.assigned_worker_id} == {worker.id}
    before = table_counts(session)
    record_sample(session=session, resident_id=world.pid("丙一"), round_id=rid, actor=LEADER,
                  door_to_door=True, now=NOW)  # fmt: skip
    session.refresh(two_one)
    assert (two_one.status, two_one.resident_id) == ("open", world.pid("丙二"))
    assert grown(before, session) == {"testrecord": 1, "auditentry": 2}
    moved = last_audit(session)
    assert (moved.entity, moved.entity_id) == ("task", str(two_one.id))
    later = NOW + timedelta(minutes=10)
    record_sample(session=session, resident_id=world.pid("丙二"), round_id=rid, actor=LEADER,
                  door_to_door=True, now=later)  # fmt: skip
    session.refresh(two_one)
    assert (two_one.status, two_one.done_at) == ("done", later)
    closed = last_audit(session)
    assert json.loads(closed.changes)["status"] == ["open", "done"]
    hall = session.exec(select(TestSite).where(TestSite.name == "Hall")).one()
    record_sample(session=session, resident_id=world.pid("乙二"), round_id=rid, actor=LEADER,
                  site_id=hall.id, now=later)  # fmt: skip
    session.refresh(one_two)
    assert one_two.status == "done"
    assert grown(before, session) == {"testrecord": 3, "auditentry": 6}


def test_door_to_door_tasks_refused(session: Session, world: TestingWorld) -> None:
    rid = _rid(world)
    _rejected(
        session,
        {"grid_id": "testing.error.grid_not_in_round"},
        lambda: create_door_to_door_tasks(
            session=session, round_id=rid, grid_id=world.gid("G4"), actor=LEADER, now=NOW
        ),
    )
    _rejected(
        session,
        {"round_id": "testing.error.round_not_started"},
        lambda: create_door_to_door_tasks(
            session=session,
            round_id=rid,
            grid_id=world.gid("G1"),
            actor=LEADER,
            now=S - timedelta(hours=1),
        ),
    )
    before = table_counts(session)
    with pytest.raises(PermissionDenied):
        create_door_to_door_tasks(
            session=session,
            round_id=rid,
            grid_id=world.gid("G1"),
            actor=grid_worker(world.grids["G2"]),
            now=NOW,
        )
    assert grown(before, session) == {}
    close_round(session=session, round_id=rid, actor=LEADER, now=NOW)
    _rejected(
        session,
        {"round_id": "testing.error.round_closed"},
        lambda: create_door_to_door_tasks(
            session=session, round_id=rid, grid_id=world.gid("G1"), actor=LEADER, now=NOW
        ),
    )


@pytest.mark.both_backends  # the world's writes and their audit
def test_every_write_of_the_world_left_one_audit_entry(
    session: Session, world: TestingWorld
) -> None:
    entries = session.exec(
        select(AuditEntry.entity, AuditEntry.action).where(
            col(AuditEntry.entity).in_(["test_round", "test_record"])
        )
    ).all()
    tally: dict[tuple[str, str], int] = {}
    for entity, action in entries:
        tally[(entity, action)] = tally.get((entity, action), 0) + 1
    # Two rounds opened and one closed; nine samples; four result writes (R0's batch,
    # R's negatives, its invalid and its positive).
    assert tally == {
        ("test_round", "create"): 2,
        ("test_round", "update"): 1,
        ("test_record", "create"): 9,
        ("test_record", "update"): 4,
    }
