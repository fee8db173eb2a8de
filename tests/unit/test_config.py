"""Settings that every database shares: the data folder (CONTRACT.md PORTAL_DATA_DIR, R39)."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal_ui.config import load_settings


@pytest.fixture(autouse=True)
def no_portal_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("PORTAL_DATA_DIR", "PORTAL_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))


def test_the_data_folder_is_beside_the_sqlite_file(tmp_path):
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'firm' / 'portal.db'}")
    assert settings.data_dir == tmp_path / "firm"


def test_another_database_gets_a_per_user_folder_of_its_own(tmp_path):  # R39
    # Not the working folder: two processes started there on two databases would share their
    # development mailbox and secret.
    first = load_settings(database_url="postgresql+psycopg://app@db.example:5432/firm_a")
    second = load_settings(database_url="postgresql+psycopg://app@db.example:5432/firm_b")
    again = load_settings(database_url="postgresql+psycopg://other@db.example:5432/firm_a")
    assert first.data_dir.parent == tmp_path / "xdg" / "portal-ui"
    assert first.data_dir != second.data_dir
    assert first.data_dir == again.data_dir  # the processes of one database share it
    assert first.data_dir != Path.cwd()


def test_portal_data_dir_wins_on_every_database(tmp_path, monkeypatch):  # R39
    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path / "chosen"))
    for url in (f"sqlite:///{tmp_path / 'portal.db'}", "postgresql+psycopg://app@db/firm"):
        assert load_settings(database_url=url).data_dir == tmp_path / "chosen"


def test_a_relative_data_folder_is_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_settings(data_dir="files").data_dir == tmp_path / "files"


def test_the_generated_secret_is_kept_in_the_data_folder(tmp_path):
    settings = load_settings(
        database_url="postgresql+psycopg://app@db/firm", data_dir=str(tmp_path / "d"), secret=""
    )
    secret = settings.session_secret()
    assert (tmp_path / "d" / ".portal-secret").read_text().strip() == secret
    assert settings.session_secret() == secret
