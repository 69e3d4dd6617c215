"""Every write leaves one audit entry; the audit query reads them back, changes for command only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlmodel import Session, col, select

from gridcore.i18n import catalogues, t
from gridcore.models import AuditEntry, ResidentCreate
from gridcore.queries.audit import AUDIT_COLUMNS, recent_audit
from gridcore.services.base import ValidationFailed, error_keys
from gridcore.services.cases import create_case, update_case_status
from gridcore.services.policy import set_policy_values
from gridcore.services.residents import update_resident
from gridcore.services.testing import undo_sample
from tests.factories import (
    ADMIN,
    LEADER,
    VIEWER,
    days_ago,
    grid_worker,
    last_audit,
    make_case,
    make_depot,
    make_item,
    make_resident,
    make_round,
    make_street_with_grids,
    make_test_record,
    make_worker,
    receive,
)

SERVICES = Path(__file__).resolve().parent.parent / "gridcore" / "services"


@pytest.mark.both_backends  # a query that PostgreSQL plans and types differently
def test_the_audit_log_reads_back_newest_first(session: Session) -> None:
    world = make_street_with_grids(session)
    g1 = world.grids[0]
    case = create_case(
        session=session,
        data={
            "grid_id": g1.id,
            "kind": "suspected",
            "reported_date": days_ago(2),
            "found_via": "community",
            "address": "1 Heping Lane",
        },
        actor=grid_worker(g1),
    )
    update_case_status(session=session, case_id=case.id, status="discarded", actor=LEADER)
    make_case(session, grid=world.grids[1])

    log = recent_audit(session=session, actor=ADMIN, entity="case", entity_id=case.id)
    assert list(log.columns) == AUDIT_COLUMNS
    assert list(log["action"]) == ["update", "create"]
    assert list(log["username"]) == ["lee", "wang"]
    assert log["changes"].iloc[0] == {"status": ["active", "discarded"]}
    assert log["changes"].iloc[1]["reported_date"] == days_ago(2).isoformat()
    assert str(log["at"].dt.tz) == "UTC"

    assert len(recent_audit(session=session, actor=ADMIN, entity="case")) == 3
    assert len(recent_audit(session=session, actor=ADMIN, username="wang")) == 1
    assert len(recent_audit(session=session, actor=ADMIN, limit=2)) == 2


def test_changes_are_shown_to_command_only(session: Session) -> None:
    world = make_street_with_grids(session, grids=1)
    make_case(session, grid=world.grids[0])
    for actor, shown in ((ADMIN, True), (LEADER, True), (VIEWER, False)):
        log = recent_audit(session=session, actor=actor)
        assert (log["changes"].iloc[0] != {}) is shown
    empty = recent_audit(session=session, actor=ADMIN, entity="nothing")
    assert list(empty.columns) == AUDIT_COLUMNS and empty.empty


def _error_keys_in_services() -> set[str]:
    keys: set[str] = set()
    for path in SERVICES.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value.startswith("services.error.")
            ):
                keys.add(node.value)
    return keys


def test_every_message_key_of_the_services_is_in_the_catalogue() -> None:
    used = _error_keys_in_services()
    assert len(used) > 40
    assert sorted(used - catalogues()["en"].keys()) == []


def test_pydantic_errors_become_catalogue_keys() -> None:
    with pytest.raises(ValidationError) as failed:
        ResidentCreate.model_validate({"name": "", "birth_year": "x", "sex": "?"})
    assert error_keys(failed.value) == {
        "household_id": "services.error.required",
        "name": "services.error.required",
        "birth_year": "services.error.not_a_whole_number",
        "sex": "services.error.invalid_choice",
    }


def test_a_page_shows_the_message_in_the_users_language() -> None:
    failed = ValidationFailed({"reported_date": "services.error.date_in_future"})
    assert t(failed.errors["reported_date"], "en") == "The date cannot be in the future."
    assert t(failed.errors["reported_date"], "zh") == "日期不能晚于今天。"
    # A message pydantic wrote itself has no key and comes back as it is.
    assert t("Input should be a valid list", "zh") == "Input should be a valid list"


def _area_of_last(session: Session, entity: str) -> int | None:
    return session.exec(
        select(AuditEntry.area_id)
        .where(AuditEntry.entity == entity)
        .order_by(col(AuditEntry.id).desc())
    ).first()


def test_every_entry_carries_the_area_of_the_row_it_wrote(session: Session) -> None:
    """A resident's edit, a case, a stock movement, a sample undone (its row gone) and a worker
    of two grids: each entry names the grid, the depot's area or the grids' community."""
    world = make_street_with_grids(session)
    g1, g2 = world.grids
    resident = make_resident(session, building=world.buildings[1][0])
    assert _area_of_last(session, "resident") == g2.id
    update_resident(session=session, resident_id=resident.id, changes={"name": "李四"},
                    actor=ADMIN)  # fmt: skip
    edit = last_audit(session)
    assert (edit.action, edit.area_id) == ("update", g2.id)

    make_case(session, grid=g1)
    assert _area_of_last(session, "case") == g1.id

    # A movement belongs to its depot's area: here the community's depot.
    depot = make_depot(session, area=world.community, name="Community depot", level="community")
    receive(session, depot=depot, item=make_item(session), quantity=40)
    assert _area_of_last(session, "stock_movement") == world.community.id

    # An undone sample names its record by id once the record is gone: its grid still shows.
    test_round = make_round(session, grids=[g1, g2])
    record = make_test_record(session, test_round=test_round, resident=resident,
                              result="pending")  # fmt: skip
    assert undo_sample(session=session, record_id=record.id, actor=ADMIN)
    assert _area_of_last(session, "test_record") == g2.id

    make_worker(session, grids=[g1, g2])
    assert _area_of_last(session, "worker") == world.community.id
    # Rows of no area: a policy setting.
    set_policy_values(session=session, values={"alert_cover_days": 3}, actor=ADMIN)
    assert _area_of_last(session, "policy") is None
