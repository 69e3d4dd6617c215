"""stock balances kept with the ledger; what an issue went to

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 07:20:00

Current stock per depot and item is kept in a row of its own, updated in the same
transaction as each movement, so that reading stock no longer sums the ledger. The
balances are filled from the ledger here. An issue may name the household or the
resident request it went to. The ledger gains an index on the movement's time.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stockbalance",
        sa.Column("depot_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("movements", sa.Integer(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["depot_id"], ["depot.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["supplyitem.id"]),
        sa.PrimaryKeyConstraint("depot_id", "item_id"),
    )
    with op.batch_alter_table("stockmovement") as batch:
        batch.add_column(sa.Column("household_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("request_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_stockmovement_household_id", "household", ["household_id"], ["id"]
        )
        batch.create_foreign_key(
            "fk_stockmovement_request_id", "residentrequest", ["request_id"], ["id"]
        )
        batch.create_index("ix_stock_time", ["occurred_at"], unique=False)
    op.execute(
        sa.text(
            "INSERT INTO stockbalance (depot_id, item_id, quantity, movements, updated_at)"
            " SELECT depot_id, item_id, SUM(quantity), COUNT(*), MAX(created_at)"
            " FROM stockmovement GROUP BY depot_id, item_id"
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("stockmovement") as batch:
        batch.drop_index("ix_stock_time")
        batch.drop_constraint("fk_stockmovement_request_id", type_="foreignkey")
        batch.drop_constraint("fk_stockmovement_household_id", type_="foreignkey")
        batch.drop_column("request_id")
        batch.drop_column("household_id")
    op.drop_table("stockbalance")
