"""The sign-in form shared by staff and clients (CONTRACT.md: "Email", "Password", "Sign in")."""

from __future__ import annotations

from nicegui import ui

from components.frame import heading
from portal_ui.i18n import _
from portal_ui.inputs import MAX_ADDRESS
from portal_ui.security import MAX_PASSWORD_LENGTH


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
