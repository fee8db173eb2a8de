"""The server starts from the command line and a team member can sign in (CONTRACT.md)."""

from tests.e2e.conftest import screenshot


def test_team_member_signs_in_and_lands_on_the_page_first_asked_for(start_portal, page):
    portal = start_portal()
    page.goto(f"{portal.url}/inbox")
    page.wait_for_url("**/login?next=*")
    screenshot(page, "login")
    portal.sign_in_staff(page, next_path="/inbox")
    assert page.url.endswith("/inbox")
    assert page.locator("html").get_attribute("lang") == "en-US"
