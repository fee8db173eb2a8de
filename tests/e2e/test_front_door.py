"""The front door in real Chromium against a real `portal-ui serve` (R33, R35): a burst of
parallel guesses meets the limit, and no sign-in page sends the browser to another site."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page
from sqlalchemy import select

from portal_ui.models import ContactEmail, PortalUser
from tests.clients import CLIENT_PASSWORD, activated_client
from tests.e2e.conftest import STAFF_EMAIL, STAFF_PASSWORD
from tests.factories import make_account, make_member

BURST = 15
INCORRECT = "The email or password is incorrect."
TOO_MANY = "Too many attempts. Please wait and try again later."


def _fill(page: Page, url: str, email: str, password: str) -> None:
    page.goto(url)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)


def _answer(page: Page) -> str:
    """What the sign-in said, or "signed in" once the browser has left the sign-in page."""
    alert = page.get_by_role("alert")
    for _ in range(300):
        if not urlsplit(page.url).path.endswith("/login"):
            return "signed in"
        text = alert.inner_text().strip()
        if text:
            return text
        page.wait_for_timeout(100)
    raise AssertionError("no answer")


def test_a_parallel_burst_of_guesses_meets_the_limit_exactly(start_portal, context):  # R33
    portal = start_portal()
    pages = [context.new_page() for _ in range(BURST)]
    for n, page in enumerate(pages):
        password = STAFF_PASSWORD if n == BURST - 1 else f"Wrong-Guess-{n:02d}-x"
        _fill(page, f"{portal.url}/login", STAFF_EMAIL, password)
    # Every Sign in is clicked before the first password check can end (Argon2id).
    for page in pages:
        page.get_by_role("button", name="Sign in").click(no_wait_after=True)
    answers = [_answer(page) for page in pages]
    checked = [a for a in answers if a in (INCORRECT, "signed in")]
    assert len(checked) == 5, answers  # five a quarter of an hour per address and place
    assert answers.count(TOO_MANY) == BURST - 5, answers
    # The right password, last of the burst, was refused like the others: over the limit the
    # password is not even checked.
    assert answers[-1] == TOO_MANY


@pytest.mark.parametrize("character", ["%09", "%0a", "%0d", "%5c"])
def test_staff_sign_in_never_leaves_the_site(start_portal, page, character):  # R35
    portal = start_portal()
    target = f"/{character}/127.0.0.1:9/phish"
    _fill(page, f"{portal.url}/login?next={target}", STAFF_EMAIL, STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/clients/accounts")
    assert urlsplit(page.url).netloc == urlsplit(portal.url).netloc


def _client(session, settings) -> None:
    member = make_member(session)
    activated_client(session, settings, member, [make_account(session, settings, "Alpha Ltd")])


def test_portal_sign_in_never_leaves_the_site(start_portal, page):  # R35
    portal = start_portal(arrange=_client)
    with portal.session() as session:
        query = select(ContactEmail.address).join(
            PortalUser, PortalUser.email_id == ContactEmail.id
        )
        address = session.scalars(query).one()
    _fill(page, f"{portal.url}/portal/login?next=/%09/127.0.0.1:9/phish", address, CLIENT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/portal")
    assert urlsplit(page.url).netloc == urlsplit(portal.url).netloc


def _guess(page: Page, url: str, forwarded_for: str) -> str:
    page.set_extra_http_headers({"X-Forwarded-For": forwarded_for})
    _fill(page, url, STAFF_EMAIL, "Wrong-Guess-xx-1")
    page.get_by_role("button", name="Sign in").click()
    return _answer(page)


@pytest.mark.parametrize("trusted", [False, True])
def test_x_forwarded_for_counts_only_from_a_trusted_proxy(start_portal, context, trusted):
    # R33: without PORTAL_TRUSTED_PROXIES, a header the client writes itself changes nothing
    portal = start_portal(**({"PORTAL_TRUSTED_PROXIES": "127.0.0.1"} if trusted else {}))
    page = context.new_page()
    for _ in range(5):
        assert _guess(page, f"{portal.url}/login", "203.0.113.1") == INCORRECT
    # Trusted, the sixth guess comes from another client, whose own five tries are untouched.
    sixth = _guess(page, f"{portal.url}/login", "203.0.113.99")
    assert sixth == (INCORRECT if trusted else TOO_MANY)
