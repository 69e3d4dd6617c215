"""reported case counts; how a case was found, in the bulletins' categories

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 07:30:00

Bulletins report new cases as counts per area, day, kind and how they were found; they are
kept as rows of their own. How a case was found now uses the bulletins' categories:
'community_screening' becomes 'screening' (a risk group's screening), 'clinic' becomes
'community' (found outside any control), and 'reclassified' is new.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RENAMED = {"community_screening": "screening", "clinic": "community"}


def _rename(mapping: dict[str, str]) -> None:
    for old, new in mapping.items():
        op.execute(
            sa.text("UPDATE case_record SET found_via = :new WHERE found_via = :old").bindparams(
                old=old, new=new
            )
        )


def upgrade() -> None:
    op.create_table(
        "casecount",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("found_via", sa.String(length=24), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "area_id", "kind", "found_via", name="uq_casecount_day_area"),
    )
    op.create_index("ix_casecount_area_id", "casecount", ["area_id"], unique=False)
    op.create_index("ix_casecount_area_day", "casecount", ["area_id", "day"], unique=False)
    _rename(_RENAMED)


def downgrade() -> None:
    op.execute(sa.text("UPDATE case_record SET found_via = 'community' WHERE found_via = 'reclassified'"))
    _rename({new: old for old, new in _RENAMED.items()})
    op.drop_index("ix_casecount_area_day", table_name="casecount")
    op.drop_index("ix_casecount_area_id", table_name="casecount")
    op.drop_table("casecount")
