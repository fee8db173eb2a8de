"""The accounts list query: filters, sorting, paging, columns and the profile header."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from portal_ui import access, access_rows, accounts, contacts, invitations
from portal_ui.accounts import AccountFilter
from portal_ui.db import (
    SEARCH_INDEX,
    SEARCH_INDEX_TRIGGERS,
    TRIGRAM_INDEX,
    make_engine,
    migrate,
)
from portal_ui.models import Account, AccountStatus, PortalUser
from tests.factories import actor_for, emails_of, make_account, make_member
from tests.sql import index_names, prefer_indexes, query_plan, sorts

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def _names(page: accounts.AccountPage) -> list[str]:
    return [row.name for row in page.rows]


def _login_and_invite(session, settings, account, member, send=True):
    email = emails_of(session, account)[0]
    return access_rows.set_login(
        session, settings, account.id, email.id, True, actor_for(member), send_invitation=send
    )


def _activate(session, settings, account, member, last_login: datetime | None):
    """Login on, invitation accepted, and the portal user last signed in at `last_login`."""
    issued = _login_and_invite(session, settings, account, member)
    token = issued.link.rsplit("/", 1)[1]
    user = invitations.activate(session, settings, token, "correct horse battery staple")
    user.last_login_at = last_login
    session.add(user)
    session.flush()
    access.refresh_accounts(session, [account.id])
    return user


@pytest.fixture
def member(session):
    return make_member(session, name="Alice Staff")


@pytest.fixture
def population(session, settings, member):
    """Offline, never-logged-in, pending, recent, this month and old accounts."""
    made = {
        "offline": make_account(session, settings, name="Offline Ltd"),
        "later": make_account(session, settings, name="Later Ltd"),
        "pending": make_account(session, settings, name="Pending Ltd"),
        "recent": make_account(session, settings, name="Recent Ltd"),
        "month": make_account(session, settings, name="Month Ltd"),
        "old": make_account(session, settings, name="Old Ltd"),
    }
    _login_and_invite(session, settings, made["later"], member, send=False)
    _login_and_invite(session, settings, made["pending"], member)
    _activate(session, settings, made["recent"], member, NOW - timedelta(days=2))
    _activate(session, settings, made["month"], member, NOW - timedelta(days=20))
    _activate(session, settings, made["old"], member, NOW - timedelta(days=90))
    session.commit()
    return made


def _filtered(session, **filters) -> list[str]:
    page = accounts.list_accounts(session, AccountFilter(**filters), now=NOW)
    return _names(page)


def test_offline_means_no_access_row_has_login_on(session, population):  # R24
    assert _filtered(session, last_login="offline") == ["Offline Ltd"]


def test_never_logged_in_means_login_on_and_no_sign_in_yet(session, population):  # R24
    assert _filtered(session, last_login="never") == ["Later Ltd", "Pending Ltd"]


def test_last_login_within_7_days_30_days_or_older(session, population):  # R24
    assert _filtered(session, last_login="7d") == ["Recent Ltd"]
    assert _filtered(session, last_login="30d") == ["Month Ltd", "Recent Ltd"]
    assert _filtered(session, last_login="older") == ["Old Ltd"]


def test_status_filter_uses_account_status(session, population):  # R7 R24
    assert _filtered(session, status=AccountStatus.PENDING) == ["Pending Ltd"]
    assert _filtered(session, status=AccountStatus.NOT_ACTIVATED) == ["Later Ltd", "Offline Ltd"]
    assert len(_filtered(session, status=AccountStatus.ACTIVATED)) == 3


def test_filters_combine(session, settings, population, member):  # R4 R5 R24
    other = make_member(session, name="Bob Staff")
    contacts.set_test_client(session, population["recent"].id, True)
    contacts.set_test_client(session, population["offline"].id, True)
    contacts.assign_members(session, population["recent"].id, [member.id])
    contacts.assign_members(session, population["offline"].id, [other.id])
    contacts.assign_members(session, population["month"].id, [member.id])
    session.commit()
    assert _filtered(session, test_client=True) == ["Offline Ltd", "Recent Ltd"]
    assert _filtered(session, test_client=False, last_login="offline") == []
    assert _filtered(session, assigned_member_id=member.id) == ["Month Ltd", "Recent Ltd"]
    assert _filtered(session, assigned_member_id=member.id, test_client=True) == ["Recent Ltd"]
    combined = dict(
        assigned_member_id=member.id,
        status=AccountStatus.ACTIVATED,
        last_login="30d",
        search="month",
    )
    assert _filtered(session, **combined) == ["Month Ltd"]
    assert _filtered(session, **{**combined, "test_client": True}) == []


def test_search_covers_account_names_contact_names_and_addresses(session, settings):  # R24
    account = contacts.create_account(session, "Harbour Bakery")
    contact = contacts.create_contact(
        session, settings, "Zelda Quartermain", addresses=["bread.orders@harbour.example"]
    )
    contacts.link_contact(session, account.id, contact.id)
    contacts.create_account(session, "Unrelated 100% Ltd")
    session.commit()
    assert _filtered(session, search="BAKERY") == ["Harbour Bakery"]
    assert _filtered(session, search="quarterm") == ["Harbour Bakery"]
    assert _filtered(session, search="Bread.Orders@") == ["Harbour Bakery"]
    assert _filtered(session, search="100%") == ["Unrelated 100% Ltd"]
    assert _filtered(session, search="0_") == []  # "_" is not a wildcard
    assert _filtered(session, search="nobody") == []


def _sort_fixture(session, settings, member):
    """Three accounts whose every sortable column differs."""
    a = make_account(session, settings, name="Alpha", contacts_count=3)
    b = make_account(session, settings, name="Bravo", contacts_count=1)
    c = make_account(session, settings, name="Charlie", contacts_count=2)
    actor = actor_for(member)
    _activate(session, settings, c, member, NOW - timedelta(days=1))  # Activated, login
    _activate(session, settings, a, member, NOW - timedelta(days=9))
    email_a = emails_of(session, a)[1]
    access_rows.set_switch(session, a.id, email_a.id, "notify", True, actor)
    email_c = emails_of(session, c)[0]
    access_rows.set_switch(session, c.id, email_c.id, "email_sync", True, actor)
    _login_and_invite(session, settings, b, member)  # Pending, never logged in
    # Alpha goes back to Pending: its activated address loses Login, another is invited.
    access_rows.set_login(session, settings, a.id, emails_of(session, a)[0].id, False, actor)
    _login_and_invite_other(session, settings, a, member)
    session.commit()


def _login_and_invite_other(session, settings, account, member):
    email = emails_of(session, account)[2]
    access_rows.set_login(
        session, settings, account.id, email.id, True, actor_for(member), send_invitation=True
    )


@pytest.mark.parametrize(
    ("sort", "ascending"),
    [
        ("name", ["Alpha", "Bravo", "Charlie"]),
        ("status", ["Charlie", "Alpha", "Bravo"]),  # Activated, Pending (by name)
        ("login", ["Alpha", "Bravo", "Charlie"]),  # all on: by name
        ("notify", ["Bravo", "Charlie", "Alpha"]),  # off first, then by name
        ("email_sync", ["Alpha", "Bravo", "Charlie"]),
        ("contacts", ["Bravo", "Charlie", "Alpha"]),
    ],
)
def test_sorting_by_each_column_both_ways(session, settings, member, sort, ascending):  # R24
    _sort_fixture(session, settings, member)
    up = accounts.list_accounts(session, sort=sort, now=NOW)
    down = accounts.list_accounts(session, sort=sort, descending=True, now=NOW)
    assert _names(up) == ascending
    assert _names(down) == list(reversed(ascending))


@pytest.mark.parametrize("sort", accounts.SORTABLE)
@pytest.mark.parametrize("descending", [False, True])
def test_a_search_sorts_like_the_whole_list(session, settings, member, sort, descending):
    # R24: a search is ordered without walking the sort's index, with the same result.
    _sort_fixture(session, settings, member)
    make_account(session, settings, name="Offline")
    session.commit()
    whole = accounts.list_accounts(session, sort=sort, descending=descending, now=NOW)
    found = accounts.list_accounts(
        session, AccountFilter(search="@example.com"), sort, descending, now=NOW
    )
    assert [row.id for row in found.rows] == [row.id for row in whole.rows]


@pytest.mark.parametrize("sort", accounts.SORTABLE)
@pytest.mark.parametrize("descending", [False, True])
def test_search_pages_read_from_the_end_agree_with_the_whole_list(
    session, settings, member, sort, descending
):  # R24: pages past the middle of a search are read from the end of the list
    _sort_fixture(session, settings, member)
    for name in ["Offline", "Delta", "Alpha", "Echo"]:
        make_account(session, settings, name=name)
    session.commit()
    whole = accounts.list_accounts(session, sort=sort, descending=descending, now=NOW)
    query = AccountFilter(search="@example.com")
    pages = [
        accounts.list_accounts(session, query, sort, descending, offset=n, limit=2, now=NOW)
        for n in range(0, whole.total, 2)
    ]
    assert whole.total == 7
    assert [row.id for page in pages for row in page.rows] == [row.id for row in whole.rows]
    assert {page.total for page in pages} == {7}


def test_sorting_by_last_login_puts_never_logged_in_last_both_ways(
    session, settings, member
):  # R24
    _sort_fixture(session, settings, member)
    offline = make_account(session, settings, name="Offline")
    session.commit()
    up = accounts.list_accounts(session, sort="last_login", now=NOW)
    down = accounts.list_accounts(session, sort="last_login", descending=True, now=NOW)
    # Alpha's only sign-in was by the address whose Login went off: it no longer counts.
    assert _names(up)[:1] == ["Charlie"]
    assert _names(down)[:1] == ["Charlie"]
    assert set(_names(up)[1:]) == {"Alpha", "Bravo", offline.name}
    assert _names(down)[1:] == list(reversed(_names(up)[1:]))


def test_last_login_sorts_oldest_first_ascending(session, population):  # R24
    page = accounts.list_accounts(session, sort="last_login", now=NOW)
    assert _names(page)[:3] == ["Old Ltd", "Month Ltd", "Recent Ltd"]
    down = accounts.list_accounts(session, sort="last_login", descending=True, now=NOW)
    assert _names(down)[:3] == ["Recent Ltd", "Month Ltd", "Old Ltd"]
    assert all(row.last_login_at is None for row in down.rows[3:])


def test_paging_counts_every_match_and_pages_do_not_overlap(session, settings):  # R24
    for n in range(30):
        contacts.create_account(session, f"Client {n:02d}")
    contacts.create_account(session, "Someone else")
    session.commit()
    query = AccountFilter(search="client")
    first = accounts.list_accounts(session, query, offset=0, limit=25)
    second = accounts.list_accounts(session, query, offset=25, limit=25)
    assert (first.total, second.total) == (30, 30)
    assert len(first.rows) == 25 and len(second.rows) == 5
    assert set(_names(first)).isdisjoint(_names(second))
    assert accounts.count_accounts(session, query) == 30


def test_search_pages_near_the_top_and_far_down_agree_with_the_whole_list(
    session, settings
):  # R24: the first pages walk the name index, later ones scan and sort the matches
    for n in reversed(range(30)):
        contacts.create_account(session, f"Client {n:02d}")
    contacts.create_account(session, "Someone else")
    session.commit()
    query = AccountFilter(search="client")
    whole = [row.name for row in accounts.list_accounts(session, query, limit=100).rows]
    pages = [accounts.list_accounts(session, query, offset=n, limit=5) for n in range(0, 30, 5)]
    assert [row.name for page in pages for row in page.rows] == whole
    assert whole == sorted(whole) and len(whole) == 30
    assert {page.total for page in pages} == {30}
    assert accounts.list_accounts(session, query, offset=30).total == 30


def test_equal_names_page_in_a_stable_order(session, settings):  # R24
    made = [contacts.create_account(session, "Same name").id for _ in range(5)]
    session.commit()
    pages = [accounts.list_accounts(session, offset=n, limit=2).rows for n in (0, 2, 4)]
    assert [row.id for page in pages for row in page] == sorted(made)


def test_a_page_takes_one_query_whatever_its_size(session, settings, engine, member):  # R24
    for n in range(12):
        account = contacts.create_account(session, f"Client {n:02d}")
        contacts.assign_members(session, account.id, [member.id])
    session.commit()
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        page = accounts.list_accounts(session, limit=10)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(page.rows) == 10
    assert all(row.assigned == ["Alice Staff"] for row in page.rows)
    assert len(statements) == 1  # the page, with its total and assigned members
    assert page.total == 12


def test_rows_show_the_assigned_team_members(session, settings, member):  # R5 R23
    other = make_member(session, name="Bob Staff")
    account = make_account(session, settings, name="Assigned Ltd", contacts_count=2)
    contacts.assign_members(session, account.id, [other.id, member.id])
    session.commit()
    (row,) = accounts.list_accounts(session).rows
    assert row.assigned == ["Alice Staff", "Bob Staff"]
    assert row.contact_count == 2
    assert row.status is AccountStatus.NOT_ACTIVATED


def test_matching_ids_returns_every_match(session, settings):  # R24
    wanted = [contacts.create_account(session, f"Match {n}").id for n in range(40)]
    contacts.create_account(session, "Other")
    session.commit()
    assert accounts.matching_ids(session, AccountFilter(search="match")) == wanted


def test_filter_round_trips_through_the_url(session):  # R24
    original = AccountFilter(
        last_login="never",
        status=AccountStatus.PENDING,
        assigned_member_id=7,
        test_client=False,
        search="Acme & Co",
    )
    query = original.to_query()
    assert all(isinstance(value, str) for value in query.values())
    assert AccountFilter.from_query(query) == original
    assert AccountFilter().to_query() == {}
    assert AccountFilter.from_query({}) == AccountFilter()


def test_a_hand_edited_url_with_bad_values_is_ignored(session):  # R24
    bad = {"last_login": "yesterday", "status": "green", "assigned": "x", "test_client": "?"}
    assert AccountFilter.from_query(bad) == AccountFilter()


def test_unknown_last_login_filter_and_sort_are_refused(session):  # R24
    with pytest.raises(ValueError):
        AccountFilter(last_login="yesterday")
    with pytest.raises(ValueError):
        accounts.list_accounts(session, sort="password")


def test_hidden_columns_are_remembered_per_team_member(session, member):  # R23
    other = make_member(session, name="Bob Staff")
    assert accounts.hidden_columns(session, member.id) == []
    accounts.save_hidden_columns(session, member.id, ["last_login", "notify"])
    session.commit()
    session.expire_all()
    assert accounts.hidden_columns(session, member.id) == ["notify", "last_login"]
    assert accounts.hidden_columns(session, other.id) == []
    with pytest.raises(ValueError):
        accounts.save_hidden_columns(session, member.id, ["name"])


def test_account_header_shows_status_test_client_and_assigned_members(
    session, settings, member
):  # R4 R5 R7
    account = make_account(session, settings, name="Header Ltd")
    contacts.set_test_client(session, account.id, True)
    contacts.assign_members(session, account.id, [member.id])
    _login_and_invite(session, settings, account, member)
    session.commit()
    header = accounts.account_header(session, account.id)
    assert header.name == "Header Ltd"
    assert header.status is AccountStatus.PENDING
    assert header.is_test_client
    assert [m.name for m in header.assigned] == ["Alice Staff"]


def test_last_login_ignores_addresses_without_login_on_the_account(
    session, settings, member
):  # R24
    account = make_account(session, settings, name="Solo")
    _activate(session, settings, account, member, NOW - timedelta(days=1))
    email = emails_of(session, account)[0]
    access_rows.set_login(session, settings, account.id, email.id, False, actor_for(member))
    session.commit()
    assert session.scalars(select(PortalUser)).one().last_login_at is not None
    assert _filtered(session, last_login="offline") == ["Solo"]
    assert _filtered(session, last_login="7d") == []


def test_search_ignores_case_of_accented_letters(session, settings):  # R24 R31a
    account = contacts.create_account(session, "Émile Průša SARL")
    contact = contacts.create_contact(session, settings, "Çelik Öztürk", addresses=["e@ex.com"])
    contacts.link_contact(session, account.id, contact.id)
    session.commit()
    for term in ("émile", "ÉMILE", "Émile", "PRŮŠA", "çelik öztürk"):
        assert _filtered(session, search=term) == ["Émile Průša SARL"], term


def test_a_page_past_the_end_still_counts_the_matches(session, settings):  # R24
    for n in range(3):
        contacts.create_account(session, f"Client {n}")
    session.commit()
    page = accounts.list_accounts(session, offset=50, limit=25)
    assert (page.rows, page.total) == ([], 3)


@pytest.mark.parametrize("descending", [False, True])
def test_sorting_by_last_login_walks_an_index(session, engine, descending):  # R24 R39
    query = (
        select(Account.id)
        .order_by(*accounts._order("last_login", descending))
        .limit(25)
        .offset(1000)
    )
    sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as connection:
        prefer_indexes(connection)
        plan = query_plan(connection, sql)
    assert "ix_account_last_login_" in plan and not sorts(plan)


def test_the_migrated_schema_has_the_last_login_sort_indexes(databases):  # R24 R39
    # Alembic's autogenerate skips expression indexes on SQLite: the migration must write them.
    migrated = make_engine(databases.url(schema=False))
    migrate(migrated)
    with migrated.connect() as connection:
        names = set(index_names(connection))
    migrated.dispose()
    assert {"ix_account_last_login_asc", "ix_account_last_login_desc"} <= names


def _search_statements(engine, session, term: str) -> tuple[list[str], list[str]]:
    """The names a search finds and the SQL it ran."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        names = _filtered(session, search=term)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return names, statements


@pytest.mark.only_on("sqlite", reason="FTS5; PostgreSQL's twin is the next test")
def test_a_search_of_three_letters_or_more_reads_the_trigram_index(session, engine):  # R24
    contacts.create_account(session, "Harbour Bakery")
    contacts.create_account(session, "Bake Off Ltd")
    session.commit()
    names, statements = _search_statements(engine, session, "Bakery")
    assert names == ["Harbour Bakery"]
    assert any("MATCH" in statement for statement in statements)
    # Shorter terms cannot be found by trigrams: LIKE, as without the index.
    names, statements = _search_statements(engine, session, "ry")
    assert names == ["Harbour Bakery"]
    assert not any("MATCH" in statement for statement in statements)


@pytest.mark.only_on("postgresql", reason="pg_trgm; SQLite's twin is the previous test")
def test_a_search_on_postgresql_reads_the_trigram_index(session, settings, engine):  # R24 R39
    from portal_ui import seed

    # Enough accounts, and their statistics (the seed's ANALYZE), for the planner to choose.
    seed.seed_accounts(session, settings, 3000, seed=5, now=NOW)
    contacts.create_account(session, "Harbour Zanzibar Bakery")
    session.commit()
    recorded: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, *args):
        recorded.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert _filtered(session, search="Zanzibar") == ["Harbour Zanzibar Bakery"]
    finally:
        event.remove(engine, "before_cursor_execute", record)
    with engine.connect() as connection:
        plans = [query_plan(connection, statement, values) for statement, values in recorded]
    assert any(TRIGRAM_INDEX in plan for plan in plans), plans


def test_the_search_index_follows_every_change_of_the_search_text(session, settings):  # R24
    account = contacts.create_account(session, "Harbour Bakery")
    contact = contacts.create_contact(session, settings, "Zelda Quartermain", addresses=[])
    contacts.link_contact(session, account.id, contact.id)
    session.commit()
    assert _filtered(session, search="quartermain") == ["Harbour Bakery"]
    contacts.rename_contact(session, contact.id, "Zelda Winterbottom")
    contacts.rename_account(session, account.id, "Harbour Patisserie")
    session.commit()
    assert _filtered(session, search="quartermain") == []
    assert _filtered(session, search="bakery") == []
    assert _filtered(session, search="winterbottom") == ["Harbour Patisserie"]
    assert _filtered(session, search="patisserie") == ["Harbour Patisserie"]
    gone = contacts.create_account(session, "Harbour Florist")
    session.commit()
    assert accounts.count_accounts(session, AccountFilter(search="harbour")) == 2
    session.delete(gone)
    session.commit()
    assert _filtered(session, search="harbour") == ["Harbour Patisserie"]


@pytest.mark.parametrize("term", ['O"Neil', "o*ne", "(o'n", "AND o", "ne-il", "NEAR(x"])
def test_search_terms_are_plain_text_not_index_syntax(session, term):  # R24
    wanted = contacts.create_account(session, f"Studio {term} Ltd")
    contacts.create_account(session, "Studio Oneil Ltd")
    session.commit()
    found = accounts.list_accounts(session, AccountFilter(search=term))
    assert [row.id for row in found.rows] == [wanted.id]
    assert found.total == 1


def test_a_database_without_the_search_index_searches_with_like(databases):  # R24 R39
    from sqlmodel import Session

    engine = make_engine(databases.url())
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"DROP INDEX {TRIGRAM_INDEX}")
        else:
            for trigger in SEARCH_INDEX_TRIGGERS:
                connection.exec_driver_sql(f"DROP TRIGGER {trigger}")
            connection.exec_driver_sql(f"DROP TABLE {SEARCH_INDEX}")
    with Session(engine) as session:
        contacts.create_account(session, "Harbour Bakery")
        session.commit()
        assert _filtered(session, search="bakery") == ["Harbour Bakery"]
    engine.dispose()


def test_seeded_accounts_are_in_the_search_index_and_later_changes_too(
    session, settings, engine
):  # R24: the seed fills the index in one pass, then the triggers take over again
    from portal_ui import seed

    seed.seed_accounts(session, settings, 40, seed=5, now=NOW)
    session.commit()
    texts = {id_: text for id_, text in session.execute(select(Account.id, Account.search_text))}
    for word in {text.split()[1] for text in texts.values()}:
        wanted = sorted(account_id for account_id, text in texts.items() if word in text)
        assert accounts.matching_ids(session, AccountFilter(search=word)) == wanted, word
    contacts.create_account(session, "Zebulon Quux")
    session.commit()
    assert _filtered(session, search="zebulon q") == ["Zebulon Quux"]
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":  # built again after the seed, and valid
            valid = "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)"
            assert connection.exec_driver_sql(valid, (TRIGRAM_INDEX,)).scalar_one()
        else:  # raises if the index and the accounts differ
            connection.exec_driver_sql(
                "INSERT INTO account_fts(account_fts, rank) VALUES ('integrity-check', 1)"
            )
