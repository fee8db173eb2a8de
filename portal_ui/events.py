"""An in-process stream of committed changes that pages subscribe to (no polling).

Services call `record(session, topic, ...)` while they work; the changes are published only
after the session commits, so a page never sees a change that was rolled back. Subscribers are
called on their own event loop, whichever thread committed.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Change:
    """What changed: a topic ('access', 'invitation', 'account', 'inbox', 'job', 'activity')
    and the ids it concerns, so a page can ignore what it does not show."""

    topic: str
    account_ids: frozenset[int] = field(default_factory=frozenset)
    member_ids: frozenset[int] = field(default_factory=frozenset)
    job_id: int | None = None


Listener = Callable[[Change], object]
_listeners: dict[int, tuple[Listener, asyncio.AbstractEventLoop | None]] = {}
_lock = threading.Lock()
_next_id = 0


def subscribe(listener: Listener) -> Callable[[], None]:
    """Call `listener(change)` after each commit; returns the function that unsubscribes."""
    global _next_id
    try:
        loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    with _lock:
        _next_id += 1
        key = _next_id
        _listeners[key] = (listener, loop)

    def unsubscribe() -> None:
        with _lock:
            _listeners.pop(key, None)

    return unsubscribe


def record(
    session: Session,
    topic: str,
    account_ids: object = (),
    member_ids: object = (),
    job_id: int | None = None,
) -> None:
    """Queue a change on the session; it is published if and when the session commits."""
    change = Change(topic, frozenset(account_ids), frozenset(member_ids), job_id)  # type: ignore[arg-type]
    session.info.setdefault("pending_changes", []).append(change)


def publish(change: Change) -> None:
    with _lock:
        targets = list(_listeners.items())
    for key, (listener, loop) in targets:
        if loop is not None and loop.is_closed():
            # Its loop is gone (a stopped app, a finished test): nobody can be told any more.
            with _lock:
                _listeners.pop(key, None)
            continue
        if loop is None:
            listener(change)
            continue
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            loop.call_soon(listener, change)
        else:
            loop.call_soon_threadsafe(listener, change)


@event.listens_for(Session, "after_commit")
def _publish_committed(session: Session) -> None:
    for change in session.info.pop("pending_changes", []):
        publish(change)


@event.listens_for(Session, "after_rollback")
def _drop_rolled_back(session: Session) -> None:
    session.info.pop("pending_changes", None)
