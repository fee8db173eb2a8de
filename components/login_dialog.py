"""The pop-up of R9: turning Login on asks whether to send the invitation now or later."""

from __future__ import annotations

from dataclasses import dataclass

from nicegui import ui

from components.checked_fields import message_textarea
from components.dialog import answer, titled_dialog
from portal_ui.i18n import _


@dataclass(frozen=True)
class LoginChoice:
    """Send now (with the personalized message) or Later (Pending, "invite not sent")."""

    send: bool
    message: str = ""


async def ask_login_choice(address: str) -> LoginChoice | None:
    """Ask Send or Later for `address`; None when the pop-up is closed without a choice
    (Escape, a click outside), which leaves Login off."""
    with titled_dialog(_("Give portal access"), "max-w-lg") as dialog:
        ui.label(
            _(
                "Login is turned on for {address}. Send the invitation now, or later: the "
                "address stays Pending activation until it accepts an invitation."
            ).format(address=address)
        ).classes("text-gray-800")
        message = message_textarea(
            _("Personalized message"),
            placeholder=_("Optional: a few words that appear in the invitation email"),
        )
        message.props("autofocus").classes("w-full").mark("login-message")

        def send_now() -> None:
            if message.validate():  # R38: a message over the limit is said, not sent
                dialog.submit(LoginChoice(True, (message.value or "").strip()))

        with ui.row().classes("w-full justify-end gap-2"):
            later = ui.button(_("Later"), on_click=lambda: dialog.submit(LoginChoice(False)))
            later.props("flat no-caps color=primary").mark("login-later")
            send = ui.button(_("Send"), on_click=send_now)
            send.props("unelevated no-caps color=primary").mark("login-send")
    return await answer(dialog)
