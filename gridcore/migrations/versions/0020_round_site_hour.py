"""samples per round, site and hour, kept with the records

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 17:00:00

The testing page's samples per site and hour, its recent pace and each round's coverage 6,
12 and 24 hours after its start are read from a counter per round, site and hour, kept in
the same transaction as every write of the samples, instead of counting a district round's
million samples by time at every render. Filled from the records here, in this revision's
own SQL (the same as `verify-counters` checked it with then).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A sample's hour: whole hours since 1970 UTC.
_HOUR = {
    "sqlite": "CAST(strftime('%s', t.sampled_at) AS INTEGER) / 3600",
    "postgresql": "CAST(FLOOR(EXTRACT(EPOCH FROM t.sampled_at) / 3600) AS INTEGER)",
}


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
    bind = op.get_bind()
    hour = _HOUR[bind.dialect.name]
    bind.execute(
        sa.text(
            "INSERT INTO roundsitehour (round_id, site_key, hour, sampled)"
            f" SELECT t.round_id, COALESCE(t.site_id, 0), {hour}, COUNT(*) FROM testrecord t"
            f" GROUP BY t.round_id, COALESCE(t.site_id, 0), {hour}"
        )
    )


def downgrade() -> None:
    op.drop_table("roundsitehour")
