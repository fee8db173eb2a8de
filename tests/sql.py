"""SQL that tests write themselves and that SQLite and PostgreSQL spell differently (R39):
row triggers, and the query plan of a statement."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection


def add_row_trigger(
    connection: Connection, name: str, event: str, table: str, body: str, when: str = ""
) -> None:
    """A FOR EACH ROW trigger: `event` such as "AFTER UPDATE OF search_text", `body` SQL
    statements each ending with ";" (NEW is the new row), `when` an optional condition."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {body} RETURN NEW; END $$"
        )
        condition = f"WHEN ({when})" if when else ""
        connection.exec_driver_sql(
            f"CREATE TRIGGER {name} {event} ON {table} FOR EACH ROW {condition} "
            f"EXECUTE FUNCTION {name}()"
        )
        return
    condition = f"WHEN {when}" if when else ""
    connection.exec_driver_sql(
        f"CREATE TRIGGER {name} {event} ON {table} {condition} BEGIN {body} END"
    )


def refusal(connection: Connection, message: str) -> str:
    """A trigger body that makes the statement fail with `message`."""
    if connection.dialect.name == "postgresql":
        return f"RAISE EXCEPTION '{message}';"
    return f"SELECT RAISE(ABORT, '{message}');"


def query_plan(connection: Connection, statement: str, parameters: Any = None) -> str:
    """The plan the database chooses for a statement, as one text (EXPLAIN QUERY PLAN on
    SQLite, EXPLAIN on PostgreSQL)."""
    if connection.dialect.name == "postgresql":
        rows = connection.exec_driver_sql("EXPLAIN " + statement, parameters or {})
        return "\n".join(row[0] for row in rows)
    rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters or ())
    return "\n".join(row[-1] for row in rows)


def sorts(plan: str) -> bool:
    """Whether a plan sorts rows itself rather than reading them in order from an index."""
    return "TEMP B-TREE" in plan or re.search(r"(^|->\s+)(Incremental )?Sort\s+\(", plan, re.M)


def prefer_indexes(connection: Connection) -> None:
    """PostgreSQL chooses by cost, and a test's few rows cost less read whole and sorted: for
    the rest of this connection's transaction, read through an index whenever one can serve,
    to see whether one can (nothing on SQLite, whose plans follow the available indexes)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        connection.exec_driver_sql("SET LOCAL enable_sort = off")


def index_names(connection: Connection) -> list[str]:
    """The names of the database's indexes, expression indexes included (which SQLAlchemy's
    reflection skips on SQLite)."""
    if connection.dialect.name == "postgresql":
        query = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'index'"
    return list(connection.exec_driver_sql(query).scalars())
