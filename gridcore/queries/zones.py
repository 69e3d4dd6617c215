"""Zone orders: those in force, drawn on the map and counted per grid; their cases; case places."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import and_, func, not_, or_, select
from sqlmodel import Session, col

from gridcore.access import KIOSK, TEXT, Actor, personal
from gridcore.analytics.zones import Suggestion, order_timer, place_window_days, suggest_zone
from gridcore.models import (
    Area,
    AreaLevel,
    Building,
    Case,
    CaseAddress,
    ZoneLevel,
    ZoneOrder,
)
from gridcore.policy import Policy, load_policy
from gridcore.queries._sql import Counter, by_grid, count_if, select_columns
from gridcore.queries.cases import community_case, counted_cases

ZONE_COLUMNS = [
    "order_id",
    "area_id",
    "area_code",
    "building_id",
    "level",
    "start_date",
    "end_date",
    "reason",
    "shape",
    "lng",
    "lat",
]


_LEVEL_RANK = {level.value: rank for rank, level in enumerate(ZoneLevel)}


def zone_orders(*, session: Session, today: date, grid_id: int | None = None) -> pd.DataFrame:
    """Every order in force on `today` (on one grid and its buildings: `grid_id`), most
    severe first.

    In force: start_date <= today and (no end_date or today <= end_date). For an order on
    a building, area_id/area_code are the building's grid, shape is None and lng/lat
    the building's point; for an order on a grid, shape is its GeoJSON geometry.
    """
    grid = Area.__table__.alias("order_grid")  # type: ignore[attr-defined]
    building_grid = Area.__table__.alias("building_grid")  # type: ignore[attr-defined]
    rows = session.execute(
        select(
            col(ZoneOrder.id),
            func.coalesce(col(ZoneOrder.area_id), col(Building.grid_id)),
            func.coalesce(grid.c.code, building_grid.c.code),
            col(ZoneOrder.building_id),
            col(ZoneOrder.level),
            col(ZoneOrder.start_date),
            col(ZoneOrder.end_date),
            col(ZoneOrder.reason),
            grid.c.shape,
            col(Building.lng),
            col(Building.lat),
        )
        .outerjoin(grid, grid.c.id == col(ZoneOrder.area_id))
        .outerjoin(Building, col(Building.id) == col(ZoneOrder.building_id))
        .outerjoin(building_grid, building_grid.c.id == col(Building.grid_id))
        .where(
            col(ZoneOrder.start_date) <= today,
            or_(col(ZoneOrder.end_date).is_(None), col(ZoneOrder.end_date) >= today),
            *(
                ()
                if grid_id is None
                else (or_(col(ZoneOrder.area_id) == grid_id, col(Building.grid_id) == grid_id),)
            ),
        )
        .order_by(col(ZoneOrder.start_date), col(ZoneOrder.id))
    ).all()
    records = [(*r[:8], json.loads(r[8]) if r[8] else None, r[9], r[10]) for r in rows]
    frame = pd.DataFrame(records, columns=ZONE_COLUMNS)
    return frame.sort_values(
        "level", key=lambda levels: levels.map(_LEVEL_RANK), kind="stable"
    ).reset_index(drop=True)


ZONE_SEVERITY: tuple[str, ...] = (ZoneLevel.sealed, ZoneLevel.controlled, ZoneLevel.precaution)


def grid_zone_orders(*, session: Session, today: date) -> Counter:
    """Per grid: the most severe area order in force today, and since when (its latest start)."""
    stmt = select_columns(ZoneOrder.area_id, ZoneOrder.level, ZoneOrder.start_date).where(
        col(ZoneOrder.area_id).is_not(None),
        col(ZoneOrder.start_date) <= today,
        or_(col(ZoneOrder.end_date).is_(None), col(ZoneOrder.end_date) >= today),
    )
    # Most severe first; within a level, the latest start.
    ordered = sorted(
        session.execute(stmt), key=lambda r: (ZONE_SEVERITY.index(r[1]), -r[2].toordinal())
    )
    best: dict[int, tuple[str, date]] = {}
    for area_id, level, start in ordered:
        if area_id is not None:
            best.setdefault(area_id, (str(level), start))
    return by_grid(
        ((a, level, start) for a, (level, start) in best.items()), ["zone_level", "zone_since"]
    )


# --------------------------------------------------------------------------- the Zones page

BOARD_COLUMNS = [
    "order_id",
    "grid_id",
    "grid_code",
    "grid_name",
    "grid_name_zh",
    "building_id",
    "building_name",
    "level",
    "start_date",
    "end_date",
    "reason",
    "last_case_day",
    "community_cases_recent",
    "quarantine_cases_recent",
    "building_name_zh",
]


def _recent_start(session: Session, as_of: date) -> date:
    """First day of the window that counts as recent: the sealed step-down days up to as_of."""
    days = load_policy(session).sealed_stepdown_days
    return as_of - timedelta(days=days - 1)


def _case_figures(session: Session, key: Any, as_of: date) -> Any:
    """Per `key` (a Case column): last community case, community and quarantine cases lately."""
    recent = col(Case.reported_date) >= _recent_start(session, as_of)
    return (
        select(
            key.label("key"),
            func.max(Case.reported_date).filter(community_case()).label("last_case_day"),
            count_if(and_(recent, community_case())).label("community_recent"),
            count_if(and_(recent, not_(community_case()))).label("quarantine_recent"),
        )
        .where(counted_cases(), col(Case.reported_date) <= as_of, key.is_not(None))
        .group_by(key)
        .subquery()
    )


def orders_in_force(*, session: Session, as_of: date) -> pd.DataFrame:
    """Every order in force on `as_of` with its grid, its building, and its cases up to then.

    One row per order (BOARD_COLUMNS), most severe first, then by start. grid_* is the
    ordered grid or the building's grid. last_case_day is the last community case in the
    grid (a grid order) or in the building (a building order) on or before `as_of`; the
    two counts are the cases of the last `sealed_stepdown_days` days, found outside and
    inside quarantine.
    """
    grid = Area.__table__.alias("grid")  # type: ignore[attr-defined]
    by_grid = _case_figures(session, col(Case.grid_id), as_of)
    by_building = _case_figures(session, col(Case.building_id), as_of)
    grid_id = func.coalesce(col(ZoneOrder.area_id), col(Building.grid_id))
    rows = session.execute(
        select_columns(
            col(ZoneOrder.id),
            grid_id,
            grid.c.code,
            grid.c.name,
            grid.c.name_zh,
            col(ZoneOrder.building_id),
            col(Building.name),
            col(ZoneOrder.level),
            col(ZoneOrder.start_date),
            col(ZoneOrder.end_date),
            col(ZoneOrder.reason),
            func.coalesce(by_building.c.last_case_day, by_grid.c.last_case_day),
            func.coalesce(by_building.c.community_recent, by_grid.c.community_recent, 0),
            func.coalesce(by_building.c.quarantine_recent, by_grid.c.quarantine_recent, 0),
            col(Building.name_zh),
        )
        .select_from(ZoneOrder)
        .outerjoin(Building, col(Building.id) == col(ZoneOrder.building_id))
        .outerjoin(grid, grid.c.id == grid_id)
        .outerjoin(by_grid, by_grid.c.key == col(ZoneOrder.area_id))
        .outerjoin(by_building, by_building.c.key == col(ZoneOrder.building_id))
        .where(
            col(ZoneOrder.start_date) <= as_of,
            or_(col(ZoneOrder.end_date).is_(None), col(ZoneOrder.end_date) >= as_of),
        )
        .order_by(col(ZoneOrder.start_date), col(ZoneOrder.id))
    ).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=BOARD_COLUMNS)
    frame["building_id"] = frame["building_id"].astype("Int64")
    return frame.sort_values(
        "level", key=lambda levels: levels.map(_LEVEL_RANK), kind="stable"
    ).reset_index(drop=True)


GRID_STATUS_COLUMNS = [
    "grid_id",
    "code",
    "name",
    "name_zh",
    "order_id",
    "level",
    "start_date",
    "last_case_day",
    "community_cases_recent",
    "quarantine_cases_recent",
]


def grid_zone_status(*, session: Session, as_of: date) -> pd.DataFrame:
    """Every grid with its most severe grid order in force on `as_of` and its cases till then.

    Columns GRID_STATUS_COLUMNS; level is '' and order_id/start_date empty for a grid
    without an order (building orders are on the order board, not here).
    """
    figures = _case_figures(session, col(Case.grid_id), as_of)
    grids = session.execute(
        select_columns(
            col(Area.id),
            col(Area.code),
            col(Area.name),
            col(Area.name_zh),
            figures.c.last_case_day,
            func.coalesce(figures.c.community_recent, 0),
            func.coalesce(figures.c.quarantine_recent, 0),
        )
        .outerjoin(figures, figures.c.key == col(Area.id))
        .where(col(Area.level) == AreaLevel.grid)
        .order_by(col(Area.code))
    ).all()
    orders = session.execute(
        select_columns(
            col(ZoneOrder.area_id), col(ZoneOrder.id), col(ZoneOrder.level), ZoneOrder.start_date
        ).where(
            col(ZoneOrder.area_id).is_not(None),
            col(ZoneOrder.start_date) <= as_of,
            or_(col(ZoneOrder.end_date).is_(None), col(ZoneOrder.end_date) >= as_of),
        )
    ).all()
    # Most severe first; within a level, the latest start.
    best: dict[int, tuple[int, str, date]] = {}
    for area_id, order_id, level, start in sorted(
        orders, key=lambda r: (ZONE_SEVERITY.index(r[2]), -r[3].toordinal())
    ):
        best.setdefault(area_id, (order_id, str(level), start))
    records = []
    for gid, code, name, name_zh, last, community, quarantine in grids:
        order_id, level, start = best.get(gid, (None, "", None))
        records.append(
            (gid, code, name, name_zh, order_id, level, start, last, community, quarantine)
        )
    frame = pd.DataFrame(records, columns=GRID_STATUS_COLUMNS)
    frame["order_id"] = frame["order_id"].astype("Int64")
    return frame


def grids_with_cases_without_orders(*, session: Session, as_of: date) -> pd.DataFrame:
    """Grids with no grid order on `as_of` that had a community case in the recent window."""
    status = grid_zone_status(session=session, as_of=as_of)
    found = status[(status["level"] == "") & (status["community_cases_recent"] > 0)]
    return found.reset_index(drop=True)


# --------------------------------------------------------------------------- case places

PLACE_COLUMNS = ["place", "lng", "lat", "area_id", "last_case_day", "cases"]


def case_places(
    *,
    session: Session,
    as_of: date,
    area_ids: Sequence[int] | None = None,
    actor: Actor = KIOSK,
) -> pd.DataFrame:
    """Places (addresses) with cases up to `as_of` whose zone would still be in force then.

    One row per address and area (PLACE_COLUMNS): its point, its last case day on or before
    `as_of` and its case rows in the window, newest first. The window is the sealed +
    controlled step-down days up to `as_of` (see analytics.zones.place_zone): places whose
    last case is older would have no zone any more. Only the window's rows are read (the
    day index), so a day of a large outbreak costs its recent rows, not its whole history.
    `area_ids` limits the areas (None: all). The address is a
    case's address: shown only to readers who see the area's personal data (masked
    otherwise, the default for a caller who names no reader).
    """
    window = place_window_days(load_policy(session))
    last = func.max(CaseAddress.day)
    stmt = (
        select_columns(
            col(CaseAddress.address),
            func.max(CaseAddress.lng),
            func.max(CaseAddress.lat),
            col(CaseAddress.area_id),
            last,
            func.count(),
        )
        .where(
            col(CaseAddress.day) <= as_of,
            col(CaseAddress.day) > as_of - timedelta(days=window),
        )
        .group_by(col(CaseAddress.address), col(CaseAddress.area_id))
        .order_by(last.desc(), col(CaseAddress.address))
    )
    if area_ids is not None:
        stmt = stmt.where(col(CaseAddress.area_id).in_(list(area_ids)))
    rows = [tuple(r) for r in session.execute(stmt).all()]
    frame = pd.DataFrame(rows, columns=PLACE_COLUMNS)
    if not frame.empty:
        frame["place"] = [
            personal(place, kind=TEXT, actor=actor, grid_id=int(area))
            for place, area in zip(frame["place"], frame["area_id"], strict=True)
        ]
    return frame


# --------------------------------------------------------------------------- with the analytics


def _suggestion(row: Any, level: str, as_of: date, policy: Any) -> Suggestion:
    return suggest_zone(
        level=level,
        order_start=row.start_date if level else None,
        last_community_case=row.last_case_day if isinstance(row.last_case_day, date) else None,
        community_cases_recent=int(row.community_cases_recent),
        quarantine_cases_recent=int(row.quarantine_cases_recent),
        today=as_of,
        policy=policy,
    )


def zone_board(*, session: Session, as_of: date) -> pd.DataFrame:
    """The orders in force on `as_of` (orders_in_force) with their clocks and suggestions.

    Added columns: quiet_days, stepdown_date, days_left, overdue_days (analytics.zones
    order_timer) and action, suggested_level, why (a Reason) from suggest_zone.
    """
    policy = load_policy(session)
    frame = orders_in_force(session=session, as_of=as_of)
    timers, suggestions = [], []
    rows: Any = frame.itertuples(index=False)
    for row in rows:
        last = row.last_case_day if isinstance(row.last_case_day, date) else None
        timers.append(
            order_timer(
                level=str(row.level),
                order_start=row.start_date,
                last_case_day=last,
                today=as_of,
                policy=policy,
            )
        )
        suggestions.append(_suggestion(row, str(row.level), as_of, policy))
    frame["quiet_days"] = [timer.quiet_days for timer in timers]
    frame["stepdown_date"] = [timer.stepdown_date for timer in timers]
    frame["days_left"] = pd.array([timer.days_left for timer in timers], dtype="Int64")
    frame["overdue_days"] = [timer.overdue_days for timer in timers]
    frame["action"] = [s.action for s in suggestions]
    frame["suggested_level"] = [s.level for s in suggestions]
    frame["why"] = pd.Series([s.reason for s in suggestions], index=frame.index, dtype=object)
    return frame


def grid_suggestions(*, session: Session, as_of: date) -> pd.DataFrame:
    """Every grid (grid_zone_status) with the suggested action, level and its reason."""
    policy = load_policy(session)
    frame = grid_zone_status(session=session, as_of=as_of)
    rows: Any = frame.itertuples(index=False)
    suggestions = [_suggestion(row, str(row.level), as_of, policy) for row in rows]
    frame["action"] = [s.action for s in suggestions]
    frame["suggested_level"] = [s.level for s in suggestions]
    frame["why"] = pd.Series([s.reason for s in suggestions], index=frame.index, dtype=object)
    return frame


def zone_policy(*, session: Session) -> Policy:
    """The policy in force (its step-down days), for pages that compute place countdowns."""
    return load_policy(session)
