"""/login: team member sign-in, limited (R33), never saying whether an address exists."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import Request
from nicegui import ui

from components.frame import heading
from pages import runtime, sessions
from portal_ui import limits, staff
from portal_ui.errors import TooManyRequests
from portal_ui.i18n import _
from portal_ui.inputs import MAX_ADDRESS
from portal_ui.security import MAX_PASSWORD_LENGTH
from portal_ui.sessions import Principal

NOBODY = Principal(session_id=0)

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
        email = ui.input(_("Email")).props(
            f"type=email autocomplete=username outlined maxlength={MAX_ADDRESS}"
        )
        password = ui.input(_("Password"), password=True, password_toggle_button=True)
        password.props(f"autocomplete=current-password outlined maxlength={MAX_PASSWORD_LENGTH}")
        error = ui.label("").classes("text-red-800").props("role=alert aria-live=polite")
        email.classes("w-full").on("keydown.enter", on_submit)
        password.classes("w-full").on("keydown.enter", on_submit)
        ui.button(_("Sign in"), on_click=on_submit).props("unelevated no-caps").classes("w-full")
    return email, password, error


def client_address(request: Request) -> str:
    """The browser's address (R33): the connection's, or what a trusted proxy says it is."""
    return limits.client_ip(
        request.client.host if request.client else None,
        request.headers.get("x-forwarded-for"),
        runtime.settings().trusted_proxy_networks,
    )


async def limited_sign_in(
    kind: str,
    ip: str,
    fields: tuple[ui.input, ui.input, ui.label],
    authenticate: Authenticate[T],
) -> T | None:
    """Sign in with the Email and Password of `fields` (R33): the attempt is counted in the
    database before the password is checked, per address and place, per address, and per place
    (`kind` keeps staff and clients apart); over a limit the password is not checked and the
    answer is the same whatever the address. None when refused, with the reason shown."""
    email, password, error = fields
    address = (email.value or "").strip().lower()
    uses = limits.sign_in_limits(kind, address, ip)
    if not await runtime.call(limits.take, uses):
        error.set_text(_(TooManyRequests.message))
        return None
    found = await authenticate(address, password.value or "")
    if found is None:
        error.set_text(_("The email or password is incorrect."))
        return None
    await runtime.call(limits.give_back, uses)
    return found


@ui.page("/login")
async def login_page(request: Request, next: str = "") -> None:
    sessions.set_language(sessions.visitor_language(request))
    if (await sessions.signed_in(request) or NOBODY).member_id is not None:
        ui.navigate.to(sessions.safe_next(next, sessions.STAFF_HOME))
        return
    ip = client_address(request)

    async def submit() -> None:
        member = await limited_sign_in(
            "staff",
            ip,
            fields,
            lambda address, password: runtime.call_hashing(staff.authenticate, address, password),
        )
        if member is None:
            return
        sessions.set_language(member.language)
        await sessions.sign_in(next, member_id=member.id)

    ui.page_title(_("Sign in") + " · " + runtime.settings().firm_name)
    fields = sign_in_card(runtime.settings().firm_name, submit, _("Team sign-in"))
