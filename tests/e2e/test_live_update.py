"""Journey (4) in real Chromium: a second browser sees a change made in the first without a
reload (pages follow committed changes, no polling)."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page, expect
from sqlmodel import Session

from portal_ui import activity, contacts, staff
from portal_ui.config import Settings
from tests.e2e.conftest import STAFF_EMAIL, screenshot

ADDRESS = "lena.marsh@example.com"


def shot(page: Page, name: str) -> None:
    """A screenshot once menus and dialogs have finished their opening animation."""
    page.wait_for_timeout(500)
    screenshot(page, name)


def test_a_second_browser_sees_changes_without_reload(
    start_portal, page: Page, context: BrowserContext
):
    # R6, R25, R30
    ids: dict[str, int] = {}

    def arrange(session: Session, settings: Settings) -> None:
        account = contacts.create_account(session, "Marsh Studio")
        contact = contacts.create_contact(session, settings, "Lena Marsh", addresses=[ADDRESS])
        contacts.link_contact(session, account.id, contact.id)
        ids["account"] = account.id

    portal = start_portal(arrange)
    profile = f"/clients/{ids['account']}/info"
    portal.sign_in_staff(page, profile)
    other = context.browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    watcher = other.new_page()
    portal.sign_in_staff(watcher, profile)
    watched_row = watcher.locator(f'[data-testid=access-row][data-email="{ADDRESS}"]')
    expect(watched_row.get_by_test_id("access-state")).to_have_attribute("data-state", "no-access")
    reloads: list[str] = []
    watcher.on("framenavigated", lambda frame: reloads.append(frame.url))

    row = page.locator(f'[data-testid=access-row][data-email="{ADDRESS}"]')
    row.get_by_test_id("switch-login").click()
    page.get_by_role("button", name="Later", exact=True).click()
    row.get_by_role("switch", name="Email sync").click()

    state = watched_row.get_by_test_id("access-state")
    expect(state).to_have_attribute("data-state", "pending")
    expect(state).to_contain_text("invite not sent")
    expect(watched_row.get_by_role("switch", name="Login")).to_have_attribute(
        "aria-checked", "true"
    )
    expect(watched_row.get_by_role("switch", name="Email sync")).to_have_attribute(
        "aria-checked", "true"
    )
    assert reloads == []  # no reload happened
    shot(watcher, "live-update-second-browser")

    # The activity feed follows too.
    watcher.goto(f"{portal.url}/activity")
    expect(watcher.get_by_text("Email sync turned on")).to_be_visible()
    row.get_by_role("switch", name="Signatory").click()
    expect(watcher.get_by_text("Signatory turned on")).to_be_visible()
    shot(watcher, "activity-feed")
    other.close()


def test_the_inbox_badge_follows_another_browser(start_portal, page: Page, context: BrowserContext):
    # R29: the unread count in the header, live
    def arrange(session: Session, settings: Settings) -> None:
        member_id = staff.member_by_email(session, STAFF_EMAIL).id
        for address, account in (("ana@example.com", "Alder Ltd"), ("ben@example.com", "Birch")):
            activity.notify_member(
                session, member_id, "client_signup", link="/clients/accounts",
                address=address, account_name=account,
            )  # fmt: skip
        activity.notify_member(
            session, member_id, "bulk_report", link="/clients/accounts", accounts=12,
            rows_changed=20, invitations_sent=9,
            errors=[{"address": "tom@@fields", "reason": "The address is invalid."}],
        )  # fmt: skip

    portal = start_portal(arrange)
    portal.sign_in_staff(page, "/inbox")
    other = context.browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    watcher = other.new_page()
    portal.sign_in_staff(watcher, "/clients/accounts")
    badge = watcher.get_by_test_id("inbox-count")
    expect(badge).to_have_text("3")
    expect(page.get_by_text("Bulk update finished")).to_be_visible()
    shot(page, "inbox")

    page.get_by_role("button", name="Mark as read: Bulk update finished").click()
    expect(badge).to_have_text("2")
    page.get_by_role("button", name="Mark all as read").click()
    expect(badge).to_be_hidden()
    shot(page, "inbox-all-read")
    other.close()
