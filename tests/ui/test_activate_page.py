"""The activation page /activate/{token} (R15-R17), driven with NiceGUI's User fixture."""

import asyncio
from datetime import timedelta

import pytest
from nicegui.testing import User
from sqlalchemy import select, update
from sqlmodel import Session

from portal_ui import invitations
from portal_ui.i18n import translator
from portal_ui.models import Contact, ContactEmail, Invitation, PortalUser
from tests.clients import CLIENT_PASSWORD, invite
from tests.factories import actor_for, emails_of, make_account, make_member


@pytest.fixture
def link(ui_engine, ui_settings):
    """An invitation to client address on "Harbour Bakery": (token, address)."""
    with Session(ui_engine, expire_on_commit=False) as session:
        member = make_member(session)
        account = make_account(session, ui_settings, "Harbour Bakery")
        email = emails_of(session, account)[0]
        token = invite(session, ui_settings, member, account, email)
        session.commit()
        return token, email.address, member


def rule_state(user: User, name: str) -> str:
    (item,) = user.find(marker=f"rule-{name}").elements
    return item.props["data-state"]


async def rule_becomes(user: User, name: str, state: str) -> str:
    """The rule's state once the check of the latest keystroke (in a worker thread) is shown,
    or its state after a second if it never becomes `state`."""
    for _ in range(100):
        if rule_state(user, name) == state:
            break
        await asyncio.sleep(0.01)
    return rule_state(user, name)


async def test_the_page_shows_the_firm_the_address_and_the_accounts(user: User, link):  # R17
    token, address, _member = link
    await user.open(f"/activate/{token}")
    await user.should_see("Test Firm")
    await user.should_see(address)
    await user.should_see("Harbour Bakery")
    await user.should_see("Confirm password")
    await user.should_see("Activate")


async def test_the_policy_is_checked_as_the_client_types(user: User, link):  # R17
    token, address, _member = link
    await user.open(f"/activate/{token}")
    assert rule_state(user, "length") == "todo"
    user.find(marker="password").type("short")
    assert await rule_becomes(user, "length", "broken") == "broken"
    user.find(marker="password").clear().type(address)
    assert await rule_becomes(user, "address", "broken") == "broken"
    user.find(marker="password").clear().type("password123")
    assert await rule_becomes(user, "common", "broken") == "broken"
    user.find(marker="password").clear().type(CLIENT_PASSWORD)
    assert [await rule_becomes(user, name, "met") for name in ("length", "address", "common")] == [
        "met"
    ] * 3


async def test_a_broken_rule_or_a_mismatch_blocks_activation(user: User, link, ui_engine):  # R17
    token, _address, _member = link
    await user.open(f"/activate/{token}")
    user.find(marker="password").type("short")
    user.find(marker="confirm-password").type("short")
    user.find(marker="activate").click()
    await user.should_see("Use at least 10 characters.")
    user.find(marker="password").clear().type(CLIENT_PASSWORD)
    user.find(marker="confirm-password").clear().type(CLIENT_PASSWORD + "x")
    assert await rule_becomes(user, "match", "broken") == "broken"
    user.find(marker="activate").click()
    await user.should_see("The two passwords do not match.")
    with Session(ui_engine, expire_on_commit=False) as session:
        assert session.scalars(select(PortalUser)).first() is None


async def test_activating_signs_the_client_in_and_lands_on_the_portal(
    user: User, link, ui_engine
):  # R17
    token, address, _member = link
    await user.open(f"/activate/{token}")
    user.find(marker="password").type(CLIENT_PASSWORD)
    user.find(marker="confirm-password").type(CLIENT_PASSWORD)
    user.find(marker="activate").click()
    await user.should_see(marker="account-name", retries=100)  # Argon2id takes a moment
    await user.should_see("Harbour Bakery")
    assert "portal_session" in user.http_client.cookies  # R34: a session of its own
    with Session(ui_engine, expire_on_commit=False) as session:
        assert session.scalars(select(PortalUser)).one() is not None


async def test_an_unknown_link_says_so_without_a_form(user: User, link):  # R16
    await user.open("/activate/nothing-like-a-real-token")
    await user.should_see("This link does not work")
    await user.should_not_see("Confirm password")
    await user.should_not_see("Send me a new link")


async def test_an_expired_link_offers_a_new_one_to_the_same_address(
    user: User, link, ui_engine
):  # R16
    token, address, _member = link
    with Session(ui_engine, expire_on_commit=False) as session:
        invitation = session.scalars(select(Invitation)).one()
        expired = invitation.created_at - timedelta(minutes=1)
        session.execute(update(Invitation).values(expires_at=expired))
        session.commit()
    await user.open(f"/activate/{token}")
    await user.should_see("This link has expired")
    await user.should_not_see(address)
    user.find("Send me a new link").click()
    await user.should_see("A new link is on its way", retries=100)
    with Session(ui_engine, expire_on_commit=False) as session:
        newest = invitations.outstanding(session, invitation.email_id)
        assert newest is not None and newest.address == address and newest.id != invitation.id


async def test_a_second_new_link_within_the_hour_is_refused_politely(
    user: User, link, ui_engine, ui_settings
):  # R16
    token, _address, member = link
    with Session(ui_engine, expire_on_commit=False) as session:
        invitation = session.scalars(select(Invitation)).one()
        invitations.send_invitation(session, ui_settings, invitation.email_id, actor_for(member))
        invitations.request_new_link(session, ui_settings, token)
        session.commit()
    await user.open(f"/activate/{token}")
    await user.should_see("This link was replaced")
    user.find("Send me a new link").click()
    await user.should_see("less than an hour ago", retries=100)


async def test_a_used_link_says_so_and_points_to_sign_in(user: User, link, ui_engine, ui_settings):
    # R16
    token, _address, _member = link
    with Session(ui_engine, expire_on_commit=False) as session:
        invitations.activate(session, ui_settings, token, CLIENT_PASSWORD)
        session.commit()
    await user.open(f"/activate/{token}")
    await user.should_see("This link was already used")
    await user.should_see("Sign in to the portal")
    await user.should_not_see("Confirm password")
    await user.should_not_see("Send me a new link")


async def test_the_page_speaks_the_contacts_language(user: User, link, ui_engine) -> None:
    # R31a
    token, address, _member = link
    with Session(ui_engine) as session:
        email = session.scalars(select(ContactEmail).where(ContactEmail.address == address)).one()
        session.get(Contact, email.contact_id).language = "fr"
        session.commit()
    await user.open(f"/activate/{token}")
    await user.should_see(translator("fr")("Activate your client portal access"))
    await user.should_see(translator("fr")("Confirm password"))


async def test_a_head_request_on_the_link_answers_like_get_and_consumes_nothing(
    user: User, link, ui_engine
):  # R15: link checkers and mail scanners send HEAD
    token, address, _member = link
    answer = await user.http_client.head(f"/activate/{token}")
    assert answer.status_code == 200 and answer.content == b""
    assert answer.headers["content-type"].startswith("text/html")
    await user.open(f"/activate/{token}")
    await user.should_see(address)  # the link still works
