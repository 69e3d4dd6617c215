"""The Zones page's queries on a small world whose answers are worked out by hand.

Street T with grids G1, G2, G3 (two buildings each); today is D = 2026-04-20 here.

    orders  G1 sealed from D-10          building G2-B1 controlled from D-3
            G2 precaution D-20..D-12 (ended)
    cases   G1 D-12 community, D-4 community, D-1 quarantine, D+1 community (after D)
            G2 D-2 community in G2-B2 (not the ordered building), D-1 quarantine in G2-B1
            G3 D-6 community, D-3 suspected community (not counted)

As of D: G1 last community case D-4, 1 community and 1 quarantine case in D-6..D;
the G2-B1 order counts only its building: no community case, 1 quarantine case.
G3 has no order and a community case on D-6 (inside the 7 days): seal suggested.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlmodel import Session

from gridcore.access import SYSTEM, mask_text
from gridcore.models import CaseAddress
from gridcore.queries import zones
from tests.factories import (
    LEADER,
    VIEWER,
    World,
    grid_worker,
    make_case,
    make_street_with_grids,
    make_zone_order,
)

pytestmark = pytest.mark.both_backends  # SQL aggregates and FILTER clauses

D = date(2026, 4, 20)


def _d(n: int) -> date:
    return D + timedelta(days=n)


@dataclass
class Zones:
    world: World
    sealed_id: int
    building_order_id: int


def _build(session: Session) -> Zones:
    world = make_street_with_grids(session, grids=3)
    g1, g2, g3 = world.grids
    sealed = make_zone_order(session, grid=g1, level="sealed", start_date=_d(-10))
    make_zone_order(session, grid=g2, level="precaution", start_date=_d(-20), end_date=_d(-12))
    building = make_zone_order(
        session, building=world.buildings[1][0], level="controlled", start_date=_d(-3)
    )
    for grid, day, found, kind, building_row in (
        (g1, -12, "community", "confirmed", None),
        (g1, -4, "screening", "confirmed", None),
        (g1, -1, "quarantine", "asymptomatic", None),
        (g1, 1, "community", "confirmed", None),
        (g2, -2, "community", "confirmed", world.buildings[1][1]),
        (g2, -1, "quarantine", "confirmed", world.buildings[1][0]),
        (g3, -6, "mass_testing", "asymptomatic", None),
        (g3, -3, "community", "suspected", None),
    ):
        make_case(
            session,
            grid=grid,
            reported_date=_d(day),
            found_via=found,
            kind=kind,
            building_id=building_row.id if building_row is not None else None,
        )
    # Places: "A" had cases on D-15, D-2 and D+5; "B" only D-14 (lifted by D: 14 days);
    # "C" D-13 in G3 (controlled until D); "E" without a point. The window is 14 days.
    for day, place, grid in (
        (-15, "A 1 Lane", g1), (-2, "A 1 Lane", g1), (5, "A 1 Lane", g1),
        (-14, "B 2 Road", g2), (-13, "C 3 Street", g3), (-1, "E 5 Yard", g3),
    ):  # fmt: skip
        session.add(
            CaseAddress(
                day=_d(day),
                address=place,
                area_id=grid.id,
                lng=None if place.startswith("E") else 121.0 + grid.id / 1000,
                lat=None if place.startswith("E") else 31.0,
                source="bulletin",
            )
        )
    session.commit()
    return Zones(world=world, sealed_id=int(sealed.id), building_order_id=int(building.id))


@pytest.fixture(scope="module")
def world_builder() -> Callable[[Session], Zones]:
    return _build


def test_orders_in_force_with_their_last_case(session: Session, world: Zones) -> None:
    frame = zones.orders_in_force(session=session, as_of=D)
    assert list(frame["order_id"]) == [world.sealed_id, world.building_order_id]
    g1, g2 = frame.iloc[0], frame.iloc[1]
    assert (g1["grid_code"], g1["level"], g1["last_case_day"]) == ("T-C1-G1", "sealed", _d(-4))
    assert (g1["community_cases_recent"], g1["quarantine_cases_recent"]) == (1, 1)
    assert (g2["grid_code"], g2["building_name"], g2["level"]) == (
        "T-C1-G2", "Building 1", "controlled",
    )  # fmt: skip
    assert g2["last_case_day"] is None or g2["last_case_day"] != g2["last_case_day"]
    assert (g2["community_cases_recent"], g2["quarantine_cases_recent"]) == (0, 1)
    # On D-12 the precaution order's last day, before the sealed one began (D-10).
    earlier = zones.orders_in_force(session=session, as_of=_d(-12))
    assert list(earlier["level"]) == ["precaution"]
    assert zones.orders_in_force(session=session, as_of=_d(-11)).empty


def test_the_board_adds_clocks_and_suggestions(session: Session, world: Zones) -> None:
    board = zones.zone_board(session=session, as_of=D)
    g1, building = board.iloc[0], board.iloc[1]
    # Sealed D-10, last case D-4: quiet 4, may step down D+3, 3 days left.
    assert (g1["quiet_days"], g1["stepdown_date"], g1["days_left"]) == (4, _d(3), 3)
    assert (g1["action"], g1["suggested_level"]) == ("keep", "sealed")
    # Building controlled D-3, no case: quiet 3, 4 left.
    assert (building["quiet_days"], building["days_left"], building["action"]) == (3, 4, "keep")


def test_grid_status_and_the_grids_without_an_order(session: Session, world: Zones) -> None:
    status = zones.grid_zone_status(session=session, as_of=D).set_index("code")
    assert list(status["level"]) == ["sealed", "", ""]
    assert status.loc["T-C1-G2", "last_case_day"] == _d(-2)
    assert status.loc["T-C1-G3", "community_cases_recent"] == 1
    unordered = zones.grids_with_cases_without_orders(session=session, as_of=D)
    assert sorted(unordered["code"]) == ["T-C1-G2", "T-C1-G3"]
    suggestions = zones.grid_suggestions(session=session, as_of=D).set_index("code")
    assert list(suggestions["action"]) == ["keep", "issue", "issue"]
    # A week later G3's case (D-6) is out of the window: nothing to do.
    later = zones.grid_suggestions(session=session, as_of=_d(7)).set_index("code")
    assert later.loc["T-C1-G3", "action"] == "none"


def test_case_places_as_of_a_day(session: Session, world: Zones) -> None:
    places = zones.case_places(session=session, as_of=D, area_ids=None, actor=LEADER)
    assert list(places["place"]) == ["E 5 Yard", "A 1 Lane", "C 3 Street"]  # newest first
    a = places.set_index("place").loc["A 1 Lane"]
    assert (a["last_case_day"], a["cases"]) == (_d(-2), 1)  # D-15 is before the 14-day window
    e = places.set_index("place").loc["E 5 Yard"]
    assert e["lng"] is None or e["lng"] != e["lng"]
    g3 = world.world.grids[2]
    only_g3 = zones.case_places(session=session, as_of=D, area_ids=[g3.id], actor=SYSTEM)
    assert list(only_g3["place"]) == ["E 5 Yard", "C 3 Street"]
    # On D+5 "C" (D-13) is 18 days quiet: gone; "A" has D-2 and D+5 in the window.
    later = zones.case_places(session=session, as_of=_d(5), area_ids=None, actor=SYSTEM)
    assert list(later["place"]) == ["A 1 Lane", "E 5 Yard"]
    assert int(later.iloc[0]["cases"]) == 2


def test_case_places_are_masked_for_who_may_not_see_them(session: Session, world: Zones) -> None:
    g1 = world.world.grids[0]
    for actor in (VIEWER, grid_worker(g1)):
        places = zones.case_places(session=session, as_of=D, area_ids=None, actor=actor)
        shown = dict(zip(places["area_id"], places["place"], strict=False))
        if actor is VIEWER:
            assert set(places["place"]) == {mask_text("x")}
        else:
            assert shown[g1.id] == "A 1 Lane"
            assert shown[world.world.grids[2].id] == mask_text("x")
    default = zones.case_places(session=session, as_of=D, area_ids=None)
    assert set(default["place"]) == {mask_text("x")}
