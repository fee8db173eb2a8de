"""The product's own not-found page for team members (R38): what a URL naming nothing shows, in
the staff frame, instead of an error."""

from __future__ import annotations

from nicegui import ui

from portal_ui.i18n import N_, _
from web.layout import staff_layout

PAGE_NOT_FOUND = N_("Page not found")
NOTHING_HERE = N_(
    "This page does not exist. The link may be mistyped, or what it showed was deleted."
)


async def staff_not_found(
    *,
    title: str = PAGE_NOT_FOUND,
    explanation: str = NOTHING_HERE,
    back: tuple[str, str] = (N_("Back to accounts"), "/clients/accounts"),
    active: str = "accounts",
) -> None:
    """Fill the page with the not-found message (message ids; `back` is a link's text and path,
    `active` the navigation entry to highlight)."""
    ui.page_title(_(title))
    async with staff_layout(_(title), active):
        ui.label(_(explanation)).classes("text-gray-800").mark("not-found")
        ui.link(_(back[0]), back[1]).classes("text-blue-800")
