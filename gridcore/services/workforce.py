"""Grid workers and volunteers: adding them, changing the grids they serve, standing them down."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session, select

from gridcore.access import COMMAND_ROLES, Actor, require_grid, require_role
from gridcore.models import Employment, Worker, WorkerCreate, WorkerGrid
from gridcore.services import counters
from gridcore.services.base import ValidationFailed, validated, write
from gridcore.services.checks import (
    changed,
    get_row,
    grid_area,
    phone_ok,
    row_id,
)


def worker_grid_ids(session: Session, worker_id: int) -> list[int]:
    """The grids a worker serves."""
    return list(session.exec(select(WorkerGrid.grid_id).where(WorkerGrid.worker_id == worker_id)))


def assignable_worker_error(session: Session, worker_id: int | None, grid_id: int) -> str | None:
    """Why `worker_id` cannot take work in `grid_id` (a catalogue key), or None if it can."""
    worker = get_row(session, Worker, worker_id)
    if worker is None:
        return "services.error.worker_not_found"
    if not worker.active:
        return "services.error.worker_inactive"
    if grid_id not in worker_grid_ids(session, row_id(worker)):
        return "services.error.worker_not_in_grid"
    return None


def _require_grids(actor: Actor, grid_ids: list[int]) -> None:
    """A worker with grids needs every one in scope; one without grids needs command."""
    if not grid_ids:
        require_role(actor, *COMMAND_ROLES)
    for grid_id in grid_ids:
        require_grid(actor, grid_id)


def create_worker(
    *,
    session: Session,
    data: WorkerCreate | Mapping[str, Any],
    actor: Actor,
    client_token: str | None = None,
) -> Worker:
    """Add a worker and the grids they serve (a grid worker may add to their own grids)."""
    with write(
        session, actor=actor, entity="worker", action="create", client_token=client_token
    ) as op:
        if (earlier := op.replayed(Worker)) is not None:
            return earlier
        worker_in = validated(WorkerCreate, data)
        errors: dict[str, str] = {}
        if not phone_ok(worker_in.phone):
            errors["phone"] = "services.error.phone_invalid"
        if len(set(worker_in.grid_ids)) != len(worker_in.grid_ids):
            errors["grid_ids"] = "services.error.duplicate_grids"
        if any(grid_area(session, grid_id) is None for grid_id in worker_in.grid_ids):
            errors.setdefault("grid_ids", "services.error.grid_not_found")
        if worker_in.employment == Employment.volunteer and worker_in.service_group is None:
            errors["service_group"] = "services.error.service_group_required"
        if errors:
            raise ValidationFailed(errors)
        _require_grids(actor, worker_in.grid_ids)
        worker = Worker(**worker_in.model_dump(exclude={"grid_ids"}))
        session.add(worker)
        session.flush()
        for grid_id in worker_in.grid_ids:
            session.add(WorkerGrid(worker_id=row_id(worker), grid_id=grid_id))
        counters.count_in(session, workers=[row_id(worker)])
        op.record(
            worker,
            {
                "name": worker.name,
                "role": worker.role,
                "employment": worker.employment,
                "grid_ids": worker_in.grid_ids,
            },
        )
    return worker


def set_worker_active(*, session: Session, worker_id: int, active: bool, actor: Actor) -> Worker:
    """Stand a worker down (or back up); their grids must all be in the actor's scope."""
    with write(session, actor=actor, entity="worker") as op:
        worker = get_row(session, Worker, worker_id)
        if worker is None:
            raise ValidationFailed({"worker_id": "services.error.worker_not_found"})
        _require_grids(actor, worker_grid_ids(session, row_id(worker)))
        if worker.active == active:
            return worker
        with counters.following(session, workers=[worker_id]):
            worker.active = active
            session.add(worker)
        op.record(worker, {"active": changed(not active, active)})
    return worker


def _grid_errors(session: Session, grid_ids: list[int]) -> dict[str, str]:
    """Problems with a list of grids for a worker: each an existing grid, and once."""
    if len(set(grid_ids)) != len(grid_ids):
        return {"grid_ids": "services.error.duplicate_grids"}
    if any(grid_area(session, grid_id) is None for grid_id in grid_ids):
        return {"grid_ids": "services.error.grid_not_found"}
    return {}


def set_worker_grids(
    *,
    session: Session,
    worker_id: int,
    grid_ids: list[int],
    actor: Actor,
    client_token: str | None = None,
) -> Worker:
    """Make `grid_ids` the grids a worker serves (audited with the grids added and removed).

    Every grid added or removed must be in the actor's scope; leaving a worker with no
    grid is the street's business (command roles). The same grids write nothing. Open
    tasks stay with the worker: reassign them on the Workforce page.
    """
    with write(
        session, actor=actor, entity="worker", action="update", client_token=client_token
    ) as op:
        if (earlier := op.replayed(Worker)) is not None:
            return earlier
        if not isinstance(grid_ids, list) or not all(isinstance(g, int) for g in grid_ids):
            raise ValidationFailed({"grid_ids": "services.error.not_a_list"})
        worker = get_row(session, Worker, worker_id)
        if worker is None:
            raise ValidationFailed({"worker_id": "services.error.worker_not_found"})
        errors = _grid_errors(session, grid_ids)
        if errors:
            raise ValidationFailed(errors)
        old = worker_grid_ids(session, row_id(worker))
        added = sorted(set(grid_ids) - set(old))
        removed = sorted(set(old) - set(grid_ids))
        if not grid_ids:
            require_role(actor, *COMMAND_ROLES)
        for grid_id in added + removed:
            require_grid(actor, grid_id)
        if not added and not removed:
            return worker
        with counters.following(session, workers=[row_id(worker)]):
            for grid_id in removed:
                link = session.get(WorkerGrid, (row_id(worker), grid_id))
                if link is not None:
                    session.delete(link)
            for grid_id in added:
                session.add(WorkerGrid(worker_id=row_id(worker), grid_id=grid_id))
        op.record(
            worker,
            {"grid_ids": changed(sorted(old), sorted(grid_ids)), "added": added,
             "removed": removed},
        )  # fmt: skip
    return worker
