"""The Pending activation tab in real Chromium against `portal-ui serve`: who waits, an invalid
address flagged, "Resend to selected" and "Cancel invites to selected" (R16, R21, R22, R22a)."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select
from sqlmodel import Session

from portal_ui import access_rows, contacts, invitations, staff
from portal_ui.clock import utcnow
from portal_ui.config import Settings
from portal_ui.models import ContactEmail
from tests.e2e.conftest import STAFF_EMAIL, activation_link, screenshot
from tests.factories import actor_for

ANN = "ann.invited@example.com"  # invited before the test
BOB = "bob.waiting@example.com"  # Login on, never invited
CY = "cy@@example.com"  # Login on, invalid address


def _waiting_people(session: Session, settings: Settings) -> None:
    member = staff.member_by_email(session, STAFF_EMAIL)
    assert member is not None
    actor = actor_for(member)
    cafe = contacts.create_account(session, "Harbour Cafe")
    bakery = contacts.create_account(session, "Harbour Bakery")
    for name, address, accounts in (("Ann Invited", ANN, (cafe, bakery)),
                                    ("Bob Waiting", BOB, (cafe,)),
                                    ("Cy Typo", CY, (bakery,))):  # fmt: skip
        contact = contacts.create_contact(session, settings, name, addresses=[address])
        for account in accounts:
            contacts.link_contact(session, account.id, contact.id)
    session.flush()
    for account, address in ((cafe, ANN), (bakery, ANN), (cafe, BOB), (bakery, CY)):
        email_id = session.scalars(
            select(ContactEmail.id).where(ContactEmail.address == address)
        ).one()
        access_rows.set_login(
            session, settings, account.id, email_id, True, actor,
            send_invitation=address == ANN and account is bakery,
        )  # fmt: skip


def _row(page: Page, address: str) -> Locator:
    return page.get_by_role("row").filter(has_text=address)


def test_resend_and_cancel_from_the_pending_tab(start_portal, page, context) -> None:
    # R21, R22, R22a, R16
    portal = start_portal(arrange=_waiting_people)
    ann_link = activation_link(portal.mail.wait_for(ANN)[0])
    portal.sign_in_staff(page, "/clients/accounts")
    page.get_by_role("tab", name="Pending activation").click()
    page.wait_for_url("**/clients/accounts/pending")

    expect(_row(page, ANN)).to_contain_text("Harbour Bakery")
    expect(_row(page, ANN)).to_contain_text("Harbour Cafe")
    expect(_row(page, ANN)).to_contain_text("Erin Staff")
    expect(_row(page, ANN)).to_contain_text("Sent")  # delivered by the outbox (R22a)
    expect(_row(page, CY).get_by_test_id("invalid-email")).to_be_visible()
    expect(_row(page, CY)).to_contain_text("Invalid address")
    expect(_row(page, ANN).get_by_test_id("invalid-email")).to_have_count(0)
    expect(_row(page, BOB)).to_contain_text("Invite not sent")
    screenshot(page, "pending-activation")

    _row(page, BOB).get_by_role("checkbox").click()
    _row(page, CY).get_by_role("checkbox").click()
    page.get_by_role("button", name="Resend to selected").click()
    result = page.get_by_test_id("pending-result")
    expect(result).to_contain_text("1 invitation sent, 1 skipped: invalid address")
    expect(result).to_contain_text(CY)
    assert activation_link(portal.mail.wait_for(BOB)[0]).startswith(portal.url)
    expect(_row(page, BOB)).to_contain_text("Sent")
    expect(_row(page, BOB)).not_to_contain_text("Invite not sent")
    assert not portal.mail.to(CY)  # an invalid address never gets an invitation (R22)

    _row(page, ANN).get_by_role("checkbox").click()
    page.get_by_role("button", name="Cancel invites to selected").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Cancel the invitation of 1 address?")
    screenshot(page, "pending-cancel-confirm")
    dialog.get_by_role("button", name="Cancel invites", exact=True).click()
    expect(result).to_contain_text("1 invitation cancelled")
    expect(_row(page, ANN)).to_contain_text("Invite not sent")
    screenshot(page, "pending-after-cancel")

    client = context.new_page()
    client.goto(ann_link)
    expect(client.get_by_text("cancelled", exact=False).first).to_be_visible()


def _bob_invited_earlier(session: Session, settings: Settings) -> None:
    _waiting_people(session, settings)
    member = staff.member_by_email(session, STAFF_EMAIL)
    bob = session.scalars(select(ContactEmail.id).where(ContactEmail.address == BOB)).one()
    invitations.send_invitation(
        session, settings, bob, actor_for(member), now=utcnow() - timedelta(days=2)
    )


def test_invite_sent_sorts_both_ways(start_portal, page) -> None:  # R21
    portal = start_portal(arrange=_bob_invited_earlier)
    portal.sign_in_staff(page, "/clients/accounts/pending")
    header = page.get_by_role("columnheader", name="Invite sent")
    rows = page.get_by_role("row")
    header.click()
    expect(rows.nth(1)).to_contain_text(BOB)  # oldest first
    expect(rows.nth(2)).to_contain_text(ANN)
    header.click()
    expect(rows.nth(1)).to_contain_text(ANN)  # newest first
    expect(rows.nth(2)).to_contain_text(BOB)
    expect(rows.nth(3)).to_contain_text(CY)  # never invited: last both ways
