"""The Pending activation list (R21): one row per address waiting to activate, its invitation's
state and delivery (R20, R22, R22a), and the batch actions Resend and Cancel invites."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Select
from sqlmodel import Session, col

from portal_ui import access, events, invitations
from portal_ui.activity import Actor
from portal_ui.clock import utcnow
from portal_ui.config import Settings
from portal_ui.db import begin_write
from portal_ui.errors import DomainError, NotFound
from portal_ui.i18n import Translate
from portal_ui.models import (
    AccessRow,
    Contact,
    ContactEmail,
    DeliveryState,
    Invitation,
    InvitationState,
    OutboxMessage,
    PortalUser,
    TeamMember,
)

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 25
MAX_LIMIT = 500


@dataclass(frozen=True)
class PendingRow:
    """One address with at least one Pending access row (R21)."""

    email_id: int
    address: str
    invalid_reason: str | None
    accounts: list[str]
    invitation_id: int | None
    invite_sent_at: datetime | None
    expires_at: datetime | None
    # R20: the team member's name, or the address of the client who invited this person.
    invited_by: str | None
    invited_by_client: bool
    delivery: DeliveryState | None
    delivery_error: str | None

    @property
    def is_invalid(self) -> bool:
        return self.invalid_reason is not None

    def is_expired(self, now: datetime) -> bool:
        """The invitation's link no longer works (R16: it expired), though still Pending."""
        return invitations.has_expired(self.expires_at, now)


@dataclass(frozen=True)
class PendingPage:
    rows: list[PendingRow]
    total: int


@dataclass(frozen=True)
class Skipped:
    """An address a batch action left alone, and why (a message id and its arguments)."""

    email_id: int
    address: str
    reason: str
    params: dict[str, Any] = field(default_factory=dict)

    def describe(self, _: Translate) -> str:
        return _(self.reason).format(**self.params) if self.params else _(self.reason)


@dataclass(frozen=True)
class BatchResult:
    """What a batch action did: the addresses done (sent or cancelled) and those skipped."""

    done: list[str]
    skipped: list[Skipped]


def pending_address(from_rows: bool = False) -> ColumnElement[bool]:
    """The address (ContactEmail) has at least one Pending access row (R6, R21). Both forms
    mean the same; `from_rows` (IN the pending rows' addresses) is faster when every pending
    address must be read anyway, as when sorting by Invite sent."""
    if from_rows:
        return col(ContactEmail.id).in_(select(AccessRow.email_id).where(access.row_is_pending()))
    rows = select(AccessRow.id).where(
        AccessRow.email_id == ContactEmail.id, access.row_is_pending()
    )
    return rows.exists()


def list_pending(
    session: Session,
    sort_desc: bool | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
    search: str = "",
) -> PendingPage:
    """One page of the Pending activation list (R21). sort_desc None sorts by address; True or
    False sorts by Invite sent, newest or oldest first, addresses never invited last."""
    base = _pending_query(search, from_rows=sort_desc is not None)
    query = (
        base.order_by(*_order(sort_desc))
        .offset(max(offset, 0))
        .limit(min(max(limit, 1), MAX_LIMIT))
    )
    found = session.execute(query).all()
    names = invitations.login_account_names_of(session, [r.email_id for r in found])
    rows = [_row(r, names.get(r.email_id, [])) for r in found]
    return PendingPage(rows=rows, total=count_pending(session, search))


def count_pending(session: Session, search: str = "") -> int:
    """How many addresses the list has (the tab's badge); without a search, counted from
    the access rows' (email, login) index alone."""
    if search.strip():
        query = select(func.count(ContactEmail.id)).where(pending_address())
        query = query.join(Contact, Contact.id == ContactEmail.contact_id).where(_search(search))
    else:
        pending_rows = select(func.count(func.distinct(AccessRow.email_id)))
        query = pending_rows.where(access.row_is_pending())
    return session.scalar(query) or 0


def pending_ids(session: Session, search: str = "") -> list[int]:
    """The email ids of every row of the list, for "select all" (ids only)."""
    query = select(ContactEmail.id).where(pending_address()).order_by(ContactEmail.id)
    if search.strip():
        query = query.where(_search(search)).join(Contact, Contact.id == ContactEmail.contact_id)
    return [email_id for email_id in session.scalars(query) if email_id is not None]


def resend_to_selected(
    session: Session,
    settings: Settings,
    email_ids: Iterable[int],
    actor: Actor,
    message: str | None = None,
    now: datetime | None = None,
) -> BatchResult:
    """R21 "Resend to selected": send or resend an invitation to each address; a resend
    supersedes the older one (R14) and keeps its personalized message unless one is given.
    Invalid (R22), already active (R10) and no-longer-Login addresses are skipped and said."""
    moment = now or utcnow()

    def send(email_id: int) -> None:
        previous = invitations.outstanding(session, email_id)
        text = message if message is not None else (previous.message if previous else "")
        invitations.send_invitation(session, settings, email_id, actor, message=text, now=moment)

    return _each(session, email_ids, send)


def cancel_invites_to_selected(
    session: Session, email_ids: Iterable[int], actor: Actor, now: datetime | None = None
) -> BatchResult:
    """R21 "Cancel invites to selected": the links stop working, Login stays on and Invite
    sent becomes empty. Addresses without an outstanding invitation are skipped and said."""
    moment = now or utcnow()
    return _each(
        session,
        email_ids,
        lambda email_id: invitations.cancel_invitation(session, email_id, actor, now=moment),
    )


def _each(
    session: Session, email_ids: Iterable[int], action: Callable[[int], object]
) -> BatchResult:
    """Apply `action` to each address in its own SAVEPOINT: one bad row never stops the rest."""
    ids = list(dict.fromkeys(email_ids))
    addresses = _addresses(session, ids)
    done: list[str] = []
    skipped: list[Skipped] = []
    begin_write(session)
    for email_id in ids:
        address = addresses.get(email_id, "")
        try:
            with session.begin_nested():
                if email_id not in addresses:
                    raise NotFound()
                action(email_id)
        except DomainError as problem:
            skipped.append(Skipped(email_id, address, problem.message, problem.params))
            continue
        except SQLAlchemyError:
            # Not a rule the user can fix: log it, say it, and go on with the next address.
            log.exception("batch action failed for address %s", email_id)
            skipped.append(Skipped(email_id, address, DomainError.message))
            continue
        done.append(address)
    # A rolled-back savepoint may drop changes queued for open pages: say it once more.
    account_ids = access.accounts_of_emails(session, ids)
    events.record(session, "invitation", account_ids=account_ids)
    return BatchResult(done=done, skipped=skipped)


def _pending_query(search: str, from_rows: bool = False) -> Select:
    inviter = aliased(PortalUser)
    inviter_email = aliased(ContactEmail)
    query = (
        select(
            col(ContactEmail.id).label("email_id"),
            ContactEmail.address,
            ContactEmail.invalid_reason,
            col(Invitation.id).label("invitation_id"),
            Invitation.created_at,
            Invitation.expires_at,
            col(TeamMember.name).label("member_name"),
            col(inviter_email.address).label("client_address"),
            OutboxMessage.state,
            OutboxMessage.last_error,
        )
        .select_from(ContactEmail)
        .outerjoin(
            Invitation,
            and_(
                Invitation.email_id == ContactEmail.id,
                Invitation.state == InvitationState.OUTSTANDING.value,
            ),
        )
        .outerjoin(TeamMember, TeamMember.id == Invitation.invited_by_member_id)
        .outerjoin(inviter, inviter.id == Invitation.invited_by_portal_user_id)
        .outerjoin(inviter_email, inviter_email.id == inviter.email_id)
        .outerjoin(OutboxMessage, OutboxMessage.id == Invitation.outbox_id)
        .where(pending_address(from_rows))
    )
    if search.strip():
        query = query.join(Contact, Contact.id == ContactEmail.contact_id).where(_search(search))
    return query


def _search(search: str) -> ColumnElement[bool]:
    term = search.strip().lower()
    return or_(
        col(ContactEmail.address).contains(term, autoescape=True),
        func.lower(Contact.name).contains(term, autoescape=True),
    )


def _order(sort_desc: bool | None) -> list[ColumnElement]:
    address, email_id = col(ContactEmail.address), col(ContactEmail.id)
    if sort_desc is None:
        return [address, email_id]
    sent = col(Invitation.created_at)
    return [sent.is_(None), sent.desc() if sort_desc else sent.asc(), address, email_id]


def _addresses(session: Session, email_ids: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for start in range(0, len(email_ids), 500):
        chunk = email_ids[start : start + 500]
        query = select(ContactEmail.id, ContactEmail.address).where(col(ContactEmail.id).in_(chunk))
        found.update({email_id: address for email_id, address in session.execute(query)})
    return found


def _row(found: Any, accounts: list[str]) -> PendingRow:
    client = found.client_address
    return PendingRow(
        email_id=found.email_id,
        address=found.address,
        invalid_reason=found.invalid_reason,
        accounts=accounts,
        invitation_id=found.invitation_id,
        invite_sent_at=found.created_at,
        expires_at=found.expires_at,
        invited_by=client or found.member_name,
        invited_by_client=client is not None,
        delivery=DeliveryState(found.state) if found.state else None,
        delivery_error=found.last_error,
    )
