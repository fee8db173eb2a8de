"""The durable outbox (R22a): an email becomes a row in the same transaction as its cause.

The row keeps the rendered parts, not the message: the sender builds the message when it sends
it (build_message), a pure function of the row, so every attempt sends the same bytes and the
same Message-ID, and queueing thousands of invitations (a bulk update, R12) stays cheap."""

from __future__ import annotations

import binascii
import hashlib
import re
from datetime import UTC, datetime
from email.policy import compat32
from email.utils import format_datetime, formataddr, make_msgid
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlmodel import Session

from portal_ui import events
from portal_ui.batch_sql import ids_after, insert_rows
from portal_ui.clock import utcnow
from portal_ui.config import Settings
from portal_ui.mail.templates import Email
from portal_ui.models import DeliveryState, OutboxMessage

_MAX_LINE = 998  # RFC 5322: longer lines must be encoded
_HEADER_LINE = 78  # RFC 5322: header lines should be folded beyond this
_NEWLINES = re.compile(r"\r\n?")
_TABLE = OutboxMessage.__table__  # type: ignore[attr-defined]


class Stored(Protocol):
    """What build_message reads: an OutboxMessage, or the columns the sender claimed."""

    @property
    def to_address(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def message_id(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def language(self) -> str: ...
    @property
    def text_body(self) -> str: ...
    @property
    def html_body(self) -> str: ...


def build_message(settings: Settings, message: Stored) -> bytes:
    """The message as sent: named sender, Date (when it was queued), Message-ID, a text and an
    HTML part, with a MIME boundary derived from the Message-ID: the same row always gives the
    same bytes. Written out directly rather than through email.mime and its generator, which
    took ten times longer (R22a: the sender builds every message it sends)."""
    text = _part(message.text_body, "plain")
    html = _part(message.html_body, "html")
    boundary = _boundary(message.message_id, text, html)
    head = (
        f'Content-Type: multipart/alternative;\n boundary="{boundary}"\n'
        "MIME-Version: 1.0\n"
        f"{_from(settings.firm_name, settings.mail_from)}"
        f"{_header('To', message.to_address)}"
        f"{_subject(message.subject)}"
        f"{_date(message.created_at)}"
        f"{_header('Message-ID', message.message_id)}"
    )
    if message.language:
        head += _header("Content-Language", message.language)
    body = f"\n--{boundary}\n{text}\n--{boundary}\n{html}\n--{boundary}--\n"
    return (head + body).encode()


def _part(content: str, subtype: str) -> str:
    """A text part: 7-bit as it is when it can be, else quoted-printable UTF-8 (readable, and
    safe for any relay). Line breaks become LF, as in the rest of the message."""
    if "\r" in content:
        content = _NEWLINES.sub("\n", content)
    if content.isascii() and max(map(len, content.split("\n"))) <= _MAX_LINE:
        return (
            f'Content-Type: text/{subtype}; charset="us-ascii"\n'
            f"Content-Transfer-Encoding: 7bit\n\n{content}"
        )
    encoded = binascii.b2a_qp(content.encode(), istext=True).decode("ascii")
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\n'
        f"Content-Transfer-Encoding: quoted-printable\n\n{encoded}"
    )


def _boundary(message_id: str, *parts: str) -> str:
    """A boundary of the message's own: "=_" never occurs in quoted-printable text, and a 7-bit
    part that happens to hold it gets the next one in a fixed sequence."""
    boundary = "=_" + hashlib.sha256(message_id.encode()).hexdigest()[:40]
    while any(boundary in part for part in parts):
        boundary = "=_" + hashlib.sha256(boundary.encode()).hexdigest()[:40]
    return boundary


def _header(name: str, value: str) -> str:
    """One header line, folded and RFC 2047-encoded (non-ASCII) as the email package does."""
    line = f"{name}: {value}\n"
    if value.isascii() and len(line) <= _HEADER_LINE + 1 and "\n" not in value:
        return line
    return compat32.fold(name, value)


@lru_cache(maxsize=256)
def _date(moment: datetime) -> str:
    # The messages of one batch were mostly queued at the same moment.
    return f"Date: {format_datetime(moment.astimezone(UTC))}\n"


@lru_cache(maxsize=64)
def _subject(subject: str) -> str:
    # A bulk update's invitations share a few subjects: fold (and encode) each once.
    return _header("Subject", _one_line(subject))


@lru_cache(maxsize=8)
def _from(firm_name: str, address: str) -> str:
    # formataddr quotes or encodes a firm name with accents or quotes correctly (RFC 2047).
    return _header("From", formataddr((_one_line(firm_name), address)))


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
    row = OutboxMessage(**_row(settings, to, email, kind, email_id, now or utcnow()))
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
    if not emails:
        return []
    moment = now or utcnow()
    rows = [_row(settings, to, email, kind, email_id, moment) for to, email, email_id in emails]
    # Core, not the ORM's bulk INSERT (no per-row bookkeeping), and no RETURNING: see ids_after.
    before = session.scalar(select(func.max(_TABLE.c.id))) or 0
    insert_rows(session, _TABLE, rows)
    ids = ids_after(session, _TABLE, _TABLE.c.message_id, before)
    events.record(session, "outbox")
    return [ids[row["message_id"]] for row in rows]


def _row(
    settings: Settings, to: str, email: Email, kind: str, email_id: int | None, moment: datetime
) -> dict[str, Any]:
    return {
        "kind": kind,
        "to_address": to,
        "email_id": email_id,
        "subject": _one_line(email.subject),
        "message_id": make_msgid(domain=_domain(settings.mail_from)),
        "language": email.language,
        "text_body": email.text,
        "html_body": email.html,
        "state": DeliveryState.QUEUED.value,
        "attempts": 0,
        "created_at": moment,
        "next_attempt_at": moment,
    }


def _domain(mail_from: str) -> str:
    return mail_from.rsplit("@", 1)[-1] or "localhost"


def _one_line(value: str) -> str:
    """A header value never spans lines (a typed subject could hold a line break)."""
    return " ".join(value.split())
