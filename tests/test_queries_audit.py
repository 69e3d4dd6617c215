"""The audit log as the administration page reads it: filtered, counted and paged in SQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from gridcore.i18n import t
from gridcore.io.tabular import frame_bytes
from gridcore.models import AuditEntry
from gridcore.queries.audit import audit_choices, audit_page
from gridcore.ui.admin import audit_table
from tests.factories import ADMIN, VIEWER, make_street_with_grids

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


def test_an_area_holds_the_entries_of_its_grids_and_the_export_names_it(session: Session) -> None:
    """Two streets: a community's filter keeps its own grids' entries (and its own), not the
    other street's; every entry's area is exported by its name in the reader's language."""
    here = make_street_with_grids(session, prefix="T")
    there = make_street_with_grids(session, prefix="U", grids=1)
    areas = [*here.grids, here.community, there.grids[0], None]
    for n, area in enumerate(areas):
        session.add(AuditEntry(username="ann", action="update", entity="case", entity_id=str(n),
                               area_id=None if area is None else area.id, at=T0))  # fmt: skip
    session.commit()

    def ids(area_id: int) -> list[str]:
        found = audit_page(session=session, actor=ADMIN, area_id=area_id)
        assert found.total == len(found.entries)
        return found.entries["entity_id"].tolist()

    assert ids(here.community.id) == ["2", "1", "0"]
    assert ids(here.street.id) == ["2", "1", "0"]
    assert ids(here.grids[1].id) == ["1"]
    assert ids(there.community.id) == ["3"]

    entries = audit_page(session=session, actor=ADMIN).entries
    for lang, names in (("en", ["", "Grid 1", "Community 1", "Grid 2", "Grid 1"]),
                        ("zh", ["", "第1网格", "一社区", "第2网格", "第1网格"])):  # fmt: skip
        table = audit_table(entries, lang)
        assert table[t("admin.col_area", lang)].tolist() == names
        exported = frame_bytes(frame=table, fmt="csv").decode("utf-8-sig")
        assert t("admin.col_area", lang) in exported.splitlines()[0]
        assert names[1] in exported
