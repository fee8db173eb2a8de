"""The "New account" dialog (R4, R26): a name and the test-client mark; on success the new
account's profile opens."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from components.checked_fields import name_input
from components.dialog import answer, dialog_buttons, modal, titled_dialog
from portal_ui.errors import DomainError
from portal_ui.i18n import _

# Creates the account (name, test client, assign to me) and returns its id; raises
# DomainError or ValueError(message id).
CreateAccount = Callable[[str, bool, bool], Awaitable[int]]


def profile_path(account_id: int) -> str:
    return f"/clients/{account_id}/info"


async def open_new_account_dialog(create: CreateAccount) -> int | None:
    """Ask for the account; returns the new id (after navigating to its profile) or None."""
    title = _("New account")
    with titled_dialog(title) as dialog:
        name = name_input(_("Account name")).props("outlined autofocus").classes("w-full")
        name.mark("new-account-name")
        test_client = ui.checkbox(_("Test client")).mark("new-account-test-client")
        ui.label(_("Invite your test client first to see what your clients will see.")).classes(
            "text-xs text-gray-700 -mt-3 ml-10"
        )
        # R5: whoever creates an account looks after it, unless they say otherwise.
        assign_me = ui.checkbox(_("Assign to me"), value=True).mark("new-account-assign-me")

        async def submit() -> None:
            if not name.validate():  # R38: empty or too long, said next to the field
                return
            button.disable()
            try:
                account_id = await create(
                    name.value.strip(), bool(test_client.value), bool(assign_me.value)
                )
            except DomainError as error:
                name.error = error.describe(_)
                return
            except ValueError as error:
                name.error = _(str(error))
                return
            finally:
                button.enable()
            dialog.submit(account_id)

        name.on("keydown.enter", submit)
        button = dialog_buttons(
            dialog, _("Create account"), submit, "new-account-submit", cancelled=None
        )
    account_id = await answer(dialog)
    if account_id is not None:
        ui.navigate.to(profile_path(account_id))
    return account_id


def new_account_button(create: CreateAccount) -> ui.button:
    """The "New account" button of the accounts list and of a profile's header (R26)."""

    async def open_dialog() -> None:
        await modal(open_new_account_dialog(create))

    return ui.button(_("New account"), icon="add", on_click=open_dialog).props(
        "unelevated no-caps color=primary"
    )
