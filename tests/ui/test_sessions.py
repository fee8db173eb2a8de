"""Sessions as a browser meets them (R34, R35): a new cookie at every sign-in, sign-out and
deactivation reaching pages already open, and a dead session's action changing nothing."""

from __future__ import annotations

from datetime import timedelta

from nicegui import ui
from nicegui.testing import User
from sqlalchemy import select
from sqlmodel import Session

from portal_ui import contacts, sessions, staff
from portal_ui.models import AccessRow, Contact, ContactEmail
from tests.clients import CLIENT_PASSWORD, activated_client
from tests.factories import make_account, make_member
from tests.ui.conftest import STAFF_EMAIL
from tests.ui.staff_session import arrange, see, sign_in
from web import runtime
from web.sessions import COOKIE

IDLE = timedelta(hours=12)
BOB = "bob@bakery.example.com"


def bakery(session: Session, settings) -> int:
    account = contacts.create_account(session, "Harbour Bakery")
    bob = contacts.create_contact(session, settings, "Bob Baker", addresses=[BOB])
    contacts.link_contact(session, account.id, bob.id)
    return account.id


def notify_of(engine, address: str) -> bool:
    with Session(engine) as session:
        query = select(AccessRow.notify).join(ContactEmail).where(ContactEmail.address == address)
        return session.scalars(query).one()


def end_sessions_of_staff(engine) -> None:
    """What Sign out in another tab does: every session of the member ends."""
    with Session(engine) as session:
        member = staff.member_by_email(session, STAFF_EMAIL)
        sessions.end_person(session, member_id=member.id)
        session.commit()


async def test_a_cookie_copied_from_before_sign_in_never_signs_in(
    user: User, create_user
) -> None:  # R34 (session fixation)
    await user.open("/login")
    before = dict(user.http_client.cookies)
    attacker = create_user()
    attacker.http_client.cookies.update(before)
    await sign_in(user, "/clients/accounts")
    session_cookie = user.http_client.cookies.get(COOKIE)
    assert session_cookie and session_cookie not in before.values()
    answer = await attacker.http_client.get("/clients/accounts", follow_redirects=False)
    assert answer.is_redirect and answer.headers["location"].startswith("/login")


async def test_the_session_cookie_is_http_only_and_same_site_lax(user: User) -> None:  # R36
    await sign_in(user, "/clients/accounts")
    (cookie,) = [c for c in user.http_client.cookies.jar if c.name == COOKIE]
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert cookie.get_nonstandard_attr("SameSite", "").lower() == "lax"
    assert not cookie.secure  # PORTAL_BASE_URL is http here


async def test_sign_out_ends_the_session_on_the_server(user: User, ui_engine) -> None:  # R34
    await sign_in(user, "/clients/accounts")
    token = user.http_client.cookies.get(COOKIE)
    user.find("Sign out").click()
    await see(user, "Team sign-in")
    with Session(ui_engine) as session:
        assert sessions.current(session, token, IDLE) is None


async def test_after_sign_out_elsewhere_an_open_page_changes_nothing(
    user: User, ui_engine, ui_settings
) -> None:  # R34
    account_id = arrange(ui_engine, ui_settings, bakery)
    await sign_in(user, f"/clients/{account_id}/info")
    await see(user, "Harbour Bakery")
    end_sessions_of_staff(ui_engine)
    with user.scope(marker=f"email:{BOB}"):
        user.find(marker="switch-notify").click()
    await see(user, "Team sign-in")
    assert notify_of(ui_engine, BOB) is False


async def test_a_deactivated_member_s_open_page_changes_nothing(
    user: User, ui_engine, ui_settings
) -> None:  # R34
    account_id = arrange(ui_engine, ui_settings, bakery)
    await sign_in(user, f"/clients/{account_id}/info")
    await see(user, "Harbour Bakery")
    with Session(ui_engine) as session:
        staff.deactivate(session, STAFF_EMAIL)
        session.commit()
    with user.scope(marker=f"email:{BOB}"):
        user.find(marker="switch-notify").click()
    await see(user, "Team sign-in")
    assert notify_of(ui_engine, BOB) is False


async def test_after_sign_in_the_page_asked_for_opens(user: User, ui_engine, ui_settings) -> None:
    # R35
    account_id = arrange(ui_engine, ui_settings, bakery)
    await sign_in(user, f"/clients/{account_id}/info")
    await see(user, "Harbour Bakery")


async def test_a_next_that_leaves_the_site_lands_on_the_home_page(user: User) -> None:  # R35
    await user.open("/login?next=/%09/evil.example/phish")
    user.find("Email").type(STAFF_EMAIL)
    user.find("Password").type("Quiet-Harbour-42")
    user.find("Sign in").click()
    await see(user, "Accounts")
    assert user.back_history[-1].endswith("next=%2Fclients%2Faccounts")


async def test_a_portal_page_after_sign_out_elsewhere_invites_nobody(
    user: User, ui_engine, ui_settings
) -> None:  # R34
    with Session(ui_engine, expire_on_commit=False) as session:
        member = make_member(session)
        email, client = activated_client(
            session, ui_settings, member, [make_account(session, ui_settings, "Alpha Ltd")]
        )
        session.commit()
    await user.open("/portal/login")
    user.find("Email").type(email.address)
    user.find("Password").type(CLIENT_PASSWORD)
    user.find(kind=ui.button, content="Sign in").click()
    await see(user, "Invite someone")
    with Session(ui_engine) as session:
        sessions.end_person(session, portal_user_id=client.id)
        session.commit()
    user.find("Name").type("Mallory")
    user.find(kind=ui.input, content="Email").type("mallory@example.com")
    user.find(kind=ui.button, content="Send invitation").click()
    await see(user, "Your session has ended")
    with Session(ui_engine) as session:
        assert session.scalars(select(Contact).where(Contact.name == "Mallory")).first() is None


async def test_the_session_cookie_is_secure_when_the_product_is_reached_over_https(
    user: User, ui_engine, monkeypatch
) -> None:  # R36
    await user.open("/login")
    current = runtime.current()
    https = current.settings.model_copy(update={"base_url": "https://portal.example"})
    monkeypatch.setattr(current, "settings", https)
    with Session(ui_engine) as session:
        grant = sessions.grant(session, member_id=staff.member_by_email(session, STAFF_EMAIL).id)
        session.commit()
    answer = await user.http_client.get(f"/session/begin?grant={grant}", follow_redirects=False)
    cookie = answer.headers["set-cookie"].lower()
    assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie


async def test_a_used_grant_gives_no_cookie(user: User, ui_engine) -> None:  # R34
    await user.open("/login")
    with Session(ui_engine) as session:
        grant = sessions.grant(session, member_id=staff.member_by_email(session, STAFF_EMAIL).id)
        session.commit()
    first = await user.http_client.get(f"/session/begin?grant={grant}", follow_redirects=False)
    again = await user.http_client.get(f"/session/begin?grant={grant}", follow_redirects=False)
    assert COOKIE in first.headers.get("set-cookie", "")
    assert "set-cookie" not in again.headers
    assert again.headers["location"].startswith("/login")
