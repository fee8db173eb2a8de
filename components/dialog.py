"""The frame every dialog shares: a card named and headed by its title (screen readers announce
it), Cancel beside the dialog's action, and the answer once the dialog closes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from nicegui import context, ui

from components.frame import heading
from portal_ui.i18n import _

T = TypeVar("T")


@contextmanager
def titled_dialog(title: str, width: str = "max-w-md") -> Iterator[ui.dialog]:
    """Build the dialog's content inside; `width` is the card's Tailwind max-width."""
    with ui.dialog() as dialog, ui.card().classes(f"w-full {width} p-6 gap-4"):
        dialog.props["aria-label"] = title
        heading(title, level=2)
        yield dialog


def dialog_buttons(
    dialog: ui.dialog,
    label: str,
    on_click: Callable[..., Any],
    marker: str,
    *,
    cancelled: Any = False,
    cancel_marker: str = "",
) -> ui.button:
    """Cancel (which answers `cancelled`) and the action button, at the end of the dialog;
    returns the action button."""
    with ui.row().classes("w-full justify-end gap-2"):
        cancel = ui.button(_("Cancel"), on_click=lambda: dialog.submit(cancelled))
        cancel.props("flat no-caps color=primary")
        if cancel_marker:
            cancel.mark(cancel_marker)
        button = ui.button(label, on_click=on_click)
        button.props("unelevated no-caps color=primary").mark(marker)
    return button


async def answer(dialog: ui.dialog) -> Any:
    """Wait until the dialog closes, then remove it from the page; its answer."""
    result = await dialog
    dialog.delete()
    return result


async def modal(dialog: Awaitable[T]) -> T:
    """Run a dialog that outlives the part of the page that opened it: the page may rebuild
    that part meanwhile (a live refresh), which would otherwise delete the dialog with it."""
    with context.client.layout:
        return await dialog
