"""The emails' words and layout: Jinja2 templates with autoescaping, in the reader's language.

Every user-typed value (names, the personalized message, a notification's body) reaches the
HTML part only through autoescaping, so it is shown as text and never interpreted as HTML (R19).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from babel.dates import format_datetime
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from portal_ui.i18n import translator

_env = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
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
        expires=format_moment(expires_at, language),
        invited_by=invited_by,
    )


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
