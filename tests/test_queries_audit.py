"""The audit log as the administration page reads it: filtered, counted and paged in SQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from gridcore.models import AuditEntry
from gridcore.queries.audit import audit_choices, audit_page
from tests.factories import ADMIN, VIEWER

T0 = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)


def _log(session: Session) -> None:
    """Ten entries an hour apart: ann creates cases (even hours), ben updates tasks (odd)."""
    for hour in range(10):
        user, action, entity = (
            ("ann", "create", "case") if hour % 2 == 0 else ("ben", "update", "task")
        )
        session.add(AuditEntry(username=user, action=action, entity=entity, entity_id=str(hour),
                               at=T0 + timedelta(hours=hour),
                               changes=json.dumps({"hour": hour})))  # fmt: skip
    session.commit()


def test_filters_count_and_page_newest_first(session: Session) -> None:
    _log(session)
    everything = audit_page(session=session, actor=ADMIN, limit=4)
    assert everything.total == 10
    assert everything.entries["entity_id"].tolist() == ["9", "8", "7", "6"]
    third = audit_page(session=session, actor=ADMIN, limit=4, offset=8)
    assert third.entries["entity_id"].tolist() == ["1", "0"]
    ann = audit_page(session=session, actor=ADMIN, username="ann", action="create",
                     entity="case", start=T0 + timedelta(hours=2),
                     end=T0 + timedelta(hours=6))  # fmt: skip
    # Hours 2 and 4 (the end is not included: hour 6 is left out).
    assert (ann.total, ann.entries["entity_id"].tolist()) == (2, ["4", "2"])
    assert ann.entries["changes"].tolist() == [{"hour": 4}, {"hour": 2}]
    assert audit_page(session=session, actor=ADMIN, username="ann", entity="task").total == 0
    # Changes may name residents: a viewer gets the entries without them.
    assert audit_page(session=session, actor=VIEWER, limit=1).entries["changes"].tolist() == [{}]


def test_choices_are_the_distinct_values_in_the_log(session: Session) -> None:
    _log(session)
    choices = audit_choices(session=session)
    assert choices.usernames == ("ann", "ben")
    assert choices.actions == ("create", "update")
    assert choices.entities == ("case", "task")
