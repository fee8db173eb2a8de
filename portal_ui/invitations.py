"""Invitations (R14-R20, R22): send, resend, cancel, check a link without consuming it,
activate, and "Send me a new link"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlmodel import Session, col

from portal_ui import access, activity, events
from portal_ui.activity import Actor
from portal_ui.clock import utcnow
from portal_ui.config import Settings
from portal_ui.errors import (
    AlreadyActive,
    InvalidAddress,
    InvalidToken,
    NoLoginAccess,
    NoOutstandingInvitation,
    NotFound,
    TokenProblem,
    TooManyRequests,
)
from portal_ui.mail import outbox, templates
from portal_ui.models import (
    AccessRow,
    Account,
    AccountAssignment,
    Contact,
    ContactEmail,
    Invitation,
    InvitationState,
    PortalUser,
    TeamMember,
)
from portal_ui.security import check_password, hash_password, hash_token, new_token

NEW_LINK_INTERVAL = timedelta(hours=1)


@dataclass(frozen=True)
class IssuedInvitation:
    """A new invitation and its link; the token exists only here and in the email."""

    invitation: Invitation
    link: str


@dataclass(frozen=True)
class LinkView:
    """What the activation page shows for a working link (R17)."""

    invitation_id: int
    email_id: int
    address: str
    account_names: list[str]
    language: str
    expires_at: datetime


def outstanding(session: Session, email_id: int) -> Invitation | None:
    """R14: the one outstanding invitation of an address, if any."""
    query = select(Invitation).where(
        Invitation.email_id == email_id, Invitation.state == InvitationState.OUTSTANDING.value
    )
    return session.scalars(query).first()


def login_account_names(session: Session, email_id: int) -> list[str]:
    """The accounts an invitation covers: those where the address has Login on now (R14)."""
    query = (
        select(Account.name)
        .join(AccessRow, AccessRow.account_id == Account.id)
        .where(AccessRow.email_id == email_id, col(AccessRow.login))
        .order_by(Account.name)
    )
    return list(session.scalars(query))


def contact_language(session: Session, settings: Settings, email: ContactEmail) -> str:
    """R31a: the contact's language, or the firm's."""
    contact = session.get(Contact, email.contact_id)
    return (contact.language if contact else None) or settings.firm_language


def is_activated(session: Session, email_id: int) -> bool:
    query = select(PortalUser.id).where(PortalUser.email_id == email_id)
    return session.scalars(query).first() is not None


def send_invitation(
    session: Session,
    settings: Settings,
    email_id: int,
    actor: Actor,
    *,
    message: str = "",
    requested_by_client: bool = False,
    now: datetime | None = None,
) -> IssuedInvitation:
    """Send (or resend) an invitation to one address, superseding any outstanding one (R14).

    Refuses invalid addresses (R22), addresses already activated (R10) and addresses without
    Login on any account; the caller reports the refusal."""
    moment = now or utcnow()
    email = _email(session, email_id)
    if email.invalid_reason:
        raise InvalidAddress(email.invalid_reason)
    if is_activated(session, email_id):
        raise AlreadyActive()
    account_names = login_account_names(session, email_id)
    if not account_names:
        raise NoLoginAccess()
    previous = outstanding(session, email_id)
    if previous is not None:
        _close(previous, InvitationState.SUPERSEDED, moment)
        activity.record(
            session, activity.INVITATION_SUPERSEDED, actor, email_id=email_id,
            address=email.address, now=moment, invitation_id=previous.id,
        )  # fmt: skip
    token = new_token()
    invitation = Invitation(
        email_id=email_id,
        address=email.address,
        token_hash=hash_token(token),
        message=message,
        invited_by_member_id=actor.member_id,
        invited_by_portal_user_id=actor.portal_user_id,
        requested_by_client=requested_by_client,
        created_at=moment,
        expires_at=moment + timedelta(hours=settings.invite_ttl_hours),
    )
    if requested_by_client and previous is not None:
        # A client asking for a fresh link does not change who invited it (R20).
        invitation.invited_by_member_id = previous.invited_by_member_id
        invitation.invited_by_portal_user_id = previous.invited_by_portal_user_id
    link = f"{settings.public_base_url}/activate/{token}"
    email_body = templates.invitation_email(
        firm_name=settings.firm_name,
        address=email.address,
        account_names=account_names,
        message=message,
        link=link,
        expires_at=invitation.expires_at,
        language=contact_language(session, settings, email),
        invited_by="" if requested_by_client else actor.name,
    )
    queued = outbox.enqueue(
        session, settings, to=email.address, email=email_body, kind="invitation",
        email_id=email_id, now=moment,
    )  # fmt: skip
    invitation.outbox_id = queued.id
    session.add(invitation)
    session.flush()
    kind = activity.INVITATION_RESENT if previous is not None else activity.INVITATION_SENT
    activity.record(
        session, kind, actor, email_id=email_id, address=email.address, now=moment,
        invitation_id=invitation.id,
    )  # fmt: skip
    _changed(session, email_id)
    return IssuedInvitation(invitation, link)


def cancel_invitation(
    session: Session, email_id: int, actor: Actor, now: datetime | None = None
) -> Invitation:
    """R21, R25: cancel the outstanding invitation; its link stops working, Login stays on."""
    moment = now or utcnow()
    invitation = outstanding(session, email_id)
    if invitation is None:
        raise NoOutstandingInvitation()
    _close(invitation, InvitationState.CANCELLED, moment)
    activity.record(
        session, activity.INVITATION_CANCELLED, actor, email_id=email_id,
        address=invitation.address, now=moment, invitation_id=invitation.id,
    )  # fmt: skip
    _changed(session, email_id)
    return invitation


def check_link(session: Session, token: str, now: datetime | None = None) -> LinkView:
    """Validate a link without consuming it (R15: opening the page is a GET); raise
    InvalidToken saying why it does not work (R16)."""
    invitation = _usable_invitation(session, token, now or utcnow())
    email = _email(session, invitation.email_id)
    return LinkView(
        invitation_id=invitation.id or 0,
        email_id=email.id or 0,
        address=email.address,
        account_names=login_account_names(session, email.id or 0),
        language=_language_of(session, email),
        expires_at=invitation.expires_at,
    )


def activate(
    session: Session,
    settings: Settings,
    token: str,
    password: str,
    now: datetime | None = None,
) -> PortalUser:
    """R17: accept the invitation, create the activated portal user, make its rows Active and
    tell the assigned team members (R18). The token is consumed only here."""
    moment = now or utcnow()
    invitation = _usable_invitation(session, token, moment)
    email = _email(session, invitation.email_id)
    check_password(password, email.address)
    if is_activated(session, email.id or 0):
        raise InvalidToken(TokenProblem.USED)
    user = PortalUser(
        email_id=email.id or 0,
        password_hash=hash_password(password),
        activated_at=moment,
        last_login_at=moment,
    )
    session.add(user)
    _close(invitation, InvitationState.ACCEPTED, moment)
    session.flush()
    client = Actor(name=email.address, portal_user_id=user.id)
    account_ids = access.accounts_of_emails(session, [email.id or 0])
    for account_id in sorted(_login_account_ids(session, email.id or 0)):
        activity.record(
            session, activity.INVITATION_ACCEPTED, client, account_id=account_id,
            email_id=email.id, address=email.address, now=moment, invitation_id=invitation.id,
        )  # fmt: skip
    if email.replaces_email_id:
        account_ids |= _retire_replaced_address(session, email, client, moment)
    _notify_signup(session, settings, email, moment)
    access.refresh_accounts(session, account_ids)
    events.record(session, "invitation", account_ids=account_ids)
    return user


def request_new_link(
    session: Session, settings: Settings, token: str, now: datetime | None = None
) -> IssuedInvitation:
    """R16 "Send me a new link": only for an expired or superseded link whose address is still
    Pending; the fresh invitation goes to that same address, at most once an hour."""
    moment = now or utcnow()
    try:
        _usable_invitation(session, token, moment)
    except InvalidToken as problem:
        if not problem.can_request_new_link:
            raise
    else:
        raise InvalidToken(TokenProblem.UNKNOWN)  # a working link needs no new one
    old = session.scalars(select(Invitation).where(Invitation.token_hash == hash_token(token)))
    invitation = old.one()
    recent = select(Invitation.id).where(
        Invitation.email_id == invitation.email_id,
        col(Invitation.requested_by_client),
        Invitation.created_at > moment - NEW_LINK_INTERVAL,
    )
    if session.scalars(recent).first() is not None:
        raise TooManyRequests()
    email = _email(session, invitation.email_id)
    return send_invitation(
        session, settings, invitation.email_id, Actor(name=email.address),
        message=invitation.message, requested_by_client=True, now=moment,
    )  # fmt: skip


def _usable_invitation(session: Session, token: str, now: datetime) -> Invitation:
    invitation = session.scalars(
        select(Invitation).where(Invitation.token_hash == hash_token(token))
    ).first()
    if invitation is None:
        raise InvalidToken(TokenProblem.UNKNOWN)
    state = InvitationState(invitation.state)
    if state is InvitationState.ACCEPTED:
        raise InvalidToken(TokenProblem.USED)
    if state is InvitationState.CANCELLED:
        raise InvalidToken(TokenProblem.CANCELLED)
    if state is InvitationState.SUPERSEDED:
        raise InvalidToken(TokenProblem.SUPERSEDED, _may_renew(session, invitation))
    if invitation.expires_at <= now:
        raise InvalidToken(TokenProblem.EXPIRED, _may_renew(session, invitation))
    return invitation


def _may_renew(session: Session, invitation: Invitation) -> bool:
    """R16: a new link is offered while the address is still Pending and deliverable."""
    email = session.get(ContactEmail, invitation.email_id)
    if email is None or email.invalid_reason or is_activated(session, invitation.email_id):
        return False
    return bool(_login_account_ids(session, invitation.email_id))


def _close(invitation: Invitation, state: InvitationState, moment: datetime) -> None:
    invitation.state = state.value
    stamp = {
        InvitationState.ACCEPTED: "accepted_at",
        InvitationState.CANCELLED: "cancelled_at",
        InvitationState.SUPERSEDED: "superseded_at",
    }[state]
    setattr(invitation, stamp, moment)


def _email(session: Session, email_id: int) -> ContactEmail:
    email = session.get(ContactEmail, email_id)
    if email is None:
        raise NotFound()
    return email


def _language_of(session: Session, email: ContactEmail) -> str:
    contact = session.get(Contact, email.contact_id)
    return (contact.language if contact else None) or ""


def _login_account_ids(session: Session, email_id: int) -> set[int]:
    query = select(AccessRow.account_id).where(AccessRow.email_id == email_id, AccessRow.login)
    return set(session.scalars(query))


def _changed(session: Session, email_id: int) -> None:
    account_ids = access.accounts_of_emails(session, [email_id])
    access.refresh_accounts(session, account_ids)
    events.record(session, "invitation", account_ids=account_ids)


def _retire_replaced_address(
    session: Session, email: ContactEmail, client: Actor, moment: datetime
) -> set[int]:
    """R27: once the new address is activated, the old one's Login turns off by itself."""
    old_id = email.replaces_email_id
    email.replaces_email_id = None
    old = session.get(ContactEmail, old_id)
    if old is None:
        return set()
    session.execute(
        update(AccessRow).where(AccessRow.email_id == old.id).values(login=False, updated_at=moment)
    )
    activity.record(
        session, activity.ADDRESS_CHANGED, client, email_id=old.id, address=old.address,
        now=moment, new_address=email.address, completed=True,
    )  # fmt: skip
    return access.accounts_of_emails(session, [old.id or 0])


def _notify_signup(
    session: Session, settings: Settings, email: ContactEmail, moment: datetime
) -> None:
    """R18: every team member assigned to one of the accounts gets Inbox+ and an email."""
    query = (
        select(TeamMember, Account)
        .join(AccountAssignment, AccountAssignment.team_member_id == TeamMember.id)
        .join(Account, Account.id == AccountAssignment.account_id)
        .join(AccessRow, AccessRow.account_id == Account.id)
        .where(AccessRow.email_id == email.id, col(AccessRow.login))
        .order_by(TeamMember.id, Account.name)
    )
    seen: set[int] = set()
    for member, account in session.execute(query).all():
        link = f"/clients/{account.id}/info"
        activity.notify_member(
            session, member.id or 0, "client_signup", link=link, now=moment,
            address=email.address, account_name=account.name,
        )  # fmt: skip
        if member.id in seen:
            continue
        seen.add(member.id or 0)
        body = templates.signup_email(
            firm_name=settings.firm_name,
            address=email.address,
            account_name=account.name,
            link=settings.public_base_url + link,
            language=member.language,
        )
        outbox.enqueue(session, settings, to=member.email, email=body, kind="signup", now=moment)
