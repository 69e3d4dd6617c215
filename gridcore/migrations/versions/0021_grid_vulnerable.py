"""residents with a vulnerability tag, counted per grid

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 18:00:00

The Workforce page's volunteer needs count each grid's residents with a vulnerability tag
(elderly living alone, disabled, …). At district scale that was a count over 151,000 tags
joined to a million residents at every render (0.24 s on PostgreSQL); it is now a counter
of the grid's, kept with every resident write like the others, filled here from the records
(in this revision's own SQL).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("gridcount") as batch:
        batch.add_column(
            sa.Column("vulnerable", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
    op.execute("DELETE FROM gridcount")
    op.execute(
        "INSERT INTO gridcount (grid_id, residents, at_home, households, full_time_workers,"
        " vulnerable)"
        " SELECT a.id, COALESCE(res.n, 0), COALESCE(res.home, 0), COALESCE(hh.n, 0),"
        " COALESCE(wk.n, 0), COALESCE(vul.n, 0)"
        " FROM area a"
        " LEFT JOIN (SELECT grid_id, COUNT(*) AS n,"
        "  SUM(CASE WHEN health_status = 'at_home' THEN 1 ELSE 0 END) AS home"
        "  FROM resident GROUP BY grid_id) res ON res.grid_id = a.id"
        " LEFT JOIN (SELECT grid_id, COUNT(*) AS n FROM household GROUP BY grid_id) hh"
        "  ON hh.grid_id = a.id"
        " LEFT JOIN (SELECT g.grid_id, COUNT(*) AS n FROM workergrid g"
        "  JOIN worker w ON w.id = g.worker_id"
        "  WHERE w.employment = 'full_time' AND w.active GROUP BY g.grid_id) wk"
        "  ON wk.grid_id = a.id"
        " LEFT JOIN (SELECT r.grid_id, COUNT(*) AS n FROM resident r"
        "  WHERE r.id IN (SELECT v.resident_id FROM residentvulnerability v)"
        "  GROUP BY r.grid_id) vul ON vul.grid_id = a.id"
        " WHERE a.level = 'grid'"
    )


def downgrade() -> None:
    with op.batch_alter_table("gridcount") as batch:
        batch.drop_column("vulnerable")
