"""The frame of the client's public pages (activation, password reset): one centred card under
the firm's name, so the client knows who is asking."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from nicegui import ui


@contextmanager
def public_card(firm_name: str) -> Iterator[ui.card]:
    """Lay out the page and yield the card to fill."""
    ui.colors(primary="#1d4ed8")
    ui.query("body").classes("bg-gray-50")
    with ui.element("main").classes("w-full min-h-screen flex flex-col items-center p-4 pt-12"):
        with ui.row().classes("items-center gap-2 mb-4"):
            ui.icon("lock", size="1.4rem").classes("text-blue-800").props('aria-hidden="true"')
            ui.label(firm_name).classes("text-xl font-bold text-blue-800")
        with ui.card().classes("w-full max-w-md p-8 gap-4 shadow-sm") as card:
            yield card
