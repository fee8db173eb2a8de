"""/inbox: the team member's Inbox+ (R13, R18, R29): newest first, unread marked, "Go to"
links, mark as read one by one or all at once; kept current without polling."""

from __future__ import annotations

from nicegui import ui

from components.formats import full_moment
from portal_ui import activity
from portal_ui.i18n import _
from portal_ui.models import InboxNotification
from web import live, runtime
from web.layout import staff_layout
from web.sessions import staff_page

PAGE_SIZE = 50


class InboxPage:
    def __init__(self, member_id: int) -> None:
        self.member_id = member_id
        self.limit = PAGE_SIZE
        with ui.row().classes("w-full items-center gap-3"):
            self.summary = ui.label().classes("text-gray-800").props("aria-live=polite")
            self.summary.mark("inbox-summary")
            ui.space()
            self.mark_all = ui.button(
                _("Mark all as read"), icon="done_all", on_click=self.read_all
            )
            self.mark_all.props("outline no-caps color=primary").mark("mark-all-read")
        self.list = ui.element("ul").classes("w-full m-0 p-0 list-none flex flex-col gap-2")
        self.list.props["aria-label"] = _("Notifications")
        self.more = ui.button(_("Show more"), on_click=self.show_more)
        self.more.props("flat no-caps color=primary").classes("self-center")

    async def refresh(self) -> None:
        items, unread = await runtime.call(activity.inbox_page, self.member_id, self.limit)
        self.summary.set_text(
            _("{count} unread").format(count=unread) if unread else _("Everything is read.")
        )
        self.mark_all.set_enabled(unread > 0)
        self.more.set_visibility(len(items) >= self.limit)
        self.list.clear()
        with self.list:
            if not items:
                ui.label(_("No notifications yet.")).classes("text-gray-700 py-6 self-center")
            for item in items:
                self._item(item)

    def _item(self, item: InboxNotification) -> None:
        title, body = activity.describe_notification(item, _)
        unread = item.read_at is None
        row = ui.element("li").classes(
            "w-full flex items-start gap-3 rounded-lg border p-4 "
            + ("bg-blue-50 border-blue-300" if unread else "bg-white border-gray-200")
        )
        row.mark("inbox-item", f"inbox-item:{item.id}", "unread" if unread else "read")
        with row:
            dot = ui.element("span").classes(
                "mt-1.5 w-2.5 h-2.5 rounded-full shrink-0 "
                + ("bg-blue-700" if unread else "bg-transparent")
            )
            dot.props["aria-hidden"] = "true"
            with ui.column().classes("gap-1 grow min-w-0"):
                with ui.row().classes("items-baseline gap-2"):
                    if unread:
                        ui.label(_("Unread")).classes("sr-only")
                    ui.label(title).classes(
                        "text-gray-900 " + ("font-semibold" if unread else "font-medium")
                    )
                if body:
                    ui.label(body).classes("text-sm text-gray-800 whitespace-pre-line")
                ui.label(_when(item)).classes("text-xs text-gray-700")
            with ui.row().classes("items-center gap-2 shrink-0"):
                if item.link:
                    go = ui.link(_("Go to"), item.link).classes(
                        "px-3 py-1.5 rounded text-blue-800 font-medium hover:bg-blue-100"
                    )
                    go.on("click", lambda _event, key=item.id: self.read([key]))
                if unread:
                    button = ui.button(
                        icon="mark_email_read", on_click=lambda _e, key=item.id: self.read([key])
                    ).props("flat round dense color=primary")
                    button.props["aria-label"] = _("Mark as read: {title}").format(title=title)
                    button.tooltip(_("Mark as read"))
                    button.mark("mark-read")

    async def read(self, ids: list[int] | None) -> None:
        await runtime.call(activity.mark_read, self.member_id, ids)
        await self.refresh()

    async def read_all(self) -> None:
        await self.read(None)

    async def show_more(self) -> None:
        self.limit += PAGE_SIZE
        await self.refresh()


def _when(item: InboxNotification) -> str:
    return full_moment(item.at)


@staff_page("/inbox")
async def inbox_page() -> None:
    ui.page_title(_("Inbox+") + " · " + runtime.settings().firm_name)
    async with staff_layout(_("Inbox+"), "inbox") as member_id:
        page = InboxPage(member_id)
        await page.refresh()
        live.on_change(
            lambda change: change.topic == "inbox" and member_id in change.member_ids,
            page.refresh,
        )
