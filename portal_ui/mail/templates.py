"""The emails' words and layout: Jinja2 templates with autoescaping, in the reader's language.

Every user-typed value (names, the personalized message, a notification's body) reaches the
HTML part only through autoescaping, so it is shown as text and never interpreted as HTML (R19).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from babel.dates import format_datetime
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import escape

from portal_ui.i18n import translator

log = logging.getLogger(__name__)

_env = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    # The templates ship with the code: compiled once, never looked at again on disk.
    auto_reload=False,
)


@dataclass(frozen=True)
class Email:
    """One email's content before it becomes a message (outbox.build_message)."""

    subject: str
    text: str
    html: str
    language: str


def _render(name: str, language: str, subject: str, **context: object) -> Email:
    _ = translator(language)
    context = {"_": _, "language": language, "subject": subject, **context}
    return Email(
        subject=subject,
        text=_env.get_template(f"{name}.txt").render(context),
        html=_env.get_template(f"{name}.html").render(context),
        language=language,
    )


def format_moment(moment: datetime, language: str) -> str:
    """A date and time as a reader of that language expects it (UTC, said so)."""
    return format_datetime(moment, "d MMMM y, HH:mm", locale=language) + " UTC"


def invitation_email(
    *,
    firm_name: str,
    address: str,
    account_names: list[str],
    message: str,
    link: str,
    expires_at: datetime,
    language: str,
    invited_by: str = "",
) -> Email:
    """R19: the firm, the personalized message as plain text, the accounts, the link, the expiry."""
    expires = format_moment(expires_at, language)
    shared = (firm_name, message, invited_by, expires, language)
    return _invitation(*shared, address, account_names, link)


def _invitation(
    firm_name: str,
    message: str,
    invited_by: str,
    expires: str,
    language: str,
    address: str,
    account_names: list[str],
    link: str,
) -> Email:
    _ = translator(language)
    return _render(
        "invitation",
        language,
        _("Your invitation to the {firm} client portal").format(firm=firm_name),
        firm_name=firm_name,
        address=address,
        account_names=account_names,
        message=message,
        link=link,
        expires=expires,
        invited_by=invited_by,
    )


# Where a recipient's own values go in a batch's rendered invitation (private-use characters:
# autoescaping and str.format leave them as they are).
_MARK = "\ue000{}\ue001"
_MARKS = re.compile("\ue000(\\w+)\ue001")
# Values that autoescaping changes, to check a shape against a real render.
_SAMPLE = {"address": "o'hara&co<x>@example.com", "link": 'http://x.test/a?b=1&c="<d>"'}


class InvitationBatch:
    """invitation_email for many addresses that share the firm, the personalized message, the
    expiry and the inviter (a bulk update, R12), about ten times faster than a render each.

    The templates are rendered once per language and number of accounts with markers where the
    address, the link and the account names go, and split there (a shape); each email joins the
    pieces with its own values, escaped for the HTML part exactly as autoescaping escapes them.
    This holds because the invitation templates only print those values (no test on them): a
    shape is checked against a real render of sample values, and a language and number of
    accounts whose shape differs is rendered for every email instead."""

    def __init__(
        self, *, firm_name: str, message: str, expires_at: datetime, invited_by: str = ""
    ) -> None:
        self._firm_name, self._message = firm_name, message
        self._expires_at, self._invited_by = expires_at, invited_by
        self._expires: dict[str, str] = {}
        # A shared value holding a marker (typed on purpose) would be taken for one.
        self._render_each = any("\ue000" in v for v in (firm_name, message, invited_by))

    def email(self, *, address: str, account_names: list[str], link: str, language: str) -> Email:
        """The invitation to one address, as invitation_email renders it."""
        expires = self._expires.get(language)
        if expires is None:
            expires = self._expires[language] = format_moment(self._expires_at, language)
        shared = (self._firm_name, self._message, self._invited_by, expires, language)
        shape = None if self._render_each else _shape(*shared, len(account_names))
        if shape is None:
            return _invitation(*shared, address, account_names, link)
        return shape.fill({"address": address, "link": link, **_names(account_names)})


@lru_cache(maxsize=256)
def _shape(
    firm_name: str, message: str, invited_by: str, expires: str, language: str, count: int
) -> _Shape | None:
    # Cached across batches: a bulk update's chunks share their shapes.
    shared = (firm_name, message, invited_by, expires, language)
    marks = [_MARK.format(f"name{n}") for n in range(count)]
    shape = _Shape(_invitation(*shared, _MARK.format("address"), marks, _MARK.format("link")))
    names = [f"<{n}> & 'co' \"{n}\"" for n in range(count)]
    sample = _invitation(*shared, _SAMPLE["address"], names, _SAMPLE["link"])
    if shape.fill({**_SAMPLE, **_names(names)}) != sample:
        log.warning("invitation shape %s differs from a render; rendering each", (language, count))
        return None
    return shape


def _names(account_names: list[str]) -> dict[str, str]:
    return {f"name{n}": name for n, name in enumerate(account_names)}


class _Shape:
    """A rendered email split at its markers: literal pieces, and the names of the values
    between them."""

    def __init__(self, marked: Email) -> None:
        self._email = marked
        self._text = _MARKS.split(marked.text)
        self._html = _MARKS.split(marked.html)

    def fill(self, values: dict[str, str]) -> Email:
        html_values = {name: str(escape(value)) for name, value in values.items()}
        return Email(
            subject=self._email.subject,
            text=_join(self._text, values.__getitem__),
            html=_join(self._html, html_values.__getitem__),
            language=self._email.language,
        )


def _join(pieces: list[str], value: Callable[[str], str]) -> str:
    # re.split with a group: literal pieces at even places, marker names at odd places.
    return "".join([value(piece) if n % 2 else piece for n, piece in enumerate(pieces)])


def signup_email(
    *, firm_name: str, address: str, account_name: str, link: str, language: str
) -> Email:
    """R18: tells an assigned team member that a client activated, with a Go to link."""
    _ = translator(language)
    return _render(
        "signup",
        language,
        _("{address} activated the client portal").format(address=address),
        firm_name=firm_name,
        address=address,
        account_name=account_name,
        link=link,
    )


def client_notification_email(
    *,
    firm_name: str,
    account_name: str,
    subject: str,
    body: str,
    language: str,
    address: str = "",
    portal_link: str = "",
    activation_link: str = "",
    activation_expires_at: datetime | None = None,
) -> Email:
    """R28: a system notification to a client. The caller gives the subject and body (already
    in the reader's language); with an activation link (the address is still Pending) a banner
    on top carries that fresh link and its expiry."""
    if activation_link and activation_expires_at is None:
        raise ValueError("an activation link needs its expiry")
    expires = format_moment(activation_expires_at, language) if activation_expires_at else ""
    return _render(
        "notification",
        language,
        subject,
        firm_name=firm_name,
        account_name=account_name,
        body=body,
        address=address,
        portal_link=portal_link,
        activation_link=activation_link,
        activation_expires=expires,
    )


def password_reset_email(
    *, firm_name: str, address: str, link: str, expires_at: datetime, language: str
) -> Email:
    """A "Forgot password" link for a portal user: single use, expiring, safe to ignore."""
    _ = translator(language)
    return _render(
        "password_reset",
        language,
        _("Reset your password for the {firm} client portal").format(firm=firm_name),
        firm_name=firm_name,
        address=address,
        link=link,
        expires=format_moment(expires_at, language),
    )


def access_granted_email(
    *, firm_name: str, person: str, account_name: str, link: str, language: str
) -> Email:
    """R37: tells a client who already has portal access that another client gave them one
    more account (so the one who invited learns nothing about who already had access)."""
    _ = translator(language)
    return _render(
        "access_granted",
        language,
        _("You have access to {account} in the {firm} client portal").format(
            account=account_name, firm=firm_name
        ),
        firm_name=firm_name,
        person=person,
        account_name=account_name,
        link=link,
    )
