"""Registering and changing residents; households and their counts; the shared input checks."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import pytest
from sqlmodel import Session, col, select

from gridcore.access import PermissionDenied
from gridcore.models import Area, AuditEntry, Household, Resident
from gridcore.services.base import ValidationFailed
from gridcore.services.checks import (
    as_utc,
)
from gridcore.services.residents import (
    create_household,
    id_number_valid,
    mask_id_number,
    register_resident,
    update_resident,
)
from tests.factories import (
    LEADER,
    VIEWER,
    World,
    grid_worker,
    grown,
    make_resident,
    make_street_with_grids,
    table_counts,
)

VALID_ID = "11010519491231002X"  # the standard's own example: born 31 Dec 1949, a woman


@pytest.fixture(scope="module")
def world_builder() -> Callable[[Session], World]:
    """Street T: grids T-C1-G1 and T-C1-G2 with two buildings each (built once a run)."""
    return make_street_with_grids


def _households(session: Session, area: Area) -> int:
    session.expire_all()
    found = session.get(Area, area.id)
    assert found is not None
    return found.households


@pytest.mark.both_backends  # counters kept in the write's transaction
def test_register_by_building_and_unit_adds_the_household_and_counts_it(
    session: Session, world: World
) -> None:
    before = table_counts(session)
    resident = register_resident(
        session=session,
        data={"building_id": world.buildings[0][0].id, "unit": "3-502", "name": "张三丰"},
        actor=LEADER,
    )
    assert grown(before, session) == {"household": 1, "resident": 1, "auditentry": 1}
    assert resident.grid_id == world.grids[0].id
    assert resident.building_id == world.buildings[0][0].id
    # Households are counted on the grid and every area above it.
    assert _households(session, world.grids[0]) == 1
    assert _households(session, world.community) == 1
    assert _households(session, world.street) == 1
    assert _households(session, world.grids[1]) == 0


def test_a_second_resident_of_the_same_flat_joins_its_household(
    session: Session, world: World
) -> None:
    first = make_resident(session, building=world.buildings[0][0], unit="3-502")
    before = table_counts(session)
    second = make_resident(session, building=world.buildings[0][0], unit="3-502", name="李四")
    assert grown(before, session) == {"resident": 1, "auditentry": 1}
    assert second.household_id == first.household_id
    assert _households(session, world.grids[0]) == 1


def test_register_by_household_id(session: Session, world: World) -> None:
    first = make_resident(session, building=world.buildings[1][0], unit="2-201")
    before = table_counts(session)
    second = register_resident(
        session=session,
        data={"household_id": first.household_id, "name": "王五", "birth_year": 1950},
        actor=LEADER,
    )
    assert grown(before, session) == {"resident": 1, "auditentry": 1}
    assert (second.grid_id, second.building_id) == (first.grid_id, first.building_id)


def test_a_full_id_number_is_stored_masked_with_birth_year_and_sex(
    session: Session, world: World
) -> None:
    resident = make_resident(session, building=world.buildings[0][0], id_number=VALID_ID)
    assert resident.id_number_masked == "110***********002X"
    assert resident.id_suffix == "002X"
    assert resident.birth_year == 1949
    assert resident.sex == "female"
    stored = session.exec(select(Resident.id_number_masked)).all()
    assert VALID_ID not in stored


def test_id_number_check() -> None:
    assert id_number_valid(VALID_ID)
    assert not id_number_valid("110105194912310021")  # wrong check character
    assert not id_number_valid("11010519491231002")  # too short
    assert mask_id_number(VALID_ID) == "110***********002X"


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"name": ""}, {"name": "services.error.required"}),
        ({"id_number": "110105194912310021"}, {"id_number": "services.error.id_number_invalid"}),
        (
            {"vulnerability": "elderly_alone,lonely"},
            {"vulnerability": "services.error.vulnerability_unknown"},
        ),
        ({"phone": "call me"}, {"phone": "services.error.phone_invalid"}),
        ({"birth_year": "nineteen"}, {"birth_year": "services.error.not_a_whole_number"}),
        ({"birth_year": 1850}, {"birth_year": "services.error.too_small"}),
        ({"birth_year": 2099}, {"birth_year": "services.error.year_in_future"}),
        ({"name": "张\x00三"}, {"name": "services.error.nul_byte"}),
        # A valid check character, but born in 2099.
        ({"id_number": "110105209912310037"}, {"id_number": "services.error.id_number_invalid"}),
        ({"sex": "x"}, {"sex": "services.error.invalid_choice"}),
        ({"unit": " "}, {"unit": "services.error.unit_required"}),
        ({"building_id": 999}, {"building_id": "services.error.building_not_found"}),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    session: Session, world: World, fields: dict[str, object], errors: dict[str, str]
) -> None:
    data = {"building_id": world.buildings[0][0].id, "unit": "1-101", "name": "张三", **fields}
    before = table_counts(session)
    with pytest.raises(ValidationFailed) as failed:
        register_resident(session=session, data=data, actor=LEADER)
    assert failed.value.errors == errors
    assert grown(before, session) == {}


def test_every_bad_field_is_reported_at_once(session: Session, world: World) -> None:
    with pytest.raises(ValidationFailed) as failed:
        register_resident(
            session=session,
            data={"household_id": 1, "name": "", "birth_year": 3000, "id_number": "123"},
            actor=LEADER,
        )
    assert set(failed.value.errors) == {"name", "birth_year", "id_number"}


def test_unknown_household_is_rejected(session: Session, world: World) -> None:
    with pytest.raises(ValidationFailed) as failed:
        register_resident(session=session, data={"household_id": 999, "name": "张三"}, actor=LEADER)
    assert failed.value.errors == {"household_id": "services.error.household_not_found"}


def test_permissions(session: Session, world: World) -> None:
    g1, g2 = world.grids
    data = {"building_id": world.buildings[0][0].id, "unit": "1-101", "name": "张三"}
    before = table_counts(session)
    with pytest.raises(PermissionDenied):
        register_resident(session=session, data=data, actor=VIEWER)
    with pytest.raises(PermissionDenied):
        register_resident(session=session, data=data, actor=grid_worker(g2))
    assert grown(before, session) == {}
    register_resident(session=session, data=data, actor=grid_worker(g1))
    register_resident(session=session, data={**data, "name": "李四"}, actor=LEADER)
    assert grown(before, session) == {"household": 1, "resident": 2, "auditentry": 2}


@pytest.mark.both_backends  # the replay check searches the audit log with LIKE
def test_a_double_click_with_the_same_client_token_writes_once(
    session: Session, world: World
) -> None:
    data = {"building_id": world.buildings[0][0].id, "unit": "1-101", "name": "张三"}
    before = table_counts(session)
    first = register_resident(session=session, data=data, actor=LEADER, client_token="form-1234")
    again = register_resident(session=session, data=data, actor=LEADER, client_token="form-1234")
    assert again.id == first.id
    assert grown(before, session) == {
        "household": 1,
        "resident": 1,
        "auditentry": 1,
        "replaykey": 1,
    }
    other = register_resident(session=session, data=data, actor=LEADER, client_token="form-5678")
    assert other.id != first.id
    with pytest.raises(ValidationFailed) as failed:
        register_resident(session=session, data=data, actor=LEADER, client_token="x y")
    assert failed.value.errors == {"client_token": "services.error.client_token_invalid"}


@pytest.mark.both_backends  # counters kept in the write's transaction
def test_moving_household_moves_grid_and_building(session: Session, world: World) -> None:
    resident = make_resident(session, building=world.buildings[0][0], unit="1-101")
    target = make_resident(session, building=world.buildings[1][1], unit="9-901", name="李四")
    old_household = resident.household_id
    before = table_counts(session)
    moved = update_resident(
        session=session,
        resident_id=resident.id,
        changes={"household_id": target.household_id, "phone": "13812345678"},
        actor=LEADER,
    )
    assert grown(before, session) == {"auditentry": 1}
    assert (moved.grid_id, moved.building_id) == (world.grids[1].id, world.buildings[1][1].id)
    session.expire_all()
    stored = session.get(Resident, resident.id)
    assert stored is not None and stored.grid_id == world.grids[1].id
    entry = session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc())).first()
    assert entry is not None and entry.action == "update"
    assert json.loads(entry.changes) == {
        "household_id": [old_household, target.household_id],
        "phone": [None, "13812345678"],
    }


def test_update_needs_both_grids_and_writes_nothing_when_unchanged(
    session: Session, world: World
) -> None:
    g1 = world.grids[0]
    resident = make_resident(session, building=world.buildings[0][0], unit="1-101")
    elsewhere = make_resident(session, building=world.buildings[1][0], unit="5-501", name="李四")
    before = table_counts(session)
    with pytest.raises(PermissionDenied):
        update_resident(
            session=session,
            resident_id=resident.id,
            changes={"household_id": elsewhere.household_id},
            actor=grid_worker(g1),
        )
    with pytest.raises(PermissionDenied):
        update_resident(
            session=session, resident_id=resident.id, changes={"name": "张"}, actor=VIEWER
        )
    same = update_resident(
        session=session, resident_id=resident.id, changes={"name": resident.name}, actor=LEADER
    )
    assert same.id == resident.id
    assert grown(before, session) == {}
    update_resident(
        session=session,
        resident_id=resident.id,
        changes={"health_status": "in_hospital"},
        actor=grid_worker(g1),
    )
    assert grown(before, session) == {"auditentry": 1}
    with pytest.raises(ValidationFailed) as failed:
        update_resident(
            session=session,
            resident_id=resident.id,
            changes={"health_status": "on_the_moon", "shoe_size": 42},
            actor=LEADER,
        )
    assert failed.value.errors == {
        "health_status": "services.error.invalid_choice",
        "shoe_size": "services.error.invalid_value",
    }
    with pytest.raises(ValidationFailed):
        update_resident(session=session, resident_id=999, changes={}, actor=LEADER)


@pytest.mark.both_backends  # a query that PostgreSQL plans and types differently
def test_create_household_finds_before_it_adds(session: Session, world: World) -> None:
    building = world.buildings[0][1]
    before = table_counts(session)
    first = create_household(session=session, building_id=building.id, unit="7-701", actor=LEADER)
    again = create_household(session=session, building_id=building.id, unit=" 7-701 ", actor=LEADER)
    assert again.id == first.id
    assert grown(before, session) == {"household": 1, "auditentry": 1}
    assert _households(session, world.grids[0]) == 1
    households = session.exec(select(Household).where(Household.building_id == building.id)).all()
    assert [h.unit for h in households] == ["7-701"]
    with pytest.raises(PermissionDenied):
        create_household(
            session=session,
            building_id=building.id,
            unit="7-702",
            actor=grid_worker(world.grids[1]),
        )


def test_a_naive_time_is_read_as_local_time() -> None:
    # Asia/Shanghai is UTC+8 all year.
    assert as_utc(datetime(2026, 3, 21, 8, 0)).hour == 0
