"""What clients meet, in real Chromium against `portal-ui serve`: the invitation email, the
activation page, the portal and its switcher (R8, R11, R14-R18, R31)."""

from __future__ import annotations

import re
import urllib.request
from datetime import timedelta

from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select, update
from sqlmodel import Session

from portal_ui import access_rows, contacts, invitations, staff
from portal_ui.clock import utcnow
from portal_ui.config import Settings
from portal_ui.models import Invitation
from tests.clients import CLIENT_PASSWORD, activated_client
from tests.e2e.conftest import STAFF_EMAIL, activation_link, screenshot
from tests.factories import actor_for, emails_of, make_account, make_member

CLIENT = "nora.fields@example.com"
NEW_PASSWORD = "Green-Lantern-Walks-19"
RESET_LINK = re.compile(r"https?://\S+/portal/reset/[A-Za-z0-9_\-]+")


def _token(link: str) -> str:
    return link.rsplit("/", 1)[1]


def set_password(page: Page, password: str = CLIENT_PASSWORD) -> None:
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Confirm password", exact=True).fill(password)


def sign_in_client(page: Page, url: str, address: str, next_path: str = "/portal") -> None:
    page.goto(f"{url}/portal/login")
    page.get_by_label("Email").fill(address)
    page.get_by_label("Password", exact=True).fill(CLIENT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{next_path}*")


def test_staff_invites_and_the_client_activates_from_the_email(
    start_portal, page: Page, context: BrowserContext
) -> None:  # R9 R15 R17 R18 R19
    ids: dict[str, int] = {}

    def arrange(session: Session, settings: Settings) -> None:
        member = staff.member_by_email(session, STAFF_EMAIL)
        account = contacts.create_account(session, "Harbour Bakery")
        contact = contacts.create_contact(session, settings, "Nora Fields", addresses=[CLIENT])
        contacts.link_contact(session, account.id, contact.id)
        contacts.assign_members(session, account.id, [member.id])
        ids["account"] = account.id

    portal = start_portal(arrange)
    portal.sign_in_staff(page, f"/clients/{ids['account']}/info")
    row = page.locator(f'[data-testid=access-row][data-email="{CLIENT}"]')
    row.get_by_test_id("switch-login").click()
    page.get_by_label("Personalized message").fill("Welcome aboard, Nora!")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(row.get_by_test_id("access-state")).to_have_attribute("data-state", "pending")

    email = portal.mail.wait_for(CLIENT)[0]
    link = activation_link(email)
    # An email scanner fetches the link before the client does: that must not burn it (R15).
    for _ in range(2):
        with urllib.request.urlopen(link, timeout=10) as scanned:
            assert scanned.status == 200

    client = context.browser.new_context(viewport={"width": 1280, "height": 860})
    client_page = client.new_page()
    client_page.goto(link)
    expect(client_page.get_by_text("Harbour Bakery")).to_be_visible()
    expect(client_page.get_by_text(CLIENT)).to_be_visible()
    screenshot(client_page, "activation-page")
    set_password(client_page, "short")
    expect(client_page.locator("li[data-state=broken]").first).to_be_visible()
    client_page.wait_for_timeout(400)  # let the fields' floating labels settle for the picture
    screenshot(client_page, "activation-page-policy")
    set_password(client_page)
    client_page.get_by_role("button", name="Activate", exact=True).click()
    client_page.wait_for_url("**/portal*")
    expect(client_page.get_by_role("heading", name="Harbour Bakery")).to_be_visible()
    expect(client_page.get_by_test_id("account-switcher")).to_be_visible()
    screenshot(client_page, "portal-home")

    # The staff page, still open, turns green by itself (R7, R17).
    expect(row.get_by_test_id("access-state")).to_have_attribute("data-state", "active")
    expect(page.get_by_test_id("account-status").first).to_have_attribute(
        "data-status", "activated"
    )
    # The assigned team member is told by email too (R18).
    signup = portal.mail.wait_for(STAFF_EMAIL)[0]
    assert f"/clients/{ids['account']}/info" in signup.get_body(("plain",)).get_content()
    client.close()


def test_a_client_on_two_accounts_switches_between_them(start_portal, page: Page) -> None:
    # R8 R31
    ids: dict[str, int] = {}

    def arrange(session: Session, settings: Settings) -> None:
        member = make_member(session)
        alpha = make_account(session, settings, "Alpha Bakery")
        beta = make_account(session, settings, "Beta Holdings")
        email, _user = activated_client(session, settings, member, [alpha, beta])
        ids.update(alpha=alpha.id, beta=beta.id)
        ids["address"] = email.address  # type: ignore[assignment]

    portal = start_portal(arrange)
    page.goto(f"{portal.url}/portal")
    page.wait_for_url("**/portal/login*")
    screenshot(page, "portal-login")
    sign_in_client(page, portal.url, str(ids["address"]))
    expect(page.get_by_role("heading", name="Alpha Bakery")).to_be_visible()
    page.get_by_test_id("account-switcher").click()
    page.get_by_role("option", name="Beta Holdings").click()
    page.wait_for_url(f"**/portal?account={ids['beta']}")
    expect(page.get_by_role("heading", name="Beta Holdings")).to_be_visible()
    expect(page.get_by_test_id("account-switcher")).to_contain_text("Beta Holdings")
    page.reload()
    expect(page.get_by_role("heading", name="Beta Holdings")).to_be_visible()


def test_a_client_cannot_open_another_clients_account_by_url(start_portal, page: Page) -> None:
    # R8
    ids: dict[str, object] = {}

    def arrange(session: Session, settings: Settings) -> None:
        member = make_member(session)
        mine = make_account(session, settings, "Alpha Bakery")
        theirs = make_account(session, settings, "Secret Holdings")
        email, _user = activated_client(session, settings, member, [mine])
        activated_client(session, settings, member, [theirs])
        ids.update(address=email.address, theirs=theirs.id)

    portal = start_portal(arrange)
    sign_in_client(page, portal.url, str(ids["address"]))
    page.goto(f"{portal.url}/portal?account={ids['theirs']}")
    expect(page.get_by_text("That account is not available")).to_be_visible()
    expect(page.get_by_role("heading", name="Alpha Bakery")).to_be_visible()
    expect(page.get_by_text("Secret Holdings")).to_have_count(0)


def test_links_that_no_longer_work_say_why(start_portal, page: Page) -> None:  # R14 R16
    links: dict[str, str] = {}

    def arrange(session: Session, settings: Settings) -> None:
        member = make_member(session)
        actor = actor_for(member)
        account = make_account(session, settings, "Harbour Bakery", contacts_count=4)
        superseded, cancelled, expired, used = emails_of(session, account)
        for name, email in zip(
            ("superseded", "cancelled", "expired", "used"),
            (superseded, cancelled, expired, used),
            strict=True,
        ):
            issued = access_rows.set_login(
                session, settings, account.id, email.id, True, actor, send_invitation=True
            )
            links[name] = issued.link
            links[f"{name}-address"] = email.address
        invitations.send_invitation(session, settings, superseded.id, actor)
        invitations.cancel_invitation(session, cancelled.id, actor)
        invitations.activate(session, settings, _token(links["used"]), CLIENT_PASSWORD)

    portal = start_portal(arrange)
    with portal.session() as session:
        past = utcnow() - timedelta(minutes=1)
        address = links["expired-address"]
        session.execute(
            update(Invitation).where(Invitation.address == address).values(expires_at=past)
        )
        session.commit()
    expected = {
        "superseded": ("This link was replaced", True),
        "cancelled": ("This invitation was cancelled", False),
        "expired": ("This link has expired", True),
        "used": ("This link was already used", False),
    }
    for name, (title, renewable) in expected.items():
        page.goto(links[name])
        expect(page.get_by_role("heading", name=title)).to_be_visible()
        expect(page.get_by_label("Confirm password")).to_have_count(0)
        offer = page.get_by_role("button", name="Send me a new link")
        expect(offer).to_have_count(1 if renewable else 0)
        if name == "expired":
            screenshot(page, "activation-expired")
    page.goto(f"{portal.url}/activate/nonsense")
    expect(page.get_by_role("heading", name="This link does not work")).to_be_visible()

    # "Send me a new link" sends a fresh one to the same address, which then works (R16).
    address = links["expired-address"]
    before = len(portal.mail.to(address))
    page.goto(links["expired"])
    page.get_by_role("button", name="Send me a new link").click()
    expect(page.get_by_text("A new link is on its way")).to_be_visible()
    fresh = activation_link(portal.mail.wait_for(address, count=before + 1)[-1])
    assert fresh != links["expired"]
    page.goto(fresh)
    expect(page.get_by_role("button", name="Activate", exact=True)).to_be_visible()


def test_a_client_invites_someone_who_shows_as_invited_by_the_client(
    start_portal, page: Page
) -> None:  # R20 R31
    ids: dict[str, object] = {}

    def arrange(session: Session, settings: Settings) -> None:
        member = make_member(session)
        account = make_account(session, settings, "Alpha Bakery")
        email, user = activated_client(session, settings, member, [account])
        ids.update(address=email.address, user=user.id)

    portal = start_portal(arrange)
    sign_in_client(page, portal.url, str(ids["address"]))
    page.get_by_label("Name").fill("Dana Lee")
    page.get_by_role("textbox", name="Email").fill("dana.lee@example.com")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("We sent an email to dana.lee@example.com.")).to_be_visible()  # R37
    invitation = portal.mail.wait_for("dana.lee@example.com")[0]
    assert "/activate/" in invitation.get_body(("plain",)).get_content()
    with portal.session() as session:
        query = select(Invitation).where(Invitation.address == "dana.lee@example.com")
        found = session.scalars(query).one()
        assert found.invited_by_portal_user_id == ids["user"]


def test_a_client_who_forgot_the_password_sets_a_new_one_from_the_email(
    start_portal, page: Page
) -> None:  # R8 R15 R17
    ids: dict[str, str] = {}

    def arrange(session: Session, settings: Settings) -> None:
        account = make_account(session, settings, "Alpha Bakery")
        email, _user = activated_client(session, settings, make_member(session), [account])
        ids["address"] = email.address

    portal = start_portal(arrange)
    address = ids["address"]
    before = len(portal.mail.to(address))
    page.goto(f"{portal.url}/portal/login")
    page.get_by_role("link", name="Forgot password?").click()
    page.get_by_label("Email").fill(address)
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_text("is on its way")).to_be_visible()
    message = portal.mail.wait_for(address, count=before + 1)[-1]
    found = RESET_LINK.search(message.get_body(("plain",)).get_content())
    assert found, "the email carries no reset link"
    page.goto(found.group(0))
    screenshot(page, "password-reset")
    set_password(page, NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    page.wait_for_url("**/portal/login?reason=password-changed")
    expect(page.get_by_text("Your password was changed.")).to_be_visible()
    page.get_by_label("Email").fill(address)
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Alpha Bakery")).to_be_visible()
    page.goto(found.group(0))
    expect(page.get_by_role("heading", name="This link was already used")).to_be_visible()
