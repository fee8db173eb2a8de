"""The activity page's data (R30): one page of the feed with account names, and the choices of
its filters (accounts, and actors: team members or clients) found by a search."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session, col

from portal_ui.inputs import parse_id
from portal_ui.models import (
    AccessRow,
    Account,
    ActivityEvent,
    ContactEmail,
    PortalUser,
    TeamMember,
)

CHOICES_LIMIT = 20


@dataclass(frozen=True)
class Actor:
    """A filter value: "member:<id>" or "client:<portal user id>"."""

    kind: str
    id: int

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"

    @classmethod
    def parse(cls, key: str | None) -> Actor | None:
        """The actor of a key, None when the key is malformed or its id out of range (R38)."""
        kind, _, number = (key or "").partition(":")
        actor_id = parse_id(number)
        if kind not in ("member", "client") or actor_id is None:
            return None
        return cls(kind, actor_id)


@dataclass(frozen=True)
class FeedRow:
    event: ActivityEvent
    account_name: str

    @property
    def at(self) -> datetime:
        return self.event.at


@dataclass(frozen=True)
class FeedPage:
    rows: list[FeedRow]
    total: int


def feed_page(
    session: Session,
    *,
    account_id: int | None = None,
    actor: Actor | None = None,
    offset: int = 0,
    limit: int = 25,
) -> FeedPage:
    """One page of the feed, newest first, paged by the database, and the number of matching
    events. An invitation concerns an address rather than one account (R14): filtered by
    account, the feed also has the events of the account's addresses that name no account, and
    such an event shows the accounts where its address has Login on."""
    query = select(ActivityEvent)
    if account_id is not None:
        addresses = select(AccessRow.email_id).where(AccessRow.account_id == account_id)
        query = query.where(
            or_(
                ActivityEvent.account_id == account_id,
                and_(
                    col(ActivityEvent.account_id).is_(None),
                    col(ActivityEvent.email_id).in_(addresses),
                ),
            )
        )
    if actor is not None and actor.kind == "member":
        query = query.where(ActivityEvent.actor_member_id == actor.id)
    if actor is not None and actor.kind == "client":
        query = query.where(ActivityEvent.actor_portal_user_id == actor.id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    ordered = query.order_by(col(ActivityEvent.at).desc(), col(ActivityEvent.id).desc())
    events = list(session.scalars(ordered.offset(max(offset, 0)).limit(max(1, min(limit, 200)))))
    names = account_names(session, {e.account_id for e in events if e.account_id is not None})
    by_address = _login_accounts(
        session, {e.email_id for e in events if e.account_id is None and e.email_id is not None}
    )
    rows = [
        FeedRow(
            event,
            names.get(event.account_id, "")
            if event.account_id is not None
            else ", ".join(by_address.get(event.email_id or 0, [])),
        )
        for event in events
    ]
    return FeedPage(rows=rows, total=total)


def _login_accounts(session: Session, email_ids: set[int]) -> dict[int, list[str]]:
    """The names of the accounts where each address has Login on, in one query."""
    if not email_ids:
        return {}
    query = (
        select(AccessRow.email_id, Account.name)
        .join(Account, Account.id == AccessRow.account_id)
        .where(col(AccessRow.email_id).in_(sorted(email_ids)), col(AccessRow.login))
        .order_by(Account.name)
    )
    found: dict[int, list[str]] = defaultdict(list)
    for email_id, name in session.execute(query):
        found[email_id].append(name)
    return found


def account_names(session: Session, account_ids: set[int]) -> dict[int, str]:
    if not account_ids:
        return {}
    query = select(Account.id, Account.name).where(col(Account.id).in_(sorted(account_ids)))
    return {account_id: name for account_id, name in session.execute(query)}


def account_choices(
    session: Session, search: str = "", limit: int = CHOICES_LIMIT
) -> dict[int, str]:
    """Accounts whose name contains `search` (case-insensitive), by name, at most `limit`."""
    query = select(Account.id, Account.name).order_by(Account.name, Account.id).limit(limit)
    term = search.strip().lower()
    if term:
        query = query.where(func.lower(Account.name).contains(term, autoescape=True))
    return {account_id: name for account_id, name in session.execute(query)}


def actor_choices(session: Session, search: str = "", limit: int = CHOICES_LIMIT) -> dict[str, str]:
    """Team members, then clients (portal users, by address), whose name or address contains
    `search`; keys are Actor keys."""
    term = search.strip().lower()
    members = select(TeamMember.id, TeamMember.name).order_by(TeamMember.name).limit(limit)
    clients = (
        select(PortalUser.id, ContactEmail.address)
        .join(ContactEmail, ContactEmail.id == PortalUser.email_id)
        .order_by(ContactEmail.address)
        .limit(limit)
    )
    if term:
        members = members.where(func.lower(TeamMember.name).contains(term, autoescape=True))
        clients = clients.where(col(ContactEmail.address).contains(term, autoescape=True))
    choices = {Actor("member", m_id).key: name for m_id, name in session.execute(members)}
    choices.update({Actor("client", c_id).key: addr for c_id, addr in session.execute(clients)})
    return choices


def actor_label(session: Session, actor: Actor) -> str:
    """The name shown for a filter chosen by URL (a member's name, a client's address)."""
    if actor.kind == "member":
        member = session.get(TeamMember, actor.id)
        return member.name if member else ""
    query = (
        select(ContactEmail.address)
        .join(PortalUser, PortalUser.email_id == ContactEmail.id)
        .where(PortalUser.id == actor.id)
    )
    return session.scalars(query).first() or ""


def filter_choices(
    session: Session, account_id: int | None, actor: Actor | None
) -> tuple[dict[int, str], dict[str, str]]:
    """The first choices of the feed's two filters (R30), including the ones the URL chose."""
    accounts = account_choices(session)
    if account_id is not None:
        accounts.update(account_names(session, {account_id}))
    actors = actor_choices(session)
    if actor is not None and actor.key not in actors:
        actors[actor.key] = actor_label(session, actor) or actor.key
    return accounts, actors
