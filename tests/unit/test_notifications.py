"""System notifications to clients (R28): the right recipients, and an activation banner with a
fresh link for addresses still Pending activation."""

import pytest
from alembic import command
from sqlalchemy import select
from sqlmodel import Session

from portal_ui import access_rows, cli, contacts, invitations, notifications
from portal_ui.config import load_settings
from portal_ui.db import alembic_config, make_engine
from portal_ui.errors import InvalidToken, TokenProblem
from portal_ui.models import Invitation
from tests.clients import activated_client, invite, messages_to, text_of, token_in
from tests.factories import actor_for, emails_of, make_account, make_contact, make_member

CATEGORY = "invoices_payments"
BANNER = "is not activated yet"


@pytest.fixture
def member(session):
    return make_member(session)


def notify_on(session, account, email, member, **preferences) -> None:
    """Notify on (R3: all nine categories), then these categories set as given."""
    access_rows.set_switch(session, account.id, email.id, "notify", True, actor_for(member))
    if preferences:
        access_rows.set_preferences(session, account.id, email.id, preferences, actor_for(member))


def send(session, settings, account):
    return notifications.notify_account(
        session, settings, account.id, CATEGORY, "Your invoice is ready", "Invoice 42: 120 EUR."
    )


def test_only_rows_with_notify_and_the_category_on_receive_it(session, settings, member):  # R28
    account = make_account(session, settings, "Alpha Ltd", contacts_count=3)
    wants, category_off, notify_off = emails_of(session, account)
    notify_on(session, account, wants, member)
    notify_on(session, account, category_off, member, **{CATEGORY: False})
    report = send(session, settings, account)
    assert report.sent == (wants.address,)
    assert messages_to(session, category_off.address) == []
    assert messages_to(session, notify_off.address) == []
    message = messages_to(session, wants.address)[0]
    assert message["Subject"] == "Your invoice is ready"
    assert "Invoice 42: 120 EUR." in text_of(message)


def test_an_active_address_gets_a_portal_link_and_no_banner(session, settings, member):  # R28
    account = make_account(session, settings, "Alpha Ltd")
    email, _user = activated_client(session, settings, member, [account])
    notify_on(session, account, email, member)
    report = send(session, settings, account)
    assert report.with_activation_link == ()
    text = text_of(messages_to(session, email.address)[-1])
    assert BANNER not in text and f"/portal?account={account.id}" in text


def test_a_pending_address_gets_a_banner_with_a_fresh_link(session, settings, member):
    # R14 R28 R20
    account = make_account(session, settings, "Alpha Ltd")
    email = emails_of(session, account)[0]
    old_token = invite(session, settings, member, account, email)
    notify_on(session, account, email, member)
    report = send(session, settings, account)
    assert report.with_activation_link == (email.address,)
    received = messages_to(session, email.address)
    assert len(received) == 2  # the invitation, then one notification carrying the new link
    text = text_of(received[-1])
    assert BANNER in text and text.index(BANNER) < text.index("Invoice 42")
    fresh = token_in(received[-1])
    assert invitations.check_link(session, settings, fresh).address == email.address
    with pytest.raises(InvalidToken) as old:
        invitations.check_link(session, settings, old_token)
    assert old.value.problem is TokenProblem.SUPERSEDED
    newest = invitations.outstanding(session, email.id)
    assert newest.invited_by_member_id == member.id  # who invited does not change


def test_a_pending_address_never_invited_gets_its_first_link(session, settings, member):  # R28
    account = make_account(session, settings, "Alpha Ltd")
    email = emails_of(session, account)[0]
    access_rows.set_login(session, settings, account.id, email.id, True, actor_for(member))
    notify_on(session, account, email, member)
    send(session, settings, account)
    assert invitations.check_link(
        session, settings, token_in(messages_to(session, email.address)[0])
    )
    assert len(session.scalars(select(Invitation)).all()) == 1


def test_an_address_without_login_gets_the_notification_without_banner(
    session, settings, member
):  # R28
    account = make_account(session, settings, "Alpha Ltd")
    email = emails_of(session, account)[0]
    notify_on(session, account, email, member)
    report = send(session, settings, account)
    assert report.sent == (email.address,) and report.with_activation_link == ()
    assert BANNER not in text_of(messages_to(session, email.address)[0])
    assert session.scalars(select(Invitation)).first() is None


def test_an_invalid_address_is_reported_not_sent(session, settings, member):  # R22 R28
    account = make_account(session, settings, "Alpha Ltd", contacts_count=0)
    contact = make_contact(session, settings, addresses=0)
    bad = contacts.add_address(session, settings, contact.id, "no-at-sign")
    contacts.link_contact(session, account.id, contact.id)
    notify_on(session, account, bad, member)
    report = send(session, settings, account)
    assert report.sent == () and report.skipped[0][0] == "no-at-sign"
    assert messages_to(session, "no-at-sign") == []


def test_an_unknown_category_is_refused(session, settings, member):  # R3
    account = make_account(session, settings, "Alpha Ltd")
    with pytest.raises(ValueError, match="unknown category"):
        notifications.notify_account(session, settings, account.id, "gossip", "s", "b")


@pytest.fixture
def command_database(database_url, tmp_path, monkeypatch):
    """A database the `portal-ui` commands open through PORTAL_DATABASE_URL (R39: SQLite,
    then PostgreSQL)."""
    monkeypatch.setenv("PORTAL_DATABASE_URL", database_url)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PORTAL_BASE_URL", "http://portal.test")
    engine = make_engine(database_url)  # the schema is there already
    command.stamp(alembic_config(engine), "head")
    yield engine
    engine.dispose()


def test_the_notify_command_queues_the_notification(command_database, tmp_path, capsys):
    # R28, CONTRACT.md commands
    settings = load_settings()
    with Session(command_database, expire_on_commit=False) as session:
        member = make_member(session)
        account = make_account(session, settings, "Alpha Ltd")
        email = emails_of(session, account)[0]
        notify_on(session, account, email, member)
        session.commit()
    body = tmp_path / "body.txt"
    body.write_text("Invoice 42: 120 EUR.")
    argv = ["notify", "--account", str(account.id), "--category", CATEGORY]
    assert cli.main([*argv, "--subject", "Your invoice", "--body-file", str(body)]) == 0
    assert "1" in capsys.readouterr().out
    with Session(command_database) as session:
        assert "Invoice 42" in text_of(messages_to(session, email.address)[0])


def test_the_notify_command_refuses_an_unknown_account_in_one_line(
    command_database, tmp_path, capsys
):  # CONTRACT.md commands
    body = tmp_path / "body.txt"
    body.write_text("Hello")
    argv = ["notify", "--account", "999", "--category", CATEGORY, "--subject", "S"]
    assert cli.main([*argv, "--body-file", str(body)]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "999" in error
