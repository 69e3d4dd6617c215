"""The command meeting: a leader marks it held, and the overview's figures are kept with it."""

from __future__ import annotations

import json
import math
from datetime import date, datetime

from sqlmodel import Session

from gridcore.access import COMMAND_ROLES, Actor
from gridcore.analytics.meeting import HEADLINE_FIELDS
from gridcore.models import CommandMeeting
from gridcore.queries import overview
from gridcore.queries.meeting import WHOLE_LIST, attention_states
from gridcore.services.base import write


def _plain(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def mark_meeting_held(
    *,
    session: Session,
    actor: Actor,
    today: date,
    now: datetime,
    client_token: str | None = None,
) -> CommandMeeting:
    """Mark a command meeting held at `now` (administrators and leaders), keeping the
    headline figures and the attention list as they stand (gridcore.analytics.meeting says
    why a snapshot). A second submission of the same form returns the first mark."""
    with write(
        session,
        actor=actor,
        entity="command_meeting",
        action="create",
        roles=COMMAND_ROLES,
        client_token=client_token,
    ) as op:
        if (earlier := op.replayed(CommandMeeting)) is not None:
            return earlier
        headline = overview.headline(session=session, today=today, now=now)
        figures = {name: _plain(getattr(headline, name).value) for name in HEADLINE_FIELDS}
        items = overview.needs_attention(session=session, today=today, now=now, limit=WHOLE_LIST)
        attention = [
            [s.code, s.name, s.name_zh, s.severity, list(s.reasons)]
            for s in attention_states(items)
        ]
        meeting = CommandMeeting(
            held_at=now,
            held_by=actor.username,
            figures=json.dumps(figures),
            attention=json.dumps(attention, ensure_ascii=False),
        )
        session.add(meeting)
        op.record(meeting, {"held_at": now, "figures": figures})
    return meeting
