"""The durable outbox (R22a): an email becomes a row in the same transaction as its cause."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlmodel import Session

from portal_ui import events
from portal_ui.clock import utcnow
from portal_ui.config import Settings
from portal_ui.mail.templates import Email
from portal_ui.models import OutboxMessage


def build_message(settings: Settings, to: str, email: Email, now: datetime) -> EmailMessage:
    """A well-formed message: named sender, Date, Message-ID, a text and an HTML part."""
    message = EmailMessage()
    message["From"] = f'"{settings.firm_name}" <{settings.mail_from}>'
    message["To"] = to
    message["Subject"] = email.subject
    message["Date"] = format_datetime(now.astimezone(UTC))
    domain = settings.mail_from.rsplit("@", 1)[-1] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Content-Language"] = email.language
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message


def enqueue(
    session: Session,
    settings: Settings,
    *,
    to: str,
    email: Email,
    kind: str,
    email_id: int | None = None,
    now: datetime | None = None,
) -> OutboxMessage:
    """Queue one email; the sender delivers it once the surrounding transaction commits."""
    moment = now or utcnow()
    message = build_message(settings, to, email, moment)
    row = OutboxMessage(
        kind=kind,
        to_address=to,
        email_id=email_id,
        subject=email.subject,
        message_id=message["Message-ID"],
        raw=message.as_bytes(),
        created_at=moment,
        next_attempt_at=moment,
    )
    session.add(row)
    session.flush()
    events.record(session, "outbox")
    return row
