"""A team member grants portal access in bulk, in real Chromium against `portal-ui serve`:
filter Offline, select, "Edit login, notify, email sync", Send invitations, follow the job,
read the Inbox+ report, and find the invitations at the SMTP server (R7, R12, R13, R23, R24)."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select
from sqlmodel import Session

from portal_ui import access_rows, contacts, staff
from portal_ui.config import Settings
from portal_ui.models import Account
from tests.e2e.conftest import STAFF_EMAIL, activation_link, screenshot, text_of
from tests.factories import actor_for, emails_of

BAKERY = ("Harbour Bakery", ["hal.baker@example.com", "ivy.baker@example.com"])
FLORIST = ("Quay Florist", ["flo.rist@example.com"])
GARAGE = ("Pier Garage", ["gus.garage@example.com"])
MESSAGE = "Welcome aboard: your documents are waiting."


def _firm(session: Session, settings: Settings) -> None:
    """Two offline accounts (three addresses) and one already invited (Pending)."""
    for name, addresses in (BAKERY, FLORIST, GARAGE):
        account = contacts.create_account(session, name)
        for address in addresses:
            contact = contacts.create_contact(
                session, settings, address.split("@")[0].replace(".", " ").title(),
                addresses=[address],
            )  # fmt: skip
            contacts.link_contact(session, account.id, contact.id)
    session.flush()
    member = staff.member_by_email(session, STAFF_EMAIL)
    assert member is not None
    pier = session.scalars(select(Account).where(Account.name == GARAGE[0])).one()
    email = emails_of(session, pier)[0]
    access_rows.set_login(
        session, settings, pier.id, email.id, True, actor_for(member), send_invitation=True
    )


def _row(page: Page, text: str) -> Locator:
    return page.get_by_role("row").filter(has_text=text)


def test_bulk_enable_login_with_invitations_for_offline_accounts(start_portal, page) -> None:
    # R12, R13, R24, R7
    portal = start_portal(arrange=_firm)
    portal.mail.wait_for(GARAGE[1][0])  # the invitation sent before: delivered on start
    portal.sign_in_staff(page, "/clients/accounts")
    expect(_row(page, GARAGE[0]).get_by_test_id("account-status")).to_have_attribute(
        "data-status", "pending"
    )
    expect(_row(page, GARAGE[0]).get_by_test_id("account-status")).to_have_text(
        "Pending activation"
    )
    screenshot(page, "accounts-list")

    page.get_by_label("Last login").click()
    page.get_by_role("option", name="Offline").click()
    expect(_row(page, GARAGE[0])).to_have_count(0)
    expect(_row(page, BAKERY[0])).to_have_count(1)
    page.wait_for_url("**/clients/accounts?last_login=offline")

    _row(page, BAKERY[0]).get_by_role("checkbox").click()
    _row(page, FLORIST[0]).get_by_role("checkbox").click()
    expect(page.get_by_text("2 accounts selected")).to_be_visible()
    page.get_by_role("button", name="More actions").click()
    page.get_by_text("Edit login, notify, email sync").click()

    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Send invitations")).to_have_count(0)
    dialog.get_by_label("Login", exact=True).click()
    page.get_by_role("option", name="Enable for all contacts").click()
    dialog.get_by_text("Send invitations").click()
    dialog.get_by_label("Personalized message").fill(MESSAGE)
    preview = dialog.get_by_test_id("bulk-preview")
    expect(preview).to_contain_text("invitations to send")
    expect(preview.get_by_text("3", exact=True).first).to_be_visible()
    page.wait_for_timeout(500)  # the field label's animation ends before the picture
    screenshot(page, "bulk-edit-dialog")
    dialog.get_by_role("button", name="Save").click()

    progress = page.get_by_test_id("bulk-progress")
    expect(progress).to_be_visible()
    expect(progress).to_contain_text("Bulk update finished")
    expect(progress).to_contain_text("3 invitations sent")
    expect(page.get_by_test_id("inbox-count")).to_have_text("1")
    screenshot(page, "bulk-finished")

    for address in [*BAKERY[1], *FLORIST[1]]:
        message = portal.mail.wait_for(address)[0]
        assert MESSAGE in text_of(message)
        assert activation_link(message).startswith(portal.url)

    page.get_by_role("button", name="Clear filters").click()
    expect(_row(page, BAKERY[0]).get_by_test_id("account-status")).to_have_attribute(
        "data-status", "pending"
    )
    page.goto(f"{portal.url}/inbox")
    report = page.get_by_role("listitem").filter(has_text="Bulk update finished")
    expect(report).to_contain_text("Invitations sent: 3")


def test_a_filtered_view_is_a_bookmark_and_hidden_columns_are_remembered(
    start_portal, page
) -> None:  # R23, R24
    portal = start_portal(arrange=_firm)
    portal.sign_in_staff(page, "/clients/accounts?last_login=offline")
    expect(_row(page, GARAGE[0])).to_have_count(0)
    expect(page.get_by_label("Last login")).to_have_value("Offline")

    page.get_by_role("button", name="Columns").click()
    page.get_by_role("checkbox", name="Assigned to").click()
    page.keyboard.press("Escape")
    expect(page.get_by_role("columnheader", name="Assigned to")).to_have_count(0)
    page.reload()
    expect(_row(page, BAKERY[0])).to_have_count(1)
    expect(page.get_by_role("columnheader", name="Assigned to")).to_have_count(0)
    expect(page.get_by_role("columnheader", name="Contacts")).to_have_count(1)
