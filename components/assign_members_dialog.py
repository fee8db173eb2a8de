"""Choose the team members assigned to an account (R5)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from components.dialog import answer, dialog_buttons, titled_dialog
from portal_ui.i18n import _


async def ask_assigned_members(
    members: dict[int, str],
    assigned: list[int],
    save: Callable[[list[int]], Awaitable[bool]],
) -> bool:
    """`members` maps every team member's id to a name; `save` returns True once saved."""
    title = _("Assigned team members")
    with titled_dialog(title) as dialog:
        ui.label(
            _(
                "They get an Inbox+ notification and an email when a client of this account "
                "activates portal access."
            )
        ).classes("text-sm text-gray-700")
        with ui.element("fieldset").classes("border-0 p-0 m-0 flex flex-col gap-1"):
            with ui.element("legend").classes("sr-only"):
                ui.label(title)
            boxes = {
                member_id: ui.checkbox(name, value=member_id in assigned).mark(
                    f"assign-{member_id}"
                )
                for member_id, name in members.items()
            }

        async def submit() -> None:
            if await save([member_id for member_id, box in boxes.items() if box.value]):
                dialog.submit(True)

        dialog_buttons(dialog, _("Save"), submit, "assign-save")
    return bool(await answer(dialog))
