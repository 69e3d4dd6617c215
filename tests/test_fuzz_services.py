"""Generated form input for every service a form submits to: a row, or a message and no write.

Each example starts from a row the tiny world already holds (so that most fields make
sense and the service's deeper rules are reached), shaped as the form's Create model, and
replaces some of its fields with hostile values of any type: texts with NUL bytes,
formulas and Markdown, numbers past 64 bits, NaN, dates and times from year 1 to 9999 (with
and without a time zone), lists, and fields the form does not have. The actor is the
system administrator or a grid worker of one grid.

The property: the service returns a row, or raises ValidationFailed whose every message is
in both catalogues, or PermissionDenied — and on a refusal the database is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import pytest
from fuzz_support import NASTY, digest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlmodel import Session, SQLModel, col, select

from gridcore.access import SYSTEM, Actor, PermissionDenied
from gridcore.i18n import t
from gridcore.models import (
    Area,
    Case,
    CaseCreate,
    Contact,
    ContactCreate,
    ResidentCreate,
    ResidentRequest,
    ResidentRequestCreate,
    StockMovement,
    StockMovementCreate,
    Task,
    TaskCreate,
    UserRole,
    Worker,
    WorkerCreate,
    ZoneOrder,
    ZoneOrderCreate,
)
from gridcore.services import cases, requests, residents, stock, tasks, workforce, zones
from gridcore.services import testing as testing_service
from gridcore.services.base import ValidationFailed
from gridcore.services.testing import RoundCreate

# form → (service, Create model, the table whose first row is the starting point)
SERVICES: dict[str, tuple[Callable[..., Any], type[SQLModel], type[SQLModel] | None]] = {
    "case": (cases.create_case, CaseCreate, Case),
    "contact": (cases.create_contact, ContactCreate, Contact),
    "resident": (residents.register_resident, ResidentCreate, None),
    "request": (requests.create_request, ResidentRequestCreate, ResidentRequest),
    "stock": (stock.record_stock_movement, StockMovementCreate, StockMovement),
    "task": (tasks.create_task, TaskCreate, Task),
    "worker": (workforce.create_worker, WorkerCreate, Worker),
    "zone": (zones.issue_zone_order, ZoneOrderCreate, ZoneOrder),
    "round": (testing_service.open_round, RoundCreate, None),
}
FORMS = tuple(SERVICES)

MOMENTS = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.none()
).flatmap(
    lambda m: st.sampled_from(
        [m, m.replace(tzinfo=UTC), m.replace(tzinfo=timezone(timedelta(hours=14)))]
    )
)
EDGE_MOMENTS = st.sampled_from(
    [
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
        datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-12))),
        datetime.min,
        datetime.max,
    ]
)
HOSTILE = st.one_of(
    NASTY,
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 2**63, -(2**63) - 1, float("nan"), float("inf"), -0.0]),
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
    MOMENTS,
    EDGE_MOMENTS,
    st.times(),
    st.lists(st.integers(min_value=-3, max_value=10**12), max_size=3),
    st.dictionaries(st.sampled_from(["name", "x"]), NASTY, max_size=2),
)
# Starting points of the models no stored row is shaped like.
_NOW = datetime(2026, 3, 21, 9, 0, tzinfo=UTC)


def _base(session: Session, form: str) -> dict[str, Any]:
    """A plausible submission of `form`, from what the tiny world holds."""
    _, model, table = SERVICES[form]
    grid = session.exec(select(Area).where(Area.level == "grid").order_by(col(Area.id))).first()
    assert grid is not None and grid.id is not None
    if form == "resident":
        return {"household_id": 1, "name": "李四", "birth_year": 1980, "sex": "female"}
    if form == "round":
        return {
            "name": "Round 9",
            "area_ids": [grid.id],
            "start_at": _NOW,
            "deadline_at": _NOW + timedelta(hours=8),
            "sites": [{"name": "Gate", "area_id": grid.id}],
        }
    assert table is not None
    row = session.exec(select(table)).first()
    assert row is not None, table
    stored = row.model_dump()
    base = {name: stored[name] for name in model.model_fields if name in stored}
    if form == "task":
        base["due_at"] = None  # the stored task's due time has passed
    return base


def _actor(session: Session, kind: str) -> Actor:
    if kind == "admin":
        return SYSTEM
    grid = session.exec(select(Area.id).where(Area.level == "grid").order_by(col(Area.id))).first()
    return Actor(username="wang", role=UserRole.grid_worker, grid_ids=frozenset({int(grid or 0)}))


@st.composite
def submissions(draw: st.DrawFn) -> tuple[str, dict[str, Any], dict[str, Any], str]:
    """(form, fields replaced, fields added, actor kind)."""
    form = draw(st.sampled_from(FORMS))
    model = SERVICES[form][1]
    names = sorted(model.model_fields)
    replaced = draw(st.dictionaries(st.sampled_from(names), HOSTILE, min_size=1, max_size=3))
    added = draw(
        st.dictionaries(st.sampled_from(["id", "created_by", "evil"]), HOSTILE, max_size=1)
    )
    return form, replaced, added, draw(st.sampled_from(["admin", "admin", "grid_worker"]))


@pytest.mark.filterwarnings("ignore::UserWarning:pydantic.*")
@given(submission=submissions())
@example(submission=("case", {"building_id": 2**63}, {}, "admin"))  # reached the driver
def test_any_submission_is_saved_or_refused_with_a_message(
    tiny_session: Session, submission: tuple[str, dict[str, Any], dict[str, Any], str]
) -> None:
    form, replaced, added, actor_kind = submission
    check_submission(tiny_session, form, replaced, added, actor_kind)


def check_submission(
    session: Session, form: str, replaced: dict[str, Any], added: dict[str, Any], actor_kind: str
) -> None:
    service = SERVICES[form][0]
    data = {**_base(session, form), **replaced, **added}
    before = digest(session)
    try:
        service(session=session, data=data, actor=_actor(session, actor_kind))
    except ValidationFailed as refused:
        assert refused.errors, data
        for key in refused.errors.values():
            assert t(key, "zh") != key and t(key, "en") != key, key
        assert digest(session) == before
    except PermissionDenied:
        assert digest(session) == before


@pytest.mark.filterwarnings("ignore::UserWarning:pydantic.*")
@pytest.mark.parametrize("form", FORMS)
def test_each_form_saves_its_plausible_submission(tiny_session: Session, form: str) -> None:
    """The starting points are good submissions (so the fuzzing starts from the rules' inside)."""
    service, _, table = SERVICES[form]
    row = service(session=tiny_session, data=_base(tiny_session, form), actor=SYSTEM)
    assert row.id is not None


@pytest.mark.filterwarnings("ignore::UserWarning:pydantic.*")
def test_time_only_values_are_refused_not_crashed(tiny_session: Session) -> None:
    check_submission(tiny_session, "task", {"due_at": time(1, 2)}, {}, "admin")


@pytest.mark.filterwarnings("ignore::UserWarning:pydantic.*")
def test_an_id_past_64_bits_is_refused_by_name(tiny_session: Session) -> None:
    data = {**_base(tiny_session, "case"), "building_id": 2**63, "resident_id": -(2**63) - 1}
    with pytest.raises(ValidationFailed) as refused:
        cases.create_case(session=tiny_session, data=data, actor=SYSTEM)
    assert refused.value.errors == {
        "building_id": "services.error.too_large",
        "resident_id": "services.error.too_small",
    }
