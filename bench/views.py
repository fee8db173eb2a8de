"""The accounts-list views the list benchmarks page through (R23-R24), and the same pages as
one hand-written SQL query each: the floor of the list figures."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session

from portal_ui.accounts import AccountFilter, AccountRow, list_accounts, page_window
from portal_ui.models import Account, AccountStatus

PAGE_SIZE = 25
SEARCH_WORD = "kowalski"  # a surname of the synthetic data: in names and addresses


@dataclass(frozen=True)
class View:
    """A sort and a filter of the accounts list."""

    label: str
    filter: AccountFilter
    sort: str


VIEWS: tuple[View, ...] = (
    View("by name", AccountFilter(), "name"),
    View("by status", AccountFilter(), "status"),
    View("by last login", AccountFilter(), "last_login"),
    View("Offline", AccountFilter(last_login="offline"), "name"),
    View("status Pending", AccountFilter(status=AccountStatus.PENDING), "name"),
    View(f"search '{SEARCH_WORD}'", AccountFilter(search=SEARCH_WORD), "name"),
)


@dataclass(frozen=True)
class PageOf:
    """One page of one view: its 0-based page number and its rows' names and ids, as the
    service returns them (the browser waits for the first row's id)."""

    view: View
    where: str  # "first", "middle", "last"
    number: int
    total: int
    names: tuple[str, ...]
    ids: tuple[int, ...]
    accounts: int = 0  # the highest account id, as the service estimates the number of accounts

    @property
    def label(self) -> str:
        return f"{self.view.label}, {self.where} page"

    @property
    def offset(self) -> int:
        return self.number * PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def pages_of(session: Session, view: View, now: datetime, quick: bool = False) -> list[PageOf]:
    """The first, a middle and the last page of a view (quick: the first and the last)."""
    total = list_accounts(session, view.filter, view.sort, limit=1, now=now).total
    last = max(0, -(-total // PAGE_SIZE) - 1)
    wanted = [("first", 0), ("middle", last // 2), ("last", last)]
    if quick:
        wanted = [wanted[0], wanted[2]]
    accounts = session.scalar(select(func.max(Account.id))) or 0
    found = []
    for where, number in wanted:
        page = list_accounts(
            session, view.filter, view.sort, offset=number * PAGE_SIZE, limit=PAGE_SIZE, now=now
        )
        names = tuple(row.name for row in page.rows)
        ids = tuple(row.id for row in page.rows)
        found.append(PageOf(view, where, number, page.total, names, ids, accounts))
    return found


def views(quick: bool) -> tuple[View, ...]:
    """Every view, or in a quick (smoke) run only the first."""
    return VIEWS[:1] if quick else VIEWS


def page_rows(session: Session, view: View, number: int, now: datetime) -> list[AccountRow]:
    """The rows of one page (0-based) as the service returns them."""
    offset = number * PAGE_SIZE
    return list_accounts(
        session, view.filter, view.sort, offset=offset, limit=PAGE_SIZE, now=now
    ).rows


def service_page(session: Session, page: PageOf, now: datetime) -> list[str]:
    return [row.name for row in page_rows(session, page.view, page.number, now)]


# -- the floor: one hand-written query per page ---------------------------------------------------

_COLUMNS = """a.id, a.name, a.status, a.is_test_client, a.has_login, a.has_notify,
    a.has_email_sync, a.contact_count, a.last_login_at,
    (SELECT group_concat(m.name, ', ') FROM account_assignment aa
       JOIN team_member m ON m.id = aa.team_member_id WHERE aa.account_id = a.id) AS assigned"""

_ORDER = {
    "name": "a.name, a.id",
    "status": "a.status, a.name, a.id",
    "last_login": "a.last_login_at IS NULL, a.last_login_at, a.id",
}

# The search index (migration 0002): the accounts whose text contains a phrase.
_MATCHES = "SELECT rowid FROM account_fts WHERE account_fts MATCH ?"


def _where(view: View, now: datetime) -> tuple[str, list[object]]:
    """The WHERE clause of a view, written by hand (dates as SQLAlchemy stores them)."""
    flt = view.filter
    if flt.last_login == "offline":
        return "a.has_login = 0", []
    if flt.status is not None:
        return "a.status = ?", [int(flt.status)]
    if flt.search:
        return "a.search_text LIKE ? ESCAPE '/'", [f"%{flt.search.lower()}%"]
    if flt.last_login == "7d":
        return "a.last_login_at >= ?", [_stamp(now - timedelta(days=7))]
    return "", []


def _stamp(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(sep=" ")


def floor_sql(view: View) -> str:
    """The page and, in a column, the total: the rows by walking the sort's index."""
    condition, _ = _where(view, datetime.now())
    # No WHERE at all when nothing is filtered: SQLite then counts the table without reading
    # its rows one by one.
    where = f"WHERE {condition}" if condition else ""
    return (
        f"SELECT {_COLUMNS}, (SELECT count(*) FROM account a {where}) AS total "
        f"FROM account a {where} ORDER BY {_ORDER[view.sort]} LIMIT ? OFFSET ?"
    )


def floor_search_sql(view: View, walk: bool, backwards: bool) -> str:
    """A search's page and total, both from the trigram index: the total counted in the index
    alone; the page's ids either by walking the name index testing LIKE (near the top of a
    common word), or by reading the matches and sorting them, counted from the end of the
    list when `backwards`; then the page's columns."""
    total = "(SELECT count(*) FROM account_fts WHERE account_fts MATCH ?) AS total"
    order = _ORDER[view.sort]
    terms = [term.replace("a.", "b.") for term in order.split(", ")]
    if backwards:
        terms = [f"{term} DESC" for term in terms]
    if walk:
        page = (
            f"SELECT b.id FROM account b WHERE b.search_text LIKE ? ESCAPE '/' "
            f"ORDER BY {', '.join(terms)} LIMIT ? OFFSET ?"
        )
    else:
        unindexed = ", ".join(f"+{term}" for term in terms)
        page = (
            f"SELECT b.id FROM account b WHERE b.id IN ({_MATCHES}) "
            f"ORDER BY {unindexed} LIMIT ? OFFSET ?"
        )
    return f"SELECT {_COLUMNS}, {total} FROM account a WHERE a.id IN ({page}) ORDER BY {order}"


def floor_connection(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    return connection


def floor_page(connection: sqlite3.Connection, page: PageOf, now: datetime) -> list[str]:
    """The same rows (and the total) by one hand-written query."""
    search = page.view.filter.search
    offset, limit = page.offset, PAGE_SIZE
    if not search:
        _, parameters = _where(page.view, now)
        # The WHERE appears twice: in the count and in the page.
        sql, arguments = floor_sql(page.view), [*parameters, *parameters]
    else:
        # As the service decides (accounts._searched_page): a page past the middle is counted
        # from the end, and the index is walked while that reads fewer accounts than there
        # are matches to sort.
        offset, limit, backwards = page_window(page.total, offset, limit)
        walk = (offset + limit) * page.accounts <= page.total * page.total
        phrase = '"' + search.lower().replace('"', '""') + '"'
        pattern = f"%{search.lower()}%"
        sql = floor_search_sql(page.view, walk, backwards)
        arguments = [phrase, pattern] if walk else [phrase, phrase]
    rows = connection.execute(sql, [*arguments, limit, offset]).fetchall()
    return [row[1] for row in rows]
