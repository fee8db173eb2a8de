"""The accounts list page (R7, R12, R13, R23, R24), driven through NiceGUI's User fixture."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from nicegui import ui
from nicegui.testing import User
from sqlalchemy import Engine, select
from sqlmodel import Session

from portal_ui import access_rows, contacts, invitations
from portal_ui.config import Settings
from portal_ui.models import (
    AccessRow,
    Account,
    AccountAssignment,
    BulkJob,
    InboxNotification,
    Invitation,
    JobState,
    TeamMember,
)
from tests.factories import actor_for, emails_of, make_account
from tests.ui.conftest import STAFF_EMAIL, STAFF_PASSWORD
from tests.ui.staff_session import until

Arrange = Callable[[Session, Settings], Any]


def arrange(engine: Engine, settings: Settings, build: Arrange) -> Any:
    """Prepare data with the services, committed before the page reads it."""
    with Session(engine, expire_on_commit=False) as session:
        result = build(session, settings)
        session.commit()
    return result


def staff_member(session: Session) -> TeamMember:
    return session.scalars(select(TeamMember).where(TeamMember.email == STAFF_EMAIL)).one()


async def sign_in(user: User, path: str) -> None:
    """Sign in as the UI tests' team member and land on `path`."""
    await user.open(f"/login?next={quote(path, safe='')}")
    user.find("Email").type(STAFF_EMAIL)
    user.find("Password").type(STAFF_PASSWORD)
    user.find("Sign in").click()
    await user.should_see(ui.table, retries=50)


async def eventually(condition: Callable[[], bool], seconds: float = 5) -> None:
    """Wait for work the page does in the background (a preview, a job) to show."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    assert condition()


def table(user: User) -> ui.table:
    return next(iter(user.find(ui.table).elements))


def names(user: User) -> list[str]:
    return [row["name"] for row in table(user).rows]


def choose(user: User, marker: str, label: str) -> None:
    """Pick the option shown as `label` in the select marked `marker`."""
    select = next(iter(user.find(marker=marker).elements))
    with user.client:
        select.set_value(next(key for key, text in select.options.items() if text == label))


def tick(user: User, *account_names: str) -> None:
    """Tick rows' checkboxes (Quasar's selection event, as the browser sends it)."""
    rows = [row for row in table(user).rows if row["name"] in account_names]
    keys = [row["id"] for row in rows]
    user.find(ui.table).trigger("selection", {"added": True, "rows": rows, "keys": keys})


def _login_on(session: Session, settings: Settings, account: Account, send: bool) -> None:
    email = emails_of(session, account)[0]
    actor = actor_for(staff_member(session))
    access_rows.set_login(
        session, settings, account.id, email.id, True, actor, send_invitation=send
    )


def _population(session: Session, settings: Settings) -> None:
    """One account in each status, and one whose contact's address is searchable."""
    make_account(session, settings, name="Offline Bakery")
    _login_on(session, settings, make_account(session, settings, name="Pending Garage"), True)
    activated = make_account(session, settings, name="Active Florist")
    _login_on(session, settings, activated, True)
    contact = contacts.create_contact(
        session, settings, "Zoe Quill", addresses=["zoe.quill@example.com"]
    )
    quill = make_account(session, settings, name="Quill Partners", contacts_count=0)
    contacts.link_contact(session, quill.id, contact.id)


def _activate(session: Session, settings: Settings, account_name: str) -> None:
    account = session.scalars(select(Account).where(Account.name == account_name)).one()
    email = emails_of(session, account)[0]
    issued = invitations.send_invitation(
        session, settings, email.id, actor_for(staff_member(session))
    )
    token = issued.link.rsplit("/", 1)[1]
    invitations.activate(session, settings, token, "correct horse battery staple")


@pytest.fixture
def population(ui_engine: Engine, ui_settings: Settings) -> None:
    arrange(ui_engine, ui_settings, _population)
    arrange(ui_engine, ui_settings, lambda s, c: _activate(s, c, "Active Florist"))


async def test_status_shows_text_and_its_colour_slug_for_every_account(
    user: User, population: None
) -> None:  # R7
    await sign_in(user, "/clients/accounts")
    statuses = {row["name"]: (row["status_slug"], row["status_label"]) for row in table(user).rows}
    assert statuses["Active Florist"] == ("activated", "Activated")
    assert statuses["Pending Garage"] == ("pending", "Pending activation")
    assert statuses["Offline Bakery"] == ("not-activated", "Not activated")
    template = table(user).slots["body-cell-status"].template or ""
    assert 'data-testid="account-status"' in template
    assert "{{ props.row.status_label }}" in template  # text interpolation, never v-html


async def test_offline_filter_shows_only_accounts_without_login(
    user: User, population: None
) -> None:  # R24
    await sign_in(user, "/clients/accounts")
    choose(user, "filter-last-login", "Offline")
    await user.should_see("Clear filters")
    assert sorted(names(user)) == ["Offline Bakery", "Quill Partners"]


async def test_filter_is_written_in_the_address_bar(user: User, population: None) -> None:  # R24
    await sign_in(user, "/clients/accounts")
    addresses: list[str] = []
    user.navigate.history.replace = addresses.append  # the browser's address bar
    choose(user, "filter-status", "Pending activation")
    await user.should_see("Clear filters")
    assert addresses[-1] == "/clients/accounts?status=pending"


async def test_the_sort_is_written_in_the_address_bar_and_a_page_change_keeps_it(
    user: User, population: None
) -> None:  # R24
    await sign_in(user, "/clients/accounts")
    addresses: list[str] = []
    user.navigate.history.replace = addresses.append  # the browser's address bar
    by_contacts = {"sortBy": "contacts", "descending": True, "page": 1, "rowsPerPage": 2}
    user.find(ui.table).trigger("request", {"pagination": by_contacts})
    await eventually(lambda: table(user).pagination.get("sortBy") == "contacts")
    assert addresses == ["/clients/accounts?sort=contacts&desc=1"]
    user.find(ui.table).trigger("request", {"pagination": {**by_contacts, "page": 2}})
    await eventually(lambda: table(user).pagination.get("page") == 2)
    assert addresses == ["/clients/accounts?sort=contacts&desc=1"]
    assert table(user).props.get("loading") in (None, False)


async def test_the_page_asked_for_stays_when_the_tables_mount_report_comes_after_it(
    user: User, population: None
) -> None:  # R24
    # Quasar reports the pagination it mounted with once the socket connects; a page change
    # clicked at once can reach the server first. The page shown must stay the one asked for.
    await sign_in(user, "/clients/accounts")
    mounted = {**table(user).pagination, "rowsPerPage": 2}
    user.find(ui.table).trigger("request", {"pagination": mounted})
    await eventually(lambda: len(table(user).rows) == 2)
    first_page = names(user)
    user.find(ui.table).trigger("request", {"pagination": {**mounted, "page": 2}})
    await eventually(lambda: table(user).pagination.get("page") == 2)
    second_page = names(user)

    user.find(ui.table).trigger("update:pagination", mounted)

    assert table(user).pagination["page"] == 2
    assert names(user) == second_page != first_page


async def test_a_bookmarked_filter_opens_filtered(user: User, population: None) -> None:  # R24
    await sign_in(user, "/clients/accounts?last_login=offline&q=bakery")
    assert names(user) == ["Offline Bakery"]
    assert user.find(marker="filter-search").elements.pop().value == "bakery"


async def test_search_finds_an_account_by_its_contacts_address(
    user: User, population: None
) -> None:  # R24
    await sign_in(user, "/clients/accounts")
    user.find(marker="filter-search").type("zoe.quill@")
    await user.should_see("Clear filters")
    assert names(user) == ["Quill Partners"]


async def test_a_hidden_column_stays_hidden_after_reload(user: User, population: None) -> None:
    # R23
    await sign_in(user, "/clients/accounts")
    assert "contacts" in table(user).props["visible-columns"]
    user.find(marker="column-contacts").click()
    await user.should_see(marker="column-contacts")
    await user.open("/clients/accounts")
    await user.should_see(ui.table)
    assert "contacts" not in table(user).props["visible-columns"]
    assert "name" in table(user).props["visible-columns"]


async def test_select_all_matching_selects_every_account_of_the_filter(
    user: User, ui_engine: Engine, ui_settings: Settings
) -> None:  # R12 (selection across pages)
    def many(session: Session, settings: Settings) -> None:
        for n in range(30):
            make_account(session, settings, name=f"Client {n:02d}")

    arrange(ui_engine, ui_settings, many)
    await sign_in(user, "/clients/accounts")
    assert len(table(user).rows) == 25
    tick(user, "Client 00")
    await user.should_see("1 account selected")
    user.find("Select all 30 matching").click()
    await user.should_see("30 accounts selected")


async def _open_bulk_dialog(user: User, *account_names: str) -> None:
    await sign_in(user, "/clients/accounts")
    tick(user, *account_names)
    user.find("More actions").click()
    user.find(marker="bulk-edit").click()  # the menu item holding that text
    await user.should_see(marker="choice-login")


async def test_send_invitations_appears_only_when_login_is_enabled(
    user: User, population: None
) -> None:  # R12
    await _open_bulk_dialog(user, "Offline Bakery")
    await user.should_not_see("Send invitations")
    choose(user, "choice-login", "Enable for all contacts")
    await user.should_see("Send invitations")
    await user.should_see("Personalized message")
    choose(user, "choice-login", "Disable for all contacts")
    await user.should_not_see("Send invitations")


async def test_categories_appear_only_when_customize_is_on(user: User, population: None) -> None:
    # R12, R3
    await _open_bulk_dialog(user, "Offline Bakery")
    await user.should_not_see("Customize notification preferences")
    choose(user, "choice-notify", "Enable for all contacts")
    await user.should_see("Customize notification preferences")
    await user.should_not_see("Documents: file upload")
    user.find("Customize notification preferences").click()
    await user.should_see("Documents: file upload")
    await user.should_see("Transactions")


async def test_preview_counts_accounts_rows_and_invitations(
    user: User, population: None
) -> None:  # R13
    await _open_bulk_dialog(user, "Offline Bakery", "Quill Partners", "Active Florist")
    choose(user, "choice-login", "Enable for all contacts")
    await user.should_see("Send invitations")
    user.find("Send invitations").click()

    def figures() -> dict[str, str]:
        return {
            key: next(iter(user.find(marker=f"preview-{key}").elements)).text
            for key in ("accounts", "rows", "invitations")
        }

    await eventually(lambda: figures()["invitations"] == "2")
    assert figures() == {"accounts": "3", "rows": "2", "invitations": "2"}
    await user.should_see("1 address already active: no invitation needed.")


async def test_save_runs_the_job_sends_invitations_and_reports_in_inbox(
    user: User, population: None, ui_engine: Engine
) -> None:  # R12, R13
    await _open_bulk_dialog(user, "Offline Bakery", "Quill Partners")
    choose(user, "choice-login", "Enable for all contacts")
    await user.should_see("Send invitations")
    user.find("Send invitations").click()
    user.find("Personalized message").type("Welcome aboard")
    user.find("Save").click()
    await user.should_see("Bulk update finished", retries=100)
    with Session(ui_engine) as session:
        job = session.scalars(select(BulkJob)).one()
        assert job.state == JobState.DONE.value
        assert job.report["invitations_sent"] == 2
        login = session.scalars(
            select(AccessRow.login).join(Account).where(Account.name == "Quill Partners")
        ).all()
        assert login == [True]
        messages = [i.message for i in session.scalars(select(Invitation))]
        assert messages.count("Welcome aboard") == 2
        inbox = session.scalars(select(InboxNotification)).all()
        assert [item.kind for item in inbox] == ["bulk_report"]
    assert user.notify.contains("2 invitations sent")
    assert "2 invitations sent" in next(iter(user.find(marker="bulk-report").elements)).text


async def test_assigned_and_test_client_filters_combine(
    user: User, ui_engine: Engine, ui_settings: Settings
) -> None:  # R4, R5, R24
    def firm(session: Session, settings: Settings) -> None:
        alice = staff_member(session)
        mine = make_account(session, settings, name="Mine Test")
        contacts.set_test_client(session, mine.id, True)
        contacts.assign_members(session, mine.id, [alice.id])
        also_mine = make_account(session, settings, name="Mine Real")
        contacts.assign_members(session, also_mine.id, [alice.id])
        make_account(session, settings, name="Not Mine Test")

    arrange(ui_engine, ui_settings, firm)
    await sign_in(user, "/clients/accounts")
    choose(user, "filter-assigned", "Alice Martin")
    await eventually(lambda: sorted(names(user)) == ["Mine Real", "Mine Test"])
    choose(user, "filter-test", "Test clients only")
    await eventually(lambda: names(user) == ["Mine Test"])
    assert table(user).rows[0]["is_test_client"] is True


def account_named(engine: Engine, name: str) -> Account | None:
    with Session(engine) as session:
        return session.scalars(select(Account).where(Account.name == name)).first()


async def test_new_account_from_the_list_is_assigned_to_its_creator(
    user: User, ui_engine
) -> None:  # R26, R5
    await sign_in(user, "/clients/accounts")
    user.find("New account").click()
    await user.should_see(marker="new-account-name", retries=50)
    user.find(marker="new-account-name").type("Fresh Bakery")
    user.find(marker="new-account-submit").click()
    await until(lambda: account_named(ui_engine, "Fresh Bakery") is not None)
    with Session(ui_engine) as session:
        account = session.scalars(select(Account).where(Account.name == "Fresh Bakery")).one()
        assigned = session.scalars(
            select(AccountAssignment.team_member_id).where(
                AccountAssignment.account_id == account.id
            )
        ).all()
        member = session.scalars(select(TeamMember).where(TeamMember.email == STAFF_EMAIL)).one()
    assert assigned == [member.id]


async def test_a_new_account_can_be_left_unassigned(user: User, ui_engine) -> None:  # R5
    await sign_in(user, "/clients/accounts")
    user.find("New account").click()
    await user.should_see(marker="new-account-name", retries=50)
    user.find(marker="new-account-name").type("Nobody's Bakery")
    user.find(marker="new-account-assign-me").click()
    user.find(marker="new-account-submit").click()
    await until(lambda: account_named(ui_engine, "Nobody's Bakery") is not None)
    with Session(ui_engine) as session:
        account = session.scalars(select(Account).where(Account.name == "Nobody's Bakery")).one()
        assert not session.scalars(
            select(AccountAssignment).where(AccountAssignment.account_id == account.id)
        ).all()
