"""The people who work the grids, residents' requests for help, and the tasks it all makes."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from gridcore.demo import names
from gridcore.demo.population import GridPlan, People
from gridcore.demo.rounds import RoundPlan
from gridcore.demo.story import Outbreak
from gridcore.demo.world import Clock, Ids, Rows
from gridcore.models import (
    CaseKind,
    Employment,
    FoundVia,
    RequestCategory,
    RequestStatus,
    ResidentRequest,
    ServiceGroup,
    Task,
    TaskKind,
    TaskStatus,
    Urgency,
    Vulnerability,
    Worker,
    WorkerGrid,
    WorkerRole,
    ZoneLevel,
)
from gridcore.policy import DEFAULT_POLICY

POLICY = DEFAULT_POLICY
REQUESTS_PER_1000_DAY = 1.3  # at precaution level; sealed grids ask for much more
_LEVEL_FACTOR: dict[str, float] = {ZoneLevel.sealed: 2.5, ZoneLevel.controlled: 1.5}
STUCK_DAYS = 3  # work older than this was finished in the end, if late
# Who asks for what: the tags of the residents a request is most often for.
_ASKERS: dict[str, tuple[str, ...]] = {
    RequestCategory.medicine: (Vulnerability.chronic_illness, Vulnerability.elderly_alone),
    RequestCategory.medical_care: (
        Vulnerability.pregnant,
        Vulnerability.bedridden,
        Vulnerability.chronic_illness,
    ),
    RequestCategory.food: (Vulnerability.elderly_alone, Vulnerability.infant),
}
_CATEGORIES = (
    RequestCategory.medicine,
    RequestCategory.food,
    RequestCategory.medical_care,
    RequestCategory.other,
)
_CATEGORY_WEIGHTS = (0.35, 0.35, 0.15, 0.15)
_URGENT_SHARE = {
    RequestCategory.medical_care: 0.6,
    RequestCategory.medicine: 0.15,
    RequestCategory.food: 0.05,
    RequestCategory.other: 0.02,
}
# What residents write, as a Chinese street's residents write it: user text is shown as entered,
# in either language of the screen.
_DESCRIPTIONS = {
    RequestCategory.medicine: (
        "降压药快吃完了",
        "胰岛素续药",
        "老人糖尿病药",
        "心脏病处方药",
        "儿童退烧药",
        "抗凝药续药",
    ),
    RequestCategory.food: (
        "家里没有米和菜了",
        "需要婴儿奶粉",
        "独居老人无法买菜",
        "清真食品",
        "团购物资未送达",
    ),
    RequestCategory.medical_care: (
        "需透析，需要转运",
        "胸痛，需要就医",
        "孕妇产检",
        "化疗不能中断",
        "儿童高烧",
        "老人在家摔倒",
    ),
    RequestCategory.other: (
        "封控楼内宠物无人照顾",
        "需开具返岗证明",
        "水管破裂",
        "楼内垃圾未清运",
        "健康码问题咨询",
    ),
}


@dataclass
class Staff:
    """The workers of one street, by grid."""

    by_grid: list[list[int]] = field(default_factory=list)  # worker ids serving each grid
    frontline: list[list[int]] = field(default_factory=list)  # full- and part-time, per grid
    buyers: list[list[int]] = field(default_factory=list)  # material-purchase volunteers


def add_workers(
    *,
    grids: list[GridPlan],
    communities: int,
    rng: random.Random,
    ids: Ids,
    rows: Rows,
    year: int,
) -> Staff:
    """About one full-time worker per grid (some grids short), part-timers, volunteers, chiefs.

    Chief grid managers and the chief instructor oversee many grids and are linked to
    none, so that a grid's full-time count is the workers who actually serve it.
    """
    staff = Staff(
        by_grid=[[] for _ in grids], frontline=[[] for _ in grids], buyers=[[] for _ in grids]
    )

    def worker(role: str, employment: str, group: str | None = None) -> int:
        worker_id = ids.take(Worker)
        female = rng.random() < 0.6
        birth = year - rng.randint(24, 58)
        rows.add(
            Worker,
            {
                "id": worker_id,
                "name": names.person_name(
                    rng, family=names.surname(rng), female=female, birth_year=birth
                ),
                "phone": names.mobile(rng),
                "role": role,
                "employment": employment,
                "service_group": group,
                "active": True,
            },
        )
        return worker_id

    worker(WorkerRole.grid_chief_instructor, Employment.full_time)
    for _ in range(communities):
        worker(WorkerRole.chief_grid_manager, Employment.full_time)
    for g, grid in enumerate(grids):
        second = 0.75 if grid.households > 400 else 0.6 if grid.households > 300 else 0.05
        crew = [worker(WorkerRole.grid_leader, Employment.full_time)]
        if rng.random() < second:
            crew.append(worker(WorkerRole.grid_member, Employment.full_time))
        if rng.random() < 0.5:
            crew.append(worker(WorkerRole.grid_member, Employment.part_time))
        staff.frontline[g] = list(crew)
        for _ in range(rng.randint(3, 8)):
            group = rng.choices(list(ServiceGroup), weights=(0.3, 0.25, 0.2, 0.1, 0.15))[0]
            volunteer = worker(WorkerRole.volunteer, Employment.volunteer, group)
            crew.append(volunteer)
            if group == ServiceGroup.material_purchase:
                staff.buyers[g].append(volunteer)
        staff.by_grid[g] = crew
        for worker_id in crew:
            rows.add(WorkerGrid, {"worker_id": worker_id, "grid_id": grid.id})
    return staff


def target_hours(category: str, urgency: str) -> int:
    """The policy's resolution target for a request."""
    if category == RequestCategory.medical_care:
        return (
            POLICY.target_hours_urgent_medical
            if urgency == Urgency.urgent
            else POLICY.target_hours_medicine
        )
    if category == RequestCategory.medicine:
        return POLICY.target_hours_medicine
    if category == RequestCategory.food:
        return POLICY.target_hours_food
    return POLICY.target_hours_other


def add_requests(
    *,
    grids: list[GridPlan],
    people: People,
    outbreak: Outbreak,
    staff: Staff,
    clock: Clock,
    rng: random.Random,
    np_rng: np.random.Generator,
    ids: Ids,
    rows: Rows,
) -> None:
    """Requests day by day (more where grids are sealed) and the deliveries they need."""
    now_hours = clock.hours_now()
    for k in range(outbreak.onset, 1):
        for g, grid in enumerate(grids):
            level = outbreak.level_on(g, k)
            rate = REQUESTS_PER_1000_DAY * _LEVEL_FACTOR.get(level, 1.0)
            count = int(np_rng.poisson(rate * len(people.by_grid[g]) / 1000))
            last_hour = 22.0 if k < 0 else min(22.0, now_hours)
            if last_hour <= 7.0:
                continue
            for _ in range(count):
                created = clock.at(k, rng.uniform(7.0, last_hour))
                _request(grid, g, people, staff, created, clock, rng, ids, rows)


def _request(
    grid: GridPlan,
    g: int,
    people: People,
    staff: Staff,
    created: datetime,
    clock: Clock,
    rng: random.Random,
    ids: Ids,
    rows: Rows,
) -> None:
    category = rng.choices(_CATEGORIES, weights=_CATEGORY_WEIGHTS)[0]
    urgency = Urgency.urgent if rng.random() < _URGENT_SHARE[category] else Urgency.normal
    resident = _asker(people, g, category, rng)
    target = timedelta(hours=target_hours(category, urgency))
    assigned = created + target * rng.uniform(0.02, 0.12)
    started = assigned + target * rng.uniform(0.03, 0.2)
    r = rng.random()
    done: datetime | None
    recent = created >= clock.now - timedelta(days=STUCK_DAYS)
    if r < 0.84:
        done = created + target * rng.uniform(0.3, 0.95)
    elif r < 0.95 or not recent:
        done = created + target * rng.uniform(1.05, 2.5)
    else:
        done = None  # fell through the cracks: still open, and overdue once the target passes
    if done is not None:
        done = max(done, started + timedelta(minutes=rng.uniform(5, 30)))
    cancelled = rng.random() < 0.03
    stuck_at = rng.choice((RequestStatus.new, RequestStatus.assigned, RequestStatus.in_progress))
    now = clock.now
    status = RequestStatus.new
    times: dict[str, datetime | None] = {"assigned_at": None, "started_at": None, "done_at": None}
    if assigned <= now and not (done is None and stuck_at == RequestStatus.new):
        status, times["assigned_at"] = RequestStatus.assigned, assigned
        if started <= now and not (done is None and stuck_at == RequestStatus.assigned):
            status, times["started_at"] = RequestStatus.in_progress, started
            if done is not None and done <= now:
                status, times["done_at"] = RequestStatus.done, done
    if cancelled and status != RequestStatus.done:
        status = RequestStatus.cancelled
    crew = (
        staff.buyers[g]
        if category == RequestCategory.food and staff.buyers[g]
        else staff.frontline[g]
    )
    worker = rng.choice(crew) if times["assigned_at"] is not None else None
    request_id = ids.take(ResidentRequest)
    rows.add(
        ResidentRequest,
        {
            "id": request_id,
            "household_id": (
                None if resident is None else people.household_ids[people.household[resident]]
            ),
            "resident_id": None if resident is None else people.ids[resident],
            "grid_id": grid.id,
            "category": category,
            "urgency": urgency,
            "description": rng.choice(_DESCRIPTIONS[category]),
            "status": status,
            "assigned_worker_id": worker,
            "created_at": created,
            **times,
        },
    )
    if category in (RequestCategory.food, RequestCategory.medicine) and times["assigned_at"]:
        task_status = {
            RequestStatus.done: TaskStatus.done,
            RequestStatus.cancelled: TaskStatus.cancelled,
            RequestStatus.in_progress: TaskStatus.in_progress,
        }.get(status, TaskStatus.open)
        _task(
            rows,
            ids,
            grid_id=grid.id,
            kind=TaskKind.delivery,
            title=_delivery_title(category, grid.name, grid.name_zh),
            worker=worker,
            created=times["assigned_at"],
            due=created + target,
            status=task_status,
            done=times["done_at"],
            request_id=request_id,
            resident_id=None if resident is None else people.ids[resident],
        )


def _delivery_title(category: str, grid_name: str, grid_name_zh: str) -> tuple[str, str]:
    if category == RequestCategory.medicine:
        return f"Deliver medicine ({grid_name})", f"配送药品（{grid_name_zh}）"
    return f"Deliver daily necessities ({grid_name})", f"配送生活物资（{grid_name_zh}）"


def _asker(people: People, g: int, category: str, rng: random.Random) -> int | None:
    """The resident a request is for: vulnerable residents ask more often."""
    residents = people.by_grid[g]
    wanted = _ASKERS.get(category, ())
    for _ in range(20):
        i = rng.choice(residents)
        if not wanted or any(tag in people.tags[i] for tag in wanted) or rng.random() < 0.1:
            return i
    return rng.choice(residents)


def _task(
    rows: Rows,
    ids: Ids,
    *,
    grid_id: int,
    kind: str,
    title: tuple[str, str],
    worker: int | None,
    created: datetime,
    due: datetime | None,
    status: str,
    done: datetime | None,
    request_id: int | None = None,
    resident_id: int | None = None,
) -> None:
    rows.add(
        Task,
        {
            "id": ids.take(Task),
            "grid_id": grid_id,
            "kind": kind,
            "title": title[0][:200],
            "title_zh": title[1][:200],
            "assigned_worker_id": worker,
            "due_at": due,
            "request_id": request_id,
            "resident_id": resident_id,
            "status": status,
            "created_at": created,
            "done_at": done if status == TaskStatus.done else None,
        },
    )


def _progress(
    created: datetime, due: datetime, clock: Clock, rng: random.Random
) -> tuple[str, datetime | None]:
    """Status and finish time of a task: most finish in time, a few late, some not yet."""
    span = due - created
    r = rng.random()
    if r < 0.8:
        done = created + span * rng.uniform(0.2, 0.95)
    elif r < 0.95 or created < clock.now - timedelta(days=STUCK_DAYS):
        done = created + span * rng.uniform(1.05, 1.8)
    else:
        done = None
    if done is not None and done <= clock.now:
        return TaskStatus.done, done
    if created + span * 0.3 <= clock.now and rng.random() < 0.5:
        return TaskStatus.in_progress, None
    return TaskStatus.open, None


def add_tasks(
    *,
    grids: list[GridPlan],
    people: People,
    outbreak: Outbreak,
    staff: Staff,
    rounds: list[RoundPlan],
    case_ids: list[int],
    clock: Clock,
    rng: random.Random,
    ids: Ids,
    rows: Rows,
) -> None:
    """Surveys and disinfection after cases, door-to-door testing, visits, data collection."""

    def plan(
        g: int,
        kind: str,
        title: tuple[str, str],
        created: datetime,
        hours: float,
        resident: int | None = None,
    ) -> None:
        if created >= clock.now:
            return
        due = created + timedelta(hours=hours)
        status, done = _progress(created, due, clock, rng)
        _task(
            rows,
            ids,
            grid_id=grids[g].id,
            kind=kind,
            title=title,
            worker=rng.choice(staff.frontline[g]),
            created=created,
            due=due,
            status=status,
            done=done,
            resident_id=None if resident is None else people.ids[resident],
        )

    for case, case_id in zip(outbreak.cases, case_ids, strict=True):
        if case.kind == CaseKind.suspected:
            continue
        g = people.grid[case.resident]
        reported = clock.at(case.day, rng.uniform(8.0, 11.0))
        plan(
            g,
            TaskKind.epidemiological_survey,
            (f"Epidemiological survey: case #{case_id}", f"流行病学调查：病例 #{case_id}"),
            reported,
            24,
            case.resident,
        )
        if case.found_via != FoundVia.quarantine:
            address_zh, address_en = people.building_address[people.building[case.resident]].split(
                " · "
            )
            plan(
                g,
                TaskKind.disinfection,
                (f"Terminal disinfection: {address_en}", f"终末消杀：{address_zh}"),
                reported + timedelta(hours=2),
                24,
            )
    for round_plan in rounds:
        for g in range(len(grids)):
            plan(
                g,
                TaskKind.door_to_door_testing,
                (
                    f"Door-to-door sampling: round {round_plan.number}",
                    f"上门采样：第 {round_plan.number} 轮",
                ),
                round_plan.start - timedelta(hours=1),
                13,
            )
    for g in range(len(grids)):
        plan(
            g,
            TaskKind.information_collection,
            ("Household registration: members and health codes", "入户信息登记：家庭成员与健康码"),
            clock.at(outbreak.onset + 1, 9),
            48,
        )
        plan(
            g,
            TaskKind.information_collection,
            ("Update the register of vulnerable residents", "更新重点人群台账"),
            clock.at(-6, 9),
            72,
        )
    for i in range(len(people)):
        tags = people.tags[i]
        if Vulnerability.elderly_alone not in tags and Vulnerability.bedridden not in tags:
            continue
        for start in range(outbreak.onset + 2, 1, 7):
            plan(
                people.grid[i],
                TaskKind.vulnerable_visit,
                ("Visit a vulnerable resident", "重点人群探访"),
                clock.at(start, rng.uniform(8.0, 12.0)),
                48,
                i,
            )
