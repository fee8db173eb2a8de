"""What pages share at run time: the settings, the database, and a way to call services
off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, Concatenate, ParamSpec, TypeVar

from fastapi import Request
from nicegui import context, core, run, ui
from sqlalchemy import Engine
from sqlmodel import Session

from portal_ui import sessions
from portal_ui.config import Settings
from portal_ui.db import session_scope

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    # The embedded SMTP server's handle when it runs (enables /dev/mailbox).
    devserver: Any = None


_runtime: Runtime | None = None


def install(runtime: Runtime) -> None:
    global _runtime
    _runtime = runtime


def current() -> Runtime:
    if _runtime is None:
        raise RuntimeError("the web app is not built yet")
    return _runtime


def settings() -> Settings:
    return current().settings


@dataclass(frozen=True)
class Guard:
    """The session a team or portal page was opened with (R34): every service the page calls
    afterwards runs only while that session lives, checked in the service's own transaction."""

    token: str
    # Where an action of a page whose session has ended leads.
    sign_in: str


class SessionEnded(Exception):
    """The page's session ended (sign-out elsewhere, deactivation, idle, Login off)."""


def page_request() -> Request | None:
    """The HTTP request the page in context was opened with (None outside a page)."""
    try:
        return context.client.request
    except RuntimeError:  # no page in context: a start-up task, a command
        return None


def _page_guard() -> Guard | None:
    request = page_request()
    return getattr(request.state, "guard", None) if request is not None else None


def _in_transaction(
    guard: Guard | None,
    service: Callable[Concatenate[Session, P], R],
    *args: P.args,
    **kwargs: P.kwargs,
) -> R:
    settings = current().settings
    with session_scope(current().engine) as session:
        idle = timedelta(hours=settings.session_idle_hours)
        if guard is None or sessions.current(session, guard.token, idle) is not None:
            return service(session, *args, **kwargs)
    # Outside the block, so that the session's end (written by sessions.current) is committed.
    raise SessionEnded()


async def _guarded(work: Callable[[Guard | None], Awaitable[R]]) -> R:
    guard = _page_guard()
    try:
        return await work(guard)
    except SessionEnded:
        # The one place where an action of a dead session is refused: it changed nothing;
        # the page goes to sign-in and the handler stops here.
        if guard is not None:
            ui.navigate.to(guard.sign_in)
        raise asyncio.CancelledError() from None


async def call(
    service: Callable[Concatenate[Session, P], R], *args: P.args, **kwargs: P.kwargs
) -> R:
    """Run `service(session, ...)` in a worker thread, in one transaction committed on success,
    once the page's session is checked in that transaction; domain errors propagate to the
    page, which shows them."""

    async def work(guard: Guard | None) -> R:
        result = await run.io_bound(_in_transaction, guard, service, *args, **kwargs)
        if result is None and core.app.is_stopping:
            # NiceGUI answers None instead of running the call while the app stops.
            raise asyncio.CancelledError()
        return result  # type: ignore[return-value]

    return await _guarded(work)


def _cores() -> int:
    """The cores this process may run on (a container may allow fewer than the machine has)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


# Argon2id is slow on purpose (about 0.2 s of one core a hash, portal_ui/security.py). In
# NiceGUI's one shared run.io_bound pool (min(32, cores + 4) threads: 6 on 2 cores), 50 clients
# activating at once took every worker, page reads queued behind them for tens of seconds and
# socket.io pings timed out (bench/README.md, "Activations"). Password work has its own pool:
# at most half the cores hash at once (a hash is one thread), the rest serve the pages; a burst
# waits in this queue, not in the pages'.
PASSWORD_WORKERS = max(1, _cores() // 2)
# And a lower CPU priority (a per-thread nice value on Linux): when a page and a hash want the
# same core, the page gets it. Measured on 2 cores, staff paging during 50 activations: 1.0-1.1
# times its idle latency with it, 1.3-1.5 without; the activations took as long either way.
# (An activation's writes, a few milliseconds after its hash, run at this priority too.)
PASSWORD_NICENESS = 10
_password_pool: ThreadPoolExecutor | None = None


def _yield_to_pages() -> None:
    with contextlib.suppress(AttributeError, OSError):  # elsewhere: the usual priority
        thread = threading.get_native_id()
        niceness = os.getpriority(os.PRIO_PROCESS, thread) + PASSWORD_NICENESS
        os.setpriority(os.PRIO_PROCESS, thread, min(niceness, 19))  # 19: the lowest there is


def _passwords() -> ThreadPoolExecutor:
    global _password_pool
    if _password_pool is None:
        _password_pool = ThreadPoolExecutor(
            PASSWORD_WORKERS, thread_name_prefix="passwords", initializer=_yield_to_pages
        )
    return _password_pool


def stop_password_pool() -> None:
    """On shut-down: drop the password work still queued (a hash already running finishes)."""
    global _password_pool
    pool, _password_pool = _password_pool, None
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


async def call_hashing(
    service: Callable[Concatenate[Session, P], R], *args: P.args, **kwargs: P.kwargs
) -> R:
    """`call` for a service that hashes or verifies a password (activation, reset,
    sign-in): the same transaction and errors, in the password pool instead of the pages'."""
    if core.app.is_stopping:
        raise asyncio.CancelledError()

    async def work(guard: Guard | None) -> R:
        job = partial(_in_transaction, guard, service, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(_passwords(), job)

    return await _guarded(work)
