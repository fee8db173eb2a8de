"""System notifications to clients (R28): only to access rows with Notify and the category on;
an address still Pending activation gets a fresh activation link in a banner on top."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from portal_ui import access, invitations
from portal_ui.activity import Actor
from portal_ui.clock import utcnow
from portal_ui.config import Settings
from portal_ui.errors import NotFound
from portal_ui.mail import outbox, templates
from portal_ui.models import NOTIFICATION_CATEGORIES, AccessRow, Account, ContactEmail


@dataclass(frozen=True)
class NotificationReport:
    """Who was notified, who also got a fresh activation link, and who could not be (R22)."""

    sent: tuple[str, ...]
    with_activation_link: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]


def notify_account(
    session: Session,
    settings: Settings,
    account_id: int,
    category: str,
    subject: str,
    body: str,
    now: datetime | None = None,
) -> NotificationReport:
    """Email one notification to the account's recipients for this category (R3, R28)."""
    if category not in NOTIFICATION_CATEGORIES:
        known = ", ".join(NOTIFICATION_CATEGORIES)
        raise ValueError(f"unknown category {category!r}; use one of: {known}")
    moment = now or utcnow()
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound()
    sent: list[str] = []
    banners: list[str] = []
    skipped: list[tuple[str, str]] = []
    for row, email in recipients(session, account_id, category):
        if email.invalid_reason:
            skipped.append((email.address, email.invalid_reason))
            continue
        pending = row.login and not access.is_activated(session, email.id or 0)
        compose = _composer(session, settings, account, email, subject, body)
        if pending:
            _send_with_fresh_link(session, settings, email.id or 0, compose, moment)
            banners.append(email.address)
        else:
            outbox.enqueue(
                session,
                settings,
                to=email.address,
                email=compose(),
                kind="notification",
                email_id=email.id,
                now=moment,
            )
        sent.append(email.address)
    return NotificationReport(tuple(sent), tuple(banners), tuple(skipped))


def recipients(
    session: Session, account_id: int, category: str
) -> list[tuple[AccessRow, ContactEmail]]:
    """R28: the access rows of the account with Notify on and this category on, by address."""
    query = (
        select(AccessRow, ContactEmail)
        .join(ContactEmail, ContactEmail.id == AccessRow.email_id)
        .where(
            AccessRow.account_id == account_id,
            col(AccessRow.notify),
            col(getattr(AccessRow, category)),
        )
        .order_by(col(ContactEmail.address))
    )
    return [(row, email) for row, email in session.execute(query).all()]


Composer = Callable[..., templates.Email]


def _composer(
    session: Session,
    settings: Settings,
    account: Account,
    email: ContactEmail,
    subject: str,
    body: str,
) -> Composer:
    """`compose(link, expires_at)`: the notification for one address in its contact's language
    (R31a); with an activation link it carries the banner instead of a portal link."""
    language = invitations.contact_language(session, settings, email)
    portal_link = f"{settings.public_base_url}/portal?account={account.id}"

    def compose(link: str = "", expires_at: datetime | None = None) -> templates.Email:
        return templates.client_notification_email(
            firm_name=settings.firm_name,
            account_name=account.name,
            subject=subject,
            body=body,
            language=language,
            address=email.address,
            portal_link="" if link else portal_link,
            activation_link=link,
            activation_expires_at=expires_at,
        )

    return compose


def _send_with_fresh_link(
    session: Session, settings: Settings, email_id: int, compose: Composer, moment: datetime
) -> None:
    """R14, R28: a new invitation supersedes the outstanding one; the notification carries its
    link. Who invited the address stays the same (R20): the system only renews the link."""
    previous = invitations.outstanding(session, email_id)
    issued = invitations.send_invitation(
        session, settings, email_id, Actor.system(), now=moment, carrier=compose
    )
    if previous is not None:
        issued.invitation.invited_by_member_id = previous.invited_by_member_id
        issued.invitation.invited_by_portal_user_id = previous.invited_by_portal_user_id
        session.add(issued.invitation)
