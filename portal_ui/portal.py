"""The client side of the portal: sign-in (R8), the accounts a client sees (R8, R11), password
reset, and inviting another person to an account (R31, R20)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from portal_ui import access, access_rows, contacts, inputs, invitations, limits, sessions
from portal_ui.activity import Actor
from portal_ui.clock import utcnow
from portal_ui.config import Settings
from portal_ui.errors import (
    AlreadyActive,
    InvalidAddress,
    InvalidToken,
    NoPortalAccess,
    NotFound,
    TokenProblem,
    TooManyInvitations,
    TooManyRequests,
)
from portal_ui.invitations import IssuedInvitation
from portal_ui.mail import outbox, templates
from portal_ui.models import (
    AccessRow,
    Account,
    Contact,
    ContactEmail,
    PasswordReset,
    PortalUser,
)
from portal_ui.security import (
    DUMMY_PASSWORD_HASH,
    check_password,
    hash_password,
    hash_token,
    new_token,
    verify_password,
)

RESET_TTL = timedelta(hours=1)
# At most this many reset emails per portal user per RESET_TTL; more requests are ignored.
RESET_LIMIT = 3


@dataclass(frozen=True)
class PortalHome:
    """What the portal shows one signed-in client (R8, R31)."""

    portal_user_id: int
    address: str
    person_name: str
    accounts: list[tuple[int, str]]
    # The account being shown, None when the client has none left (R11).
    selected: tuple[int, str] | None
    # True when the account asked for is not (or no longer) one of the client's (R11).
    asked_for_unavailable: bool


def authenticate_client(
    session: Session, address: str, password: str, now: datetime | None = None
) -> PortalUser | None:
    """The activated portal user with this address and password (R8); None when either is
    wrong; NoPortalAccess when the password is right but no access row is Active any more.
    Unknown addresses cost one Argon2id verification too, so timing reveals nobody."""
    user = _user_by_address(session, contacts.normalise_address(address))
    if user is None:
        verify_password(DUMMY_PASSWORD_HASH, password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if not client_accounts(session, user.id or 0):
        # Only the holder of the password learns this, so it reveals nothing to others.
        raise NoPortalAccess()
    user.last_login_at = now or utcnow()
    session.add(user)
    session.flush()
    access.refresh_accounts(session, access.accounts_of_emails(session, [user.email_id]))
    return user


def client_accounts(session: Session, portal_user_id: int) -> list[tuple[int, str]]:
    """R8: exactly the accounts on which this portal user's access row is Active, by name."""
    user = session.get(PortalUser, portal_user_id)
    if user is None:
        return []
    query = (
        select(Account.id, Account.name)
        .join(AccessRow, AccessRow.account_id == Account.id)
        .where(AccessRow.email_id == user.email_id, access.row_is_active())
        .order_by(col(Account.name), col(Account.id))
    )
    return [(account_id, name) for account_id, name in session.execute(query).all()]


def can_use_account(session: Session, portal_user_id: int, account_id: int) -> bool:
    """R8, R11: the portal user's access row on this account is Active now."""
    return any(found == account_id for found, _name in client_accounts(session, portal_user_id))


def portal_home(
    session: Session,
    settings: Settings,
    portal_user_id: int,
    account_id: int | None = None,
) -> PortalHome | None:
    """Everything the portal page needs, checked afresh on each action (R8, R11); None when
    the portal user is gone."""
    user = session.get(PortalUser, portal_user_id)
    if user is None:
        return None
    email = session.get(ContactEmail, user.email_id)
    if email is None:
        return None
    contact = session.get(Contact, email.contact_id)
    accounts = client_accounts(session, portal_user_id)
    chosen = [account for account in accounts if account[0] == account_id]
    return PortalHome(
        portal_user_id=portal_user_id,
        address=email.address,
        person_name=contact.name if contact else email.address,
        accounts=accounts,
        selected=(chosen or accounts or [None])[0],
        asked_for_unavailable=account_id is not None and not chosen,
    )


def request_password_reset(
    session: Session, settings: Settings, address: str, ip: str, now: datetime | None = None
) -> None:
    """Email a single-use reset link valid for RESET_TTL to an activated client with portal
    access. Looks the same to the caller whatever the address, and sends at most RESET_LIMIT
    links an hour to one user; TooManyRequests when `ip` asked too often (R33)."""
    moment = now or utcnow()
    if not limits.take(session, [(limits.RESET_REQUESTS_PER_IP, ip)], moment):
        raise TooManyRequests()
    user = _user_by_address(session, contacts.normalise_address(address))
    if user is None or not client_accounts(session, user.id or 0):
        return
    recent = select(func.count()).where(
        PasswordReset.portal_user_id == user.id, PasswordReset.created_at > moment - RESET_TTL
    )
    if (session.scalar(recent) or 0) >= RESET_LIMIT:
        return
    token = new_token()
    reset = PasswordReset(
        portal_user_id=user.id or 0,
        token_hash=hash_token(token),
        created_at=moment,
        expires_at=moment + RESET_TTL,
    )
    session.add(reset)
    email = session.get(ContactEmail, user.email_id)
    assert email is not None  # a portal user always has its address
    body = templates.password_reset_email(
        firm_name=settings.firm_name,
        address=email.address,
        link=f"{settings.public_base_url}/portal/reset/{token}",
        expires_at=reset.expires_at,
        language=invitations.contact_language(session, settings, email),
    )
    outbox.enqueue(
        session,
        settings,
        to=email.address,
        email=body,
        kind="password_reset",
        email_id=email.id,
        now=moment,
    )
    session.flush()


def check_reset_link(session: Session, token: str, now: datetime | None = None) -> str:
    """The address a reset link is for, without consuming it; InvalidToken says why not."""
    reset = _usable_reset(session, token, now or utcnow())
    user = session.get(PortalUser, reset.portal_user_id)
    email = session.get(ContactEmail, user.email_id) if user else None
    if email is None:
        raise InvalidToken(TokenProblem.UNKNOWN)
    return email.address


def reset_password(
    session: Session, settings: Settings, token: str, password: str, now: datetime | None = None
) -> PortalUser:
    """Set a new password from a reset link (R17's policy). Every reset link of the user stops
    working and every open session of the user ends (R34)."""
    moment = now or utcnow()
    reset = _usable_reset(session, token, moment)
    user = session.get(PortalUser, reset.portal_user_id)
    email = session.get(ContactEmail, user.email_id) if user else None
    if user is None or email is None:
        raise InvalidToken(TokenProblem.UNKNOWN)
    check_password(password, email.address, settings.firm_name)
    user.password_hash = hash_password(password)
    session.add(user)
    sessions.end_person(session, portal_user_id=user.id, now=moment)
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.portal_user_id == user.id, col(PasswordReset.used_at).is_(None))
        .values(used_at=moment)
    )
    session.flush()
    return user


def invite_person(
    session: Session,
    settings: Settings,
    portal_user_id: int,
    account_id: int,
    name: str,
    address: str,
    now: datetime | None = None,
) -> IssuedInvitation | None:
    """R31: a client gives another person Login on an account it can use and invites them;
    Invited by then names the client (R20). An address already activated gets the account at
    once (R10) and an email saying so, and None comes back; the page answers alike either way
    (R37). At most `client_invites_per_day` people a day (R37): TooManyInvitations beyond.
    NotFound when the client cannot use the account (any more)."""
    moment = now or utcnow()
    if not can_use_account(session, portal_user_id, account_id):
        raise NotFound()
    daily = limits.client_invites(settings.client_invites_per_day)
    if not limits.take(session, [(daily, str(portal_user_id))], moment):
        raise TooManyInvitations(count=settings.client_invites_per_day)
    actor = client_actor(session, portal_user_id)
    email = _find_or_add_address(session, settings, name, address)
    contacts.link_contact(session, account_id, email.contact_id)
    row = access_rows.get_row(session, account_id, email.id or 0)
    issued: IssuedInvitation | None = None
    if not row.login:
        issued = access_rows.set_login(
            session,
            settings,
            account_id,
            email.id or 0,
            True,
            actor,
            send_invitation=True,
            now=moment,
        )
    else:
        # Login was already on but not activated: a fresh invitation from this client (R14).
        with contextlib.suppress(AlreadyActive):
            issued = invitations.send_invitation(
                session, settings, email.id or 0, actor, now=moment
            )
    if issued is None:
        _tell_access_granted(session, settings, email, account_id, actor, moment)
    return issued


def _tell_access_granted(
    session: Session,
    settings: Settings,
    email: ContactEmail,
    account_id: int,
    actor: Actor,
    now: datetime,
) -> None:
    """R37: the email an already activated client gets when another client gives them an
    account, in place of an invitation."""
    account = session.get(Account, account_id)
    body = templates.access_granted_email(
        firm_name=settings.firm_name,
        person=actor.name,
        account_name=account.name if account else "",
        link=f"{settings.public_base_url}/portal/login",
        language=invitations.contact_language(session, settings, email),
    )
    outbox.enqueue(
        session,
        settings,
        to=email.address,
        email=body,
        kind="access_granted",
        email_id=email.id,
        now=now,
    )


def client_actor(session: Session, portal_user_id: int) -> Actor:
    """The client as the actor of what it does (R20, R30): its contact's name, else address."""
    user = session.get(PortalUser, portal_user_id)
    email = session.get(ContactEmail, user.email_id) if user else None
    if user is None or email is None:
        raise NotFound()
    contact = session.get(Contact, email.contact_id)
    return Actor(name=contact.name if contact else email.address, portal_user_id=user.id)


def _find_or_add_address(session: Session, settings: Settings, name: str, raw: str) -> ContactEmail:
    """The invited address, with its contact; a new address gets a new contact named `name`.
    Invalid addresses and names are refused before anything is written (R22, R38)."""
    if name.strip():
        inputs.clean_name(name)
    address = contacts.normalise_address(raw)
    if not address:
        raise InvalidAddress(contacts.EMPTY_ADDRESS)
    inputs.check_address_length(address)
    existing = session.scalars(select(ContactEmail).where(ContactEmail.address == address)).first()
    if existing is not None:
        if existing.invalid_reason:
            raise InvalidAddress(contacts.INVALID_ADDRESS, reason=existing.invalid_reason)
        return existing
    address = contacts.checked_address(address, settings.check_dns)
    contact = contacts.create_contact(
        session, settings, inputs.clean_name(name), addresses=[address]
    )
    found = session.scalars(select(ContactEmail).where(ContactEmail.contact_id == contact.id))
    return found.one()


def _user_by_address(session: Session, address: str) -> PortalUser | None:
    query = (
        select(PortalUser)
        .join(ContactEmail, ContactEmail.id == PortalUser.email_id)
        .where(ContactEmail.address == address)
    )
    return session.scalars(query).first()


def _usable_reset(session: Session, token: str, now: datetime) -> PasswordReset:
    query = select(PasswordReset).where(PasswordReset.token_hash == hash_token(token))
    reset = session.scalars(query).first()
    if reset is None:
        raise InvalidToken(TokenProblem.UNKNOWN)
    if reset.used_at is not None:
        raise InvalidToken(TokenProblem.USED)
    if reset.expires_at <= now:
        raise InvalidToken(TokenProblem.EXPIRED)
    return reset
