"""The data version: a number every committed write raises (models.DataVersion)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from gridcore.models import DataVersion


def data_version(*, session: Session) -> int | None:
    """The current data version (one primary-key read), or None in a database without it."""
    return session.exec(select(DataVersion.version).where(col(DataVersion.id) == 1)).first()
