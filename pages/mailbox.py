"""/dev/mailbox: the messages the embedded SMTP server received (CONTRACT.md), for people trying
the product without a mail server. The HTML part is shown in a sandboxed iframe, never in our
own page."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import HTMLResponse
from nicegui import run, ui

from components.formats import full_moment
from portal_ui.i18n import _
from portal_ui.mail import devserver
from portal_ui.mail.devserver import ReceivedMail
from web import runtime
from web.layout import staff_layout
from web.sessions import staff_page

LIMIT = 100
# Links in the message open in a new tab; with no allow-scripts nothing in it runs.
_BASE = '<base target="_blank">'
SANDBOX = "allow-popups allow-popups-to-escape-sandbox"


def not_available() -> HTMLResponse:
    title = _("Not available")
    detail = _("The mailbox exists only while the embedded SMTP server runs.")
    body = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"</head><body><main><h1>{title}</h1><p>{detail}</p></main></body></html>"
    )
    return HTMLResponse(body, status_code=404)


def _message_list(mails: list[ReceivedMail], chosen: str | None) -> None:
    with ui.element("nav").classes("w-full lg:w-96 shrink-0") as nav:
        nav.props["aria-label"] = _("Messages")
        with ui.element("ul").classes("m-0 p-0 list-none flex flex-col gap-1"):
            for mail in mails:
                current = mail.key == chosen
                with ui.element("li"):
                    link = ui.link(target=f"/dev/mailbox?key={quote(mail.key)}").classes(
                        "block rounded-lg border px-3 py-2 no-underline "
                        + (
                            "bg-blue-50 border-blue-400"
                            if current
                            else "bg-white border-gray-200 hover:bg-gray-50"
                        )
                    )
                    link.mark("mail-item")
                    if current:
                        link.props["aria-current"] = "true"
                    with link:
                        ui.label(mail.subject or _("(no subject)")).classes(
                            "font-medium text-gray-900 break-words"
                        )
                        ui.label(_("To: {to}").format(to=mail.to)).classes(
                            "text-sm text-gray-800 break-all"
                        )
                        ui.label(full_moment(mail.received_at)).classes("text-xs text-gray-700")


def _message(mail: ReceivedMail) -> None:
    with ui.card().props("flat bordered").classes("grow min-w-0 w-full p-4 gap-3"):
        ui.label(mail.subject or _("(no subject)")).classes("text-lg font-semibold text-gray-900")
        with ui.element("dl").classes("grid grid-cols-[6rem_1fr] gap-x-3 gap-y-1 m-0 text-sm"):
            for term, value in (
                (_("From"), mail.sender),
                (_("To"), mail.to),
                (_("Received"), full_moment(mail.received_at)),
            ):
                with ui.element("dt").classes("text-gray-700"):
                    ui.label(term)
                with ui.element("dd").classes("m-0 text-gray-900 break-all"):
                    ui.label(value)
        if mail.links:
            with ui.column().classes("gap-1"):
                ui.label(_("Links")).classes("text-sm font-medium text-gray-800")
                for target in mail.links:
                    ui.link(target, target).classes("text-blue-800 break-all text-sm").mark(
                        "mail-link"
                    )
        with ui.tabs().props("dense no-caps align=left active-color=primary") as tabs:
            html_tab = ui.tab("html", _("HTML part"))
            text_tab = ui.tab("text", _("Text part"))
        with ui.tab_panels(tabs, value=html_tab if mail.html else text_tab).classes("w-full"):
            with ui.tab_panel(html_tab).classes("p-0"):
                frame = ui.element("iframe").classes("w-full h-[36rem] border rounded bg-white")
                frame.props["srcdoc"] = _BASE + mail.html if mail.html else ""
                frame.props["sandbox"] = SANDBOX
                frame.props["title"] = _("HTML part of the message")
                frame.props["referrerpolicy"] = "no-referrer"
                frame.mark("mail-html")
            with ui.tab_panel(text_tab).classes("p-0"):
                ui.label(mail.text).classes(
                    "w-full whitespace-pre-wrap font-mono text-sm bg-gray-50 border rounded p-3"
                ).mark("mail-text")


@staff_page("/dev/mailbox")
async def mailbox_page(key: str | None = None) -> HTMLResponse | None:
    if runtime.current().devserver is None:
        return not_available()
    settings = runtime.settings()
    mails = await run.io_bound(devserver.list_messages, settings, LIMIT)
    chosen = next((mail for mail in mails if mail.key == key), None)
    if chosen is None and key:
        chosen = await run.io_bound(devserver.get_message, settings, key)
    chosen = chosen or (mails[0] if mails else None)
    ui.page_title(_("Mailbox") + " · " + settings.firm_name)
    async with staff_layout(_("Mailbox"), "mailbox"):
        with ui.row().classes("w-full items-center gap-3"):
            ui.label(_("Messages the embedded SMTP server received, newest first.")).classes(
                "text-gray-800"
            )
            ui.space()
            ui.button(_("Refresh"), icon="refresh", on_click=ui.navigate.reload).props(
                "outline no-caps color=primary"
            )
        if not mails:
            ui.label(_("No message yet.")).classes("text-gray-700 py-6")
            return None
        with ui.row().classes("w-full items-start gap-4 no-wrap max-lg:flex-wrap"):
            _message_list(mails, chosen.key if chosen else None)
            if chosen is not None:
                _message(chosen)
    return None
