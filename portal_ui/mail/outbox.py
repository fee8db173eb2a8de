"""The durable outbox (R22a): an email becomes a row in the same transaction as its cause."""

from __future__ import annotations

from datetime import UTC, datetime
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, make_msgid

from sqlalchemy import insert
from sqlmodel import Session

from portal_ui import events
from portal_ui.clock import utcnow
from portal_ui.config import Settings
from portal_ui.mail.templates import Email
from portal_ui.models import DeliveryState, OutboxMessage

# Non-ASCII parts go out as quoted-printable UTF-8: 7-bit safe for any relay, still readable.
_UTF8 = Charset("utf-8")
_UTF8.body_encoding = QP
_MAX_LINE = 998  # RFC 5322: longer lines must be encoded


def build_message(settings: Settings, to: str, email: Email, now: datetime) -> Message:
    """A well-formed message: named sender, Date, Message-ID, a text and an HTML part.

    Built with email.mime rather than EmailMessage: several times faster, which counts when
    a bulk update queues thousands of invitations in one transaction."""
    message = MIMEMultipart("alternative")
    # formataddr encodes a firm name with accents or quotes correctly (RFC 2047).
    message["From"] = formataddr((_one_line(settings.firm_name), settings.mail_from))
    message["To"] = to
    message["Subject"] = _header(_one_line(email.subject))
    message["Date"] = format_datetime(now.astimezone(UTC))
    domain = settings.mail_from.rsplit("@", 1)[-1] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Content-Language"] = email.language
    message.attach(_part(email.text, "plain"))
    message.attach(_part(email.html, "html"))
    return message


def _part(content: str, subtype: str) -> MIMEText:
    lines = content.splitlines() or [""]
    if content.isascii() and max(map(len, lines)) <= _MAX_LINE:
        return MIMEText(content, subtype, "us-ascii")
    return MIMEText(content, subtype, _UTF8)


def _header(value: str) -> str | Header:
    return value if value.isascii() else Header(value, "utf-8")


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
        subject=_one_line(email.subject),
        message_id=message["Message-ID"],
        raw=message.as_bytes(),
        created_at=moment,
        next_attempt_at=moment,
    )
    session.add(row)
    session.flush()
    # Wakes the sender (sender.OutboxSender) as soon as the transaction commits.
    events.record(session, "outbox")
    return row


def enqueue_many(
    session: Session,
    settings: Settings,
    emails: list[tuple[str, Email, int | None]],
    *,
    kind: str,
    now: datetime | None = None,
) -> list[int]:
    """enqueue() for many (to, email, email id) at once, with one INSERT per batch instead of
    one ORM flush per email (a bulk update's invitations, R12); their ids, in the given order."""
    moment = now or utcnow()
    rows = []
    for to, email, email_id in emails:
        message = build_message(settings, to, email, moment)
        rows.append(
            {
                "kind": kind,
                "to_address": to,
                "email_id": email_id,
                "subject": _one_line(email.subject),
                "message_id": message["Message-ID"],
                "raw": message.as_bytes(),
                "state": DeliveryState.QUEUED.value,
                "attempts": 0,
                "created_at": moment,
                "next_attempt_at": moment,
            }
        )
    if not rows:
        return []
    statement = insert(OutboxMessage).returning(OutboxMessage.id, sort_by_parameter_order=True)
    ids = list(session.scalars(statement, rows))
    events.record(session, "outbox")
    return ids


def _one_line(value: str) -> str:
    """A header value never spans lines (a typed subject could hold a line break)."""
    return " ".join(value.split())
