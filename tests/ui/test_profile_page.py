"""The profile Info tab (/clients/{account_id}/info): R4, R5, R9-R11, R22, R25-R27a."""

from __future__ import annotations

from nicegui import ui
from nicegui.testing import User
from sqlalchemy import Engine, select
from sqlmodel import Session

from portal_ui import access_rows, contacts, invitations
from portal_ui.activity import Actor
from portal_ui.config import Settings
from portal_ui.models import (
    AccessRow,
    Account,
    AccountAssignment,
    AccountContact,
    ContactEmail,
    Invitation,
    InvitationState,
    OutboxMessage,
)
from tests.factories import make_member
from tests.ui.staff_session import arrange, not_see, see, sign_in, until

ANNA = "anna@bakery.example.com"
BOB = "bob@bakery.example.com"
ANNA_HOME = "anna@home.example.com"
DORA = "dora@x.example.com"
SYSTEM = Actor(name="Setup")


def bakery(session: Session, settings: Settings) -> int:
    """Harbour Bakery with Anna (two addresses, a phone) and Bob."""
    account = contacts.create_account(session, "Harbour Bakery")
    anna = contacts.create_contact(
        session,
        settings,
        "Anna Baker",
        addresses=[ANNA, "anna@home.example.com"],
        phones=["+33 1 23"],
    )
    bob = contacts.create_contact(session, settings, "Bob Baker", addresses=[BOB])
    contacts.link_contact(session, account.id, anna.id)
    contacts.link_contact(session, account.id, bob.id)
    return account.id


def row_of(engine: Engine, address: str) -> AccessRow:
    with Session(engine) as session:
        query = select(AccessRow).join(ContactEmail).where(ContactEmail.address == address)
        return session.scalars(query).one()


def visible_test_ids(user: User, address: str) -> set[str]:
    (row,) = user.find(marker=f"email:{address}").elements
    return {
        e.props["data-testid"]
        for e in row.descendants()
        if e.props.get("data-testid") and all(a.visible for a in (e, *e.ancestors()))
    }


def state_of(user: User, address: str) -> str:
    (row,) = user.find(marker=f"email:{address}").elements
    (state,) = [e for e in row.descendants() if e.props.get("data-testid") == "access-state"]
    return state.props["data-state"]


async def open_profile(user: User, engine: Engine, settings: Settings) -> int:
    account_id = arrange(engine, settings, bakery)
    await sign_in(user, f"/clients/{account_id}/info")
    await see(user, "Harbour Bakery")
    return account_id


def click_switch(user: User, address: str, switch: str) -> None:
    with user.scope(marker=f"email:{address}"):
        user.find(marker=f"switch-{switch}").click()


async def turn_login_on(user: User, engine: Engine, settings: Settings) -> None:
    """Open the bakery's profile and turn Anna's Login on: the Send/Later pop-up opens."""
    await open_profile(user, engine, settings)
    click_switch(user, ANNA, "login")
    await see(user, "Personalized message")


async def test_profile_shows_contacts_addresses_phones_and_switches(user, ui_engine, ui_settings):
    # R25
    await open_profile(user, ui_engine, ui_settings)
    await see(user, "Anna Baker")
    await see(user, "Bob Baker")
    await see(user, "+33 1 23")
    with user.scope(marker=f"email:{ANNA}"):
        for label in ("Login", "Notify", "Email sync", "Signatory"):
            await see(user, label)
        await see(user, "No access")
    assert state_of(user, ANNA) == "no-access"


async def test_login_on_then_send_invites_with_the_message_and_shows_pending(
    user, ui_engine, ui_settings
):
    # R9, R19, R22a
    await turn_login_on(user, ui_engine, ui_settings)
    user.find(marker="login-message").type("See you <b>Monday</b>")
    user.find(marker="login-send").click()

    await until(lambda: state_of(user, ANNA) == "pending")
    with user.scope(marker=f"email:{ANNA}"):
        await see(user, "Pending activation")
        await see(user, "Invite sent")
    with Session(ui_engine) as session:
        queued = session.scalars(select(OutboxMessage)).all()
        invitation = session.scalars(select(Invitation)).one()
    assert [message.to_address for message in queued] == [ANNA]
    assert invitation.message == "See you <b>Monday</b>"
    assert row_of(ui_engine, ANNA).login


async def test_login_on_then_later_is_pending_with_invite_not_sent(user, ui_engine, ui_settings):
    # R9
    await turn_login_on(user, ui_engine, ui_settings)
    user.find(marker="login-later").click()

    await until(lambda: state_of(user, ANNA) == "pending")
    with user.scope(marker=f"email:{ANNA}"):
        await see(user, "invite not sent")
    with Session(ui_engine) as session:
        assert session.scalars(select(OutboxMessage)).all() == []
    assert row_of(ui_engine, ANNA).login


async def test_closing_the_pop_up_without_a_choice_leaves_login_off(user, ui_engine, ui_settings):
    # R9
    await turn_login_on(user, ui_engine, ui_settings)
    (dialog,) = [d for d in user.find(kind=ui.dialog).elements if d.value]
    with user:
        dialog.close()  # as Escape or a click outside does

    with user.scope(marker=f"email:{ANNA}"):
        switch = user.find(marker="switch-login").elements.pop()
    await until(lambda: switch.value is False and switch.enabled)
    assert not row_of(ui_engine, ANNA).login
    assert state_of(user, ANNA) == "no-access"


async def test_login_off_applies_at_once_and_cancels_the_last_invitation(
    user, ui_engine, ui_settings
):
    # R11
    def invited(session: Session, settings: Settings) -> int:
        account_id = bakery(session, settings)
        email = session.scalars(select(ContactEmail).where(ContactEmail.address == ANNA)).one()
        access_rows.set_login(
            session, settings, account_id, email.id, True, SYSTEM, send_invitation=True
        )
        return account_id

    account_id = arrange(ui_engine, ui_settings, invited)
    await sign_in(user, f"/clients/{account_id}/info")
    await until(lambda: state_of(user, ANNA) == "pending")
    click_switch(user, ANNA, "login")

    await until(lambda: state_of(user, ANNA) == "no-access")
    await not_see(user, "Personalized message")
    assert not row_of(ui_engine, ANNA).login
    with Session(ui_engine) as session:
        invitation = session.scalars(select(Invitation)).one()
    assert invitation.state == InvitationState.CANCELLED


async def test_other_switches_apply_at_once(user, ui_engine, ui_settings):
    # R2, R3, R25
    await open_profile(user, ui_engine, ui_settings)
    click_switch(user, BOB, "notify")
    await until(lambda: row_of(ui_engine, BOB).notify)
    row = row_of(ui_engine, BOB)
    assert all(row.preferences().values())  # R3: first Notify turns the nine on
    with user.scope(marker=f"email:{BOB}"):
        (signatory,) = user.find(marker="switch-signatory").elements
    await until(lambda: signatory.enabled)  # the row's switches wait while one change runs
    click_switch(user, BOB, "signatory")
    await until(lambda: row_of(ui_engine, BOB).signatory)


async def test_notification_preferences_dialog_saves_the_nine_categories(
    user, ui_engine, ui_settings
):
    # R3, R25
    await open_profile(user, ui_engine, ui_settings)
    with user.scope(marker=f"email:{BOB}"):
        user.find(marker="menu-preferences").click()
    await see(user, marker="preferences-save")
    user.find(marker="category-proposals").click()
    user.find(marker="category-transactions").click()
    user.find(marker="preferences-save").click()

    await see(user, "Notification preferences saved")
    preferences = row_of(ui_engine, BOB).preferences()
    assert preferences["proposals"] and preferences["transactions"]
    assert sum(preferences.values()) == 2


async def test_menu_sends_resends_and_cancels_the_invitation(user, ui_engine, ui_settings):
    # R14, R21, R25
    def pending_later(session: Session, settings: Settings) -> int:
        account_id = bakery(session, settings)
        email = session.scalars(select(ContactEmail).where(ContactEmail.address == BOB)).one()
        access_rows.set_login(session, settings, account_id, email.id, True, SYSTEM)
        return account_id

    account_id = arrange(ui_engine, ui_settings, pending_later)
    await sign_in(user, f"/clients/{account_id}/info")
    await see(user, "invite not sent")
    with user.scope(marker=f"email:{BOB}"):
        await see(user, "Send invitation")
        user.find(marker="menu-send").click()
    await see(user, f"Invitation sent to {BOB}")
    with user.scope(marker=f"email:{BOB}"):
        await see(user, "Resend invitation")
        user.find(marker="menu-send").click()
    await see(user, f"Invitation resent to {BOB}")
    with user.scope(marker=f"email:{BOB}"):
        user.find(marker="menu-cancel").click()
    await see(user, marker="confirm-ok")
    user.find(marker="confirm-ok").click()

    await see(user, "Invitation cancelled")
    with Session(ui_engine) as session:
        states = sorted(i.state for i in session.scalars(select(Invitation)))
    assert states == ["cancelled", "superseded"]
    with user.scope(marker=f"email:{BOB}"):
        await see(user, "invite not sent")


async def test_invitation_history_lists_events_with_actor(user, ui_engine, ui_settings):
    # R27a
    def resent(session: Session, settings: Settings) -> int:
        account_id = bakery(session, settings)
        member = make_member(session, name="Greta Sender")
        actor = Actor(name=member.name, member_id=member.id)
        email = session.scalars(select(ContactEmail).where(ContactEmail.address == BOB)).one()
        access_rows.set_login(
            session, settings, account_id, email.id, True, actor, send_invitation=True
        )
        invitations.send_invitation(session, settings, email.id, actor)
        return account_id

    account_id = arrange(ui_engine, ui_settings, resent)
    await sign_in(user, f"/clients/{account_id}/info")
    with user.scope(marker=f"email:{BOB}"):
        user.find(marker="menu-history").click()
    await see(user, "Invitation history")
    await see(user, "Invitation sent")
    await see(user, "Invitation superseded by a newer one")
    await see(user, "Invitation resent")
    await see(user, "by Greta Sender")


async def test_change_address_shows_the_error_next_to_the_field_then_saves(
    user, ui_engine, ui_settings
):
    # R27, R1
    await open_profile(user, ui_engine, ui_settings)
    with user.scope(marker=f"email:{BOB}"):
        user.find(marker="menu-change-address").click()
    await see(user, "New email address")
    field = user.find(marker="form-field")
    field.clear().type(ANNA)
    user.find(marker="form-submit").click()
    (element,) = field.elements
    await until(lambda: element.error is not None)
    assert element.error == "This email address already belongs to another contact."

    field.clear().type("robert@bakery.example.com")
    user.find(marker="form-submit").click()
    await see(user, "Address changed")
    await see(user, marker="email:robert@bakery.example.com")


async def test_an_invalid_address_has_the_red_mark_and_its_reason(user, ui_engine, ui_settings):
    # R22
    def typo(session: Session, settings: Settings) -> int:
        account = contacts.create_account(session, "Typo Ltd")
        contact = contacts.create_contact(session, settings, "Tina", addresses=["tina@@typo"])
        contacts.link_contact(session, account.id, contact.id)
        return account.id

    account_id = arrange(ui_engine, ui_settings, typo)
    await sign_in(user, f"/clients/{account_id}/info")
    with user.scope(marker="email:tina@@typo"):
        await see(user, "contains invalid characters")
    assert "invalid-email" in visible_test_ids(user, "tina@@typo")


async def test_a_valid_address_has_no_invalid_mark(user, ui_engine, ui_settings):
    # R22
    await open_profile(user, ui_engine, ui_settings)
    assert "invalid-email" not in visible_test_ids(user, ANNA)
    assert {"switch-login", "access-state", "row-menu"} <= visible_test_ids(user, ANNA)


async def test_send_to_an_invalid_address_turns_login_on_and_reports_the_refusal(
    user, ui_engine, ui_settings
):
    # R22
    def typo(session: Session, settings: Settings) -> int:
        account = contacts.create_account(session, "Typo Ltd")
        contact = contacts.create_contact(session, settings, "Tina", addresses=["tina@@typo"])
        contacts.link_contact(session, account.id, contact.id)
        return account.id

    account_id = arrange(ui_engine, ui_settings, typo)
    await sign_in(user, f"/clients/{account_id}/info")
    click_switch(user, "tina@@typo", "login")
    await see(user, marker="login-send")
    user.find(marker="login-send").click()

    await see(user, "Login is on, but no invitation was sent")
    with Session(ui_engine) as session:
        assert session.scalars(select(OutboxMessage)).all() == []


async def test_new_contact_is_created_linked_and_its_errors_shown_by_field(
    user, ui_engine, ui_settings
):
    # R26, R1
    account_id = await open_profile(user, ui_engine, ui_settings)
    user.find(marker="new-contact").click()
    await see(user, marker="contact-submit")
    user.find(marker="contact-name").type("Carla Cook")
    user.find(marker="address-0").type(BOB)
    user.find(marker="add-address-field").click()
    user.find(marker="address-1").type("carla@cook.example.com")
    user.find(marker="phone-0").type("+39 06 1234")
    user.find(marker="contact-submit").click()
    (taken,) = user.find(marker="address-0").elements
    await until(lambda: taken.error is not None)
    assert "already belongs" in taken.error

    user.find(marker="address-0").clear().type("carla@home.example.com")
    user.find(marker="contact-submit").click()
    await see(user, "Contact created and linked")
    await see(user, marker="email:carla@cook.example.com")
    await see(user, "+39 06 1234")
    with Session(ui_engine) as session:
        assert len(session.scalars(select(AccountContact).where(
            AccountContact.account_id == account_id)).all()) == 3  # fmt: skip


async def test_link_an_existing_contact_found_by_address(user, ui_engine, ui_settings):
    # R1, R26
    def elsewhere(session: Session, settings: Settings) -> None:
        other = contacts.create_account(session, "Other Co")
        dora = contacts.create_contact(
            session, settings, "Dora Shared", addresses=["dora@x.example.com"]
        )
        contacts.link_contact(session, other.id, dora.id)

    arrange(ui_engine, ui_settings, elsewhere)
    await open_profile(user, ui_engine, ui_settings)
    user.find(marker="link-contact").click()
    await see(user, marker="contact-search")
    user.find(marker="contact-search").type("dora@")
    await see(user, "Dora Shared")
    user.find(marker="link-contact-1").click()  # Dora, the first contact created

    await see(user, "Contact linked")
    await see(user, marker=f"email:{DORA}")


async def test_unlink_asks_for_confirmation_then_removes_the_contact(user, ui_engine, ui_settings):
    # R26
    account_id = await open_profile(user, ui_engine, ui_settings)
    with user.scope(marker="contact-card contact:2"):
        user.find(marker="contact-unlink").click()
    await see(user, "Unlink Bob Baker from this account?")
    user.find(marker="confirm-ok").click()

    await see(user, "Bob Baker unlinked")
    await not_see(user, marker=f"email:{BOB}")
    with Session(ui_engine) as session:
        linked = session.scalars(
            select(AccountContact).where(AccountContact.account_id == account_id)
        ).all()
    assert len(linked) == 1


async def test_add_address_and_phone(user, ui_engine, ui_settings):
    # R1, R26
    await open_profile(user, ui_engine, ui_settings)
    with user.scope(marker="contact-card contact:2"):
        user.find(marker="contact-add-address").click()
    await see(user, marker="form-submit")
    user.find(marker="form-submit").click()
    (field,) = user.find(marker="form-field").elements
    await until(lambda: field.error is not None)
    assert field.error == "Enter an email address."
    user.find(marker="form-field").type("bob@home.example.com")
    user.find(marker="form-submit").click()
    await see(user, marker="email:bob@home.example.com")

    with user.scope(marker="contact-card contact:2"):
        user.find(marker="contact-add-phone").click()
    await see(user, "Add a phone for Bob Baker")
    user.find(marker="form-field").type("+44 20 7946")
    user.find(marker="form-submit").click()
    await see(user, "+44 20 7946")


async def test_test_client_mark_and_assigned_members(user, ui_engine, ui_settings):
    # R4, R5
    def with_members(session: Session, settings: Settings) -> int:
        make_member(session, name="Hugo Helper")
        return bakery(session, settings)

    account_id = arrange(ui_engine, ui_settings, with_members)
    await sign_in(user, f"/clients/{account_id}/info")
    user.find(marker="test-client-switch").click()
    await see(user, marker="test-client")
    with Session(ui_engine) as session:
        assert session.get(Account, account_id).is_test_client
    user.find(marker="edit-assigned").click()
    await see(user, marker="assign-save")
    user.find("Hugo Helper").click()
    user.find(marker="assign-save").click()

    await see(user, "Assigned team members saved")
    await until(lambda: user.find(marker="assigned-names").elements.pop().text == "Hugo Helper")
    with Session(ui_engine) as session:
        assigned = session.scalars(select(AccountAssignment)).all()
    assert [a.account_id for a in assigned] == [account_id]


async def test_an_unknown_account_says_so(user):
    await sign_in(user, "/clients/999/info")
    await see(user, "This account does not exist, or it was deleted.")


async def test_the_page_updates_when_another_session_changes_the_account(
    user, ui_engine, ui_settings
):
    # R25: live, without reload
    account_id = await open_profile(user, ui_engine, ui_settings)
    with Session(ui_engine) as session:
        email = session.scalars(select(ContactEmail).where(ContactEmail.address == BOB)).one()
        access_rows.set_login(session, ui_settings, account_id, email.id, True, SYSTEM)
        session.commit()
    await until(lambda: state_of(user, BOB) == "pending")


def _active_anna(session: Session, settings: Settings) -> int:
    """The bakery with Anna activated (an Active row)."""
    account_id = bakery(session, settings)
    email = session.scalars(select(ContactEmail).where(ContactEmail.address == ANNA)).one()
    issued = access_rows.set_login(
        session, settings, account_id, email.id, True, SYSTEM, send_invitation=True
    )
    invitations.activate(session, settings, issued.link.rsplit("/", 1)[1], "Blue-Otter-Sings-77")
    return account_id


async def test_revoking_an_active_row_asks_first_and_cancel_keeps_access(
    user, ui_engine, ui_settings
):  # R11: a client's portal loses the account at once, so ask first
    account_id = arrange(ui_engine, ui_settings, _active_anna)
    await sign_in(user, f"/clients/{account_id}/info")
    await until(lambda: state_of(user, ANNA) == "active")
    click_switch(user, ANNA, "login")
    await see(user, f"Remove {ANNA}'s access to Harbour Bakery?")
    user.find(marker="confirm-cancel").click()
    await not_see(user, "Remove access")
    assert row_of(ui_engine, ANNA).login
    assert state_of(user, ANNA) == "active"


async def test_revoking_an_active_row_once_confirmed_removes_access(
    user, ui_engine, ui_settings
):  # R11
    account_id = arrange(ui_engine, ui_settings, _active_anna)
    await sign_in(user, f"/clients/{account_id}/info")
    await until(lambda: state_of(user, ANNA) == "active")
    click_switch(user, ANNA, "login")
    await see(user, "Remove access")
    user.find(marker="confirm-ok").click()
    await until(lambda: state_of(user, ANNA) == "no-access")
    assert not row_of(ui_engine, ANNA).login
