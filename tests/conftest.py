"""Fixtures shared by every test: a real database per test (SQLite, then PostgreSQL) and the
settings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

# The UI tests' main file builds the app from the environment: give it a throw-away database.
os.environ.setdefault("PORTAL_SECRET", "test-secret")
# Argon2id at its cheapest (portal_ui.security reads it once, on import): here, in the UI tests'
# app and in the `portal-ui serve` subprocesses. test_security checks the production cost.
os.environ.setdefault("PORTAL_PASSWORD_HASH_COST", "test")

from portal_ui.config import Settings, load_settings  # noqa: E402
from portal_ui.db import make_engine  # noqa: E402

# Which database a test runs on, and its fresh database: tests/databases.py (R39).
pytest_plugins = ("tests.databases",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Fast tests first, then the benchmarks' smoke run: the browser journeys run last."""
    items.sort(key=lambda item: ("/e2e/" in str(item.fspath), "/bench_smoke/" in str(item.fspath)))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(
        database_url=database_url,
        data_dir=str(tmp_path / "data"),
        base_url="http://portal.test",
        secret="test-secret",
        firm_name="Test Firm",
        smtp_host="127.0.0.1",
    )


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url)  # the schema is there already
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session
