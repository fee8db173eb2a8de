"""Alembic environment: runs on the engine the application hands over (no alembic.ini)."""

from alembic import context
from sqlmodel import SQLModel

import portal_ui.models  # noqa: F401  (registers the tables)
from portal_ui.db import include_name

target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
