"""Marking a meeting held and acknowledging an alert: audited writes, and what they change."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import Session

from gridcore.access import PermissionDenied
from gridcore.analytics.meeting import attention_changes, changes_since
from gridcore.models import utcnow
from gridcore.queries import overview
from gridcore.queries.alerts import current_alerts
from gridcore.queries.meeting import attention_states, last_meeting
from gridcore.services.alerts import acknowledge_alert
from gridcore.services.meeting import mark_meeting_held
from tests.factories import (
    LEADER,
    VIEWER,
    grid_worker,
    grown,
    last_audit,
    make_case,
    make_depot,
    make_item,
    make_request,
    make_street_with_grids,
    receive,
    table_counts,
    today,
)


def test_a_mark_keeps_the_figures_and_attention_and_is_audited(session: Session) -> None:
    world = make_street_with_grids(session, grids=2)
    g1, g2 = world.grids
    make_case(session, grid=g1, found_via="screening")
    before = table_counts(session)
    now = utcnow()
    mark_meeting_held(session=session, actor=LEADER, today=today(), now=now)
    assert grown(before, session) == {"command_meeting": 1, "auditentry": 1}
    entry = last_audit(session)
    assert (entry.entity, entry.action, entry.username) == ("command_meeting", "create", "lee")
    mark = last_meeting(session=session)
    assert mark is not None and mark.held_by == "lee"
    assert mark.figures["new_cases"] == 1
    assert mark.figures["new_cases_outside_quarantine"] == 1
    assert json.loads(entry.changes)["figures"]["new_cases"] == 1
    # One community case in 7 days: grid 1 is 'medium'; grid 2 is not on the list.
    assert [(s.code, s.severity) for s in mark.attention] == [(g1.code, "medium")]

    # After the meeting: a case found in quarantine in grid 2.
    make_case(session, grid=g2, found_via="quarantine")
    later = now + timedelta(minutes=5)
    headline = overview.headline(session=session, today=today(), now=later)
    values = {name: getattr(headline, name).value for name in mark.figures}
    moved = changes_since(values, mark.figures)
    assert moved["new_cases"] == 1  # 2 now, 1 at the mark
    assert moved["new_cases_outside_quarantine"] == 0
    assert moved["active_cases"] == 1
    items = overview.needs_attention(session=session, today=today(), now=later, limit=100)
    changes = attention_changes(mark.attention, attention_states(items))
    assert [s.code for s in changes.new] == [g2.code]  # an active case: 'low'
    assert changes.worse == [] and changes.resolved == []


def test_a_double_click_marks_once_and_only_command_marks(session: Session) -> None:
    world = make_street_with_grids(session, grids=1)
    before = table_counts(session)
    first = mark_meeting_held(
        session=session, actor=LEADER, today=today(), now=utcnow(), client_token="tok-meeting-1"
    )
    again = mark_meeting_held(
        session=session, actor=LEADER, today=today(), now=utcnow(), client_token="tok-meeting-1"
    )
    assert again.id == first.id
    assert grown(before, session) == {"command_meeting": 1, "auditentry": 1, "replaykey": 1}
    for actor in (VIEWER, grid_worker(world.grids[0])):
        with pytest.raises(PermissionDenied):
            mark_meeting_held(session=session, actor=actor, today=today(), now=utcnow())
    assert grown(before, session) == {"command_meeting": 1, "auditentry": 1, "replaykey": 1}


def test_alerts_of_a_small_world(session: Session) -> None:
    world = make_street_with_grids(session, grids=2)
    g1, g2 = world.grids
    make_case(session, grid=g1, found_via="mass_testing")
    make_case(session, grid=g2, found_via="quarantine")  # inside quarantine: no alert
    # Urgent medical care: target 2 h. Created 3 h ago it is overdue; 1 h ago it is not.
    make_request(session, grid=g2, category="medical_care", urgency="urgent",
                 now=utcnow() - timedelta(hours=3))  # fmt: skip
    make_request(session, grid=g1, category="medical_care", urgency="urgent",
                 now=utcnow() - timedelta(hours=1))  # fmt: skip
    item = make_item(session, min_stock=10)
    receive(session, depot=make_depot(session, area=g1), item=item, quantity=9)
    rows = current_alerts(session=session, today=today(), now=utcnow())
    assert [(r.alert.key, r.alert.severity, r.acknowledged) for r in rows] == [
        (f"community_positive:{g1.code}", "high", False),
        (f"urgent_overdue:{g2.code}", "high", False),
        ("stock_short:depot1", "medium", False),
    ]


def test_an_acknowledgement_is_audited_kept_once_and_ends_with_its_situation(
    session: Session,
) -> None:
    world = make_street_with_grids(session, grids=1)
    grid = world.grids[0]
    make_case(session, grid=grid, found_via="community")
    (row,) = current_alerts(session=session, today=today(), now=utcnow())
    before = table_counts(session)
    ack = acknowledge_alert(
        session=session, actor=LEADER, alert_key=row.alert.key, situation=row.alert.situation
    )
    assert grown(before, session) == {"alert_acknowledgement": 1, "auditentry": 1}
    entry = last_audit(session)
    assert (entry.entity, entry.action, entry.username) == ("alert", "acknowledge", "lee")
    assert json.loads(entry.changes) == {"alert": row.alert.key, "situation": row.alert.situation}
    # A second acknowledgement of the same situation does nothing.
    again = acknowledge_alert(
        session=session, actor=LEADER, alert_key=row.alert.key, situation=row.alert.situation
    )
    assert again.id == ack.id
    assert grown(before, session) == {"alert_acknowledgement": 1, "auditentry": 1}
    (acked,) = current_alerts(session=session, today=today(), now=utcnow())
    assert acked.acknowledged and acked.acknowledged_by == "lee"
    # A viewer may not acknowledge.
    with pytest.raises(PermissionDenied):
        acknowledge_alert(session=session, actor=VIEWER, alert_key="x:y", situation="1")
    assert grown(before, session) == {"alert_acknowledgement": 1, "auditentry": 1}
    # A second case changes the situation: the alert stands again.
    make_case(session, grid=grid, found_via="community")
    (fresh,) = current_alerts(session=session, today=today(), now=utcnow())
    assert fresh.alert.key == row.alert.key and not fresh.acknowledged
