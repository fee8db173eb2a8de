"""The embedded development SMTP server keeps what it receives for /dev/mailbox (CONTRACT)."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator

import pytest
from sqlmodel import Session

from portal_ui import access_rows
from portal_ui.clock import utcnow
from portal_ui.config import Settings
from portal_ui.mail import devserver
from portal_ui.mail.sender import OutboxSender
from tests.factories import actor_for, emails_of, make_account, make_member


@pytest.fixture
def dev_server(settings: Settings) -> Iterator[devserver.DevSmtpServer]:
    server = devserver.start(settings)  # settings.dev_smtp_port is 0: a free port
    yield server
    server.stop()


def invite(session: Session, settings: Settings, message: str = "") -> str:
    """Send one invitation through the real services; return its link."""
    member = make_member(session)
    account = make_account(session, settings, name="Acme Ltd")
    email = emails_of(session, account)[0]
    issued = access_rows.set_login(
        session, settings, account.id, email.id, True, actor_for(member),
        send_invitation=True, message=message,
    )  # fmt: skip
    session.commit()
    return issued.link


async def test_the_embedded_server_keeps_every_message_newest_first(
    engine, session, settings, dev_server
):
    # R22a, CONTRACT /dev/mailbox: what the outbox delivers can be read back.
    sender = OutboxSender(engine, settings, host=dev_server.host, port=dev_server.port)
    first_link = invite(session, settings)
    assert await sender.deliver_due() == 1
    second_link = invite(session, settings, message="Hello <b>there</b>")
    assert await sender.deliver_due() == 1

    newest, oldest = devserver.list_messages(settings)

    assert first_link in oldest.links and second_link in newest.links
    assert newest.received_at >= oldest.received_at
    assert "Test Firm" in newest.subject and "Test Firm" in newest.sender
    assert "Hello <b>there</b>" in newest.text
    assert "Hello &lt;b&gt;there&lt;/b&gt;" in newest.html
    assert newest.to.endswith("@example.com")
    assert devserver.get_message(settings, newest.key) == newest
    assert (settings.data_dir / "dev-mailbox" / "new").is_dir()


async def test_the_mailbox_survives_a_restart_of_the_server(engine, session, settings):
    # The messages are files in the data folder, not memory.
    server = devserver.start(settings)
    try:
        sender = OutboxSender(engine, settings, port=server.port)
        link = invite(session, settings)
        assert await sender.deliver_due() == 1
    finally:
        server.stop()

    again = devserver.start(settings)
    again.stop()

    [kept] = devserver.list_messages(settings)
    assert link in kept.links


def test_the_mailbox_lists_at_most_the_limit(settings, dev_server):
    with smtplib.SMTP(dev_server.host, dev_server.port) as client:
        for n in range(3):
            client.sendmail(
                "a@example.com", ["b@example.com"], f"Subject: n{n}\n\nSee http://x.test/{n}.\n"
            )

    listed = devserver.list_messages(settings, limit=2)

    assert [m.subject for m in listed] == ["n2", "n1"]
    assert listed[0].links == ("http://x.test/2",)
    assert listed[0].received_at <= utcnow()


def test_an_unknown_or_hostile_key_finds_nothing(settings, dev_server):
    assert devserver.get_message(settings, "no-such-message") is None
    assert devserver.get_message(settings, "../../etc/passwd") is None


def test_an_empty_mailbox_lists_nothing(settings):
    assert devserver.list_messages(settings) == []
