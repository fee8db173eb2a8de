"""The accounts list query (R23-R24): filters, sorting and paging done by the database over the
account roll-up columns, the columns a team member hides, and the profile header."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op
from sqlmodel import Session, col

from portal_ui.clock import utcnow
from portal_ui.errors import NotFound
from portal_ui.i18n import N_
from portal_ui.models import Account, AccountAssignment, AccountStatus, TeamMember

# R24: the choices of the Last login filter.
LAST_LOGIN_CHOICES: tuple[str, ...] = ("offline", "never", "7d", "30d", "older")
LAST_LOGIN_LABELS: dict[str, str] = {
    "offline": N_("Offline"),
    "never": N_("Never logged in"),
    "7d": N_("Within 7 days"),
    "30d": N_("Within 30 days"),
    "older": N_("More than 30 days ago"),
}

SORTABLE: tuple[str, ...] = (
    "name",
    "status",
    "login",
    "notify",
    "email_sync",
    "contacts",
    "last_login",
)

DEFAULT_LIMIT = 25
MAX_LIMIT = 500


@dataclass(frozen=True)
class ColumnChoice:
    """A column of the accounts list the team member may hide (R23); `label` is a message id."""

    key: str
    label: str
    sort: str | None = None


# R23: every column but the selection and Name can be hidden.
COLUMNS: tuple[ColumnChoice, ...] = (
    ColumnChoice("status", N_("ID"), "status"),
    ColumnChoice("login", N_("Login"), "login"),
    ColumnChoice("notify", N_("Notify"), "notify"),
    ColumnChoice("email_sync", N_("Email sync"), "email_sync"),
    ColumnChoice("contacts", N_("Contacts"), "contacts"),
    ColumnChoice("last_login", N_("Last login"), "last_login"),
    ColumnChoice("assigned", N_("Assigned to")),
)
COLUMN_KEYS: tuple[str, ...] = tuple(column.key for column in COLUMNS)


@dataclass(frozen=True)
class AccountFilter:
    """The filters of R24; they combine (AND). Empty values mean "any"."""

    last_login: str | None = None
    status: AccountStatus | None = None
    assigned_member_id: int | None = None
    test_client: bool | None = None
    search: str = ""

    def __post_init__(self) -> None:
        if self.last_login is not None and self.last_login not in LAST_LOGIN_CHOICES:
            raise ValueError(f"unknown last login filter {self.last_login!r}")

    @property
    def is_empty(self) -> bool:
        return self == AccountFilter()

    def to_query(self) -> dict[str, str]:
        """URL query parameters for a bookmarkable filtered view (only the filters in use)."""
        query: dict[str, str] = {}
        if self.last_login:
            query["last_login"] = self.last_login
        if self.status is not None:
            query["status"] = self.status.slug
        if self.assigned_member_id is not None:
            query["assigned"] = str(self.assigned_member_id)
        if self.test_client is not None:
            query["test_client"] = "yes" if self.test_client else "no"
        if self.search.strip():
            query["q"] = self.search.strip()
        return query

    @classmethod
    def from_query(cls, query: Mapping[str, Any]) -> AccountFilter:
        """The filter of to_query(); values a hand-edited URL gets wrong are ignored."""
        last_login = str(query.get("last_login") or "")
        return cls(
            last_login=last_login if last_login in LAST_LOGIN_CHOICES else None,
            status=_status_from_slug(str(query.get("status") or "")),
            assigned_member_id=_int_or_none(query.get("assigned")),
            test_client={"yes": True, "no": False}.get(str(query.get("test_client") or "")),
            search=str(query.get("q") or "").strip(),
        )


@dataclass(frozen=True)
class AccountRow:
    """One row of the accounts list (R23)."""

    id: int
    name: str
    status: AccountStatus
    is_test_client: bool
    has_login: bool
    has_notify: bool
    has_email_sync: bool
    contact_count: int
    last_login_at: datetime | None
    assigned: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AccountPage:
    rows: list[AccountRow]
    total: int


@dataclass(frozen=True)
class AssignedMember:
    id: int
    name: str


@dataclass(frozen=True)
class AccountHeader:
    """What the profile page shows above its tabs."""

    id: int
    name: str
    status: AccountStatus
    is_test_client: bool
    assigned: list[AssignedMember]


def list_accounts(
    session: Session,
    filter: AccountFilter = AccountFilter(),
    sort: str = "name",
    descending: bool = False,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
    now: datetime | None = None,
) -> AccountPage:
    """One page of the accounts list and the number of matching accounts (R23, R24), in one
    query: the total and the page's assigned team members are subqueries of the page (a
    search on SQLite takes two, see _searched_page)."""
    if sort not in SORTABLE:
        raise ValueError(f"cannot sort by {sort!r}")
    offset, limit = max(offset, 0), min(max(limit, 1), MAX_LIMIT)
    conditions = _conditions(filter, now or utcnow())
    connection = session.connection()
    if filter.search.strip() and connection.dialect.name == "sqlite":
        return _searched_page(session, filter, conditions, sort, descending, offset, limit, now)
    total = select(func.count()).select_from(Account).where(*conditions).scalar_subquery()
    query = (
        select(*_ROW_COLUMNS, _assigned_names().label("assigned"), total.label("total"))
        .where(*conditions)
        .order_by(*_order(sort, descending))
        .offset(offset)
        .limit(limit)
    )
    found = connection.execute(query).all()
    if not found:
        # Past the last page: the total still says how many there are.
        return AccountPage(rows=[], total=count_accounts(session, filter, now) if offset else 0)
    return AccountPage(rows=[_row(row) for row in found], total=found[0].total)


def _searched_page(
    session: Session,
    filter: AccountFilter,
    conditions: list[ColumnElement[bool]],
    sort: str,
    descending: bool,
    offset: int,
    limit: int,
    now: datetime | None,
) -> AccountPage:
    """A page of a search on SQLite: counted first, so that the page can be read the cheaper
    way (_scan_then_sort); the page's ids first, then their columns and assigned members."""
    total = count_accounts(session, filter, now)
    if total <= offset:
        return AccountPage(rows=[], total=total)
    unindexed = _scan_then_sort(total, offset, limit)
    ids = (
        select(Account.id)
        .where(*conditions)
        .order_by(*_order(sort, descending, unindexed))
        .offset(offset)
        .limit(limit)
    )
    query = (
        select(*_ROW_COLUMNS, _assigned_names().label("assigned"))
        .where(col(Account.id).in_(ids))
        .order_by(*_order(sort, descending))
    )
    rows = [_row(row) for row in session.connection().execute(query)]
    return AccountPage(rows=rows, total=total)


def _scan_then_sort(total: int, offset: int, limit: int) -> bool:
    """Whether SQLite should read every account matching a search and sort them, rather than
    walk the sort's index testing each account until the page is full. The walk reads about
    (offset + limit) / (total / all accounts) accounts: past a quarter of the table, one scan
    and a sort of the matches is cheaper (a rare word, or a page far down the list)."""
    return 4 * (offset + limit) > total


def count_accounts(
    session: Session, filter: AccountFilter = AccountFilter(), now: datetime | None = None
) -> int:
    """How many accounts match (a COUNT in the database, the same conditions as the list)."""
    conditions = _conditions(filter, now or utcnow())
    query = select(func.count()).select_from(Account).where(*conditions)
    return session.scalar(query) or 0


def matching_ids(
    session: Session, filter: AccountFilter = AccountFilter(), now: datetime | None = None
) -> list[int]:
    """The ids of every matching account, for "select all N matching" (ids only)."""
    query = select(Account.id).where(*_conditions(filter, now or utcnow())).order_by(Account.id)
    return [account_id for account_id in session.scalars(query) if account_id is not None]


def account_header(session: Session, account_id: int) -> AccountHeader:
    """Name, status (R7), test client (R4) and assigned team members (R5) of one account."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound()
    query = (
        select(TeamMember.id, TeamMember.name)
        .join(AccountAssignment, AccountAssignment.team_member_id == TeamMember.id)
        .where(AccountAssignment.account_id == account_id)
        .order_by(TeamMember.name, TeamMember.id)
    )
    assigned = [AssignedMember(id=m_id, name=name) for m_id, name in session.execute(query)]
    return AccountHeader(
        id=account_id,
        name=account.name,
        status=AccountStatus(account.status),
        is_test_client=account.is_test_client,
        assigned=assigned,
    )


def hidden_columns(session: Session, member_id: int) -> list[str]:
    """The accounts-list columns this team member has hidden (R23), known keys only."""
    member = session.get(TeamMember, member_id)
    if member is None:
        raise NotFound()
    hidden = set(member.hidden_columns or [])
    return [key for key in COLUMN_KEYS if key in hidden]


def save_hidden_columns(session: Session, member_id: int, hidden: Iterable[str]) -> list[str]:
    """Remember which columns this team member hides (R23); Name cannot be hidden."""
    member = session.get(TeamMember, member_id)
    if member is None:
        raise NotFound()
    unknown = set(hidden) - set(COLUMN_KEYS)
    if unknown:
        raise ValueError(f"unknown columns {sorted(unknown)}")
    chosen = set(hidden)
    member.hidden_columns = [key for key in COLUMN_KEYS if key in chosen]
    session.add(member)
    session.flush()
    return list(member.hidden_columns)


def _conditions(filter: AccountFilter, now: datetime) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filter.last_login:
        conditions.append(_last_login_condition(filter.last_login, now))
    if filter.status is not None:
        conditions.append(col(Account.status) == int(filter.status))
    if filter.assigned_member_id is not None:
        conditions.append(
            exists().where(
                AccountAssignment.account_id == Account.id,
                AccountAssignment.team_member_id == filter.assigned_member_id,
            )
        )
    if filter.test_client is not None:
        conditions.append(col(Account.is_test_client) == filter.test_client)
    term = filter.search.strip().lower()
    if term:
        # search_text is lower-cased when the roll-ups are refreshed.
        conditions.append(col(Account.search_text).contains(term, autoescape=True))
    return conditions


def _last_login_condition(choice: str, now: datetime) -> ColumnElement[bool]:
    """R24. Offline: no access row has Login on; the others look at the portal users' last
    sign-in (the roll-up only counts addresses with Login on the account)."""
    last_login = col(Account.last_login_at)
    if choice == "offline":
        return ~col(Account.has_login)
    if choice == "never":
        return and_(col(Account.has_login), last_login.is_(None))
    if choice == "7d":
        return last_login >= now - timedelta(days=7)
    if choice == "30d":
        return last_login >= now - timedelta(days=30)
    return last_login < now - timedelta(days=30)


def _order(sort: str, descending: bool, unindexed: bool = False) -> list[ColumnElement]:
    """The ORDER BY of a sort key; the id breaks ties so paging is stable. `unindexed` wraps
    each key in SQLite's unary + so that no index is walked to produce the order."""

    def term(column: Any) -> Any:
        if not unindexed:
            return column
        return UnaryExpression(column, operator=custom_op("+"), type_=column.type)

    def direction(column: Any) -> ColumnElement:
        return term(column).desc() if descending else term(column).asc()

    name, account_id = col(Account.name), col(Account.id)
    if sort == "name":
        return [direction(name), direction(account_id)]
    if sort == "contacts":
        return [direction(col(Account.contact_count)), direction(account_id)]
    if sort == "last_login":
        # Never logged in and Offline accounts come last in both directions; each direction
        # has an index on exactly these expressions (models.Account).
        last_login, last_id = term(col(Account.last_login_at)), term(account_id)
        if descending:
            return [last_login.is_not(None).desc(), last_login.desc(), last_id.desc()]
        return [last_login.is_(None), last_login.asc(), last_id.asc()]
    key = {
        "status": col(Account.status),
        "login": col(Account.has_login),
        "notify": col(Account.has_notify),
        "email_sync": col(Account.has_email_sync),
    }[sort]
    return [direction(key), direction(name), direction(account_id)]


_NAME_SEPARATOR = "\x1f"  # ASCII unit separator: never in a name


def _assigned_names() -> ColumnElement[str]:
    """The names of an account's assigned team members, as one string (a correlated subquery,
    evaluated only for the rows of the page when the page walks an index)."""
    return (
        select(func.aggregate_strings(TeamMember.name, _NAME_SEPARATOR))
        .join(AccountAssignment, AccountAssignment.team_member_id == TeamMember.id)
        .where(AccountAssignment.account_id == Account.id)
        .scalar_subquery()
    )


_ROW_COLUMNS = (
    Account.id,
    Account.name,
    Account.status,
    Account.is_test_client,
    Account.has_login,
    Account.has_notify,
    Account.has_email_sync,
    Account.contact_count,
    Account.last_login_at,
)


def _row(found: Any) -> AccountRow:
    assigned = sorted(found.assigned.split(_NAME_SEPARATOR)) if found.assigned else []
    return AccountRow(
        id=found.id,
        name=found.name,
        status=AccountStatus(found.status),
        is_test_client=found.is_test_client,
        has_login=found.has_login,
        has_notify=found.has_notify,
        has_email_sync=found.has_email_sync,
        contact_count=found.contact_count,
        last_login_at=found.last_login_at,
        assigned=assigned,
    )


def _status_from_slug(slug: str) -> AccountStatus | None:
    return next((status for status in AccountStatus if status.slug == slug), None)


def _int_or_none(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None
