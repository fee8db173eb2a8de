"""Journey (2) in real Chromium against `portal-ui serve`: a team member turns Login on for one
address in the profile with a personalized message; the address shows Pending activation and
the SMTP server receives the invitation with the message as plain text (R9, R19, R22a, R25)."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlmodel import Session

from portal_ui import access_rows, activity, contacts, staff
from portal_ui.config import Settings
from portal_ui.models import ContactEmail
from tests.e2e.conftest import STAFF_EMAIL, activation_link, screenshot, text_of

NORA = "nora.fields@example.com"
NORA_WORK = "nora@fields-bakery.example.com"
OMAR = "omar.fields@example.com"
TYPO = "tom@@fields"
UMA = "uma@fields-farm.example.com"
MESSAGE = "Dear Nora, <b>welcome</b> & see you on Monday <script>alert(1)</script>"


def shot(page: Page, name: str) -> None:
    """A screenshot once menus and dialogs have finished their opening animation."""
    page.wait_for_timeout(500)
    screenshot(page, name)


def arrange_bakery(ids: dict[str, int]):
    def arrange(session: Session, settings: Settings) -> None:
        member = staff.member_by_email(session, STAFF_EMAIL)
        account = contacts.create_account(session, "Fields Bakery", is_test_client=True)
        nora = contacts.create_contact(
            session, settings, "Nora Fields", addresses=[NORA, NORA_WORK],
            phones=["+33 1 42 68 53 00"], language="fr",
        )  # fmt: skip
        omar = contacts.create_contact(session, settings, "Omar Fields", addresses=[OMAR])
        tom = contacts.create_contact(session, settings, "Tom Typo", addresses=[TYPO])
        for contact in (nora, omar, tom):
            contacts.link_contact(session, account.id, contact.id)
        contacts.assign_members(session, account.id, [member.id])
        omar_email = session.scalars(select(ContactEmail).where(ContactEmail.address == OMAR)).one()
        actor = activity.Actor(name=member.name, member_id=member.id)
        access_rows.set_login(
            session, settings, account.id, omar_email.id, True, actor, send_invitation=True
        )
        access_rows.set_switch(session, account.id, omar_email.id, "notify", True, actor)
        ids["account"] = account.id

    return arrange


def test_login_on_with_a_personalized_message_sends_the_invitation(start_portal, page: Page):
    # R9, R19, R22a, R25
    ids: dict[str, int] = {}
    portal = start_portal(arrange_bakery(ids))
    portal.sign_in_staff(page, f"/clients/{ids['account']}/info")
    row = page.locator(f'[data-testid=access-row][data-email="{NORA}"]')
    expect(row.get_by_test_id("access-state")).to_have_attribute("data-state", "no-access")
    expect(row.get_by_test_id("access-state")).to_have_text("No access")
    expect(page.get_by_test_id("account-status")).to_have_attribute("data-status", "pending")
    invalid = page.locator(f'[data-testid=access-row][data-email="{TYPO}"]')
    expect(invalid.get_by_test_id("invalid-email")).to_be_visible()
    shot(page, "profile-info")

    login = row.get_by_role("switch", name="Login")
    login.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Personalized message")).to_be_visible()
    dialog.get_by_label("Personalized message").fill(MESSAGE)
    shot(page, "profile-login-popup")
    dialog.get_by_role("button", name="Send", exact=True).click()

    state = row.get_by_test_id("access-state")
    expect(state).to_have_attribute("data-state", "pending")
    expect(state).to_contain_text("Pending activation")
    expect(state).to_contain_text("Invite sent")
    expect(login).to_have_attribute("aria-checked", "true")

    email = portal.mail.wait_for(NORA)[0]
    assert MESSAGE in text_of(email)  # plain text, as typed
    html = email.get_body(preferencelist=("html",)).get_content()
    assert "<b>welcome</b>" not in html and "<script>" not in html  # never interpreted (R19)
    assert "&lt;b&gt;welcome&lt;/b&gt;" in html
    assert activation_link(email).startswith(portal.url)
    expect(state).to_contain_text("Email: Sent", timeout=15_000)  # R22a: the delivery state
    shot(page, "profile-info-pending")


def test_later_leaves_the_address_pending_without_an_email(start_portal, page: Page):
    # R9
    ids: dict[str, int] = {}
    portal = start_portal(arrange_bakery(ids))
    portal.sign_in_staff(page, f"/clients/{ids['account']}/info")
    row = page.locator(f'[data-testid=access-row][data-email="{NORA_WORK}"]')
    row.get_by_test_id("switch-login").click()
    page.get_by_role("button", name="Later", exact=True).click()

    state = row.get_by_test_id("access-state")
    expect(state).to_have_attribute("data-state", "pending")
    expect(state).to_contain_text("invite not sent")
    assert portal.mail.to(NORA_WORK) == []


def test_escape_closes_the_pop_up_and_login_stays_off(start_portal, page: Page):
    # R9, keyboard
    ids: dict[str, int] = {}
    portal = start_portal(arrange_bakery(ids))
    portal.sign_in_staff(page, f"/clients/{ids['account']}/info")
    row = page.locator(f'[data-testid=access-row][data-email="{NORA_WORK}"]')
    login = row.get_by_role("switch", name="Login")
    login.focus()
    page.keyboard.press("Space")
    expect(page.get_by_label("Personalized message")).to_be_visible()
    page.keyboard.press("Escape")

    expect(page.get_by_label("Personalized message")).to_be_hidden()
    expect(login).to_have_attribute("aria-checked", "false")
    expect(row.get_by_test_id("access-state")).to_have_attribute("data-state", "no-access")


def test_row_menu_preferences_history_and_change_address(start_portal, page: Page):
    # R3, R25, R27, R27a
    ids: dict[str, int] = {}
    portal = start_portal(arrange_bakery(ids))
    portal.sign_in_staff(page, f"/clients/{ids['account']}/info")
    row = page.locator(f'[data-testid=access-row][data-email="{OMAR}"]')

    row.get_by_test_id("row-menu").click()
    expect(page.get_by_role("menuitem", name="Resend invitation")).to_be_visible()
    expect(page.get_by_role("menuitem", name="Cancel invitation")).to_be_visible()
    shot(page, "profile-row-menu")
    page.get_by_role("menuitem", name="Notification preferences").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("checkbox", name="Proposals")).to_be_checked()  # R3
    proposals = dialog.get_by_role("checkbox", name="Proposals")
    proposals.click()
    expect(proposals).not_to_be_checked()
    shot(page, "profile-preferences")
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Notification preferences saved")).to_be_visible()

    row.get_by_test_id("row-menu").click()
    page.get_by_role("menuitem", name="Invitation history").click()
    history = page.get_by_role("dialog")
    expect(history.get_by_text("Invitation sent")).to_be_visible()
    expect(history.get_by_text("by Erin Staff").first).to_be_visible()
    shot(page, "profile-invitation-history")
    history.get_by_role("button", name="Close").click()

    row.get_by_test_id("row-menu").click()
    page.get_by_role("menuitem", name="Change address").click()
    field = page.get_by_label("New email address")
    field.fill(NORA)
    page.get_by_role("button", name="Save").click()
    taken = "This email address already belongs to another contact."
    expect(page.get_by_text(taken)).to_be_visible()
    shot(page, "profile-change-address-error")
    field.fill("omar@fields-bakery.example.com")
    page.get_by_role("button", name="Save").click()

    moved = page.locator('[data-testid=access-row][data-email="omar@fields-bakery.example.com"]')
    expect(moved.get_by_test_id("access-state")).to_have_attribute("data-state", "pending")
    portal.mail.wait_for("omar@fields-bakery.example.com")  # R27: the invitation follows


def test_the_dev_mailbox_shows_the_invitation_safely(start_portal, page: Page):
    # CONTRACT.md /dev/mailbox, R19: with no SMTP host the embedded server keeps the mail
    ids: dict[str, int] = {}
    portal = start_portal(arrange_bakery(ids), PORTAL_SMTP_HOST="")
    said = portal.log.read_text()  # at start-up: where it listens, and that the mail stays
    assert f"Portal UI listens on {portal.url}\n" in said
    assert "No PORTAL_SMTP_HOST: no email leaves this machine." in said
    assert f"kept in the mailbox at {portal.url}/dev/mailbox " in said
    portal.sign_in_staff(page, f"/clients/{ids['account']}/info")
    row = page.locator(f'[data-testid=access-row][data-email="{NORA}"]')
    row.get_by_test_id("switch-login").click()
    page.get_by_label("Personalized message").fill(MESSAGE)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(row.get_by_test_id("access-state")).to_contain_text("Email: Sent", timeout=15_000)

    alerts: list[str] = []
    page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
    page.goto(f"{portal.url}/dev/mailbox")
    expect(page.get_by_role("heading", name="Mailbox")).to_be_visible()
    newest = page.get_by_role("navigation", name="Messages").get_by_role("listitem").first
    expect(newest).to_contain_text(f"To: {NORA}")
    frame = page.frame_locator("iframe")
    expect(frame.get_by_text("Dear Nora, <b>welcome</b>", exact=False)).to_be_visible()
    shot(page, "dev-mailbox")
    assert alerts == []  # the message's script never ran
    link = page.get_by_role("link", name=f"{portal.url}/activate/")
    expect(link).to_be_visible()
    link.click()
    expect(page.get_by_text("Fields Bakery")).to_be_visible()


def test_create_a_contact_and_link_an_existing_one(start_portal, page: Page):
    # R1, R26
    ids: dict[str, int] = {}
    base = arrange_bakery(ids)

    def arrange(session: Session, settings: Settings) -> None:
        base(session, settings)
        other = contacts.create_account(session, "Fields Farm")
        uma = contacts.create_contact(session, settings, "Uma Shared", addresses=[UMA])
        contacts.link_contact(session, other.id, uma.id)

    portal = start_portal(arrange)
    portal.sign_in_staff(page, f"/clients/{ids['account']}/info")
    page.get_by_role("button", name="New contact").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("Paul Fields")
    dialog.get_by_label("Email address").fill(NORA)
    dialog.get_by_label("Phone").fill("+33 6 12 34 56 78")
    dialog.get_by_role("button", name="Create and link").click()
    expect(dialog.get_by_text("already belongs to another contact")).to_be_visible()
    shot(page, "profile-new-contact-error")
    dialog.get_by_label("Email address").fill("paul@fields-bakery.example.com")
    dialog.get_by_role("button", name="Create and link").click()
    expect(page.locator('[data-email="paul@fields-bakery.example.com"]')).to_be_visible()

    page.get_by_role("button", name="Link existing contact").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Search by name or email address").fill("uma")
    expect(dialog.get_by_text("Uma Shared")).to_be_visible()
    shot(page, "profile-link-contact")
    dialog.get_by_role("button", name="Link Uma Shared").click()
    expect(page.locator(f'[data-testid=access-row][data-email="{UMA}"]')).to_be_visible()
