"""The database: engine, sessions, and migrations applied on start."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str) -> Engine:
    """An engine for any SQLAlchemy URL; SQLite gets WAL, foreign keys and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    in_memory = parsed.database in (None, "", ":memory:")
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        poolclass=StaticPool if in_memory else None,
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    # SQLite's own lower() folds ASCII only; the search box (R24) must find "Émile" as "émile".
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (`portal-ui serve` and every command call it)."""
    command.upgrade(alembic_config(engine), "head")


def create_schema(engine: Engine) -> None:
    """The schema straight from the models: fast, for tests (a test checks it equals migrate)."""
    import portal_ui.models  # noqa: F401  (registers the tables)

    SQLModel.metadata.create_all(engine)
    with engine.begin() as connection:
        create_search_index(connection)


# The search box's index (R24) on SQLite: every three-character sequence of account.search_text
# and where it occurs (FTS5's trigram tokenizer, SQLite >= 3.34), so that a substring search
# reads the few matching accounts instead of testing LIKE on every one. Case-sensitive: the text
# and the searched term are both lower-cased by Python already, so the index finds exactly what
# LIKE found (FTS5's own case folding differs from str.lower for a few letters, such as ς and
# µ). External content (the text stays in account only) and no column sizes (nothing ranks the
# matches). Triggers keep it in step with every write of the column. Migration 0002 holds the
# same statements (a test compares the two schemas).
SEARCH_INDEX = "account_fts"
SEARCH_INDEX_DDL: tuple[str, ...] = (
    """CREATE VIRTUAL TABLE IF NOT EXISTS account_fts USING fts5(
    search_text, content='account', content_rowid='id',
    tokenize='trigram case_sensitive 1', columnsize=0)""",
    """CREATE TRIGGER IF NOT EXISTS account_fts_insert AFTER INSERT ON account BEGIN
    INSERT INTO account_fts(rowid, search_text) VALUES (new.id, new.search_text);
END""",
    """CREATE TRIGGER IF NOT EXISTS account_fts_delete AFTER DELETE ON account BEGIN
    INSERT INTO account_fts(account_fts, rowid, search_text)
    VALUES ('delete', old.id, old.search_text);
END""",
    # Roll-up refreshes rewrite search_text with the same text most of the time: skip those.
    """CREATE TRIGGER IF NOT EXISTS account_fts_update AFTER UPDATE OF search_text ON account
WHEN old.search_text IS NOT new.search_text BEGIN
    INSERT INTO account_fts(account_fts, rowid, search_text)
    VALUES ('delete', old.id, old.search_text);
    INSERT INTO account_fts(rowid, search_text) VALUES (new.id, new.search_text);
END""",
)


SEARCH_INDEX_TRIGGERS = ("account_fts_insert", "account_fts_delete", "account_fts_update")

# The search box's index on PostgreSQL (R24, R39): pg_trgm's GIN index of account.search_text's
# three-character sequences, which PostgreSQL's planner uses for the very LIKE '%term%' that the
# accounts list sends (nothing else to keep in step). Migration 0004 holds the same statements.
TRIGRAM_INDEX = "ix_account_search_text_trgm"
TRIGRAM_INDEX_DDL: tuple[str, ...] = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"""CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON account
    USING gin (search_text gin_trgm_ops)""",
)


def has_search_index(connection: Connection) -> bool:
    """Whether this database has the search index (SQLite: migrated to 0002, PostgreSQL: to
    0004, or create_schema)."""
    if connection.dialect.name == "postgresql":
        found = connection.exec_driver_sql("SELECT to_regclass(%s)", (TRIGRAM_INDEX,)).scalar()
        return found is not None
    if connection.dialect.name != "sqlite":
        return False
    found = connection.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (SEARCH_INDEX,)
    ).first()
    return found is not None


@contextmanager
def indexes_rebuilt_after(session: Session) -> Iterator[None]:
    """Many accounts written at once (the seed), in the session's transaction (an error leaves
    the caller to roll it back, indexes included): SQLite without the search index's triggers,
    then the search index rebuilt in one pass (on 100,000 accounts the triggers cost about 4 s,
    the rebuild 1 s); PostgreSQL without the account table's secondary indexes, search index
    included, then each built in one pass: written row by row, by the inserts and again by the
    roll-up's update of every account, they cost 6.5 s of 100,000 accounts' 21 s, built at the
    end 3 s."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        definitions = _secondary_indexes(connection, "account")
        for name in definitions:
            connection.exec_driver_sql(f'DROP INDEX "{name}"')
        yield
        for definition in definitions.values():
            connection.exec_driver_sql(definition)
        return
    if not has_search_index(connection):
        yield
        return
    begin_write(session)  # outside a transaction, each DROP would be committed at once
    for trigger in SEARCH_INDEX_TRIGGERS:
        connection.exec_driver_sql(f"DROP TRIGGER {trigger}")
    yield
    create_search_index(connection)


def _secondary_indexes(connection: Connection, table: str) -> dict[str, str]:
    """PostgreSQL: name and CREATE INDEX statement of each index of the table that backs no
    constraint (the primary key and unique constraints stay: they keep the data right)."""
    query = """SELECT index.relname, pg_get_indexdef(index.oid)
    FROM pg_index JOIN pg_class AS index ON index.oid = pg_index.indexrelid
    WHERE pg_index.indrelid = to_regclass(%s)
      AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE pg_constraint.conindid = index.oid)
    ORDER BY index.relname"""
    return {name: definition for name, definition in connection.exec_driver_sql(query, (table,))}


def create_search_index(connection: Connection) -> None:
    """The search index (and on SQLite its triggers), filled from the accounts already there.
    Other databases than SQLite and PostgreSQL search with LIKE alone."""
    if connection.dialect.name == "postgresql":
        for statement in TRIGRAM_INDEX_DDL:
            connection.exec_driver_sql(statement)
        return
    if connection.dialect.name != "sqlite":
        return
    for statement in SEARCH_INDEX_DDL:
        connection.exec_driver_sql(statement)
    connection.exec_driver_sql(f"INSERT INTO {SEARCH_INDEX}({SEARCH_INDEX}) VALUES ('rebuild')")


def include_name(name: str | None, type_: str, _parent_names: object) -> bool:
    """Alembic's comparisons skip the search indexes: the models do not describe them."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith(SEARCH_INDEX)
    return not (type_ == "index" and name == TRIGRAM_INDEX)


def refresh_statistics(session: Session, tables: Iterable[str]) -> None:
    """PostgreSQL: fresh planner statistics for tables just written in bulk, in the session's
    transaction (ANALYZE counts the rows this transaction inserted). Without them the planner
    believes the tables nearly empty and nests scans of them: a roll-up of 100,000 new accounts
    ran for more than ten minutes instead of seconds. SQLite's planner needs none."""
    if session.connection().dialect.name != "postgresql":
        return
    for table in tables:
        session.connection().exec_driver_sql(f'ANALYZE "{table}"')


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def begin_write(session: Session) -> None:
    """Open the session's write transaction now, before a `session.begin_nested()`.

    pysqlite begins a transaction only at the first write, so a SAVEPOINT issued before any
    write becomes the transaction itself and its RELEASE commits: a later rollback would then
    not undo it. BEGIN IMMEDIATE also takes SQLite's write lock up front (waiting busy_timeout),
    which a batch that is about to write wants anyway. Other databases need nothing."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    dbapi = connection.connection.dbapi_connection
    if dbapi is not None and not dbapi.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
