"""The composition root: builds the NiceGUI app from the pages, the settings and the database,
and runs the mail sender (and the embedded SMTP server) alongside it."""

from __future__ import annotations

import asyncio
import importlib
import logging
from datetime import datetime
from functools import partial

from fastapi.responses import RedirectResponse
from nicegui import app, background_tasks, run, ui
from sqlalchemy import Engine

from portal_ui import bulk, imports, jobs, security
from portal_ui.clock import utcnow
from portal_ui.config import Settings
from portal_ui.db import session_scope
from portal_ui.i18n import _
from portal_ui.mail import devserver
from portal_ui.mail.sender import OutboxSender
from web import error_pages, hardening, head_requests, runtime, sessions

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
    "pages.imports",
)
# Which function runs each kind of job, for the jobs a stopped process left (R13, R32, R40).
jobs.register(bulk.JOB_KIND, bulk.run_job)
jobs.register(imports.JOB_KIND, imports.run_job)


def build(settings: Settings, engine: Engine, *, start_mail: bool = True) -> None:
    """Register every page and the start-up and shut-down work."""
    runtime.install(runtime.Runtime(settings=settings, engine=engine))
    app.add_middleware(sessions.SessionGate)
    app.add_middleware(head_requests.HeadAsGet)
    app.add_middleware(hardening.Hardening, settings=settings)  # the outermost: every answer
    for name in PAGE_MODULES:
        importlib.import_module(name)  # each page module registers its routes
    error_pages.install()
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
    """Start delivering the outbox (and the embedded SMTP server), and finish the bulk and
    import jobs a stopped process left unfinished: nothing queued is lost across a restart
    (R13, R22a, R32); then keep looking for jobs whose runner died (R40)."""
    current = runtime.current()
    settings = current.settings
    host, port = settings.smtp_host, settings.smtp_port
    if settings.embedded_smtp:
        current.devserver = devserver.start(settings)
        host, port = "127.0.0.1", current.devserver.port
        log.warning(mailbox_notice(settings, port))
    sender = OutboxSender(current.engine, settings, host=host, port=port)
    _background["sender"] = sender
    background_tasks.create(sender.run(), name="outbox sender")
    for job_id in await run.io_bound(_unfinished_jobs, current.engine) or []:
        background_tasks.create(_resume_job(job_id), name=f"job {job_id}")
    background_tasks.create(_watch_jobs(), name="job watcher")


def _unfinished_jobs(engine: Engine, now: datetime | None = None) -> list[int]:
    with session_scope(engine) as session:
        return jobs.unfinished_jobs(session, now=now)


async def _resume_job(job_id: int) -> None:
    """Run a bulk update or an import left unfinished (jobs.claim decides whether it may)."""
    current = runtime.current()
    try:
        await run.io_bound(jobs.run_job, current.engine, current.settings, job_id, resume=True)
    except Exception:  # the job records its own failure and reports it in Inbox+
        log.exception("job %s failed", job_id)


async def _watch_jobs() -> None:
    """R40: a job whose process died (its lease ran out) is resumed by this one."""
    running: set[int] = set()
    while not app.is_stopping:
        await asyncio.sleep(jobs.WATCH_INTERVAL.total_seconds())
        try:
            found = await run.io_bound(_unfinished_jobs, runtime.current().engine, utcnow())
        except Exception:  # the database may be briefly unreachable: look again later
            log.exception("cannot look for unfinished jobs")
            continue
        for job_id in set(found or []) - running:
            running.add(job_id)
            task = background_tasks.create(_resume_job(job_id), name=f"job {job_id}")
            task.add_done_callback(lambda _task, job_id=job_id: running.discard(job_id))


async def _stop_background() -> None:
    sender = _background.pop("sender", None)
    if sender is not None:
        await sender.stop()
    handle = runtime.current().devserver
    if handle is not None:
        handle.stop()


def mailbox_notice(settings: Settings, smtp_port: int) -> str:
    """The start-up warning without PORTAL_SMTP_HOST: right for a first run, a surprise in a
    real deployment, so it names the mailbox and says that no email leaves the machine."""
    return _(
        "No PORTAL_SMTP_HOST: no email leaves this machine. Every email is kept in the mailbox"
        " at {url} (embedded SMTP server on port {port}) and marked sent."
    ).format(url=f"{settings.public_base_url}/dev/mailbox", port=smtp_port)


def listening_notice(settings: Settings) -> str:
    """Where the app listens (NiceGUI's welcome message and uvicorn's are turned off)."""
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return _("Portal UI listens on {url}").format(url=f"http://{host}:{settings.port}")


def _announce(settings: Settings) -> None:
    print(listening_notice(settings), flush=True)
    if security.HASH_COST != security.PRODUCTION_COST:
        # PORTAL_PASSWORD_HASH_COST=test, which the test suites set: never for real accounts.
        log.warning(
            _("Passwords are hashed at the test cost ({variable}={cost}).").format(
                variable=security.HASH_COST_VARIABLE, cost=security.HASH_COST
            )
        )


def serve(settings: Settings, engine: Engine) -> None:
    """`portal-ui serve`: the web app on PORTAL_HOST:PORTAL_PORT until interrupted."""
    app.on_startup(partial(_announce, settings))
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
