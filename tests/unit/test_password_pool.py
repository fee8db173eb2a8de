"""Password work (Argon2id, R17) runs in its own small pool: a burst of activations never makes
page reads wait (issue 5, "the event loop never blocks")."""

import asyncio
import os
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from sqlmodel import Session

from portal_ui.security import PasswordRejected
from web import runtime

BURST = 50  # clients pressing Activate at once, as in bench/activations.py


@pytest.fixture
def installed(settings, engine) -> Iterator[None]:
    before = runtime._runtime
    runtime.install(runtime.Runtime(settings=settings, engine=engine))
    yield
    runtime.stop_password_pool()
    runtime._runtime = before


def _hash_until(session: Session, busy: threading.Semaphore, release: threading.Event) -> str:
    """Stands for a service busy hashing a password; says so on `busy` as it starts."""
    busy.release()
    release.wait(10)
    return threading.current_thread().name


async def _until_busy(busy: threading.Semaphore, workers: int, timeout: float = 5) -> None:
    """Until `workers` password workers have started their work."""
    deadline = time.monotonic() + timeout
    for _ in range(workers):
        while not busy.acquire(blocking=False):
            assert time.monotonic() < deadline, "the password workers did not start"
            await asyncio.sleep(0.005)


def _page_read(session: Session) -> str:
    return threading.current_thread().name


async def test_page_reads_do_not_wait_behind_a_burst_of_password_work(installed):  # R17
    busy, release = threading.Semaphore(0), threading.Event()
    burst = [
        asyncio.ensure_future(runtime.call_hashing(_hash_until, busy, release))
        for _ in range(BURST)
    ]
    try:
        await _until_busy(busy, runtime.PASSWORD_WORKERS)  # the rest of the burst is queued
        read_by = await asyncio.wait_for(runtime.call(_page_read), timeout=2)
    finally:
        release.set()
    hashed_by = await asyncio.gather(*burst)
    assert not read_by.startswith("passwords")
    assert {name.split("_")[0] for name in hashed_by} == {"passwords"}
    assert len(set(hashed_by)) <= runtime.PASSWORD_WORKERS


def _reject(session: Session) -> None:
    raise PasswordRejected("nope")


async def test_password_work_reports_what_the_service_raises(installed):  # R17
    with pytest.raises(PasswordRejected):
        await runtime.call_hashing(_reject)


def _own_priority(session: Session) -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(sys.platform != "linux", reason="a per-thread nice value is Linux's")
async def test_password_work_gives_way_to_the_pages_for_the_cpu(installed):  # R17
    pages = await runtime.call(_own_priority)
    passwords = await runtime.call_hashing(_own_priority)
    assert passwords == min(pages + runtime.PASSWORD_NICENESS, 19) > pages
