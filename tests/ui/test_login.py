"""Team sign-in (CONTRACT.md /login)."""

from nicegui.testing import User

from tests.ui.conftest import STAFF_EMAIL


async def test_team_page_without_session_redirects_to_login(user: User) -> None:
    await user.open("/clients/accounts")
    await user.should_see("Sign in")


async def test_wrong_password_says_so_without_revealing_the_address(user: User) -> None:
    await user.open("/login")
    user.find("Email").type(STAFF_EMAIL)
    user.find("Password").type("not-the-password")
    user.find("Sign in").click()
    await user.should_see("The email or password is incorrect.", retries=100)


async def test_an_empty_sign_in_says_what_is_missing_at_each_field(user: User) -> None:
    # R38: every form says what is wrong next to the field
    await user.open("/login")
    user.find("Sign in").click()
    await user.should_see("Enter your email address.", retries=50)
    await user.should_see("Enter your password.")
    user.find("Email").type(STAFF_EMAIL)
    user.find("Sign in").click()
    await user.should_not_see("Enter your email address.", retries=50)
    await user.should_see("Enter your password.")


async def test_an_unknown_address_shows_the_products_own_not_found_page(user: User) -> None:
    # R38: never the framework's page
    answer = await user.http_client.get("/no/such/page")
    assert answer.status_code == 404
    assert "Page not found" in answer.text and "HTTPException" not in answer.text
    assert "Go to the home page" in answer.text
