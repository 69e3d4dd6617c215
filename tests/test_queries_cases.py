"""The Cases page's queries against the tiny world (answers: gridcore/demo/tiny.py), both backends.

Beside the world's case rows, some tests add reported counts (bulletins): those are added
to the case rows per area and day, and a reclassified count is never a new case.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlmodel import Session, select

from gridcore.access import Actor
from gridcore.analytics import cases as epidemic
from gridcore.models import Area, CaseCount, ContactTest, UserRole
from gridcore.queries import cases as cq

if TYPE_CHECKING:
    from tiny_world import TinyWorld

pytestmark = pytest.mark.both_backends  # queries: the dialect matters

LEADER = Actor(username="lead", role=UserRole.leader)
VIEWER = Actor(username="view", role=UserRole.viewer)
WEEK = date(2026, 3, 15)


def _area_id(session: Session, code: str) -> int:
    return int(session.exec(select(Area.id).where(Area.code == code)).one() or 0)


def _bulletin(session: Session, code: str, day: date, found_via: str, count: int) -> None:
    session.add(
        CaseCount(
            day=day, area_id=_area_id(session, code), kind="confirmed", found_via=found_via,
            count=count, source="test",
        )
    )  # fmt: skip
    session.commit()


def test_daily_counts_in_total_and_per_community(tiny: TinyWorld, tiny_session: Session) -> None:
    total = cq.daily_counts(session=tiny_session, start=WEEK, end=tiny.anchor)
    # C04–C08, C10, C11: seven counted cases in the week, two outside quarantine.
    assert epidemic.new_cases(total, start=WEEK, end=tiny.anchor) == 7
    assert epidemic.new_cases(total, start=WEEK, end=tiny.anchor, community_only=True) == 2
    per = cq.daily_counts(session=tiny_session, start=WEEK, end=tiny.anchor, level="community")
    c1, c2 = _area_id(tiny_session, "T-C1"), _area_id(tiny_session, "T-C2")
    assert epidemic.new_cases_by_area(per, start=WEEK, end=tiny.anchor) == {c1: 5, c2: 2}
    # Only T-C2's subtree: C07 (03-19, quarantine) and C11 (03-21, quarantine).
    inside = cq.daily_counts(session=tiny_session, start=WEEK, end=tiny.anchor, within=c2)
    assert sorted(zip(inside["day"], inside["found_via"], inside["count"], strict=True)) == [
        (date(2026, 3, 19), "quarantine", 1),
        (date(2026, 3, 21), "quarantine", 1),
    ]


def test_reported_counts_are_added_and_reclassified_ones_are_not_new(
    tiny: TinyWorld, tiny_session: Session
) -> None:
    _bulletin(tiny_session, "T-C2", tiny.anchor, "community", 3)
    _bulletin(tiny_session, "T-C2", tiny.anchor, "reclassified", 4)
    _bulletin(tiny_session, "T-D", tiny.anchor, "community", 10)  # a district bulletin
    total = cq.daily_counts(session=tiny_session, start=WEEK, end=tiny.anchor)
    assert epidemic.new_cases(total, start=WEEK, end=tiny.anchor) == 7 + 3 + 10
    curve = epidemic.epidemic_curve(total, start=WEEK, end=tiny.anchor)
    today = curve.iloc[-1]
    # C10 mass testing, C11 quarantine, 13 reported in the community, 4 reclassified apart.
    assert (today["mass_testing"], today["quarantine"], today["community"]) == (1, 1, 13)
    assert (today["reclassified"], today["new"]) == (4, 15)
    # Per community, the district's bulletin cannot be split among its parts: left out.
    per = cq.daily_counts(session=tiny_session, start=WEEK, end=tiny.anchor, level="community")
    c1, c2 = _area_id(tiny_session, "T-C1"), _area_id(tiny_session, "T-C2")
    assert epidemic.new_cases_by_area(per, start=WEEK, end=tiny.anchor) == {c1: 5, c2: 5}


def test_incidence_by_community(tiny: TinyWorld, tiny_session: Session) -> None:
    _bulletin(tiny_session, "T-C2", tiny.anchor - timedelta(days=1), "community", 3)
    frame = cq.incidence_by_area(session=tiny_session, level="community", today=tiny.anchor)
    rows = {r.code: r for r in frame.itertuples(index=False)}
    assert set(rows) == {"T-C1", "T-C2"}
    # T-C1: 5 new of 36 residents; T-C2: 2 + 3 reported of 35.
    assert (rows["T-C1"].new_7d, rows["T-C1"].residents) == (5, 36)
    assert rows["T-C1"].incidence_7d_per_10k == pytest.approx(5 * 10_000 / 36)
    assert (rows["T-C2"].new_7d, rows["T-C2"].community_7d, rows["T-C2"].residents) == (5, 3, 35)
    assert rows["T-C2"].incidence_7d_per_10k == pytest.approx(5 * 10_000 / 35)
    # Last community case: T-C1 C10 today; T-C2 the bulletin yesterday (before it: C01, 16).
    assert rows["T-C1"].days_since_community == 0
    assert rows["T-C2"].days_since_community == 1


def test_days_since_the_last_community_case_per_grid(
    tiny: TinyWorld, tiny_session: Session
) -> None:
    last = cq.last_community_case(session=tiny_session, level="grid", today=tiny.anchor)
    # G1-1 C10 today; G1-2 never (C03 screening 03-13 counts: screening is outside quarantine).
    assert last == {
        tiny.gid("T-C1-G1"): date(2026, 3, 21),
        tiny.gid("T-C1-G2"): date(2026, 3, 13),
        tiny.gid("T-C2-G1"): date(2026, 3, 5),
    }


def test_active_cases_are_masked_for_a_viewer(tiny: TinyWorld, tiny_session: Session) -> None:
    seen = cq.active_cases(session=tiny_session, actor=LEADER)
    # C04–C11 are active (C09 is suspected: followed, shown, counted nowhere).
    assert len(seen) == 8
    assert list(seen["reported_date"])[:2] == [tiny.anchor, tiny.anchor]
    named = seen.dropna(subset=["resident_name"])
    masked = cq.active_cases(session=tiny_session, actor=VIEWER)
    for name in named["resident_name"]:
        assert name not in set(masked["resident_name"])
    # C02 (recovered) is not active; C04 has K03, K04 and K14 traced.
    c04 = seen[seen["reported_date"] == date(2026, 3, 16)].iloc[0]
    assert c04["contacts"] == 3
    in_c2 = cq.active_cases(
        session=tiny_session, actor=LEADER, within=_area_id(tiny_session, "T-C2")
    )
    assert len(in_c2) == 3  # C07, C09, C11


def test_quarantine_board_schedules(tiny: TinyWorld, tiny_session: Session) -> None:
    board = cq.quarantine_board(session=tiny_session, actor=LEADER, today=tiny.anchor)
    assert len(board) == 8
    assert int(board["ends_today"].sum()) == 2  # K01, K02
    # Due today: K09 (close, day 3), K10 and K11 (secondary, day 1).
    assert int(board["test_due_today"].sum()) == 3
    k03 = board[
        (board["start_date"] == date(2026, 3, 16)) & (board["contact_type"] == "close")
    ].iloc[0]
    # Close from 03-16: tests 16, 17, 18, 20, 22, 25; none recorded: 4 missed, next 03-22.
    assert k03["missed_tests"] == 4 and k03["next_test"] == date(2026, 3, 22)
    tiny_session.add(ContactTest(contact_id=int(k03["contact_id"]), day=date(2026, 3, 20),
                                 result="negative"))  # fmt: skip
    tiny_session.commit()
    board = cq.quarantine_board(session=tiny_session, actor=LEADER, today=tiny.anchor)
    assert board.set_index("contact_id").loc[int(k03["contact_id"]), "missed_tests"] == 3
    masked = cq.quarantine_board(session=tiny_session, actor=VIEWER, today=tiny.anchor)
    assert set(masked["person_name"]).isdisjoint(set(board["person_name"]))


def test_transmission_clusters(tiny: TinyWorld, tiny_session: Session) -> None:
    found = cq.transmission(session=tiny_session, start=date(2026, 3, 1), end=tiny.anchor)
    # Ten counted cases. K06 (of C02) became C06 and K12 (of C03) became C05, both named
    # residents: two chains. K13 and K14 became C11 and C08 but name nobody: no link, and
    # they are no longer counted as contacts of C07 and C04.
    assert len(found.cases) == 10
    sizes = [(len(c.cases), c.contacts, c.people) for c in found.clusters]
    assert sizes == [
        (2, 2, 4),  # C02 + C06; K01, K02
        (1, 2, 3),  # C01; K05, K08
        (2, 1, 3),  # C03 + C05; K07
        (1, 2, 3),  # C04; K03, K04
        (1, 2, 3),  # C07; K09, K10
        (1, 1, 2),  # C10; K11
        (1, 0, 1),  # C08
        (1, 0, 1),  # C11
    ]
    roots = [found.cases.set_index("case_id").loc[c.root, "reported_date"] for c in found.clusters]
    assert roots == [date(2026, 3, d) for d in (11, 5, 13, 16, 19, 21, 20, 21)]
    assert int(found.cases["source_case"].notna().sum()) == 2


def test_contacts_traced_per_case(tiny: TinyWorld, tiny_session: Session) -> None:
    # Ten counted cases from 03-01; all fourteen contacts were traced from them.
    assert cq.contacts_traced(session=tiny_session, start=date(2026, 3, 1), end=tiny.anchor) == (
        10,
        14,
    )
    # In T-C2 since 03-15: C07 and C11; K09, K10 and K13 traced from C07.
    c2 = _area_id(tiny_session, "T-C2")
    assert cq.contacts_traced(session=tiny_session, start=WEEK, end=tiny.anchor, within=c2) == (
        2,
        3,
    )


def test_resident_search_keeps_to_the_actors_grids(tiny: TinyWorld, tiny_session: Session) -> None:
    everyone = cq.find_residents(session=tiny_session, text="1", actor=LEADER)
    assert everyone.empty  # one digit is neither a name nor enough of a phone
    leader = cq.find_residents(session=tiny_session, text="王", actor=LEADER, limit=100)
    g1 = tiny.gid("T-C1-G1")
    worker = Actor(username="w", role=UserRole.grid_worker, grid_ids=frozenset({g1}))
    own = cq.find_residents(session=tiny_session, text="王", actor=worker, limit=100)
    assert set(own["grid_id"]) <= {g1}
    assert len(own) == int((leader["grid_id"] == g1).sum())
    assert cq.find_residents(session=tiny_session, text="王", actor=VIEWER).empty
