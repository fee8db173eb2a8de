"""What the emails say and how they are built (R19, R16, R28, R31a)."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parseaddr, parsedate_to_datetime

from portal_ui import access_rows, contacts
from portal_ui.clock import utcnow
from portal_ui.mail import outbox, templates
from portal_ui.models import Contact, OutboxMessage
from tests.factories import actor_for, emails_of, make_account, make_member

T0 = utcnow()
HOSTILE = "Welcome!\n<script>alert('x')</script> and <b>bold</b> & co"


def parse(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None, "an email has a text and an HTML part"
    return text.get_content(), html.get_content()


def send_invitation(session, settings, message: str = "", language: str | None = None):
    """An address on two accounts (Login on both), invited through the real services."""
    member = make_member(session, name="Alice Staff")
    first = make_account(session, settings, name="Zeta Holdings")
    second = make_account(session, settings, name="Alpha & Sons")
    email = emails_of(session, first)[0]
    contact_id = email.contact_id
    contacts.link_contact(session, second.id, contact_id)
    if language:
        session.get(Contact, contact_id).language = language
    actor = actor_for(member)
    access_rows.set_login(session, settings, second.id, email.id, True, actor, now=T0)
    issued = access_rows.set_login(
        session, settings, first.id, email.id, True, actor, send_invitation=True,
        message=message, now=T0,
    )  # fmt: skip
    session.commit()
    row = session.get(OutboxMessage, issued.invitation.outbox_id)
    return issued, email, parse(outbox.build_message(settings, row))


def test_the_invitation_names_the_firm_the_accounts_the_link_and_the_expiry(session, settings):
    # R19 R16: firm, accounts, link and when it expires, in both parts.
    issued, email, message = send_invitation(session, settings, message="See you soon")
    text, html = parts(message)
    expires = templates.format_moment(issued.invitation.expires_at, "en")

    assert "Test Firm" in message["Subject"]
    assert message["To"] == email.address
    for part in (text, html):
        assert "Test Firm" in part
        assert issued.link in part
        assert expires in part
        assert "See you soon" in part
        assert "Invited by: Alice Staff" in part
    assert "- Alpha & Sons\n- Zeta Holdings" in text
    assert "<li>Alpha &amp; Sons</li>" in html and "<li>Zeta Holdings</li>" in html


def test_the_personalized_message_is_never_interpreted_as_html(session, settings):
    # R19: the message is plain text: shown as typed, never as markup.
    _, _, message = send_invitation(session, settings, message=HOSTILE)
    text, html = parts(message)

    assert HOSTILE in text
    assert "<script>" not in html and "<b>" not in html
    assert (
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; and &lt;b&gt;bold&lt;/b&gt; &amp; co"
        in html
    )


def test_every_email_has_a_named_sender_a_date_and_a_message_id(session, settings):
    # R19 R22a: a well-formed message, so that relays and clients accept and thread it.
    _, _, message = send_invitation(session, settings)

    name, address = parseaddr(message["From"])
    assert (name, address) == ("Test Firm", settings.mail_from)
    assert parsedate_to_datetime(message["Date"]) == T0.replace(microsecond=0)
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith(">")
    assert message.get_content_type() == "multipart/alternative"


def test_the_invitation_is_in_the_contact_language(session, settings):
    # R31a: the contact's language decides the email's language.
    issued, _, message = send_invitation(session, settings, language="fr")
    _, html = parts(message)

    assert message["Content-Language"] == "fr"
    assert '<html lang="fr">' in html
    assert templates.format_moment(issued.invitation.expires_at, "fr") in html


def test_a_firm_name_with_accents_and_quotes_stays_whole_in_the_sender_and_subject(
    session, settings
):
    # R19: the firm is named correctly whatever its name holds.
    settings = settings.model_copy(update={"firm_name": 'Société "Dupont", Associés'})
    email = templates.password_reset_email(
        firm_name=settings.firm_name, address="a@example.com", link="http://portal.test/r/1",
        expires_at=T0, language="fr",
    )  # fmt: skip
    row = outbox.enqueue(session, settings, to="a@example.com", email=email, kind="reset", now=T0)
    message = parse(outbox.build_message(settings, row))

    assert parseaddr(str(message["From"])) == (settings.firm_name, settings.mail_from)
    assert settings.firm_name in str(message["Subject"])
    assert settings.firm_name in parts(message)[0]


def test_a_notification_to_a_pending_address_starts_with_an_activation_banner():
    # R28: the banner, with the fresh link and its expiry, comes before the notification.
    expires_at = T0 + timedelta(days=7)
    email = templates.client_notification_email(
        firm_name="Test Firm", account_name="Acme", subject="New document", body=HOSTILE,
        language="en", address="client@example.com",
        activation_link="http://portal.test/activate/fresh", activation_expires_at=expires_at,
    )  # fmt: skip
    expires = templates.format_moment(expires_at, "en")

    for part in (email.text, email.html):
        assert "http://portal.test/activate/fresh" in part
        assert expires in part
        banner = part.index("http://portal.test/activate/fresh")
        assert banner < part.index("Acme") and banner < part.index("Welcome!")
    assert HOSTILE in email.text
    assert "<script>" not in email.html and "<b>" not in email.html


def test_a_notification_to_an_active_address_has_no_banner():
    # R28
    email = templates.client_notification_email(
        firm_name="Test Firm", account_name="Acme", subject="New document",
        body="A new document is waiting.", language="en",
        portal_link="http://portal.test/portal",
    )  # fmt: skip

    assert "activate" not in email.text.lower() and "activate" not in email.html.lower()
    assert "A new document is waiting." in email.text
    assert "http://portal.test/portal" in email.html
    assert email.subject == "New document"


def test_the_password_reset_email_gives_the_link_its_expiry_and_says_to_ignore_it():
    expires_at = T0 + timedelta(hours=1)
    email = templates.password_reset_email(
        firm_name="Test <Firm>", address="client@example.com",
        link="http://portal.test/portal/reset/abc", expires_at=expires_at, language="en",
    )  # fmt: skip

    for part in (email.text, email.html):
        assert "http://portal.test/portal/reset/abc" in part
        assert templates.format_moment(expires_at, "en") in part
        assert "If you did not ask for this, ignore this email" in part
    assert "Test <Firm>" in email.text
    assert "Test &lt;Firm&gt;" in email.html and "<Firm>" not in email.html


def test_each_email_speaks_its_reader_language():
    # R31a: the language decides the lang attribute and how dates are written.
    for language in ("en", "fr", "es", "it"):
        email = templates.password_reset_email(
            firm_name="F", address="a@example.com", link="http://l", expires_at=T0,
            language=language,
        )  # fmt: skip
        assert f'<html lang="{language}">' in email.html
        assert email.language == language
        assert templates.format_moment(T0, language) in email.text


def test_a_bulk_update_renders_each_invitation_as_a_single_send_would():
    # R12 R19: the batch renderer (rendered once, filled per address) writes the same emails,
    # escaping in the HTML part exactly as the template does.
    expires_at = T0 + timedelta(days=7)
    shared = {"firm_name": 'Dupont & "Fils" <SA>', "message": HOSTILE, "invited_by": "Al <a>"}
    batch = templates.InvitationBatch(**shared, expires_at=expires_at)
    recipients = [
        ("o'hara&co@example.com", ["Alpha & Sons"], "http://portal.test/activate/a?x=1&y=<2>"),
        ("b@example.com", ["<b>Beta</b>", "Gamma 'G'"], "http://portal.test/activate/b"),
        ("c@example.com", [], "http://portal.test/activate/c"),
        ("d@example.com", ["Delta"], "http://portal.test/activate/d"),
    ]
    for language in ("en", "fr", "es", "it"):
        for address, names, link in recipients:
            expected = templates.invitation_email(
                **shared, address=address, account_names=names, link=link,
                expires_at=expires_at, language=language,
            )  # fmt: skip
            email = batch.email(address=address, account_names=names, link=link, language=language)
            assert email == expected


def test_a_typed_marker_character_cannot_mix_up_the_emails_of_a_bulk_update():
    # R12 R19: the batch renderer's markers are private-use characters; typed ones stay text.
    marker = "\ue000link\ue001 \ue000address\ue001"
    batch = templates.InvitationBatch(firm_name="F", message=marker, expires_at=T0)
    email = batch.email(
        address="a@example.com", account_names=["A"], link="http://l/1", language="en"
    )

    assert marker in email.text
    assert email.text.count("http://l/1") == 1


def test_a_message_reads_back_exactly_whatever_its_parts_hold(session, settings):
    # R19 R22a: accents, long lines, CRLF, a line like a MIME boundary: the parts read back as
    # written (line breaks as LF) and every line stays within the 998 characters of RFC 5322.
    text = "Héllo\r\n--=_ not a boundary\r" + "x" * 1500 + "\n-- \nfin"
    html = "<p>" + "y" * 1200 + "</p>\n<p>=_ ==</p>"
    email = templates.Email(subject="Café " * 30, text=text, html=html, language="fr")
    row = outbox.enqueue(session, settings, to="a@example.com", email=email, kind="test", now=T0)

    raw = outbox.build_message(settings, row)
    message = parse(raw)

    assert raw == outbox.build_message(settings, row)
    assert parts(message) == (text.replace("\r\n", "\n").replace("\r", "\n"), html)
    assert str(message["Subject"]) == ("Café " * 30).strip()
    assert message["Content-Language"] == "fr"
    assert all(len(line) <= 998 for line in raw.split(b"\n"))
    assert not message.defects and not any(part.defects for part in message.walk())
