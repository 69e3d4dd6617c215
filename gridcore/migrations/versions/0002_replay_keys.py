"""replay keys in their own table

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 05:00:00

A form's client token used to be found by a text search in the audit log's JSON; it now has
its own row with a unique (username, client_token), so a double submission is refused by the
database itself. Tokens in the audit log are not carried over: a form sent before the
upgrade and sent again after it is written twice.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "replaykey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("client_token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("entity", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("entity_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username", "client_token", name="uq_replaykey_token"),
    )
    op.create_index(op.f("ix_replaykey_at"), "replaykey", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_replaykey_at"), table_name="replaykey")
    op.drop_table("replaykey")
