"""The composition root: builds the NiceGUI app from the pages, the settings and the database,
and runs the mail sender (and the embedded SMTP server) alongside it."""

from __future__ import annotations

import asyncio
import importlib
import logging

from fastapi.responses import RedirectResponse
from nicegui import app, ui
from sqlalchemy import Engine

from pages import runtime
from portal_ui.config import Settings

log = logging.getLogger("portal_ui")

PAGE_MODULES = (
    "pages.login",
    "pages.accounts",
    "pages.pending",
    "pages.profile",
    "pages.inbox",
    "pages.activity",
    "pages.mailbox",
    "pages.activate",
    "pages.portal",
)


def build(settings: Settings, engine: Engine, *, start_mail: bool = True) -> None:
    """Register every page and the start-up and shut-down work."""
    runtime.install(runtime.Runtime(settings=settings, engine=engine))
    for name in PAGE_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as missing:
            if missing.name != name:
                raise

    @ui.page("/")
    def home() -> RedirectResponse:
        return RedirectResponse("/clients/accounts")

    if start_mail:
        app.on_startup(_start_mail)
        app.on_shutdown(_stop_mail)


_mail: dict[str, object] = {}


async def _start_mail() -> None:
    from portal_ui.mail import devserver
    from portal_ui.mail.sender import OutboxSender

    current = runtime.current()
    settings = current.settings
    host, port = settings.smtp_host, settings.smtp_port
    if settings.embedded_smtp:
        current.devserver = devserver.start(settings)
        host, port = "127.0.0.1", current.devserver.port
        log.warning("Embedded SMTP server on port %s; messages at /dev/mailbox", port)
    sender = OutboxSender(current.engine, settings, host=host, port=port)
    _mail["sender"] = sender
    _mail["task"] = asyncio.get_running_loop().create_task(sender.run())


async def _stop_mail() -> None:
    sender = _mail.pop("sender", None)
    if sender is not None:
        await sender.stop()  # type: ignore[attr-defined]
    handle = runtime.current().devserver
    if handle is not None:
        handle.stop()


def serve(settings: Settings, engine: Engine) -> None:
    """`portal-ui serve`: the web app on PORTAL_HOST:PORTAL_PORT until interrupted."""
    build(settings, engine)
    ui.run(
        host=settings.host,
        port=settings.port,
        title=settings.firm_name,
        storage_secret=settings.session_secret(),
        language="en-US",
        reload=False,
        show=False,
        show_welcome_message=False,
        favicon="🔑",
    )
