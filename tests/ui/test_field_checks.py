"""R38 and R38a at the field: limits shown, problems said next to the field before anything is
saved, guessable passwords explained as typed, and ids in URLs that name nothing."""

import asyncio

import pytest
from nicegui import background_tasks, ui
from nicegui.testing import User
from sqlalchemy import func, select
from sqlmodel import Session

from portal_ui import contacts
from portal_ui.inputs import MAX_ADDRESS, MAX_MESSAGE, MAX_NAME, MAX_PHONE
from portal_ui.models import Contact, ContactEmail, ContactPhone, Invitation, PortalUser
from portal_ui.security import MAX_PASSWORD_LENGTH
from tests.clients import CLIENT_PASSWORD, activated_client, invite
from tests.factories import emails_of, make_account, make_member
from tests.ui.staff_session import not_see, see, sign_in, until
from tests.ui.test_profile_page import BOB, open_profile, turn_login_on

HUGE = "99999999999999999999999999"


def only(user: User, marker: str) -> ui.element:
    (element,) = user.find(marker=marker).elements
    return element


def click(user: User, marker: str) -> set[asyncio.Task]:
    """Click the element; the handler tasks the click started."""
    before = set(background_tasks.running_tasks)
    user.find(marker=marker).click()
    return set(background_tasks.running_tasks) - before


async def finished(tasks: set[asyncio.Task], timeout: float = 5) -> None:
    """Until each of `tasks` has ended, with whatever it was going to save."""
    if tasks:
        _done, pending = await asyncio.wait(tasks, timeout=timeout)
        assert not pending, f"still running after {timeout} s: {pending}"


def count(engine, model) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(model))


async def test_change_address_refuses_a_wrong_address_and_stays_open(
    user, ui_engine, ui_settings
):  # R38 R22 R27
    await open_profile(user, ui_engine, ui_settings)
    with user.scope(marker=f"email:{BOB}"):
        user.find(marker="menu-change-address").click()
    await see(user, "New email address")
    user.find(marker="form-field").clear().type("not-an-email")
    user.find(marker="form-submit").click()
    field = only(user, "form-field")
    await until(lambda: field.error is not None)
    assert field.error.startswith("This email address is invalid:")
    await see(user, marker="form-submit")  # the dialog is still open
    await not_see(user, "Address changed")
    with Session(ui_engine) as session:
        assert session.scalars(select(ContactEmail.address)).all().count(BOB) == 1


async def test_new_contact_with_a_wrong_address_is_not_created(user, ui_engine, ui_settings):
    # R38 R22 R26
    await open_profile(user, ui_engine, ui_settings)
    contacts_before = count(ui_engine, Contact)
    user.find(marker="new-contact").click()
    await see(user, marker="contact-submit")
    user.find(marker="contact-name").type("Carla Cook")
    user.find(marker="address-0").type("bad@@example")
    handlers = click(user, "contact-submit")
    field = only(user, "address-0")
    await until(lambda: field.error is not None)
    assert "invalid" in field.error
    await finished(handlers)  # the click's work is over: a save that should not happen too
    await not_see(user, "Contact created and linked")
    assert count(ui_engine, Contact) == contacts_before


async def test_a_wrong_phone_is_said_next_to_the_field(user, ui_engine, ui_settings):  # R38
    await open_profile(user, ui_engine, ui_settings)
    with user.scope(marker="contact-card contact:2"):
        user.find(marker="contact-add-phone").click()
    await see(user, "Add a phone for Bob Baker")
    assert only(user, "form-field").props["maxlength"] == str(MAX_PHONE)
    user.find(marker="form-field").type("call me")
    user.find(marker="form-submit").click()
    field = only(user, "form-field")
    await until(lambda: field.error is not None)
    assert "5 to 20 digits" in field.error
    phones_before = count(ui_engine, ContactPhone)
    user.find(marker="form-field").clear().type("+44 20 7946 0018")
    user.find(marker="form-submit").click()
    await until(lambda: count(ui_engine, ContactPhone) == phones_before + 1)


async def test_name_address_and_phone_fields_show_their_limits(user, ui_engine, ui_settings):
    # R38
    await open_profile(user, ui_engine, ui_settings)
    user.find(marker="new-contact").click()
    await see(user, marker="contact-submit")
    assert only(user, "contact-name").props["maxlength"] == str(MAX_NAME)
    assert only(user, "address-0").props["maxlength"] == str(MAX_ADDRESS)
    assert only(user, "phone-0").props["maxlength"] == str(MAX_PHONE)
    user.find(marker="contact-name").type("Carla").clear()
    name = only(user, "contact-name")
    await until(lambda: name.error is not None)
    assert name.error == "Enter a name."


async def test_the_personalized_message_shows_its_limit_and_a_counter(
    user, ui_engine, ui_settings
):  # R38 R9
    await turn_login_on(user, ui_engine, ui_settings)
    message = only(user, "login-message")
    assert message.props["maxlength"] == str(MAX_MESSAGE)
    assert "counter" in message.props


@pytest.mark.parametrize(
    "path",
    [
        f"/clients/accounts?assigned={HUGE}",
        "/clients/accounts?assigned=anna",
        f"/activity?actor=member:{HUGE}",
        "/activity?actor=member:x",
        f"/activity?account={HUGE}",
    ],
)
async def test_an_id_in_the_url_that_names_nothing_shows_the_not_found_page(user, path):
    # R38
    await sign_in(user, path)
    await see(user, "Page not found")
    await see(user, marker="not-found")


async def test_an_out_of_range_account_in_the_path_shows_account_not_found(user):  # R38
    await sign_in(user, f"/clients/{HUGE}/info")
    await see(user, "This account does not exist, or it was deleted.")
    await see(user, marker="not-found")


@pytest.fixture
def link(ui_engine, ui_settings):
    """An invitation to xss1@example.com on "Harbour Bakery": its token."""
    with Session(ui_engine, expire_on_commit=False) as session:
        member = make_member(session)
        account = make_account(session, ui_settings, "Harbour Bakery", contacts_count=0)
        contact = contacts.create_contact(
            session, ui_settings, "Xavier", addresses=["xss1@example.com"]
        )
        contacts.link_contact(session, account.id, contact.id)
        token = invite(session, ui_settings, member, account, emails_of(session, account)[0])
        session.commit()
        return token


async def test_a_guessable_password_shows_the_reason_and_a_hint_as_typed(user: User, link):
    # R38a
    await user.open(f"/activate/{link}")
    assert only(user, "password").props["maxlength"] == str(MAX_PASSWORD_LENGTH)
    (advice,) = [
        e for e in only(user, "rule-common").descendants() if "password-advice" in e._markers
    ]
    user.find(marker="password").type("xss1xss1xss1")
    await until(lambda: only(user, "rule-common").props["data-state"] == "broken")
    await until(lambda: "Repeats" in advice.text)
    assert "Avoid repeated words and characters." in advice.text and advice.visible
    assert only(user, "rule-length").props["data-state"] == "met"
    user.find(marker="password").clear().type("Summer2024!")
    await until(lambda: "similar to a commonly used password" in advice.text)
    user.find(marker="password").clear().type(CLIENT_PASSWORD)
    await until(lambda: only(user, "rule-common").props["data-state"] == "met")
    assert not advice.visible


async def test_a_guessable_password_is_not_saved(user: User, link, ui_engine):  # R38a
    await user.open(f"/activate/{link}")
    user.find(marker="password").type("P@ssw0rd123")
    user.find(marker="confirm-password").type("P@ssw0rd123")
    user.find(marker="activate").click()
    await see(user, "This is similar to a commonly used password.")
    assert count(ui_engine, PortalUser) == 0


async def test_a_client_inviting_a_wrong_address_is_told_at_the_field(
    user: User, ui_engine, ui_settings
):  # R38 R31
    with Session(ui_engine, expire_on_commit=False) as session:
        alpha = make_account(session, ui_settings, "Alpha Ltd")
        email, _user = activated_client(session, ui_settings, make_member(session), [alpha])
        session.commit()
    await user.open("/portal")
    user.find("Email").type(email.address)
    user.find("Password").type(CLIENT_PASSWORD)
    user.find(kind=ui.button, content="Sign in").click()
    await see(user, "Invite someone")
    invitations_before = count(ui_engine, Invitation)
    user.find("Name").type("Dana Lee")
    user.find(kind=ui.input, content="Email").type("dana@@example.com")
    user.find(kind=ui.button, content="Send invitation").click()
    (field,) = [e for e in user.find(kind=ui.input).elements if e.props.get("type") == "email"]
    await until(lambda: field.error is not None)
    assert "invalid" in field.error
    await not_see(user, "We sent an email")
    assert count(ui_engine, Invitation) == invitations_before


async def test_an_out_of_range_account_in_the_portal_is_not_available(
    user: User, ui_engine, ui_settings
):  # R38 R11
    with Session(ui_engine, expire_on_commit=False) as session:
        alpha = make_account(session, ui_settings, "Alpha Ltd")
        email, _user = activated_client(session, ui_settings, make_member(session), [alpha])
        session.commit()
    await user.open(f"/portal?account={HUGE}")
    user.find("Email").type(email.address)
    user.find("Password").type(CLIENT_PASSWORD)
    user.find(kind=ui.button, content="Sign in").click()
    await see(user, "That account is not available")
    await see(user, "Alpha Ltd")
