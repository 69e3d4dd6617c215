"""requests: the item and quantity of a supply request, the movement that delivered it, when
it was cancelled; tasks: when they were started, and the last one-tap change for its undo

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("residentrequest", schema=None) as batch_op:
        batch_op.add_column(sa.Column("item_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("quantity", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("cancelled_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("stock_movement_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_residentrequest_item_id", "supplyitem", ["item_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_residentrequest_stock_movement_id", "stockmovement", ["stock_movement_id"], ["id"]
        )
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("status_changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("previous_status", sa.String(length=24), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_column("previous_status")
        batch_op.drop_column("status_changed_at")
        batch_op.drop_column("started_at")
    with op.batch_alter_table("residentrequest", schema=None) as batch_op:
        batch_op.drop_constraint("fk_residentrequest_stock_movement_id", type_="foreignkey")
        batch_op.drop_constraint("fk_residentrequest_item_id", type_="foreignkey")
        batch_op.drop_column("stock_movement_id")
        batch_op.drop_column("cancelled_at")
        batch_op.drop_column("quantity")
        batch_op.drop_column("item_id")
