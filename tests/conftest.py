"""Fixtures shared by every test: a real SQLite database per test and the settings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

# The UI tests' main file builds the app from the environment: give it a throw-away database.
os.environ.setdefault("PORTAL_SECRET", "test-secret")

from portal_ui.config import Settings, load_settings  # noqa: E402
from portal_ui.db import create_schema, make_engine  # noqa: E402


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Fast tests first: the browser journeys run last."""
    items.sort(key=lambda item: "/e2e/" in str(item.fspath))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        database_url=f"sqlite:///{tmp_path / 'portal.db'}",
        base_url="http://portal.test",
        secret="test-secret",
        firm_name="Test Firm",
        smtp_host="127.0.0.1",
    )


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url)
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session
