"""Accounts, contacts and their addresses (R1, R4, R5, R22, R26, R27)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, select
from sqlmodel import Session, col

from portal_ui import access, activity, inputs, invitations
from portal_ui.activity import Actor
from portal_ui.clock import utcnow
from portal_ui.config import Settings
from portal_ui.errors import AddressTaken, InvalidAddress, NotFound
from portal_ui.i18n import N_
from portal_ui.models import (
    NOTIFICATION_CATEGORIES,
    SWITCHES,
    AccessRow,
    Account,
    AccountAssignment,
    AccountContact,
    Contact,
    ContactEmail,
    ContactPhone,
)

EMPTY_NAME = inputs.EMPTY_NAME
EMPTY_ADDRESS = N_("Enter an email address.")
INVALID_ADDRESS = N_("This email address is invalid: {reason}")


def normalise_address(raw: str) -> str:
    """The stored form of an address (R1): trimmed and lower-cased, so it compares as people
    expect, whether or not its syntax is valid."""
    return raw.strip().lower()


def address_problem(address: str, check_dns: bool = False) -> str | None:
    """R22: why this address cannot receive mail (syntax, or with check_dns its domain), or
    None. The text is email-validator's own explanation."""
    try:
        validate_email(address, check_deliverability=check_dns)
    except EmailNotValidError as error:
        return str(error)
    return None


def checked_address(raw: str, check_dns: bool = False) -> str:
    """The stored form of an address a form is about to save (R38): InvalidAddress, saying
    why, when it is empty, too long (inputs.MAX_ADDRESS) or cannot receive mail (R22)."""
    address = normalise_address(raw)
    if not address:
        raise InvalidAddress(EMPTY_ADDRESS)
    inputs.check_address_length(address)
    problem = address_problem(address, check_dns)
    if problem:
        raise InvalidAddress(INVALID_ADDRESS, reason=problem)
    return address


def create_account(
    session: Session,
    name: str,
    *,
    is_test_client: bool = False,
    actor: Actor | None = None,
    assigned: Iterable[int] = (),
) -> Account:
    """R26: a new account (R4: maybe a test client; R5: with these team members assigned)."""
    name = inputs.clean_name(name)
    account = Account(name=name, is_test_client=is_test_client, search_text=name.lower())
    session.add(account)
    session.flush()
    for member_id in sorted(set(assigned)):
        session.add(AccountAssignment(account_id=account.id or 0, team_member_id=member_id))
    session.flush()
    access.refresh_accounts(session, [account.id or 0])
    return account


def rename_account(session: Session, account_id: int, name: str) -> Account:
    account = _get(session, Account, account_id)
    account.name = inputs.clean_name(name)
    session.add(account)
    session.flush()
    access.refresh_accounts(session, [account_id])
    return account


def set_test_client(session: Session, account_id: int, is_test_client: bool) -> Account:
    """R4."""
    account = _get(session, Account, account_id)
    account.is_test_client = is_test_client
    session.add(account)
    access.refresh_accounts(session, [account_id])
    return account


def assign_members(session: Session, account_id: int, member_ids: list[int]) -> None:
    """R5: exactly these team members are assigned to the account."""
    _get(session, Account, account_id)
    session.execute(delete(AccountAssignment).where(AccountAssignment.account_id == account_id))
    for member_id in sorted(set(member_ids)):
        session.add(AccountAssignment(account_id=account_id, team_member_id=member_id))
    session.flush()
    access.refresh_accounts(session, [account_id])


def create_contact(
    session: Session,
    settings: Settings,
    name: str,
    *,
    addresses: list[str] = (),  # type: ignore[assignment]
    phones: list[str] = (),  # type: ignore[assignment]
    language: str | None = None,
) -> Contact:
    """A contact with its addresses and phones (R1, R26); blank phones are skipped, and the
    name and the other phones follow R38 (InvalidName, InvalidPhone) before anything is
    written."""
    contact = Contact(name=inputs.clean_name(name), language=language)
    numbers = [inputs.clean_phone(number) for number in phones if number.strip()]
    session.add(contact)
    session.flush()
    for address in addresses:
        add_address(session, settings, contact.id or 0, address)
    for number in numbers:
        session.add(ContactPhone(contact_id=contact.id or 0, number=number))
    session.flush()
    return contact


def add_address(
    session: Session,
    settings: Settings,
    contact_id: int,
    raw: str,
    now: datetime | None = None,
    *,
    refuse_invalid: bool = False,
) -> ContactEmail:
    """R1: a new address of a contact; it gets an access row (all off) on each linked account.
    An address with a wrong syntax is kept, marked invalid with the reason (R22), unless
    `refuse_invalid` (a form, R38): InvalidAddress then. Too long is refused either way."""
    _get(session, Contact, contact_id)
    address = _new_address(raw, settings, refuse_invalid)
    if _find_address(session, address) is not None:
        raise AddressTaken()
    email = ContactEmail(
        contact_id=contact_id,
        address=address,
        invalid_reason=None if refuse_invalid else address_problem(address, settings.check_dns),
        created_at=now or utcnow(),
    )
    session.add(email)
    session.flush()
    account_ids = access.accounts_of_contact(session, contact_id)
    for account_id in account_ids:
        session.add(AccessRow(account_id=account_id, email_id=email.id or 0))
    session.flush()
    access.refresh_accounts(session, account_ids)
    return email


def _new_address(raw: str, settings: Settings, refuse_invalid: bool) -> str:
    if refuse_invalid:
        return checked_address(raw, settings.check_dns)
    address = normalise_address(raw)
    if not address:
        raise InvalidAddress(EMPTY_ADDRESS)
    inputs.check_address_length(address)
    return address


def add_phone(session: Session, contact_id: int, number: str) -> ContactPhone:
    """R26: InvalidPhone unless the number follows inputs.clean_phone (R38)."""
    _get(session, Contact, contact_id)
    phone = ContactPhone(contact_id=contact_id, number=inputs.clean_phone(number))
    session.add(phone)
    session.flush()
    return phone


def rename_contact(session: Session, contact_id: int, name: str) -> Contact:
    contact = _get(session, Contact, contact_id)
    contact.name = inputs.clean_name(name)
    session.add(contact)
    session.flush()
    access.refresh_accounts(session, access.accounts_of_contact(session, contact_id))
    return contact


def link_contact(session: Session, account_id: int, contact_id: int) -> None:
    """R1, R26: link a contact to an account; each address gets an access row, all off."""
    _get(session, Account, account_id)
    _get(session, Contact, contact_id)
    if session.get(AccountContact, (account_id, contact_id)) is not None:
        return
    session.add(AccountContact(account_id=account_id, contact_id=contact_id))
    for email_id in _email_ids(session, contact_id):
        session.add(AccessRow(account_id=account_id, email_id=email_id))
    session.flush()
    access.refresh_accounts(session, [account_id])


def unlink_contact(
    session: Session, account_id: int, contact_id: int, actor: Actor, now: datetime | None = None
) -> None:
    """R26: unlink; the contact's rows on this account go, and an address left with no Login
    anywhere loses its outstanding invitation (as R11)."""
    link = session.get(AccountContact, (account_id, contact_id))
    if link is None:
        raise NotFound()
    email_ids = _email_ids(session, contact_id)
    session.delete(link)
    session.execute(
        delete(AccessRow).where(
            AccessRow.account_id == account_id, col(AccessRow.email_id).in_(email_ids)
        )
    )
    session.flush()
    for email_id in email_ids:
        has_login = session.scalars(
            select(AccessRow.id).where(AccessRow.email_id == email_id, col(AccessRow.login))
        ).first()
        if has_login is None and invitations.outstanding(session, email_id) is not None:
            invitations.cancel_invitation(session, email_id, actor, now=now)
    access.refresh_accounts(session, [account_id])


def change_address(
    session: Session,
    settings: Settings,
    email_id: int,
    raw: str,
    actor: Actor,
    now: datetime | None = None,
    *,
    refuse_invalid: bool = False,
) -> ContactEmail:
    """R27: the new address takes the old one's settings on every account. An outstanding
    invitation moves to the new address. An activated old address keeps working until the new
    one is activated (invitations.activate then turns its Login off). A wrong new address is
    kept marked invalid (R22), or refused with `refuse_invalid` (a form, R38)."""
    moment = now or utcnow()
    old = _get(session, ContactEmail, email_id)
    address = _new_address(raw, settings, refuse_invalid)
    if address == old.address:
        return old
    if _find_address(session, address) is not None:
        raise AddressTaken()
    problem = None if refuse_invalid else address_problem(address, settings.check_dns)
    had_invitation = invitations.outstanding(session, email_id) is not None
    activity.record(
        session,
        activity.ADDRESS_CHANGED,
        actor,
        email_id=email_id,
        address=old.address,
        now=moment,
        new_address=address,
    )
    if not access.is_activated(session, email_id):
        return _change_in_place(session, settings, old, address, problem, had_invitation, actor)
    new = ContactEmail(
        contact_id=old.contact_id,
        address=address,
        invalid_reason=problem,
        replaces_email_id=old.id,
        created_at=moment,
    )
    session.add(new)
    session.flush()
    _copy_rows(session, old.id or 0, new.id or 0)
    if had_invitation:
        invitations.cancel_invitation(session, email_id, actor, now=moment)
    if not problem and invitations.login_account_names(session, new.id or 0):
        invitations.send_invitation(session, settings, new.id or 0, actor, now=moment)
    access.refresh_accounts(session, access.accounts_of_emails(session, [new.id or 0]))
    return new


def _change_in_place(
    session: Session,
    settings: Settings,
    email: ContactEmail,
    address: str,
    problem: str | None,
    had_invitation: bool,
    actor: Actor,
) -> ContactEmail:
    """No portal user yet: the same address row takes the new value (fixing an address clears
    its invalid mark, R22); an outstanding invitation is replaced by one to the new address."""
    if had_invitation:
        invitations.cancel_invitation(session, email.id or 0, actor)
    email.address = address
    email.invalid_reason = problem
    session.add(email)
    session.flush()
    if had_invitation and not problem:
        invitations.send_invitation(session, settings, email.id or 0, actor)
    access.refresh_accounts(session, access.accounts_of_emails(session, [email.id or 0]))
    return email


def _copy_rows(session: Session, from_email_id: int, to_email_id: int) -> None:
    fields = (*SWITCHES, *NOTIFICATION_CATEGORIES)
    rows = session.scalars(select(AccessRow).where(AccessRow.email_id == from_email_id))
    for row in list(rows):
        values = {name: getattr(row, name) for name in fields}
        session.add(AccessRow(account_id=row.account_id, email_id=to_email_id, **values))
    session.flush()


def mark_undeliverable(session: Session, email_id: int, reason: str) -> None:
    """R22: the mail server refused this address permanently; the reason is its answer."""
    email = session.get(ContactEmail, email_id)
    if email is None:
        return
    email.invalid_reason = reason
    session.add(email)
    access.refresh_accounts(session, access.accounts_of_emails(session, [email_id]))


def contact_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Contact)) or 0


def _email_ids(session: Session, contact_id: int) -> list[int]:
    query = select(ContactEmail.id).where(ContactEmail.contact_id == contact_id)
    return [email_id for email_id in session.scalars(query) if email_id is not None]


def _find_address(session: Session, address: str) -> ContactEmail | None:
    return session.scalars(select(ContactEmail).where(ContactEmail.address == address)).first()


def _get(session: Session, model: type, key: int):  # noqa: ANN202
    found = session.get(model, key)
    if found is None:
        raise NotFound()
    return found
