"""An accessible confirmation dialog: a question, a safe choice and the action's own label."""

from __future__ import annotations

from nicegui import context, ui

from components.dialog import answer, titled_dialog
from portal_ui.i18n import _


async def confirm(
    question: str,
    ok_label: str,
    *,
    detail: str = "",
    cancel_label: str | None = None,
    danger: bool = False,
) -> bool:
    """Ask `question`; True only when the person chooses `ok_label` (Escape or the safe
    button answer False). The safe button has the focus, so Enter never destroys by accident."""
    # In the page's content, not in the menu or row that asked: those may not be rendered.
    with context.client.content, titled_dialog(question) as dialog:
        if detail:
            ui.label(detail).classes("text-gray-700")
        with ui.row().classes("w-full justify-end gap-2"):
            safe = ui.button(cancel_label or _("Cancel"), on_click=lambda: dialog.submit(False))
            safe.props("flat no-caps color=primary autofocus").mark("confirm-cancel")
            action = ui.button(ok_label, on_click=lambda: dialog.submit(True))
            action.props(f"unelevated no-caps color={'negative' if danger else 'primary'}")
            action.mark("confirm-ok")
    return bool(await answer(dialog))
