"""The GridCore schema: every table in one place, with its Create/Update shapes.

Enumerations are stored as short strings (not native database enums) so that a
protocol edition can add a value with a data change instead of a schema change.
Every datetime is timezone-aware UTC; dates (reported, identified, quarantine
ends) are the local calendar day of the deployment.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from pydantic import field_validator
from sqlalchemy import Column, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

# The whole numbers an integer column holds on SQLite and PostgreSQL (BIGINT): 64 bits, signed.
WHOLE_MIN, WHOLE_MAX = -(2**63), 2**63 - 1


def utcnow() -> datetime:
    """The current moment, timezone-aware (naive datetimes are rejected by the schema)."""
    return datetime.now(UTC)


def _code(length: int = 24) -> Any:
    """A short string column for an enumeration value."""
    return String(length)


# --------------------------------------------------------------------------- enumerations


class AreaLevel(StrEnum):
    city = "city"
    district = "district"
    street = "street"
    community = "community"
    grid = "grid"


AREA_LEVEL_ORDER: tuple[AreaLevel, ...] = tuple(AreaLevel)


class WorkerRole(StrEnum):
    grid_chief_instructor = "grid_chief_instructor"
    chief_grid_manager = "chief_grid_manager"
    grid_supervisor = "grid_supervisor"
    grid_leader = "grid_leader"
    grid_member = "grid_member"
    volunteer = "volunteer"


class Employment(StrEnum):
    full_time = "full_time"
    part_time = "part_time"
    volunteer = "volunteer"


class ServiceGroup(StrEnum):
    information_collection = "information_collection"
    material_purchase = "material_purchase"
    special_population_care = "special_population_care"
    psychological_counselling = "psychological_counselling"
    medical = "medical"


class Sex(StrEnum):
    female = "female"
    male = "male"


class Vulnerability(StrEnum):
    elderly_alone = "elderly_alone"
    disabled = "disabled"
    chronic_illness = "chronic_illness"
    pregnant = "pregnant"
    infant = "infant"
    bedridden = "bedridden"


class HealthStatus(StrEnum):
    """Where a resident is; anything but `at_home` exempts them from a testing round."""

    at_home = "at_home"
    in_hospital = "in_hospital"
    central_isolation = "central_isolation"
    away = "away"


class UserRole(StrEnum):
    admin = "admin"
    leader = "leader"
    grid_worker = "grid_worker"
    viewer = "viewer"


class CaseKind(StrEnum):
    confirmed = "confirmed"
    asymptomatic = "asymptomatic"
    suspected = "suspected"


class CaseStatus(StrEnum):
    active = "active"
    recovered = "recovered"
    discarded = "discarded"  # a suspected case ruled out


class FoundVia(StrEnum):
    """How a case was found: inside quarantine, or (every other value) in the community."""

    quarantine = "quarantine"  # already in central or home quarantine (闭环隔离管控)
    screening = "screening"  # screening of a risk group (风险人群筛查)
    mass_testing = "mass_testing"  # a round of area-wide testing
    community = "community"  # anywhere else: a clinic, a self-report (社会面)
    reclassified = "reclassified"  # an earlier asymptomatic case, now confirmed: not a new one


class ContactType(StrEnum):
    close = "close"
    secondary = "secondary"


class QuarantinePlace(StrEnum):
    home = "home"
    central = "central"


class ContactStatus(StrEnum):
    in_quarantine = "in_quarantine"
    released = "released"
    became_case = "became_case"


class ZoneLevel(StrEnum):
    sealed = "sealed"
    controlled = "controlled"
    precaution = "precaution"


class SamplingMethod(StrEnum):
    site = "site"
    door_to_door = "door_to_door"


class TestResult(StrEnum):
    __test__ = False  # not a pytest test class
    pending = "pending"
    negative = "negative"
    positive = "positive"
    invalid = "invalid"


class DepotLevel(StrEnum):
    street = "street"
    community = "community"
    grid = "grid"


class MovementKind(StrEnum):
    receipt = "receipt"
    issue = "issue"
    transfer_out = "transfer_out"
    transfer_in = "transfer_in"
    adjustment = "adjustment"


class RequestCategory(StrEnum):
    medicine = "medicine"
    food = "food"
    medical_care = "medical_care"
    other = "other"


class Urgency(StrEnum):
    urgent = "urgent"
    normal = "normal"


class RequestStatus(StrEnum):
    new = "new"
    assigned = "assigned"
    in_progress = "in_progress"
    done = "done"
    cancelled = "cancelled"


OPEN_REQUEST_STATUSES: tuple[str, ...] = (
    RequestStatus.new,
    RequestStatus.assigned,
    RequestStatus.in_progress,
)


class TaskKind(StrEnum):
    door_to_door_testing = "door_to_door_testing"
    vulnerable_visit = "vulnerable_visit"
    delivery = "delivery"
    epidemiological_survey = "epidemiological_survey"
    disinfection = "disinfection"
    information_collection = "information_collection"


class TaskStatus(StrEnum):
    open = "open"
    in_progress = "in_progress"
    done = "done"
    cancelled = "cancelled"


OPEN_TASK_STATUSES: tuple[str, ...] = (TaskStatus.open, TaskStatus.in_progress)


# --------------------------------------------------------------------------- area hierarchy


class AreaBase(SQLModel):
    """Shared fields of one node of the area tree (city → … → grid)."""

    code: str = Field(max_length=32, unique=True, index=True)
    name: str = Field(max_length=120)
    name_zh: str | None = Field(default=None, max_length=120)
    level: AreaLevel = Field(sa_type=_code(), index=True)
    parent_id: int | None = Field(default=None, foreign_key="area.id", index=True)
    # GeoJSON geometry (Polygon or MultiPolygon), WGS-84, as text.
    shape: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    center_lng: float | None = None
    center_lat: float | None = None


class Area(AreaBase, table=True):
    """A city, district, street, community or grid."""

    id: int | None = Field(default=None, primary_key=True)
    # Households in the area, denormalised for staffing ratios; kept by the services.
    households: int = 0


class AreaCreate(AreaBase):
    """Input for creating an area."""


class BuildingBase(SQLModel):
    """Shared fields of a residential building."""

    code: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=120)
    name_zh: str | None = Field(default=None, max_length=120)
    grid_id: int = Field(foreign_key="area.id", index=True)
    lng: float
    lat: float
    address: str | None = Field(default=None, max_length=200)


class Building(BuildingBase, table=True):
    """A building, a point inside its grid."""

    id: int | None = Field(default=None, primary_key=True)


class Household(SQLModel, table=True):
    """A household (flat) in a building."""

    id: int | None = Field(default=None, primary_key=True)
    building_id: int = Field(foreign_key="building.id", index=True)
    grid_id: int = Field(foreign_key="area.id", index=True)
    unit: str = Field(max_length=40)  # flat / room label, e.g. "3-502"


class ResidentFields(SQLModel):
    """The columns of a resident (vulnerabilities are rows of their own)."""

    household_id: int = Field(foreign_key="household.id", index=True)
    name: str = Field(min_length=1, max_length=80)
    # Only the masked form is ever stored: first 3 and last 4 characters kept.
    id_number_masked: str | None = Field(default=None, max_length=24)
    id_suffix: str | None = Field(default=None, max_length=4, index=True)
    phone: str | None = Field(default=None, max_length=20, index=True)
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    sex: Sex | None = Field(default=None, sa_type=_code())
    health_status: HealthStatus = Field(default=HealthStatus.at_home, sa_type=_code())


class ResidentBase(ResidentFields):
    """Shared fields of a resident as forms and files give them, vulnerabilities included."""

    vulnerability: list[Vulnerability] = []

    @field_validator("vulnerability", mode="before")
    @classmethod
    def _tag_list(cls, value: Any) -> Any:
        # "elderly_alone,disabled" (as files and older callers give it) or a list of tags.
        if value is None:
            return []
        if isinstance(value, str):
            return vulnerability_tags(value)
        return value

    @field_validator("vulnerability")
    @classmethod
    def _each_once(cls, value: list[Vulnerability]) -> list[Vulnerability]:
        return [Vulnerability(tag) for tag in ordered_tags(value)]


class Resident(ResidentFields, table=True):
    """A person registered in a household."""

    # Residents at home per grid (expected at a testing round) read this index alone.
    __table_args__ = (Index("ix_resident_grid_status", "grid_id", "health_status"),)
    id: int | None = Field(default=None, primary_key=True)
    # Denormalised from the household so that dashboards can group residents per area.
    grid_id: int = Field(foreign_key="area.id", index=True)
    building_id: int = Field(foreign_key="building.id", index=True)


# The resident search's trigram index (migration 0017), which the metadata cannot declare: on
# SQLite an FTS5 table over resident.name and resident.phone kept in step by triggers, on
# PostgreSQL pg_trgm GIN indexes on the same columns (none when the extension is missing).
RESIDENT_SEARCH = "resident_search"
RESIDENT_SEARCH_TRIGGERS = (
    "resident_search_insert",
    "resident_search_update",
    "resident_search_delete",
)
RESIDENT_TRIGRAM_INDEXES = ("ix_resident_name_trgm", "ix_resident_phone_trgm")


class ResidentCreate(ResidentBase):
    """Input for registering a resident."""


class ResidentVulnerability(SQLModel, table=True):
    """One vulnerability of a resident (elderly living alone, disabled, …)."""

    # Residents with a tag in a grid are counted by tag; the primary key serves per resident.
    __table_args__ = (Index("ix_residentvulnerability_tag", "tag"),)
    resident_id: int = Field(
        sa_column=Column(Integer, ForeignKey("resident.id", ondelete="CASCADE"), primary_key=True)
    )
    tag: Vulnerability = Field(sa_type=_code(), primary_key=True)


# --------------------------------------------------------------------------- people who work


class WorkerBase(SQLModel):
    """Shared fields of a grid worker or volunteer."""

    name: str = Field(min_length=1, max_length=80)
    phone: str | None = Field(default=None, max_length=20)
    role: WorkerRole = Field(sa_type=_code())
    employment: Employment = Field(sa_type=_code())
    service_group: ServiceGroup | None = Field(default=None, sa_type=_code(32))
    active: bool = True


class Worker(WorkerBase, table=True):
    """A person who works for the grid (staff or volunteer)."""

    id: int | None = Field(default=None, primary_key=True)


class WorkerCreate(WorkerBase):
    """Input for adding a worker; `grid_ids` are the grids they serve."""

    grid_ids: list[int] = []


class WorkerGrid(SQLModel, table=True):
    """Assignment of a worker to a grid (a worker may serve several)."""

    worker_id: int = Field(foreign_key="worker.id", primary_key=True)
    grid_id: int = Field(foreign_key="area.id", primary_key=True, index=True)


class UserBase(SQLModel):
    """Shared fields of an account that signs in."""

    username: str = Field(min_length=2, max_length=40, unique=True, index=True)
    full_name: str | None = Field(default=None, max_length=80)
    role: UserRole = Field(sa_type=_code())
    active: bool = True
    worker_id: int | None = Field(default=None, foreign_key="worker.id")


class User(UserBase, table=True):
    """An account; the scope is the set of grids in UserGrid (empty = all grids)."""

    id: int | None = Field(default=None, primary_key=True)
    password_hash: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class UserCreate(UserBase):
    """Input for creating an account."""

    password: str = Field(min_length=8, max_length=200)
    grid_codes: list[str] = []

    @field_validator("username", mode="before")
    @classmethod
    def _username_trimmed(cls, value: Any) -> Any:
        """Spaces around a username are never part of it (sign-in strips them too)."""
        return value.strip() if isinstance(value, str) else value


class UserGrid(SQLModel, table=True):
    """One grid in a user's scope."""

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    grid_id: int = Field(foreign_key="area.id", primary_key=True)


KIOSK_LABEL_MAX_LENGTH = 80
# The kiosk's panels in their standard order (pages/kiosk.py draws them).
KIOSK_PANELS: tuple[str, ...] = (
    "headline", "alerts", "map", "testing", "trend", "cases", "supplies", "workforce",
)  # fmt: skip
# Seconds a link may keep each panel on screen: quicker than 3 s nobody reads a table;
# slower than 10 minutes the meeting would not see the panels come round.
KIOSK_INTERVAL_RANGE: tuple[int, int] = (3, 600)


class KioskLink(SQLModel, table=True):
    """A signed, expiring, read-only link for a projector; revoked links stay listed."""

    id: int | None = Field(default=None, primary_key=True)
    label: str = Field(default="", max_length=KIOSK_LABEL_MAX_LENGTH)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    created_by: str = Field(max_length=40)
    revoked: bool = False
    # Seconds each panel stays; None: the deployment's kiosk_rotate_seconds setting.
    interval_seconds: int | None = None
    # The panels shown, comma-separated in the standard order; empty: every panel (and any
    # panel added later).
    panels: str = Field(default="", max_length=200)


# --------------------------------------------------------------------------- epidemic


class CaseBase(SQLModel):
    """Shared fields of an infection case."""

    resident_id: int | None = Field(default=None, foreign_key="resident.id", index=True)
    address: str | None = Field(default=None, max_length=200)
    grid_id: int = Field(foreign_key="area.id", index=True)
    building_id: int | None = Field(default=None, foreign_key="building.id")
    kind: CaseKind = Field(sa_type=_code())
    status: CaseStatus = Field(default=CaseStatus.active, sa_type=_code())
    reported_date: date = Field(index=True)
    found_via: FoundVia = Field(sa_type=_code())
    note: str | None = Field(default=None, max_length=500)


class Case(CaseBase, table=True):
    """A confirmed, asymptomatic or suspected infection."""

    __tablename__ = "case_record"  # "case" is an SQL keyword
    __table_args__ = (Index("ix_case_grid_date", "grid_id", "reported_date"),)
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)


class CaseCreate(CaseBase):
    """Input for reporting a case."""


class ContactBase(SQLModel):
    """Shared fields of a traced contact."""

    case_id: int | None = Field(default=None, foreign_key="case_record.id", index=True)
    resident_id: int | None = Field(default=None, foreign_key="resident.id", index=True)
    person_name: str = Field(min_length=1, max_length=80)
    phone: str | None = Field(default=None, max_length=20)
    grid_id: int | None = Field(default=None, foreign_key="area.id", index=True)
    contact_type: ContactType = Field(sa_type=_code())
    identified_date: date
    quarantine_place: QuarantinePlace = Field(sa_type=_code())
    start_date: date
    planned_end_date: date = Field(index=True)
    status: ContactStatus = Field(default=ContactStatus.in_quarantine, sa_type=_code())


class Contact(ContactBase, table=True):
    """A close or secondary contact of a case, in quarantine."""

    id: int | None = Field(default=None, primary_key=True)


class ContactCreate(ContactBase):
    """Input for registering a contact."""


class ZoneOrderBase(SQLModel):
    """Shared fields of a zone order."""

    area_id: int | None = Field(default=None, foreign_key="area.id", index=True)
    building_id: int | None = Field(default=None, foreign_key="building.id", index=True)
    level: ZoneLevel = Field(sa_type=_code())
    start_date: date
    end_date: date | None = None  # None: in force until lifted
    reason: str = Field(default="", max_length=300)


class ZoneOrder(ZoneOrderBase, table=True):
    """A sealed / controlled / precaution order on a grid or a building, set by command."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)


class ZoneOrderCreate(ZoneOrderBase):
    """Input for issuing a zone order."""


class CaseCountBase(SQLModel):
    """Shared fields of a reported daily count of new cases in an area."""

    day: date
    area_id: int = Field(foreign_key="area.id", index=True)
    kind: CaseKind = Field(sa_type=_code())
    found_via: FoundVia = Field(sa_type=_code())
    count: int = Field(ge=0)
    source: str = Field(default="", max_length=200)


class CaseCount(CaseCountBase, table=True):
    """New cases reported as a count for an area and day (a bulletin), with no person behind them.

    Deployments that only receive bulletins (a district command) hold these instead of, or
    beside, case rows; the daily curves add both.
    """

    __table_args__ = (
        UniqueConstraint("day", "area_id", "kind", "found_via", name="uq_casecount_day_area"),
        Index("ix_casecount_area_day", "area_id", "day"),
    )
    id: int | None = Field(default=None, primary_key=True)


class CaseCountCreate(CaseCountBase):
    """Input for one reported count."""


# --------------------------------------------------------------------------- mass testing


class TestRoundBase(SQLModel):
    """Shared fields of a round of mass testing."""

    __test__ = False
    name: str = Field(min_length=1, max_length=80)
    name_zh: str | None = Field(default=None, max_length=80)
    start_at: datetime
    deadline_at: datetime
    closed_at: datetime | None = None


class TestRound(TestRoundBase, table=True):
    """One round of area-wide testing over a set of grids (TestRoundArea)."""

    __test__ = False
    id: int | None = Field(default=None, primary_key=True)


class TestRoundArea(SQLModel, table=True):
    """A grid in the scope of a testing round."""

    __test__ = False
    round_id: int = Field(foreign_key="testround.id", primary_key=True)
    grid_id: int = Field(foreign_key="area.id", primary_key=True)


class TestSite(SQLModel, table=True):
    """A sampling site of a round, with its hourly capacity."""

    __test__ = False
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="testround.id", index=True)
    name: str = Field(max_length=120)
    name_zh: str | None = Field(default=None, max_length=120)
    area_id: int | None = Field(default=None, foreign_key="area.id")
    lng: float | None = None
    lat: float | None = None
    hourly_capacity: int = Field(default=300, ge=1)
    desks: int = Field(default=1, ge=1)


class TestRecord(SQLModel, table=True):
    """One resident's sample in one round; the grid is stored for per-area counts."""

    __test__ = False
    __table_args__ = (
        UniqueConstraint("round_id", "resident_id", name="uq_testrecord_round_resident"),
        # Per-grid counts by result read this index alone (no table reads, no sort).
        Index("ix_testrecord_round_grid_result", "round_id", "grid_id", "result"),
        Index("ix_testrecord_round_site_time", "round_id", "site_id", "sampled_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="testround.id")
    resident_id: int = Field(foreign_key="resident.id", index=True)
    grid_id: int = Field(foreign_key="area.id")
    site_id: int | None = Field(default=None, foreign_key="testsite.id")
    method: SamplingMethod = Field(default=SamplingMethod.site, sa_type=_code())
    sampled_at: datetime
    tube_code: str | None = Field(default=None, max_length=40, index=True)
    result: TestResult = Field(default=TestResult.pending, sa_type=_code())
    result_at: datetime | None = None


# --------------------------------------------------------------------------- supplies


class SupplyItem(SQLModel, table=True):
    """A kind of supply, with its unit and the default minimum stock of a grid depot."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    name: str = Field(max_length=120)
    name_zh: str | None = Field(default=None, max_length=120)
    unit: str = Field(max_length=20)
    category: str = Field(default="general", max_length=40)
    min_stock: int = Field(default=0, ge=0)


class Depot(SQLModel, table=True):
    """A store of supplies at street, community or grid level."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    name_zh: str | None = Field(default=None, max_length=120)
    area_id: int = Field(foreign_key="area.id", index=True)
    level: DepotLevel = Field(sa_type=_code())
    lng: float | None = None
    lat: float | None = None


class DepotMinimum(SQLModel, table=True):
    """Minimum stock of one item at one depot (overrides the item's default)."""

    depot_id: int = Field(foreign_key="depot.id", primary_key=True)
    item_id: int = Field(foreign_key="supplyitem.id", primary_key=True)
    min_stock: int = Field(ge=0)


class StockMovementBase(SQLModel):
    """Shared fields of a stock movement."""

    item_id: int = Field(foreign_key="supplyitem.id")
    depot_id: int = Field(foreign_key="depot.id")
    kind: MovementKind = Field(sa_type=_code())
    # Signed change to the depot's stock: receipts and transfers in are positive.
    quantity: int
    occurred_at: datetime
    counterpart_depot_id: int | None = Field(default=None, foreign_key="depot.id")
    note: str | None = Field(default=None, max_length=300)
    # What an issue went to: a household, or the resident request it fulfils.
    household_id: int | None = Field(default=None, foreign_key="household.id")
    request_id: int | None = Field(default=None, foreign_key="residentrequest.id")


class StockMovement(StockMovementBase, table=True):
    """One line of the append-only stock ledger; stock is the sum, never overwritten."""

    __table_args__ = (
        Index("ix_stock_depot_item_time", "depot_id", "item_id", "occurred_at"),
        # The movements since a moment (history pages, the week's issues, stock as it stood).
        Index("ix_stock_time", "occurred_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str | None = Field(default=None, max_length=40)


class StockMovementCreate(StockMovementBase):
    """Input for recording a stock movement."""


# --------------------------------------------------------------------------- requests and tasks


class ResidentRequestBase(SQLModel):
    """Shared fields of a resident's request for help."""

    household_id: int | None = Field(default=None, foreign_key="household.id")
    resident_id: int | None = Field(default=None, foreign_key="resident.id")
    grid_id: int = Field(foreign_key="area.id", index=True)
    category: RequestCategory = Field(sa_type=_code())
    urgency: Urgency = Field(default=Urgency.normal, sa_type=_code())
    description: str = Field(default="", max_length=500)
    # What a supply request asks for (medicine, food): an item and how many of its unit.
    item_id: int | None = Field(default=None, foreign_key="supplyitem.id")
    quantity: int | None = Field(default=None, ge=1)


class ResidentRequest(ResidentRequestBase, table=True):
    """A household's request (medicine, food, medical care, other) and its progress."""

    __table_args__ = (Index("ix_request_grid_status", "grid_id", "status"),)
    id: int | None = Field(default=None, primary_key=True)
    status: RequestStatus = Field(default=RequestStatus.new, sa_type=_code())
    assigned_worker_id: int | None = Field(default=None, foreign_key="worker.id")
    created_at: datetime = Field(default_factory=utcnow)
    assigned_at: datetime | None = None
    started_at: datetime | None = None
    done_at: datetime | None = None
    cancelled_at: datetime | None = None
    # The stock movement that delivered a supply request. The movement names the request too,
    # so this key is added after both tables exist (use_alter): the tables can then be sorted.
    stock_movement_id: int | None = Field(
        default=None,
        sa_column_args=[
            ForeignKey(
                "stockmovement.id", use_alter=True, name="fk_residentrequest_stock_movement_id"
            )
        ],
    )


class ResidentRequestCreate(ResidentRequestBase):
    """Input for logging a request."""


class TaskBase(SQLModel):
    """Shared fields of a task."""

    grid_id: int = Field(foreign_key="area.id", index=True)
    kind: TaskKind = Field(sa_type=_code(32))
    title: str = Field(default="", max_length=200)
    # The title in Chinese (tasks the system makes carry both; a person's typed title is one).
    title_zh: str | None = Field(default=None, max_length=200)
    assigned_worker_id: int | None = Field(default=None, foreign_key="worker.id", index=True)
    due_at: datetime | None = None
    request_id: int | None = Field(default=None, foreign_key="residentrequest.id")
    resident_id: int | None = Field(default=None, foreign_key="resident.id")


class Task(TaskBase, table=True):
    """A piece of work for a grid worker."""

    # A sample closes its resident's open door-to-door task: found by resident, in the tap.
    # Every worker's open, overdue and done-today tasks are read from the open and the
    # recently done ones only (status, done_at), without the task rows themselves.
    __table_args__ = (
        Index("ix_task_grid_status", "grid_id", "status"),
        Index("ix_task_resident", "resident_id"),
        Index("ix_task_status_done", "status", "done_at", "assigned_worker_id", "due_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    status: TaskStatus = Field(default=TaskStatus.open, sa_type=_code())
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    done_at: datetime | None = None
    # The last one-tap change (start, finish): its time and the status before, for its undo.
    status_changed_at: datetime | None = None
    previous_status: TaskStatus | None = Field(default=None, sa_type=_code())


class TaskCreate(TaskBase):
    """Input for creating a task."""


# --------------------------------------------------------------------------- settings and audit


class PolicySetting(SQLModel, table=True):
    """One policy value (JSON-encoded), editable by an administrator."""

    key: str = Field(primary_key=True, max_length=60)
    value: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: str | None = Field(default=None, max_length=40)


class AuditEntry(SQLModel, table=True):
    """Who changed what, when: one row per write."""

    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    username: str = Field(max_length=40)
    action: str = Field(max_length=20)  # create / update / delete / import / sign_in
    entity: str = Field(max_length=40)
    entity_id: str | None = Field(default=None, max_length=40)
    changes: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    # The grid (or the most specific area) the written row belongs to; none for an account,
    # a kiosk link, a policy setting (gridcore.services.audit). No foreign key: the log
    # outlives what it describes.
    area_id: int | None = Field(default=None, index=True)


class DataVersion(SQLModel, table=True):
    """One row (id 1) whose number every committed write raises, in the write's transaction.

    Each app server reads it at most once a second and forgets its cached query results when
    it has changed: a write made through any server (or the command line) is on every
    server's screens at their next refresh.
    """

    __tablename__ = "data_version"
    id: int = Field(default=1, primary_key=True)
    version: int = Field(default=0)


class ReplayKey(SQLModel, table=True):
    """A form submission already written: the client token it carried and the row it wrote.

    A second submission with the same token (a double tap, a resent form) finds this row and
    returns what the first one wrote instead of writing again.
    """

    __table_args__ = (UniqueConstraint("username", "client_token", name="uq_replaykey_token"),)
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=40)
    client_token: str = Field(max_length=64)
    entity: str = Field(max_length=40)
    entity_id: str | None = Field(default=None, max_length=40)
    at: datetime = Field(default_factory=utcnow, index=True)


# --------------------------------------------------------------------------- case addresses


class CaseAddress(SQLModel, table=True):
    """A dated residential address where a positive case lived (a bulletin's compound).

    Its point is WGS-84 and its area the one the point falls in; the Zones page shows these
    places with the countdown their zone would have had.
    """

    __table_args__ = (Index("ix_caseaddress_area_day", "area_id", "day"),)
    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(index=True)
    address: str = Field(max_length=200)
    area_id: int = Field(foreign_key="area.id", index=True)
    lng: float | None = None
    lat: float | None = None
    source: str = Field(default="", max_length=200)


# --------------------------------------------------------------------------- stock balances


class StockBalance(SQLModel, table=True):
    """Current stock of one item at one depot: the ledger's sum, kept in the same transaction.

    Every movement adds its signed quantity here while this row is locked, so reading
    current stock never sums the ledger; `movements` counts the ledger lines summed.
    """

    depot_id: int = Field(foreign_key="depot.id", primary_key=True)
    item_id: int = Field(foreign_key="supplyitem.id", primary_key=True)
    quantity: int = 0
    movements: int = 0
    updated_at: datetime = Field(default_factory=utcnow)


def ordered_tags(tags: Iterable[str]) -> list[str]:
    """Vulnerability tags once each, in the order of the Vulnerability list (unknown ones last)."""
    rank = {tag.value: i for i, tag in enumerate(Vulnerability)}
    return sorted({str(tag) for tag in tags}, key=lambda tag: (rank.get(tag, len(rank)), tag))


def vulnerability_tags(value: str) -> list[str]:
    """Split a comma-separated list of vulnerability tags (as files give them)."""
    return [tag.strip() for tag in value.split(",") if tag.strip()]


# --------------------------------------------------------------------------- sign-in sessions


class UserSession(SQLModel, table=True):
    """A signed-in browser; its cookie refers to this row, which decides whether it still works.

    Only hashes of the cookie's secret and of the one-time hand-over ticket are stored.
    """

    __tablename__ = "user_session"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    # The one-time ticket the browser exchanges for the cookie, and until when it may.
    ticket_hash: str | None = Field(default=None, max_length=64)
    ticket_expires_at: datetime | None = None
    # A fingerprint of the password hash at sign-in: a new password ends the session.
    password_stamp: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None
    end_reason: str | None = Field(default=None, max_length=20)
    client_address: str | None = Field(default=None, max_length=64)


class SignInAttempt(SQLModel, table=True):
    """One sign-in attempt: failures are counted per account and per address for delays."""

    __tablename__ = "sign_in_attempt"
    __table_args__ = (
        Index("ix_signin_account", "account", "at"),
        Index("ix_signin_address", "client_address", "at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    # The username as typed, folded (stripped, case-folded, cut to 80 characters).
    account: str = Field(max_length=80)
    client_address: str | None = Field(default=None, max_length=64)
    succeeded: bool = False


# --------------------------------------------------------------------------- contact follow-up


class ContactTestBase(SQLModel):
    """Shared fields of one test of a contact in quarantine, on one of their test days."""

    __test__ = False
    contact_id: int = Field(foreign_key="contact.id")
    day: date
    result: TestResult = Field(sa_type=_code())


class ContactTest(ContactTestBase, table=True):
    """A contact's test on a day of their quarantine schedule (one per contact and day)."""

    __test__ = False
    __table_args__ = (UniqueConstraint("contact_id", "day", name="uq_contacttest_contact_day"),)
    id: int | None = Field(default=None, primary_key=True)
    recorded_at: datetime = Field(default_factory=utcnow)
    recorded_by: str | None = Field(default=None, max_length=40)


class ContactTestCreate(ContactTestBase):
    """Input for recording a contact's test."""

    __test__ = False


# --------------------------------------------------------------------------- command meeting


class CommandMeeting(SQLModel, table=True):
    """A command meeting marked held, with the overview's figures as they stood then.

    `figures` holds the headline figures (JSON: name → value or null) and `attention` the
    attention list (JSON: [code, name, name_zh, severity, [reason keys]] per grid): several
    of them cannot be recomputed later (see gridcore.analytics.meeting).
    """

    __tablename__ = "command_meeting"
    id: int | None = Field(default=None, primary_key=True)
    held_at: datetime = Field(default_factory=utcnow, index=True)
    held_by: str = Field(max_length=40)
    figures: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    attention: str = Field(default="[]", sa_column=Column(Text, nullable=False))


class AlertAcknowledgement(SQLModel, table=True):
    """Someone has seen an alert in one situation; it stands again when the situation changes."""

    __tablename__ = "alert_acknowledgement"
    __table_args__ = (UniqueConstraint("alert_key", "situation", name="uq_alertack_key_situation"),)
    id: int | None = Field(default=None, primary_key=True)
    alert_key: str = Field(max_length=80)
    situation: str = Field(max_length=200)
    acknowledged_by: str = Field(max_length=40)
    acknowledged_at: datetime = Field(default_factory=utcnow)


# --------------------------------------------------------------------------- counters


class RoundGridCount(SQLModel, table=True):
    """A round's samples in one grid, by result: the records' counts, kept with every write.

    `exempt` counts the samples whose resident is exempt now (not at home; health status
    keeps no history), so a resident's change of status moves it in every round they were
    sampled in. gridcore.services.counters keeps these rows; `verify-counters` checks them.
    """

    round_id: int = Field(foreign_key="testround.id", primary_key=True)
    grid_id: int = Field(foreign_key="area.id", primary_key=True)
    sampled: int = 0
    pending: int = 0
    negative: int = 0
    positive: int = 0
    invalid: int = 0
    exempt: int = 0


class RoundSiteHour(SQLModel, table=True):
    """A round's samples in one hour at one site (site 0: door to door), kept with every
    write (see RoundGridCount). `hour` is the hour's start in whole hours since 1970-01-01
    UTC: a local clock hour wherever the zone's offset is whole hours. The testing page's
    throughput per hour, its pace and its coverage 6, 12 and 24 hours into each round are
    read from these rows instead of counting a round's samples by time."""

    round_id: int = Field(foreign_key="testround.id", primary_key=True)
    site_key: int = Field(primary_key=True)  # the site's id, or 0 for door to door
    hour: int = Field(primary_key=True)
    sampled: int = 0


class GridCount(SQLModel, table=True):
    """A grid's residents, those at home, households, active full-time workers and
    residents with a vulnerability tag, kept with every write (see RoundGridCount)."""

    grid_id: int = Field(foreign_key="area.id", primary_key=True)
    residents: int = 0
    at_home: int = 0
    households: int = 0
    full_time_workers: int = 0
    vulnerable: int = 0  # residents with at least one vulnerability tag
