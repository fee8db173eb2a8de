"""Access states (R6) and account status (R7), each defined once as a SQL expression, and the
roll-up columns of `account` that cache them for the accounts list (R23-R24)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, select, update
from sqlalchemy.sql import Select
from sqlmodel import Session, col

from portal_ui import events
from portal_ui.batch_sql import in_ids
from portal_ui.models import (
    AccessRow,
    AccessState,
    Account,
    AccountContact,
    AccountStatus,
    Contact,
    ContactEmail,
    Invitation,
    InvitationState,
    PortalUser,
)

_CHUNK = 500

# The roll-ups that follow from access rows, portal users and invitations alone (R7, R23). A
# change of switches or invitations cannot alter an account's contacts or addresses, so
# `refresh_access` leaves contact_count and search_text alone: the search text's aggregate over
# contacts and addresses was most of a bulk update's refresh, and writing it again unchanged
# would still rewrite its indexes and fire the triggers that keep the search index in step.
ACCESS_ROLLUPS: tuple[str, ...] = (
    "status",
    "has_login",
    "has_notify",
    "has_email_sync",
    "last_login_at",
)
# What a change of each switch can alter (R2, R7): Login also decides which portal users count
# for the last login; Signatory is in no roll-up.
SWITCH_ROLLUPS: dict[str, tuple[str, ...]] = {
    "login": ("status", "has_login", "last_login_at"),
    "notify": ("has_notify",),
    "email_sync": ("has_email_sync",),
    "signatory": (),
}
# Sending, superseding or cancelling an invitation alters only the status (R7).
INVITATION_ROLLUPS: tuple[str, ...] = ("status",)


def email_is_activated(email_id: ColumnElement) -> ColumnElement[bool]:
    """The address has an activated portal user."""
    return exists().where(PortalUser.email_id == email_id)


def is_activated(session: Session, email_id: int) -> bool:
    """email_is_activated for one address."""
    return bool(session.scalar(select(email_is_activated(literal(email_id)))))


def outstanding_invitation(email_id: ColumnElement) -> ColumnElement[bool]:
    """The address has an invitation that was sent and is neither accepted, cancelled nor
    superseded (expired ones still count: the client was invited and has not activated)."""
    return exists().where(
        Invitation.email_id == email_id, Invitation.state == InvitationState.OUTSTANDING.value
    )


def row_is_active() -> ColumnElement[bool]:
    """R6: Login on and the address's portal user is activated."""
    return and_(col(AccessRow.login), email_is_activated(AccessRow.email_id))


def row_is_pending() -> ColumnElement[bool]:
    """R6: Login on and the address has no activated portal user."""
    return and_(col(AccessRow.login), ~email_is_activated(AccessRow.email_id))


def access_state_expr() -> ColumnElement[str]:
    """R6 as one expression over AccessRow, for queries that show states (an address with no
    access row on the account, outer-joined, has No access)."""
    return case(
        (~func.coalesce(AccessRow.login, False), literal(AccessState.NO_ACCESS.value)),
        (email_is_activated(AccessRow.email_id), literal(AccessState.ACTIVE.value)),
        else_=literal(AccessState.PENDING.value),
    )


def account_status_expr(account_id: ColumnElement) -> ColumnElement[int]:
    """R7: Activated if a row is Active; else Pending if a Pending row has an outstanding
    invitation; else Not activated."""
    rows = select(AccessRow.id).where(AccessRow.account_id == account_id, col(AccessRow.login))
    any_active = rows.where(email_is_activated(AccessRow.email_id)).exists()
    any_invited = rows.where(outstanding_invitation(AccessRow.email_id)).exists()
    return case(
        (any_active, literal(AccountStatus.ACTIVATED.value)),
        (any_invited, literal(AccountStatus.PENDING.value)),
        else_=literal(AccountStatus.NOT_ACTIVATED.value),
    )


def _any_row(account_id: ColumnElement, switch: ColumnElement) -> ColumnElement[bool]:
    return exists().where(AccessRow.account_id == account_id, switch)


def _last_login(account_id: ColumnElement) -> Select:
    return (
        select(func.max(PortalUser.last_login_at))
        .join(AccessRow, AccessRow.email_id == PortalUser.email_id)
        .where(AccessRow.account_id == account_id, col(AccessRow.login))
        .scalar_subquery()
    )


def _search_text(account_id: ColumnElement) -> ColumnElement[str]:
    names = (
        select(func.aggregate_strings(Contact.name, " "))
        .join(AccountContact, AccountContact.contact_id == Contact.id)
        .where(AccountContact.account_id == account_id)
        .scalar_subquery()
    )
    addresses = (
        select(func.aggregate_strings(ContactEmail.address, " "))
        .join(AccessRow, AccessRow.email_id == ContactEmail.id)
        .where(AccessRow.account_id == account_id)
        .scalar_subquery()
    )
    return func.lower(
        Account.name + " " + func.coalesce(names, "") + " " + func.coalesce(addresses, "")
    )


def _rollup_values() -> dict:
    account_id = Account.id
    return {
        "status": account_status_expr(account_id),
        "has_login": _any_row(account_id, col(AccessRow.login)),
        "has_notify": _any_row(account_id, col(AccessRow.notify)),
        "has_email_sync": _any_row(account_id, col(AccessRow.email_sync)),
        "contact_count": select(func.count())
        .select_from(AccountContact)
        .where(AccountContact.account_id == account_id)
        .scalar_subquery(),
        "last_login_at": _last_login(account_id),
        "search_text": _search_text(account_id),
    }


def refresh_accounts(session: Session, account_ids: Iterable[int] | None) -> None:
    """Recompute the roll-ups of these accounts (None: every account) in this transaction, and
    tell open pages once the transaction commits."""
    values = _rollup_values()
    if account_ids is None:
        session.execute(update(Account).values(values))
        events.record(session, "account")
        return
    ids = sorted(set(account_ids))
    for chunk in _chunks(ids):
        session.execute(update(Account).where(col(Account.id).in_(chunk)).values(values))
    if ids:
        events.record(session, "account", account_ids=ids)


def refresh_access(
    session: Session, account_ids: Iterable[int], rollups: Iterable[str] = ACCESS_ROLLUPS
) -> None:
    """refresh_accounts for a change of access rows or invitations (never of contacts or
    addresses): recompute only these roll-ups, then tell open pages once committed.

    One UPDATE per roll-up, of the accounts where it differs: SQLite rewrites the index entries
    of every column an UPDATE sets, changed or not, and each roll-up has its own index (three
    for the last login), so an account whose Login changes but whose last login does not costs
    no write in the last-login indexes, and an unchanged account none at all."""
    wanted = set(rollups)
    if unknown := wanted - set(ACCESS_ROLLUPS):
        raise ValueError(f"not access roll-ups: {sorted(unknown)}")
    ids = sorted(set(account_ids))
    names = [name for name in ACCESS_ROLLUPS if name in wanted]
    if names and ids:
        every = _rollup_values()
        for chunk in _chunks(ids):
            for name in names:
                column = col(getattr(Account, name))
                statement = (
                    update(Account)
                    .where(in_ids(session, Account.id, chunk), column.is_distinct_from(every[name]))
                    .values({name: every[name]})
                )
                # Which accounts changed is not known without asking; expiring the loaded ones
                # (a page's session holds a few) costs less than the ORM's RETURNING of ids.
                session.execute(statement.execution_options(synchronize_session=False))
        _expire_loaded(session, set(ids), names)
    if ids:
        events.record(session, "account", account_ids=ids)


def _expire_loaded(session: Session, account_ids: set[int], names: list[str]) -> None:
    """Make the session reload these roll-ups of the accounts it holds (their rows changed)."""
    for instance in list(session.identity_map.values()):
        if isinstance(instance, Account) and instance.id in account_ids:
            session.expire(instance, names)


def accounts_of_emails(session: Session, email_ids: Iterable[int]) -> set[int]:
    """The accounts on which these addresses have an access row."""
    found: set[int] = set()
    for chunk in _chunks(sorted(set(email_ids))):
        query = select(AccessRow.account_id).where(in_ids(session, AccessRow.email_id, chunk))
        found.update(session.scalars(query))
    return found


def accounts_of_contact(session: Session, contact_id: int) -> set[int]:
    query = select(AccountContact.account_id).where(AccountContact.contact_id == contact_id)
    return set(session.scalars(query))


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    iterator = iter(ids)
    while chunk := list(islice(iterator, _CHUNK)):
        yield chunk
