"""Signing in as the sign-in pages do it (R33): who the client is, and the limits counted
before a password is checked."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import Request
from nicegui import ui

from components.password_fields import PasswordFields
from portal_ui import limits
from portal_ui.errors import TooManyRequests
from portal_ui.i18n import N_, _
from portal_ui.sessions import Principal
from web import runtime

NOBODY = Principal(session_id=0)
ENTER_ADDRESS = N_("Enter your email address.")
ENTER_PASSWORD = N_("Enter your password.")

T = TypeVar("T")
# Who signs in with this address and password, or None.
Authenticate = Callable[[str, str], Awaitable[T | None]]


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
    email.error = None if address else _(ENTER_ADDRESS)
    password.error = None if password.value else _(ENTER_PASSWORD)
    if not address or not password.value:
        error.set_text("")
        return None
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


async def limited_password(
    fields: PasswordFields,
    link: str,
    ip: str,
    save: Callable[[str], Awaitable[T]],
    error: ui.label,
    button: ui.button | None = None,
) -> T | None:
    """A new password from a form reached by an emailed link (activation, reset, R33): each
    submission is counted per link and per place before the password is saved; one that is
    saved is given back, so only refused passwords add up."""
    uses = limits.password_limits(link, ip)
    saved = await fields.submit(save, error, lambda: runtime.call(limits.take, uses), button)
    if saved is not None:
        await runtime.call(limits.give_back, uses)
    return saved
