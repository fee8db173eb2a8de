"""UI tests: each test gets its own database, prepared before the app starts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from portal_ui import staff
from portal_ui.config import Settings, load_settings
from portal_ui.db import make_engine

STAFF_EMAIL = "alice@firm.test"
STAFF_PASSWORD = "Quiet-Harbour-42"


@pytest.fixture(autouse=True)
def ui_settings(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("PORTAL_DATABASE_URL", database_url)  # R39: SQLite, then PostgreSQL
    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PORTAL_SECRET", "ui-test-secret")
    monkeypatch.setenv("PORTAL_BASE_URL", "http://portal.test")
    monkeypatch.setenv("PORTAL_FIRM_NAME", "Test Firm")
    return load_settings()


@pytest.fixture(autouse=True)
def ui_engine(ui_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(ui_settings.database_url)  # the schema is there already
    with Session(engine) as session:
        staff.create_team_member(session, STAFF_EMAIL, "Alice Martin", STAFF_PASSWORD)
        session.commit()
    yield engine
    engine.dispose()
