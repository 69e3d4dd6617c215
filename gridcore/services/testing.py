"""Mass testing: opening and closing rounds, sampling residents, results, door-to-door tasks.

Each function checks the actor, validates, writes its rows and one audit entry, and
commits — or raises and writes nothing. Who may do what: command (leaders and
administrators) opens and closes rounds; grid workers sample, enter results and send
door-to-door teams in their own grids, command everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from pydantic import field_validator
from sqlalchemy import Integer, Table, bindparam, exists, insert
from sqlalchemy import select as select_columns
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Field, Session, SQLModel, col, select

from gridcore.access import COMMAND_ROLES, SYSTEM, Actor, require_grid
from gridcore.analytics.testing import EXPECTED_STATUS
from gridcore.i18n import display_name, t
from gridcore.models import (
    OPEN_TASK_STATUSES,
    Area,
    AreaLevel,
    Resident,
    SamplingMethod,
    Task,
    TaskKind,
    TaskStatus,
    TestRecord,
    TestResult,
    TestRound,
    TestRoundArea,
    TestSite,
    utcnow,
)
from gridcore.policy import load_policy
from gridcore.queries.testing import roll_call
from gridcore.services import counters
from gridcore.services.audit import common_area
from gridcore.services.base import (
    ValidationFailed,
    Write,
    choice,
    inserted_id,
    validated,
    write,
)
from gridcore.services.checks import (
    as_utc,
    changed,
    row_id,
    time_in_future,
)
from gridcore.services.tasks import assign_in_turn, record_tasks, titles

# Results a batch may set; a positive is recorded one sample at a time.
BATCH_RESULTS: frozenset[str] = frozenset({TestResult.negative, TestResult.invalid})
_CHUNK = 900  # ids per IN (...) list, well below SQLite's limit on bound parameters


class SiteInput(SQLModel):
    """A sampling site of a new round."""

    name: str = Field(min_length=1, max_length=120)
    name_zh: str | None = Field(default=None, max_length=120)
    area_id: int | None = None
    lng: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    hourly_capacity: int = Field(default=300, ge=1)
    desks: int = Field(default=1, ge=1)

    @field_validator("name", mode="before")
    @classmethod
    def _stripped(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("name_zh", mode="before")
    @classmethod
    def _optional(cls, value: Any) -> Any:
        return (value.strip() or None) if isinstance(value, str) else value


class RoundCreate(SQLModel):
    """Input for opening a round: `area_ids` are grids, or areas standing for all their grids."""

    name: str = Field(min_length=1, max_length=80)
    # The name in Chinese; pages fall back to `name` without one.
    name_zh: str | None = Field(default=None, max_length=80)
    area_ids: list[int] = []
    start_at: datetime
    deadline_at: datetime
    sites: list[SiteInput] = []

    @field_validator("name", mode="before")
    @classmethod
    def _stripped(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("name_zh", mode="before")
    @classmethod
    def _optional(cls, value: Any) -> Any:
        return (value.strip() or None) if isinstance(value, str) else value


# --------------------------------------------------------------------------- rounds


def grids_under(session: Session, area_ids: Sequence[int]) -> tuple[set[int], list[int]]:
    """The grids at or below each area, and the ids that are no area at all."""
    grids: set[int] = set()
    unknown: list[int] = []
    frontier: set[int] = set()
    for area_id in area_ids:
        area = session.get(Area, area_id)
        if area is None:
            unknown.append(area_id)
        elif area.level == AreaLevel.grid:
            grids.add(area_id)
        else:
            frontier.add(area_id)
    while frontier:
        children = session.execute(
            select(col(Area.id), col(Area.level)).where(col(Area.parent_id).in_(frontier))
        ).all()
        frontier = set()
        for child_id, level in children:
            if level == AreaLevel.grid:
                grids.add(int(child_id))
            else:
                frontier.add(int(child_id))
    return grids, unknown


def _round_errors(
    session: Session, round_in: RoundCreate, grids: set[int], unknown: list[int]
) -> dict[str, str]:
    """Domain checks of a new round: areas exist and hold grids; the window fits the policy."""
    errors: dict[str, str] = {}
    if unknown:
        errors["area_ids"] = "testing.error.area_not_found"
    elif not grids:
        errors["area_ids"] = "testing.error.no_grids"
    start, deadline = as_utc(round_in.start_at), as_utc(round_in.deadline_at)
    if deadline <= start:
        errors["deadline_at"] = "services.error.end_before_start"
    elif deadline - start > timedelta(hours=load_policy(session).round_max_hours):
        errors["deadline_at"] = "testing.error.round_too_long"
    for i, site in enumerate(round_in.sites):
        if site.area_id is not None and session.get(Area, site.area_id) is None:
            errors[f"sites.{i}.area_id"] = "testing.error.site_area_not_found"
    return errors


def open_round(
    *,
    session: Session,
    data: RoundCreate | Mapping[str, Any],
    actor: Actor,
    client_token: str | None = None,
) -> TestRound:
    """Open a round of testing over some areas' grids, with its sites (leaders, administrators)."""
    with write(
        session,
        actor=actor,
        entity="test_round",
        action="create",
        roles=COMMAND_ROLES,
        client_token=client_token,
    ) as op:
        if (earlier := op.replayed(TestRound)) is not None:
            return earlier
        round_in = validated(RoundCreate, data)
        grids, unknown = grids_under(session, round_in.area_ids)
        errors = _round_errors(session, round_in, grids, unknown)
        if errors:
            raise ValidationFailed(errors)
        test_round = TestRound(
            name=round_in.name,
            name_zh=round_in.name_zh,
            start_at=as_utc(round_in.start_at),
            deadline_at=as_utc(round_in.deadline_at),
        )
        session.add(test_round)
        session.flush()
        round_id = row_id(test_round)
        session.add_all(TestRoundArea(round_id=round_id, grid_id=g) for g in sorted(grids))
        session.add_all(TestSite(round_id=round_id, **site.model_dump()) for site in round_in.sites)
        op.record(
            round_id,
            {
                "name": test_round.name,
                "name_zh": test_round.name_zh,
                "start_at": test_round.start_at,
                "deadline_at": test_round.deadline_at,
                "grid_ids": sorted(grids),
                "sites": [site.name for site in round_in.sites],
            },
        )
    return test_round


def close_round(
    *, session: Session, round_id: int, actor: Actor, now: datetime | None = None
) -> TestRound:
    """Close a round at `now` (leaders, administrators); a closed round stays as it was."""
    with write(session, actor=actor, entity="test_round", roles=COMMAND_ROLES) as op:
        moment = as_utc(now or utcnow())
        test_round = session.get(TestRound, round_id, with_for_update=True)
        if test_round is None:
            raise ValidationFailed({"round_id": "testing.error.round_not_found"})
        if test_round.closed_at is not None:
            return test_round
        test_round.closed_at = moment
        session.add(test_round)
        op.record(round_id, {"closed_at": changed(None, moment)})
    return test_round


# --------------------------------------------------------------------------- sampling


def _open_round(session: Session, round_id: int) -> TestRound:
    """The round, which must exist and be open; else ValidationFailed on round_id."""
    test_round = session.get(TestRound, round_id)
    if test_round is None:
        raise ValidationFailed({"round_id": "testing.error.round_not_found"})
    if test_round.closed_at is not None:
        raise ValidationFailed({"round_id": "testing.error.round_closed"})
    return test_round


def _in_round(session: Session, round_id: int, grid_id: int) -> bool:
    found = session.execute(
        select(col(TestRoundArea.grid_id)).where(
            col(TestRoundArea.round_id) == round_id, col(TestRoundArea.grid_id) == grid_id
        )
    ).first()
    return found is not None


# What a tap must know before it writes, read in one statement: the round (its start, and
# when it closed; no start: no round), the resident (grid, status, household; no grid: no
# resident), whether the resident's grid is in the round, whether the resident has a sample
# in it already, and the round of the site (none: no site).
def _scalar(column: Any, *where: Any) -> Any:
    return select(column).where(*where).scalar_subquery()


_ROUND = bindparam("round_id", type_=Integer)
_RESIDENT = bindparam("resident_id", type_=Integer)
_SITE = bindparam("site_id", type_=Integer)
_RESIDENT_GRID = _scalar(col(Resident.grid_id), col(Resident.id) == _RESIDENT)
_TAP_FACTS = select_columns(
    _scalar(col(TestRound.start_at), col(TestRound.id) == _ROUND).label("start_at"),
    _scalar(col(TestRound.closed_at), col(TestRound.id) == _ROUND).label("closed_at"),
    _RESIDENT_GRID.label("grid_id"),
    _scalar(col(Resident.health_status), col(Resident.id) == _RESIDENT).label("health_status"),
    _scalar(col(Resident.household_id), col(Resident.id) == _RESIDENT).label("household_id"),
    exists()
    .where(col(TestRoundArea.round_id) == _ROUND, col(TestRoundArea.grid_id) == _RESIDENT_GRID)
    .label("in_round"),
    exists()
    .where(col(TestRecord.round_id) == _ROUND, col(TestRecord.resident_id) == _RESIDENT)
    .label("sampled"),
    _scalar(col(TestSite.round_id), col(TestSite.id) == _SITE).label("site_round_id"),
)
_RECORDS: Table = TestRecord.__table__  # type: ignore[attr-defined]
_ADD_RECORD = insert(_RECORDS)


def _site_errors(
    site_id: int | None, site_round_id: int | None, round_id: int, door_to_door: bool
) -> dict[str, str]:
    """Exactly one of a site of this round (`site_round_id`: the site's round) or door to door."""
    if door_to_door and site_id is not None:
        return {"site_id": "testing.error.site_and_door"}
    if not door_to_door and site_id is None:
        return {"site_id": "testing.error.site_required"}
    if site_id is not None and site_round_id != round_id:
        return {"site_id": "testing.error.site_not_in_round"}
    return {}


def record_sample(
    *,
    session: Session,
    resident_id: int,
    round_id: int,
    actor: Actor,
    site_id: int | None = None,
    door_to_door: bool = False,
    sampled_at: datetime | None = None,
    tube_code: str | None = None,
    allow_exempt: bool = False,
    client_token: str | None = None,
    now: datetime | None = None,
) -> TestRecord:
    """Record that a resident was sampled in a round, at a site or door to door.

    An exempt resident (not at home) is sampled only with `allow_exempt`; a second
    sample in the same round is refused; the record's grid is the resident's.

    The sampling desk's one tap, made to keep up with many desks at once: every check
    reads before the first write (on SQLite the write lock is then held only while the
    rows are written), and the rows are written by statements built once. The unique
    keys (one sample per round and resident, one client token per user) still decide
    between two desks that tap at the same moment.
    """
    with write(
        session,
        actor=actor,
        entity="test_record",
        action="create",
        client_token=client_token,
        claim_late=True,
    ) as op:
        if (earlier := op.replayed(TestRecord)) is not None:
            return earlier
        moment = as_utc(now or utcnow())
        taken = as_utc(sampled_at) if sampled_at is not None else moment
        tube = (tube_code or "").strip() or None
        session.flush()  # the facts include what this session has changed and not written
        facts = (
            session.connection()
            .execute(
                _TAP_FACTS,
                {"round_id": round_id, "resident_id": resident_id, "site_id": site_id},
            )
            .one()
        )
        if facts.start_at is None:
            raise ValidationFailed({"round_id": "testing.error.round_not_found"})
        if facts.closed_at is not None:
            raise ValidationFailed({"round_id": "testing.error.round_closed"})
        if facts.grid_id is None:
            raise ValidationFailed({"resident_id": "services.error.resident_not_found"})
        if not facts.in_round:
            raise ValidationFailed({"resident_id": "testing.error.resident_not_in_round"})
        grid_id = int(facts.grid_id)
        require_grid(actor, grid_id)
        errors = _site_errors(site_id, facts.site_round_id, round_id, door_to_door)
        exempt = facts.health_status != EXPECTED_STATUS
        if exempt and not allow_exempt:
            errors["resident_id"] = "testing.error.resident_exempt"
        elif facts.sampled:
            errors["resident_id"] = "testing.error.already_sampled"
        if taken < facts.start_at:
            errors["sampled_at"] = "testing.error.before_round_start"
        elif time_in_future(taken, moment):
            errors["sampled_at"] = "services.error.time_in_future"
        if tube is not None and len(tube) > 40:
            errors["tube_code"] = "services.error.too_long"
        if errors:
            raise ValidationFailed(errors)
        record = TestRecord(
            round_id=round_id,
            resident_id=resident_id,
            grid_id=grid_id,
            site_id=site_id,
            method=SamplingMethod.door_to_door if door_to_door else SamplingMethod.site,
            sampled_at=taken,
            tube_code=tube,
        )
        values = record.model_dump(exclude={"id"})
        # From here on the tap writes (on SQLite: holding the write lock), its row first:
        # the client token then names it as it is stored.
        try:
            added = session.connection().execute(_ADD_RECORD, values)
        except IntegrityError:
            # Another desk sampled the same resident a moment ago, or this very tap, sent
            # twice at once, did.
            op.conflicted()
            if (earlier := op.replayed(TestRecord)) is not None:
                return earlier
            raise ValidationFailed({"resident_id": "testing.error.already_sampled"}) from None
        record.id = inserted_id(added)
        op.claim(record.id)
        if (earlier := op.replayed(TestRecord)) is not None:
            return earlier  # the same tap, sent twice at once: the other one wrote it
        # The row is written: the record joins the session as if it had been read.
        make_transient_to_detached(record)
        session.add(record)
        counters.count_in(session, records=[record.id])
        op.record(
            record,
            {
                "round_id": round_id,
                "resident_id": resident_id,
                "grid_id": grid_id,
                "site_id": site_id,
                "method": record.method,
                "sampled_at": taken,
                "tube_code": tube,
                "exempt": exempt,
            },
        )
        _follow_door_to_door_tasks(
            session, op, resident_id, int(facts.household_id), round_id, moment
        )
    return record


def undo_sample(
    *,
    session: Session,
    record_id: int,
    actor: Actor,
    client_token: str | None = None,
) -> bool:
    """Take back a sample recorded by mistake (the one-tap undo): the record is deleted and
    the deletion audited. True when something was undone; undoing again (the record is gone,
    or the same client token comes back) writes nothing and says False. A sample that has a
    result already is not undone.
    """
    with write(
        session, actor=actor, entity="test_record", action="undo", client_token=client_token
    ) as op:
        if op.replayed_id is not None:
            return False
        record = session.get(TestRecord, record_id)
        if record is None:
            return False
        require_grid(actor, record.grid_id)
        if record.result != TestResult.pending:
            raise ValidationFailed({"record_id": "testing.error.undo_has_result"})
        changes = {
            "round_id": record.round_id,
            "resident_id": record.resident_id,
            "grid_id": record.grid_id,
            "site_id": record.site_id,
            "method": record.method,
            "sampled_at": record.sampled_at,
        }
        counters.count_out(session, records=[record_id])
        session.delete(record)
        op.record(record_id, changes)
    return True


# --------------------------------------------------------------------------- results


def _batch_records(
    session: Session, record_ids: Sequence[int], tube_code: str | None, round_id: int | None
) -> list[TestRecord]:
    """The records of a batch, locked: by id and/or by the round's tube code."""
    wanted = sorted(set(record_ids))
    records: dict[int, TestRecord] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        for record in session.exec(
            select(TestRecord).where(col(TestRecord.id).in_(chunk)).with_for_update()
        ):
            records[row_id(record)] = record
    if len(records) < len(wanted):
        raise ValidationFailed({"record_ids": "testing.error.record_not_found"})
    if tube_code is not None:
        in_tube = session.exec(
            select(TestRecord)
            .where(col(TestRecord.round_id) == round_id, col(TestRecord.tube_code) == tube_code)
            .with_for_update()
        ).all()
        if not in_tube:
            raise ValidationFailed({"tube_code": "testing.error.tube_not_found"})
        records.update((row_id(r), r) for r in in_tube)
    return [records[k] for k in sorted(records)]


def _batch_input_errors(
    result: str, record_ids: Sequence[int], tube_code: str | None, round_id: int | None
) -> dict[str, str]:
    if result == TestResult.positive:
        return {"result": "testing.error.batch_positive"}
    if result not in BATCH_RESULTS:
        return {"result": "testing.error.result_not_final"}
    if not record_ids and tube_code is None:
        return {"record_ids": "testing.error.batch_empty"}
    if tube_code is not None and round_id is None:
        return {"round_id": "testing.error.tube_needs_round"}
    return {}


def record_results_batch(
    *,
    session: Session,
    actor: Actor,
    record_ids: Sequence[int] = (),
    tube_code: str | None = None,
    round_id: int | None = None,
    result: TestResult | str = TestResult.negative,
    result_at: datetime | None = None,
    now: datetime | None = None,
) -> int:
    """Give a batch of samples one result (negative or invalid) in one transaction.

    The batch is `record_ids`, and/or every sample of `round_id` with `tube_code` (a
    pooled tube of 5 or 10). Positives are refused — in the batch and among its records.
    Records that already hold the result are left alone; returns how many changed.
    """
    with write(session, actor=actor, entity="test_record") as op:
        target = choice(TestResult, result, "result")
        tube = (tube_code or "").strip() or None
        errors = _batch_input_errors(target, record_ids, tube, round_id)
        if errors:
            raise ValidationFailed(errors)
        moment = as_utc(now or utcnow())
        when = as_utc(result_at) if result_at is not None else moment
        records = _batch_records(session, record_ids, tube, round_id)
        if any(r.result == TestResult.positive for r in records):
            raise ValidationFailed({"record_ids": "testing.error.record_positive"})
        if time_in_future(when, moment):
            raise ValidationFailed({"result_at": "services.error.time_in_future"})
        if any(when < r.sampled_at for r in records):
            raise ValidationFailed({"result_at": "testing.error.result_before_sample"})
        for grid_id in sorted({r.grid_id for r in records}):
            require_grid(actor, grid_id)
        changing = [r for r in records if r.result != target]
        if not changing:
            return 0
        with counters.following(session, records=[row_id(r) for r in changing]):
            for record in changing:
                record.result = target
                record.result_at = when
            session.add_all(changing)
        op.record(
            row_id(changing[0]) if len(changing) == 1 else None,
            {
                "result": target,
                "result_at": when,
                "record_ids": [row_id(r) for r in changing],
                "tube_code": tube,
            },
            area_id=common_area(session, [r.grid_id for r in changing]),
        )
    return len(changing)


def record_positive(
    *,
    session: Session,
    record_id: int,
    actor: Actor,
    result_at: datetime | None = None,
    now: datetime | None = None,
) -> TestRecord:
    """Mark one sample positive (an alert on the overview until a case is opened)."""
    with write(session, actor=actor, entity="test_record") as op:
        moment = as_utc(now or utcnow())
        when = as_utc(result_at) if result_at is not None else moment
        record = session.get(TestRecord, record_id, with_for_update=True)
        if record is None:
            raise ValidationFailed({"record_id": "testing.error.record_not_found"})
        require_grid(actor, record.grid_id)
        if record.result == TestResult.positive:
            return record
        if time_in_future(when, moment):
            raise ValidationFailed({"result_at": "services.error.time_in_future"})
        if when < record.sampled_at:
            raise ValidationFailed({"result_at": "testing.error.result_before_sample"})
        old = record.result
        with counters.following(session, records=[record_id]):
            record.result = TestResult.positive
            record.result_at = when
            session.add(record)
        op.record(record_id, {"result": changed(old, TestResult.positive), "result_at": when})
    return record


# --------------------------------------------------------------------------- door to door


def _door_to_door_title(lang: str, *, test_round: TestRound, row: Mapping[Any, Any]) -> str:
    return t(
        "testing.task.door_to_door_title",
        lang,
        round=display_name(test_round, lang),
        building=display_name(row, lang, "building"),
        unit=row["unit"],
        n=int(row["household_missing"]),
    )


def create_door_to_door_tasks(
    *,
    session: Session,
    round_id: int,
    grid_id: int,
    actor: Actor,
    now: datetime | None = None,
) -> int:
    """One door-to-door testing task per household of the grid with someone still missing.

    The task names the building, the flat and how many are missing; its resident is the
    household's first missing resident; it is due at the round's deadline when that is
    still ahead. A household that already has an open door-to-door task created since
    the round started gets no second one. Returns how many tasks were created.
    """
    with write(session, actor=actor, entity="task", action="create") as op:
        moment = as_utc(now or utcnow())
        test_round = _open_round(session, round_id)
        if not _in_round(session, round_id, grid_id):
            raise ValidationFailed({"grid_id": "testing.error.grid_not_in_round"})
        if test_round.start_at > moment:
            raise ValidationFailed({"round_id": "testing.error.round_not_started"})
        require_grid(actor, grid_id)
        missing = roll_call(session=session, round_id=round_id, grid_id=grid_id, actor=SYSTEM)
        households = missing[~missing["door_to_door_task"]].drop_duplicates("household_id")
        due = test_round.deadline_at if test_round.deadline_at > moment else None
        tasks = []
        for row in households.to_dict("records"):
            title, title_zh = titles(partial(_door_to_door_title, test_round=test_round, row=row))
            tasks.append(
                Task(
                    grid_id=grid_id,
                    kind=TaskKind.door_to_door_testing,
                    title=title,
                    title_zh=title_zh,
                    resident_id=int(row["resident_id"]),
                    due_at=due,
                    created_at=moment,
                )
            )
        if not tasks:
            return 0
        assign_in_turn(session, tasks)
        session.add_all(tasks)
        session.flush()
        record_tasks(
            op,
            tasks,
            kind=TaskKind.door_to_door_testing,
            round_id=round_id,
            grid_id=grid_id,
            due_at=due,
        )
    return len(tasks)


_OPEN_DOOR_TO_DOOR_TASKS = select(col(Task.id)).where(
    col(Task.resident_id) == bindparam("resident_id"),
    col(Task.kind) == TaskKind.door_to_door_testing,
    col(Task.status).in_(OPEN_TASK_STATUSES),
)


def _follow_door_to_door_tasks(
    session: Session,
    op: Write,
    resident_id: int,
    household_id: int,
    round_id: int,
    moment: datetime,
) -> None:
    """Inside a sample's write: the door-to-door task of the sampled resident follows.

    It closes itself when nobody expected at home in the household is left unsampled in
    the round; otherwise it names the next one still missing there.
    """
    open_ids = (
        session.connection()
        .execute(_OPEN_DOOR_TO_DOOR_TASKS, {"resident_id": resident_id})
        .scalars()
        .all()
    )
    if not open_ids:
        return
    tasks = session.exec(select(Task).where(col(Task.id).in_(open_ids))).all()
    sampled = select(col(TestRecord.resident_id)).where(col(TestRecord.round_id) == round_id)
    still_missing = session.exec(
        select(Resident.id)
        .where(
            Resident.household_id == household_id,
            Resident.id != resident_id,
            Resident.health_status == EXPECTED_STATUS,
            col(Resident.id).not_in(sampled),
        )
        .order_by(col(Resident.id))
    ).first()
    for task in tasks:
        if still_missing is not None:
            task.resident_id = int(still_missing)
            session.add(task)
            op.record(
                task,
                {"resident_id": changed(resident_id, still_missing), "round_id": round_id},
                entity="task",
                action="update",
            )
            continue
        old = task.status
        task.status = TaskStatus.done
        task.done_at = moment
        session.add(task)
        op.record(
            task,
            {"status": changed(old, TaskStatus.done), "at": moment, "closed_by": "sample"},
            entity="task",
            action="update",
        )
