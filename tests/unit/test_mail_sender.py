"""The outbox sender against a real SMTP server (aiosmtpd) on loopback (R22, R22a, R27a)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select
from sqlmodel import Session

from portal_ui import access_rows, activity
from portal_ui.clock import utcnow
from portal_ui.config import Settings
from portal_ui.mail import sender as sender_module
from portal_ui.mail.sender import LEASE, OutboxSender, claim_due, retry_delay
from portal_ui.models import ActivityEvent, ContactEmail, DeliveryState, OutboxMessage
from tests.factories import actor_for, emails_of, make_account, make_member

T0 = utcnow()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Recorder:
    """An aiosmtpd handler that keeps what it accepts and answers as a test tells it to."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.data: list[bytes] = []  # every message body sent with DATA, accepted or not
        self.rcpt_answers: dict[str, str] = {}  # address -> the answer to its RCPT TO
        self.data_answer: str | None = None  # answer every DATA with this instead of "250"
        self.drop_connections = 0  # hang up on this many DATA commands

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:  # noqa: N802
        if address in self.rcpt_answers:
            return self.rcpt_answers[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        self.data.append(envelope.content)
        if self.drop_connections:
            self.drop_connections -= 1
            server.transport.close()
            return "421 4.3.2 Closing"
        if self.data_answer:
            return self.data_answer
        self.received.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 2.0.0 Queued"

    def received_by(self, address: str) -> list[EmailMessage]:
        return [m for m in self.received if m["To"] == address]


class SmtpServer:
    """A real SMTP server on a free loopback port, that a test can stop and start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.recorder = Recorder()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sender(engine: Engine, settings: Settings, smtp_server: SmtpServer) -> OutboxSender:
    return OutboxSender(engine, settings, port=smtp_server.port)


def invite(session: Session, settings: Settings, count: int = 1) -> list[ContactEmail]:
    """`count` addresses on one account, each sent an invitation at T0 (committed)."""
    member = make_member(session)
    account = make_account(session, settings, contacts_count=count)
    emails = emails_of(session, account)
    for email in emails:
        access_rows.set_login(
            session, settings, account.id, email.id, True, actor_for(member),
            send_invitation=True, now=T0,
        )  # fmt: skip
    session.commit()
    return emails


def outbox_of(engine: Engine, email: ContactEmail) -> OutboxMessage:
    with Session(engine) as fresh:
        query = select(OutboxMessage).where(OutboxMessage.email_id == email.id)
        return fresh.scalars(query).one()


def history(engine: Engine, email: ContactEmail) -> list[ActivityEvent]:
    with Session(engine) as fresh:
        return activity.invitation_history(fresh, email.id)


async def test_an_invitation_is_delivered_once_and_marked_sent(
    engine, session, settings, sender, smtp_server
):
    # R22a R27a
    [email] = invite(session, settings)

    assert await sender.deliver_due(now=T0) == 1
    assert await sender.deliver_due(now=T0 + timedelta(hours=2)) == 0

    [received] = smtp_server.recorder.received_by(email.address)
    row = outbox_of(engine, email)
    assert row.state == DeliveryState.SENT
    assert row.sent_at == T0
    assert row.last_error is None
    assert received["Message-ID"] == row.message_id
    delivered = [e for e in history(engine, email) if e.kind == activity.INVITATION_DELIVERED]
    assert [(e.actor_name, e.address) for e in delivered] == [("System", email.address)]


@pytest.mark.parametrize("refused_at", ["RCPT", "DATA"])
async def test_a_temporary_refusal_keeps_the_message_queued_with_back_off(
    engine, session, settings, sender, smtp_server, refused_at
):
    # R22a: SMTP 4xx is retried later, with the server's answer kept; then delivered exactly once.
    [email] = invite(session, settings)
    answer = "451 4.7.1 Greylisted, please try again later"
    if refused_at == "RCPT":
        smtp_server.recorder.rcpt_answers[email.address] = answer
    else:
        smtp_server.recorder.data_answer = answer

    assert await sender.deliver_due(now=T0) == 0

    row = outbox_of(engine, email)
    assert (row.state, row.attempts, row.last_error) == (DeliveryState.QUEUED, 1, answer)
    assert T0 + timedelta(seconds=30) <= row.next_attempt_at <= T0 + timedelta(seconds=33)
    smtp_server.recorder.rcpt_answers.clear()
    smtp_server.recorder.data_answer = None
    assert await sender.deliver_due(now=T0 + timedelta(seconds=10)) == 0  # not due yet
    assert await sender.deliver_due(now=T0 + timedelta(minutes=1)) == 1
    assert await sender.deliver_due(now=T0 + timedelta(hours=2)) == 0
    assert len(smtp_server.recorder.received_by(email.address)) == 1
    assert outbox_of(engine, email).state == DeliveryState.SENT
    assert outbox_of(engine, email).last_error is None
    assert invalid_reason(engine, email) is None


async def test_a_retry_sends_the_very_same_message(engine, session, settings, sender, smtp_server):
    # R22a: the message is built from its row on every attempt: same bytes, same Message-ID.
    [email] = invite(session, settings)
    smtp_server.recorder.data_answer = "451 4.3.0 Try again later"
    assert await sender.deliver_due(now=T0) == 0
    smtp_server.recorder.data_answer = None

    assert await sender.deliver_due(now=T0 + timedelta(hours=1)) == 1

    refused, accepted = smtp_server.recorder.data
    assert refused == accepted
    [received] = smtp_server.recorder.received_by(email.address)
    assert received["Message-ID"] == outbox_of(engine, email).message_id


async def test_the_bodies_and_their_link_are_kept_only_until_sent_or_failed_for_good(
    engine, session, settings, sender, smtp_server
):
    # R22a R15: the bodies carry the activation link; a message done with keeps none at rest.
    sent, retried, refused = invite(session, settings, count=3)
    smtp_server.recorder.rcpt_answers[retried.address] = "451 4.7.1 Greylisted"
    smtp_server.recorder.rcpt_answers[refused.address] = "550 5.1.1 User unknown"

    assert await sender.deliver_due(now=T0) == 1

    waiting = outbox_of(engine, retried)
    assert waiting.state == DeliveryState.QUEUED
    assert "/activate/" in waiting.text_body and "/activate/" in waiting.html_body
    for done, state in ((sent, DeliveryState.SENT), (refused, DeliveryState.FAILED)):
        row = outbox_of(engine, done)
        assert (row.state, row.text_body, row.html_body) == (state, "", "")
        assert row.subject and row.message_id  # what the pending list and history show
    [received] = smtp_server.recorder.received_by(sent.address)
    assert "/activate/" in received.get_body(preferencelist=("plain",)).get_content()


async def test_messages_wait_while_the_server_is_down_and_none_is_lost(engine, session, settings):
    # R22a: connection refused is a temporary failure.
    emails = invite(session, settings, count=3)
    server = SmtpServer()  # not started: nothing listens on its port
    sender = OutboxSender(engine, settings, port=server.port)

    assert await sender.deliver_due(now=T0) == 0

    for email in emails:
        row = outbox_of(engine, email)
        assert (row.state, row.attempts) == (DeliveryState.QUEUED, 1)
        assert str(server.port) in (row.last_error or "")
    server.start()
    try:
        assert await sender.deliver_due(now=T0 + timedelta(minutes=1)) == 3
    finally:
        server.stop()
    for email in emails:
        assert len(server.recorder.received_by(email.address)) == 1
        assert outbox_of(engine, email).state == DeliveryState.SENT


async def test_a_permanent_refusal_marks_the_address_undeliverable(
    engine, session, settings, sender, smtp_server
):
    # R22 R22a R27a: a 5xx for one recipient fails that message only; the rest of the batch goes.
    first, refused, last = invite(session, settings, count=3)
    answer = "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown"
    smtp_server.recorder.rcpt_answers[refused.address] = answer

    assert await sender.deliver_due(now=T0) == 2

    row = outbox_of(engine, refused)
    assert (row.state, row.last_error) == (DeliveryState.FAILED, answer)
    assert invalid_reason(engine, refused) == answer
    failed = [e for e in history(engine, refused) if e.kind == activity.INVITATION_FAILED]
    assert [(e.actor_name, e.detail["reason"]) for e in failed] == [("System", answer)]
    for email in (first, last):
        assert outbox_of(engine, email).state == DeliveryState.SENT
        assert len(smtp_server.recorder.received_by(email.address)) == 1
    assert await sender.deliver_due(now=T0 + timedelta(days=1)) == 0  # a failure is final


async def test_a_message_refused_after_data_fails_without_marking_the_address(
    engine, session, settings, sender, smtp_server
):
    # R22a: a 5xx for the message itself (size, content) is final, but the address stays valid.
    [email] = invite(session, settings)
    smtp_server.recorder.data_answer = "554 5.6.0 Message content rejected"

    assert await sender.deliver_due(now=T0) == 0

    row = outbox_of(engine, email)
    assert (row.state, row.last_error) == (
        DeliveryState.FAILED,
        "554 5.6.0 Message content rejected",
    )
    assert invalid_reason(engine, email) is None


async def test_a_dropped_connection_is_reopened_for_the_rest_of_the_batch(
    engine, session, settings, sender, smtp_server
):
    # R22a
    emails = invite(session, settings, count=3)
    smtp_server.recorder.drop_connections = 1

    assert await sender.deliver_due(now=T0) == 2
    assert await sender.deliver_due(now=T0 + timedelta(minutes=1)) == 1

    for email in emails:
        assert len(smtp_server.recorder.received_by(email.address)) == 1
        assert outbox_of(engine, email).state == DeliveryState.SENT


async def test_a_restart_resumes_what_a_stopped_sender_left_without_resending(
    engine, session, settings, sender, smtp_server
):
    # R22a: a restart resumes where it stopped; nothing lost, nothing sent twice.
    [delivered_first] = invite(session, settings)
    assert await sender.deliver_due(now=T0) == 1
    left = invite(session, settings, count=2)
    with Session(engine) as crashed:  # a sender claims a batch, then its process dies
        assert len(claim_due(crashed, T0)) == 2
        crashed.commit()
    assert {outbox_of(engine, email).state for email in left} == {DeliveryState.SENDING}

    restarted = OutboxSender(engine, settings, port=smtp_server.port)
    assert await restarted.deliver_due(now=T0 + timedelta(minutes=1)) == 0  # lease still held
    assert await restarted.deliver_due(now=T0 + LEASE + timedelta(seconds=1)) == 2

    for email in [delivered_first, *left]:
        assert len(smtp_server.recorder.received_by(email.address)) == 1
        assert outbox_of(engine, email).state == DeliveryState.SENT


async def test_concurrent_senders_never_deliver_a_message_twice(
    engine, session, settings, smtp_server
):
    # R22a: several senders (or connections) claim disjoint batches.
    emails = invite(session, settings, count=6)
    one, two = (OutboxSender(engine, settings, port=smtp_server.port) for _ in range(2))

    counts = await asyncio.gather(one.deliver_due(now=T0), two.deliver_due(now=T0))

    assert sum(counts) == 6
    assert sorted(m["To"] for m in smtp_server.recorder.received) == sorted(
        e.address for e in emails
    )


class WatchedSender(OutboxSender):
    """An OutboxSender that says when it has looked at the outbox (`looked`)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.looked = asyncio.Event()

    async def deliver_due(self, now=None) -> int:
        try:
            return await super().deliver_due(now)
        finally:
            self.looked.set()


async def test_the_running_sender_delivers_a_committed_message_at_once(
    engine, session, settings, smtp_server
):
    # R22a: the sender wakes on the commit (events), not on its retry timer.
    sender = WatchedSender(engine, settings, port=smtp_server.port)
    task = asyncio.create_task(sender.run())
    await asyncio.wait_for(sender.looked.wait(), timeout=5)  # at the empty queue; now it waits
    [email] = invite(session, settings)
    started = time.monotonic()
    while not smtp_server.recorder.received and time.monotonic() - started < 3:
        await asyncio.sleep(0.01)
    elapsed = time.monotonic() - started

    await sender.stop()

    assert task.done()
    assert len(smtp_server.recorder.received_by(email.address)) == 1
    assert elapsed < sender_module.RETRY_INTERVAL / 2


def test_the_back_off_doubles_from_30_seconds_up_to_an_hour():  # R22a
    for attempts, seconds in [(0, 30), (1, 60), (2, 120), (5, 960), (7, 3600), (40, 3600)]:
        delay = retry_delay(attempts).total_seconds()
        assert seconds <= delay <= seconds * 1.1


def invalid_reason(engine: Engine, email: ContactEmail) -> str | None:
    with Session(engine) as fresh:
        return fresh.get(ContactEmail, email.id).invalid_reason
