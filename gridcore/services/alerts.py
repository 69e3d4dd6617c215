"""Acknowledging an alert: a named user has seen it; it stays so until its situation changes."""

from __future__ import annotations

from sqlmodel import Session, col, select

from gridcore.access import COMMAND_ROLES, Actor
from gridcore.models import AlertAcknowledgement, utcnow
from gridcore.services.base import ValidationFailed, write

KEY_MAX, SITUATION_MAX = 80, 200


def acknowledge_alert(
    *, session: Session, actor: Actor, alert_key: str, situation: str
) -> AlertAcknowledgement:
    """Acknowledge the alert `alert_key` in its `situation` (administrators and leaders).

    Acknowledging it again in the same situation writes nothing and returns the first
    acknowledgement; a new situation (gridcore.analytics.alerts) needs a new one.
    """
    with write(
        session, actor=actor, entity="alert", action="acknowledge", roles=COMMAND_ROLES
    ) as op:
        errors = {}
        if not alert_key or len(alert_key) > KEY_MAX:
            errors["alert_key"] = "services.error.invalid_value"
        if not situation or len(situation) > SITUATION_MAX:
            errors["situation"] = "services.error.invalid_value"
        if errors:
            raise ValidationFailed(errors)
        earlier = session.exec(
            select(AlertAcknowledgement).where(
                col(AlertAcknowledgement.alert_key) == alert_key,
                col(AlertAcknowledgement.situation) == situation,
            )
        ).first()
        if earlier is not None:
            return earlier
        ack = AlertAcknowledgement(
            alert_key=alert_key,
            situation=situation,
            acknowledged_by=actor.username,
            acknowledged_at=utcnow(),
        )
        session.add(ack)
        op.record(ack, {"alert": alert_key, "situation": situation})
    return ack
