"""samples per round, site and hour, kept with the records

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 17:00:00

The testing page's samples per site and hour, its recent pace and each round's coverage 6,
12 and 24 hours after its start are read from a counter per round, site and hour, kept in
the same transaction as every write of the samples, instead of counting a district round's
million samples by time at every render. Filled from the records here, by the same SQL as
`verify-counters` checks it with.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gridcore.services.counters import rebuild_counters

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "roundsitehour",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("site_key", sa.Integer(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("sampled", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["testround.id"]),
        sa.PrimaryKeyConstraint("round_id", "site_key", "hour"),
    )
    rebuild_counters(op.get_bind(), tables=("roundsitehour",))


def downgrade() -> None:
    op.drop_table("roundsitehour")
