"""The embedded development SMTP server: keeps every message it receives in a Maildir folder
(data folder / dev-mailbox) so that `portal-ui serve` works with no mail server, and reads
them back for the /dev/mailbox page."""

from __future__ import annotations

import mailbox
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from aiosmtpd.smtp import Session as SmtpSession

from portal_ui.config import Settings

HOST = "127.0.0.1"
FOLDER = "dev-mailbox"
_LINK = re.compile(r"https?://[^\s<>\"']+")
_KEY_TIME = re.compile(r"^(\d+)\.M(\d+)P\d+Q(\d+)")  # how mailbox.Maildir names its files


@dataclass(frozen=True)
class ReceivedMail:
    """One message the embedded server received, as the /dev/mailbox page shows it."""

    key: str
    received_at: datetime
    sender: str
    to: str
    subject: str
    text: str
    html: str
    links: tuple[str, ...]


class DevSmtpServer:
    """A running embedded server: where it listens, and how to stop it."""

    def __init__(self, controller: Controller) -> None:
        self._controller = controller
        self.host: str = controller.hostname
        self.port: int = controller.port

    def stop(self) -> None:
        self._controller.stop()


def mailbox_folder(settings: Settings) -> Path:
    return settings.data_dir / FOLDER


def start(settings: Settings) -> DevSmtpServer:
    """Listen on 127.0.0.1, port PORTAL_DEV_SMTP_PORT or a free one (only this machine can
    send to it), in a thread of its own."""
    handler = _MaildirHandler(mailbox_folder(settings))
    controller = _Controller(
        handler, hostname=HOST, port=settings.dev_smtp_port, enable_SMTPUTF8=True
    )
    controller.start()
    return DevSmtpServer(controller)


def list_messages(settings: Settings, limit: int = 100) -> list[ReceivedMail]:
    """The `limit` newest messages, newest first (only those are read and parsed)."""
    box = _open(settings)
    if box is None:
        return []
    keys = sorted(box.keys(), key=_arrival, reverse=True)[:limit]
    found = (_read(box, key) for key in keys)
    return [mail for mail in found if mail is not None]


def get_message(settings: Settings, key: str) -> ReceivedMail | None:
    """One message by its key, or None when there is no such message."""
    box = _open(settings)
    return _read(box, key) if box is not None else None


class _Controller(Controller):
    """aiosmtpd's Controller, also able to listen on port 0 (a free port the system picks)."""

    def _trigger_server(self) -> None:
        if self.port == 0 and self.server is not None:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class _MaildirHandler:
    """Accepts every message and keeps it, with its envelope, in a Maildir folder."""

    def __init__(self, folder: Path) -> None:
        folder.parent.mkdir(parents=True, exist_ok=True)
        self._box = mailbox.Maildir(folder, create=True)

    async def handle_DATA(  # noqa: N802 (aiosmtpd's hook name)
        self, server: object, session: SmtpSession, envelope: Envelope
    ) -> str:
        content = envelope.original_content or b""
        envelope_headers = (
            f"X-MailFrom: {envelope.mail_from}\r\nX-RcptTo: {', '.join(envelope.rcpt_tos)}\r\n"
        )
        # Stored with Unix line ends, as mailbox files usually are.
        raw = (envelope_headers.encode() + content).replace(b"\r\n", b"\n")
        self._box.add(raw)
        return "250 Message accepted for delivery"


def _open(settings: Settings) -> mailbox.Maildir | None:
    folder = mailbox_folder(settings)
    if not (folder / "new").is_dir():
        return None
    return mailbox.Maildir(folder, create=False)


def _arrival(key: str) -> tuple[int, int, int]:
    """Seconds, microseconds and a counter, as mailbox.Maildir writes them into each key."""
    found = _KEY_TIME.match(key)
    if found is None:
        return (0, 0, 0)
    seconds, micros, counter = (int(part) for part in found.groups())
    return (seconds, micros, counter)


def _read(box: mailbox.Maildir, key: str) -> ReceivedMail | None:
    try:
        raw = box.get_bytes(key)
    except (KeyError, FileNotFoundError):
        return None
    parsed = cast(EmailMessage, message_from_bytes(raw, policy=policy.default))
    seconds, micros, _ = _arrival(key)
    text = _body(parsed, "plain")
    html = _body(parsed, "html")
    return ReceivedMail(
        key=key,
        received_at=datetime.fromtimestamp(seconds + micros / 1e6, UTC),
        sender=str(parsed.get("From", parsed.get("X-MailFrom", ""))),
        to=str(parsed.get("To", parsed.get("X-RcptTo", ""))),
        subject=str(parsed.get("Subject", "")),
        text=text,
        html=html,
        links=_links(text or html),
    )


def _body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    if part is None:
        return ""
    try:
        return str(part.get_content())
    except (LookupError, UnicodeDecodeError):
        return part.get_payload(decode=True).decode("utf-8", "replace")  # type: ignore[union-attr]


def _links(text: str) -> tuple[str, ...]:
    """The links of a message, in order, once each (a sentence's full stop is not a link's)."""
    links = (link.rstrip(".,;:!?)") for link in _LINK.findall(text))
    return tuple(dict.fromkeys(links))
