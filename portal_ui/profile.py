"""The profile Info tab's view (R25-R27): the account header, its contacts, their phones and
addresses, and each address's access row on this account, read in a fixed handful of queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from portal_ui import access, contacts, inputs
from portal_ui.accounts import AccountHeader, account_header
from portal_ui.config import Settings
from portal_ui.errors import DomainError
from portal_ui.models import (
    NOTIFICATION_CATEGORIES,
    AccessRow,
    AccessState,
    AccountContact,
    Contact,
    ContactEmail,
    ContactPhone,
    DeliveryState,
    Invitation,
    InvitationState,
    OutboxMessage,
)

FIND_LIMIT = 20


@dataclass(frozen=True)
class AddressView:
    """One address of a contact and its access row on this account (R2, R6, R22, R25)."""

    email_id: int
    address: str
    invalid_reason: str | None
    login: bool
    notify: bool
    email_sync: bool
    signatory: bool
    preferences: dict[str, bool]
    state: AccessState
    activated: bool
    # The outstanding invitation (R14) and the delivery of its email (R22a), if any.
    invite_sent_at: datetime | None
    delivery_state: DeliveryState | None
    delivery_error: str | None
    # R27: this new address waits to replace an activated one.
    replaces_address: str | None

    @property
    def has_outstanding_invitation(self) -> bool:
        return self.invite_sent_at is not None

    @property
    def can_send_invitation(self) -> bool:
        """Send / Resend makes sense: Login on here, not activated, deliverable (R10, R22)."""
        return self.login and not self.activated and not self.invalid_reason


@dataclass(frozen=True)
class ContactView:
    id: int
    name: str
    language: str | None
    phones: tuple[str, ...]
    addresses: tuple[AddressView, ...]


@dataclass(frozen=True)
class Profile:
    """Everything the Info tab shows."""

    header: AccountHeader
    contacts: tuple[ContactView, ...]


@dataclass(frozen=True)
class ContactMatch:
    """A contact found by name or address, to link to an account (R26)."""

    id: int
    name: str
    addresses: tuple[str, ...]
    linked: bool


def profile(session: Session, account_id: int) -> Profile:
    """The Info tab of one account; raises NotFound for an unknown account."""
    header = account_header(session, account_id)
    contacts = _linked_contacts(session, account_id)
    ids = [contact.id or 0 for contact in contacts]
    phones = _phones(session, ids)
    addresses = _addresses(session, account_id, ids)
    views = tuple(
        ContactView(
            id=contact.id or 0,
            name=contact.name,
            language=contact.language,
            phones=tuple(phones.get(contact.id or 0, ())),
            addresses=tuple(addresses.get(contact.id or 0, ())),
        )
        for contact in contacts
    )
    return Profile(header=header, contacts=views)


def find_contacts(
    session: Session, search: str, account_id: int | None = None, limit: int = FIND_LIMIT
) -> list[ContactMatch]:
    """Contacts whose name or one of whose addresses contains `search` (case-insensitive),
    by name; `linked` says whether each is already linked to `account_id`."""
    term = search.strip().lower()
    if not term:
        return []
    address_matches = exists().where(
        ContactEmail.contact_id == Contact.id,
        col(ContactEmail.address).contains(term, autoescape=True),
    )
    query = (
        select(Contact)
        .where(or_(func.lower(Contact.name).contains(term, autoescape=True), address_matches))
        .order_by(Contact.name, Contact.id)
        .limit(max(1, min(limit, 100)))
    )
    found = list(session.scalars(query))
    ids = [contact.id or 0 for contact in found]
    addresses = _plain_addresses(session, ids)
    linked = _linked_ids(session, account_id, ids) if account_id is not None else set()
    return [
        ContactMatch(
            id=contact.id or 0,
            name=contact.name,
            addresses=tuple(addresses.get(contact.id or 0, ())),
            linked=(contact.id or 0) in linked,
        )
        for contact in found
    ]


def _linked_contacts(session: Session, account_id: int) -> list[Contact]:
    query = (
        select(Contact)
        .join(AccountContact, AccountContact.contact_id == Contact.id)
        .where(AccountContact.account_id == account_id)
        .order_by(Contact.name, Contact.id)
    )
    return list(session.scalars(query))


def _phones(session: Session, contact_ids: list[int]) -> dict[int, list[str]]:
    if not contact_ids:
        return {}
    query = (
        select(ContactPhone.contact_id, ContactPhone.number)
        .where(col(ContactPhone.contact_id).in_(contact_ids))
        .order_by(ContactPhone.id)
    )
    phones: dict[int, list[str]] = defaultdict(list)
    for contact_id, number in session.execute(query):
        phones[contact_id].append(number)
    return phones


def _addresses(
    session: Session, account_id: int, contact_ids: list[int]
) -> dict[int, list[AddressView]]:
    """Every address of these contacts with its row on this account, activation, outstanding
    invitation and its email's delivery, in one query (at most one outstanding, R14)."""
    if not contact_ids:
        return {}
    replaced = aliased(ContactEmail)
    query = (
        select(
            ContactEmail,
            AccessRow,
            access.access_state_expr(),
            access.email_is_activated(ContactEmail.id),
            Invitation.created_at,
            OutboxMessage.state,
            OutboxMessage.last_error,
            replaced.address,
        )
        .outerjoin(
            AccessRow,
            and_(AccessRow.email_id == ContactEmail.id, AccessRow.account_id == account_id),
        )
        .outerjoin(
            Invitation,
            and_(
                Invitation.email_id == ContactEmail.id,
                Invitation.state == InvitationState.OUTSTANDING.value,
            ),
        )
        .outerjoin(OutboxMessage, OutboxMessage.id == Invitation.outbox_id)
        .outerjoin(replaced, replaced.id == ContactEmail.replaces_email_id)
        .where(col(ContactEmail.contact_id).in_(contact_ids))
        .order_by(ContactEmail.contact_id, ContactEmail.created_at, ContactEmail.id)
    )
    views: dict[int, list[AddressView]] = defaultdict(list)
    for email, row, state, activated, sent_at, delivery, error, replaces in session.execute(query):
        views[email.contact_id].append(
            _address_view(
                email, row, AccessState(state), bool(activated), sent_at, delivery, error, replaces
            )
        )
    return views


def _address_view(
    email: ContactEmail,
    row: AccessRow | None,
    state: AccessState,
    activated: bool,
    sent_at: datetime | None,
    delivery: str | None,
    error: str | None,
    replaces: str | None,
) -> AddressView:
    row = row or AccessRow(account_id=0, email_id=email.id or 0)
    return AddressView(
        email_id=email.id or 0,
        address=email.address,
        invalid_reason=email.invalid_reason,
        login=row.login,
        notify=row.notify,
        email_sync=row.email_sync,
        signatory=row.signatory,
        preferences={name: bool(getattr(row, name)) for name in NOTIFICATION_CATEGORIES},
        state=state,
        activated=activated,
        invite_sent_at=sent_at,
        delivery_state=DeliveryState(delivery) if delivery else None,
        delivery_error=error,
        replaces_address=replaces,
    )


def _plain_addresses(session: Session, contact_ids: list[int]) -> dict[int, list[str]]:
    if not contact_ids:
        return {}
    query = (
        select(ContactEmail.contact_id, ContactEmail.address)
        .where(col(ContactEmail.contact_id).in_(contact_ids))
        .order_by(ContactEmail.created_at, ContactEmail.id)
    )
    addresses: dict[int, list[str]] = defaultdict(list)
    for contact_id, address in session.execute(query):
        addresses[contact_id].append(address)
    return addresses


def _linked_ids(session: Session, account_id: int, contact_ids: list[int]) -> set[int]:
    if not contact_ids:
        return set()
    query = select(AccountContact.contact_id).where(
        AccountContact.account_id == account_id, col(AccountContact.contact_id).in_(contact_ids)
    )
    return set(session.scalars(query))


class FieldRejected(DomainError):
    """One field of the New contact form was refused; `field` names it as the form does:
    "name", "address:<n>" or "phone:<n>" (n counts the form's fields, blank ones included)."""

    def __init__(self, field: str, error: DomainError) -> None:
        super().__init__(error.message, **error.params)
        self.field = field


def create_linked_contact(
    session: Session,
    settings: Settings,
    account_id: int,
    name: str,
    addresses: Sequence[str] = (),
    phones: Sequence[str] = (),
    language: str | None = None,
) -> Contact:
    """R26: a new contact with its addresses and phones, linked to this account in one step
    (each address gets an access row with every switch off). Blank entries are skipped. A form
    saves it: a wrong name, phone or address is refused (R38, R22), FieldRejected saying which."""
    try:
        inputs.clean_name(name)
    except DomainError as error:
        raise FieldRejected("name", error) from error
    for index, number in enumerate(phones):
        try:
            if number.strip():
                inputs.clean_phone(number)
        except DomainError as error:
            raise FieldRejected(f"phone:{index}", error) from error
    contact = contacts.create_contact(
        session, settings, name, phones=list(phones), language=language
    )
    for index, address in enumerate(addresses):
        if not address.strip():
            continue
        try:
            contacts.add_address(session, settings, contact.id or 0, address, refuse_invalid=True)
        except DomainError as error:
            raise FieldRejected(f"address:{index}", error) from error
    contacts.link_contact(session, account_id, contact.id or 0)
    return contact
