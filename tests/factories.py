"""Small builders that arrange a test's data through the real services."""

from __future__ import annotations

from itertools import count

from sqlmodel import Session

from portal_ui import contacts
from portal_ui.activity import Actor
from portal_ui.config import Settings
from portal_ui.models import Account, Contact, ContactEmail, TeamMember
from portal_ui.security import hash_password

_numbers = count(1)
_STAFF_HASH = hash_password("staff-password-1")


def make_member(session: Session, name: str = "Alice Staff", language: str = "en") -> TeamMember:
    n = next(_numbers)
    member = TeamMember(
        email=f"staff{n}@firm.test", name=name, password_hash=_STAFF_HASH, language=language
    )
    session.add(member)
    session.flush()
    return member


def actor_for(member: TeamMember) -> Actor:
    return Actor(name=member.name, member_id=member.id)


def make_contact(
    session: Session, settings: Settings, name: str = "", addresses: int = 1
) -> Contact:
    n = next(_numbers)
    return contacts.create_contact(
        session,
        settings,
        name or f"Contact {n}",
        addresses=[f"client{n}-{i}@example.com" for i in range(addresses)],
    )


def make_account(
    session: Session,
    settings: Settings,
    name: str = "",
    contacts_count: int = 1,
    addresses: int = 1,
) -> Account:
    n = next(_numbers)
    account = contacts.create_account(session, name or f"Account {n}")
    for _ in range(contacts_count):
        contact = make_contact(session, settings, addresses=addresses)
        contacts.link_contact(session, account.id or 0, contact.id or 0)
    return account


def emails_of(session: Session, account: Account) -> list[ContactEmail]:
    from sqlalchemy import select

    from portal_ui.models import AccessRow

    query = (
        select(ContactEmail)
        .join(AccessRow, AccessRow.email_id == ContactEmail.id)
        .where(AccessRow.account_id == account.id)
        .order_by(ContactEmail.id)
    )
    return list(session.scalars(query))
