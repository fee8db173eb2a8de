"""Delivering the bulk edit's invitations from the outbox (OutboxSender.deliver_due) to an
aiosmtpd server on loopback, against raw aiosmtplib sending the same messages to the same
server over as many connections."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiosmtplib
from sqlalchemy import select
from sqlmodel import Session, col

from bench.bulk_edit import prepared_outbox, settings_for
from bench.harness import Figure, Goal, Run, copy_db, db_url, free_port, median, run_async, spawn
from portal_ui.db import make_engine
from portal_ui.mail import outbox, sender
from portal_ui.mail.sender import OutboxSender
from portal_ui.models import DeliveryState, OutboxMessage

NAME = "delivery"
GOAL = Goal("throughput ratio >= 0.8", ratio=0.8, higher_is_better=True)
MAIL_FROM = "portal@localhost"


@contextmanager
def sink_server() -> Iterator[int]:
    """aiosmtpd in its own process (as a real mail server would be), accepting everything."""
    port = free_port()
    command = [sys.executable, "-m", "aiosmtpd", "-n", "-u", "-c", "aiosmtpd.handlers.Sink"]
    process = spawn(
        [*command, "-l", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, process)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the aiosmtpd server exited")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the aiosmtpd server did not answer")


def queued_messages(database: Path) -> list[tuple[str, bytes]]:
    """Each queued message's recipient and the very bytes the sender will send."""
    settings = settings_for(database)
    engine = make_engine(db_url(database))
    try:
        with Session(engine) as session:
            query = (
                select(OutboxMessage)
                .where(OutboxMessage.state == DeliveryState.QUEUED.value)
                .order_by(col(OutboxMessage.id))
            )
            rows = session.scalars(query)
            return [(row.to_address, outbox.build_message(settings, row)) for row in rows]
    finally:
        engine.dispose()


def service_delivery(database: Path, port: int) -> tuple[float, int]:
    """Seconds for the sender to deliver everything due, and how many it delivered."""
    settings = settings_for(database).model_copy(update={"smtp_port": port})
    engine = make_engine(settings.database_url)
    try:
        outbox = OutboxSender(engine, settings, host="127.0.0.1", port=port)
        start = time.perf_counter()
        delivered = run_async(outbox.deliver_due())
        return time.perf_counter() - start, delivered
    finally:
        engine.dispose()


async def _raw_send(messages: list[tuple[str, bytes]], port: int, connections: int) -> int:
    async def one_connection(share: list[tuple[str, bytes]]) -> int:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, local_hostname="localhost")
        await smtp.connect()
        for to, raw in share:
            await smtp.sendmail(MAIL_FROM, [to], raw)
        await smtp.quit()
        return len(share)

    shares = [messages[n::connections] for n in range(connections)]
    counts = await asyncio.gather(*(one_connection(share) for share in shares if share))
    return sum(counts)


def floor_delivery(messages: list[tuple[str, bytes]], port: int) -> tuple[float, int]:
    start = time.perf_counter()
    sent = run_async(_raw_send(messages, port, sender.CONNECTIONS))
    return time.perf_counter() - start, sent


def run(run: Run) -> list[Figure]:
    source = prepared_outbox(run)
    messages = queued_messages(source)
    if not messages:
        raise RuntimeError("the bulk edit left no message in the outbox")
    values, floors = [], []
    with sink_server() as port:
        floor_delivery(messages[:200], port)  # warm-up
        warm = run.workdir / "delivery-warmup.db"
        copy_db(source, warm)
        service_delivery(warm, port)
        warm.unlink()
        for n in range(run.heavy_repeat):
            database = copy_db(source, run.workdir / f"delivery-{n}.db")
            seconds, delivered = service_delivery(database, port)
            if delivered != len(messages):
                raise AssertionError(f"the sender delivered {delivered} of {len(messages)}")
            values.append(delivered / seconds)
            database.unlink()
            seconds, sent = floor_delivery(messages, port)
            floors.append(sent / seconds)
    size = sum(len(raw) for _, raw in messages) / len(messages) / 1024
    note = (
        f"{len(messages):,} messages of {size:.1f} KB, {sender.CONNECTIONS} connections each side"
    )
    return [
        Figure(
            NAME, "outbox delivery to aiosmtpd on loopback", "msg/s", GOAL,
            value=median(values), floor=median(floors), floor_name="raw aiosmtplib",
            samples=len(values), note=note,
        )
    ]  # fmt: skip
