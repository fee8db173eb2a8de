"""The staff pages' frame: header with the firm, navigation, Inbox+ badge, the member, sign-out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from nicegui import ui
from nicegui.elements.mixins.text_element import TextElement

from portal_ui.i18n import LANGUAGES, _

NAVIGATION = (
    ("accounts", "/clients/accounts"),
    ("inbox", "/inbox"),
    ("activity", "/activity"),
)


def heading(text: str, level: int = 1, classes: str = "") -> TextElement:
    """A real <h1>..<h6> whose text is never interpreted as HTML."""
    sizes = {1: "text-2xl font-semibold", 2: "text-lg font-semibold", 3: "text-base font-semibold"}
    element = TextElement(tag=f"h{level}", text=text)
    return element.classes(f"{sizes.get(level, '')} text-gray-900 m-0 {classes}")


def nav_labels() -> dict[str, str]:
    return {"accounts": _("Accounts"), "inbox": _("Inbox+"), "activity": _("Activity")}


@contextmanager
def staff_frame(
    *,
    firm_name: str,
    member_name: str,
    unread: int,
    active: str,
    language: str,
    on_language: Callable[[str], object],
    on_sign_out: Callable[[], object],
) -> Iterator[ui.badge]:
    """Lay out the header and a centred main column; yields the Inbox+ badge to keep current."""
    ui.colors(primary="#1d4ed8", positive="#15803d")  # white text on it passes WCAG AA
    ui.query("body").classes("bg-gray-50")
    with (
        ui.header().classes("bg-white text-gray-900 border-b border-gray-200 px-6 py-2 gap-6"),
        ui.row().classes("w-full items-center no-wrap gap-6"),
    ):
        ui.label(firm_name).classes("text-lg font-bold text-blue-800 whitespace-nowrap")
        labels = nav_labels()
        with ui.element("nav").props(f'aria-label="{_("Main")}"').classes("flex gap-1"):
            for key, href in NAVIGATION:
                link = ui.link(labels[key], href).classes(
                    "px-3 py-2 rounded no-underline text-gray-800 hover:bg-gray-100"
                )
                if key == active:
                    link.classes("bg-blue-50 text-blue-900 font-semibold")
                    link.props('aria-current="page"')
                if key == "inbox":
                    with link:
                        badge = ui.badge(str(unread), color="red").props(
                            f'data-testid=inbox-count aria-label="{_("Unread")}"'
                        )
                        badge.classes("ml-1").set_visibility(unread > 0)
        ui.space()
        ui.select(
            LANGUAGES,
            value=language,
            on_change=lambda event: on_language(event.value),
        ).props(f'dense outlined aria-label="{_("Language")}"').classes("w-32")
        ui.label(member_name).classes("text-gray-700 whitespace-nowrap")
        ui.button(_("Sign out"), on_click=on_sign_out).props("flat no-caps color=primary")
    with ui.column().classes("w-full max-w-screen-xl mx-auto px-6 py-6 gap-4"):
        yield badge


def set_unread(badge: ui.badge, unread: int) -> None:
    badge.set_text(str(unread))
    badge.set_visibility(unread > 0)
