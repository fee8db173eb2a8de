"""The client's portal pages (R8, R10, R11, R31), driven with NiceGUI's User fixture."""

import pytest
from nicegui import ui
from nicegui.testing import User
from sqlalchemy import select
from sqlmodel import Session

from portal_ui import access_rows, portal
from portal_ui.models import Invitation
from tests.clients import CLIENT_PASSWORD, activated_client, messages_to, token_in
from tests.factories import actor_for, make_account, make_member


@pytest.fixture
def client(ui_engine, ui_settings):
    """An activated client on Alpha Ltd and Beta Ltd; returns (address, email id, ids, member)."""
    with Session(ui_engine, expire_on_commit=False) as session:
        member = make_member(session)
        alpha = make_account(session, ui_settings, "Alpha Ltd")
        beta = make_account(session, ui_settings, "Beta Ltd")
        email, _user = activated_client(session, ui_settings, member, [alpha, beta])
        session.commit()
        return email.address, email.id, {"alpha": alpha.id, "beta": beta.id}, member


async def sign_in(user: User, address: str, password: str = CLIENT_PASSWORD) -> None:
    user.find("Email").type(address)
    user.find("Password").type(password)
    user.find(kind=ui.button, content="Sign in").click()


def switcher(user: User) -> ui.select:
    (element,) = user.find(kind=ui.select).elements
    assert element.props["data-testid"] == "account-switcher"
    return element


async def test_the_portal_without_a_session_asks_to_sign_in(user: User) -> None:  # R31
    await user.open("/portal")
    await user.should_see("Sign in")
    await user.should_see("Forgot password?")


async def test_a_wrong_password_is_refused_without_saying_more(user: User, client) -> None:
    # R8
    address, *_ = client
    await user.open("/portal/login")
    await sign_in(user, address, "Not-The-Password-1")
    await user.should_see("The email or password is incorrect.", retries=100)


async def test_a_client_signs_in_and_switches_accounts(user: User, client) -> None:  # R8 R31
    address, _email_id, ids, _member = client
    await user.open("/portal")
    await sign_in(user, address)
    await user.should_see(marker="account-name", retries=100)
    assert switcher(user).options == {ids["alpha"]: "Alpha Ltd", ids["beta"]: "Beta Ltd"}
    assert switcher(user).value == ids["alpha"]
    user.find(kind=ui.select).click()
    user.find("Beta Ltd").click()
    await user.should_see(marker="account-name", content="Beta Ltd", retries=100)
    assert switcher(user).value == ids["beta"]


async def test_an_account_whose_login_is_turned_off_disappears_at_the_next_action(
    user: User, client, ui_engine, ui_settings
) -> None:  # R11
    address, email_id, ids, member = client
    await user.open("/portal")
    await sign_in(user, address)
    await user.should_see(marker="account-name", retries=100)
    with Session(ui_engine) as session:
        access_rows.set_login(
            session, ui_settings, ids["alpha"], email_id, False, actor_for(member)
        )
        session.commit()
    await user.open(f"/portal?account={ids['alpha']}")
    await user.should_see("That account is not available", retries=100)
    assert switcher(user).options == {ids["beta"]: "Beta Ltd"}


async def test_with_no_account_left_the_client_is_signed_out_with_a_reason(
    user: User, client, ui_engine, ui_settings
) -> None:  # R8 R11
    address, email_id, ids, member = client
    await user.open("/portal")
    await sign_in(user, address)
    await user.should_see(marker="account-name", retries=100)
    with Session(ui_engine) as session:
        for account_id in ids.values():
            access_rows.set_login(
                session, ui_settings, account_id, email_id, False, actor_for(member)
            )
        session.commit()
    # The open page follows the change live: its session ended with the last Login (R34).
    await user.should_see("Your session has ended", retries=100)
    await sign_in(user, address)
    await user.should_see("You no longer have access", retries=100)


async def test_another_clients_account_cannot_be_opened_by_url(
    user: User, client, ui_engine, ui_settings
) -> None:  # R8
    address, *_ = client
    with Session(ui_engine, expire_on_commit=False) as session:
        other = make_account(session, ui_settings, "Secret Holdings")
        activated_client(session, ui_settings, make_member(session), [other])
        session.commit()
    await user.open("/portal")
    await sign_in(user, address)
    await user.should_see(marker="account-name", retries=100)
    await user.open(f"/portal?account={other.id}")
    await user.should_see("That account is not available", retries=100)
    await user.should_not_see("Secret Holdings")


async def test_a_client_invites_someone_to_the_account(
    user: User, client, ui_engine
) -> None:  # R31 R20
    address, _email_id, _ids, _member = client
    await user.open("/portal")
    await sign_in(user, address)
    await user.should_see("Invite someone", retries=100)
    user.find("Name").type("Dana Lee")
    user.find(kind=ui.input, content="Email").type("dana@example.com")
    user.find(kind=ui.button, content="Send invitation").click()
    await user.should_see("We sent an email to dana@example.com.", retries=100)
    with Session(ui_engine) as session:
        invitation = session.scalars(
            select(Invitation).where(Invitation.address == "dana@example.com")
        ).one()
        assert invitation.invited_by_portal_user_id is not None


async def test_a_password_change_elsewhere_ends_this_session(
    user: User, client, ui_engine, ui_settings
) -> None:  # R8
    address, *_ = client
    await user.open("/portal")
    await sign_in(user, address)
    await user.should_see(marker="account-name", retries=100)
    with Session(ui_engine) as session:
        portal.request_password_reset(session, ui_settings, address, "127.0.0.1")
        token = token_in(messages_to(session, address)[-1])
        portal.reset_password(session, ui_settings, token, "Green-Lantern-Walks-19")
        session.commit()
    await user.open("/portal")
    await user.should_see("Your session has ended", retries=100)
