"""The composition root: builds the NiceGUI app from the pages, the settings and the database,
and runs the mail sender (and the embedded SMTP server) alongside it."""

from __future__ import annotations

import importlib
import logging

from fastapi.responses import RedirectResponse
from nicegui import app, background_tasks, run, ui
from sqlalchemy import Engine

from pages import hardening, runtime, sessions
from portal_ui import bulk
from portal_ui.config import Settings
from portal_ui.db import session_scope
from portal_ui.mail import devserver
from portal_ui.mail.sender import OutboxSender

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
    app.add_middleware(sessions.SessionGate)
    app.add_middleware(hardening.Hardening, settings=settings)  # the outermost: every answer
    for name in PAGE_MODULES:
        importlib.import_module(name)  # each page module registers its routes
    app.add_api_route(
        sessions.BEGIN_PATH, sessions.begin_session, methods=["GET"], include_in_schema=False
    )

    app.on_shutdown(runtime.stop_password_pool)

    @ui.page("/")
    def home() -> RedirectResponse:
        return RedirectResponse("/clients/accounts")

    if start_mail:
        app.on_startup(_start_background)
        app.on_shutdown(_stop_background)


_background: dict[str, OutboxSender] = {}


async def _start_background() -> None:
    """Start delivering the outbox (and the embedded SMTP server), and finish the bulk jobs a
    stopped process left unfinished: nothing queued is lost across a restart (R13, R22a)."""
    current = runtime.current()
    settings = current.settings
    host, port = settings.smtp_host, settings.smtp_port
    if settings.embedded_smtp:
        current.devserver = devserver.start(settings)
        host, port = "127.0.0.1", current.devserver.port
        log.warning("Embedded SMTP server on port %s; messages at /dev/mailbox", port)
    sender = OutboxSender(current.engine, settings, host=host, port=port)
    _background["sender"] = sender
    background_tasks.create(sender.run(), name="outbox sender")
    for job_id in await run.io_bound(_unfinished_jobs, current.engine) or []:
        background_tasks.create(_resume_job(job_id), name=f"bulk job {job_id}")


def _unfinished_jobs(engine: Engine) -> list[int]:
    with session_scope(engine) as session:
        return bulk.unfinished_jobs(session)


async def _resume_job(job_id: int) -> None:
    current = runtime.current()
    try:
        await run.io_bound(bulk.run_job, current.engine, current.settings, job_id, resume=True)
    except Exception:  # the job records its own failure and reports it in Inbox+
        log.exception("bulk job %s failed", job_id)


async def _stop_background() -> None:
    sender = _background.pop("sender", None)
    if sender is not None:
        await sender.stop()
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
        # R36: NiceGUI's browser cookie (which only keeps the reader's language) is HttpOnly and
        # SameSite=Lax already; Secure too when the product is reached over https.
        session_middleware_kwargs={"https_only": settings.secure_cookies, "same_site": "lax"},
        # R33: uvicorn would believe X-Forwarded-For from any loopback connection; who the
        # client is gets decided by PORTAL_TRUSTED_PROXIES alone (pages.login.client_address).
        proxy_headers=False,
        language="en-US",
        reload=False,
        show=False,
        show_welcome_message=False,
        favicon="🔑",
    )
