"""Inbox+ (/inbox): R13, R18, R29."""

from __future__ import annotations

from datetime import timedelta

from nicegui import ui
from nicegui.testing import User
from sqlalchemy import Engine, select
from sqlmodel import Session

from portal_ui import activity, staff
from portal_ui.clock import utcnow
from portal_ui.config import Settings
from portal_ui.models import InboxNotification
from tests.ui.conftest import STAFF_EMAIL
from tests.ui.staff_session import arrange, see, sign_in, until


def alice_id(session: Session) -> int:
    member = staff.member_by_email(session, STAFF_EMAIL)
    assert member is not None
    return member.id or 0


def two_notifications(session: Session, settings: Settings) -> None:
    member_id = alice_id(session)
    earlier = utcnow() - timedelta(hours=2)
    activity.notify_member(
        session, member_id, "client_signup", link="/clients/7/info", now=earlier,
        address="anna@example.com", account_name="Harbour Bakery",
    )  # fmt: skip
    activity.notify_member(
        session, member_id, "bulk_report", link="/clients/accounts",
        accounts=3, rows_changed=5, invitations_sent=2,
        errors=[{"address": "tina@@typo", "reason": "The address is invalid."}],
    )  # fmt: skip


def items(user: User) -> list[ui.element]:
    """The items as shown, top to bottom (elements are numbered in creation order)."""
    return sorted(user.find(marker="inbox-item").elements, key=lambda element: element.id)


def badge(user: User) -> ui.badge:
    """The header's unread badge, shown or hidden."""
    assert user.client is not None
    (found,) = [
        element
        for element in user.client.layout.descendants()
        if element.props.get("data-testid") == "inbox-count"
    ]
    return found


def unread_in_db(engine: Engine) -> int:
    with Session(engine) as session:
        return activity.unread_count(session, alice_id(session))


async def test_items_are_newest_first_with_unread_ones_marked(user, ui_engine, ui_settings):
    # R29, R13, R18
    arrange(ui_engine, ui_settings, two_notifications)
    await sign_in(user, "/inbox")

    await see(user, "Bulk update finished")
    first, second = items(user)
    assert "unread" in first._markers and "unread" in second._markers
    with user.scope(marker=" ".join(first._markers)):
        await see(user, "Accounts: 3 · Access rows changed: 5 · Invitations sent: 2")
        await see(user, "tina@@typo: The address is invalid.")
    with user.scope(marker=" ".join(second._markers)):
        await see(user, "anna@example.com activated their portal access")
        await see(user, "Account: Harbour Bakery")
        await see(user, "Go to")
    assert badge(user).text == "2" and badge(user).visible


async def test_mark_one_as_read_updates_the_item_and_the_badge(user, ui_engine, ui_settings):
    # R29
    arrange(ui_engine, ui_settings, two_notifications)
    await sign_in(user, "/inbox")
    await see(user, "2 unread")
    first = items(user)[0]
    with user.scope(marker=" ".join(first._markers)):
        user.find(marker="mark-read").click()

    await see(user, "1 unread")
    await until(lambda: badge(user).text == "1")
    assert unread_in_db(ui_engine) == 1
    assert [("read" in item._markers) for item in items(user)] == [True, False]


async def test_mark_all_as_read_hides_the_badge(user, ui_engine, ui_settings):
    # R29
    arrange(ui_engine, ui_settings, two_notifications)
    await sign_in(user, "/inbox")
    await see(user, "2 unread")
    user.find(marker="mark-all-read").click()

    await see(user, "Everything is read.")
    await until(lambda: not badge(user).visible)
    assert unread_in_db(ui_engine) == 0


async def test_a_new_notification_appears_without_reload(user, ui_engine, ui_settings):
    # R29: live, no polling
    await sign_in(user, "/inbox")
    await see(user, "No notifications yet.")
    with Session(ui_engine) as session:
        activity.notify_member(
            session, alice_id(session), "client_signup", link="/clients/1/info",
            address="new@example.com", account_name="Fresh Co",
        )  # fmt: skip
        session.commit()

    await see(user, "new@example.com activated their portal access")
    await until(lambda: badge(user).text == "1" and badge(user).visible)


async def test_go_to_links_to_the_client_profile_and_marks_the_item_read(
    user, ui_engine, ui_settings
):
    # R18, R29
    arrange(ui_engine, ui_settings, two_notifications)
    await sign_in(user, "/inbox")
    await see(user, "Go to")
    links = {link.props["href"]: link for link in user.find(kind=ui.link, content="Go to").elements}
    assert set(links) == {"/clients/7/info", "/clients/accounts"}
    with user:
        links["/clients/7/info"].mark("go-to-signup")
    user.find(marker="go-to-signup").trigger("click")

    await until(lambda: unread_in_db(ui_engine) == 1)
    with Session(ui_engine) as session:
        query = select(InboxNotification).where(InboxNotification.kind == "client_signup")
        signup = session.scalars(query).one()
    assert signup.read_at is not None
