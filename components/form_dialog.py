"""A one-field form in a dialog whose submit is checked by the server; the error it returns is
shown next to the field and the dialog stays open until the submit succeeds."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from components.frame import heading
from portal_ui.i18n import _

# Returns the message to show next to the field, or None when the change is done.
Submit = Callable[[str], Awaitable[str | None]]


async def ask_text(
    title: str,
    label: str,
    submit: Submit,
    *,
    value: str = "",
    submit_label: str | None = None,
    detail: str = "",
    input_type: str = "text",
) -> bool:
    """Show the form; True once `submit` accepted a value, False when closed without one."""
    with ui.dialog() as dialog, ui.card().classes("w-full max-w-md p-6 gap-4"):
        dialog.props["aria-label"] = title
        heading(title, level=2)
        if detail:
            ui.label(detail).classes("text-gray-800")
        field = ui.input(label, value=value).props(f"outlined autofocus type={input_type}")
        field.classes("w-full").mark("form-field")
        field.on_value_change(lambda: setattr(field, "error", None))

        async def save() -> None:
            button.disable()
            try:
                error = await submit((field.value or "").strip())
            finally:
                button.enable()
            if error:
                field.error = error
                field.run_method("focus")
            else:
                dialog.submit(True)

        field.on("keydown.enter", save)
        with ui.row().classes("w-full justify-end gap-2"):
            ui.button(_("Cancel"), on_click=lambda: dialog.submit(False)).props(
                "flat no-caps color=primary"
            ).mark("form-cancel")
            button = ui.button(submit_label or _("Save"), on_click=save)
            button.props("unelevated no-caps color=primary").mark("form-submit")
    result = await dialog
    dialog.delete()
    return bool(result)
