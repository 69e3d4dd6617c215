"""The one write path: role first, one transaction, one audit entry per record, replays once."""

from __future__ import annotations

import threading

import pytest
from factories import LEADER, VIEWER, grown, table_counts
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from gridcore.access import PermissionDenied
from gridcore.models import AuditEntry, Employment, ReplayKey, Worker, WorkerRole
from gridcore.queries.data_version import data_version
from gridcore.services.base import ValidationFailed, write


def _add_worker(
    session: Session,
    *,
    name: str,
    token: str | None = None,
    late: bool = False,
    claim: bool = True,
) -> Worker:
    """A write as a service would do it: replay check, a row, one record. With `late`, the
    token is taken after the checks, as the row is written (unless `claim` is False)."""
    with write(
        session, actor=LEADER, entity="worker", action="create", client_token=token, claim_late=late
    ) as op:
        if (earlier := op.replayed(Worker)) is not None:
            return earlier
        if not name:
            raise ValidationFailed({"name": "services.error.required"})
        worker = Worker(name=name, role=WorkerRole.grid_member, employment=Employment.full_time)
        session.add(worker)
        if late and claim:
            op.claim()
        op.record(worker, {"name": name})
    return worker


def test_a_write_commits_its_row_and_one_audit_entry(session: Session) -> None:
    before = table_counts(session)
    worker = _add_worker(session, name="王芳")
    assert grown(before, session) == {"worker": 1, "auditentry": 1}
    entry = session.exec(select(AuditEntry)).one()
    assert (entry.username, entry.action, entry.entity) == ("lee", "create", "worker")
    assert entry.entity_id == str(worker.id)
    assert entry.changes == '{"name": "王芳"}'


def test_the_role_is_checked_before_any_input(session: Session) -> None:
    before = table_counts(session)
    with pytest.raises(PermissionDenied), write(session, actor=VIEWER, entity="worker"):
        raise AssertionError("the block must not run for a viewer")
    assert grown(before, session) == {}


def test_a_failure_inside_the_block_writes_nothing(session: Session) -> None:
    before = table_counts(session)
    with pytest.raises(ValidationFailed):
        _add_worker(session, name="", token="form-0001")
    assert grown(before, session) == {}
    # The token was not used up by the failed attempt.
    _add_worker(session, name="王芳", token="form-0001")
    assert grown(before, session) == {"worker": 1, "auditentry": 1, "replaykey": 1}


def test_a_malformed_token_is_refused(session: Session) -> None:
    with pytest.raises(ValidationFailed) as failed:
        _add_worker(session, name="王芳", token="x")
    assert failed.value.errors == {"client_token": "services.error.client_token_invalid"}


def test_the_same_token_writes_once_and_returns_the_first_row(session: Session) -> None:
    before = table_counts(session)
    first = _add_worker(session, name="王芳", token="form-0001")
    again = _add_worker(session, name="王芳", token="form-0001")
    assert again.id == first.id
    assert grown(before, session) == {"worker": 1, "auditentry": 1, "replaykey": 1}
    key = session.exec(select(ReplayKey)).one()
    assert (key.username, key.client_token, key.entity, key.entity_id) == (
        "lee",
        "form-0001",
        "worker",
        str(first.id),
    )


def test_a_replayed_write_may_not_write_again(session: Session) -> None:
    _add_worker(session, name="王芳", token="form-0001")
    before = table_counts(session)
    with (
        pytest.raises(RuntimeError, match="replayed"),
        write(
            session, actor=LEADER, entity="worker", action="create", client_token="form-0001"
        ) as op,
    ):
        op.record(1, {"name": "again"})
    assert grown(before, session) == {}


@pytest.mark.both_backends
def test_the_same_form_sent_twice_at_once_writes_once(engine: Engine, session: Session) -> None:
    """Two submissions with one token race: the database's unique key lets one write."""
    barrier = threading.Barrier(2)
    ids: list[int | None] = []
    errors: list[BaseException] = []

    def submit() -> None:
        with Session(engine, expire_on_commit=False) as own:
            barrier.wait()
            try:
                ids.append(_add_worker(own, name="王芳", token="form-race-01").id)
            except BaseException as exc:  # reported below, with the thread's own error
                errors.append(exc)

    before = table_counts(session)
    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(ids) == 2 and ids[0] == ids[1]
    assert grown(before, session) == {"worker": 1, "auditentry": 1, "replaykey": 1}


def _add_worker_late(session: Session, *, name: str, token: str, claim: bool = True) -> Worker:
    """The same write with the token taken after the checks, as the row is written."""
    return _add_worker(session, name=name, token=token, late=True, claim=claim)


def test_a_token_taken_late_is_looked_up_first_and_points_at_the_row(session: Session) -> None:
    before = table_counts(session)
    with pytest.raises(ValidationFailed):
        _add_worker_late(session, name="", token="form-late-1")
    assert grown(before, session) == {}
    first = _add_worker_late(session, name="王芳", token="form-late-1")
    again = _add_worker_late(session, name="王芳", token="form-late-1")
    assert again.id == first.id
    assert grown(before, session) == {"worker": 1, "auditentry": 1, "replaykey": 1}
    key = session.exec(select(ReplayKey)).one()
    assert (key.client_token, key.entity_id) == ("form-late-1", str(first.id))


def test_a_write_that_takes_its_token_late_must_take_it(session: Session) -> None:
    before = table_counts(session)
    with pytest.raises(RuntimeError, match="claim"):
        _add_worker_late(session, name="王芳", token="form-late-2", claim=False)
    assert grown(before, session) == {}
    with (
        pytest.raises(RuntimeError, match="taken when the write began"),
        write(session, actor=LEADER, entity="worker", client_token="form-late-3") as op,
    ):
        op.claim()
    assert grown(before, session) == {}


def test_a_token_that_names_no_row_lets_a_late_write_through_as_an_early_one(
    session: Session,
) -> None:
    for token, add in (("form-late-4", _add_worker), ("form-late-5", _add_worker_late)):
        with write(session, actor=LEADER, entity="worker", client_token=token):
            pass  # a write that wrote nothing: its token names no row
        before = table_counts(session)
        add(session, name="王芳", token=token)
        assert grown(before, session) == {"worker": 1, "auditentry": 1}


def test_a_write_inside_another_is_committed_or_rolled_back_with_it(session: Session) -> None:
    before = table_counts(session)
    with (
        pytest.raises(ValidationFailed),
        write(session, actor=LEADER, entity="worker", action="create") as op,
    ):
        outer = Worker(name="甲", role=WorkerRole.grid_member, employment=Employment.full_time)
        session.add(outer)
        op.record(outer)
        _add_worker(session, name="乙")  # a service called inside: it must not commit
        raise ValidationFailed({"name": "services.error.required"})
    assert grown(before, session) == {}
    with write(session, actor=LEADER, entity="worker", action="create") as op:
        outer = Worker(name="甲", role=WorkerRole.grid_member, employment=Employment.full_time)
        session.add(outer)
        op.record(outer)
        _add_worker(session, name="乙")
    assert grown(before, session) == {"worker": 2, "auditentry": 2}


def _data_version(session: Session) -> int | None:
    return data_version(session=session)


def test_every_committed_write_raises_the_data_version(session: Session) -> None:
    """Other app servers on the database learn of a write from this number (ui/data.py)."""
    start = _data_version(session)
    assert start is not None
    _add_worker(session, name="王芳", token="form-0002")
    assert _data_version(session) == start + 1
    _add_worker(session, name="王芳", token="form-0002")  # replayed: nothing written
    with pytest.raises(ValidationFailed):
        _add_worker(session, name="")
    assert _data_version(session) == start + 1
    with pytest.raises(PermissionDenied), write(session, actor=VIEWER, entity="worker"):
        pass  # a refusal is audited, but changes no figure a page shows
    assert _data_version(session) == start + 1
