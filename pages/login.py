"""/login: team member sign-in, throttled, never saying whether an address exists."""

from __future__ import annotations

from fastapi import Request
from nicegui import ui

from components.frame import heading
from pages import runtime, sessions
from portal_ui import staff
from portal_ui.i18n import _
from portal_ui.security import Throttle

# Five failures per address or per browser address in fifteen minutes, then a pause.
throttle = Throttle(limit=5, window=15 * 60)


def sign_in_card(title: str, on_submit, subtitle: str = "") -> tuple[ui.input, ui.input, ui.label]:
    """The sign-in form shared by staff and clients: Email, Password, Sign in."""
    ui.query("body").classes("bg-gray-50")
    with ui.element("main").classes("w-full min-h-screen flex items-center justify-center p-4"):
        with ui.card().classes("w-full max-w-sm p-8 gap-4"):
            heading(title)
            if subtitle:
                ui.label(subtitle).classes("text-gray-700")
            email = ui.input(_("Email")).props("type=email autocomplete=username outlined")
            password = ui.input(_("Password"), password=True, password_toggle_button=True)
            password.props("autocomplete=current-password outlined")
            error = ui.label("").classes("text-red-800").props("role=alert aria-live=polite")
            email.classes("w-full").on("keydown.enter", on_submit)
            password.classes("w-full").on("keydown.enter", on_submit)
            ui.button(_("Sign in"), on_click=on_submit).props("unelevated no-caps").classes(
                "w-full"
            )
    return email, password, error


@ui.page("/login")
async def login_page(request: Request, next: str = "") -> None:
    sessions.set_language(sessions.stored_language() or sessions.language_from_request(request))
    if sessions.staff_member_id() is not None:
        ui.navigate.to(sessions.safe_next(next, "/clients/accounts"))
        return
    client_address = request.client.host if request.client else "unknown"

    async def submit() -> None:
        address = (email.value or "").strip().lower()
        keys = (f"staff:{address}", f"staff-ip:{client_address}")
        if throttle.blocked(*keys):
            error.set_text(_("Too many attempts. Please wait and try again later."))
            return
        member = await runtime.call(staff.authenticate, address, password.value or "")
        if member is None:
            throttle.fail(*keys)
            error.set_text(_("The email or password is incorrect."))
            return
        throttle.reset(f"staff:{address}")
        sessions.start_session(member_id=member.id, language=member.language)
        ui.navigate.to(sessions.safe_next(next, "/clients/accounts"))

    ui.page_title(_("Sign in") + " · " + runtime.settings().firm_name)
    email, password, error = sign_in_card(runtime.settings().firm_name, submit, _("Team sign-in"))
