"""Cases and their contacts: lists per grid and counts per grid and day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import and_, case, func, select, true
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from gridcore.access import COMMAND_ROLES, NAME, PHONE, TEXT, Actor, mask_personal, personal
from gridcore.analytics import cases as case_analytics
from gridcore.models import (
    Area,
    AreaLevel,
    Building,
    Case,
    CaseCount,
    CaseStatus,
    Contact,
    ContactStatus,
    ContactTest,
    Household,
    Resident,
)
from gridcore.policy import Policy, load_policy
from gridcore.queries._sql import Counter, by_grid, count_if, dialect_name, select_columns
from gridcore.queries.areas import parse_shape

# The sampling desk's resident search (name, end of a phone, ID digits), shared.
from gridcore.queries.residents import search_condition

CASE_COLUMNS = [
    "case_id",
    "reported_date",
    "kind",
    "status",
    "found_via",
    "resident_name",
    "address",
    "building",
    "building_zh",
]


CONTACT_COLUMNS = [
    "contact_id",
    "person_name",
    "phone",
    "contact_type",
    "quarantine_place",
    "start_date",
    "planned_end_date",
    "days_left",
    "status",
]


def grid_cases(*, session: Session, grid_id: int, actor: Actor) -> pd.DataFrame:
    """The grid's cases, newest first, with the resident's name and the building."""
    rows = session.execute(
        select(
            col(Case.id),
            col(Case.reported_date),
            col(Case.kind),
            col(Case.status),
            col(Case.found_via),
            col(Resident.name),
            col(Case.address),
            col(Building.name),
            col(Building.name_zh),
        )
        .outerjoin(Resident, col(Resident.id) == col(Case.resident_id))
        .outerjoin(Building, col(Building.id) == col(Case.building_id))
        .where(col(Case.grid_id) == grid_id)
        .order_by(col(Case.reported_date).desc(), col(Case.id).desc())
    ).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=CASE_COLUMNS)
    frame = mask_personal(
        frame,
        actor=actor,
        grid_id=grid_id,
        columns={"resident_name": NAME, "address": TEXT, "building": TEXT, "building_zh": TEXT},
    )
    return frame


def grid_contacts(*, session: Session, grid_id: int, today: date, actor: Actor) -> pd.DataFrame:
    """The grid's contacts: those in quarantine first, soonest end first.

    days_left is planned_end_date − today for a contact in quarantine (0: ends today,
    negative: overdue for release), empty otherwise.
    """
    rows = session.execute(
        select(
            col(Contact.id),
            col(Contact.person_name),
            col(Contact.phone),
            col(Contact.contact_type),
            col(Contact.quarantine_place),
            col(Contact.start_date),
            col(Contact.planned_end_date),
            col(Contact.status),
        )
        .where(col(Contact.grid_id) == grid_id)
        .order_by(
            case((col(Contact.status) == ContactStatus.in_quarantine, 0), else_=1),
            col(Contact.planned_end_date),
            col(Contact.id),
        )
    ).all()
    records = [
        (*r[:7], (r[6] - today).days if r[7] == ContactStatus.in_quarantine else None, r[7])
        for r in rows
    ]
    frame = pd.DataFrame(records, columns=CONTACT_COLUMNS)
    frame["days_left"] = frame["days_left"].astype("Int64")
    frame = mask_personal(
        frame, actor=actor, grid_id=grid_id, columns={"person_name": NAME, "phone": PHONE}
    )
    return frame


def counted_cases() -> Any:
    """The WHERE clause of cases that every figure counts (see analytics.cases)."""
    return and_(
        col(Case.kind).in_(case_analytics.COUNTED_KINDS),
        col(Case.status) != case_analytics.NOT_COUNTED_STATUS,
    )


def community_case() -> Any:
    """Cases found outside quarantine (a reclassified case is no new one)."""
    return col(Case.found_via).not_in(
        (case_analytics.QUARANTINE_FOUND, case_analytics.RECLASSIFIED)
    )


def case_counts(*, session: Session, today: date) -> Counter:
    """Per grid: new cases today and in 7 days, active cases, community cases, last one."""
    week = col(Case.reported_date) >= case_analytics.window_start(today=today)
    stmt = (
        select_columns(
            Case.grid_id,
            count_if(col(Case.reported_date) == today),
            count_if(week),
            count_if(col(Case.status) == CaseStatus.active),
            count_if(and_(week, community_case())),
            func.max(Case.reported_date).filter(community_case()),
        )
        .where(counted_cases(), col(Case.reported_date) <= today)
        .group_by(col(Case.grid_id))
    )
    return by_grid(
        session.execute(stmt).all(),
        ["new_cases_today", "new_cases_7d", "active_cases", "community_cases_7d",
         "last_community_case"],
    )  # fmt: skip


def contact_counts(*, session: Session, today: date) -> Counter:
    """Per grid: contacts in quarantine now, and those of them due to end it today."""
    stmt = (
        select_columns(
            Contact.grid_id, func.count(), count_if(col(Contact.planned_end_date) == today)
        )
        .where(Contact.status == ContactStatus.in_quarantine, col(Contact.grid_id).is_not(None))
        .group_by(col(Contact.grid_id))
    )
    return by_grid(session.execute(stmt).all(), ["in_quarantine", "contacts_due_today"])


def quarantine_per_day(*, session: Session, start: date, end: date) -> dict[date, int]:
    """Contacts in quarantine on each day from `start` to `end`.

    A contact is counted on every day from its start to its planned end, both included;
    one who became a case is counted among the cases instead, on no day.
    """
    stmt = (
        select(col(Contact.start_date), col(Contact.planned_end_date), func.count())
        .where(
            col(Contact.status) != ContactStatus.became_case,
            col(Contact.start_date) <= end,
            col(Contact.planned_end_date) >= start,
        )
        .group_by(col(Contact.start_date), col(Contact.planned_end_date))
    )
    days = {start + timedelta(days=i): 0 for i in range((end - start).days + 1)}
    for first, last, n in session.execute(stmt):
        day = max(first, start)
        while day <= min(last, end):
            days[day] += n
            day += timedelta(days=1)
    return days


# --------------------------------------------------------------------------- the Cases page
#
# Areas form one tree (city → district → street → community → grid). Case rows sit in a
# grid; reported counts (bulletins) sit in any area. Figures per area of a level add both:
# each is grouped in SQL first, then the few grouped rows are rolled up the tree.


@dataclass(frozen=True)
class AreaTree:
    """Every area's parent and level, to roll grouped rows up to a level or a subtree."""

    parent: dict[int, int | None]
    level: dict[int, str]

    def ancestor_at(self, area_id: int, level: str) -> int | None:
        """`area_id` itself or the area above it at `level`; None when there is none."""
        seen: set[int] = set()
        current: int | None = area_id
        while current is not None and current not in seen:
            if self.level.get(current) == level:
                return current
            seen.add(current)
            current = self.parent.get(current)
        return None

    def within(self, area_id: int, root: int | None) -> bool:
        """Whether `area_id` is `root` or lies below it (always, without a root)."""
        if root is None:
            return True
        seen: set[int] = set()
        current: int | None = area_id
        while current is not None and current not in seen:
            if current == root:
                return True
            seen.add(current)
            current = self.parent.get(current)
        return False

    def grids_within(self, root: int | None) -> list[int]:
        """The grids in `root`'s subtree (every grid without a root)."""
        return [
            a for a, lvl in self.level.items() if lvl == AreaLevel.grid and self.within(a, root)
        ]


def area_tree(*, session: Session) -> AreaTree:
    """The area tree: parent and level of every area."""
    rows = session.execute(select(col(Area.id), col(Area.parent_id), col(Area.level))).all()
    return AreaTree(
        parent={int(i): (None if p is None else int(p)) for i, p, _ in rows},
        level={int(i): str(lvl) for i, _, lvl in rows},
    )


def _rolled(
    tree: AreaTree, rows: Any, *, level: str | None, within: int | None
) -> dict[tuple[Any, ...], int]:
    """Grouped rows (area_id, *key, n) summed per (area at `level`, *key) inside `within`.

    With `level` None every row goes to one total (area 0). Rows of an area above `level`
    cannot be split among its parts and are left out at that level.
    """
    summed: dict[tuple[Any, ...], int] = {}
    for area_id, *key, n in rows:
        if not n or not tree.within(int(area_id), within):
            continue
        target = 0 if level is None else tree.ancestor_at(int(area_id), level)
        if target is None:
            continue
        index = (target, *key)
        summed[index] = summed.get(index, 0) + int(n)
    return summed


def daily_counts(
    *,
    session: Session,
    start: date,
    end: date,
    level: str | None = None,
    within: int | None = None,
) -> pd.DataFrame:
    """New cases per day, area of `level` (None: one total), kind and how they were found.

    Case rows (confirmed and asymptomatic, not ruled out) and reported counts are added;
    `within` keeps the subtree of one area. Columns: analytics.cases.DAILY_COLUMNS.
    """
    counted_kinds = case_analytics.COUNTED_KINDS
    case_rows = session.execute(
        select(
            col(Case.grid_id),
            col(Case.reported_date),
            col(Case.kind),
            col(Case.found_via),
            func.count(),
        )
        .where(counted_cases(), col(Case.reported_date) >= start, col(Case.reported_date) <= end)
        .group_by(col(Case.grid_id), col(Case.reported_date), col(Case.kind), col(Case.found_via))
    ).all()
    reported_rows = session.execute(
        select(
            col(CaseCount.area_id),
            col(CaseCount.day),
            col(CaseCount.kind),
            col(CaseCount.found_via),
            func.sum(CaseCount.count),
        )
        .where(
            col(CaseCount.kind).in_(counted_kinds),
            col(CaseCount.day) >= start,
            col(CaseCount.day) <= end,
        )
        .group_by(
            col(CaseCount.area_id), col(CaseCount.day), col(CaseCount.kind),
            col(CaseCount.found_via),
        )
    ).all()  # fmt: skip
    tree = area_tree(session=session)
    summed = _rolled(tree, [*case_rows, *reported_rows], level=level, within=within)
    records = [
        (day, area, str(kind), str(found_via), n)
        for (area, day, kind, found_via), n in sorted(summed.items(), key=lambda kv: kv[0][1])
    ]
    return pd.DataFrame(records, columns=case_analytics.DAILY_COLUMNS)


def population(*, session: Session, level: str, within: int | None = None) -> dict[int, int]:
    """Residents per area of `level` (areas whose grids hold nobody are left out)."""
    rows = session.execute(
        select(col(Resident.grid_id), func.count()).group_by(col(Resident.grid_id))
    ).all()
    tree = area_tree(session=session)
    return {area: n for (area,), n in _rolled(tree, rows, level=level, within=within).items()}


def last_community_case(
    *, session: Session, level: str, today: date, within: int | None = None
) -> dict[int, date]:
    """Per area of `level`: the day of its last new case found outside quarantine."""
    outside = (case_analytics.QUARANTINE_FOUND, case_analytics.RECLASSIFIED)
    case_rows = session.execute(
        select(col(Case.grid_id), func.max(Case.reported_date))
        .where(
            counted_cases(),
            col(Case.found_via).not_in(outside),
            col(Case.reported_date) <= today,
        )
        .group_by(col(Case.grid_id))
    ).all()
    reported_rows = session.execute(
        select(col(CaseCount.area_id), func.max(CaseCount.day))
        .where(
            col(CaseCount.kind).in_(case_analytics.COUNTED_KINDS),
            col(CaseCount.found_via).not_in(outside),
            col(CaseCount.count) > 0,
            col(CaseCount.day) <= today,
        )
        .group_by(col(CaseCount.area_id))
    ).all()
    tree = area_tree(session=session)
    last: dict[int, date] = {}
    for area_id, day in [*case_rows, *reported_rows]:
        if day is None or not tree.within(int(area_id), within):
            continue
        target = tree.ancestor_at(int(area_id), level)
        if target is not None and (target not in last or day > last[target]):
            last[target] = day
    return last


INCIDENCE_COLUMNS: list[str] = [
    "area_id", "code", "name", "name_zh", "shape", "new_7d", "community_7d", "residents",
    "incidence_7d_per_10k", "days_since_community",
]  # fmt: skip


def incidence_by_area(
    *, session: Session, level: str, today: date, within: int | None = None
) -> pd.DataFrame:
    """Areas of `level` with a map shape: new cases in 7 days, residents, incidence per 10k.

    Also the days since each area's last community case (None: never one).
    """
    start = case_analytics.window_start(today=today)
    daily = daily_counts(session=session, start=start, end=today, level=level, within=within)
    new_7d = case_analytics.new_cases_by_area(daily, start=start, end=today)
    community = daily[
        (daily["found_via"] != case_analytics.QUARANTINE_FOUND)
        & (daily["found_via"] != case_analytics.RECLASSIFIED)
    ]
    community_7d = case_analytics.new_cases_by_area(community, start=start, end=today)
    people = population(session=session, level=level, within=within)
    incidence = case_analytics.incidence_7d_by_area(new_7d=new_7d, population=people)
    last = last_community_case(session=session, level=level, today=today, within=within)
    tree = area_tree(session=session)
    records = []
    for row in session.execute(
        select(col(Area.id), col(Area.code), col(Area.name), col(Area.name_zh), col(Area.shape))
        .where(col(Area.level) == level)
        .order_by(col(Area.code))
    ):
        area_id = int(row[0])
        if not tree.within(area_id, within):
            continue
        records.append(
            (
                area_id, row[1], row[2], row[3], parse_shape(row[4]), new_7d.get(area_id, 0),
                community_7d.get(area_id, 0), people.get(area_id, 0), incidence.get(area_id),
                case_analytics.days_since(last_day=last.get(area_id), today=today),
            )
        )  # fmt: skip
    frame = pd.DataFrame(records, columns=INCIDENCE_COLUMNS)
    frame["incidence_7d_per_10k"] = frame["incidence_7d_per_10k"].astype("float64")
    frame["days_since_community"] = frame["days_since_community"].astype("Int64")
    return frame


def _grid_filter(tree: AreaTree, within: int | None, column: Any) -> Any:
    """A WHERE clause keeping rows of the grids in `within`'s subtree (true without one)."""
    if within is None:
        return true()
    return column.in_(tree.grids_within(within))


ACTIVE_COLUMNS: list[str] = [
    "case_id", "reported_date", "kind", "found_via", "grid_id", "grid_code", "resident_id",
    "resident_name", "address", "building", "contacts", "building_zh",
]  # fmt: skip


def active_cases(
    *, session: Session, actor: Actor, within: int | None = None, limit: int = 300
) -> pd.DataFrame:
    """Active cases (suspected ones too), newest first, with their traced contacts.

    Names and addresses are masked unless `actor` may see the grid's residents.
    """
    tree = area_tree(session=session)
    traced = (
        select(col(Contact.case_id), func.count().label("n"))
        .where(col(Contact.case_id).is_not(None))
        .group_by(col(Contact.case_id))
        .subquery()
    )
    rows = session.execute(
        select(
            col(Case.id), col(Case.reported_date), col(Case.kind), col(Case.found_via),
            col(Case.grid_id), col(Area.code), col(Case.resident_id), col(Resident.name),
            col(Case.address), col(Building.name), func.coalesce(traced.c.n, 0),
            col(Building.name_zh),
        )
        .join(Area, col(Area.id) == col(Case.grid_id))
        .outerjoin(Resident, col(Resident.id) == col(Case.resident_id))
        .outerjoin(Building, col(Building.id) == col(Case.building_id))
        .outerjoin(traced, traced.c.case_id == col(Case.id))
        .where(
            col(Case.status) == CaseStatus.active,
            _grid_filter(tree, within, col(Case.grid_id)),
        )
        .order_by(col(Case.reported_date).desc(), col(Case.id).desc())
        .limit(limit)
    ).all()  # fmt: skip
    records = [
        (
            *r[:7],
            personal(r[7], kind=NAME, actor=actor, grid_id=int(r[4])),
            personal(r[8], kind=TEXT, actor=actor, grid_id=int(r[4])),
            r[9],
            int(r[10]),
            r[11],
        )
        for r in rows
    ]
    frame = pd.DataFrame(records, columns=ACTIVE_COLUMNS)
    frame["resident_id"] = frame["resident_id"].astype("Int64")
    return frame


BOARD_COLUMNS: list[str] = [
    "contact_id", "case_id", "person_name", "phone", "grid_id", "grid_code", "contact_type",
    "quarantine_place", "start_date", "planned_end_date", "days_left", "ends_today",
    "test_due_today", "missed_tests", "next_test", "test_days", "tested_days", "resident_id",
]  # fmt: skip


def quarantine_board(
    *,
    session: Session,
    actor: Actor,
    today: date,
    within: int | None = None,
    limit: int = 20_000,
) -> pd.DataFrame:
    """Contacts in quarantine with their schedule: release day, today's test, missed tests.

    Soonest release first. Contacts living outside every grid appear only without `within`.
    Names and phones are masked unless `actor` may see the grid's residents.
    """
    tree = area_tree(session=session)
    policy = load_policy(session)
    held = and_(
        col(Contact.status) == ContactStatus.in_quarantine,
        _grid_filter(tree, within, col(Contact.grid_id)),
    )
    rows = session.execute(
        select(
            col(Contact.id), col(Contact.case_id), col(Contact.person_name), col(Contact.phone),
            col(Contact.grid_id), col(Area.code), col(Contact.contact_type),
            col(Contact.quarantine_place), col(Contact.start_date), col(Contact.planned_end_date),
            col(Contact.resident_id),
        )
        .outerjoin(Area, col(Area.id) == col(Contact.grid_id))
        .where(held)
        .order_by(col(Contact.planned_end_date), col(Contact.id))
        .limit(limit)
    ).all()  # fmt: skip
    tested: dict[int, set[date]] = {}
    for contact_id, day in session.execute(
        select(col(ContactTest.contact_id), col(ContactTest.day))
        .join(Contact, col(Contact.id) == col(ContactTest.contact_id))
        .where(held)
    ):
        tested.setdefault(int(contact_id), set()).add(day)
    records = []
    for r in rows:
        grid_id = None if r[4] is None else int(r[4])
        plan = case_analytics.quarantine_schedule(
            contact_type=str(r[6]),
            place=str(r[7]),
            start_date=r[8],
            planned_end_date=r[9],
            tested_days=tested.get(int(r[0]), set()),
            today=today,
            policy=policy,
        )
        records.append(
            (
                int(r[0]), r[1],
                personal(r[2], kind=NAME, actor=actor, grid_id=grid_id),
                personal(r[3], kind=PHONE, actor=actor, grid_id=grid_id),
                grid_id, r[5], str(r[6]), str(r[7]), r[8], r[9], plan.days_left, plan.ends_today,
                plan.due_today, len(plan.overdue), plan.next_test, list(plan.test_days),
                sorted(plan.tested), r[10],
            )
        )  # fmt: skip
    frame = pd.DataFrame(records, columns=BOARD_COLUMNS)
    for column in ("case_id", "grid_id", "resident_id"):
        frame[column] = frame[column].astype("Int64")
    return frame


@dataclass(frozen=True)
class Transmission:
    """Cases of a period with their contacts, linked where a contact became a case."""

    cases: pd.DataFrame  # case_id, reported_date, kind, found_via, grid_code, contacts, cluster
    clusters: list[case_analytics.Cluster]


TRANSMISSION_COLUMNS: list[str] = [
    "case_id", "reported_date", "kind", "found_via", "grid_code", "contacts", "in_quarantine",
    "cluster", "source_case",
]  # fmt: skip


def transmission(
    *, session: Session, start: date, end: date, within: int | None = None, limit: int = 400
) -> Transmission:
    """Counted cases reported in `start..end` with their contacts, grouped into clusters.

    A link runs from a case to a later case whose resident was traced as its contact and
    became a case. No personal data: case numbers and grids only.
    """
    tree = area_tree(session=session)
    per_case = (
        select(
            col(Contact.case_id).label("case_id"),
            func.count().label("n"),
            count_if(col(Contact.status) == ContactStatus.in_quarantine).label("held"),
            count_if(col(Contact.status) == ContactStatus.became_case).label("became"),
        )
        .where(col(Contact.case_id).is_not(None))
        .group_by(col(Contact.case_id))
        .subquery()
    )
    rows = session.execute(
        select(
            col(Case.id), col(Case.reported_date), col(Case.kind), col(Case.found_via),
            col(Area.code), func.coalesce(per_case.c.n, 0), func.coalesce(per_case.c.held, 0),
            func.coalesce(per_case.c.became, 0),
        )
        .join(Area, col(Area.id) == col(Case.grid_id))
        .outerjoin(per_case, per_case.c.case_id == col(Case.id))
        .where(
            counted_cases(),
            col(Case.reported_date) >= start,
            col(Case.reported_date) <= end,
            _grid_filter(tree, within, col(Case.grid_id)),
        )
        .order_by(col(Case.reported_date).desc(), col(Case.id).desc())
        .limit(limit)
    ).all()  # fmt: skip
    reported = {int(r[0]): r[1] for r in rows}
    target = aliased(Case)
    links = [
        (int(source), int(led_to))
        for source, led_to in session.execute(
            select(col(Contact.case_id), col(target.id))
            .join(target, col(target.resident_id) == col(Contact.resident_id))
            .where(
                col(Contact.status) == ContactStatus.became_case,
                col(Contact.case_id).in_(list(reported)),
                col(target.id).in_(list(reported)),
                col(target.reported_date) >= col(Contact.start_date),
            )
        )
        if source != led_to
    ]
    clusters = case_analytics.transmission_clusters(
        cases=reported,
        links=links,
        contacts={int(r[0]): int(r[5]) - int(r[7]) for r in rows},
    )
    cluster_of = {c: i + 1 for i, cl in enumerate(clusters) for c in cl.cases}
    source_of = {led_to: source for source, led_to in links}
    records = [
        (
            int(r[0]), r[1], str(r[2]), str(r[3]), r[4], int(r[5]), int(r[6]),
            cluster_of[int(r[0])], source_of.get(int(r[0])),
        )
        for r in rows
    ]  # fmt: skip
    frame = pd.DataFrame(records, columns=TRANSMISSION_COLUMNS)
    frame["source_case"] = frame["source_case"].astype("Int64")
    return Transmission(cases=frame, clusters=clusters)


SEARCH_COLUMNS: list[str] = [
    "resident_id", "name", "phone", "id_suffix", "grid_id", "grid_code", "building", "unit",
    "building_zh",
]  # fmt: skip


def find_residents(*, session: Session, text: str, actor: Actor, limit: int = 20) -> pd.DataFrame:
    """Residents in `actor`'s grids matching a name, the end of a phone or ID digits.

    A grid worker finds only residents of their own grids; a viewer finds nobody.
    """
    condition = search_condition(text=text, dialect=dialect_name(session))
    if condition is None or not actor.can_write:
        return pd.DataFrame([], columns=SEARCH_COLUMNS)
    stmt = (
        select(
            col(Resident.id), col(Resident.name), col(Resident.phone), col(Resident.id_suffix),
            col(Resident.grid_id), col(Area.code), col(Building.name), col(Household.unit),
            col(Building.name_zh),
        )
        .join(Area, col(Area.id) == col(Resident.grid_id))
        .join(Building, col(Building.id) == col(Resident.building_id))
        .join(Household, col(Household.id) == col(Resident.household_id))
        .where(condition)
        .order_by(col(Resident.name), col(Resident.id))
        .limit(limit)
    )  # fmt: skip
    if actor.grid_ids is not None and actor.role not in COMMAND_ROLES:
        stmt = stmt.where(col(Resident.grid_id).in_(sorted(actor.grid_ids)))
    rows = session.execute(stmt).all()
    records = [
        (
            int(r[0]),
            personal(r[1], kind=NAME, actor=actor, grid_id=int(r[4])),
            personal(r[2], kind=PHONE, actor=actor, grid_id=int(r[4])),
            *r[3:],
        )
        for r in rows
    ]
    return pd.DataFrame(records, columns=SEARCH_COLUMNS)


def resident_summary(*, session: Session, resident_id: int, actor: Actor) -> dict[str, Any] | None:
    """One resident as the new-case form shows them (masked as `actor` may see them)."""
    row = session.execute(
        select(
            col(Resident.id), col(Resident.name), col(Resident.phone), col(Resident.id_suffix),
            col(Resident.grid_id), col(Area.code), col(Building.name), col(Household.unit),
            col(Building.name_zh),
        )
        .join(Area, col(Area.id) == col(Resident.grid_id))
        .join(Building, col(Building.id) == col(Resident.building_id))
        .join(Household, col(Household.id) == col(Resident.household_id))
        .where(col(Resident.id) == resident_id)
    ).first()  # fmt: skip
    if row is None:
        return None
    found = dict(zip(SEARCH_COLUMNS, row, strict=True))
    found["name"] = personal(found["name"], kind=NAME, actor=actor, grid_id=int(row[4]))
    found["phone"] = personal(found["phone"], kind=PHONE, actor=actor, grid_id=int(row[4]))
    return found


def case_contacts(*, session: Session, case_id: int, actor: Actor) -> pd.DataFrame:
    """The contacts traced from one case, in quarantine first (masked per their grid)."""
    rows = session.execute(
        select(
            col(Contact.id), col(Contact.person_name), col(Contact.phone),
            col(Contact.contact_type), col(Contact.quarantine_place), col(Contact.start_date),
            col(Contact.planned_end_date), col(Contact.status), col(Contact.grid_id),
        )
        .where(col(Contact.case_id) == case_id)
        .order_by(
            case((col(Contact.status) == ContactStatus.in_quarantine, 0), else_=1),
            col(Contact.id),
        )
    ).all()  # fmt: skip
    records = [
        (
            int(r[0]),
            personal(r[1], kind=NAME, actor=actor, grid_id=r[8]),
            personal(r[2], kind=PHONE, actor=actor, grid_id=r[8]),
            *[str(v) if i in (3, 4, 7) else v for i, v in enumerate(r[3:8], start=3)],
        )
        for r in rows
    ]
    columns = ["contact_id", "person_name", "phone", "contact_type", "quarantine_place",
               "start_date", "planned_end_date", "status"]  # fmt: skip
    return pd.DataFrame(records, columns=columns)


AREA_CHOICE_COLUMNS: list[str] = ["area_id", "code", "name", "name_zh", "level", "shaped"]


def area_choices(*, session: Session) -> pd.DataFrame:
    """Every area above the buildings, from the top level down, for the page's area filter."""
    rows = session.execute(
        select(
            col(Area.id), col(Area.code), col(Area.name), col(Area.name_zh), col(Area.level),
            col(Area.shape).is_not(None),
        )
    ).all()  # fmt: skip
    rank = {str(level): i for i, level in enumerate(AreaLevel)}
    records = sorted(
        ((int(r[0]), r[1], r[2], r[3], str(r[4]), bool(r[5])) for r in rows),
        key=lambda r: (rank.get(r[4], len(rank)), r[1]),
    )
    return pd.DataFrame(records, columns=AREA_CHOICE_COLUMNS)


def latest_case_day(*, session: Session) -> date | None:
    """The last day with a case row or a reported count (None without either)."""
    case_day = session.execute(select(func.max(Case.reported_date))).scalar_one()
    count_day = session.execute(
        select(func.max(CaseCount.day)).where(col(CaseCount.count) > 0)
    ).scalar_one()
    days = [d for d in (case_day, count_day) if d is not None]
    return max(days) if days else None


def active_case_count(*, session: Session, within: int | None = None) -> int:
    """Active counted cases (confirmed and asymptomatic) in `within`'s subtree."""
    tree = area_tree(session=session)
    return int(
        session.execute(
            select(func.count()).where(
                counted_cases(),
                col(Case.status) == CaseStatus.active,
                _grid_filter(tree, within, col(Case.grid_id)),
            )
        ).scalar_one()
    )


def contact_policy(*, session: Session) -> Policy:
    """The policy in force (quarantine lengths and test days), for the contact forms."""
    return load_policy(session)


def contacts_traced(
    *, session: Session, start: date, end: date, within: int | None = None
) -> tuple[int, int]:
    """Counted cases reported in `start..end` and the contacts traced from them."""
    tree = area_tree(session=session)
    in_period = and_(
        counted_cases(),
        col(Case.reported_date) >= start,
        col(Case.reported_date) <= end,
        _grid_filter(tree, within, col(Case.grid_id)),
    )
    cases = session.execute(select(func.count()).where(in_period)).scalar_one()
    contacts = session.execute(
        select(func.count(col(Contact.id)))
        .join(Case, col(Case.id) == col(Contact.case_id))
        .where(in_period)
    ).scalar_one()
    return int(cases), int(contacts)
