"""/dev/mailbox (CONTRACT.md): the embedded SMTP server's messages, for team members only."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from nicegui.testing import User

from portal_ui.config import Settings
from portal_ui.mail import devserver
from tests.ui.staff_session import see, sign_in
from web import runtime

LINK = "http://portal.test/activate/abc123"
SCRIPT = "<script>window.hacked = 1</script>"


@pytest.fixture
def mail_server(ui_settings: Settings) -> Iterator[devserver.DevSmtpServer]:
    server = devserver.start(ui_settings)
    yield server
    server.stop()


def deliver(server: devserver.DevSmtpServer, subject: str, to: str) -> None:
    message = EmailMessage()
    message["From"] = "portal@firm.example.com"
    message["To"] = to
    message["Subject"] = subject
    message.set_content(f"Hello,\nActivate here: {LINK}\n")
    message.add_alternative(f"<p>Hello <b>there</b></p>{SCRIPT}<a href='{LINK}'>Go</a>", "html")
    with smtplib.SMTP(server.host, server.port) as smtp:
        smtp.send_message(message)


async def open_mailbox(user: User, server: devserver.DevSmtpServer, path: str = "/dev/mailbox"):
    await user.open("/login")  # builds the app, whose runtime the test then points at the server
    runtime.current().devserver = server
    await sign_in(user, path)


async def test_messages_are_listed_newest_first_with_subject_to_and_time(user, mail_server):
    deliver(mail_server, "First invitation", "anna@example.com")
    deliver(mail_server, "Second invitation", "bob@example.com")
    await open_mailbox(user, mail_server)

    await see(user, "Second invitation")
    items = sorted(user.find(marker="mail-item").elements, key=lambda element: element.id)
    texts = [" ".join(label.text for label in item.descendants() if hasattr(label, "text"))
             for item in items]  # fmt: skip
    assert "Second invitation" in texts[0] and "To: bob@example.com" in texts[0]
    assert "First invitation" in texts[1]
    assert "UTC" in texts[0]


async def test_a_message_shows_its_text_its_links_and_its_html_sandboxed(user, mail_server):
    deliver(mail_server, "Your invitation", "anna@example.com")
    await open_mailbox(user, mail_server)

    await see(user, "Your invitation")
    (text,) = user.find(marker="mail-text").elements
    assert f"Activate here: {LINK}" in text.text
    (link,) = user.find(marker="mail-link").elements
    assert link.props["href"] == LINK
    (frame,) = user.find(marker="mail-html").elements
    assert frame.tag == "iframe"
    assert "<b>there</b>" in frame.props["srcdoc"]
    assert "allow-scripts" not in frame.props["sandbox"]  # the script in it never runs
    assert "allow-same-origin" not in frame.props["sandbox"]


async def test_without_the_embedded_server_the_mailbox_is_not_available(user):
    await sign_in(user, "/inbox")
    response = await user.http_client.get("/dev/mailbox")
    assert response.status_code == 404
    assert "Not available" in response.text


async def test_the_mailbox_is_for_team_members_only(user, mail_server):
    await user.open("/login")
    runtime.current().devserver = mail_server
    response = await user.http_client.get("/dev/mailbox", follow_redirects=False)
    assert response.status_code in (302, 303, 307)
    assert response.headers["location"].startswith("/login")
