"""One address on one account in the profile's Contacts section (R25): the four switches, the
access state (R6) with the invitation's date and delivery, the invalid mark (R22) and the
three-dots menu; plus the dialogs that menu opens (preferences, invitation history)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from nicegui import events, ui

from components.dialog import answer, dialog_buttons, titled_dialog
from components.formats import delivery_label, full_moment, short_date
from components.notification_prefs import chosen, notification_prefs
from portal_ui.activity import describe_event
from portal_ui.i18n import N_, _
from portal_ui.models import AccessState, ActivityEvent, DeliveryState
from portal_ui.profile import AddressView

# The switches in the product's order, their labels and CONTRACT.md's data-testids.
SWITCH_LABELS: dict[str, str] = {
    "login": N_("Login"),
    "notify": N_("Notify"),
    "email_sync": N_("Email sync"),
    "signatory": N_("Signatory"),
}
SWITCH_TEST_IDS: dict[str, str] = {
    "login": "switch-login",
    "notify": "switch-notify",
    "email_sync": "switch-email-sync",
    "signatory": "switch-signatory",
}
STATE_LABELS: dict[AccessState, str] = {
    AccessState.NO_ACCESS: N_("No access"),
    AccessState.PENDING: N_("Pending activation"),
    AccessState.ACTIVE: N_("Active"),
}
_STATE_CLASSES: dict[AccessState, str] = {
    AccessState.NO_ACCESS: "bg-gray-100 text-gray-800 ring-gray-400",
    AccessState.PENDING: "bg-amber-100 text-amber-900 ring-amber-500",
    AccessState.ACTIVE: "bg-green-100 text-green-900 ring-green-600",
}
RowAction = Callable[[AddressView], Awaitable[None]]


@dataclass(frozen=True)
class AccessRowActions:
    """What the page does when the team member acts on a row; each handler applies the change
    and refreshes the page (the row then shows the new view)."""

    login: Callable[[AddressView, bool], Awaitable[None]]
    switch: Callable[[AddressView, str, bool], Awaitable[None]]
    send_invitation: RowAction
    cancel_invitation: RowAction
    preferences: RowAction
    history: RowAction
    change_address: RowAction


def state_detail(view: AddressView) -> str:
    """The line under "Pending activation": the invite date and delivery, or "invite not sent"."""
    if view.state is not AccessState.PENDING:
        return ""
    if view.invite_sent_at is None:
        return _("invite not sent")
    text = _("Invite sent {date}").format(date=short_date(view.invite_sent_at))
    if view.delivery_state is not None:
        delivery = delivery_label(view.delivery_state, view.delivery_error)
        text += " · " + _("Email: {state}").format(state=delivery)
        if view.delivery_state is DeliveryState.FAILED and view.delivery_error:
            text += ": " + view.delivery_error
    return text


def actor_text(event: ActivityEvent) -> str:
    """Who did it: a team member's or client's name, or the system (the mail sender)."""
    if event.actor_name == "System" and event.actor_member_id is None:
        return _("System")
    return event.actor_name or "—"


class AccessRowElement(ui.element):
    """One access row; `update(view)` shows a newer view in place, keeping focus and menus."""

    def __init__(self, view: AddressView, actions: AccessRowActions) -> None:
        super().__init__("div")
        self.view = view
        self.actions = actions
        self.busy = False
        self.classes(
            "w-full grid grid-cols-1 lg:grid-cols-[minmax(14rem,1fr)_auto_13rem_2.5rem] "
            "items-center gap-x-6 gap-y-2 py-3 border-t border-gray-200 first:border-t-0"
        )
        self.props["data-testid"] = "access-row"
        self.props["role"] = "group"
        with self:
            self._build_address()
            self._build_switches()
            self._build_state()
            self._build_menu()
        self.update_view(view)

    def _build_address(self) -> None:
        with ui.column().classes("gap-0 min-w-0"):
            with ui.row().classes("items-center gap-1 no-wrap min-w-0"):
                self.address_label = ui.label().classes("font-medium text-gray-900 break-all")
                self.invalid_mark = ui.icon("error", color="red-8", size="1.25rem")
                self.invalid_mark.props["data-testid"] = "invalid-email"
                self.invalid_mark.props["role"] = "img"
                self.invalid_mark.props["aria-label"] = _("Invalid address")
            self.invalid_reason = ui.label().classes("text-xs text-red-800")
            self.note = ui.label().classes("text-xs text-gray-700")

    def _build_switches(self) -> None:
        self.switches: dict[str, ui.switch] = {}
        with ui.row().classes("items-center gap-x-4 gap-y-0"):
            for name, label in SWITCH_LABELS.items():
                switch = ui.switch(_(label), on_change=self._switch_handler(name))
                switch.props(f"dense data-testid={SWITCH_TEST_IDS[name]}").mark(f"switch-{name}")
                switch.classes("text-gray-900")
                self.switches[name] = switch

    def _build_state(self) -> None:
        self.state = ui.element("div").classes("flex flex-col items-start gap-0.5")
        self.state.props["data-testid"] = "access-state"
        with self.state:
            self.state_label = ui.label().classes(
                "inline-flex rounded-full px-2.5 py-0.5 text-xs font-medium ring-1 ring-inset"
            )
            self.state_detail = ui.label().classes("text-xs text-gray-700")

    def _build_menu(self) -> None:
        self.menu_button = ui.button(icon="more_vert").props(
            "flat round dense color=grey-9 data-testid=row-menu"
        )
        self.menu_button.mark("row-menu")
        with self.menu_button:
            self.menu = ui.menu().props("anchor='bottom right' self='top right'")
            self.menu.classes("min-w-56")

    def update_view(self, view: AddressView) -> None:
        """Show `view` (the same address, possibly changed elsewhere)."""
        self.view = view
        self.props["data-email"] = view.address
        self.props["aria-label"] = view.address
        self.mark("access-row", f"email:{view.address}")
        self.address_label.set_text(view.address)
        self.invalid_mark.set_visibility(bool(view.invalid_reason))
        self.invalid_mark.props["title"] = view.invalid_reason or ""
        self.invalid_reason.set_text(view.invalid_reason or "")
        self.invalid_reason.set_visibility(bool(view.invalid_reason))
        note = (
            _("Replaces {address} once activated").format(address=view.replaces_address)
            if view.replaces_address
            else ""
        )
        self.note.set_text(note)
        self.note.set_visibility(bool(note))
        if not self.busy:  # a pop-up of this row is open: its switches wait for the answer
            self._show_switches()
        self._show_state()
        self._fill_menu()

    def _show_switches(self) -> None:
        for name, switch in self.switches.items():
            switch.value = bool(getattr(self.view, name))

    def _show_state(self) -> None:
        state = self.view.state
        self.state.props["data-state"] = state.value
        self.state_label.set_text(_(STATE_LABELS[state]))
        self.state_label.classes(
            remove=" ".join(_STATE_CLASSES.values()), add=_STATE_CLASSES[state]
        )
        detail = state_detail(self.view)
        self.state_detail.set_text(detail)
        self.state_detail.set_visibility(bool(detail))

    def _fill_menu(self) -> None:
        view = self.view
        self.menu_button.props["aria-label"] = _("Actions for {address}").format(
            address=view.address
        )
        self.menu.clear()
        with self.menu:
            send_label = (
                _("Resend invitation") if view.has_outstanding_invitation else _("Send invitation")
            )
            self._item(send_label, "menu-send", self.actions.send_invitation).set_enabled(
                view.can_send_invitation
            )
            self._item(
                _("Cancel invitation"), "menu-cancel", self.actions.cancel_invitation
            ).set_enabled(view.has_outstanding_invitation)
            ui.separator()
            self._item(_("Notification preferences"), "menu-preferences", self.actions.preferences)
            self._item(_("Invitation history"), "menu-history", self.actions.history)
            self._item(_("Change address"), "menu-change-address", self.actions.change_address)

    def _item(self, text: str, marker: str, action: RowAction) -> ui.menu_item:
        async def run() -> None:
            await action(self.view)

        item = ui.menu_item(text, on_click=run).mark(marker)
        item.props["role"] = "menuitem"
        return item

    def _switch_handler(self, name: str) -> Callable[[events.ValueChangeEventArguments], object]:
        async def changed(event: events.ValueChangeEventArguments) -> None:
            wanted = bool(event.value)
            if wanted == bool(getattr(self.view, name)):
                return  # the page showing a newer view, not the person
            self.busy = True
            for switch in self.switches.values():
                switch.disable()
            try:
                if name == "login":
                    await self.actions.login(self.view, wanted)
                else:
                    await self.actions.switch(self.view, name, wanted)
            finally:
                self.busy = False
                if not self.is_deleted:
                    for switch in self.switches.values():
                        switch.enable()
                    # Abandoned or refused changes fall back to what the database holds.
                    self._show_switches()

        return changed


async def edit_preferences(
    address: str, values: dict[str, bool], save: Callable[[dict[str, bool]], Awaitable[bool]]
) -> None:
    """R3, R25: the nine categories of one access row; `save` returns True once saved."""
    with titled_dialog(_("Notification preferences"), "max-w-2xl") as dialog:
        ui.label(address).classes("text-gray-800 break-all")
        boxes = notification_prefs(values, legend=_("Notifications this address receives"))

        async def submit() -> None:
            if await save(chosen(boxes)):
                dialog.submit(True)

        dialog_buttons(
            dialog, _("Save"), submit, "preferences-save", cancel_marker="preferences-cancel"
        )
    await answer(dialog)


async def show_history(address: str, history: Sequence[ActivityEvent]) -> None:
    """R27a: what happened to the address's invitations, with the actor and time of each."""
    with titled_dialog(_("Invitation history"), "max-w-2xl") as dialog:
        ui.label(address).classes("text-gray-800 break-all")
        if not history:
            ui.label(_("No invitation yet.")).classes("text-gray-700")
        with ui.element("ol").classes("w-full m-0 p-0 list-none flex flex-col gap-0"):
            for event in history:
                with ui.element("li").classes(
                    "grid grid-cols-[11rem_1fr] gap-x-4 py-2 border-b border-gray-100"
                ):
                    ui.label(full_moment(event.at)).classes("text-sm text-gray-700")
                    with ui.column().classes("gap-0"):
                        ui.label(describe_event(event, _)).classes("text-sm text-gray-900")
                        ui.label(_("by {actor}").format(actor=actor_text(event))).classes(
                            "text-xs text-gray-700"
                        )
        with ui.row().classes("w-full justify-end"):
            ui.button(_("Close"), on_click=lambda: dialog.submit(None)).props(
                "flat no-caps color=primary autofocus"
            )
    await answer(dialog)
