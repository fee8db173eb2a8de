"""The Alembic migrations build exactly the schema the models describe."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from portal_ui.db import alembic_config, create_schema, include_name, make_engine, migrate


def test_migrations_match_the_models(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    migrate(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": include_name})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_migrating_twice_changes_nothing(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    migrate(engine)
    migrate(engine)


def _search_index_schema(url: str, build) -> set[tuple[str, str, str]]:
    """The search index's table and triggers as SQLite stores them (the models lack them)."""
    engine = make_engine(url)
    build(engine)
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT type, name, sql FROM sqlite_master WHERE name LIKE 'account_fts%'"
        ).all()
    engine.dispose()
    return {(kind, name, " ".join((sql or "").split())) for kind, name, sql in rows}


def test_the_migrated_search_index_equals_create_schemas(tmp_path):  # R24
    migrated = _search_index_schema(f"sqlite:///{tmp_path / 'migrated.db'}", migrate)
    created = _search_index_schema(f"sqlite:///{tmp_path / 'created.db'}", create_schema)
    names = {name for kind, name, _ in migrated if kind == "trigger"}
    assert names == {"account_fts_insert", "account_fts_update", "account_fts_delete"}
    assert migrated == created


def test_the_search_index_migration_indexes_the_accounts_already_there(tmp_path):  # R24
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    command.upgrade(alembic_config(engine), "0001")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO account (name, is_test_client, created_at, status, has_login,"
            " has_notify, has_email_sync, contact_count, search_text)"
            " VALUES ('Old Ltd', 0, '2026-01-01 00:00:00', 2, 0, 0, 0, 0, 'old ltd anna')"
        )
    migrate(engine)
    with engine.connect() as connection:
        found = connection.exec_driver_sql(
            "SELECT rowid FROM account_fts WHERE account_fts MATCH '\"ltd ann\"'"
        ).all()
    engine.dispose()
    assert len(found) == 1
