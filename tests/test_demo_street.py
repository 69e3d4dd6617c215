"""The demo street (about 50,000 residents), built once per test run, checked as a world.

Shapes tile, people live inside their grids, and the outbreak story holds together:
cases rise then fall, the latest testing round is under way, stock never goes below
zero, and every positive sample belongs to a case.
"""

from __future__ import annotations

import hashlib
import random
import re
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
import shapely
from demo_support import ANCHOR, check_tiling, one, rows, shapes
from shapely.geometry import Point
from sqlalchemy.engine import Engine
from sqlmodel import Session

from gridcore.db import make_engine
from gridcore.demo import DEMO_PASSWORD, seed, street
from gridcore.demo.population import populate
from gridcore.demo.rounds import ROUND_DAYS
from gridcore.demo.story import play
from gridcore.demo.world import Ids, Rows
from gridcore.models import RESIDENT_SEARCH, TaskKind
from gridcore.policy import DEFAULT_POLICY
from gridcore.services.access import authenticate

pytestmark = pytest.mark.demo


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Engine]:
    """The street world, seed 1, story ending on ANCHOR, in its own SQLite file."""
    path = tmp_path_factory.mktemp("street") / "street.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    counts = seed(engine=engine, scale="street", seed=1, anchor=ANCHOR)
    assert counts["resident"] > 0
    yield engine
    engine.dispose()


# --------------------------------------------------------------------------- sizes


def test_sizes_are_those_of_a_real_street(world: Engine) -> None:
    assert one(world, "SELECT COUNT(*) FROM area WHERE level = 'street'") == 1
    assert 8 <= one(world, "SELECT COUNT(*) FROM area WHERE level = 'community'") <= 10
    assert 50 <= one(world, "SELECT COUNT(*) FROM area WHERE level = 'grid'") <= 70
    low, high = rows(
        world, "SELECT MIN(households), MAX(households) FROM area WHERE level = 'grid'"
    )[0]
    assert low >= 250 and high <= 500
    residents = one(world, "SELECT COUNT(*) FROM resident")
    assert 45_000 <= residents <= 55_000
    households = one(world, "SELECT COUNT(*) FROM household")
    assert 2.2 <= residents / households <= 2.6


def test_households_are_counted_and_summed_up_the_tree(world: Engine) -> None:
    mismatched = rows(
        world,
        """SELECT a.code FROM area a
           WHERE a.level = 'grid'
             AND a.households != (SELECT COUNT(*) FROM household h WHERE h.grid_id = a.id)""",
    )
    assert mismatched == []
    for level in ("community", "street", "district", "city"):
        wrong = rows(
            world,
            """SELECT p.code FROM area p WHERE p.level = :level AND p.households !=
                 (SELECT SUM(c.households) FROM area c WHERE c.parent_id = p.id)""",
            level=level,
        )
        assert wrong == []


def test_codes_and_names_follow_the_hierarchy(world: Engine) -> None:
    for code, name, name_zh, parent_code in rows(
        world,
        """SELECT a.code, a.name, a.name_zh, p.code FROM area a JOIN area p ON p.id = a.parent_id
           WHERE a.level = 'grid'""",
    ):
        assert re.fullmatch(r"SH-XH-TL-C\d\d-G\d\d", code)
        assert code.startswith(parent_code + "-")
        assert re.fullmatch(r"Grid \d+-\d\d", name) and re.fullmatch(r"第\d+-\d\d网格", name_zh)
    names = rows(world, "SELECT name, name_zh FROM area WHERE level = 'community'")
    assert all(en.endswith("Community") and zh.endswith("社区") for en, zh in names)
    assert len({en for en, _ in names}) == len(names)


_CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("table", ["testsite", "building", "depot", "testround"])
def test_every_site_building_depot_and_round_is_named_in_both_languages(
    world: Engine, table: str
) -> None:
    """A Chinese name with Chinese words, and an English one without."""
    names = rows(world, f"SELECT name, name_zh FROM {table}")  # noqa: S608 (fixed names)
    assert names
    assert [n for n in names if not (n[1] and _CJK.search(n[1]))] == []
    assert [n for n in names if _CJK.search(n[0])] == []


def test_demo_names_read_like_the_street(world: Engine) -> None:
    round_zh = rows(world, "SELECT name_zh FROM testround ORDER BY start_at")
    assert [r[0].split("（")[0] for r in round_zh] == [
        f"第{n}轮全员核酸" for n in range(1, len(round_zh) + 1)
    ]
    site = str(one(world, "SELECT name_zh FROM testsite ORDER BY id LIMIT 1"))
    assert re.fullmatch(r"\S+社区 第\d+采样点", site), site
    building = str(one(world, "SELECT name_zh FROM building ORDER BY id LIMIT 1"))
    assert re.fullmatch(r"\S+路\d+弄\d+号", building), building
    depot = str(one(world, "SELECT name_zh FROM depot WHERE level = 'street'"))
    assert depot == "田林街道物资仓库"
    # System-made tasks carry a title in each language.
    titles = rows(world, "SELECT title, title_zh FROM task")
    assert all(_CJK.search(zh) and not _CJK.search(en) for en, zh in titles)
    # What residents wrote is one text, in their language: Chinese, without English words.
    described = [str(r[0]) for r in rows(world, "SELECT description FROM residentrequest")]
    assert described and all(_CJK.search(d) and not re.search("[A-Za-z]", d) for d in described)


# --------------------------------------------------------------------------- the map


def test_grids_tile_communities_and_communities_tile_the_street(world: Engine) -> None:
    street_shapes = shapes(world, "street")
    communities = shapes(world, "community")
    grids = shapes(world, "grid")
    check_tiling(communities, grids)
    check_tiling(street_shapes, communities)
    ((_, _, whole),) = street_shapes.values()
    # A street in Xuhui, Shanghai (WGS-84), a few square kilometres.
    assert 121.40 < whole.centroid.x < 121.46 and 31.15 < whole.centroid.y < 31.20
    assert 2e-4 < whole.area < 5e-4
    for _, _, grid in grids.values():
        for lng, lat in shapely.get_coordinates(grid):
            assert round(lng, 6) == lng and round(lat, 6) == lat


def test_centres_buildings_sites_and_depots_are_inside_their_areas(world: Engine) -> None:
    areas = {**shapes(world, "grid"), **shapes(world, "community"), **shapes(world, "street")}
    for area_id, lng, lat in rows(
        world, "SELECT id, center_lng, center_lat FROM area WHERE level != 'city'"
    ):
        if area_id in areas:
            assert areas[area_id][2].contains(Point(lng, lat))
    outside = [
        code
        for code, grid_id, lng, lat in rows(world, "SELECT code, grid_id, lng, lat FROM building")
        if not areas[grid_id][2].contains(Point(lng, lat))
    ]
    assert outside == []
    for area_id, lng, lat in rows(world, "SELECT area_id, lng, lat FROM testsite"):
        assert areas[area_id][2].contains(Point(lng, lat))
    for area_id, lng, lat in rows(world, "SELECT area_id, lng, lat FROM depot"):
        assert areas[area_id][2].contains(Point(lng, lat))


# --------------------------------------------------------------------------- residents


def test_residents_look_like_a_register(world: Engine) -> None:
    total = one(world, "SELECT COUNT(*) FROM resident")
    for masked, suffix, phone in rows(
        world, "SELECT id_number_masked, id_suffix, phone FROM resident LIMIT 2000"
    ):
        assert re.fullmatch(r"\d{3}\*{11}\d{3}[\dX]", masked) and masked.endswith(suffix)
        assert phone is None or re.fullmatch(r"1[3-9]\d{9}", phone)
    rates = {
        "elderly_alone": (0.02, 0.04),
        "chronic_illness": (0.06, 0.10),
        "disabled": (0.01, 0.02),
        "bedridden": (0.002, 0.008),
        "pregnant": (0.004, 0.010),
        "infant": (0.01, 0.02),
    }
    for tag, (low, high) in rates.items():
        share = (
            one(world, f"SELECT COUNT(*) FROM residentvulnerability WHERE tag = '{tag}'") / total
        )
        assert low <= share <= high, (tag, share)
    status = dict(rows(world, "SELECT health_status, COUNT(*) FROM resident GROUP BY 1"))
    assert status["at_home"] / total > 0.9
    assert status["away"] > 0 and status["in_hospital"] > 0 and status["central_isolation"] > 0
    wrong_grid = one(
        world,
        """SELECT COUNT(*) FROM resident r JOIN household h ON h.id = r.household_id
           JOIN building b ON b.id = h.building_id
           WHERE r.grid_id != h.grid_id OR r.building_id != b.id OR b.grid_id != h.grid_id""",
    )
    assert wrong_grid == 0


def test_the_bulk_build_fills_the_resident_search(world: Engine) -> None:
    """The triggers keep the FTS5 trigram table whole through the builder's bulk inserts."""
    with world.begin() as connection:
        connection.exec_driver_sql(
            f"INSERT INTO {RESIDENT_SEARCH} ({RESIDENT_SEARCH}, rank) VALUES ('integrity-check', 1)"
        )
    name = one(world, "SELECT name FROM resident WHERE length(name) = 3 LIMIT 1")
    found = one(
        world,
        f"SELECT COUNT(*) FROM {RESIDENT_SEARCH} WHERE {RESIDENT_SEARCH} MATCH :q",
        q=f'"{name}"',
    )
    assert found == one(world, "SELECT COUNT(*) FROM resident WHERE name LIKE :n", n=f"%{name}%")


# --------------------------------------------------------------------------- the outbreak


def test_daily_new_cases_rise_then_fall_and_are_still_there_today(world: Engine) -> None:
    daily = dict(rows(world, "SELECT reported_date, COUNT(*) FROM case_record GROUP BY 1"))
    days = [ANCHOR - timedelta(days=k) for k in range(20, -1, -1)]
    counts = [daily.get(d.isoformat(), 0) for d in days]
    assert counts[0] >= 2  # the first cluster
    peak = max(counts[7:14])
    assert sum(counts[:4]) / 4 < peak / 2
    assert sum(counts[-4:]) / 4 < peak / 2
    assert counts[-1] >= 1
    first_grids = rows(
        world,
        "SELECT DISTINCT grid_id FROM case_record WHERE reported_date = :d",
        d=days[0].isoformat(),
    )
    assert 1 <= len(first_grids) <= 2


def test_later_cases_are_mostly_found_in_quarantine(world: Engine) -> None:
    def share(first: date, last: date) -> float:
        total, inside = rows(
            world,
            """SELECT COUNT(*), SUM(found_via = 'quarantine') FROM case_record
               WHERE reported_date BETWEEN :a AND :b""",
            a=first.isoformat(),
            b=last.isoformat(),
        )[0]
        return inside / total

    assert share(ANCHOR - timedelta(days=20), ANCHOR - timedelta(days=15)) < 0.3
    assert share(ANCHOR - timedelta(days=6), ANCHOR) > 0.6
    found = {v for (v,) in rows(world, "SELECT DISTINCT found_via FROM case_record")}
    assert found == {"quarantine", "screening", "mass_testing", "community"}
    statuses = {s for (s,) in rows(world, "SELECT DISTINCT status FROM case_record")}
    assert {"active", "recovered"} <= statuses


def test_contacts_follow_the_policy_timers(world: Engine) -> None:
    policy = DEFAULT_POLICY
    per_case = rows(
        world,
        """SELECT case_id, COUNT(*) FROM contact WHERE contact_type = 'close' GROUP BY 1""",
    )
    average = sum(n for _, n in per_case) / len(per_case)
    assert 5 <= average <= 15
    for kind, place, start, end, status in rows(
        world,
        "SELECT contact_type, quarantine_place, start_date, planned_end_date, status FROM contact",
    ):
        days = (date.fromisoformat(end) - date.fromisoformat(start)).days
        if kind == "close":
            assert place == "central"
            assert days == policy.close_central_days + policy.close_home_monitoring_days
        else:
            assert place == "home" and days == policy.secondary_home_days
        if status == "released":
            assert date.fromisoformat(end) < ANCHOR
        elif status == "in_quarantine":
            assert date.fromisoformat(end) >= ANCHOR
    # Each contact in quarantine today is one resident quarantined once.
    twice = rows(
        world,
        """SELECT resident_id FROM contact WHERE status = 'in_quarantine'
           GROUP BY resident_id HAVING COUNT(*) > 1""",
    )
    assert twice == []
    became = one(
        world,
        """SELECT COUNT(*) FROM contact c WHERE c.status = 'became_case'
           AND NOT EXISTS (SELECT 1 FROM case_record k WHERE k.resident_id = c.resident_id)""",
    )
    assert became == 0


def test_isolated_residents_are_cases_or_close_contacts(world: Engine) -> None:
    unexplained = one(
        world,
        """SELECT COUNT(*) FROM resident r WHERE r.health_status = 'central_isolation'
           AND NOT EXISTS (SELECT 1 FROM case_record k
                           WHERE k.resident_id = r.id AND k.status = 'active')
           AND NOT EXISTS (SELECT 1 FROM contact c WHERE c.resident_id = r.id
                           AND c.contact_type = 'close' AND c.status = 'in_quarantine')""",
    )
    assert unexplained == 0


def test_zone_orders_in_force_today(world: Engine) -> None:
    today = ANCHOR.isoformat()
    levels = dict(
        rows(
            world,
            """SELECT level, COUNT(*) FROM zoneorder WHERE start_date <= :d
               AND (end_date IS NULL OR end_date >= :d) AND area_id IS NOT NULL GROUP BY 1""",
            d=today,
        )
    )
    grids = one(world, "SELECT COUNT(*) FROM area WHERE level = 'grid'")
    assert levels["sealed"] >= 1 and levels["controlled"] >= 1 and levels["precaution"] >= 1
    assert sum(levels.values()) == grids  # one order per grid, never two at once
    assert one(world, "SELECT COUNT(*) FROM zoneorder WHERE building_id IS NOT NULL") > 0
    assert one(world, "SELECT COUNT(*) FROM zoneorder WHERE end_date IS NOT NULL") > 0


# --------------------------------------------------------------------------- testing


def test_latest_round_is_under_way(world: Engine) -> None:
    latest, closed = rows(
        world, "SELECT id, closed_at FROM testround ORDER BY start_at DESC LIMIT 1"
    )[0]
    assert closed is None
    assert 6 <= one(world, "SELECT COUNT(*) FROM testround") <= 8
    expected = one(world, "SELECT COUNT(*) FROM resident WHERE health_status = 'at_home'")
    sampled, pending, door = rows(
        world,
        """SELECT COUNT(*), SUM(result = 'pending'), SUM(method = 'door_to_door')
           FROM testrecord WHERE round_id = :r""",
        r=latest,
    )[0]
    assert 0.6 <= sampled / expected <= 0.8
    assert 0 < pending < sampled
    assert 0.02 < door / sampled < 0.15
    not_home = one(
        world,
        """SELECT COUNT(*) FROM testrecord t JOIN resident r ON r.id = t.resident_id
           WHERE t.round_id = :r AND r.health_status != 'at_home'""",
        r=latest,
    )
    assert not_home == 0
    scope = one(world, "SELECT COUNT(*) FROM testroundarea WHERE round_id = :r", r=latest)
    assert scope == one(world, "SELECT COUNT(*) FROM area WHERE level = 'grid'")


def test_finished_rounds_reached_nearly_everyone(world: Engine) -> None:
    for round_id, sampled in rows(
        world,
        """SELECT r.id, COUNT(t.id) FROM testround r JOIN testrecord t ON t.round_id = r.id
           WHERE r.closed_at IS NOT NULL GROUP BY r.id""",
    ):
        residents = one(world, "SELECT COUNT(*) FROM resident")
        assert 0.9 < sampled / residents < 0.99, round_id
    assert (
        one(
            world,
            "SELECT COUNT(*) FROM testrecord t JOIN testround r ON r.id = t.round_id "
            "WHERE r.closed_at IS NOT NULL AND t.result = 'pending'",
        )
        == 0
    )


def test_sampling_hours_and_sites_are_believable(world: Engine) -> None:
    # No site took more samples in an hour than it can.
    over = rows(
        world,
        """SELECT s.name, x.n, s.hourly_capacity FROM (
             SELECT site_id, round_id, strftime('%Y-%m-%d %H', sampled_at) AS hour, COUNT(*) AS n
             FROM testrecord WHERE site_id IS NOT NULL GROUP BY 1, 2, 3) x
           JOIN testsite s ON s.id = x.site_id WHERE x.n > s.hourly_capacity""",
    )
    assert over == []
    on_site = one(
        world, "SELECT COUNT(*) FROM testrecord WHERE method = 'site' AND site_id IS NULL"
    )
    assert on_site == 0


def test_records_match_residents_and_positives_match_cases(world: Engine) -> None:
    wrong_grid = one(
        world,
        """SELECT COUNT(*) FROM testrecord t JOIN resident r ON r.id = t.resident_id
           WHERE t.grid_id != r.grid_id""",
    )
    assert wrong_grid == 0
    positives = one(world, "SELECT COUNT(*) FROM testrecord WHERE result = 'positive'")
    assert positives > 0
    orphans = one(
        world,
        """SELECT COUNT(*) FROM testrecord t WHERE t.result = 'positive'
           AND NOT EXISTS (SELECT 1 FROM case_record c WHERE c.resident_id = t.resident_id)""",
    )
    assert orphans == 0
    by_testing = one(world, "SELECT COUNT(*) FROM case_record WHERE found_via = 'mass_testing'")
    assert by_testing == positives


# --------------------------------------------------------------------------- supplies


def test_stock_ledger_never_goes_negative_and_a_few_items_are_short(world: Engine) -> None:
    assert 20 <= one(world, "SELECT COUNT(*) FROM supplyitem") <= 30
    levels = dict(rows(world, "SELECT level, COUNT(*) FROM depot GROUP BY 1"))
    grids = one(world, "SELECT COUNT(*) FROM area WHERE level = 'grid'")
    assert levels["street"] == 1 and levels["community"] >= 8 and levels["grid"] == grids // 2
    negative = one(
        world,
        """SELECT COUNT(*) FROM (SELECT SUM(quantity) OVER (
             PARTITION BY depot_id, item_id ORDER BY occurred_at, id) AS stock FROM stockmovement)
           WHERE stock < 0""",
    )
    assert negative == 0
    unpaired = one(
        world,
        """SELECT COUNT(*) FROM stockmovement o WHERE o.kind = 'transfer_out' AND NOT EXISTS (
             SELECT 1 FROM stockmovement i WHERE i.kind = 'transfer_in' AND i.item_id = o.item_id
             AND i.depot_id = o.counterpart_depot_id AND i.counterpart_depot_id = o.depot_id
             AND i.quantity = -o.quantity AND i.occurred_at = o.occurred_at)""",
    )
    assert unpaired == 0
    receipts_elsewhere = one(
        world,
        """SELECT COUNT(*) FROM stockmovement m JOIN depot d ON d.id = m.depot_id
           WHERE m.kind = 'receipt' AND d.level != 'street'""",
    )
    assert receipts_elsewhere == 0
    short = one(
        world,
        """SELECT COUNT(*) FROM depotminimum m JOIN (
             SELECT depot_id, item_id, SUM(quantity) AS stock FROM stockmovement GROUP BY 1, 2) s
           ON s.depot_id = m.depot_id AND s.item_id = m.item_id WHERE s.stock < m.min_stock""",
    )
    assert 1 <= short <= one(world, "SELECT COUNT(*) FROM depotminimum") * 0.1


# --------------------------------------------------------------------------- people who work


def test_requests_flow_and_some_are_overdue(world: Engine) -> None:
    residents = one(world, "SELECT COUNT(*) FROM resident")
    per_day = one(world, "SELECT COUNT(*) FROM residentrequest") / 21
    assert 1.0 <= per_day / residents * 1000 <= 3.0
    statuses = dict(rows(world, "SELECT status, COUNT(*) FROM residentrequest GROUP BY 1"))
    assert statuses["done"] > sum(statuses.values()) * 0.8
    assert statuses["new"] > 0 and statuses["in_progress"] > 0
    now = "2026-03-21 08:00:00"  # 16:00 in Shanghai, the story's present moment
    overdue = one(
        world,
        """SELECT COUNT(*) FROM residentrequest WHERE status IN ('new', 'assigned', 'in_progress')
           AND (julianday(:now) - julianday(created_at)) * 24 > CASE
             WHEN category = 'medical_care' AND urgency = 'urgent' THEN 2
             WHEN category IN ('medical_care', 'medicine', 'food') THEN 24 ELSE 72 END""",
        now=now,
    )
    assert overdue > 0
    assert one(world, "SELECT COUNT(*) FROM residentrequest WHERE created_at > :now", now=now) == 0
    urgent = dict(
        rows(world, "SELECT category, AVG(urgency = 'urgent') FROM residentrequest GROUP BY 1")
    )
    assert urgent["medical_care"] > 0.4 > urgent["food"]
    flow = one(
        world,
        """SELECT COUNT(*) FROM residentrequest WHERE NOT (
             (assigned_at IS NULL OR assigned_at >= created_at)
             AND (started_at IS NULL OR started_at >= assigned_at)
             AND (done_at IS NULL OR done_at >= started_at))""",
    )
    assert flow == 0


def test_tasks_of_every_kind_some_overdue(world: Engine) -> None:
    kinds = {k for (k,) in rows(world, "SELECT DISTINCT kind FROM task")}
    assert kinds == {k.value for k in TaskKind}
    assert one(world, "SELECT COUNT(*) FROM task WHERE request_id IS NOT NULL") > 0
    overdue = one(
        world,
        """SELECT COUNT(*) FROM task WHERE status IN ('open', 'in_progress')
           AND due_at < '2026-03-21 08:00:00'""",
    )
    assert overdue > 0


def test_staffing_is_about_one_full_time_worker_per_grid(world: Engine) -> None:
    per_grid = rows(
        world,
        """SELECT a.code, a.households, (SELECT COUNT(*) FROM workergrid wg
             JOIN worker w ON w.id = wg.worker_id
             WHERE wg.grid_id = a.id AND w.employment = 'full_time') AS full_time
           FROM area a WHERE a.level = 'grid'""",
    )
    assert all(full_time >= 1 for _, _, full_time in per_grid)
    standard = DEFAULT_POLICY.households_per_fulltime_worker
    short = [code for code, households, full_time in per_grid if households / full_time > standard]
    assert 0 < len(short) < len(per_grid) / 2
    roles = dict(rows(world, "SELECT role, COUNT(*) FROM worker GROUP BY 1"))
    communities = one(world, "SELECT COUNT(*) FROM area WHERE level = 'community'")
    assert roles["grid_chief_instructor"] == 1 and roles["chief_grid_manager"] == communities
    assert roles["volunteer"] > len(per_grid) * 2
    groups = one(
        world, "SELECT COUNT(*) FROM worker WHERE role = 'volunteer' AND service_group IS NULL"
    )
    assert groups == 0


def test_demo_accounts_sign_in_and_the_worker_serves_an_outbreak_grid(world: Engine) -> None:
    with Session(world) as session:
        actor = authenticate(session, username="worker", password=DEMO_PASSWORD)
    assert actor is not None and actor.grid_ids is not None and len(actor.grid_ids) == 1
    (grid_id,) = actor.grid_ids
    sealed = one(
        world, "SELECT COUNT(*) FROM zoneorder WHERE area_id = :g AND level = 'sealed'", g=grid_id
    )
    assert sealed >= 1


# --------------------------------------------------------------------------- determinism


def _sample(engine: Engine, seed_number: int) -> str:
    """A digest of the street's shapes and of a few grids' people and outbreak."""
    rng = random.Random(seed_number)
    np_rng = np.random.default_rng(seed_number)
    plans = street._plan_geometry(1, rng, np_rng)
    with engine.connect() as connection:
        ids = Ids(connection)
    found = Rows()
    street._areas(plans, rng, ids, found)
    grids = plans[0].grids[:4]
    for grid in grids:
        grid.neighbours = {n for n in grid.neighbours if n < len(grids)}
    people = populate(grids=grids, rng=random.Random(seed_number), ids=ids, rows=found, year=2026)
    outbreak = play(
        people=people,
        grids=grids,
        rng=random.Random(seed_number),
        np_rng=np.random.default_rng(seed_number),
        onset=-20,
        intensity=0.3,
        round_days=list(ROUND_DAYS),
    )
    digest = hashlib.sha256()
    for table, table_rows in found.tables.items():
        digest.update(repr((table.__tablename__, table_rows)).encode())
    digest.update(repr((people.name, people.tags, people.phone)).encode())
    digest.update(repr([(c.resident, c.day, c.kind, c.found_via) for c in outbreak.cases]).encode())
    digest.update(repr([(c.resident, c.day, c.contact_type) for c in outbreak.contacts]).encode())
    return digest.hexdigest()


def test_same_seed_same_world_other_seed_other_world(sqlite_engine: Engine) -> None:
    assert _sample(sqlite_engine, 1) == _sample(sqlite_engine, 1)
    assert _sample(sqlite_engine, 1) != _sample(sqlite_engine, 2)


def _differing_rows(engine: Engine, other: Path, table: str) -> int:
    """Rows of `table` found in only one of the two databases (SQLite compares them itself)."""
    with engine.connect() as connection:
        connection.exec_driver_sql("ATTACH DATABASE ? AS other", (str(other),))
        try:
            return sum(
                connection.exec_driver_sql(
                    f'SELECT COUNT(*) FROM (SELECT * FROM {a}."{table}" EXCEPT '
                    f'SELECT * FROM {b}."{table}")'
                ).scalar_one()
                for a, b in (("main", "other"), ("other", "main"))
            )
        finally:
            connection.exec_driver_sql("DETACH DATABASE other")


@pytest.mark.slow
def test_a_second_build_with_the_same_seed_is_identical(
    world: Engine, tmp_path: Path, sqlite_template: Path
) -> None:
    path = tmp_path / "again.db"
    shutil.copy(sqlite_template, path)
    again = make_engine(f"sqlite:///{path}")
    seed(engine=again, scale="street", seed=1, anchor=ANCHOR)
    for table in (
        "area",
        "resident",
        "case_record",
        "contact",
        "zoneorder",
        "testrecord",
        "stockmovement",
        "task",
    ):
        assert one(again, f'SELECT COUNT(*) FROM "{table}"') == one(
            world, f'SELECT COUNT(*) FROM "{table}"'
        ), table
        assert _differing_rows(world, path, table) == 0, table
    again.dispose()
