"""Mass-testing queries on the hand-built testing world and on the tiny world."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import pandas as pd
import pytest
from sqlmodel import Session, col, func, select

from gridcore.access import SYSTEM
from gridcore.config import get_settings
from gridcore.demo.tiny import G1, G2, G3
from gridcore.models import TestRecord
from gridcore.queries import testing as q
from gridcore.services.cases import update_case_status
from gridcore.services.testing import close_round, open_round, record_sample
from tests.factories import LEADER, VIEWER, grid_worker, make_case
from tests.testing_world import NOW, S0, S, TestingWorld, build_testing_world

if TYPE_CHECKING:
    from tiny_world import TinyWorld

pytestmark = pytest.mark.both_backends  # queries: the dialect matters


@pytest.fixture(scope="module")
def world_builder() -> Callable[[Session], TestingWorld]:
    """The world of tests/testing_world.py (built once a run)."""
    return build_testing_world


def _rid(world: TestingWorld) -> int:
    assert world.round.id is not None
    return world.round.id


def _by_code(frame: pd.DataFrame) -> dict[str, dict[str, object]]:
    return {row["code"]: row for row in frame.to_dict("records")}


# --------------------------------------------------------------------------- rounds


def test_rounds_newest_first_with_status_and_scope(session: Session, world: TestingWorld) -> None:
    frame = q.rounds(session=session)
    assert list(frame.columns) == q.ROUND_COLUMNS
    assert frame["name"].tolist() == ["R", "R0"]
    assert frame["status"].tolist() == ["open", "closed"]
    assert frame["grids"].tolist() == [3, 1]
    assert frame["closed_at"].iloc[1] == S0 + timedelta(hours=20)


def test_round_info_lists_the_grids_in_scope(session: Session, world: TestingWorld) -> None:
    info = q.round_info(session=session, round_id=_rid(world))
    assert info is not None
    assert info.grid_ids == tuple(sorted(world.gid(g) for g in ("G1", "G2", "G3")))
    assert (info.start_at, info.deadline_at, info.status) == (S, S + timedelta(hours=24), "open")
    assert q.round_info(session=session, round_id=9999) is None


def test_current_round_is_the_open_one_that_started_last(
    session: Session, world: TestingWorld
) -> None:
    assert q.current_round_id(session=session, now=NOW) == world.round.id
    later = open_round(
        session=session,
        data={
            "name": "Next",
            "area_ids": [world.gid("G4")],
            "start_at": S + timedelta(days=2),
            "deadline_at": S + timedelta(days=2, hours=12),
        },
        actor=SYSTEM,
    )
    # A round that has not started yet does not displace the running one ...
    assert q.current_round_id(session=session, now=NOW) == world.round.id
    # ... until the running one is closed.
    close_round(session=session, round_id=_rid(world), actor=SYSTEM, now=NOW)
    assert q.current_round_id(session=session, now=NOW) == later.id
    close_round(session=session, round_id=later.id or 0, actor=SYSTEM, now=NOW)
    assert q.current_round_id(session=session, now=NOW) == later.id  # latest start, all closed


def test_no_round_at_all(session: Session) -> None:
    assert q.current_round_id(session=session) is None
    assert q.rounds(session=session).empty
    assert list(q.coverage_over_rounds(session=session).columns) == q.ROUND_TREND_COLUMNS
    assert q.positives_per_round(session=session).empty
    assert q.round_summary(session=session, round_id=1) is None
    assert list(q.grid_progress(session=session, round_id=1).columns) == q.GRID_PROGRESS_COLUMNS


# --------------------------------------------------------------------------- progress


def test_grid_progress_figures_and_order(session: Session, world: TestingWorld) -> None:
    frame = q.grid_progress(session=session, round_id=_rid(world), now=NOW)
    assert list(frame.columns) == q.GRID_PROGRESS_COLUMNS
    # G3 is behind (0 < 0.25); then the lowest coverage first.
    assert frame["code"].tolist() == ["G3", "G2", "G1"]
    rows = _by_code(frame)
    figures = ["expected", "sampled", "missing", "positives", "negatives", "pending", "invalid"]
    assert [rows["G1"][f] for f in figures] == [6, 3, 3, 1, 1, 1, 0]
    assert [rows["G2"][f] for f in figures] == [5, 3, 3, 0, 1, 1, 1]
    assert [rows["G3"][f] for f in figures] == [3, 0, 3, 0, 0, 0, 0]
    assert rows["G1"]["coverage"] == pytest.approx(0.5)
    assert rows["G2"]["coverage"] == pytest.approx(0.4)  # 戊三 was sampled, then went away
    assert rows["G3"]["coverage"] == 0.0
    assert [rows[g]["behind"] for g in ("G1", "G2", "G3")] == [False, False, True]
    assert rows["G1"]["community_code"] == "T-C1"


@pytest.mark.parametrize(
    ("hours", "behind"),
    [
        (0, set()),
        (6, {"G3"}),
        (10, {"G2", "G3"}),
        (12, {"G2", "G3"}),  # G1 at 0.50 is exactly on the line: not behind
        (13, {"G1", "G2", "G3"}),
        (30, {"G1", "G2", "G3"}),
    ],
)
def test_behind_schedule_follows_the_elapsed_share(
    session: Session, world: TestingWorld, hours: int, behind: set[str]
) -> None:
    frame = q.grid_progress(session=session, round_id=_rid(world), now=S + timedelta(hours=hours))
    assert set(frame.loc[frame["behind"], "code"]) == behind


def test_a_closed_round_is_judged_when_it_closed(session: Session, world: TestingWorld) -> None:
    close_round(session=session, round_id=_rid(world), actor=SYSTEM, now=S + timedelta(hours=2))
    # Closed at 2/24 of the window: G1 (0.5) and G2 (0.4) were ahead, G3 (0) behind — for ever.
    frame = q.grid_progress(session=session, round_id=_rid(world), now=S + timedelta(days=5))
    assert set(frame.loc[frame["behind"], "code"]) == {"G3"}


def test_community_progress_sums_its_grids(session: Session, world: TestingWorld) -> None:
    frame = q.community_progress(session=session, round_id=_rid(world), now=NOW)
    assert list(frame.columns) == q.COMMUNITY_PROGRESS_COLUMNS
    rows = _by_code(frame)
    assert list(rows) == ["T-C1", "T-C2"]
    c1, c2 = rows["T-C1"], rows["T-C2"]
    assert (c1["grids"], c1["expected"], c1["sampled"], c1["missing"]) == (2, 11, 6, 6)
    assert c1["coverage"] == pytest.approx(5 / 11)
    assert (c1["positives"], c1["invalid"], c1["behind_grids"]) == (1, 1, 0)
    assert (c2["grids"], c2["expected"], c2["sampled"], c2["missing"]) == (1, 3, 0, 3)
    assert (c2["coverage"], c2["behind_grids"]) == (0.0, 1)


def test_round_summary_at_the_recent_pace(session: Session, world: TestingWorld) -> None:
    summary = q.round_summary(session=session, round_id=_rid(world), now=NOW)
    assert summary is not None
    street = summary.street
    assert (street.expected, street.sampled, street.missing) == (14, 6, 9)
    assert street.coverage == pytest.approx(5 / 14)
    assert (street.positives, street.negatives, street.pending, street.invalid) == (1, 2, 2, 1)
    assert summary.share == pytest.approx(0.25)
    assert (summary.pace.samples, summary.pace.hours) == (3, pytest.approx(2.0))
    assert summary.pace.per_hour == pytest.approx(1.5)
    assert summary.pace.since == S + timedelta(hours=4)  # 12:00 local
    assert summary.forecast.projected_finish == S + timedelta(hours=12)
    assert summary.forecast.on_time is True
    assert summary.forecast.hours_to_deadline == pytest.approx(18.0)
    assert summary.behind_grids == 1
    assert summary.sites == 2
    staff = summary.staffing
    assert (staff.residents, staff.desks_min, staff.desks_max, staff.desks) == (14, 1, 1, 3)
    assert (staff.samplers_needed, staff.workers, staff.samplers_short) == (1, 1, 0)


def test_round_summary_in_a_partial_hour(session: Session, world: TestingWorld) -> None:
    summary = q.round_summary(
        session=session, round_id=_rid(world), now=NOW + timedelta(minutes=30)
    )
    assert summary is not None
    assert summary.pace.hours == pytest.approx(2.5)
    assert summary.pace.per_hour == pytest.approx(1.2)
    assert summary.forecast.projected_finish == S + timedelta(hours=14)  # 22:00 local


def test_round_summary_that_will_miss_its_deadline(session: Session, world: TestingWorld) -> None:
    late = S + timedelta(hours=22, minutes=30)
    record_sample(
        session=session,
        resident_id=world.pid("乙二"),
        round_id=_rid(world),
        door_to_door=True,
        sampled_at=late,
        actor=SYSTEM,
        now=late,
    )
    summary = q.round_summary(session=session, round_id=_rid(world), now=S + timedelta(hours=23))
    assert summary is not None
    # 1 sample in the 2 h since 05:00 local; 8 missing take 16 h more.
    assert summary.pace.per_hour == pytest.approx(0.5)
    assert summary.forecast.projected_finish == S + timedelta(hours=39)
    assert summary.forecast.on_time is False


def test_round_summary_without_recent_samples(session: Session, world: TestingWorld) -> None:
    summary = q.round_summary(session=session, round_id=_rid(world), now=S + timedelta(hours=20))
    assert summary is not None
    assert summary.pace.samples == 0
    assert summary.forecast.projected_finish is None
    assert summary.forecast.on_time is None


def test_closed_round_summary(session: Session, world: TestingWorld) -> None:
    assert world.round0.id is not None
    summary = q.round_summary(session=session, round_id=world.round0.id, now=NOW)
    assert summary is not None
    assert (summary.street.expected, summary.street.sampled, summary.street.missing) == (6, 3, 3)
    assert summary.share == pytest.approx(20 / 24)
    assert summary.forecast.projected_finish is None
    assert summary.forecast.on_time is True


# --------------------------------------------------------------------------- pace and sites


def test_hourly_throughput_per_site_and_local_hour(session: Session, world: TestingWorld) -> None:
    frame = q.hourly_throughput(session=session, round_id=_rid(world))
    assert list(frame.columns) == q.THROUGHPUT_COLUMNS
    tz = get_settings().tz
    rows = [
        (r["site_name"], r["method"], r["hour"].astimezone(tz).hour, r["sampled"])
        for r in frame.to_dict("records")
    ]
    assert rows == [
        ("Hall", "site", 8, 2),
        ("Hall", "site", 9, 1),
        ("School", "site", 12, 1),
        ("Hall", "site", 13, 1),
        ("", "door_to_door", 13, 1),
    ]
    assert frame["hour"].iloc[0] == S  # 08:00 local is S
    assert frame["hourly_capacity"].tolist()[:3] == [100, 100, 80]
    assert pd.isna(frame["site_id"].iloc[-1]) and pd.isna(frame["hourly_capacity"].iloc[-1])


@pytest.mark.parametrize(
    ("since", "until"),
    [
        (None, None),
        (S, None),  # on the hour
        (S + timedelta(minutes=30), None),  # inside the first hour
        (None, S + timedelta(hours=5, minutes=10)),
        (S + timedelta(minutes=59), S + timedelta(hours=5, minutes=1)),
        (S + timedelta(hours=5, minutes=5), S + timedelta(hours=5, minutes=50)),  # one hour
        (S + timedelta(hours=5), S + timedelta(hours=5)),
    ],
)
def test_hours_from_the_counters_are_the_samples_counted(
    session: Session, world: TestingWorld, since: datetime | None, until: datetime | None
) -> None:
    """Whole hours come from the counters, part-hours at the bounds from the samples: the
    same rows as counting every sample, whatever the bounds."""
    record_sample(session=session, resident_id=world.pid("乙二"), round_id=_rid(world),
                  door_to_door=True, sampled_at=S + timedelta(hours=5, minutes=30), actor=SYSTEM,
                  now=NOW)  # fmt: skip
    info = q.round_info(session=session, round_id=_rid(world))
    assert info is not None
    counted = q._counted_hourly_rows(session, info, since=since, until=until)
    assert sorted(q._hourly_rows(session, info, since=since, until=until), key=str) == sorted(
        counted, key=str
    )
    assert since is not None or until is not None or sum(n for _, _, n in counted) == 7  # 6 + 1


@pytest.mark.parametrize("start", [S, S - timedelta(minutes=30), S + timedelta(minutes=59)])
def test_samples_before_each_checkpoint_are_the_samples_counted(
    session: Session, world: TestingWorld, start: datetime
) -> None:
    """Checkpoints on the hour and off it: counters for whole hours, samples for the part."""
    rid = _rid(world)
    # Three more samples, either side of the checkpoints (乙二, 丙一, 丙二 are not sampled).
    for name, minutes in (("乙二", 5 * 60 + 20), ("丙一", 6 * 60 + 40), ("丙二", 12 * 60 + 10)):
        record_sample(session=session, resident_id=world.pid(name), round_id=rid,
                      door_to_door=True, sampled_at=S + timedelta(minutes=minutes),
                      actor=SYSTEM, now=S + timedelta(days=1))  # fmt: skip
    expected = tuple(
        session.exec(
            select(func.count()).where(
                col(TestRecord.round_id) == rid,
                col(TestRecord.sampled_at) < start + timedelta(hours=h),
            )
        ).one()
        for h in q.CHECKPOINT_HOURS
    )
    assert q._samples_before_checkpoints(session, [(rid, start)]) == {rid: expected}
    assert len(set(expected)) > 1  # the checkpoints see different numbers of samples


def test_round_sites(session: Session, world: TestingWorld) -> None:
    frame = q.round_sites(session=session, round_id=_rid(world))
    assert list(frame.columns) == q.SITE_COLUMNS
    assert frame[["name", "hourly_capacity", "desks", "sampled"]].values.tolist() == [
        ["Hall", 100, 2, 4],
        ["School", 80, 1, 1],
    ]
    assert frame["area_id"].iloc[0] == world.gid("G1")


# --------------------------------------------------------------------------- over the rounds


def test_coverage_over_rounds(session: Session, world: TestingWorld) -> None:
    frame = q.coverage_over_rounds(session=session, now=NOW)
    assert list(frame.columns) == q.ROUND_TREND_COLUMNS
    assert frame["name"].tolist() == ["R0", "R"]
    r0, r = frame.to_dict("records")
    assert (r0["expected"], r0["sampled"], r0["status"]) == (6, 3, "closed")
    assert [r0[c] for c in ("coverage_6h", "coverage_12h", "coverage_24h", "coverage_final")] == [
        pytest.approx(1 / 6),
        pytest.approx(2 / 6),
        pytest.approx(3 / 6),
        pytest.approx(3 / 6),
    ]
    assert (r["expected"], r["sampled"]) == (14, 6)
    assert r["coverage_6h"] == pytest.approx(5 / 14)  # reached exactly at NOW
    assert math.isnan(r["coverage_12h"]) and math.isnan(r["coverage_24h"])
    assert r["coverage_final"] == pytest.approx(5 / 14)


def test_coverage_checkpoints_count_late_samples_at_sites_and_door_to_door(
    session: Session, world: TestingWorld
) -> None:
    late = {
        "乙二": (S + timedelta(hours=7), None),
        "丙一": (S + timedelta(hours=12, minutes=30), "Hall"),
    }
    for name, (taken, site) in late.items():
        record_sample(
            session=session,
            resident_id=world.pid(name),
            round_id=_rid(world),
            site_id=world.sites[site] if site else None,
            door_to_door=site is None,
            sampled_at=taken,
            actor=SYSTEM,
            now=taken,
        )
    frame = q.coverage_over_rounds(session=session, now=S + timedelta(hours=13))
    r = frame.to_dict("records")[1]
    assert r["sampled"] == 8
    assert r["coverage_6h"] == pytest.approx(5 / 14)
    assert r["coverage_12h"] == pytest.approx(6 / 14)  # the door-to-door sample at +7 h
    assert math.isnan(r["coverage_24h"])
    assert r["coverage_final"] == pytest.approx(7 / 14)


def test_positives_per_round(session: Session, world: TestingWorld) -> None:
    frame = q.positives_per_round(session=session)
    assert list(frame.columns) == q.POSITIVE_COLUMNS
    r0, r = frame.to_dict("records")
    assert [r0[c] for c in ("sampled", "positives", "negatives", "pending", "invalid")] == [
        3, 0, 3, 0, 0,
    ]  # fmt: skip
    assert [r[c] for c in ("sampled", "positives", "negatives", "pending", "invalid")] == [
        6, 1, 2, 2, 1,
    ]  # fmt: skip
    assert r0["positives_per_10k"] == 0.0
    assert r["positives_per_10k"] == pytest.approx(10_000 / 6)


# --------------------------------------------------------------------------- people


def test_roll_call_lists_the_missing_by_building_and_household(
    session: Session, world: TestingWorld
) -> None:
    worker = grid_worker(world.grids["G1"])
    frame = q.roll_call(
        session=session, round_id=_rid(world), grid_id=world.gid("G1"), actor=worker
    )
    assert list(frame.columns) == q.ROLL_CALL_COLUMNS
    assert frame["name"].tolist() == ["乙二", "丙一", "丙二"]  # 甲三 is in hospital: exempt
    assert frame["building"].tolist() == ["G1 B1", "G1 B2", "G1 B2"]
    assert frame["unit"].tolist() == ["1-102", "2-101", "2-101"]
    assert frame["household_missing"].tolist() == [1, 2, 2]
    assert frame["vulnerability"].tolist() == [[], [], ["bedridden"]]
    assert frame["phone"].iloc[0] == world.people["乙二"].phone
    assert not frame["door_to_door_task"].any()


@pytest.mark.parametrize("who", ["other_worker", "viewer"])
def test_roll_call_masked_for_others(session: Session, world: TestingWorld, who: str) -> None:
    actor = grid_worker(world.grids["G2"]) if who == "other_worker" else VIEWER
    frame = q.roll_call(session=session, round_id=_rid(world), grid_id=world.gid("G1"), actor=actor)
    # Nothing of a person: not a first character, not a phone's digits, not the flat or year.
    assert frame["name"].tolist() == ["***", "***", "***"]
    assert frame["phone"].iloc[0] == "***"
    assert frame["unit"].tolist() == ["***", "***", "***"]
    assert frame["birth_year"].isna().all()


def test_roll_call_of_a_grid_outside_the_round(session: Session, world: TestingWorld) -> None:
    frame = q.roll_call(
        session=session, round_id=_rid(world), grid_id=world.gid("G4"), actor=LEADER
    )
    assert frame.empty and list(frame.columns) == q.ROLL_CALL_COLUMNS


def test_find_residents_by_name_not_yet_sampled_first(
    session: Session, world: TestingWorld
) -> None:
    worker = grid_worker(world.grids["G1"])
    frame = q.find_residents(session=session, round_id=_rid(world), text="甲", actor=worker)
    assert list(frame.columns) == q.SEARCH_COLUMNS
    assert frame["name"].tolist() == ["甲三", "甲一", "甲二"]
    assert frame["sampled"].tolist() == [False, True, True]
    assert frame["exempt"].tolist() == [True, False, False]
    assert frame["record_id"].iloc[1] == world.records["甲一"].id
    assert pd.isna(frame["record_id"].iloc[0])
    assert frame["sampled_at"].iloc[1] == S + timedelta(minutes=30)


def test_find_residents_by_phone_and_id_suffix(session: Session, world: TestingWorld) -> None:
    person = world.people["丙二"]
    for text in ((person.phone or "")[-4:], person.phone or "", person.id_suffix or ""):
        frame = q.find_residents(session=session, round_id=_rid(world), text=text, actor=LEADER)
        assert frame["resident_id"].tolist() == [person.id], text


def test_find_residents_stays_in_the_round_and_the_actors_scope(
    session: Session, world: TestingWorld
) -> None:
    rid = _rid(world)
    assert q.find_residents(session=session, round_id=rid, text="庚", actor=LEADER).empty  # G4
    g1 = grid_worker(world.grids["G1"])
    assert q.find_residents(session=session, round_id=rid, text="丁", actor=g1).empty  # G2
    assert q.find_residents(session=session, round_id=rid, text="  ", actor=LEADER).empty
    # A search by name would confirm who lives where: none for those who may not see them.
    assert q.find_residents(session=session, round_id=rid, text="丁一", actor=VIEWER).empty
    assert q.find_residents(session=session, round_id=rid, text="%", actor=LEADER).empty


def test_unhandled_positives_until_a_case_is_opened(session: Session, world: TestingWorld) -> None:
    frame = q.unhandled_positives(session=session, actor=LEADER)
    assert list(frame.columns) == q.UNHANDLED_COLUMNS
    assert frame["name"].tolist() == ["甲二"]
    assert frame["record_id"].tolist() == [world.records["甲二"].id]
    assert q.unhandled_positives(session=session)["name"].tolist() == ["***"]  # no actor: hidden
    # A case that ended before the sample does not count ...
    old = make_case(
        session,
        grid=world.grids["G1"],
        resident_id=world.pid("甲二"),
        reported_date=date(2026, 2, 1),
    )
    update_case_status(session=session, case_id=old.id or 0, status="recovered", actor=SYSTEM)
    assert len(q.unhandled_positives(session=session, actor=LEADER)) == 1
    # ... a new one does.
    make_case(session, grid=world.grids["G1"], resident_id=world.pid("甲二"))
    assert q.unhandled_positives(session=session, actor=LEADER).empty


# --------------------------------------------------------------------------- the tiny world


def test_tiny_world_round_2(tiny: TinyWorld, tiny_session: Session) -> None:
    rid = tiny.round_ids["Round 2"]
    assert q.current_round_id(session=tiny_session, now=tiny.now) == rid
    rows = _by_code(q.grid_progress(session=tiny_session, round_id=rid, now=tiny.now))
    assert [
        (rows[g]["expected"], rows[g]["sampled"], rows[g]["positives"]) for g in (G1, G2, G3)
    ] == [
        (18, 9, 1),
        (15, 12, 0),
        (24, 18, 0),
    ]
    assert [rows[g]["pending"] for g in (G1, G2, G3)] == [3, 2, 6]
    assert not any(rows[g]["behind"] for g in rows)  # 5 of 24 hours gone: 0.21
    summary = q.round_summary(session=tiny_session, round_id=rid, now=tiny.now)
    assert summary is not None
    assert (summary.street.expected, summary.street.sampled) == (57, 39)
    assert summary.street.coverage == pytest.approx(39 / 57)
    throughput = q.hourly_throughput(session=tiny_session, round_id=rid)
    per_site = throughput.groupby("site_name")["sampled"].sum().to_dict()
    assert per_site == {"Site A, Community 1 square": 19, "Site B, Community 2 school": 18, "": 2}
    trend = q.coverage_over_rounds(session=tiny_session, now=tiny.now)
    assert trend["coverage_final"].tolist() == [pytest.approx(64 / 66), pytest.approx(39 / 57)]
    assert q.unhandled_positives(session=tiny_session).empty  # C10 was opened for it
