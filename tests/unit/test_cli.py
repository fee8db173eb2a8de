"""The `portal-ui` commands as CONTRACT.md gives them, run in-process on a throw-away database."""

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlmodel import Session, col

from portal_ui import access, staff
from portal_ui.cli import main
from portal_ui.db import make_engine
from portal_ui.models import (
    AccessRow,
    Account,
    AccountContact,
    AccountStatus,
    ContactEmail,
    Invitation,
    TeamMember,
)
from tests.databases import Databases
from tests.postgres import free_port

# What differs between two runs with the same seed on purpose: secrets and moments.
NOT_DETERMINISTIC = {"token_hash", "password_hash"}


@pytest.fixture
def database(databases: Databases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """PORTAL_DATABASE_URL on a new empty database (R39: SQLite, then PostgreSQL), the data
    folder in the test's folder, nothing else configured, English messages."""
    for name in list(os.environ):
        if name.startswith("PORTAL_") or name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("PORTAL_SECRET", "test-secret")
    url = databases.url(schema=False)
    monkeypatch.setenv("PORTAL_DATABASE_URL", url)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path / "data"))
    return url


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, err: str, *words: str) -> None:
    assert code != 0
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    for word in words:
        assert word in err


def open_session(url: str) -> Session:
    return Session(make_engine(url), expire_on_commit=False)


# -- help and usage --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [[], ["serve"], ["seed"], ["create-staff"], ["deactivate-staff"], ["reactivate-staff"]],
)
def test_help_works_for_every_command(database, capsys, command):
    code, out, err = run(capsys, *command, "--help")
    assert code == 0
    assert "usage: portal-ui" in out
    assert err == ""


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["launch"],
        ["seed"],
        ["seed", "--demo", "--accounts", "5"],
        ["seed", "--accounts", "0"],
        ["seed", "--accounts", "many"],
        ["seed", "--demo", "--seed", "3"],
        ["seed", "--accounts", "5", "--if-empty"],
        ["create-staff", "--email", "anna@example.com"],
    ],
)
def test_bad_usage_is_one_line_on_stderr(database, capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert_one_line_error(code, err, "error")


def test_the_console_script_is_installed(database):
    script = Path(sys.executable).with_name("portal-ui")
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    for command in ("serve", "seed", "create-staff"):
        assert command in result.stdout


def test_the_module_runs_as_a_program_and_fails_in_one_line(database):
    result = subprocess.run(
        [sys.executable, "-m", "portal_ui.cli", "create-staff", "--email", "jon@@example.com",
         "--name", "Jon", "--password", "quiet-harbour-lamp"],
        capture_output=True, text=True, timeout=120, env=os.environ.copy(),
    )  # fmt: skip
    assert_one_line_error(result.returncode, result.stderr, "@")


# -- create-staff ----------------------------------------------------------------------------------


def test_create_staff_adds_a_team_member_who_can_sign_in(database, capsys):
    code, out, err = run(
        capsys, "create-staff", "--email", "Anna@Example.com", "--name", "Anna Keller",
        "--password", "quiet-harbour-lamp",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert "anna@example.com" in out
    with open_session(database) as session:
        member = staff.authenticate(session, "anna@example.com", "quiet-harbour-lamp")
    assert member is not None and member.name == "Anna Keller"


def test_create_staff_refuses_an_address_already_taken(database, capsys):
    argv = ["create-staff", "--email", "anna@example.com", "--name", "Anna"]
    assert run(capsys, *argv, "--password", "quiet-harbour-lamp")[0] == 0
    code, _, err = run(capsys, *argv, "--password", "another-long-phrase")
    assert_one_line_error(code, err, "already exists")


def test_create_staff_refuses_a_weak_password(database, capsys):  # R17
    code, _, err = run(
        capsys, "create-staff", "--email", "anna@example.com", "--name", "Anna",
        "--password", "short",
    )  # fmt: skip
    assert_one_line_error(code, err, "10 characters")
    with open_session(database) as session:
        assert staff.member_count(session) == 0


def test_create_staff_refuses_an_invalid_address(database, capsys):  # R22
    code, _, err = run(
        capsys, "create-staff", "--email", "anna@example", "--name", "Anna",
        "--password", "quiet-harbour-lamp",
    )  # fmt: skip
    assert_one_line_error(code, err)


def test_deactivate_staff_stops_sign_in_and_reactivate_staff_allows_it(database, capsys):
    # R34
    argv = ["create-staff", "--email", "anna@example.com", "--name", "Anna"]
    assert run(capsys, *argv, "--password", "quiet-harbour-lamp")[0] == 0
    code, out, err = run(capsys, "deactivate-staff", "--email", "Anna@Example.com")
    assert (code, err) == (0, "") and "deactivated" in out
    with open_session(database) as session:
        assert staff.authenticate(session, "anna@example.com", "quiet-harbour-lamp") is None
    code, out, err = run(capsys, "reactivate-staff", "--email", "anna@example.com")
    assert (code, err) == (0, "") and "sign in again" in out
    with open_session(database) as session:
        assert staff.authenticate(session, "anna@example.com", "quiet-harbour-lamp") is not None


@pytest.mark.parametrize("command", ["deactivate-staff", "reactivate-staff"])
def test_an_unknown_team_member_is_one_line(database, capsys, command):  # R34
    code, _, err = run(capsys, command, "--email", "nobody@example.com")
    assert_one_line_error(code, err, "no team member")


# -- configuration and database problems -----------------------------------------------------------


def test_an_invalid_setting_is_one_line_naming_the_variable(database, capsys, monkeypatch):
    monkeypatch.setenv("PORTAL_PORT", "eighty")
    code, _, err = run(capsys, "serve")
    assert_one_line_error(code, err, "PORTAL_PORT")


def test_an_unreachable_database_is_one_line(database, capsys, monkeypatch, tmp_path):
    unreachable = {
        "sqlite": f"sqlite:///{tmp_path / 'missing' / 'x.db'}",
        "postgresql": f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/portal",
    }
    monkeypatch.setenv("PORTAL_DATABASE_URL", unreachable[make_url(database).get_backend_name()])
    code, _, err = run(capsys, "seed", "--demo")
    assert_one_line_error(code, err, "database")


def test_a_database_url_that_is_not_one_is_one_line(database, capsys, monkeypatch):
    monkeypatch.setenv("PORTAL_DATABASE_URL", "not a url")
    code, _, err = run(capsys, "create-staff", "--email", "a@example.com", "--name", "A",
                       "--password", "quiet-harbour-lamp")  # fmt: skip
    assert_one_line_error(code, err, "PORTAL_DATABASE_URL")


# -- seed --demo ---------------------------------------------------------------------------------


def test_seed_demo_builds_a_firm_with_every_status_and_prints_working_sign_ins(database, capsys):
    # R1 R4 R7 R22
    code, out, err = run(capsys, "seed", "--demo")
    assert (code, err) == (0, "")
    with open_session(database) as session:
        statuses = Counter(AccountStatus(s) for s in session.scalars(select(Account.status)))
        assert set(statuses) == set(AccountStatus)
        assert session.scalar(select(func.count()).where(col(Account.is_test_client))) == 1
        invalid = session.scalars(
            select(ContactEmail).where(col(ContactEmail.invalid_reason).is_not(None))
        ).all()
        assert len(invalid) == 1
        per_contact = Counter(session.scalars(select(ContactEmail.contact_id)))
        assert 2 in per_contact.values()
        members = session.scalars(select(TeamMember)).all()
        assert len(members) == 3
        for member in members:
            line = next(line for line in out.splitlines() if member.email in line)
            password = line.split()[1]
            assert staff.authenticate(session, member.email, password) == member


def test_seed_demo_refuses_a_database_with_data(database, capsys):
    assert run(capsys, "seed", "--demo")[0] == 0
    code, _, err = run(capsys, "seed", "--demo")
    assert_one_line_error(code, err, "already has data")


def test_seed_demo_if_empty_twice_writes_once_and_prints_the_sign_in_again(database, capsys):
    assert run(capsys, "seed", "--demo", "--if-empty")[0] == 0
    with open_session(database) as session:
        before = session.scalar(select(func.count(AccessRow.id)))
    code, out, err = run(capsys, "seed", "--demo", "--if-empty")
    assert (code, err) == (0, "")
    assert "anna@demofirm.example" in out
    with open_session(database) as session:
        assert session.scalar(select(func.count(AccessRow.id))) == before
        assert session.scalar(select(func.count(Account.id))) == 13


# -- seed --accounts -----------------------------------------------------------------------------


def snapshot(url: str) -> dict[str, list[tuple]]:
    """The rows that a seed decides, without secrets and moments (they depend on the clock)."""
    tables = {}
    with open_session(url) as session:
        for model in (Account, AccountContact, ContactEmail, AccessRow, Invitation):
            table = model.__table__
            columns = [
                c for c in table.c if c.name not in NOT_DETERMINISTIC and not c.name.endswith("_at")
            ]
            query = select(*columns).order_by(*table.primary_key.columns)
            tables[table.name] = [tuple(row) for row in session.execute(query)]
    return tables


def test_seed_accounts_is_deterministic_for_a_seed(database, databases, capsys, monkeypatch):
    code, out, err = run(capsys, "seed", "--accounts", "2000", "--seed", "7")
    assert (code, err) == (0, "")
    assert "2000 accounts" in out
    other = databases.url(schema=False)
    monkeypatch.setenv("PORTAL_DATABASE_URL", other)
    assert run(capsys, "seed", "--accounts", "2000", "--seed", "7")[0] == 0
    first, second = snapshot(database), snapshot(other)
    assert len(first["account"]) == 2000
    assert first == second


def test_seed_accounts_mixes_statuses_and_keeps_roll_ups_consistent(database, capsys):  # R7
    assert run(capsys, "seed", "--accounts", "2000", "--seed", "7")[0] == 0
    with open_session(database) as session:
        query = select(
            Account.id, Account.status, Account.has_login, Account.has_notify,
            Account.has_email_sync, Account.contact_count, Account.last_login_at,
            Account.search_text,
        ).order_by(Account.id)  # fmt: skip
        before = [tuple(row) for row in session.execute(query)]
        statuses = Counter(AccountStatus(row[1]) for row in before)
        assert all(statuses[status] > 100 for status in AccountStatus)
        assert session.scalar(select(func.count()).select_from(AccountContact)) > 3000
        access.refresh_accounts(session, None)
        session.flush()
        assert [tuple(row) for row in session.execute(query)] == before
        session.rollback()


def test_seed_accounts_adds_to_existing_data(database, capsys):
    assert run(capsys, "seed", "--demo")[0] == 0
    code, out, _ = run(capsys, "seed", "--accounts", "50")
    assert code == 0
    assert "seed 1" in out
    with open_session(database) as session:
        assert session.scalar(select(func.count(Account.id))) == 13 + 50
        assert staff.member_count(session) == 3
