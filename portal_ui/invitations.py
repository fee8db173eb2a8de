"""Invitations (R14-R20, R22): send, resend, cancel, check a link without consuming it,
activate, and "Send me a new link"."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, func, select, update
from sqlmodel import Session, col

from portal_ui import access, activity, events, inputs, limits
from portal_ui.activity import Actor
from portal_ui.batch_sql import ids_after, in_ids, insert_rows
from portal_ui.clock import utcnow
from portal_ui.config import Settings
from portal_ui.errors import (
    AlreadyActive,
    DomainError,
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
    ActivityEvent,
    Contact,
    ContactEmail,
    Invitation,
    InvitationState,
    PortalUser,
    TeamMember,
)
from portal_ui.security import check_password, hash_password, hash_token, new_token

_BATCH = 500  # addresses per set-based round of send_invitations
_INVITATION = Invitation.__table__  # type: ignore[attr-defined]
_ACTIVITY_EVENT = ActivityEvent.__table__  # type: ignore[attr-defined]


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
    return login_account_names_of(session, [email_id]).get(email_id, [])


def contact_language(session: Session, settings: Settings, email: ContactEmail) -> str:
    """R31a: the language of a client's emails and pages: its contact's, or the firm's."""
    contact = session.get(Contact, email.contact_id)
    return (contact.language if contact else None) or settings.firm_language


def _contact_language_expr(settings: Settings) -> ColumnElement[str]:
    """contact_language as SQL, for many addresses at once (ContactEmail joined to Contact)."""
    return func.coalesce(Contact.language, settings.firm_language)


def activation_link(settings: Settings, token: str) -> str:
    """The link an invitation email carries (R15)."""
    return f"{settings.public_base_url}/activate/{token}"


def expiry(settings: Settings, sent_at: datetime) -> datetime:
    """When an invitation sent at `sent_at` stops working (R15: PORTAL_INVITE_TTL_HOURS)."""
    return sent_at + timedelta(hours=settings.invite_ttl_hours)


def has_expired(expires_at: datetime | None, now: datetime) -> bool:
    """R16: a link whose expiry has come no longer works (though its address stays Pending)."""
    return expires_at is not None and expires_at <= now


def send_invitation(
    session: Session,
    settings: Settings,
    email_id: int,
    actor: Actor,
    *,
    message: str = "",
    requested_by_client: bool = False,
    now: datetime | None = None,
    refresh: bool = True,
    carrier: Carrier | None = None,
) -> IssuedInvitation:
    """Send (or resend) an invitation to one address, superseding any outstanding one (R14):
    send_invitations for one address, raising the reason it was refused.

    Refuses invalid addresses (R22), addresses already activated (R10) and addresses without
    Login on any account. `refresh=False` leaves the account roll-ups and page events to the
    caller. `carrier(link, expires_at)` gives the email that carries the link instead of the
    invitation email (R28: a notification with an activation banner). A message longer than
    R38's limit is refused (MessageTooLong). `requested_by_client`: "Send me a new link" (R16),
    which keeps who invited the address (R20)."""
    moment = now or utcnow()
    batch = send_invitations(
        session,
        settings,
        [email_id],
        actor,
        message=message,
        now=moment,
        requested_by_client=requested_by_client,
        carrier=carrier,
    )
    if email_id in batch.refused:
        raise batch.refused[email_id]
    invitation_id, link = batch.sent[email_id]
    if refresh:
        _changed(session, email_id)
    invitation = session.get(Invitation, invitation_id)
    assert invitation is not None
    return IssuedInvitation(invitation, link)


def _invitable(
    invalid_reason: str | None, activated: bool, account_names: list[str]
) -> list[str] | DomainError:
    """The accounts an invitation to this address covers (R14), or why it gets none: invalid
    (R22), already active (R10), or Login on no account."""
    if invalid_reason:
        return InvalidAddress(invalid_reason)
    if activated:
        return AlreadyActive()
    return account_names or NoLoginAccess()


@dataclass(frozen=True)
class SentBatch:
    """What send_invitations did: the new invitation (id, link) of each address sent to, and
    why the others got none."""

    sent: dict[int, tuple[int, str]]
    refused: dict[int, DomainError]

    @property
    def invitation_ids(self) -> dict[int, int]:
        return {email_id: invitation_id for email_id, (invitation_id, _) in self.sent.items()}


# Builds the email that carries an activation link, given the link and its expiry.
Carrier = Callable[[str, datetime], templates.Email]


@dataclass(frozen=True)
class _Sending:
    """What every invitation of one send_invitations call shares."""

    settings: Settings
    actor: Actor
    message: str
    moment: datetime
    requested_by_client: bool
    carrier: Carrier | None
    renderer: templates.InvitationBatch


def send_invitations(
    session: Session,
    settings: Settings,
    email_ids: Iterable[int],
    actor: Actor,
    *,
    message: str = "",
    now: datetime | None = None,
    requested_by_client: bool = False,
    carrier: Carrier | None = None,
) -> SentBatch:
    """The one way invitations are sent (R14): to each address, supersede its outstanding
    invitation, make a token, queue the email in the outbox and record the history, with a
    few set-based queries and one INSERT per table per round of addresses. The rules of
    send_invitation apply to each address; a refused one is reported, the others go on. The
    caller refreshes the account roll-ups and tells the pages (events topic "invitation")
    when it sends to many; send_invitation does it for one."""
    moment = now or utcnow()
    message = inputs.clean_message(message)  # R38, before anything is sent
    # Every email shares the firm, the message, the expiry and the inviter: rendered once.
    renderer = templates.InvitationBatch(
        firm_name=settings.firm_name,
        message=message,
        expires_at=expiry(settings, moment),
        invited_by="" if requested_by_client else actor.name,
    )
    sending = _Sending(settings, actor, message, moment, requested_by_client, carrier, renderer)
    sent: dict[int, tuple[int, str]] = {}
    refused: dict[int, DomainError] = {}
    ids = list(dict.fromkeys(email_ids))
    for start in range(0, len(ids), _BATCH):
        batch = _send_batch(session, ids[start : start + _BATCH], sending)
        sent.update(batch.sent)
        refused.update(batch.refused)
    return SentBatch(sent, refused)


def _send_batch(session: Session, ids: list[int], sending: _Sending) -> SentBatch:
    settings, actor, moment = sending.settings, sending.actor, sending.moment
    emails = _batch_addresses(session, settings, ids)
    names = login_account_names_of(session, ids)
    previous = {
        invitation.email_id: invitation
        for invitation in session.scalars(
            select(Invitation).where(
                in_ids(session, Invitation.email_id, ids),
                Invitation.state == InvitationState.OUTSTANDING.value,
            )
        )
    }
    refused: dict[int, DomainError] = {}
    expires_at = expiry(settings, moment)
    invitations: list[dict[str, Any]] = []
    links: dict[int, str] = {}
    mails: list[tuple[str, templates.Email, int | None]] = []
    for email_id in ids:
        email = emails.get(email_id)
        if email is None:
            refused[email_id] = NotFound()
            continue
        account_names = _invitable(email.invalid_reason, email.activated, names.get(email_id, []))
        if isinstance(account_names, DomainError):
            refused[email_id] = account_names
            continue
        token = new_token()
        links[email_id] = link = activation_link(settings, token)
        mail = (
            sending.carrier(link, expires_at)
            if sending.carrier
            else sending.renderer.email(
                address=email.address,
                account_names=account_names,
                link=link,
                language=email.language,
            )
        )
        mails.append((email.address, mail, email_id))
        inviter = actor
        old = previous.get(email_id)
        if sending.requested_by_client and old is not None:
            # A client asking for a fresh link does not change who invited it (R20).
            inviter = Actor(
                name=actor.name,
                member_id=old.invited_by_member_id,
                portal_user_id=old.invited_by_portal_user_id,
            )
        invitations.append(
            {
                "email_id": email_id,
                "address": email.address,
                "token_hash": hash_token(token),
                "message": sending.message,
                "state": InvitationState.OUTSTANDING.value,
                "invited_by_member_id": inviter.member_id,
                "invited_by_portal_user_id": inviter.portal_user_id,
                "requested_by_client": sending.requested_by_client,
                "created_at": moment,
                "expires_at": expires_at,
            }
        )
    history: list[dict[str, Any]] = []
    for invitation in invitations:
        old = previous.get(invitation["email_id"])
        if old is not None:
            _close(old, InvitationState.SUPERSEDED, moment)
            history.append(
                _event(actor, activity.INVITATION_SUPERSEDED, invitation, moment, old.id)
            )
    session.flush()  # the superseded ones first
    outbox_ids = outbox.enqueue_many(session, settings, mails, kind="invitation", now=moment)
    for invitation, outbox_id in zip(invitations, outbox_ids, strict=True):
        invitation["outbox_id"] = outbox_id
    sent: dict[int, tuple[int, str]] = {}
    if invitations:
        ids_of = _insert_invitations(session, invitations)
        for invitation in invitations:
            new_id = ids_of[invitation["token_hash"]]
            kind = (
                activity.INVITATION_RESENT
                if invitation["email_id"] in previous
                else activity.INVITATION_SENT
            )
            history.append(_event(actor, kind, invitation, moment, new_id))
            sent[invitation["email_id"]] = (new_id, links[invitation["email_id"]])
    if history:
        insert_rows(session, _ACTIVITY_EVENT, history)
        events.record(session, "activity")
    return SentBatch(sent, refused)


def _insert_invitations(session: Session, rows: list[dict[str, Any]]) -> dict[Any, int]:
    """Insert these invitation rows; the id of each, by token hash.

    Core, not the ORM's bulk INSERT: no per-row bookkeeping for rows never loaded. No RETURNING
    either (see batch_sql.ids_after): the ids are read back from the new end of the table."""
    table = _INVITATION
    before = session.scalar(select(func.max(table.c.id))) or 0
    insert_rows(session, table, rows)
    return ids_after(session, table, table.c.token_hash, before)


class _BatchAddress(NamedTuple):
    address: str
    invalid_reason: str | None
    activated: bool
    language: str


def _batch_addresses(
    session: Session, settings: Settings, email_ids: list[int]
) -> dict[int, _BatchAddress]:
    """For many addresses in one query: each with what an invitation asks of it (R10, R22)
    and its contact's language (R31a)."""
    query = (
        select(
            ContactEmail.id,
            ContactEmail.address,
            ContactEmail.invalid_reason,
            access.email_is_activated(ContactEmail.id),
            _contact_language_expr(settings),
        )
        .outerjoin(Contact, Contact.id == ContactEmail.contact_id)
        .where(in_ids(session, ContactEmail.id, email_ids))
    )
    return {
        email_id: _BatchAddress(address, invalid, bool(activated), language)
        for email_id, address, invalid, activated, language in session.execute(query)
    }


def _event(
    actor: Actor, kind: str, invitation: dict[str, Any], moment: datetime, invitation_id: int | None
) -> dict[str, Any]:
    """An activity event row as activity.record writes it, for a bulk INSERT."""
    return {
        "at": moment,
        "kind": kind,
        "actor_member_id": actor.member_id,
        "actor_portal_user_id": actor.portal_user_id,
        "actor_name": actor.name,
        "account_id": None,
        "email_id": invitation["email_id"],
        "address": invitation["address"],
        "detail": {"invitation_id": invitation_id},
    }


def login_account_names_of(session: Session, email_ids: list[int]) -> dict[int, list[str]]:
    """The accounts an invitation to each address covers: those with Login on now (R14)."""
    query = (
        select(AccessRow.email_id, Account.name)
        .join(Account, Account.id == AccessRow.account_id)
        .where(in_ids(session, AccessRow.email_id, email_ids), col(AccessRow.login))
        .order_by(Account.name, Account.id)
    )
    names: dict[int, list[str]] = defaultdict(list)
    for email_id, name in session.execute(query):
        names[email_id].append(name)
    return names


def cancel_invitation(
    session: Session,
    email_id: int,
    actor: Actor,
    now: datetime | None = None,
    refresh: bool = True,
) -> Invitation:
    """R21, R25: cancel the outstanding invitation; its link stops working, Login stays on.
    `refresh=False`: the caller refreshes the account roll-ups (as in send_invitation)."""
    moment = now or utcnow()
    invitation = outstanding(session, email_id)
    if invitation is None:
        raise NoOutstandingInvitation()
    _close(invitation, InvitationState.CANCELLED, moment)
    activity.record(
        session,
        activity.INVITATION_CANCELLED,
        actor,
        email_id=email_id,
        address=invitation.address,
        now=moment,
        invitation_id=invitation.id,
    )
    if refresh:
        _changed(session, email_id)
    return invitation


def check_link(
    session: Session, settings: Settings, token: str, now: datetime | None = None
) -> LinkView:
    """Validate a link without consuming it (R15: opening the page is a GET); raise
    InvalidToken saying why it does not work (R16)."""
    invitation = _usable_invitation(session, token, now or utcnow())
    email = _email(session, invitation.email_id)
    return LinkView(
        invitation_id=invitation.id or 0,
        email_id=email.id or 0,
        address=email.address,
        account_names=login_account_names(session, email.id or 0),
        language=contact_language(session, settings, email),
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
    check_password(password, email.address, settings.firm_name)
    if access.is_activated(session, email.id or 0):
        raise InvalidToken(TokenProblem.USED)
    # The slow parts come before the first write, while SQLite's write lock is free for others:
    # the hash (~0.2 s) and the team's sign-up emails. The writes then take milliseconds.
    password_hash = hash_password(password)
    signups = _signup_notices(session, settings, email)
    user = PortalUser(
        email_id=email.id or 0,
        password_hash=password_hash,
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
            session,
            activity.INVITATION_ACCEPTED,
            client,
            account_id=account_id,
            email_id=email.id,
            address=email.address,
            now=moment,
            invitation_id=invitation.id,
        )
    if email.replaces_email_id:
        account_ids |= _retire_replaced_address(session, email, client, moment)
    _notify_signup(session, settings, email.address, signups, moment)
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
    # Counted atomically before anything is written: parallel requests send one link (R33).
    if not limits.take(session, [(limits.NEW_LINK_PER_ADDRESS, str(invitation.email_id))], moment):
        raise TooManyRequests()
    email = _email(session, invitation.email_id)
    return send_invitation(
        session,
        settings,
        invitation.email_id,
        Actor(name=email.address),
        message=invitation.message,
        requested_by_client=True,
        now=moment,
    )


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
    if has_expired(invitation.expires_at, now):
        raise InvalidToken(TokenProblem.EXPIRED, _may_renew(session, invitation))
    return invitation


def _may_renew(session: Session, invitation: Invitation) -> bool:
    """R16: a new link is offered while the address is still Pending and deliverable."""
    email = session.get(ContactEmail, invitation.email_id)
    if email is None or email.invalid_reason or access.is_activated(session, invitation.email_id):
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


def _login_account_ids(session: Session, email_id: int) -> set[int]:
    query = select(AccessRow.account_id).where(AccessRow.email_id == email_id, AccessRow.login)
    return set(session.scalars(query))


def _changed(session: Session, email_id: int) -> None:
    account_ids = access.accounts_of_emails(session, [email_id])
    # An invitation changes no contact nor address: the status is all there is to refresh.
    access.refresh_access(session, account_ids, access.INVITATION_ROLLUPS)
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
        session,
        activity.ADDRESS_CHANGED,
        client,
        email_id=old.id,
        address=old.address,
        now=moment,
        new_address=email.address,
        completed=True,
    )
    return access.accounts_of_emails(session, [old.id or 0])


@dataclass(frozen=True)
class _SignupNotice:
    """R18, for one assigned team member and one account: an Inbox+ notification, and with the
    member's first account the email (to, message)."""

    member_id: int
    account_name: str
    link: str
    email: tuple[str, templates.Email] | None


def _signup_notices(
    session: Session, settings: Settings, email: ContactEmail
) -> list[_SignupNotice]:
    """R18: whom an activation of `email` tells, with their emails rendered (reads only)."""
    query = (
        select(TeamMember, Account)
        .join(AccountAssignment, AccountAssignment.team_member_id == TeamMember.id)
        .join(Account, Account.id == AccountAssignment.account_id)
        .join(AccessRow, AccessRow.account_id == Account.id)
        .where(AccessRow.email_id == email.id, col(AccessRow.login))
        .order_by(TeamMember.id, Account.name)
    )
    notices = []
    seen: set[int] = set()
    for member, account in session.execute(query).all():
        link = f"/clients/{account.id}/info"
        message = None
        if member.id not in seen:
            seen.add(member.id or 0)
            body = templates.signup_email(
                firm_name=settings.firm_name,
                address=email.address,
                account_name=account.name,
                link=settings.public_base_url + link,
                language=member.language,
            )
            message = (member.email, body)
        notices.append(_SignupNotice(member.id or 0, account.name, link, message))
    return notices


def _notify_signup(
    session: Session,
    settings: Settings,
    address: str,
    notices: list[_SignupNotice],
    moment: datetime,
) -> None:
    """R18: every team member assigned to one of the accounts gets Inbox+ and an email."""
    for notice in notices:
        activity.notify_member(
            session,
            notice.member_id,
            "client_signup",
            link=notice.link,
            now=moment,
            address=address,
            account_name=notice.account_name,
        )
        if notice.email is not None:
            to, body = notice.email
            outbox.enqueue(session, settings, to=to, email=body, kind="signup", now=moment)
