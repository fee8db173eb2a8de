"""The staff layout: the frame filled with the signed-in member and a live Inbox+ count; and
the Clients layout with its two tabs, Accounts and Pending activation (R21, R23)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from nicegui import ui

from components.feedback import counted, number
from components.frame import heading, set_unread, staff_frame
from portal_ui import activity, i18n, pending, staff
from portal_ui.i18n import _, ngettext
from web import live, runtime, sessions


async def _sign_out() -> None:
    await sessions.sign_out(sessions.STAFF_SIGN_IN)


@asynccontextmanager
async def staff_layout(title: str, active: str) -> AsyncIterator[int]:
    """Yields the signed-in member's id inside the page's main column, under its one <h1>."""
    member_id = sessions.staff_member_id() or 0
    member, unread = await runtime.call(staff.header, member_id)
    name = member.name if member else ""
    language = i18n.language()  # the member's, set when the page opened (web.sessions)

    async def change_language(code: str) -> None:
        await runtime.call(staff.set_language, member_id, code)
        sessions.set_language(code)
        ui.navigate.reload()

    with staff_frame(
        firm_name=runtime.settings().firm_name,
        member_name=name,
        unread=unread,
        active=active,
        language=language,
        on_language=change_language,
        on_sign_out=_sign_out,
    ) as badge:

        async def refresh_badge() -> None:
            set_unread(badge, await runtime.call(activity.unread_count, member_id))

        live.on_change(
            lambda change: change.topic == "inbox" and member_id in change.member_ids,
            refresh_badge,
        )
        heading(title)
        yield member_id


ACCOUNTS_PATH = "/clients/accounts"
PENDING_PATH = "/clients/accounts/pending"
TAB_PATHS = {"accounts": ACCOUNTS_PATH, "pending": PENDING_PATH}


@asynccontextmanager
async def clients_layout(active_tab: str) -> AsyncIterator[int]:
    """The staff frame and the two tabs of R21/R23; yields the signed-in member's id."""
    async with staff_layout(_("Clients"), "accounts") as member_id:
        with (
            ui.tabs(value=active_tab)
            .props("align=left no-caps inline-label active-color=primary indicator-color=primary")
            .classes("w-full text-gray-800 border-b border-gray-200") as tabs
        ):
            ui.tab("accounts", _("Accounts"))
            with ui.tab("pending", _("Pending activation")):
                badge = ui.badge("", color="amber-2", text_color="amber-10").props("rounded")
                badge.classes("ml-2 font-semibold").set_visibility(False)
        tabs.on_value_change(lambda event: ui.navigate.to(TAB_PATHS[event.value]))

        async def refresh_count() -> None:
            total = (await runtime.call(pending.list_pending, limit=1)).total
            badge.set_text(number(total))
            badge.props["aria-label"] = counted(
                ngettext("{n} address", "{n} addresses", total), total
            )
            badge.set_visibility(total > 0)

        await refresh_count()
        live.on_change(lambda change: change.topic in ("invitation", "account"), refresh_count)
        yield member_id
