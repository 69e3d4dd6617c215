"""tasks found by resident

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 15:00:00

A sample closes its resident's open door-to-door task inside the sampling desk's tap: the
task is found by its resident, through this index, instead of a scan of every task.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_task_resident", "task", ["resident_id"])


def downgrade() -> None:
    op.drop_index("ix_task_resident", table_name="task")
