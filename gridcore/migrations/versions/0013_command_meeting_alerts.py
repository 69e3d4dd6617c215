"""command meetings and alert acknowledgements

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 11:30:00

A meeting marked held keeps the overview's headline figures and attention list as they stood;
an alert acknowledged by a named user stays so while its situation is the same.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "command_meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("held_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("held_by", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.Column("attention", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_command_meeting_held_at", "command_meeting", ["held_at"], unique=False)
    op.create_table(
        "alert_acknowledgement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("situation", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("acknowledged_by", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("acknowledged_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("alert_key", "situation", name="uq_alertack_key_situation"),
    )


def downgrade() -> None:
    op.drop_table("alert_acknowledgement")
    op.drop_index("ix_command_meeting_held_at", table_name="command_meeting")
    op.drop_table("command_meeting")
