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
