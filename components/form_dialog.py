"""A one-field form in a dialog whose submit is checked by the server; the error it returns is
shown next to the field and the dialog stays open until the submit succeeds."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from components.checked_fields import FieldMaker
from components.dialog import answer, dialog_buttons, titled_dialog
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
    make_field: FieldMaker | None = None,
) -> bool:
    """Show the form; True once `submit` accepted a value, False when closed without one.
    `make_field` builds a field that checks its value (components.checked_fields): a value it
    finds wrong is not submitted, and its reason shows next to the field (R38)."""
    with titled_dialog(title) as dialog:
        if detail:
            ui.label(detail).classes("text-gray-800")
        field = (make_field or _plain_field)(label, value).props("outlined autofocus")
        field.classes("w-full").mark("form-field")
        field.on_value_change(lambda: setattr(field, "error", None))

        async def save() -> None:
            if field.validation is not None and not field.validate():
                field.run_method("focus")
                return
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
        button = dialog_buttons(
            dialog, submit_label or _("Save"), save, "form-submit", cancel_marker="form-cancel"
        )
    return bool(await answer(dialog))


def _plain_field(label: str, value: str) -> ui.input:
    return ui.input(label, value=value)
