"""Alembic environment: the connection is handed in by gridcore.migrate (no URL here)."""

from alembic import context
from sqlmodel import SQLModel

import gridcore.models  # noqa: F401  (registers every table on SQLModel.metadata)
from gridcore.migrate import include_name

target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("GridCore migrations run online only: python -m gridcore init")
run_migrations_online()
