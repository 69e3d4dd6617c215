"""residents with a vulnerability tag, counted per grid

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 18:00:00

The Workforce page's volunteer needs count each grid's residents with a vulnerability tag
(elderly living alone, disabled, …). At district scale that was a count over 151,000 tags
joined to a million residents at every render (0.24 s on PostgreSQL); it is now a counter
of the grid's, kept with every resident write like the others, filled here from the records.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gridcore.services.counters import rebuild_counters

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("gridcount") as batch:
        batch.add_column(
            sa.Column("vulnerable", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
    rebuild_counters(op.get_bind(), tables=("gridcount",))


def downgrade() -> None:
    with op.batch_alter_table("gridcount") as batch:
        batch.drop_column("vulnerable")
