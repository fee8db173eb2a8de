"""The accounts list query (R23-R24): filters, sorting and paging done by the database over the
account roll-up columns, the columns a team member hides, and the profile header."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple
from weakref import WeakSet

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    column,
    exists,
    func,
    literal_column,
    select,
    table,
)
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op
from sqlmodel import Session, col

from portal_ui.clock import utcnow
from portal_ui.db import SEARCH_INDEX, has_search_index
from portal_ui.errors import NotFound
from portal_ui.i18n import N_
from portal_ui.inputs import parse_id
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
            assigned_member_id=parse_id(query.get("assigned")),
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
    connection = session.connection()
    shape, values = _shape(filter, now, connection)
    if shape.search is not None and connection.dialect.name == "sqlite":
        return _searched_page(connection, shape, values, sort, descending, offset, limit)
    statement = _page_statement(shape, sort, descending)
    found = connection.execute(statement, {**values, "offset": offset, "limit": limit}).all()
    if not found:
        # Past the last page: the total still says how many there are.
        total = _count(connection, shape, values)[0] if offset else 0
        return AccountPage(rows=[], total=total)
    return AccountPage(rows=[_row(row) for row in found], total=found[0][-1])


def _searched_page(
    connection: Connection,
    shape: _Shape,
    values: dict[str, Any],
    sort: str,
    descending: bool,
    offset: int,
    limit: int,
) -> AccountPage:
    """A page of a search on SQLite: counted first, so that the page can be read the cheaper
    way (_walks_the_sort_index); the page's ids first, then their columns and assigned
    members."""
    total, all_accounts = _count(connection, shape, values)
    if total <= offset:
        return AccountPage(rows=[], total=total)
    offset, limit, backwards = page_window(total, offset, limit)
    walk = _walks_the_sort_index(shape, total, all_accounts, offset, limit)
    statement = _searched_page_statement(shape, sort, descending, walk, backwards)
    found = connection.execute(statement, {**values, "offset": offset, "limit": limit})
    return AccountPage(rows=[_row(row) for row in found], total=total)


def page_window(total: int, offset: int, limit: int) -> tuple[int, int, bool]:
    """Where to read a page of `total` ordered rows: (offset, limit, backwards). A page past the
    middle is read from the end of the list, where it is nearer (backwards: offset and limit
    count from the last row), so the last page reads as little as the first."""
    after = total - offset - limit  # rows after this page
    if after < offset:
        return max(0, after), min(limit, total - offset), True
    return offset, limit, False


def _walks_the_sort_index(
    shape: _Shape, total: int, all_accounts: int, offset: int, limit: int
) -> bool:
    """Whether SQLite should walk the sort's index testing each account's text with LIKE until
    the page is full, rather than read every match and sort them. The walk reads about
    (offset + limit) * accounts / total accounts. The other way reads the whole table (no
    search index): past a quarter of it, the scan and a sort of the matches is cheaper; or it
    reads the matches found in the search index, one lookup each, at about the cost of a step
    of the walk (measured on 100,000 accounts): a rare word, or a page far down the list."""
    walked = (offset + limit) * all_accounts / max(total, 1)
    if shape.search == _INDEXED:
        return walked <= total
    return 4 * (offset + limit) <= total


def count_accounts(
    session: Session, filter: AccountFilter = AccountFilter(), now: datetime | None = None
) -> int:
    """How many accounts match (a COUNT in the database, the same conditions as the list)."""
    connection = session.connection()
    shape, values = _shape(filter, now, connection)
    return _count(connection, shape, values)[0]


def _count(connection: Connection, shape: _Shape, values: dict[str, Any]) -> tuple[int, int]:
    """The number of matching accounts, and an estimate of the number of all accounts (the
    highest id: cheap, and ids are seldom deleted) for _walks_the_sort_index."""
    matches, accounts = connection.execute(_count_statement(shape), values).one()
    return matches or 0, accounts or 0


def matching_ids(
    session: Session, filter: AccountFilter = AccountFilter(), now: datetime | None = None
) -> list[int]:
    """The ids of every matching account, for "select all N matching" (ids only)."""
    connection = session.connection()
    shape, values = _shape(filter, now, connection)
    found = connection.execute(_ids_statement(shape), values).scalars()
    return [account_id for account_id in found if account_id is not None]


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


# -- the queries ------------------------------------------------------------------------------
# Each shape of query (which filters are present, the sort, how a search runs) is built once into
# a statement whose filter values are bound parameters: building the expression and its cache key
# on every call cost about as much as running the query of a short page (Pending, 0.25 ms against
# 0.6 ms), and the same statement object also spares SQLAlchemy adapting its cached result
# columns to a new statement (another 0.2 ms).

# On PostgreSQL every search is _LIKE: its planner answers LIKE '%term%' from the pg_trgm index
# of search_text (db.TRIGRAM_INDEX, 3+ characters) when few accounts match, and walks the sort's
# index testing LIKE when many do, by itself (R39).
_LIKE = "like"  # a search tests LIKE on every account it reads
_INDEXED = "indexed"  # a search reads the matches from the FTS5 trigram index (SQLite, 3+ chars)
_TRIGRAM = 3  # the trigram index cannot find a shorter string

_SEARCH_INDEX = table(SEARCH_INDEX, column("rowid", Integer), column(SEARCH_INDEX, String))
_indexed_engines: WeakSet[Engine] = WeakSet()


class _Shape(NamedTuple):
    """Which filters a query has, with the search's way (None, _LIKE or _INDEXED)."""

    last_login: str | None
    status: bool
    assigned: bool
    test_client: bool
    search: str | None


# R24: the last login filters that compare with a moment, and how many days before now it is.
_SINCE_DAYS = {"7d": 7, "30d": 30, "older": 30}


def _shape(
    filter: AccountFilter, now: datetime | None, connection: Connection
) -> tuple[_Shape, dict[str, Any]]:
    """The shape of a filter's query and the values of its bound parameters."""
    values: dict[str, Any] = {}
    if filter.last_login in _SINCE_DAYS:
        values["since"] = (now or utcnow()) - timedelta(days=_SINCE_DAYS[filter.last_login])
    if filter.status is not None:
        values["status"] = int(filter.status)
    if filter.assigned_member_id is not None:
        values["member"] = filter.assigned_member_id
    if filter.test_client is not None:
        values["test_client"] = filter.test_client
    search = None
    # search_text is lower-cased when the roll-ups are refreshed.
    term = filter.search.strip().lower()
    if term:
        search = _LIKE
        values["pattern"] = f"%{_escape_like(term)}%"
        if len(term) >= _TRIGRAM and _has_search_index(connection):
            search = _INDEXED
            values["phrase"] = _phrase(term)
    shape = _Shape(
        filter.last_login,
        filter.status is not None,
        filter.assigned_member_id is not None,
        filter.test_client is not None,
        search,
    )
    return shape, values


def _escape_like(term: str) -> str:
    """The term as a LIKE pattern matching it literally (ESCAPE '/', as SQLAlchemy's
    autoescape)."""
    return term.replace("/", "//").replace("%", "/%").replace("_", "/_")


def _phrase(term: str) -> str:
    """An FTS5 query for the term as one phrase: with the trigram tokenizer, the accounts whose
    text contains it, whatever its characters ("" inside the quotes is a quote)."""
    return '"' + term.replace('"', '""') + '"'


def _has_search_index(connection: Connection) -> bool:
    """SQLite's FTS5 search index (db.has_search_index), remembered per engine once found (an
    index is not dropped while the application runs)."""
    if connection.dialect.name != "sqlite":
        return False
    if connection.engine in _indexed_engines:
        return True
    found = has_search_index(connection)
    if found:
        _indexed_engines.add(connection.engine)
    return found


@lru_cache(maxsize=256)
def _conditions(shape: _Shape, walk: bool = False) -> tuple[ColumnElement[bool], ...]:
    """The WHERE of a shape. `walk`: the query walks the sort's index, testing each account's
    text rather than reading the matches from the search index."""
    conditions: list[ColumnElement[bool]] = []
    if shape.last_login:
        conditions.append(_last_login_condition(shape.last_login))
    if shape.status:
        conditions.append(col(Account.status) == bindparam("status"))
    if shape.assigned:
        conditions.append(
            exists().where(
                AccountAssignment.account_id == Account.id,
                AccountAssignment.team_member_id == bindparam("member"),
            )
        )
    if shape.test_client:
        conditions.append(col(Account.is_test_client) == bindparam("test_client"))
    if shape.search == _INDEXED and not walk:
        conditions.append(col(Account.id).in_(_search_matches()))
    elif shape.search is not None:
        # The index and LIKE find the same accounts (db.SEARCH_INDEX_DDL).
        conditions.append(col(Account.search_text).like(bindparam("pattern"), escape="/"))
    return tuple(conditions)


def _search_matches() -> Select:
    """The ids of the accounts whose search text contains the phrase (the trigram index)."""
    return select(_SEARCH_INDEX.c.rowid).where(_matches_phrase())


def _matches_phrase() -> ColumnElement[bool]:
    return _SEARCH_INDEX.c[SEARCH_INDEX].match(bindparam("phrase"))


def _last_login_condition(choice: str) -> ColumnElement[bool]:
    """R24. Offline: no access row has Login on; the others look at the portal users' last
    sign-in (the roll-up only counts addresses with Login on the account)."""
    last_login = col(Account.last_login_at)
    if choice == "offline":
        return ~col(Account.has_login)
    if choice == "never":
        return and_(col(Account.has_login), last_login.is_(None))
    if choice == "older":
        return last_login < bindparam("since")
    return last_login >= bindparam("since")


@lru_cache(maxsize=512)
def _page_statement(shape: _Shape, sort: str, descending: bool) -> Select:
    """A page with its rows' assigned members and, last, the total (a subquery)."""
    conditions = _conditions(shape)
    total = select(func.count()).select_from(Account).where(*conditions).scalar_subquery()
    return (
        select(*_ROW_COLUMNS, _assigned_names().label("assigned"), total.label("total"))
        .where(*conditions)
        .order_by(*_order(sort, descending))
        .offset(bindparam("offset"))
        .limit(bindparam("limit"))
    )


@lru_cache(maxsize=512)
def _searched_page_statement(
    shape: _Shape, sort: str, descending: bool, walk: bool, backwards: bool
) -> Select:
    """A search's page: the page's ids (walking the sort's index, or reading every match and
    sorting them; counted from the end of the list when `backwards`), then only their columns
    and assigned members, in the list's order."""
    ids = (
        select(Account.id)
        .where(*_conditions(shape, walk))
        .order_by(*_order(sort, descending, unindexed=not walk, backwards=backwards))
        .offset(bindparam("offset"))
        .limit(bindparam("limit"))
    )
    return (
        select(*_ROW_COLUMNS, _assigned_names().label("assigned"))
        .where(col(Account.id).in_(ids))
        .order_by(*_order(sort, descending))
    )


@lru_cache(maxsize=256)
def _count_statement(shape: _Shape) -> Select:
    """The number of matches and the highest account id. A search and nothing else counts in
    the trigram index alone, without reading the accounts."""
    accounts = select(func.max(Account.id)).scalar_subquery()
    if shape == _Shape(None, False, False, False, _INDEXED):
        matches = select(func.count()).select_from(_SEARCH_INDEX).where(_matches_phrase())
    else:
        matches = select(func.count()).select_from(Account).where(*_conditions(shape))
    return select(matches.scalar_subquery(), accounts)


@lru_cache(maxsize=256)
def _ids_statement(shape: _Shape) -> Select:
    return select(Account.id).where(*_conditions(shape)).order_by(Account.id)


def _order(
    sort: str, descending: bool, unindexed: bool = False, backwards: bool = False
) -> list[ColumnElement]:
    """The ORDER BY of a sort key; the id breaks ties so paging is stable. `unindexed` wraps
    each key in SQLite's unary + so that no index is walked to produce the order; `backwards`
    is the exact reverse of the order (which `descending` is not for last login)."""

    def term(column: Any) -> Any:
        if not unindexed:
            return column
        return UnaryExpression(column, operator=custom_op("+"), type_=column.type)

    def ordered(*keys: tuple[Any, bool]) -> list[ColumnElement]:
        """Each key ascending, or descending when its flag (flipped going backwards) says so."""
        return [term(key).desc() if down != backwards else term(key).asc() for key, down in keys]

    name, account_id = col(Account.name), col(Account.id)
    if sort == "name":
        return ordered((name, descending), (account_id, descending))
    if sort == "contacts":
        return ordered((col(Account.contact_count), descending), (account_id, descending))
    if sort == "last_login":
        # Never logged in and Offline accounts come last in both directions; each direction
        # has an index on exactly these expressions (models.Account).
        last_login = col(Account.last_login_at)
        if descending:
            return ordered((last_login.is_not(None), True), (last_login, True), (account_id, True))
        return ordered((last_login.is_(None), False), (last_login, False), (account_id, False))
    key = {
        "status": col(Account.status),
        "login": col(Account.has_login),
        "notify": col(Account.has_notify),
        "email_sync": col(Account.has_email_sync),
    }[sort]
    return ordered((key, descending), (name, descending), (account_id, descending))


_NAME_SEPARATOR = "\x1f"  # ASCII unit separator: never in a name


def _assigned_names() -> ColumnElement[str]:
    """The names of an account's assigned team members, as one string (a correlated subquery,
    evaluated only for the rows of the page when the page walks an index)."""
    return (
        # The separator as a literal of the SQL: given as a string, SQLAlchemy would render it
        # into the cached SQL again on every execution.
        select(func.aggregate_strings(TeamMember.name, literal_column(f"'{_NAME_SEPARATOR}'")))
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
_STATUSES = {status.value: status for status in AccountStatus}


def _row(found: Sequence[Any]) -> AccountRow:
    """A row of the page: _ROW_COLUMNS, then the assigned members (read by position, and the
    status from a dict: a fifth cheaper than by name and AccountStatus(), on every row)."""
    account_id, name, status, test, login, notify, email_sync, contacts, last_login, assigned = (
        found[:10]
    )
    return AccountRow(
        account_id,
        name,
        _STATUSES[status],
        test,
        login,
        notify,
        email_sync,
        contacts,
        last_login,
        sorted(assigned.split(_NAME_SEPARATOR)) if assigned else [],
    )


def _status_from_slug(slug: str) -> AccountStatus | None:
    return next((status for status in AccountStatus if status.slug == slug), None)
