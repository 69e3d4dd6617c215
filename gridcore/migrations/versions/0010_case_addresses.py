"""case addresses: where positive cases lived, by day, placed in their area

Revision ID: 0010
Revises: 0004
Create Date: 2026-12-02 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "caseaddress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("lng", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_caseaddress_day", "caseaddress", ["day"], unique=False)
    op.create_index("ix_caseaddress_area_id", "caseaddress", ["area_id"], unique=False)
    op.create_index("ix_caseaddress_area_day", "caseaddress", ["area_id", "day"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_caseaddress_area_day", table_name="caseaddress")
    op.drop_index("ix_caseaddress_area_id", table_name="caseaddress")
    op.drop_index("ix_caseaddress_day", table_name="caseaddress")
    op.drop_table("caseaddress")
