"""kiosk links: their own panel interval and panel list

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 16:00:00

Existing links keep showing every panel at the deployment's interval (NULL and '').
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("kiosklink") as batch:
        batch.add_column(sa.Column("interval_seconds", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column(
                "panels",
                sqlmodel.sql.sqltypes.AutoString(length=200),
                nullable=False,
                server_default="",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("kiosklink") as batch:
        batch.drop_column("panels")
        batch.drop_column("interval_seconds")
