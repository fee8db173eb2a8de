"""`portal-ui import FILE --as E [--send-invitations] [--message TEXT] [--dry-run]` as
CONTRACT.md gives it (R32): its preview, its report and its exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from portal_ui.cli import main
from portal_ui.db import make_engine
from portal_ui.models import Account, BulkJob, OutboxMessage

STAFF = "erin@firm.test"
FILE = (
    "Account name;Contact name;Email;Login\r\n"
    "Alpha Ltd;Ann;ann@alpha.co;yes\r\n"
    "Beta Ltd;Bob;bob@@beta;yes\r\n"
    ";Cy;cy@gamma.co;yes\r\n"
)


@pytest.fixture
def database(databases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> str:
    """A new, empty database (the command migrates it) with one team member; English."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("PORTAL_SECRET", "test-secret")
    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PORTAL_SMTP_HOST", "127.0.0.1")
    url = databases.url(schema=False)
    monkeypatch.setenv("PORTAL_DATABASE_URL", url)
    assert main(["create-staff", "--email", STAFF, "--name", "Erin", "--password",
                 "Quiet-Harbour-42"]) == 0  # fmt: skip
    capsys.readouterr()
    return url


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(["import", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def count(url: str, model: type) -> int:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return session.scalar(select(func.count()).select_from(model)) or 0
    finally:
        engine.dispose()


@pytest.fixture
def clients_csv(tmp_path: Path) -> Path:
    path = tmp_path / "clients.csv"
    path.write_bytes(FILE.encode("cp1252"))
    return path


def test_it_prints_the_preview_runs_and_prints_the_report(database, capsys, clients_csv):
    code, out, err = run(capsys, str(clients_csv), "--as", STAFF, "--send-invitations",
                         "--message", "Welcome aboard")  # fmt: skip
    assert code == 0, err  # failing rows included (R32)
    preview, report = out.split("Report:")
    assert "accounts created: 1" in preview and "invitations to send: 1" in preview
    assert "line 3: This email address is invalid" in preview
    assert "line 4: The account name is missing." in preview
    assert "invitations sent: 1" in report and "failing rows: 2" in report
    assert "line 3:" in report
    assert count(database, Account) == 1
    assert count(database, OutboxMessage) == 1


def test_dry_run_prints_the_preview_and_writes_nothing(database, capsys, clients_csv):
    code, out, _err = run(capsys, str(clients_csv), "--as", STAFF, "--dry-run")
    assert code == 0
    assert "accounts created: 1" in out and "Report:" not in out
    assert count(database, Account) == count(database, BulkJob) == 0


def test_running_it_twice_changes_nothing_the_second_time(database, capsys, clients_csv):
    assert run(capsys, str(clients_csv), "--as", STAFF, "--send-invitations")[0] == 0
    code, out, _err = run(capsys, str(clients_csv), "--as", STAFF, "--send-invitations")
    assert code == 0
    assert "accounts created: 0" in out and "invitations sent: 0" in out
    assert count(database, OutboxMessage) == 1


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, ["Cannot read"]),
        (b"\x00\x01\x02binary\x00", ["not a CSV"]),
        (b"", ["empty"]),
        (b"Colour,Size\nred,L\n", ["names none of the columns"]),
        (b"Account name,Phone\nAcme,+1 555 010 2231\n", ["Email"]),
    ],
)
def test_a_file_that_cannot_be_read_is_one_line_and_writes_nothing(
    database, capsys, tmp_path, content, words
):
    path = tmp_path / "input.csv"
    if content is not None:
        path.write_bytes(content)
    code, out, err = run(capsys, str(path), "--as", STAFF)
    assert code != 0
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    for word in words:
        assert word in err
    assert count(database, BulkJob) == 0


def test_an_unknown_team_member_is_one_line(database, capsys, clients_csv):
    code, _out, err = run(capsys, str(clients_csv), "--as", "nobody@firm.test")
    assert code != 0 and len(err.strip().splitlines()) == 1
    assert count(database, Account) == 0


def test_help_describes_the_command(database, capsys):
    code = main(["import", "--help"])
    out = capsys.readouterr().out
    assert code == 0
    for option in ("--as", "--send-invitations", "--message", "--dry-run"):
        assert option in out
