"""One linked contact in the profile's Contacts section (R25): its name, language, phones and
an access row per address, with the contact's own actions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from nicegui import ui

from components.access_row import AccessRowActions, AccessRowElement
from components.frame import heading
from portal_ui.i18n import LANGUAGES, _
from portal_ui.profile import ContactView

ContactAction = Callable[[ContactView], Awaitable[None]]


@dataclass(frozen=True)
class ContactActions:
    add_address: ContactAction
    add_phone: ContactAction
    unlink: ContactAction


def initials(name: str) -> str:
    parts = [part for part in name.split() if part[:1].isalnum()]
    return "".join(part[0] for part in parts[:2]).upper() or "?"


def contact_card(
    view: ContactView,
    actions: ContactActions,
    row_actions: AccessRowActions,
    rows: dict[int, AccessRowElement],
) -> ui.card:
    """Lay out the contact; its access rows are added to `rows` by email id, so the page can
    show newer views in place."""
    card = ui.card().props("flat bordered").classes("w-full p-0 gap-0")
    card.props["aria-label"] = view.name
    card.mark("contact-card", f"contact:{view.id}")
    with card:
        with ui.row().classes("w-full items-center gap-3 px-4 pt-4 pb-2 no-wrap"):
            ui.label(initials(view.name)).classes(
                "shrink-0 w-10 h-10 rounded-full bg-blue-100 text-blue-900 font-semibold "
                "flex items-center justify-center"
            ).props('aria-hidden="true"')
            with ui.column().classes("gap-0 grow min-w-0"):
                heading(view.name, level=3)
                _details(view)
            _buttons(view, actions)
        with ui.column().classes("w-full gap-0 px-4 pb-2"):
            if not view.addresses:
                ui.label(_("No email address yet.")).classes("text-sm text-gray-700 py-3")
            for address in view.addresses:
                rows[address.email_id] = AccessRowElement(address, row_actions)
    return card


def _details(view: ContactView) -> None:
    with ui.row().classes("items-center gap-x-4 gap-y-0 text-sm text-gray-700"):
        if view.language:
            ui.label(
                _("Language: {language}").format(
                    language=LANGUAGES.get(view.language, view.language)
                )
            )
        for number in view.phones:
            with ui.row().classes("items-center gap-1 no-wrap"):
                ui.icon("call", size="1rem").props('aria-hidden="true"')
                link = ui.link(number, f"tel:{number.replace(' ', '')}")
                link.classes("text-gray-800 no-underline hover:underline")
                link.props["aria-label"] = _("Phone {number}").format(number=number)
        if not view.phones:
            ui.label(_("No phone"))


def _buttons(view: ContactView, actions: ContactActions) -> None:
    def button(text: str, icon: str, action: ContactAction, marker: str) -> ui.button:
        async def run() -> None:
            await action(view)

        element = ui.button(text, icon=icon, on_click=run)
        element.props("flat dense no-caps color=primary").mark(marker)
        element.props["aria-label"] = f"{text} ({view.name})"
        return element

    with ui.row().classes("gap-1 shrink-0"):
        button(_("Add address"), "alternate_email", actions.add_address, "contact-add-address")
        button(_("Add phone"), "add_call", actions.add_phone, "contact-add-phone")
        button(_("Unlink"), "link_off", actions.unlink, "contact-unlink").props("color=negative")
