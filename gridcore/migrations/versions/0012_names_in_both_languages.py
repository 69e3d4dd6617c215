"""names in both languages: sites, buildings, depots and rounds carry a Chinese name, tasks a
Chinese title

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 11:30:00

Existing rows get their one name as the Chinese name too (a name entered before this revision is
whatever the street typed, often already Chinese); task titles stay empty in Chinese and the
pages fall back to the stored title.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAMED = (("building", 120), ("testround", 80), ("testsite", 120), ("depot", 120))


def upgrade() -> None:
    for table, length in _NAMED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("name_zh", sqlmodel.sql.sqltypes.AutoString(length=length), nullable=True)
            )
        op.execute(sa.text(f"UPDATE {table} SET name_zh = name WHERE name_zh IS NULL"))
    with op.batch_alter_table("task") as batch:
        batch.add_column(
            sa.Column("title_zh", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("task") as batch:
        batch.drop_column("title_zh")
    for table, _length in reversed(_NAMED):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("name_zh")
