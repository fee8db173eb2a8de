"""The Alembic migrations build exactly the schema the models describe."""

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel

from portal_ui.db import (
    TRIGRAM_INDEX,
    alembic_config,
    create_schema,
    include_name,
    make_engine,
    migrate,
)
from tests.sql import index_names, prefer_indexes, query_plan


def test_migrations_match_the_models(databases):  # R39
    engine = make_engine(databases.url(schema=False))
    migrate(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": include_name})
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert differences == []


def _schema(engine: Engine) -> dict[str, object]:
    """Every table with its columns, keys and indexes, SQLite's catalogue (the search index's
    triggers, expression indexes) and the Alembic version, as plain data."""
    inspector = inspect(engine)
    columns = inspector.get_columns
    tables = {
        table: (
            [(c["name"], str(c["type"]), c["nullable"], c["default"]) for c in columns(table)],
            inspector.get_pk_constraint(table),
            inspector.get_foreign_keys(table),
            inspector.get_unique_constraints(table),
            sorted(inspector.get_indexes(table), key=lambda index: index["name"] or ""),
        )
        for table in inspector.get_table_names()
    }
    with engine.connect() as connection:
        version = MigrationContext.configure(connection).get_current_heads()
        # SQLite's own record of it too: reflection skips expression indexes and triggers.
        catalogue = connection.exec_driver_sql(
            "SELECT type, name, sql FROM sqlite_master ORDER BY type, name"
        ).all()
    return {"tables": tables, "catalogue": catalogue, "version": version}


def test_migrating_twice_changes_nothing(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    migrate(engine)
    once = _schema(engine)
    migrate(engine)
    twice = _schema(engine)
    assert twice == once
    head = ScriptDirectory.from_config(alembic_config(engine)).get_heads()
    assert twice["version"] == tuple(head)
    assert "account" in twice["tables"]
    assert ("index", "ix_account_last_login_desc") in {row[:2] for row in twice["catalogue"]}


@pytest.mark.only_on("postgresql", reason="SQLite's twin is the test above")
def test_migrating_twice_changes_nothing_on_postgresql(databases):  # R39
    # The test above on PostgreSQL, whose catalogue is not sqlite_master.
    engine = make_engine(databases.url(schema=False))
    migrate(engine)
    once = (_postgres_catalogue(engine), index_names_of(engine))
    migrate(engine)
    assert (_postgres_catalogue(engine), index_names_of(engine)) == once
    engine.dispose()


def _postgres_catalogue(engine: Engine) -> list[tuple]:
    with engine.connect() as connection:
        return connection.exec_driver_sql(
            "SELECT table_name, column_name, data_type, is_nullable, column_default"
            " FROM information_schema.columns WHERE table_schema = current_schema()"
            " ORDER BY table_name, column_name"
        ).all()


def index_names_of(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return sorted(index_names(connection))


def _search_index_schema(url: str, build) -> set[tuple[str, str, str]]:
    """The search index as the database stores it (the models lack it): SQLite's FTS5 table
    and its triggers; PostgreSQL's trigram index and the extension it needs."""
    engine = make_engine(url)
    build(engine)
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            rows = connection.exec_driver_sql(
                "SELECT 'index', indexname, indexdef FROM pg_indexes WHERE indexname = %s"
                " UNION ALL SELECT 'extension', extname, '' FROM pg_extension"
                " WHERE extname = 'pg_trgm'",
                (TRIGRAM_INDEX,),
            ).all()
        else:
            rows = connection.exec_driver_sql(
                "SELECT type, name, sql FROM sqlite_master WHERE name LIKE 'account_fts%'"
            ).all()
    engine.dispose()
    return {(kind, name, " ".join((sql or "").split())) for kind, name, sql in rows}


def test_the_migrated_search_index_equals_create_schemas(databases, backend):  # R24 R39
    migrated = _search_index_schema(databases.url(schema=False), migrate)
    created = _search_index_schema(databases.url(schema=False), create_schema)
    if backend == "postgresql":
        assert {(kind, name) for kind, name, _ in migrated} == {
            ("index", TRIGRAM_INDEX),
            ("extension", "pg_trgm"),
        }
    else:
        names = {name for kind, name, _ in migrated if kind == "trigger"}
        assert names == {"account_fts_insert", "account_fts_update", "account_fts_delete"}
    assert migrated == created


# Each database's search index came with its own migration: 0002 on SQLite, 0004 PostgreSQL.
BEFORE_THE_SEARCH_INDEX = {"sqlite": "0001", "postgresql": "0003"}


def test_the_search_index_migration_indexes_the_accounts_already_there(
    databases, backend
):  # R24 R39
    engine = make_engine(databases.url(schema=False))
    command.upgrade(alembic_config(engine), BEFORE_THE_SEARCH_INDEX[backend])
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO account (name, is_test_client, created_at, status, has_login,"
            " has_notify, has_email_sync, contact_count, search_text)"
            " VALUES ('Old Ltd', FALSE, '2026-01-01 00:00:00', 2, FALSE, FALSE, FALSE, 0,"
            " 'old ltd anna')"
        )
    migrate(engine)
    with engine.connect() as connection:
        if backend == "postgresql":
            prefer_indexes(connection)  # one row: only the index may answer
            search = "SELECT id FROM account WHERE search_text LIKE %(pattern)s"
            pattern = {"pattern": "%ltd ann%"}
            found = connection.exec_driver_sql(search, pattern).all()
            assert TRIGRAM_INDEX in query_plan(connection, search, pattern)
        else:
            found = connection.exec_driver_sql(
                "SELECT rowid FROM account_fts WHERE account_fts MATCH '\"ltd ann\"'"
            ).all()
    engine.dispose()
    assert len(found) == 1
