"""Builders for client-side tests: invited and activated clients, and links read from the outbox
(as a client reads them from the email)."""

from __future__ import annotations

import re
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

from sqlalchemy import select
from sqlmodel import Session, col

from portal_ui import access_rows, contacts, invitations
from portal_ui.config import Settings, load_settings
from portal_ui.mail.outbox import build_message
from portal_ui.models import Account, ContactEmail, OutboxMessage, PortalUser, TeamMember
from tests.factories import actor_for, emails_of, make_account

CLIENT_PASSWORD = "Blue-Otter-Sings-77"
_LINK = re.compile(r"https?://\S+/(?:activate|portal/reset)/([A-Za-z0-9_\-]+)")


def invite(
    session: Session,
    settings: Settings,
    member: TeamMember,
    account: Account,
    email: ContactEmail,
    now: datetime | None = None,
) -> str:
    """Login on with Send (R9); returns the link's token."""
    issued = access_rows.set_login(
        session, settings, account.id, email.id, True, actor_for(member),
        send_invitation=True, now=now,
    )  # fmt: skip
    assert issued is not None
    return issued.link.rsplit("/", 1)[1]


def activated_client(
    session: Session, settings: Settings, member: TeamMember, accounts: list[Account]
) -> tuple[ContactEmail, PortalUser]:
    """The first address of the first account, given Login on every account and activated."""
    email = emails_of(session, accounts[0])[0]
    for account in accounts[1:]:
        contacts.link_contact(session, account.id, email.contact_id)
    token = invite(session, settings, member, accounts[0], email)
    for account in accounts[1:]:
        access_rows.set_login(session, settings, account.id, email.id, True, actor_for(member))
    user = invitations.activate(session, settings, token, CLIENT_PASSWORD)
    session.flush()
    return email, user


def two_clients(
    session: Session, settings: Settings, member: TeamMember
) -> tuple[tuple[ContactEmail, PortalUser], tuple[ContactEmail, PortalUser]]:
    """Two activated clients, each on an account of its own."""
    first = make_account(session, settings, "Alpha Ltd")
    second = make_account(session, settings, "Beta Ltd")
    return activated_client(session, settings, member, [first]), activated_client(
        session, settings, member, [second]
    )


def messages_to(
    session: Session, address: str, settings: Settings | None = None
) -> list[EmailMessage]:
    """The emails queued for an address, built as the sender builds them (the settings name the
    sender; any will do to read the content)."""
    settings = settings or load_settings()
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.to_address == address)
        .order_by(col(OutboxMessage.id))
    )
    return [
        message_from_bytes(build_message(settings, row), policy=policy.default)  # type: ignore[misc]
        for row in session.scalars(query)
    ]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part else ""


def token_in(message: EmailMessage) -> str:
    found = _LINK.search(text_of(message))
    assert found, "the email carries no link"
    return found.group(1)
