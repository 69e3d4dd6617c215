"""open and recently done tasks found by status

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 17:45:00

Every worker's open, overdue and done-today tasks (the Workforce page, the overview's
headline) were counted by reading every task: 119,000 at district scale, of which about
10,000 are open. Through this index only the open and today's done tasks are read, and
from the index alone: 37 ms → under 5 ms on SQLite, 36 → 6.5 ms on PostgreSQL.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_task_status_done", "task", ["status", "done_at", "assigned_worker_id", "due_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_task_status_done", table_name="task")
