"""The last command meeting, and what moved on the overview since it was marked held."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from gridcore.analytics.meeting import HEADLINE_FIELDS, AttentionState
from gridcore.models import CommandMeeting
from gridcore.queries import overview

# The attention list is kept and compared whole, not only the top that the overview shows.
WHOLE_LIST = 1000


@dataclass(frozen=True)
class MeetingMark:
    """A meeting marked held: when, by whom, and the figures and attention list then."""

    meeting_id: int
    held_at: datetime
    held_by: str
    figures: dict[str, float | None]
    attention: list[AttentionState]


def _states(raw: str) -> list[AttentionState]:
    return [
        AttentionState(code=c, name=n, name_zh=z, severity=s, reasons=tuple(r))
        for c, n, z, s, r in json.loads(raw)
    ]


def last_meeting(*, session: Session) -> MeetingMark | None:
    """The meeting marked held last, or None when none has been."""
    row = session.exec(
        select(CommandMeeting)
        .order_by(col(CommandMeeting.held_at).desc(), col(CommandMeeting.id).desc())
        .limit(1)
    ).first()
    if row is None or row.id is None:
        return None
    stored = json.loads(row.figures)
    return MeetingMark(
        meeting_id=row.id,
        held_at=row.held_at,
        held_by=row.held_by,
        figures={name: stored.get(name) for name in HEADLINE_FIELDS},
        attention=_states(row.attention),
    )


def attention_states(items: Iterable[overview.Attention]) -> list[AttentionState]:
    """Attention-list items in the form a mark keeps them (reason keys, no parameters)."""
    return [
        AttentionState(
            code=a.grid_code,
            name=a.grid_name,
            name_zh=a.grid_name_zh,
            severity=a.severity,
            reasons=tuple(r.key for r in a.reasons),
        )
        for a in items
    ]
