"""Workers: who serves each grid, their workload, full-time staffing, and the suggestions.

Every figure is counted in SQL per worker or per grid; only the open tasks of the workers
who may give work away are read one by one (for the reassignment suggestions).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pandas as pd
from sqlalchemy import and_, func, select
from sqlmodel import Session, col

from gridcore.access import PHONE, SYSTEM, Actor, mask_personal, personal
from gridcore.analytics import workforce
from gridcore.config import day_bounds_utc, get_settings
from gridcore.models import (
    OPEN_REQUEST_STATUSES,
    OPEN_TASK_STATUSES,
    Area,
    AreaLevel,
    Case,
    CaseStatus,
    Contact,
    ContactStatus,
    Employment,
    RequestCategory,
    ResidentRequest,
    ServiceGroup,
    Task,
    TaskKind,
    TaskStatus,
    Worker,
    WorkerGrid,
    WorkerRole,
    utcnow,
)
from gridcore.policy import Policy, load_policy
from gridcore.queries import areas
from gridcore.queries import workforce as workforce_queries
from gridcore.queries._sql import Counter, count_if
from gridcore.queries.counters import grid_counts
from gridcore.queries.shared import shared

WORKER_COLUMNS = [
    "worker_id",
    "name",
    "phone",
    "role",
    "employment",
    "service_group",
    "open_tasks",
    "overdue_tasks",
]


_ROLE_RANK = {role.value: rank for rank, role in enumerate(WorkerRole)}


def grid_workers(
    *, session: Session, grid_id: int, actor: Actor, now: datetime | None = None
) -> pd.DataFrame:
    """The grid's active workers with their open and overdue tasks in this grid."""
    now = now or utcnow()
    open_task = col(Task.status).in_(OPEN_TASK_STATUSES)
    load = (
        select(
            col(Task.assigned_worker_id).label("worker_id"),
            count_if(open_task).label("open_tasks"),
            count_if(and_(open_task, col(Task.due_at) < now)).label("overdue_tasks"),
        )
        .where(col(Task.grid_id) == grid_id, col(Task.assigned_worker_id).is_not(None))
        .group_by(col(Task.assigned_worker_id))
        .subquery()
    )
    rows = session.execute(
        select(
            col(Worker.id),
            col(Worker.name),
            col(Worker.phone),
            col(Worker.role),
            col(Worker.employment),
            col(Worker.service_group),
            func.coalesce(load.c.open_tasks, 0),
            func.coalesce(load.c.overdue_tasks, 0),
        )
        .join(WorkerGrid, col(WorkerGrid.worker_id) == col(Worker.id))
        .outerjoin(load, load.c.worker_id == col(Worker.id))
        .where(col(WorkerGrid.grid_id) == grid_id, col(Worker.active).is_(True))
        .order_by(col(Worker.name), col(Worker.id))
    ).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=WORKER_COLUMNS)
    frame["open_tasks"] = frame["open_tasks"].astype(int)
    frame["overdue_tasks"] = frame["overdue_tasks"].astype(int)
    frame = frame.sort_values(
        "role", key=lambda roles: roles.map(_ROLE_RANK), kind="stable"
    ).reset_index(drop=True)
    frame = mask_personal(frame, actor=actor, grid_id=grid_id, columns={"phone": PHONE})
    return frame


def fulltime_workers(*, session: Session) -> Counter:
    """Per grid: active full-time workers assigned to it (the grids' counters)."""
    return {
        g: {"full_time_workers": counts["full_time_workers"]}
        for g, counts in shared(grid_counts, session=session).items()
        if counts["full_time_workers"]
    }


def understaffed_grid_count(session: Session, policy: Policy) -> int:
    households = areas.household_counts(session=session)
    workers = workforce_queries.fulltime_workers(session=session)
    return sum(
        workforce.understaffed(
            households=households.get(grid["grid_id"], 0),
            full_time_workers=workers.get(grid["grid_id"], {}).get("full_time_workers", 0),
            policy=policy,
        )
        for grid in areas.grid_rows(session=session)
    )


# --------------------------------------------------------------------------- workload

WORKLOAD_COLUMNS = [
    "worker_id",
    "name",
    "phone",
    "role",
    "employment",
    "service_group",
    "grid_codes",
    "open_tasks",
    "overdue_tasks",
    "done_today",
    "score",
    "frontline",
]
# Who takes a share of the grid's tasks: imbalance and reassignments are counted over them.
FRONTLINE: tuple[str, ...] = (Employment.full_time, Employment.part_time)


def worker_grids(*, session: Session) -> dict[int, list[tuple[int, str, int | None]]]:
    """Per worker: the grids they serve, as (grid id, code, community id), in code order."""
    rows = session.execute(
        select(col(WorkerGrid.worker_id), col(Area.id), col(Area.code), col(Area.parent_id))
        .join(Area, col(Area.id) == col(WorkerGrid.grid_id))
        .order_by(col(Area.code))
    ).all()
    found: dict[int, list[tuple[int, str, int | None]]] = {}
    for worker_id, grid_id, code, community_id in rows:
        found.setdefault(int(worker_id), []).append((int(grid_id), str(code), community_id))
    return found


def _visible_grid(actor: Actor, grids: list[tuple[int, str, int | None]]) -> int | None:
    """A grid of the worker whose people `actor` may see (else any of theirs, or None)."""
    for grid_id, _, _ in grids:
        if actor.sees_personal_data_of(grid_id):
            return grid_id
    return grids[0][0] if grids else None


def worker_workload(*, session: Session, now: datetime, today: date, actor: Actor) -> pd.DataFrame:
    """Every active worker: grids, open, overdue and done-today tasks, and the workload score.

    Sorted busiest first (score, then overdue, then name). Phones are shown as
    access.personal decides for the worker's grids (masked outside the actor's scope).
    """
    if actor != SYSTEM:
        # Everyone's load is read once (shared with the page's other figures), then masked.
        frame = shared(worker_workload, session=session, now=now, today=today, actor=SYSTEM)
        grids = shared(worker_grids, session=session)
        frame["phone"] = [
            personal(phone, kind=PHONE, actor=actor, grid_id=_visible_grid(actor, grids.get(w, [])))
            for w, phone in zip(frame["worker_id"].tolist(), frame["phone"].tolist(), strict=True)
        ]
        return frame
    day_start = day_bounds_utc(today, get_settings().tz)[0]
    open_task = col(Task.status).in_(OPEN_TASK_STATUSES)
    done_today = and_(col(Task.status) == TaskStatus.done, col(Task.done_at) >= day_start)
    load = (
        select(
            col(Task.assigned_worker_id).label("worker_id"),
            count_if(open_task).label("open_tasks"),
            count_if(and_(open_task, col(Task.due_at) < now)).label("overdue_tasks"),
            count_if(done_today).label("done_today"),
        )
        .where(col(Task.assigned_worker_id).is_not(None), open_task | done_today)
        .group_by(col(Task.assigned_worker_id))
        .subquery()
    )
    rows = session.execute(
        select(
            col(Worker.id),
            col(Worker.name),
            col(Worker.phone),
            col(Worker.role),
            col(Worker.employment),
            col(Worker.service_group),
            func.coalesce(load.c.open_tasks, 0),
            func.coalesce(load.c.overdue_tasks, 0),
            func.coalesce(load.c.done_today, 0),
        )
        .outerjoin(load, load.c.worker_id == col(Worker.id))
        .where(col(Worker.active).is_(True))
    ).all()
    grids = shared(worker_grids, session=session)
    records = []
    for worker_id, name, phone, role, employment, group, n_open, n_overdue, n_done in rows:
        served = grids.get(int(worker_id), [])
        records.append(
            (
                int(worker_id),
                name,
                personal(phone, kind=PHONE, actor=actor, grid_id=_visible_grid(actor, served)),
                role,
                employment,
                group,
                ", ".join(code for _, code, _ in served),
                int(n_open),
                int(n_overdue),
                int(n_done),
                workforce.workload_score(open_tasks=int(n_open), overdue_tasks=int(n_overdue)),
                bool(employment in FRONTLINE and served),
            )
        )
    frame = pd.DataFrame(records, columns=WORKLOAD_COLUMNS)
    return frame.sort_values(
        ["score", "overdue_tasks", "name", "worker_id"], ascending=[False, False, True, True]
    ).reset_index(drop=True)


# --------------------------------------------------------------------------- staffing

STAFFING_COLUMNS = [
    "grid_id",
    "code",
    "name",
    "name_zh",
    "households",
    "full_time_workers",
    "households_per_worker",
    "needed",
    "gap",
    "understaffed",
]


def staffing(*, session: Session, understaffed_only: bool = False) -> pd.DataFrame:
    """Per grid: households per full-time worker against the standard, and the gap.

    With `understaffed_only`, the understaffed grids ranked by gap (analytics'
    ranked_understaffed); otherwise every grid in code order.
    """
    policy = load_policy(session)
    households = areas.household_counts(session=session)
    workers = fulltime_workers(session=session)
    grid_list = areas.grid_rows(session=session)
    gaps = [
        workforce.staffing_gap(
            grid_id=grid["grid_id"],
            households=households.get(grid["grid_id"], 0),
            full_time_workers=workers.get(grid["grid_id"], {}).get("full_time_workers", 0),
            policy=policy,
        )
        for grid in grid_list
    ]
    if understaffed_only:
        gaps = workforce.ranked_understaffed(gaps)
    info = {grid["grid_id"]: grid for grid in grid_list}
    rows = [
        (
            gap.grid_id,
            info[gap.grid_id]["code"],
            info[gap.grid_id]["name"],
            info[gap.grid_id]["name_zh"],
            gap.households,
            gap.full_time_workers,
            gap.households_per_worker,
            gap.needed,
            gap.gap,
            gap.understaffed,
        )
        for gap in gaps
    ]
    return pd.DataFrame(rows, columns=STAFFING_COLUMNS)


# --------------------------------------------------------------------------- balance


@dataclass(frozen=True)
class WorkforceSummary:
    """The headline of the Workforce page."""

    active_workers: int
    full_time: int
    volunteers: int
    open_tasks: int
    overdue_tasks: int
    unassigned_open_tasks: int
    understaffed_grids: int
    standard: int
    balance: workforce.Imbalance


def workforce_summary(*, session: Session, now: datetime, today: date) -> WorkforceSummary:
    """Counts of workers and tasks, understaffed grids, and the frontline imbalance."""
    load = shared(worker_workload, session=session, now=now, today=today, actor=SYSTEM)
    frontline = load[load["frontline"]]
    open_task = col(Task.status).in_(OPEN_TASK_STATUSES)
    n_open, n_overdue, n_unassigned = session.execute(
        select(
            count_if(open_task),
            count_if(and_(open_task, col(Task.due_at) < now)),
            count_if(and_(open_task, col(Task.assigned_worker_id).is_(None))),
        ).where(open_task)
    ).one()
    policy = load_policy(session)
    return WorkforceSummary(
        active_workers=len(load),
        full_time=int((load["employment"] == Employment.full_time).sum()),
        volunteers=int((load["employment"] == Employment.volunteer).sum()),
        open_tasks=int(n_open or 0),
        overdue_tasks=int(n_overdue or 0),
        unassigned_open_tasks=int(n_unassigned or 0),
        understaffed_grids=understaffed_grid_count(session, policy),
        standard=policy.households_per_fulltime_worker,
        balance=workforce.imbalance([int(s) for s in frontline["score"]]),
    )


OVERLOAD_COLUMNS = ["grid_id", "code", "name", "name_zh", "overloaded_workers", "overdue_tasks"]


@dataclass(frozen=True)
class Overload:
    """Frontline workers whose workload score reaches the policy's alert_workload_score: how
    many, and per grid they serve (a worker in two grids counts in each), most first. No names."""

    workers: int
    score: int
    by_grid: pd.DataFrame  # OVERLOAD_COLUMNS


def overloaded_workers(*, session: Session, now: datetime, today: date) -> Overload:
    """The overloaded frontline workers, counted overall and per grid."""
    score = load_policy(session).alert_workload_score
    load = shared(worker_workload, session=session, now=now, today=today, actor=SYSTEM)
    heavy = load[load["frontline"] & (load["score"] >= score)]
    served = shared(worker_grids, session=session)
    per_grid: dict[int, tuple[int, int]] = {}
    for worker_id, overdue in zip(heavy["worker_id"], heavy["overdue_tasks"], strict=True):
        for grid_id, _, _ in served.get(int(worker_id), []):
            n, late = per_grid.get(grid_id, (0, 0))
            per_grid[grid_id] = (n + 1, late + int(overdue))
    rows = [
        (g["grid_id"], g["code"], g["name"], g["name_zh"], *per_grid[g["grid_id"]])
        for g in areas.grid_rows(session=session)
        if g["grid_id"] in per_grid
    ]
    frame = pd.DataFrame(rows, columns=OVERLOAD_COLUMNS).sort_values(
        ["overloaded_workers", "overdue_tasks", "code"], ascending=[False, False, True]
    )
    return Overload(workers=len(heavy), score=score, by_grid=frame.reset_index(drop=True))


REASSIGNMENT_COLUMNS = [
    "task_id",
    "kind",
    "grid_id",
    "grid_code",
    "due_at",
    "overdue",
    "from_worker_id",
    "from_name",
    "to_worker_id",
    "to_name",
    "adds_grid",
    "from_score_after",
    "to_score_after",
]


def suggested_reassignments(*, session: Session, now: datetime, today: date) -> pd.DataFrame:
    """Open tasks to move from overloaded frontline workers to lightly loaded ones.

    The balance is the frontline's mean workload score; the rules are analytics'
    suggest_reassignments. Only the open tasks of workers above the balance are read.
    """
    load = shared(worker_workload, session=session, now=now, today=today, actor=SYSTEM)
    frontline = load[load["frontline"]]
    if frontline.empty:
        return pd.DataFrame(columns=REASSIGNMENT_COLUMNS)
    target = workforce.imbalance([int(s) for s in frontline["score"]]).target
    grids = shared(worker_grids, session=session)
    workers = [
        workforce.LoadedWorker(
            worker_id=int(w),
            grid_ids=frozenset(g for g, _, _ in grids.get(int(w), [])),
            score=int(score),
        )
        for w, score in zip(frontline["worker_id"], frontline["score"], strict=True)
    ]
    givers = [w.worker_id for w in workers if w.score > target]
    if not givers:
        return pd.DataFrame(columns=REASSIGNMENT_COLUMNS)
    task_rows = session.execute(
        select(
            col(Task.id), col(Task.grid_id), col(Task.assigned_worker_id), col(Task.due_at),
            col(Task.kind),
        ).where(
            col(Task.status).in_(OPEN_TASK_STATUSES), col(Task.assigned_worker_id).in_(givers)
        )
    ).all()  # fmt: skip
    kinds = {int(r[0]): r[4] for r in task_rows}
    dues = {int(r[0]): r[3] for r in task_rows}
    tasks = [
        workforce.OpenTask(
            task_id=int(task_id),
            grid_id=int(grid_id),
            worker_id=int(worker_id),
            overdue=due is not None and _aware(due) < now,  # type: ignore[operator]
            due_at=_aware(due),
        )
        for task_id, grid_id, worker_id, due, _ in task_rows
    ]
    community_of = {
        int(grid["grid_id"]): grid["community_id"] for grid in areas.grid_rows(session=session)
    }
    codes = {grid_id: code for grid_id, code in _grid_codes(session).items()}
    names = dict(zip(load["worker_id"], load["name"], strict=True))
    moves = workforce.suggest_reassignments(
        workers=workers, tasks=tasks, community_of=community_of, target=target
    )
    rows = [
        (
            m.task_id,
            kinds[m.task_id],
            m.grid_id,
            codes.get(m.grid_id, ""),
            dues[m.task_id],
            dues[m.task_id] is not None and _aware(dues[m.task_id]) < now,  # type: ignore[operator]
            m.from_worker_id,
            names.get(m.from_worker_id, ""),
            m.to_worker_id,
            names.get(m.to_worker_id, ""),
            m.adds_grid,
            m.from_score_after,
            m.to_score_after,
        )
        for m in moves
    ]
    frame = pd.DataFrame(rows, columns=REASSIGNMENT_COLUMNS)
    frame["due_at"] = pd.to_datetime(frame["due_at"], utc=True)
    return frame


def _aware(moment: datetime | None) -> datetime | None:
    """A stored time as an aware UTC one (SQLite hands them back naive); None stays None."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _grid_codes(session: Session) -> dict[int, str]:
    rows = session.execute(
        select(col(Area.id), col(Area.code)).where(col(Area.level) == AreaLevel.grid)
    )
    return {int(i): str(c) for i, c in rows.all()}


# --------------------------------------------------------------------------- volunteers

POSTING_COLUMNS = [
    "grid_id",
    "grid_code",
    "service_group",
    "need",
    "needed",
    "present",
    "shortfall",
    "volunteer_id",
    "volunteer_name",
    "from_grid_id",
    "from_grid_code",
]
_REQUEST_GROUPS: dict[str, str] = {
    RequestCategory.medical_care: ServiceGroup.medical,
    RequestCategory.medicine: ServiceGroup.material_purchase,
    RequestCategory.food: ServiceGroup.material_purchase,
}
_INFORMATION_TASKS = (TaskKind.information_collection, TaskKind.epidemiological_survey)


def volunteer_needs(*, session: Session) -> dict[tuple[int, str], int]:
    """(grid, service group) → the need each group answers (analytics.NEED_PER_VOLUNTEER)."""
    needs: dict[tuple[int, str], int] = {}

    def add(grid_id: int, group: str, n: int) -> None:
        if n:
            needs[(int(grid_id), group)] = needs.get((int(grid_id), group), 0) + int(n)

    # Residents with a vulnerability tag: the grids' counters (gridcore.queries.counters).
    for grid_id, counts in shared(grid_counts, session=session).items():
        add(grid_id, ServiceGroup.special_population_care, counts["vulnerable"])
    requests = session.execute(
        select(col(ResidentRequest.grid_id), col(ResidentRequest.category), func.count())
        .where(col(ResidentRequest.status).in_(OPEN_REQUEST_STATUSES))
        .group_by(col(ResidentRequest.grid_id), col(ResidentRequest.category))
    ).all()
    for grid_id, category, n in requests:
        if category in _REQUEST_GROUPS:
            add(grid_id, _REQUEST_GROUPS[category], n)
    tasks = session.execute(
        select(col(Task.grid_id), func.count())
        .where(col(Task.status).in_(OPEN_TASK_STATUSES), col(Task.kind).in_(_INFORMATION_TASKS))
        .group_by(col(Task.grid_id))
    ).all()
    for grid_id, n in tasks:
        add(grid_id, ServiceGroup.information_collection, n)
    quarantined = session.execute(
        select(col(Contact.grid_id), func.count())
        .where(
            col(Contact.status) == ContactStatus.in_quarantine, col(Contact.grid_id).is_not(None)
        )
        .group_by(col(Contact.grid_id))
    ).all()
    active_cases = session.execute(
        select(col(Case.grid_id), func.count())
        .where(col(Case.status) == CaseStatus.active)
        .group_by(col(Case.grid_id))
    ).all()
    for grid_id, n in [*quarantined, *active_cases]:
        add(grid_id, ServiceGroup.psychological_counselling, n)
    return needs


def volunteer_postings(*, session: Session) -> pd.DataFrame:
    """Grids short of volunteers by service group, and the volunteer suggested for each."""
    volunteer_rows = session.execute(
        select(col(Worker.id), col(Worker.name), col(Worker.service_group)).where(
            col(Worker.active).is_(True),
            col(Worker.employment) == Employment.volunteer,
            col(Worker.service_group).is_not(None),
        )
    ).all()
    grids = shared(worker_grids, session=session)
    volunteers = [
        workforce.Volunteer(
            worker_id=int(w),
            service_group=str(group),
            grid_ids=frozenset(g for g, _, _ in grids.get(int(w), [])),
        )
        for w, _, group in volunteer_rows
    ]
    names = {int(w): name for w, name, _ in volunteer_rows}
    community_of = {
        int(grid["grid_id"]): grid["community_id"] for grid in areas.grid_rows(session=session)
    }
    postings = workforce.suggest_postings(
        needs=volunteer_needs(session=session), volunteers=volunteers, community_of=community_of
    )
    codes = _grid_codes(session)
    rows = [
        (
            p.grid_id,
            codes.get(p.grid_id, ""),
            p.service_group,
            p.need,
            p.needed,
            p.present,
            p.shortfall,
            p.volunteer_id,
            names.get(p.volunteer_id, "") if p.volunteer_id is not None else "",
            p.from_grid_id,
            codes.get(p.from_grid_id, "") if p.from_grid_id is not None else "",
        )
        for p in postings
    ]
    frame = pd.DataFrame(rows, columns=POSTING_COLUMNS)
    frame["volunteer_id"] = frame["volunteer_id"].astype("Int64")
    frame["from_grid_id"] = frame["from_grid_id"].astype("Int64")
    return frame


# --------------------------------------------------------------------------- forms


def worker_choices(*, session: Session) -> pd.DataFrame:
    """Every worker (active or not) with the ids of their grids, for the forms, by name."""
    rows = session.execute(
        select(
            col(Worker.id), col(Worker.name), col(Worker.role), col(Worker.employment),
            col(Worker.active),
        ).order_by(col(Worker.name), col(Worker.id))
    ).all()  # fmt: skip
    grids = shared(worker_grids, session=session)
    return pd.DataFrame(
        [
            (
                int(w), name, role, employment, bool(active),
                tuple(g for g, _, _ in grids.get(int(w), [])),
                ", ".join(code for _, code, _ in grids.get(int(w), [])),
            )
            for w, name, role, employment, active in rows
        ],
        columns=["worker_id", "name", "role", "employment", "active", "grid_ids", "grid_codes"],
    )  # fmt: skip


def task_holder(*, session: Session, task_id: int) -> tuple[int | None, bool] | None:
    """(the worker holding a task, whether it is open), or None when there is no such task."""
    found = session.execute(
        select(col(Task.assigned_worker_id), col(Task.status)).where(col(Task.id) == task_id)
    ).first()
    if found is None:
        return None
    worker_id, status = found
    return (int(worker_id) if worker_id is not None else None, status in OPEN_TASK_STATUSES)
