"""Keep a page current: run a refresh in the page's client when a committed change concerns it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import Client, background_tasks, context

from portal_ui import events
from portal_ui.events import Change


def on_change(wanted: Callable[[Change], bool], refresh: Callable[[], Awaitable[None]]) -> None:
    """Call `refresh()` (coalesced: at most one running and one waiting) after each committed
    change for which `wanted(change)` holds, for as long as this page's client lives."""
    client = context.client
    state = {"running": False, "again": False}

    async def run_refresh() -> None:
        state["running"] = True
        try:
            while True:
                state["again"] = False
                with client:
                    await refresh()
                if not state["again"]:
                    break
        finally:
            state["running"] = False

    def listener(change: Change) -> None:
        # A client dropped without being deleted (the User fixture's reset between tests) is
        # gone too: its refresh would otherwise act in whichever client is current.
        if client.is_deleted or client.id not in Client.instances:
            unsubscribe()
            return
        if not wanted(change):
            return
        if state["running"]:
            state["again"] = True
            return
        background_tasks.create(run_refresh(), name="live refresh")

    unsubscribe = events.subscribe(listener)
    client.on_delete(unsubscribe)
