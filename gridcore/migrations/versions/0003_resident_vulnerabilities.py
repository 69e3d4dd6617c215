"""vulnerabilities as rows of their own

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 05:10:00

A resident's vulnerabilities were a comma-separated text matched with LIKE; each is now a
row (resident, tag) with an index on the tag, so residents are counted by tag with a plain
GROUP BY. The stored tags are copied over before the column goes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 5000


def upgrade() -> None:
    op.create_table(
        "residentvulnerability",
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=24), nullable=False),
        sa.ForeignKeyConstraint(["resident_id"], ["resident.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("resident_id", "tag"),
    )
    op.create_index("ix_residentvulnerability_tag", "residentvulnerability", ["tag"], unique=False)
    connection = op.get_bind()
    stored = connection.execute(
        sa.text("SELECT id, vulnerability FROM resident WHERE vulnerability <> ''")
    )
    target = sa.table(
        "residentvulnerability", sa.column("resident_id", sa.Integer), sa.column("tag", sa.String)
    )
    while rows := stored.fetchmany(_BATCH):
        values = [
            {"resident_id": resident_id, "tag": tag}
            for resident_id, text in rows
            for tag in sorted({t.strip() for t in text.split(",") if t.strip()})
        ]
        if values:
            # A second connection would not see the new table inside this transaction.
            op.get_bind().execute(target.insert(), values)
    with op.batch_alter_table("resident") as batch:
        batch.drop_column("vulnerability")


def downgrade() -> None:
    with op.batch_alter_table("resident") as batch:
        batch.add_column(
            sa.Column("vulnerability", sa.String(length=120), nullable=False, server_default="")
        )
    connection = op.get_bind()
    tags: dict[int, list[str]] = {}
    for resident_id, tag in connection.execute(
        sa.text("SELECT resident_id, tag FROM residentvulnerability ORDER BY resident_id, tag")
    ):
        tags.setdefault(resident_id, []).append(tag)
    resident = sa.table("resident", sa.column("id", sa.Integer), sa.column("vulnerability"))
    for resident_id, values in tags.items():
        connection.execute(
            resident.update().where(resident.c.id == resident_id).values(vulnerability=",".join(values))
        )
    op.drop_index("ix_residentvulnerability_tag", table_name="residentvulnerability")
    op.drop_table("residentvulnerability")
