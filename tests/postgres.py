"""A throw-away PostgreSQL server for the test session (R39): Debian's binaries, a cluster in a
temporary folder, on a free loopback port, trusted without passwords, removed at the end.

initdb and the server refuse to run as root, and CI runs as root: then the folder belongs to
the `postgres` user and the commands run through `runuser`. Each test gets its own database,
copied from a template (CREATE DATABASE ... TEMPLATE: 0.1 to 0.3 s here) or, cheaper, one that
an earlier test gave back and that was emptied (about 10 ms)."""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import psycopg
from sqlalchemy import Engine

DEBIAN_BINARIES = Path("/usr/lib/postgresql")
SERVICE_USER = "postgres"
# Durability is of no use to a cluster deleted at the end of the session.
SERVER_OPTIONS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
    "shared_buffers": "128MB",
    "log_min_messages": "warning",
}


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def binaries() -> Path:
    """The newest installed major version's bin folder (Debian keeps them off PATH)."""
    found = sorted(
        DEBIAN_BINARIES.glob("*/bin/initdb"), key=lambda path: int(path.parent.parent.name)
    )
    if found:
        return found[-1].parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise PostgresUnavailable(
        "PostgreSQL is not installed: `make test` installs it (apt-get install postgresql)"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class TestCluster:
    """One PostgreSQL server for the session and the databases the tests ask it for."""

    __test__ = False  # not a test class, whatever pytest thinks of its name

    def __init__(self) -> None:
        self.bin = binaries()
        self.as_root = os.geteuid() == 0
        self.folder = Path(tempfile.mkdtemp(prefix="portal-test-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.user = SERVICE_USER if self.as_root else _current_user()
        self._names = itertools.count(1)
        self._templates: dict[str, str] = {}
        self._catalogues: dict[str, str] = {}  # template: _catalogue
        self._made_from: dict[str, str] = {}  # database: its template
        self._clean: dict[str, list[str]] = defaultdict(list)  # template: clean databases
        self._running = False

    # -- the server ---------------------------------------------------------------------------

    def start(self) -> None:
        if self.as_root:
            shutil.chown(self.folder, SERVICE_USER)
        self.folder.chmod(0o700)
        self._run(
            "initdb", "-D", str(self.data), "-U", self.user, "-A", "trust",
            "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip
        options = {**SERVER_OPTIONS, "port": str(self.port)}
        options["unix_socket_directories"] = str(self.folder)
        settings = " ".join(f"-c {name}={value}" for name, value in options.items())
        log = self.folder / "server.log"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(log), "-o", settings, "-w", "start")
        self._running = True
        atexit.register(self.stop)

    def stop(self) -> None:
        """Stop the server at once (nothing in it is worth a clean shutdown) and delete it."""
        if self._running:
            self._running = False
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.folder, ignore_errors=True)

    def _run(self, program: str, *args: str, check: bool = True) -> None:
        command = [str(self.bin / program), *args]
        if self.as_root:
            command = ["runuser", "-u", SERVICE_USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.folder)
        if check and done.returncode != 0:
            log = self.folder / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{program} failed:\n{done.stdout}{done.stderr}{tail}")

    # -- databases ----------------------------------------------------------------------------

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def _connect(self, database: str = "postgres") -> psycopg.Connection:
        dsn = f"host=127.0.0.1 port={self.port} user={self.user} dbname={database}"
        return psycopg.connect(dsn, autocommit=True)

    def _admin(self, statement: str) -> None:
        with self._connect() as connection:
            connection.execute(statement)  # type: ignore[arg-type]

    def template(self, kind: str, prepare: Callable[[Engine], None] | None) -> str:
        """The name of a template database, made once by `prepare(engine)` (None: empty)."""
        if kind not in self._templates:
            from portal_ui.db import make_engine

            name = f"template_{kind}"
            self._admin(f"CREATE DATABASE {name}")
            if prepare is not None:
                engine = make_engine(self.url(name))
                try:
                    prepare(engine)
                finally:
                    engine.dispose()
            with self._connect(name) as connection:
                self._catalogues[name] = _catalogue(connection)
            self._templates[kind] = name
        return self._templates[kind]

    def create_database(self, template: str) -> str:
        """A database equal to the template: one given back clean by an earlier test, else a
        new copy. Returns its name."""
        if self._clean[template]:
            return self._clean[template].pop()
        name = f"test_{next(self._names)}"
        self._admin(f"CREATE DATABASE {name} TEMPLATE {template}")
        self._made_from[name] = template
        return name

    def give_back(self, name: str) -> None:
        """Done with a database: emptied for the next test when only rows changed (about 10
        ms), else dropped (a test that changed the schema: triggers, tables, migrations)."""
        template = self._made_from.get(name)
        with self._connect(name) as connection:
            # Connections a test left open (the app of a UI test, a pool) end here.
            connection.execute(
                "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            reusable = template is not None and _catalogue(connection) == self._catalogues.get(
                template
            )
            if reusable:
                _empty(connection)
        if reusable:
            self._clean[template].append(name)
        else:
            self.drop_database(name)

    def drop_database(self, name: str) -> None:
        # FORCE: a connection a test forgot (a server it started, a pool) must not keep it.
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self._made_from.pop(name, None)


def _catalogue(connection: psycopg.Connection) -> str:
    """A digest of what a database's schema holds: relations, columns, triggers, functions
    and extensions (not rows)."""
    query = """SELECT md5(string_agg(what, ',' ORDER BY what)) FROM (
        SELECT 'r' || relkind::text || relname AS what FROM pg_class
        WHERE relnamespace = 'public'::regnamespace
        UNION ALL SELECT 'a' || attrelid::regclass::text || '.' || attname || atttypid::text
        FROM pg_attribute JOIN pg_class ON pg_class.oid = attrelid
        WHERE relnamespace = 'public'::regnamespace AND attnum > 0 AND NOT attisdropped
        UNION ALL SELECT 't' || tgname FROM pg_trigger WHERE NOT tgisinternal
        UNION ALL SELECT 'p' || proname FROM pg_proc
        WHERE pronamespace = 'public'::regnamespace
        UNION ALL SELECT 'e' || extname FROM pg_extension
    ) AS catalogue"""
    row = connection.execute(query).fetchone()
    return row[0] if row else ""


def _empty(connection: psycopg.Connection) -> None:
    """Every row deleted (foreign keys not checked: every table empties) and every id sequence
    back at 1. DELETE, not TRUNCATE: a test's few rows go in a millisecond, TRUNCATE of
    twenty tables takes 80 ms."""
    tables = [
        row[0]
        for row in connection.execute(
            "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public'"
        )
    ]
    with connection.transaction():
        connection.execute("SET LOCAL session_replication_role = replica")
        for table in tables:
            connection.execute(f"DELETE FROM {table}")  # type: ignore[arg-type]
        connection.execute(
            "SELECT setval(oid, 1, false) FROM pg_class "
            "WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace"
        )


def _current_user() -> str:
    import getpass

    return getpass.getuser()
