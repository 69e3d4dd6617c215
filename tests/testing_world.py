"""A small mass-testing world whose every figure is known by hand, built through the services.

S is 2026-03-02 08:00 Shanghai (00:00 UTC); the tests read it at NOW = S + 6 h
(14:00 local) unless they say otherwise.

Areas: street T > community T-C1 (grids G1, G2), community T-C2 (grids G3, G4).

    grid  people (household: residents)                         at home  exempt
    G1    B1 1-101: 甲一, 甲二, 甲三 (in hospital)                 6        1
          B1 1-102: 乙一 (elderly alone), 乙二
          B2 2-101: 丙一, 丙二
    G2    B1 1-101: 丁一, 丁二, 丁三; 1-102: 戊一, 戊二, 戊三 (away,   5        1
          went away after being sampled)
    G3    B1 1-101: 己一, 己二, 己三                               3        0
    G4    B1 1-101: 庚一, 庚二 (not in the round)                  2        0

Round "R" (open): S → S + 24 h over T-C1 and G3 (grids G1, G2, G3), sites "Hall"
(2 desks, 100 an hour) and "School" (1 desk, 80 an hour). Samples (local time):

    08:20 丁一 Hall   negative      08:30 甲一 Hall negative
    09:10 甲二 Hall   positive      12:30 丁二 School invalid
    13:20 乙一 door to door, pending                13:45 戊三 Hall pending

    grid  expected  sampled  missing  coverage  pos  neg  pending  invalid
    G1    6         3        3        0.50      1    1    1        0
    G2    5         3        3        0.40      0    1    1        1      (戊三 is exempt now)
    G3    3         0        3        0.00      0    0    0        0
    all   14        6        9        5/14      1    2    2        1
  communities: T-C1 11 expected, 6 sampled, 6 missing, 5/11; T-C2 3, 0, 3, 0.

  Elapsed share at NOW: 6/24 = 0.25 → only G3 is behind; at S + 10 h (0.4167) G2
  (0.40) is behind too; after the deadline every grid with someone missing.
  Hourly (local): 08:00 Hall 2; 09:00 Hall 1; 12:00 School 1; 13:00 Hall 1 and door 1.
  Recent pace at 14:00: 12:00–14:00, 3 samples in 2 h = 1.5 an hour; 9 missing →
  finish 20:00 local (S + 12 h), on time. At 14:30: 3 in 2.5 h = 1.2 → 22:00 local.
  Staffing: 14 residents → 1 desk (1…1), 3 desks present; 1 sampler needed; workers
  serving G1–G3: 李工 (G1) — 周工 serves G4 only, 吴工 (G2) is inactive → 1.

Round "R0" (closed): S − 3 days 08:00 → +24 h over G1, samples of 甲一 at +1 h,
甲二 at +7 h and 乙一 at +13 h, all negative; closed at +20 h. Expected 6:
coverage 1/6 at +6 h, 2/6 at +12 h, 3/6 at +24 h and finally.

Roll call of G1 in R: 乙二 (1-102, household_missing 1), 丙一 and 丙二 (2-101, 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from gridcore.access import SYSTEM
from gridcore.models import Area, AreaLevel, Building, Resident, TestRecord, TestRound, TestSite
from gridcore.services.residents import update_resident
from gridcore.services.testing import (
    close_round,
    open_round,
    record_positive,
    record_results_batch,
    record_sample,
)
from gridcore.services.workforce import set_worker_active
from tests.factories import make_resident, make_worker

S = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
NOW = S + timedelta(hours=6)
S0 = S - timedelta(days=3)

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(serial: int) -> str:
    """A valid 18-character identity number ending in a check character (serial → digits 15–17)."""
    body = f"31010119800101{serial:03d}"
    total = sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


@dataclass
class TestingWorld:
    """The world's rows, by the names in the docstring."""

    __test__ = False
    street: Area
    communities: dict[str, Area]
    grids: dict[str, Area]
    buildings: dict[str, Building]
    people: dict[str, Resident]
    round: TestRound
    round0: TestRound
    sites: dict[str, int]
    records: dict[str, TestRecord]

    def gid(self, code: str) -> int:
        grid_id = self.grids[code].id
        assert grid_id is not None
        return grid_id

    def pid(self, name: str) -> int:
        resident_id = self.people[name].id
        assert resident_id is not None
        return resident_id


def _area(session: Session, code: str, level: AreaLevel, parent: Area | None) -> Area:
    area = Area(
        code=code,
        name=code,
        name_zh=code,
        level=level,
        parent_id=parent.id if parent is not None else None,
        center_lng=121.47,
        center_lat=31.23,
    )
    session.add(area)
    session.flush()
    return area


# grid → building → unit → residents (name, health status, vulnerability)
_PEOPLE: dict[str, dict[str, dict[str, list[tuple[str, str, str]]]]] = {
    "G1": {
        "B1": {
            "1-101": [("甲一", "at_home", ""), ("甲二", "at_home", ""),
                      ("甲三", "in_hospital", "")],
            "1-102": [("乙一", "at_home", "elderly_alone"), ("乙二", "at_home", "")],
        },
        "B2": {"2-101": [("丙一", "at_home", ""), ("丙二", "at_home", "bedridden")]},
    },
    "G2": {
        "B1": {
            "1-101": [("丁一", "at_home", ""), ("丁二", "at_home", ""), ("丁三", "at_home", "")],
            "1-102": [("戊一", "at_home", ""), ("戊二", "at_home", ""), ("戊三", "at_home", "")],
        },
    },
    "G3": {"B1": {"1-101": [("己一", "at_home", ""), ("己二", "at_home", ""),
                            ("己三", "at_home", "")]}},
    "G4": {"B1": {"1-101": [("庚一", "at_home", ""), ("庚二", "at_home", "")]}},
}  # fmt: skip


def build_testing_world(session: Session) -> TestingWorld:
    """Build the world of this module's docstring (as the system actor)."""
    street = _area(session, "T", AreaLevel.street, None)
    communities = {c: _area(session, f"T-{c}", AreaLevel.community, street) for c in ("C1", "C2")}
    parents = {"G1": "C1", "G2": "C1", "G3": "C2", "G4": "C2"}
    grids = {g: _area(session, g, AreaLevel.grid, communities[c]) for g, c in parents.items()}
    buildings: dict[str, Building] = {}
    for g, per_building in _PEOPLE.items():
        for b in per_building:
            building = Building(
                code=f"{g}-{b}",
                name=f"{g} {b}",
                # Only the second buildings have a Chinese name: the others show `name` in both.
                name_zh=f"{g}网格2号楼" if b == "B2" else None,
                grid_id=grids[g].id,
                lng=121.47,
                lat=31.23,
            )
            session.add(building)
            buildings[f"{g}-{b}"] = building
    session.commit()

    people: dict[str, Resident] = {}
    serial = 0
    for g, per_building in _PEOPLE.items():
        for b, units in per_building.items():
            for unit, residents in units.items():
                for name, status, tags in residents:
                    serial += 1
                    people[name] = make_resident(
                        session,
                        building=buildings[f"{g}-{b}"],
                        unit=unit,
                        name=name,
                        phone=f"1390000{serial:04d}",
                        id_number=id_number(serial),
                        health_status=status,
                        vulnerability=tags,
                    )

    make_worker(session, grids=[grids["G1"]], name="李工")
    make_worker(session, grids=[grids["G4"]], name="周工")
    inactive = make_worker(session, grids=[grids["G2"]], name="吴工")
    set_worker_active(session=session, worker_id=inactive.id, active=False, actor=SYSTEM)

    round0 = open_round(
        session=session,
        data={
            "name": "R0",
            "area_ids": [grids["G1"].id],
            "start_at": S0,
            "deadline_at": S0 + timedelta(hours=24),
            "sites": [{"name": "Old hall", "hourly_capacity": 100, "desks": 1}],
        },
        actor=SYSTEM,
    )
    old_hall = _site_ids(session, round0)["Old hall"]
    old_records = [
        record_sample(
            session=session,
            resident_id=people[name].id,
            round_id=round0.id,
            site_id=old_hall,
            sampled_at=S0 + timedelta(hours=hours),
            actor=SYSTEM,
            now=S0 + timedelta(hours=hours),
        )
        for name, hours in (("甲一", 1), ("甲二", 7), ("乙一", 13))
    ]
    record_results_batch(
        session=session,
        record_ids=[r.id for r in old_records if r.id is not None],
        result_at=S0 + timedelta(hours=19),
        actor=SYSTEM,
        now=S0 + timedelta(hours=19),
    )
    close_round(session=session, round_id=round0.id, actor=SYSTEM, now=S0 + timedelta(hours=20))

    test_round = open_round(
        session=session,
        data={
            "name": "R",
            "area_ids": [communities["C1"].id, grids["G3"].id],
            "start_at": S,
            "deadline_at": S + timedelta(hours=24),
            "sites": [
                {"name": "Hall", "hourly_capacity": 100, "desks": 2, "area_id": grids["G1"].id},
                {"name": "School", "hourly_capacity": 80, "desks": 1},
            ],
        },
        actor=SYSTEM,
    )
    sites = _site_ids(session, test_round)
    samples = (
        ("丁一", "Hall", 0, 20),
        ("甲一", "Hall", 0, 30),
        ("甲二", "Hall", 1, 10),
        ("丁二", "School", 4, 30),
        ("乙一", None, 5, 20),
        ("戊三", "Hall", 5, 45),
    )
    records: dict[str, TestRecord] = {}
    for name, site, hours, minutes in samples:
        taken = S + timedelta(hours=hours, minutes=minutes)
        records[name] = record_sample(
            session=session,
            resident_id=people[name].id,
            round_id=test_round.id,
            site_id=sites[site] if site is not None else None,
            door_to_door=site is None,
            sampled_at=taken,
            tube_code=f"T{hours:02d}",
            actor=SYSTEM,
            now=taken,
        )
    results_at = S + timedelta(hours=5, minutes=50)
    record_results_batch(
        session=session,
        record_ids=[records["丁一"].id or 0, records["甲一"].id or 0],
        result_at=results_at,
        actor=SYSTEM,
        now=results_at,
    )
    record_results_batch(
        session=session,
        record_ids=[records["丁二"].id or 0],
        result="invalid",
        result_at=results_at,
        actor=SYSTEM,
        now=results_at,
    )
    record_positive(
        session=session,
        record_id=records["甲二"].id or 0,
        result_at=results_at,
        actor=SYSTEM,
        now=results_at,
    )
    update_resident(
        session=session,
        resident_id=people["戊三"].id,
        changes={"health_status": "away"},
        actor=SYSTEM,
    )
    for row in (*people.values(), *records.values(), test_round, round0):
        session.refresh(row)
    return TestingWorld(
        street=street,
        communities=communities,
        grids=grids,
        buildings=buildings,
        people=people,
        round=test_round,
        round0=round0,
        sites=sites,
        records=records,
    )


def _site_ids(session: Session, test_round: TestRound) -> dict[str, int]:
    """The round's sites by name."""
    return {
        site.name: site.id
        for site in session.exec(select(TestSite).where(TestSite.round_id == test_round.id))
        if site.id is not None
    }
