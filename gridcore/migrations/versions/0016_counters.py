"""counters per round and grid, and per grid, kept with the records

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 16:00:00

Dashboards read a round's samples per grid by result (and those of residents exempt now),
and a grid's residents, those at home, households and active full-time workers, from rows
of their own, kept in the same transaction as every write of the records — so a page's
cost follows the number of areas on screen, not the number of records. They are filled
from the records here, in this revision's own SQL (what `verify-counters` checked then).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _count(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "roundgridcount",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        *(_count(n) for n in ("sampled", "pending", "negative", "positive", "invalid", "exempt")),
        sa.ForeignKeyConstraint(["round_id"], ["testround.id"]),
        sa.ForeignKeyConstraint(["grid_id"], ["area.id"]),
        sa.PrimaryKeyConstraint("round_id", "grid_id"),
    )
    op.create_table(
        "gridcount",
        sa.Column("grid_id", sa.Integer(), nullable=False),
        *(_count(n) for n in ("residents", "at_home", "households", "full_time_workers")),
        sa.ForeignKeyConstraint(["grid_id"], ["area.id"]),
        sa.PrimaryKeyConstraint("grid_id"),
    )
    # The counters as this revision made them, in its own SQL: a later revision that adds a
    # column counts again (the shared recount would write columns that do not exist yet).
    op.execute(
        "INSERT INTO roundgridcount (round_id, grid_id, sampled, pending, negative, positive,"
        " invalid, exempt)"
        " SELECT t.round_id, t.grid_id, COUNT(*),"
        " SUM(CASE WHEN t.result = 'pending' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN t.result = 'negative' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN t.result = 'positive' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN t.result = 'invalid' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN r.health_status <> 'at_home' THEN 1 ELSE 0 END)"
        " FROM testrecord t JOIN resident r ON r.id = t.resident_id"
        " GROUP BY t.round_id, t.grid_id"
    )
    # The grid counters likewise (0021 adds a column and counts again).
    op.execute(
        "INSERT INTO gridcount (grid_id, residents, at_home, households, full_time_workers)"
        " SELECT a.id,"
        " (SELECT COUNT(*) FROM resident r WHERE r.grid_id = a.id),"
        " (SELECT COUNT(*) FROM resident r WHERE r.grid_id = a.id"
        "  AND r.health_status = 'at_home'),"
        " (SELECT COUNT(*) FROM household h WHERE h.grid_id = a.id),"
        " (SELECT COUNT(*) FROM workergrid g JOIN worker w ON w.id = g.worker_id"
        "  WHERE g.grid_id = a.id AND w.employment = 'full_time' AND w.active)"
        " FROM area a WHERE a.level = 'grid'"
    )


def downgrade() -> None:
    op.drop_table("gridcount")
    op.drop_table("roundgridcount")
