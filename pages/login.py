"""/login: team member sign-in, throttled, never saying whether an address exists."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import Request
from nicegui import ui

from components.frame import heading
from pages import runtime, sessions
from portal_ui import staff
from portal_ui.i18n import _
from portal_ui.security import Throttle

# Five failures per address or per browser address in fifteen minutes, then a pause.
throttle = Throttle(limit=5, window=15 * 60)

T = TypeVar("T")
# Who signs in with this address and password, or None.
Authenticate = Callable[[str, str], Awaitable[T | None]]


def sign_in_card(title: str, on_submit, subtitle: str = "") -> tuple[ui.input, ui.input, ui.label]:
    """The sign-in form shared by staff and clients: Email, Password, Sign in."""
    ui.query("body").classes("bg-gray-50")
    with (
        ui.element("main").classes("w-full min-h-screen flex items-center justify-center p-4"),
        ui.card().classes("w-full max-w-sm p-8 gap-4"),
    ):
        heading(title)
        if subtitle:
            ui.label(subtitle).classes("text-gray-700")
        email = ui.input(_("Email")).props("type=email autocomplete=username outlined")
        password = ui.input(_("Password"), password=True, password_toggle_button=True)
        password.props("autocomplete=current-password outlined")
        error = ui.label("").classes("text-red-800").props("role=alert aria-live=polite")
        email.classes("w-full").on("keydown.enter", on_submit)
        password.classes("w-full").on("keydown.enter", on_submit)
        ui.button(_("Sign in"), on_click=on_submit).props("unelevated no-caps").classes("w-full")
    return email, password, error


def client_address(request: Request) -> str:
    """The browser's address, which the sign-in throttle also counts failures by."""
    return request.client.host if request.client else "unknown"


async def throttled_sign_in(
    throttle: Throttle,
    kind: str,
    ip: str,
    fields: tuple[ui.input, ui.input, ui.label],
    authenticate: Authenticate[T],
) -> T | None:
    """Sign in with the Email and Password of `fields`, counting failures per address and per
    browser address (`kind` names the keys); a failure never says whether the address exists.
    None when refused, with the reason in the error label."""
    email, password, error = fields
    address = (email.value or "").strip().lower()
    keys = (f"{kind}:{address}", f"{kind}-ip:{ip}")
    if throttle.blocked(*keys):
        error.set_text(_("Too many attempts. Please wait and try again later."))
        return None
    found = await authenticate(address, password.value or "")
    if found is None:
        throttle.fail(*keys)
        error.set_text(_("The email or password is incorrect."))
        return None
    throttle.reset(keys[0])
    return found


@ui.page("/login")
async def login_page(request: Request, next: str = "") -> None:
    sessions.set_language(sessions.stored_language() or sessions.language_from_request(request))
    if sessions.staff_member_id() is not None:
        ui.navigate.to(sessions.safe_next(next, "/clients/accounts"))
        return
    ip = client_address(request)

    async def submit() -> None:
        member = await throttled_sign_in(
            throttle,
            "staff",
            ip,
            fields,
            lambda address, password: runtime.call_hashing(staff.authenticate, address, password),
        )
        if member is None:
            return
        sessions.start_session(member_id=member.id, language=member.language)
        ui.navigate.to(sessions.safe_next(next, "/clients/accounts"))

    ui.page_title(_("Sign in") + " · " + runtime.settings().firm_name)
    fields = sign_in_card(runtime.settings().firm_name, submit, _("Team sign-in"))
