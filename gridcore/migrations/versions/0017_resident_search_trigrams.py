"""resident search through trigrams: an FTS5 trigram table on SQLite, pg_trgm indexes on PostgreSQL

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 16:00:00

The sampling desk finds a resident by part of the name or the end of the phone. On SQLite
`resident_search` is an FTS5 table (tokenize='trigram') over resident.name and resident.phone
whose content is the resident table itself; triggers keep it in step with every insert,
update and delete, and the upgrade fills it from the residents already there. A later
migration that rebuilds the resident table in batch mode drops these triggers with the old
table and must create them again (tests/test_migrations.py checks they exist at head).

On PostgreSQL the pg_trgm extension gives GIN trigram indexes on the same two columns, which
the search's LIKE conditions use as they are. When the extension cannot be created (no right
to, or not installed on the server) the upgrade still succeeds without those indexes, says
so in a warning, and the search reads the table as before.
"""

import logging
from collections.abc import Sequence

from alembic import op
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

_SQLITE_UP = (
    "CREATE VIRTUAL TABLE resident_search USING fts5("
    "name, phone, content='resident', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER resident_search_insert AFTER INSERT ON resident BEGIN"
    " INSERT INTO resident_search (rowid, name, phone) VALUES (new.id, new.name, new.phone);"
    " END",
    "CREATE TRIGGER resident_search_delete AFTER DELETE ON resident BEGIN"
    " INSERT INTO resident_search (resident_search, rowid, name, phone)"
    " VALUES ('delete', old.id, old.name, old.phone);"
    " END",
    "CREATE TRIGGER resident_search_update AFTER UPDATE OF id, name, phone ON resident BEGIN"
    " INSERT INTO resident_search (resident_search, rowid, name, phone)"
    " VALUES ('delete', old.id, old.name, old.phone);"
    " INSERT INTO resident_search (rowid, name, phone) VALUES (new.id, new.name, new.phone);"
    " END",
    "INSERT INTO resident_search (resident_search) VALUES ('rebuild')",
)
_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS resident_search_update",
    "DROP TRIGGER IF EXISTS resident_search_delete",
    "DROP TRIGGER IF EXISTS resident_search_insert",
    "DROP TABLE IF EXISTS resident_search",
)
_PG_INDEXES = (("ix_resident_name_trgm", "name"), ("ix_resident_phone_trgm", "phone"))
_PG_EXTENSION_SCHEMA = (
    "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
    " WHERE e.extname = 'pg_trgm'"
)


def _trigram_schema(bind: Connection) -> str | None:
    """The schema of pg_trgm, created if need be; None when it cannot be had.

    A new extension goes into `public` where that schema exists and can be written, so that
    it outlives the schema the migration happens to run in; else into the current schema.
    """
    schema = bind.exec_driver_sql(_PG_EXTENSION_SCHEMA).scalar()
    if schema is not None:
        return str(schema)
    public = bind.exec_driver_sql("SELECT 1 FROM pg_namespace WHERE nspname = 'public'").scalar()
    places = [" SCHEMA public", ""] if public else [""]
    reason = ""
    for where in places:
        try:
            with bind.begin_nested():
                bind.exec_driver_sql(f"CREATE EXTENSION IF NOT EXISTS pg_trgm{where}")
        except DBAPIError as exc:
            reason = str(exc.orig).strip().splitlines()[0]
            continue
        return str(bind.exec_driver_sql(_PG_EXTENSION_SCHEMA).scalar_one())
    log.warning(
        "pg_trgm could not be created (%s): the resident search reads without trigram"
        " indexes. A superuser can run CREATE EXTENSION pg_trgm and the index statements"
        " of migration 0017 later.",
        reason,
    )
    return None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in _SQLITE_UP:
            bind.exec_driver_sql(statement)
        return
    schema = _trigram_schema(bind)
    if schema is None:
        return
    for index, column in _PG_INDEXES:
        bind.exec_driver_sql(
            f'CREATE INDEX {index} ON resident USING gin ({column} "{schema}".gin_trgm_ops)'
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in _SQLITE_DOWN:
            bind.exec_driver_sql(statement)
        return
    for index, _column in _PG_INDEXES:
        bind.exec_driver_sql(f"DROP INDEX IF EXISTS {index}")
