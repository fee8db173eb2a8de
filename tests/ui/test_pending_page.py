"""The Pending activation tab (R21, R22, R22a), driven through NiceGUI's User fixture."""

from __future__ import annotations

from datetime import timedelta

import pytest
from nicegui import ui
from nicegui.testing import User
from sqlalchemy import Engine, select
from sqlmodel import Session

from portal_ui import access_rows, contacts
from portal_ui.clock import utcnow
from portal_ui.config import Settings
from portal_ui.models import Account, ContactEmail, Invitation, InvitationState
from tests.factories import actor_for, make_account
from tests.ui.test_accounts_page import arrange, eventually, sign_in, staff_member

PENDING = "/clients/accounts/pending"


def _pending_people(session: Session, settings: Settings) -> None:
    """Ann invited on two accounts, Dee invited two days ago, Bob never invited, and an
    invalid address with Login on."""
    actor = actor_for(staff_member(session))
    first = make_account(session, settings, name="Harbour Cafe", contacts_count=0)
    second = make_account(session, settings, name="Harbour Bakery", contacts_count=0)
    ann = contacts.create_contact(session, settings, "Ann", addresses=["ann@example.com"])
    bob = contacts.create_contact(session, settings, "Bob", addresses=["bob@example.com"])
    bad = contacts.create_contact(session, settings, "Cy", addresses=["cy@@example.com"])
    for account in (first, second):
        contacts.link_contact(session, account.id, ann.id)
    contacts.link_contact(session, first.id, bob.id)
    contacts.link_contact(session, second.id, bad.id)
    session.flush()
    for account, address in ((first, "ann@example.com"), (second, "ann@example.com"),
                             (first, "bob@example.com"), (second, "cy@@example.com")):  # fmt: skip
        email_id = _email_id(session, address)
        send = address == "ann@example.com" and account is second
        access_rows.set_login(
            session, settings, account.id, email_id, True, actor, send_invitation=send
        )
    dee = contacts.create_contact(session, settings, "Dee", addresses=["dee@example.com"])
    contacts.link_contact(session, first.id, dee.id)
    access_rows.set_login(
        session, settings, first.id, _email_id(session, "dee@example.com"), True, actor,
        send_invitation=True, now=utcnow() - timedelta(days=2),
    )  # fmt: skip


def _email_id(session: Session, address: str) -> int:
    return session.scalars(select(ContactEmail.id).where(ContactEmail.address == address)).one()


@pytest.fixture
def people(ui_engine: Engine, ui_settings: Settings) -> None:
    arrange(ui_engine, ui_settings, _pending_people)


def table(user: User) -> ui.table:
    return next(iter(user.find(ui.table).elements))


def rows_by_address(user: User) -> dict[str, dict]:
    return {row["address"]: row for row in table(user).rows}


def tick(user: User, *addresses: str) -> None:
    rows = [row for row in table(user).rows if row["address"] in addresses]
    keys = [row["id"] for row in rows]
    user.find(ui.table).trigger("selection", {"added": True, "rows": rows, "keys": keys})


async def ask_to_cancel_ann(user: User) -> None:
    """Tick ann@example.com and press "Cancel invites to selected": the question opens."""
    await sign_in(user, PENDING)
    tick(user, "ann@example.com")
    user.find("Cancel invites to selected").click()
    await user.should_see("Cancel the invitation of 1 address?")


async def test_each_waiting_address_shows_all_its_accounts_and_invitation(
    user: User, people: None
) -> None:  # R21
    await sign_in(user, PENDING)
    rows = rows_by_address(user)
    assert sorted(rows) == [
        "ann@example.com", "bob@example.com", "cy@@example.com", "dee@example.com"
    ]  # fmt: skip
    assert rows["ann@example.com"]["accounts"] == ["Harbour Bakery", "Harbour Cafe"]
    assert rows["ann@example.com"]["invite_sent"] != ""
    assert rows["ann@example.com"]["invited_by"] == "Alice Martin"
    assert rows["ann@example.com"]["delivery"] == "queued"
    assert rows["bob@example.com"]["invite_sent"] == ""
    assert rows["bob@example.com"]["delivery_label"] == "Invite not sent"


async def test_an_invalid_address_is_flagged_with_its_explanation(
    user: User, people: None
) -> None:  # R21, R22
    await sign_in(user, PENDING)
    rows = rows_by_address(user)
    assert rows["cy@@example.com"]["invalid_reason"]
    assert rows["ann@example.com"]["invalid_reason"] == ""
    template = table(user).slots["body-cell-address"].template or ""
    assert 'data-testid="invalid-email"' in template


async def test_invite_sent_sorts_both_ways_with_never_invited_last(
    user: User, people: None
) -> None:  # R21
    await sign_in(user, PENDING)
    pagination = {"sortBy": "invite_sent", "descending": True, "page": 1, "rowsPerPage": 25}
    user.find(ui.table).trigger("request", {"pagination": pagination})
    await eventually(lambda: table(user).pagination.get("sortBy") == "invite_sent")
    assert [row["address"] for row in table(user).rows][:2] == [
        "ann@example.com", "dee@example.com"
    ]  # fmt: skip
    user.find(ui.table).trigger("request", {"pagination": {**pagination, "descending": False}})
    await eventually(lambda: table(user).pagination.get("descending") is False)
    assert [row["address"] for row in table(user).rows][:2] == [
        "dee@example.com", "ann@example.com"
    ]  # fmt: skip
    assert table(user).rows[-1]["invite_sent"] == ""


async def test_resend_to_selected_sends_and_says_what_it_skipped(
    user: User, people: None, ui_engine: Engine
) -> None:  # R21, R22
    await sign_in(user, PENDING)
    tick(user, "bob@example.com", "cy@@example.com")
    await user.should_see("2 addresses selected")
    user.find("Resend to selected").click()
    await user.should_see("1 invitation sent, 1 skipped: invalid address", retries=30)
    await user.should_see("cy@@example.com: ", retries=1)
    await eventually(lambda: rows_by_address(user)["bob@example.com"]["invite_sent"] != "")
    with Session(ui_engine) as session:
        sent = session.scalars(select(Invitation.address)).all()
    assert sorted(sent) == ["ann@example.com", "bob@example.com", "dee@example.com"]


async def test_cancel_invites_asks_first_and_empties_invite_sent(
    user: User, people: None, ui_engine: Engine
) -> None:  # R21
    await ask_to_cancel_ann(user)
    user.find(marker="confirm-ok").click()
    await user.should_see("1 invitation cancelled", retries=30)
    await eventually(lambda: rows_by_address(user)["ann@example.com"]["invite_sent"] == "")
    with Session(ui_engine) as session:
        states = session.scalars(select(Invitation.state)).all()
        login = session.scalars(select(Account.has_login)).all()
    assert sorted(states) == [InvitationState.CANCELLED.value, InvitationState.OUTSTANDING.value]
    assert all(login)  # Login stays on


async def test_cancel_invites_does_nothing_when_not_confirmed(
    user: User, people: None, ui_engine: Engine
) -> None:  # R21
    await ask_to_cancel_ann(user)
    user.find(marker="confirm-cancel").click()
    await user.should_not_see("Cancel the invitation of 1 address?")
    with Session(ui_engine) as session:
        states = session.scalars(select(Invitation.state)).all()
    assert states == [InvitationState.OUTSTANDING.value] * 2
