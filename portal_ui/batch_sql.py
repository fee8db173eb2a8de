"""SQL over thousands of rows at once (a bulk update, R12; the sender's batches; the seed):
conditions on long lists of ids, INSERTs of tens of thousands of rows, and the ids those rows
were given."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Column, ColumnElement, Connection, Table, func, insert, select
from sqlalchemy.engine import Dialect
from sqlmodel import Session


def in_ids(session: Session, target: Any, ids: Collection[int]) -> ColumnElement[bool]:
    """`target IN ids`, for a list of hundreds or thousands of ids.

    On SQLite the ids travel as one JSON array that json_each unpacks: SQLAlchemy renders and
    binds an IN list element by element on every execution (2 to 3 ms per thousand ids, as
    long as SQLite takes to answer), and a bulk update asks a dozen such questions per chunk."""
    if session.get_bind().dialect.name != "sqlite":
        return target.in_(ids)
    array = func.json_each(json.dumps([int(i) for i in ids])).table_valued("value")
    return target.in_(select(array.c.value))


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT these rows (dicts with the same keys) in the session's transaction.

    On SQLite through `insert_columns`: SQLAlchemy's own executemany builds and converts every
    parameter of every row, which took twice as long as SQLite inserting them, while a bulk
    update's rows share their timestamps, actor and message. Elsewhere SQLAlchemy's batched
    INSERT is the fast way."""
    if not rows:
        return
    if session.get_bind().dialect.name != "sqlite":
        session.execute(insert(table), rows)
        return
    insert_columns(session, table, {name: [row[name] for row in rows] for name in rows[0]})


def insert_columns(session: Session, table: Table, columns: dict[str, Sequence[Any]]) -> None:
    """INSERT rows given column by column (equally long lists of values, by column name), as
    one executemany of the driver (a COPY on PostgreSQL), each column's values converted once
    per distinct value.
    A column left out gets its default, which must then be a constant."""
    connection = session.connection()
    dialect = connection.dialect
    compiled = insert(table).compile(dialect=dialect, column_keys=list(columns))
    names = list(compiled.positiontup or []) if compiled.positional else list(compiled.binds)
    count = len(next(iter(columns.values())))
    converted = [_converted(table.c[name], dialect, columns.get(name), count) for name in names]
    if dialect.name == "postgresql":
        _copy(connection, table, names, converted)
        return
    if compiled.positional:
        params: list[Any] = list(zip(*converted, strict=True))
    else:
        params = [dict(zip(names, values, strict=True)) for values in zip(*converted, strict=True)]
    connection.exec_driver_sql(compiled.string, params)


def _copy(
    connection: Connection, table: Table, names: list[str], converted: list[Sequence[Any]]
) -> None:
    """PostgreSQL: the rows through COPY rather than psycopg's executemany (the writes of
    100,000 seeded accounts: 9 s against 16 s)."""
    preparer = connection.dialect.identifier_preparer
    quoted = ", ".join(preparer.quote(name) for name in names)
    statement = f"COPY {preparer.format_table(table)} ({quoted}) FROM STDIN"
    driver = connection.connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        for row in zip(*converted, strict=True):
            copy.write_row(row)


def _converted(
    column: Column[Any], dialect: Dialect, values: Sequence[Any] | None, count: int
) -> Sequence[Any]:
    """One column's values as the driver takes them (its default `count` times if None)."""
    if values is None:
        default = column.default
        if default is not None and not default.is_scalar:
            raise ValueError(f"rows need a value for {column.name}")
        values = [default.arg if default is not None else None] * count
    convert = column.type.dialect_impl(dialect).bind_processor(dialect)
    if convert is None:
        return values
    try:
        # Flags and timestamps repeat a lot: convert each distinct value once.
        distinct = {value: convert(value) for value in set(values)}
    except TypeError:  # unhashable values (a JSON column's dicts): convert each
        return [convert(value) for value in values]
    return [distinct[value] for value in values]


def ids_after(session: Session, table: Table, key: Column[Any], before: int) -> dict[Any, int]:
    """The ids of the rows just inserted into `table` (ids greater than `before`, its largest
    id before the INSERT), by a unique column of theirs.

    Rather than INSERT ... RETURNING, which SQLAlchemy sends to SQLite as multi-row INSERTs
    compiled anew for each batch, with every returned row processed. Keyed, not positional:
    ids need not follow the order of the rows, and rows another writer committed meanwhile
    (none on SQLite once the transaction has written: it holds the write lock) have larger ids
    too and are simply not asked for."""
    query = select(key, table.c.id).where(table.c.id > before)
    return {value: row_id for value, row_id in session.execute(query)}
