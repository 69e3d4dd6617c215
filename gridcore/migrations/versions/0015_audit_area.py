"""audit entries carry the area of the row they describe

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 16:00:00

Every new entry gets the grid (or the most specific area) of the written row from the write
itself (gridcore.services.audit). Existing entries get it where one join on a row that is still
there says it: residents, households, cases, contacts, requests, tasks, test records, zone
orders and stock movements (their depot's area). The others stay without one, and so does an
import's entry (it stands for a whole file; the id it names may be a round's).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Audit subject → the area of its row `r` (the row whose id the entry names).
_AREA_OF: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("resident",), "resident", "r.grid_id"),
    (("household",), "household", "r.grid_id"),
    (("case",), "case_record", "r.grid_id"),
    (("request",), "residentrequest", "r.grid_id"),
    (("task",), "task", "r.grid_id"),
    (("test_record",), "testrecord", "r.grid_id"),
    (
        ("contact",),
        "contact",
        "COALESCE(r.grid_id, (SELECT p.grid_id FROM resident p WHERE p.id = r.resident_id),"
        " (SELECT c.grid_id FROM case_record c WHERE c.id = r.case_id))",
    ),
    (
        ("zone_order",),
        "zoneorder",
        "COALESCE(r.area_id, (SELECT b.grid_id FROM building b WHERE b.id = r.building_id))",
    ),
    (
        ("stock_movement", "stock_count", "stock_transfer"),
        "stockmovement",
        "(SELECT d.area_id FROM depot d WHERE d.id = r.depot_id)",
    ),
)


def upgrade() -> None:
    with op.batch_alter_table("auditentry") as batch:
        batch.add_column(sa.Column("area_id", sa.Integer(), nullable=True))
        batch.create_index("ix_auditentry_area_id", ["area_id"], unique=False)
    # Only ids that are whole numbers are cast (the cast of anything else fails on PostgreSQL).
    if op.get_bind().dialect.name == "postgresql":
        numeric = "auditentry.entity_id ~ '^[0-9]{1,18}$'"
    else:
        numeric = "auditentry.entity_id <> '' AND auditentry.entity_id NOT GLOB '*[^0-9]*'"
    for entities, table, area in _AREA_OF:
        names = ", ".join(f"'{name}'" for name in entities)
        op.execute(
            sa.text(
                f"UPDATE auditentry SET area_id = (SELECT {area} FROM {table} r"
                f" WHERE r.id = CAST(auditentry.entity_id AS BIGINT))"
                f" WHERE auditentry.area_id IS NULL AND auditentry.entity IN ({names})"
                f" AND auditentry.action <> 'import'"
                f" AND {numeric}"
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("auditentry") as batch:
        batch.drop_index("ix_auditentry_area_id")
        batch.drop_column("area_id")
