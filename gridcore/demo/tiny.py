"""The tiny demo world: small enough that every figure can be worked out by hand.

Tests build it with the anchor A = 2026-03-21 (tests/conftest.py TINY_ANCHOR); days
below are written for that anchor, with A-n in brackets. The story's "now" is A at
12:00 local time (Asia/Shanghai: 04:00 UTC, see `now`), "midnight" is the start of A
(local), and "yesterday" is A-1. The tiny world stores one policy setting:
households_per_fulltime_worker = 5 (so that a few households can breach it); every
other policy value is the default.

ANSWER SHEET (every figure the tests assert, and why)

Areas: city T > district T-D > street T-S > communities T-C1, T-C2 > four grids,
square tiles of 0.004° (shapes are GeoJSON Polygons; the street covers all four):

    grid     name / 名称           community  tile lng × lat                      centre
    T-C1-G1  Grid 1-1 第一社区1号网格  T-C1   121.470–121.474 × 31.230–31.234   121.472, 31.232
    T-C1-G2  Grid 1-2 第一社区2号网格  T-C1   121.474–121.478 × 31.230–31.234   121.476, 31.232
    T-C2-G1  Grid 2-1 第二社区1号网格  T-C2   121.470–121.474 × 31.226–31.230   121.472, 31.228
    T-C2-G2  Grid 2-2 第二社区2号网格  T-C2   121.474–121.478 × 31.226–31.230   121.476, 31.228

  bounds of the grids: (121.470, 31.226, 121.478, 31.234).

People ("#n" is the n-th resident of a grid, counting from 0, building 1 first):

    grid     buildings (homes/people)  households  residents  at home
    T-C1-G1  B1 4/10, B2 4/10           8          20         18  (#0 in hospital, #1 isolated)
    T-C1-G2  B1 3/8,  B2 3/8            6          16         15  (#0 in central isolation)
    T-C2-G1  B1 5/13, B2 5/12          10          25         24  (#0 in hospital)
    T-C2-G2  B1 4/10                    4          10          9  (#0 away)
    total    7 buildings               28          71         66

  Vulnerable: G1 #5, #6 elderly alone, #7 disabled (3); G2 #3 chronic illness, #4
  pregnant (2); G3 #3 infant, #4 bedridden, #5 elderly alone + chronic illness
  (3 residents, 4 tags); G4 #3 elderly alone (1).

Workers (full-time ones count for staffing; standard 5 households each):

    T-C1-G1  王丽 FT leader, 李强 FT member, 张敏 volunteer (also G1-2)  → 2 FT, 4.0 per worker
    T-C1-G2  刘洋 part-time, 陈静 volunteer, 张敏, 吴伟 FT but inactive → 0 FT: understaffed
    T-C2-G1  杨军 FT leader, 黄磊 part-time                           → 1 FT, 10.0: understaffed
    T-C2-G2  赵芳 FT member                                           → 1 FT, 4.0
  Understaffed grids: 2.

Cases (counted = confirmed or asymptomatic, not ruled out; community = not found in quarantine):

    C01 T-C2-G1 03-05 (A-16) confirmed     community        recovered
    C02 T-C1-G1 03-11 (A-10) confirmed     community        recovered
    C03 T-C1-G2 03-13 (A-8)  confirmed     screening        recovered
    C04 T-C1-G1 03-16 (A-5)  confirmed     screening        active (G1 #0)
    C05 T-C1-G2 03-17 (A-4)  asymptomatic  quarantine       active (G2 #0)
    C06 T-C1-G1 03-18 (A-3)  asymptomatic  quarantine       active (G1 #1)
    C07 T-C2-G1 03-19 (A-2)  confirmed     quarantine       active (G3 #0)
    C08 T-C1-G1 03-20 (A-1)  asymptomatic  quarantine       active
    C09 T-C2-G1 03-20 (A-1)  suspected     community        active     ← not counted
    C10 T-C1-G1 03-21 (A)    confirmed     mass testing     active (G1 #2, positive in Round 2)
    C11 T-C2-G1 03-21 (A)    asymptomatic  quarantine       active
    C12 T-C2-G2 03-21 (A)    suspected     community        ruled out  ← not counted

  New today 2 (C10, C11), yesterday 1 (C08); outside quarantine today 1 (C10),
  yesterday 0. Active 7 (C04–C08, C10, C11); reported by yesterday and active 5.
  Last 7 days (03-15..03-21): 7 cases, 2 outside quarantine (C04, C10), so 5/7 found
  in quarantine; the 7 days before (03-08..03-14): 2 (C02, C03) → doubling time
  7·ln2 / ln(7/2) = 3.873 days.

Contacts (close: 7 + 3 = 10 days, secondary: 7 days, as the default policy says):

    K01 G1-1 close     central C02 03-11 → 03-21  in quarantine (ends today)
    K02 G1-1 close     central C02 03-11 → 03-21  in quarantine (ends today)
    K03 G1-1 close     home    C04 03-16 → 03-26  in quarantine (G1 #15)
    K04 G1-1 secondary home    C04 03-17 → 03-24  in quarantine (G1 #16)
    K05 G1-1 close     central C01 03-10 → 03-20  released
    K06 G1-1 close     central C02 03-12 → 03-22  became case C06
    K07 G1-2 close     central C03 03-13 → 03-23  in quarantine
    K08 G1-2 close     central C01 03-06 → 03-16  released
    K09 G2-1 close     central C07 03-19 → 03-29  in quarantine
    K10 G2-1 secondary home    C07 03-21 → 03-28  in quarantine (G3 #20)
    K11 G1-2 secondary home    C10 03-21 → 03-28  in quarantine (G2 #14)
    K12 G1-2 close     central C03 03-13 → 03-23  became case C05
    K13 G2-1 close     central C07 03-19 → 03-29  became case C11
    K14 G1-1 close     central C04 03-16 → 03-26  became case C08

  In quarantine now 8 (G1 4, G2 2, G3 2, G4 0); due to end today 2 (K01, K02, in G1).
  On a day d (trend, and "previous" for yesterday) a contact counts when its start ≤ d ≤
  planned end and it did not become a case: 03-15 5, 03-16 6, 03-17 6, 03-18 6,
  03-19 7, 03-20 7, 03-21 8.

Zone orders: T-C1-G1 sealed since 03-16 (A-5); T-C1-G2 controlled since 03-14 (A-7);
T-C2-G1 precaution 03-01..03-10 (lifted: not in force); building T-C2-G1-B1
controlled since 03-19 (a building order: the grid's zone level stays '').
  Step-down: G1 quiet since max(03-16, last community case 03-21) → 0 days, 7 left;
  G2 quiet since max(03-14, 03-13) → 7 days, 0 left: may step down today.

Testing: Round 1 (03-18 08:00 → deadline 03-19 08:00, closed 03-18 20:00) over all
four grids, all negative, at "Community 1 hall" (64 samples): G1 18, G2 15, G3 22,
G4 9 of 66 at home. Round 2 (today 07:00 → tomorrow 07:00, in progress) over G1–G3:

    grid     expected  sampled  coverage  positive  negative  pending  door to door
    T-C1-G1  18        9        0.50      1         5         3        2
    T-C1-G2  15        12       0.80      0         10        2        0
    T-C2-G1  24        18       0.75      0         12        6        0
    total    57        39       39/57     1         27        11

  Sites of Round 2: "Site A, Community 1 square" 19 sampled (G1 7 + G2 12),
  "Site B, Community 2 school" 18. T-C2-G2's latest round is Round 1: coverage 9/9.
  Headline coverage: now Round 2, 39/57 = 0.684; no previous figure (Round 2 started
  today; Round 1 ended at 64/66 = 0.970).

Supplies: items MASK (min 20), KIT (min 10), RICE (min 5); depots "Tiny Street
depot" (street, T-S) and "Grid 1-1 depot" (grid, T-C1-G1); depot minimums: street
MASK 100, grid KIT 20. Ledger (local times):

    street MASK +500 receipt 03-10, −100 to grid 03-14, −50 issue 03-18   = 350 (min 100)
    street KIT  +200 receipt 03-12, −60 to grid 03-16                     = 140 (min 10)
    grid   MASK +100 from street 03-14, −10 issued 10:00 daily 03-15..21  =  30 (min 20)
    grid   KIT  +60 from street 03-16, −8 issued 03-17..21, −2 adj. 03-20 =  18 (min 20) BELOW
    grid   RICE +20 receipt 03-19                                         =  20 (min 5)

  Items below minimum: 1 (grid depot); at midnight grid KIT was 26: 0 below.
  Days of cover (issues in the 7 days before now): street MASK 350/(50/7) = 49.0,
  grid MASK 30/(70/7) = 3.0, grid KIT 18/(40/7) = 3.15, the rest None.

Requests (age in hours at now; targets: urgent medical care 2 h, medicine 24 h,
food 24 h, other 72 h):

    R01 G1-1 medical care urgent  3 h  new          overdue
    R02 G1-1 medical care urgent  1 h  assigned
    R03 G1-1 medicine             30 h in progress  overdue
    R04 G1-1 food                 40 h done 2 h ago (open and overdue at midnight)
    R05 G1-2 food                 20 h new
    R06 G1-2 other                80 h assigned     overdue (not yet at midnight: 68 h)
    R07 G2-1 medicine             26 h new          overdue
    R08 G2-1 food urgent          25 h new          overdue
    R09 G2-1 other                50 h in progress
    R10 G2-1 medicine             100 h cancelled   (no time: never counted)
    R11 G2-2 other                5 h  new

  Open now 9 (G1 3, G2 2, G3 3, G4 1), overdue 5 (G1 2, G2 1, G3 2); at midnight
  open 7 (R03–R09), overdue 1 (R04).

Tasks (due relative to now): G1 door-to-door +6 h open, survey −2 h in progress
(overdue), disinfection done; G2 delivery −1 h open (overdue), visit with no due
time; G3 delivery −30 h (overdue), information +24 h, visit cancelled; G4 visit
+48 h. Open 2/2/2/1, overdue 1/1/1/0.

Per-grid results (grid_metrics at A, now):

    grid     new today  new 7d  active  incidence  community 7d  days since  in quar.
    T-C1-G1  1          4       4       2000.0     2             0           4
    T-C1-G2  0          1       1       625.0      0             8           2
    T-C2-G1  1          2       2       800.0      0             16          2
    T-C2-G2  0          0       0       0.0        0             NaN         0

    grid     round  coverage  requests open/overdue  tasks open/overdue  FT  hh/FT  zone
    T-C1-G1  2      0.50      3/2                    2/1                 2   4.0    sealed
    T-C1-G2  2      0.80      2/1                    2/1                 0   NaN    controlled
    T-C2-G1  2      0.75      3/2                    2/1                 1   10.0   ''
    T-C2-G2  1      1.00      1/0                    1/0                 1   4.0    ''

  Understaffed: G2 and G3. Risk: G1 high, G2 medium, G3 low, G4 normal.

  Risk reasons, most severe first (Round 2 is in progress, so its coverage is no reason):
    G1 high: zone_sealed, incidence_7d (2000.0, 4 cases), community_cases_7d (2),
       active_cases (4), overdue_requests (2)
    G2 medium: zone_controlled, active_cases.one, overdue_requests.one, no_fulltime_worker
    G3 low: active_cases (2), overdue_requests (2), households_per_worker (10.0, standard 5)
    G4 normal: none

Needs attention: G1 high (its reasons + contacts_end_today 2 + supplies_below_min.one
at "Grid 1-1 depot"), G2 medium (its reasons + stepdown_controlled 7 days), G3 low
(its reasons). G4 is not listed.

Headline (value, previous): new cases 2/1, outside quarantine 1/0, active 7/5, in
quarantine 8/7, coverage 39/57 / none ("Round 2"), open requests 9/7, overdue 5/1,
supplies below minimum 1/0, understaffed grids 2/None.

Accounts: admin, leader, worker (scope T-C1-G1), viewer; password gridcore-demo.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from gridcore.config import get_settings, local_today
from gridcore.demo.accounts import create_demo_accounts
from gridcore.models import (
    Area,
    AreaLevel,
    Building,
    Case,
    CaseKind,
    CaseStatus,
    Contact,
    ContactStatus,
    ContactType,
    Depot,
    DepotLevel,
    DepotMinimum,
    Employment,
    FoundVia,
    HealthStatus,
    Household,
    MovementKind,
    PolicySetting,
    QuarantinePlace,
    RequestCategory,
    RequestStatus,
    Resident,
    ResidentRequest,
    ResidentVulnerability,
    SamplingMethod,
    ServiceGroup,
    Sex,
    StockMovement,
    SupplyItem,
    Task,
    TaskKind,
    TaskStatus,
    TestRecord,
    TestResult,
    TestRound,
    TestRoundArea,
    TestSite,
    Urgency,
    Vulnerability,
    Worker,
    WorkerGrid,
    WorkerRole,
    ZoneLevel,
    ZoneOrder,
    vulnerability_tags,
)
from gridcore.policy import encode
from gridcore.services.counters import rebuild_counters

WORKER_GRID = "T-C1-G1"  # the grid of the demo account "worker"
NOW_TIME = time(12, 0)  # the story's "now": the anchor day at noon, local time
# The tiny world's staffing standard, small so that a handful of households can breach it.
HOUSEHOLDS_PER_FULLTIME_WORKER = 5

G1, G2, G3, G4 = "T-C1-G1", "T-C1-G2", "T-C2-G1", "T-C2-G2"
TILE = 0.004  # degrees; each grid is a square tile of about 380 m × 445 m
ORIGIN = (121.470, 31.226)  # south-west corner of the street


@dataclass(frozen=True)
class _GridSpec:
    code: str
    name: str
    name_zh: str
    community: str
    column: int
    row: int
    buildings: tuple[tuple[int, int], ...]  # (households, residents) per building


_GRIDS: tuple[_GridSpec, ...] = (
    _GridSpec(G1, "Grid 1-1", "第一社区1号网格", "T-C1", 0, 1, ((4, 10), (4, 10))),
    _GridSpec(G2, "Grid 1-2", "第一社区2号网格", "T-C1", 1, 1, ((3, 8), (3, 8))),
    _GridSpec(G3, "Grid 2-1", "第二社区1号网格", "T-C2", 0, 0, ((5, 13), (5, 12))),
    _GridSpec(G4, "Grid 2-2", "第二社区2号网格", "T-C2", 1, 0, ((4, 10),)),
)

# (grid, resident number within the grid) → health status; everyone else is at home.
_NOT_AT_HOME: dict[tuple[str, int], HealthStatus] = {
    (G1, 0): HealthStatus.in_hospital,
    (G1, 1): HealthStatus.central_isolation,
    (G2, 0): HealthStatus.central_isolation,
    (G3, 0): HealthStatus.in_hospital,
    (G4, 0): HealthStatus.away,
}
_VULNERABLE: dict[tuple[str, int], str] = {
    (G1, 5): "elderly_alone",
    (G1, 6): "elderly_alone",
    (G1, 7): "disabled",
    (G2, 3): "chronic_illness",
    (G2, 4): "pregnant",
    (G3, 3): "infant",
    (G3, 4): "bedridden",
    (G3, 5): "elderly_alone,chronic_illness",
    (G4, 3): "elderly_alone",
}
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗"
_GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋",
          "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞", "平")  # fmt: skip

# name, role, employment, service group, grids, active
_WorkerSpec = tuple[str, WorkerRole, Employment, ServiceGroup | None, tuple[str, ...], bool]
_WORKERS: tuple[_WorkerSpec, ...] = (
    ("王丽", WorkerRole.grid_leader, Employment.full_time, None, (G1,), True),
    ("李强", WorkerRole.grid_member, Employment.full_time, None, (G1,), True),
    ("张敏", WorkerRole.volunteer, Employment.volunteer, ServiceGroup.special_population_care,
     (G1, G2), True),
    ("刘洋", WorkerRole.grid_member, Employment.part_time, None, (G2,), True),
    ("陈静", WorkerRole.volunteer, Employment.volunteer, ServiceGroup.material_purchase, (G2,),
     True),
    ("杨军", WorkerRole.grid_leader, Employment.full_time, None, (G3,), True),
    ("黄磊", WorkerRole.grid_member, Employment.part_time, None, (G3,), True),
    ("赵芳", WorkerRole.grid_member, Employment.full_time, None, (G4,), True),
    ("吴伟", WorkerRole.chief_grid_manager, Employment.full_time, None, (G2,), False),
)  # fmt: skip

# label, grid, day (relative to the anchor), kind, status, found via, resident number or None
_CASES: tuple[tuple[str, str, int, CaseKind, CaseStatus, FoundVia, int | None], ...] = (
    ("C01", G3, -16, CaseKind.confirmed, CaseStatus.recovered, FoundVia.community, None),
    ("C02", G1, -10, CaseKind.confirmed, CaseStatus.recovered, FoundVia.community, None),
    ("C03", G2, -8, CaseKind.confirmed, CaseStatus.recovered, FoundVia.screening, None),
    ("C04", G1, -5, CaseKind.confirmed, CaseStatus.active, FoundVia.screening, 0),
    ("C05", G2, -4, CaseKind.asymptomatic, CaseStatus.active, FoundVia.quarantine, 0),
    ("C06", G1, -3, CaseKind.asymptomatic, CaseStatus.active, FoundVia.quarantine, 1),
    ("C07", G3, -2, CaseKind.confirmed, CaseStatus.active, FoundVia.quarantine, 0),
    ("C08", G1, -1, CaseKind.asymptomatic, CaseStatus.active, FoundVia.quarantine, None),
    ("C09", G3, -1, CaseKind.suspected, CaseStatus.active, FoundVia.community, None),
    ("C10", G1, 0, CaseKind.confirmed, CaseStatus.active, FoundVia.mass_testing, 2),
    ("C11", G3, 0, CaseKind.asymptomatic, CaseStatus.active, FoundVia.quarantine, None),
    ("C12", G4, 0, CaseKind.suspected, CaseStatus.discarded, FoundVia.community, None),
)  # fmt: skip

# label, grid, type, place, source case, start day, planned end day, status, resident number
_CONTACTS: tuple[
    tuple[str, str, ContactType, QuarantinePlace, str, int, int, ContactStatus, int | None], ...
] = (
    ("K01", G1, ContactType.close, QuarantinePlace.central, "C02", -10, 0,
     ContactStatus.in_quarantine, None),
    ("K02", G1, ContactType.close, QuarantinePlace.central, "C02", -10, 0,
     ContactStatus.in_quarantine, None),
    ("K03", G1, ContactType.close, QuarantinePlace.home, "C04", -5, 5,
     ContactStatus.in_quarantine, 15),
    ("K04", G1, ContactType.secondary, QuarantinePlace.home, "C04", -4, 3,
     ContactStatus.in_quarantine, 16),
    ("K05", G1, ContactType.close, QuarantinePlace.central, "C01", -11, -1,
     ContactStatus.released, None),
    ("K06", G1, ContactType.close, QuarantinePlace.central, "C02", -9, 1,
     ContactStatus.became_case, 1),
    ("K07", G2, ContactType.close, QuarantinePlace.central, "C03", -8, 2,
     ContactStatus.in_quarantine, None),
    ("K08", G2, ContactType.close, QuarantinePlace.central, "C01", -15, -5,
     ContactStatus.released, None),
    ("K09", G3, ContactType.close, QuarantinePlace.central, "C07", -2, 8,
     ContactStatus.in_quarantine, None),
    ("K10", G3, ContactType.secondary, QuarantinePlace.home, "C07", 0, 7,
     ContactStatus.in_quarantine, 20),
    ("K11", G2, ContactType.secondary, QuarantinePlace.home, "C10", 0, 7,
     ContactStatus.in_quarantine, 14),
    ("K12", G2, ContactType.close, QuarantinePlace.central, "C03", -8, 2,
     ContactStatus.became_case, 0),
    ("K13", G3, ContactType.close, QuarantinePlace.central, "C07", -2, 8,
     ContactStatus.became_case, None),
    ("K14", G1, ContactType.close, QuarantinePlace.central, "C04", -5, 5,
     ContactStatus.became_case, None),
)  # fmt: skip

# Round 2 (today, in progress): grid → (sampled, positive, negative, pending, door to door).
_ROUND2: dict[str, tuple[int, int, int, int, int]] = {
    G1: (9, 1, 5, 3, 2),
    G2: (12, 0, 10, 2, 0),
    G3: (18, 0, 12, 6, 0),
}
# Round 1 (three days ago, closed): grid → sampled, all negative.
_ROUND1: dict[str, int] = {G1: 18, G2: 15, G3: 22, G4: 9}

# label, grid, category, urgency, hours before now created, status, hours before now done
_REQUESTS: tuple[tuple[str, str, RequestCategory, Urgency, int, RequestStatus, int | None], ...] = (
    ("R01", G1, RequestCategory.medical_care, Urgency.urgent, 3, RequestStatus.new, None),
    ("R02", G1, RequestCategory.medical_care, Urgency.urgent, 1, RequestStatus.assigned, None),
    ("R03", G1, RequestCategory.medicine, Urgency.normal, 30, RequestStatus.in_progress, None),
    ("R04", G1, RequestCategory.food, Urgency.normal, 40, RequestStatus.done, 2),
    ("R05", G2, RequestCategory.food, Urgency.normal, 20, RequestStatus.new, None),
    ("R06", G2, RequestCategory.other, Urgency.normal, 80, RequestStatus.assigned, None),
    ("R07", G3, RequestCategory.medicine, Urgency.normal, 26, RequestStatus.new, None),
    ("R08", G3, RequestCategory.food, Urgency.urgent, 25, RequestStatus.new, None),
    ("R09", G3, RequestCategory.other, Urgency.normal, 50, RequestStatus.in_progress, None),
    ("R10", G3, RequestCategory.medicine, Urgency.normal, 100, RequestStatus.cancelled, None),
    ("R11", G4, RequestCategory.other, Urgency.normal, 5, RequestStatus.new, None),
)  # fmt: skip
_REQUEST_WORKER: dict[str, int] = {"R02": 0, "R03": 1, "R06": 3, "R09": 6}

# grid, kind, status, due (hours after now; None: no due time), worker number, request
# Task titles in English and Chinese.
_TASK_TITLES: dict[TaskKind, tuple[str, str]] = {
    TaskKind.door_to_door_testing: ("Door-to-door sampling", "上门采样"),
    TaskKind.vulnerable_visit: ("Visit vulnerable residents", "重点人群探访"),
    TaskKind.delivery: ("Delivery", "物资配送"),
    TaskKind.epidemiological_survey: ("Epidemiological survey", "流行病学调查"),
    TaskKind.disinfection: ("Terminal disinfection", "终末消杀"),
    TaskKind.information_collection: ("Household registration", "入户信息登记"),
}
_TASKS: tuple[tuple[str, TaskKind, TaskStatus, int | None, int, str | None], ...] = (
    (G1, TaskKind.door_to_door_testing, TaskStatus.open, 6, 1, None),
    (G1, TaskKind.epidemiological_survey, TaskStatus.in_progress, -2, 0, None),
    (G1, TaskKind.disinfection, TaskStatus.done, -20, 1, None),
    (G2, TaskKind.delivery, TaskStatus.open, -1, 3, "R05"),
    (G2, TaskKind.vulnerable_visit, TaskStatus.open, None, 2, None),
    (G3, TaskKind.delivery, TaskStatus.open, -30, 6, "R07"),
    (G3, TaskKind.information_collection, TaskStatus.open, 24, 5, None),
    (G3, TaskKind.vulnerable_visit, TaskStatus.cancelled, -5, 5, None),
    (G4, TaskKind.vulnerable_visit, TaskStatus.open, 48, 7, None),
)  # fmt: skip


def now(*, anchor: date) -> datetime:
    """The story's fixed 'now' (the anchor day at 12:00 local time), in UTC."""
    return _local(anchor, NOW_TIME.hour, NOW_TIME.minute)


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    """A local wall-clock moment as an aware UTC datetime."""
    moment = datetime.combine(day, time(hour, minute), tzinfo=get_settings().tz)
    return moment.astimezone(UTC)


def _id(row: Any) -> int:
    """The primary key of a flushed row."""
    assert row.id is not None, f"{type(row).__name__} not flushed"
    return int(row.id)


def _square(west: float, south: float, columns: int = 1, rows: int = 1) -> str:
    east, north = round(west + columns * TILE, 6), round(south + rows * TILE, 6)
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


@dataclass
class _World:
    """What later sections of the build refer to."""

    anchor: date
    session: Session
    areas: dict[str, Area] = field(default_factory=dict)
    buildings: dict[str, list[Building]] = field(default_factory=dict)
    residents: dict[tuple[str, int], Resident] = field(default_factory=dict)
    workers: list[Worker] = field(default_factory=list)
    cases: dict[str, Case] = field(default_factory=dict)
    requests: dict[str, ResidentRequest] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def day(self, offset: int) -> date:
        return self.anchor + timedelta(days=offset)

    def gid(self, code: str) -> int:
        return _id(self.areas[code])

    def resident(self, code: str, number: int | None) -> Resident | None:
        return None if number is None else self.residents[(code, number)]

    def at_home(self, code: str) -> list[Resident]:
        return [
            r
            for (g, _), r in self.residents.items()
            if g == code and r.health_status == HealthStatus.at_home
        ]

    def add_all(self, name: str, rows: list[Any]) -> None:
        self.session.add_all(rows)
        self.session.flush()
        self.counts[name] = self.counts.get(name, 0) + len(rows)


def build(*, engine: Engine, anchor: date | None) -> dict[str, int]:
    """Fill an empty, migrated database with the tiny world; return its row counts."""
    with Session(engine, expire_on_commit=False) as session:
        world = _World(anchor=anchor or local_today(), session=session)
        _add_areas(world)
        _add_people(world)
        _add_workers(world)
        _add_epidemic(world)
        _add_testing(world)
        _add_supplies(world)
        _add_requests_and_tasks(world)
        session.add(
            PolicySetting(
                key="households_per_fulltime_worker",
                value=encode(HOUSEHOLDS_PER_FULLTIME_WORKER),
                updated_by="demo",
            )
        )
        session.flush()
        # The world is written past the services that keep the counters: count it once.
        rebuild_counters(session.connection())
        session.commit()
        create_demo_accounts(session, worker_grid_code=WORKER_GRID)
    return {**world.counts, "users": 4}


def _add_areas(world: _World) -> None:
    west, south = ORIGIN
    households = {g.code: sum(h for h, _ in g.buildings) for g in _GRIDS}
    total = sum(households.values())
    # code, name, name_zh, level, parent, west, south, columns, rows, households
    layout: list[tuple[str, str, str, AreaLevel, str | None, float, float, int, int, int]] = [
        ("T", "Tiny City", "微城市", AreaLevel.city, None, west, south, 2, 2, total),
        ("T-D", "Tiny District", "微区", AreaLevel.district, "T", west, south, 2, 2, total),
        ("T-S", "Tiny Street", "微街道", AreaLevel.street, "T-D", west, south, 2, 2, total),
        ("T-C1", "Community 1", "第一社区", AreaLevel.community, "T-S", west,
         round(south + TILE, 6), 2, 1, households[G1] + households[G2]),
        ("T-C2", "Community 2", "第二社区", AreaLevel.community, "T-S", west, south, 2, 1,
         households[G3] + households[G4]),
    ]  # fmt: skip
    layout += [
        (g.code, g.name, g.name_zh, AreaLevel.grid, g.community,
         round(west + g.column * TILE, 6), round(south + g.row * TILE, 6), 1, 1,
         households[g.code])
        for g in _GRIDS
    ]  # fmt: skip
    for code, name, name_zh, level, parent, x, y, columns, rows, homes in layout:
        area = Area(
            code=code,
            name=name,
            name_zh=name_zh,
            level=level,
            parent_id=world.gid(parent) if parent else None,
            shape=_square(x, y, columns, rows),
            center_lng=round(x + columns * TILE / 2, 6),
            center_lat=round(y + rows * TILE / 2, 6),
            households=homes,
        )
        world.areas[code] = area
        world.add_all("areas", [area])


def _add_people(world: _World) -> None:
    person = 0  # across the whole world, for distinct names and numbers
    for spec in _GRIDS:
        grid = world.areas[spec.code]
        lng, lat = grid.center_lng or 0.0, grid.center_lat or 0.0
        number = 0  # within the grid: the "#n" of the answer sheet
        for b, (n_homes, n_people) in enumerate(spec.buildings, start=1):
            building = Building(
                code=f"{spec.code}-B{b}",
                name=f"Building {b}",
                name_zh=f"{spec.name_zh}{b}号楼",
                grid_id=world.gid(spec.code),
                lng=round(lng - TILE / 4 + (b - 1) * TILE / 2, 6),
                lat=lat,
                address=f"{spec.name}, building {b}",
            )
            world.add_all("buildings", [building])
            world.buildings.setdefault(spec.code, []).append(building)
            homes = [
                Household(building_id=_id(building), grid_id=world.gid(spec.code),
                          unit=f"{b}-{101 + k}")
                for k in range(n_homes)
            ]  # fmt: skip
            world.add_all("households", homes)
            people = []
            tagged: list[tuple[Resident, list[str]]] = []
            for k in range(n_people):
                tags = _VULNERABLE.get((spec.code, number), "")
                resident = Resident(
                    household_id=_id(homes[k % n_homes]),
                    grid_id=world.gid(spec.code),
                    building_id=_id(building),
                    name=_SURNAMES[person % 20] + _GIVEN[(person // 20 + person) % 20],
                    id_number_masked=f"310{'*' * 11}{1000 + person}",
                    id_suffix=str(1000 + person),
                    phone=f"1390000{1000 + person}",
                    birth_year=1940 if "elderly" in tags else 1950 + (person * 7) % 70,
                    sex=Sex.female if person % 2 == 0 else Sex.male,
                    health_status=_NOT_AT_HOME.get((spec.code, number), HealthStatus.at_home),
                )
                world.residents[(spec.code, number)] = resident
                people.append(resident)
                tagged.append((resident, vulnerability_tags(tags)))
                number += 1
                person += 1
            world.add_all("residents", people)
            world.add_all(
                "resident_vulnerabilities",
                [
                    ResidentVulnerability(resident_id=_id(r), tag=Vulnerability(tag))
                    for r, resident_tags in tagged
                    for tag in resident_tags
                ],
            )


def _add_workers(world: _World) -> None:
    for i, (name, role, employment, group, _, active) in enumerate(_WORKERS):
        world.workers.append(
            Worker(name=name, phone=f"1380000{2000 + i}", role=role, employment=employment,
                   service_group=group, active=active)
        )  # fmt: skip
    world.add_all("workers", world.workers)
    world.session.add_all(
        WorkerGrid(worker_id=_id(worker), grid_id=world.gid(code))
        for worker, spec in zip(world.workers, _WORKERS, strict=True)
        for code in spec[4]
    )


def _add_epidemic(world: _World) -> None:
    for label, code, offset, kind, status, found_via, number in _CASES:
        patient = world.resident(code, number)
        world.cases[label] = Case(
            resident_id=patient.id if patient else None,
            address=None if patient else f"{world.areas[code].name}, building 2 (case {label})",
            grid_id=world.gid(code),
            building_id=patient.building_id if patient else _id(world.buildings[code][-1]),
            kind=kind,
            status=status,
            reported_date=world.day(offset),
            found_via=found_via,
            note=label,
            created_at=_local(world.day(offset), 9),
        )
    world.add_all("cases", list(world.cases.values()))
    contacts = []
    for label, code, ctype, place, source, start, end, contact_status, number in _CONTACTS:
        person = world.resident(code, number)
        contacts.append(
            Contact(
                case_id=world.cases[source].id,
                resident_id=person.id if person else None,
                person_name=person.name if person else f"Contact {label}",
                grid_id=world.gid(code),
                contact_type=ctype,
                identified_date=world.day(start),
                quarantine_place=place,
                start_date=world.day(start),
                planned_end_date=world.day(end),
                status=contact_status,
            )
        )
    world.add_all("contacts", contacts)
    world.add_all(
        "zone_orders",
        [
            ZoneOrder(area_id=world.gid(G1), level=ZoneLevel.sealed, start_date=world.day(-5),
                      reason="Community case C04"),
            ZoneOrder(area_id=world.gid(G2), level=ZoneLevel.controlled,
                      start_date=world.day(-7), reason="Community case C03"),
            ZoneOrder(area_id=world.gid(G3), level=ZoneLevel.precaution,
                      start_date=world.day(-20), end_date=world.day(-11),
                      reason="Case C01 nearby (lifted)"),
            ZoneOrder(building_id=_id(world.buildings[G3][0]), level=ZoneLevel.controlled,
                      start_date=world.day(-2), reason="Home of case C07"),
        ],
    )  # fmt: skip


def _add_testing(world: _World) -> None:
    round1 = TestRound(
        name="Round 1",
        name_zh="第1轮全员核酸",
        start_at=_local(world.day(-3), 8),
        deadline_at=_local(world.day(-2), 8),
        closed_at=_local(world.day(-3), 20),
    )
    round2 = TestRound(
        name="Round 2",
        name_zh="第2轮全员核酸",
        start_at=_local(world.day(0), 7),
        deadline_at=_local(world.day(1), 7),
    )
    world.add_all("test_rounds", [round1, round2])
    world.session.add_all(
        [TestRoundArea(round_id=_id(round1), grid_id=world.gid(c)) for c in _ROUND1]
        + [TestRoundArea(round_id=_id(round2), grid_id=world.gid(c)) for c in _ROUND2]
    )
    c1, c2 = world.areas["T-C1"], world.areas["T-C2"]

    def new_site(
        test_round: TestRound, name: tuple[str, str], community: Area, capacity: int
    ) -> TestSite:
        return TestSite(
            round_id=_id(test_round),
            name=name[0],
            name_zh=name[1],
            area_id=community.id,
            lng=community.center_lng,
            lat=community.center_lat,
            hourly_capacity=capacity,
            desks=2,
        )

    hall = new_site(round1, ("Community 1 hall", "第一社区活动室"), c1, 300)
    site_a = new_site(round2, ("Site A, Community 1 square", "第一社区广场 A采样点"), c1, 240)
    site_b = new_site(round2, ("Site B, Community 2 school", "第二社区小学 B采样点"), c2, 240)
    world.add_all("test_sites", [hall, site_a, site_b])

    records: list[TestRecord] = []
    for code, sampled in _ROUND1.items():
        for person in world.at_home(code)[:sampled]:
            moment = round1.start_at + timedelta(minutes=5 * len(records))
            records.append(
                TestRecord(round_id=_id(round1), resident_id=_id(person),
                           grid_id=world.gid(code), site_id=hall.id, sampled_at=moment,
                           result=TestResult.negative, result_at=moment + timedelta(hours=6))
            )  # fmt: skip
    first = len(records)
    for code, (sampled, positive, negative, pending, door) in _ROUND2.items():
        results = (
            [TestResult.positive] * positive
            + [TestResult.negative] * negative
            + [TestResult.pending] * pending
        )
        site = site_a if code in (G1, G2) else site_b
        for k, person in enumerate(world.at_home(code)[:sampled]):
            moment = round2.start_at + timedelta(minutes=5 * (len(records) - first))
            by_door = k >= sampled - door
            done = results[k] != TestResult.pending
            records.append(
                TestRecord(
                    round_id=_id(round2), resident_id=_id(person), grid_id=world.gid(code),
                    site_id=None if by_door else site.id,
                    method=SamplingMethod.door_to_door if by_door else SamplingMethod.site,
                    sampled_at=moment, result=results[k],
                    result_at=moment + timedelta(hours=1) if done else None,
                )
            )  # fmt: skip
    world.add_all("test_records", records)


def _add_supplies(world: _World) -> None:
    items = {
        "MASK": SupplyItem(code="MASK", name="Medical masks", name_zh="医用口罩", unit="box",
                           category="protection", min_stock=20),
        "KIT": SupplyItem(code="KIT", name="Antigen test kits", name_zh="抗原检测试剂",
                          unit="box", category="testing", min_stock=10),
        "RICE": SupplyItem(code="RICE", name="Rice (10 kg)", name_zh="大米（10公斤）", unit="bag",
                           category="food", min_stock=5),
    }  # fmt: skip
    world.add_all("supply_items", list(items.values()))
    street, g1 = world.areas["T-S"], world.areas[G1]
    street_depot = Depot(
        name="Tiny Street depot",
        name_zh="微街道物资仓库",
        area_id=_id(street),
        level=DepotLevel.street,
        lng=street.center_lng,
        lat=street.center_lat,
    )
    grid_depot = Depot(
        name="Grid 1-1 depot",
        name_zh="第一社区1号网格物资点",
        area_id=_id(g1),
        level=DepotLevel.grid,
        lng=g1.center_lng,
        lat=round((g1.center_lat or 0.0) - TILE / 4, 6),
    )
    world.add_all("depots", [street_depot, grid_depot])
    world.session.add_all([
        DepotMinimum(depot_id=_id(street_depot), item_id=_id(items["MASK"]), min_stock=100),
        DepotMinimum(depot_id=_id(grid_depot), item_id=_id(items["KIT"]), min_stock=20),
    ])  # fmt: skip

    day = world.day
    # depot, item, kind, quantity, when, counterpart, note
    ledger: list[tuple[Depot, str, MovementKind, int, datetime, Depot | None, str | None]] = [
        (street_depot, "MASK", MovementKind.receipt, 500, _local(day(-11), 9), None, None),
        (street_depot, "KIT", MovementKind.receipt, 200, _local(day(-9), 9), None, None),
        (street_depot, "MASK", MovementKind.transfer_out, -100, _local(day(-7), 15), grid_depot,
         None),
        (grid_depot, "MASK", MovementKind.transfer_in, 100, _local(day(-7), 15), street_depot,
         None),
        (street_depot, "KIT", MovementKind.transfer_out, -60, _local(day(-5), 9, 30), grid_depot,
         None),
        (grid_depot, "KIT", MovementKind.transfer_in, 60, _local(day(-5), 9, 30), street_depot,
         None),
        (street_depot, "MASK", MovementKind.issue, -50, _local(day(-3), 10), None, None),
    ]  # fmt: skip
    ledger += [
        (grid_depot, "MASK", MovementKind.issue, -10, _local(day(d), 10), None, None)
        for d in range(-6, 1)
    ]
    ledger += [
        (grid_depot, "KIT", MovementKind.issue, -8, _local(day(d), 10), None, None)
        for d in range(-4, 1)
    ]
    ledger += [
        (grid_depot, "KIT", MovementKind.adjustment, -2, _local(day(-1), 18), None, "damaged"),
        (grid_depot, "RICE", MovementKind.receipt, 20, _local(day(-2), 9), None, None),
    ]
    world.add_all(
        "stock_movements",
        [
            StockMovement(item_id=_id(items[item]), depot_id=_id(depot), kind=kind,
                          quantity=quantity, occurred_at=when,
                          counterpart_depot_id=other.id if other else None, note=note,
                          created_by="demo")
            for depot, item, kind, quantity, when, other, note in ledger
        ],
    )  # fmt: skip


def _add_requests_and_tasks(world: _World) -> None:
    moment = now(anchor=world.anchor)
    for label, code, category, urgency, age, status, done in _REQUESTS:
        asker = world.residents[(code, 4)]
        helper = world.workers[_REQUEST_WORKER[label]] if label in _REQUEST_WORKER else None
        created = moment - timedelta(hours=age)
        world.requests[label] = ResidentRequest(
            household_id=asker.household_id,
            resident_id=asker.id,
            grid_id=world.gid(code),
            category=category,
            urgency=urgency,
            description=f"Request {label}",
            status=status,
            assigned_worker_id=helper.id if helper else None,
            created_at=created,
            assigned_at=created + timedelta(minutes=30) if helper else None,
            done_at=moment - timedelta(hours=done) if done is not None else None,
        )
    world.add_all("requests", list(world.requests.values()))
    tasks = []
    for code, kind, task_status, due, worker, request in _TASKS:
        tasks.append(
            Task(
                grid_id=world.gid(code),
                kind=kind,
                title=f"{_TASK_TITLES[kind][0]}: {world.areas[code].name}",
                title_zh=f"{_TASK_TITLES[kind][1]}：{world.areas[code].name_zh}",
                assigned_worker_id=_id(world.workers[worker]),
                due_at=moment + timedelta(hours=due) if due is not None else None,
                request_id=world.requests[request].id if request else None,
                status=task_status,
                created_at=moment - timedelta(hours=36),
                done_at=moment - timedelta(hours=22) if task_status == TaskStatus.done else None,
            )
        )
    world.add_all("tasks", tasks)
