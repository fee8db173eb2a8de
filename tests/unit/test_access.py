"""The account roll-ups (R7, R23, R24): the full refresh, and the lighter one that changes of
access rows and invitations use, which never touches the contact count nor the search text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text, update

from portal_ui import access, access_rows, invitations
from portal_ui.models import Account, AccountStatus, PortalUser
from tests.factories import actor_for, emails_of, make_account, make_member
from tests.sql import add_row_trigger

ROLLUPS = ("status", "has_login", "has_notify", "has_email_sync", "last_login_at")


@pytest.fixture
def member(session):
    return make_member(session, name="Alice Staff")


@pytest.fixture
def writes(session):
    """Counts the account rows written, and those whose search text was written (a full-text
    index kept by triggers redoes its work on each), with triggers of the test database."""
    connection = session.connection()
    connection.exec_driver_sql("CREATE TABLE account_write (what TEXT NOT NULL)")
    add_row_trigger(
        connection, "count_account", "AFTER UPDATE", "account",
        "INSERT INTO account_write VALUES ('row');",
    )  # fmt: skip
    add_row_trigger(
        connection, "count_search_text", "AFTER UPDATE OF search_text", "account",
        "INSERT INTO account_write VALUES ('search_text');",
    )  # fmt: skip
    session.commit()

    def count(what: str) -> int:
        query = text("SELECT count(*) FROM account_write WHERE what = :what")
        return session.execute(query, {"what": what}).scalar_one()

    return count


def _rollups(session, account_ids) -> dict[int, tuple]:
    columns = [Account.id] + [getattr(Account, name) for name in ROLLUPS]
    query = select(*columns).where(Account.id.in_(account_ids))
    return {row[0]: tuple(row[1:]) for row in session.execute(query)}


def _population(session, settings, member) -> list[Account]:
    """Accounts in every state the roll-ups tell apart: no access, Login on without and with an
    invitation, activated with a last login, Notify and Email sync on."""
    actor = actor_for(member)
    plain, later, pending, active = (make_account(session, settings) for _ in range(4))
    for account, send in ((later, False), (pending, True), (active, True)):
        email = emails_of(session, account)[0]
        issued = access_rows.set_login(
            session, settings, account.id, email.id, True, actor, send_invitation=send
        )
        if account is active:
            token = issued.link.rsplit("/", 1)[1]
            user = invitations.activate(session, settings, token, "tidal-Otter-4821")
            user.last_login_at = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
            session.flush()
            access.refresh_accounts(session, [account.id])  # as signing in does (portal.py)
    email = emails_of(session, plain)[0]
    access_rows.set_switch(session, plain.id, email.id, "notify", True, actor)
    access_rows.set_switch(session, plain.id, email.id, "email_sync", True, actor)
    session.flush()
    return [plain, later, pending, active]


def test_the_light_refresh_computes_what_the_full_refresh_computes(
    session, settings, member
):  # R7 R23
    ids = [account.id for account in _population(session, settings, member)]
    access.refresh_accounts(session, ids)
    expected = _rollups(session, ids)
    assert {values[0] for values in expected.values()} == {s.value for s in AccountStatus}
    # Every roll-up wrong, then the light refresh alone puts them right.
    wrong = {"status": 9, "has_login": False, "has_notify": False, "has_email_sync": False}
    wrong["last_login_at"] = None
    session.execute(update(Account).where(Account.id.in_(ids)).values(wrong))
    access.refresh_access(session, ids)
    assert _rollups(session, ids) == expected


def test_a_change_of_access_never_rewrites_the_search_text(
    session, settings, member, writes
):  # R7 R24
    account = make_account(session, settings)
    email = emails_of(session, account)[0]
    session.commit()
    rows, search_texts = writes("row"), writes("search_text")
    access_rows.set_login(
        session, settings, account.id, email.id, True, actor_for(member), send_invitation=True
    )
    access_rows.set_switch(session, account.id, email.id, "notify", True, actor_for(member))
    invitations.cancel_invitation(session, email.id, actor_for(member))
    session.commit()
    assert session.get(Account, account.id).has_notify
    assert writes("row") > rows
    assert writes("search_text") == search_texts


def test_an_account_whose_roll_ups_are_right_is_not_written(
    session, settings, member, writes
):  # R23
    ids = [account.id for account in _population(session, settings, member)]
    session.commit()
    before = writes("row")
    access.refresh_access(session, ids)
    assert writes("row") == before


def test_an_account_the_session_holds_shows_its_new_roll_ups(session, settings, member):  # R7
    account = make_account(session, settings)
    email = emails_of(session, account)[0]
    session.commit()
    assert account.status == AccountStatus.NOT_ACTIVATED and not account.has_login
    access_rows.set_login(
        session, settings, account.id, email.id, True, actor_for(member), send_invitation=True
    )
    assert account.status == AccountStatus.PENDING and account.has_login


def test_the_last_login_follows_login_on_the_account(session, settings, member):  # R23
    plain, _, _, active = _population(session, settings, member)
    email = emails_of(session, active)[0]
    session.commit()
    user = session.scalars(select(PortalUser).where(PortalUser.email_id == email.id)).one()
    assert active.last_login_at == user.last_login_at
    access_rows.set_login(session, settings, active.id, email.id, False, actor_for(member))
    assert active.last_login_at is None and active.status == AccountStatus.NOT_ACTIVATED
    assert plain.has_notify and plain.has_email_sync and not plain.has_login


def test_only_roll_ups_of_access_can_be_refreshed_lightly(session, settings):  # R24
    account = make_account(session, settings)
    with pytest.raises(ValueError, match="search_text"):
        access.refresh_access(session, [account.id], ["status", "search_text"])
