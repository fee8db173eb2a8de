"""What pages share at run time: the settings, the database, and a way to call services
off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar

from nicegui import core, run
from sqlalchemy import Engine
from sqlmodel import Session

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


def _in_transaction(
    service: Callable[Concatenate[Session, P], R], *args: P.args, **kwargs: P.kwargs
) -> R:
    with session_scope(current().engine) as session:
        return service(session, *args, **kwargs)


async def call(
    service: Callable[Concatenate[Session, P], R], *args: P.args, **kwargs: P.kwargs
) -> R:
    """Run `service(session, ...)` in a worker thread, in one transaction committed on success;
    domain errors propagate to the page, which shows them."""
    result = await run.io_bound(_in_transaction, service, *args, **kwargs)
    if result is None and core.app.is_stopping:
        # NiceGUI answers None instead of running the call while the app stops.
        raise asyncio.CancelledError()
    return result  # type: ignore[return-value]
