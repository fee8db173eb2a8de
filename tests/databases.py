"""Which database a test runs on (R39): every test that touches a database runs once on SQLite
and once on PostgreSQL, each time on a database of its own.

A test (or a fixture it uses) that asks for `backend` is parametrized with the databases chosen
by `--db` (default both): `test_x[sqlite]` and `test_x[postgresql]`; a test marked
`only_on("sqlite", reason=...)` checks something the other database does not have. The
parameter has module scope, so a module's SQLite tests run first, then its PostgreSQL ones,
and a module-scoped fixture can hold a database too.

A test's database starts as a template made once per session (create_schema's tables, or
nothing): a copy of a file on SQLite; on the session's throw-away PostgreSQL server
(tests/postgres.py, started when a PostgreSQL test first needs it) a database an earlier test
gave back, emptied, or else a new copy (CREATE DATABASE ... TEMPLATE)."""

from __future__ import annotations

import shutil
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from portal_ui.db import create_schema, make_engine
from tests.postgres import TestCluster

DATABASES = ("sqlite", "postgresql")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        action="append",
        choices=DATABASES,
        help="run the database tests on this database only (repeatable; default: all)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "only_on(database, reason): a rule that only this database has (the test says why)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    chosen = metafunc.config.getoption("db") or DATABASES
    only = metafunc.definition.get_closest_marker("only_on")
    if only is not None:
        assert only.kwargs.get("reason"), "only_on needs a reason"
        chosen = [database for database in chosen if database == only.args[0]]
    metafunc.parametrize("backend", chosen, scope="module")


class Databases:
    """New databases of one kind for one test (or one module); dropped when it ends."""

    def __init__(self, backend: str, folder: Path, request: pytest.FixtureRequest) -> None:
        self.backend = backend
        self.folder = folder
        self._request = request
        self._made: list[str] = []

    @property
    def _cluster(self) -> TestCluster:
        return self._request.getfixturevalue("postgres_cluster")

    def url(self, schema: bool = True, name: str = "") -> str:
        """A new database: the models' tables and search index (create_schema) when `schema`,
        else empty (for migrations). `name` names a SQLite file (default: a new one)."""
        kind = "schema" if schema else "empty"
        if self.backend == "postgresql":
            cluster = self._cluster
            template = cluster.template(kind, create_schema if schema else None)
            database = cluster.create_database(template)
            self._made.append(database)
            return cluster.url(database)
        path = self.folder / (name or f"portal-{len(self._made) + 1}.db")
        self._made.append(str(path))
        if schema:
            shutil.copyfile(_sqlite_template(self._request), path)
        return f"sqlite:///{path}"

    def close(self) -> None:
        if self.backend == "postgresql" and self._made:
            for database in self._made:
                self._cluster.give_back(database)
        self._made.clear()


def _sqlite_template(request: pytest.FixtureRequest) -> Path:
    return request.getfixturevalue("sqlite_template")


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[TestCluster]:
    cluster = TestCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """create_schema's SQLite file, copied for each test (a copy costs a fifth of building)."""
    path = tmp_path_factory.mktemp("template") / "schema.db"
    engine = make_engine(f"sqlite:///{path}")
    create_schema(engine)
    engine.dispose()  # the last connection to close folds the WAL into the file
    return path


@pytest.fixture
def databases(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Databases]:
    made = Databases(backend, tmp_path, request)
    yield made
    made.close()


@pytest.fixture(scope="module")
def module_databases(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Databases]:
    made = Databases(backend, tmp_path_factory.mktemp(backend), request)
    yield made
    made.close()


@pytest.fixture
def database_url(databases: Databases) -> str:
    """This test's database, with the models' schema."""
    return databases.url()


# -- what each database took, at the end of the run -------------------------------------------

_times: dict[tuple[str, str], float] = defaultdict(float)
_outcomes: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)


def _group(node_id: str) -> tuple[str, str]:
    """(database, suite) of a test: the database from its parameters ("none" without one)."""
    parameters = node_id.rpartition("[")[2].rstrip("]").split("-") if "[" in node_id else []
    database = next((name for name in DATABASES if name in parameters), "none")
    return database, "e2e" if "/e2e/" in node_id else "unit+ui"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    group = _group(report.nodeid)
    _times[group] += report.duration
    if report.when == "call":
        _outcomes[group][report.outcome] += 1
    elif report.outcome == "failed":
        _outcomes[group]["error"] += 1
    elif report.outcome == "skipped":
        _outcomes[group]["skipped"] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _times:
        return
    terminalreporter.section("time per database")
    for (database, suite), seconds in sorted(_times.items()):
        counts = ", ".join(f"{n} {what}" for what, n in sorted(_outcomes[database, suite].items()))
        label = "no database" if database == "none" else database
        terminalreporter.write_line(f"{label}, {suite}: {counts} in {seconds:.0f} s")
