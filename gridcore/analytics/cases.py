"""Epidemic figures: which cases count, incidence, doubling time, quarantine timers, step-down.

A *case* in every figure is an infection: kind confirmed or asymptomatic, and not
ruled out. Suspected cases are followed on the Cases page but counted nowhere.
A *community case* is one not found inside quarantine (found by community
screening, mass testing or anywhere else in the community): it is what tells an
area's spread. A reclassified case (an earlier asymptomatic one, now confirmed) is not new.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import pandas as pd

from gridcore.models import CaseKind, CaseStatus, ContactType, FoundVia
from gridcore.policy import Policy

COUNTED_KINDS: tuple[str, ...] = (CaseKind.confirmed, CaseKind.asymptomatic)
NOT_COUNTED_STATUS: str = CaseStatus.discarded
QUARANTINE_FOUND: str = FoundVia.quarantine
WINDOW_DAYS = 7


def is_counted_case(*, kind: str, status: str) -> bool:
    """Whether a case is an infection that the figures count."""
    return kind in COUNTED_KINDS and status != NOT_COUNTED_STATUS


def is_community_case(*, found_via: str) -> bool:
    """Whether a case was found outside quarantine (a reclassified case was found earlier)."""
    return found_via not in (QUARANTINE_FOUND, FoundVia.reclassified)


def window_start(*, today: date, days: int = WINDOW_DAYS) -> date:
    """First day of the `days`-day window that ends with `today` (both days included)."""
    return today - timedelta(days=days - 1)


def incidence_per_10k(*, cases: int, population: int) -> float | None:
    """Cases per 10,000 residents; None when nobody lives there."""
    if population <= 0:
        return None
    return cases * 10_000 / population


def doubling_time_days(*, current_7d: int, previous_7d: int) -> float | None:
    """Days for cases to double, from two consecutive 7-day windows; None unless growing.

    Growth is exponential at rate r with current = previous · e^(7r), so the doubling
    time is 7 · ln 2 / ln(current / previous). It is undefined (None) when the previous
    window had no case or when cases did not grow.
    """
    if previous_7d <= 0 or current_7d <= previous_7d:
        return None
    return WINDOW_DAYS * math.log(2) / math.log(current_7d / previous_7d)


def share_in_quarantine(*, in_quarantine: int, total: int) -> float | None:
    """Share of new cases found inside quarantine (0..1); None without cases."""
    if total <= 0:
        return None
    return in_quarantine / total


def days_since(*, last_day: date | None, today: date) -> int | None:
    """Whole days from `last_day` to `today` (0 on the day itself); None if never."""
    if last_day is None:
        return None
    return (today - last_day).days


def quarantine_days(*, contact_type: str, policy: Policy) -> int:
    """Length of a contact's quarantine under the policy (close: isolation + monitoring)."""
    if contact_type == ContactType.close:
        return policy.close_central_days + policy.close_home_monitoring_days
    return policy.secondary_home_days


def planned_end_date(*, contact_type: str, start_date: date, policy: Policy) -> date:
    """The day a contact's quarantine ends: start plus the policy's days."""
    return start_date + timedelta(days=quarantine_days(contact_type=contact_type, policy=policy))


def quarantine_days_left(*, planned_end_date: date, today: date) -> int:
    """Days until the planned end (0: due to end today; negative: overdue for release)."""
    return (planned_end_date - today).days


def contact_test_schedule(*, contact_type: str, start_date: date, policy: Policy) -> list[date]:
    """The days a contact is tested: day 1 is the first day of quarantine.

    Close contacts: the isolation test days, then the home-monitoring test days
    counted from the first day of monitoring; secondary contacts: their own days.
    """
    if contact_type == ContactType.close:
        days = list(policy.close_test_days) + [
            policy.close_central_days + d for d in policy.close_home_test_days
        ]
    else:
        days = list(policy.secondary_test_days)
    return [start_date + timedelta(days=d - 1) for d in sorted(days)]


def next_test_day(
    *, contact_type: str, start_date: date, today: date, policy: Policy
) -> date | None:
    """The next test day on or after `today`; None when every test day has passed."""
    upcoming = [
        d
        for d in contact_test_schedule(
            contact_type=contact_type, start_date=start_date, policy=policy
        )
        if d >= today
    ]
    return upcoming[0] if upcoming else None


# --------------------------------------------------------------------------- daily counts
#
# The Cases page reads daily counts as rows of (day, area_id, kind, found_via, count): case
# rows grouped, and reported counts (bulletins) added, per area of one level. Every figure
# below is computed from such rows; a reclassified case is never a new one.

DAILY_COLUMNS: list[str] = ["day", "area_id", "kind", "found_via", "count"]
FOUND_VIA_ORDER: tuple[str, ...] = tuple(FoundVia)
RECLASSIFIED: str = FoundVia.reclassified


def is_new_case(*, found_via: str) -> bool:
    """Whether a counted case is a new infection (a reclassified one is not)."""
    return found_via != RECLASSIFIED


def is_new_community_case(*, found_via: str) -> bool:
    """A new infection found outside quarantine."""
    return is_community_case(found_via=found_via)


def _kind_rows(daily: pd.DataFrame, kind: str | None) -> pd.DataFrame:
    if kind is None:
        return daily[daily["kind"].isin(COUNTED_KINDS)]
    return daily[daily["kind"] == kind]


def _in_days(daily: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    return daily[(daily["day"] >= start) & (daily["day"] <= end)]


def epidemic_curve(
    daily: pd.DataFrame, *, start: date, end: date, kind: str | None = None
) -> pd.DataFrame:
    """One row per day from `start` to `end`, one column per way of finding (zeros filled).

    `kind` None counts both confirmed and asymptomatic cases. The reclassified column is
    kept apart (the page may show it); `new` is the day's new cases without it.
    """
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    rows = _in_days(_kind_rows(daily, kind), start, end)
    sums: dict[tuple[date, str], int] = {}
    for day, found_via, n in zip(rows["day"], rows["found_via"], rows["count"], strict=True):
        sums[(day, found_via)] = sums.get((day, found_via), 0) + int(n)
    curve = pd.DataFrame({"day": days})
    for found_via in FOUND_VIA_ORDER:
        curve[found_via] = [sums.get((day, found_via), 0) for day in days]
    curve["new"] = curve[[f for f in FOUND_VIA_ORDER if f != RECLASSIFIED]].sum(axis=1)
    return curve


def new_cases(daily: pd.DataFrame, *, start: date, end: date, community_only: bool = False) -> int:
    """New infections (confirmed and asymptomatic, reclassified left out) in `start..end`."""
    rows = _in_days(_kind_rows(daily, None), start, end)
    rows = rows[rows["found_via"] != RECLASSIFIED]
    if community_only:
        rows = rows[rows["found_via"] != QUARANTINE_FOUND]
    return int(rows["count"].sum())


def new_cases_by_area(daily: pd.DataFrame, *, start: date, end: date) -> dict[int, int]:
    """New infections per area in `start..end` (areas with none are left out)."""
    rows = _in_days(_kind_rows(daily, None), start, end)
    rows = rows[rows["found_via"] != RECLASSIFIED]
    totals = rows.groupby("area_id")["count"].sum()
    return {int(str(a)): int(n) for a, n in totals.items() if n}


def incidence_7d_by_area(
    *, new_7d: dict[int, int], population: dict[int, int]
) -> dict[int, float | None]:
    """7-day incidence per 10,000 residents for every area with a population figure."""
    return {
        area: incidence_per_10k(cases=new_7d.get(area, 0), population=people)
        for area, people in population.items()
    }


def doubling_time_7d(daily: pd.DataFrame, *, today: date) -> float | None:
    """New infections' doubling time: the last 7 days against the 7 before (None: not growing)."""
    current_start = window_start(today=today)
    previous_end = current_start - timedelta(days=1)
    return doubling_time_days(
        current_7d=new_cases(daily, start=current_start, end=today),
        previous_7d=new_cases(daily, start=window_start(today=previous_end), end=previous_end),
    )


def share_found_in_quarantine(daily: pd.DataFrame, *, start: date, end: date) -> float | None:
    """Share of `start..end`'s new infections found inside quarantine; None without any."""
    total = new_cases(daily, start=start, end=end)
    outside = new_cases(daily, start=start, end=end, community_only=True)
    return share_in_quarantine(in_quarantine=total - outside, total=total)


def days_since_community_case(
    *, last_day: dict[int, date | None], areas: list[int], today: date
) -> dict[int, int | None]:
    """Per area: days since its last new community case (None: never one)."""
    return {area: days_since(last_day=last_day.get(area), today=today) for area in areas}


def contacts_per_case(*, contacts: int, cases: int) -> float | None:
    """Traced contacts per case; None without cases."""
    if cases <= 0:
        return None
    return contacts / cases


# --------------------------------------------------------------------------- quarantine


@dataclass(frozen=True)
class QuarantineSchedule:
    """A contact's quarantine: where, from when to when, and its tests as of `today`.

    `end` is the release day (the first day out of quarantine); test days lie before it.
    """

    place: str
    start: date
    end: date
    test_days: tuple[date, ...]
    tested: frozenset[date]
    due_today: bool
    overdue: tuple[date, ...]
    next_test: date | None
    days_left: int

    @property
    def ends_today(self) -> bool:
        return self.days_left == 0


# Contacts share their dates: a district board schedules 20,000 contacts on a few hundred.
@lru_cache(maxsize=4096)
def quarantine_test_days(
    *, contact_type: str, start_date: date, planned_end_date: date, policy: Policy
) -> tuple[date, ...]:
    """The protocol's test days that fall inside the quarantine, plus its last day if extended.

    An extended quarantine (ending after the policy's end) is tested once more on its
    last day, so that release always follows a test.
    """
    days = [
        d
        for d in contact_test_schedule(
            contact_type=contact_type, start_date=start_date, policy=policy
        )
        if d < planned_end_date
    ]
    policy_end = start_date + timedelta(
        days=quarantine_days(contact_type=contact_type, policy=policy)
    )
    last_day = planned_end_date - timedelta(days=1)
    if planned_end_date > policy_end and last_day not in days:
        days.append(last_day)
    return tuple(sorted(days))


def quarantine_schedule(
    *,
    contact_type: str,
    place: str,
    start_date: date,
    planned_end_date: date,
    tested_days: frozenset[date] | set[date],
    today: date,
    policy: Policy,
) -> QuarantineSchedule:
    """Where and until when a contact is held, which test is due today and which were missed."""
    days = quarantine_test_days(
        contact_type=contact_type,
        start_date=start_date,
        planned_end_date=planned_end_date,
        policy=policy,
    )
    tested = frozenset(tested_days)
    upcoming = [d for d in days if d >= today and d not in tested]
    return QuarantineSchedule(
        place=place,
        start=start_date,
        end=planned_end_date,
        test_days=days,
        tested=tested,
        due_today=today in days and today not in tested,
        overdue=tuple(d for d in days if d < today and d not in tested),
        next_test=upcoming[0] if upcoming else None,
        days_left=quarantine_days_left(planned_end_date=planned_end_date, today=today),
    )


# --------------------------------------------------------------------------- transmission


@dataclass(frozen=True)
class Cluster:
    """Cases linked through contacts who became cases, and everyone traced around them."""

    root: int  # the first case of the chain (earliest reported, then lowest id)
    cases: tuple[int, ...]
    contacts: int  # traced contacts who did not become a case of this cluster
    people: int  # cases + contacts


def transmission_clusters(
    *,
    cases: dict[int, date],
    links: list[tuple[int, int]],
    contacts: dict[int, int],
) -> list[Cluster]:
    """Clusters of cases, largest first.

    `cases`: case id → reported day; `links`: (source case, case it led to: a contact of the
    source who became that case); `contacts`: case id → contacts traced from it who did not
    become a case. A case with no link is a cluster of its own.
    """
    parent = {c: c for c in cases}

    def find(c: int) -> int:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for source, target in links:
        if source in parent and target in parent:
            a, b = find(source), find(target)
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for c in cases:
        groups.setdefault(find(c), []).append(c)
    clusters = []
    for members in groups.values():
        members.sort(key=lambda c: (cases[c], c))
        traced = sum(contacts.get(c, 0) for c in members)
        clusters.append(
            Cluster(
                root=members[0],
                cases=tuple(members),
                contacts=traced,
                people=len(members) + traced,
            )
        )
    clusters.sort(key=lambda cl: (-cl.people, cases[cl.root], cl.root))
    return clusters
