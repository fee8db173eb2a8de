"""The outbox sender (R22a): delivers queued emails over SMTP, retries temporary failures with
back-off, and records permanent refusals (R22).

Delivery is at least once and, short of a crash between the server's "250" and our record of
it, exactly once: a message is claimed (state "sending") for a lease before it is sent, it is
built from its row (outbox.build_message: the same bytes and Message-ID on every attempt), and
the outcome is recorded right after each batch, which also clears the bodies of the messages
done with (they carry activation links). A sender that stops mid-batch leaves its claimed
messages "sending"; once their lease runs out, any sender picks them up again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import TypeVar

import aiosmtplib
from sqlalchemy import Engine, bindparam, func, select, update
from sqlmodel import Session, col

from portal_ui import access, activity, contacts, events
from portal_ui.activity import Actor
from portal_ui.batch_sql import in_ids, insert_rows
from portal_ui.clock import utcnow
from portal_ui.config import Settings, SmtpTls
from portal_ui.db import session_scope
from portal_ui.mail.outbox import build_message
from portal_ui.models import ActivityEvent, DeliveryState, Invitation, OutboxMessage

log = logging.getLogger(__name__)

BATCH_SIZE = 100  # messages claimed, sent on one connection, and recorded together, at first
# A connection that keeps finding work doubles its batch up to this: fewer transactions per
# message on a long queue, while a short one is still spread over every connection.
MAX_BATCH_SIZE = 500
CONNECTIONS = 4  # SMTP connections used at once
LEASE = timedelta(minutes=5)  # a message "sending" for longer was left by a stopped sender
RETRY_INTERVAL = 5.0  # seconds between looks at the queue for retries that became due
FIRST_RETRY = timedelta(seconds=30)  # back-off: 30 s, 1 min, 2 min, ... up to MAX_RETRY
MAX_RETRY = timedelta(hours=1)
SMTP_TIMEOUT = 30.0  # seconds for connecting and for each SMTP command

_T = TypeVar("_T")
_TABLE = OutboxMessage.__table__  # type: ignore[attr-defined]
_CLEARED = {"text_body": "", "html_body": ""}
_ACTIVITY_EVENT = ActivityEvent.__table__  # type: ignore[attr-defined]


class Result(Enum):
    SENT = "sent"
    RETRY = "retry"  # temporary failure: back to the queue with back-off
    FAILED = "failed"  # permanent failure
    RELEASED = "released"  # not tried (stopping, or the batch ran long): due again at once


@dataclass(frozen=True)
class Claimed:
    """A message this sender holds the lease of: what it needs to build (outbox.Stored) and
    send it, and to record what became of it."""

    id: int
    kind: str
    to_address: str
    email_id: int | None
    attempts: int
    subject: str
    message_id: str
    created_at: datetime
    language: str
    text_body: str
    html_body: str


@dataclass(frozen=True)
class Outcome:
    message: Claimed
    result: Result
    error: str | None = None
    # A permanent refusal of the recipient itself (RCPT 5xx): the address is undeliverable.
    undeliverable: bool = False


def claim_due(session: Session, now: datetime, limit: int = BATCH_SIZE) -> list[Claimed]:
    """Mark up to `limit` due messages "sending" until now + LEASE and return them.

    Due: queued and next_attempt_at reached, or "sending" with its lease run out (for a
    "sending" message, next_attempt_at is the end of its lease). One UPDATE both checks and
    claims, so concurrent senders (threads or processes) never claim the same message."""
    due = col(OutboxMessage.state).in_(
        [DeliveryState.QUEUED.value, DeliveryState.SENDING.value]
    ) & (col(OutboxMessage.next_attempt_at) <= now)
    candidates = select(OutboxMessage.id).where(due).limit(limit).with_for_update(skip_locked=True)
    claim = (
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(candidates.scalar_subquery()), due)
        .values(state=DeliveryState.SENDING.value, next_attempt_at=now + LEASE)
        .returning(
            OutboxMessage.id,
            OutboxMessage.kind,
            OutboxMessage.to_address,
            OutboxMessage.email_id,
            OutboxMessage.attempts,
            OutboxMessage.subject,
            OutboxMessage.message_id,
            OutboxMessage.created_at,
            OutboxMessage.language,
            OutboxMessage.text_body,
            OutboxMessage.html_body,
        )
        .execution_options(synchronize_session=False)
    )
    rows = session.execute(claim).all()
    return sorted((Claimed(*row) for row in rows), key=lambda message: message.id)


def retry_delay(attempts: int) -> timedelta:
    """Exponential back-off after `attempts` failed tries, with up to 10% jitter so that a
    whole batch refused at once does not come back at once."""
    base = min(FIRST_RETRY * (2 ** min(attempts, 20)), MAX_RETRY)
    return base * (1 + random.random() / 10)


def record_outcomes(session: Session, outcomes: Sequence[Outcome], now: datetime) -> None:
    """Write a batch's outcomes in one transaction: a few UPDATEs for the whole batch, the
    undeliverable marks (R22), and the invitation history (R27a). A message sent or failed for
    good loses its bodies in the same UPDATE: its activation link is not kept at rest."""
    sending = DeliveryState.SENDING.value
    sent = [o.message.id for o in outcomes if o.result is Result.SENT]
    if sent:
        session.execute(
            update(_TABLE)
            .where(in_ids(session, _TABLE.c.id, sent), _TABLE.c.state == sending)
            .values(
                state=DeliveryState.SENT.value,
                sent_at=now,
                attempts=_TABLE.c.attempts + 1,
                last_error=None,
                **_CLEARED,
            )
        )
    again = [o for o in outcomes if o.result in (Result.RETRY, Result.RELEASED)]
    _record_changes(session, again, now, clear=False)
    failed = [o for o in outcomes if o.result is Result.FAILED]
    _record_changes(session, failed, now, clear=True)
    for outcome in outcomes:
        if outcome.undeliverable and outcome.message.email_id is not None:
            contacts.mark_undeliverable(session, outcome.message.email_id, outcome.error or "")
    _record_invitation_history(session, outcomes, now)


def _record_changes(
    session: Session, outcomes: Sequence[Outcome], now: datetime, *, clear: bool
) -> None:
    """One executemany UPDATE for outcomes that are not "sent"; `clear` drops the bodies."""
    if not outcomes:
        return
    session.execute(
        update(_TABLE)
        .where(_TABLE.c.id == bindparam("b_id"), _TABLE.c.state == DeliveryState.SENDING.value)
        .values(
            state=bindparam("b_state"),
            attempts=bindparam("b_attempts"),
            next_attempt_at=bindparam("b_next"),
            # A released message keeps the reason of its previous failure, if any.
            last_error=func.coalesce(bindparam("b_error"), _TABLE.c.last_error),
            **(_CLEARED if clear else {}),
        ),
        [_change(outcome, now) for outcome in outcomes],
    )


def _change(outcome: Outcome, now: datetime) -> dict[str, object]:
    message = outcome.message
    if outcome.result is Result.RELEASED:
        values = (DeliveryState.QUEUED, message.attempts, now)
    elif outcome.result is Result.RETRY:
        delay = retry_delay(message.attempts)
        values = (DeliveryState.QUEUED, message.attempts + 1, now + delay)
    else:
        values = (DeliveryState.FAILED, message.attempts + 1, now)
    state, attempts, next_attempt_at = values
    return {
        "b_id": message.id,
        "b_state": state.value,
        "b_attempts": attempts,
        "b_next": next_attempt_at,
        "b_error": outcome.error,
    }


def _record_invitation_history(
    session: Session, outcomes: Sequence[Outcome], now: datetime
) -> None:
    """R27a: an invitation's email was delivered (accepted by the server) or failed for good."""
    final = {Result.SENT: activity.INVITATION_DELIVERED, Result.FAILED: activity.INVITATION_FAILED}
    done = [o for o in outcomes if o.message.kind == "invitation" and o.result in final]
    if not done:
        return
    # Found through the addresses (indexed), not outbox_id (which is not: a scan per batch).
    query = select(Invitation.outbox_id, Invitation.id).where(
        in_ids(session, col(Invitation.email_id), sorted({o.message.email_id or 0 for o in done})),
        in_ids(session, col(Invitation.outbox_id), [o.message.id for o in done]),
    )
    invitation_ids = {
        outbox_id: invitation_id for outbox_id, invitation_id in session.execute(query)
    }
    system = Actor.system()
    rows = [
        {
            "at": now,
            "kind": final[o.result],
            "actor_name": system.name,
            "email_id": o.message.email_id,
            "address": o.message.to_address,
            "detail": _history_detail(o, invitation_ids.get(o.message.id)),
        }
        for o in done
    ]
    # This runs for every batch: the driver's executemany, not a parameter build per row.
    insert_rows(session, _ACTIVITY_EVENT, rows)
    events.record(session, "activity")
    email_ids = {o.message.email_id for o in done if o.message.email_id is not None}
    # Pages that show delivery states (the pending list, R22a) refresh on this.
    events.record(session, "invitation", account_ids=access.accounts_of_emails(session, email_ids))


def _history_detail(outcome: Outcome, invitation_id: int | None) -> dict[str, object]:
    detail: dict[str, object] = {"invitation_id": invitation_id, "outbox_id": outcome.message.id}
    if outcome.result is Result.FAILED:
        detail["reason"] = outcome.error
    return detail


class _Connection:
    """One SMTP connection, opened when first needed and opened again after a failure."""

    def __init__(self, host: str, port: int, settings: Settings) -> None:
        self._host, self._port, self._settings = host, port, settings
        self._smtp: aiosmtplib.SMTP | None = None

    async def open(self) -> aiosmtplib.SMTP:
        if self._smtp is not None and self._smtp.is_connected:
            return self._smtp
        settings = self._settings
        smtp = aiosmtplib.SMTP(
            hostname=self._host,
            port=self._port,
            timeout=SMTP_TIMEOUT,
            use_tls=settings.smtp_tls is SmtpTls.TLS,
            start_tls=settings.smtp_tls is SmtpTls.STARTTLS,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            # socket.getfqdn() (the default) can hang for seconds on machines without DNS.
            local_hostname=_helo_name(settings.mail_from),
        )
        await smtp.connect()
        self._smtp = smtp
        return smtp

    def forget(self) -> None:
        """After an error that may have broken the connection: open a new one next time."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    async def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None or not smtp.is_connected:
            return
        try:
            await smtp.quit()
        except (aiosmtplib.SMTPException, OSError):
            smtp.close()


def _helo_name(mail_from: str) -> str:
    domain = mail_from.rsplit("@", 1)[-1]
    return domain if "." in domain else "localhost"


def _describe(error: BaseException) -> str:
    """The server's answer ("550 5.1.1 ...") or what went wrong on the way to it."""
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return f"{error.code} {error.message}".strip()
    return str(error) or type(error).__name__


_CONNECTION_ERRORS = (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError)


class OutboxSender:
    """Delivers the outbox: `run()` in the background while the web app runs, or
    `deliver_due()` once (tests, benchmarks, commands)."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        host: str | None = None,
        port: int | None = None,
    ) -> None:
        """`host`/`port` override the settings' SMTP server (the embedded server's address)."""
        self._engine = engine
        self._settings = settings
        self._host = host or settings.smtp_host or "127.0.0.1"
        self._port = port or settings.smtp_port
        self._stopping = False
        self._wake: asyncio.Event | None = None
        self._finished: asyncio.Event | None = None
        self._db_lock = asyncio.Lock()

    async def run(self) -> None:
        """Deliver whatever is due, then wait for a committed new message (events topic
        "outbox") or RETRY_INTERVAL; until stop()."""
        self._wake = asyncio.Event()
        self._finished = asyncio.Event()
        unsubscribe = events.subscribe(self._on_change)
        try:
            while not self._stopping:
                self._wake.clear()
                try:
                    await self.deliver_due()
                except Exception:
                    log.exception("Outbox delivery failed; trying again in %s s", RETRY_INTERVAL)
                if self._stopping:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=RETRY_INTERVAL)
        finally:
            unsubscribe()
            self._finished.set()

    async def stop(self, timeout: float = SMTP_TIMEOUT) -> None:
        """Ask run() to return once the batches in progress are recorded, and wait for it
        (a batch cut short by the timeout is left to its lease)."""
        self._stopping = True
        if self._wake is not None:
            self._wake.set()
        if self._finished is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._finished.wait(), timeout)

    async def deliver_due(self, now: datetime | None = None) -> int:
        """Deliver every message due at `now` (default: the clock, read per batch) over up to
        CONNECTIONS connections; return how many the server accepted."""
        async with asyncio.TaskGroup() as group:
            workers = [group.create_task(self._work(now)) for _ in range(CONNECTIONS)]
        return sum(worker.result() for worker in workers)

    def _on_change(self, change: events.Change) -> None:
        if change.topic == "outbox" and self._wake is not None:
            self._wake.set()

    async def _work(self, now: datetime | None) -> int:
        """One connection's loop: claim a batch, send it, record it, until nothing is due.
        Recording a batch and claiming the next is one transaction (one commit, not two)."""
        connection = _Connection(self._host, self._port, self._settings)
        delivered = 0
        outcomes: list[Outcome] = []
        sent_at = utcnow()
        size = BATCH_SIZE
        try:
            while True:
                moment = now or utcnow()
                limit = 0 if self._stopping else size
                batch = await self._db(self._record_and_claim, outcomes, sent_at, moment, limit)
                if not batch:
                    break
                outcomes, sent_at = await self._send_batch(connection, batch, moment), moment
                delivered += sum(1 for outcome in outcomes if outcome.result is Result.SENT)
                size = min(size * 2, MAX_BATCH_SIZE)
        finally:
            await connection.close()
        return delivered

    def _record_and_claim(
        self,
        session: Session,
        outcomes: list[Outcome],
        sent_at: datetime,
        now: datetime,
        limit: int,
    ) -> list[Claimed]:
        """Record the last batch's outcomes, then claim up to `limit` messages (none when
        stopping)."""
        if outcomes:
            record_outcomes(session, outcomes, sent_at)
        return claim_due(session, now, limit) if limit else []

    async def _send_batch(
        self, connection: _Connection, batch: list[Claimed], now: datetime
    ) -> list[Outcome]:
        outcomes: list[Outcome] = []
        loop = asyncio.get_running_loop()
        # A server that answers slowly must not keep a batch past its lease (another sender
        # would then take it over and send it again): what is left by then goes back.
        deadline = loop.time() + LEASE.total_seconds() / 2
        try:
            for index, message in enumerate(batch):
                if self._stopping or loop.time() > deadline:
                    outcomes += [Outcome(m, Result.RELEASED) for m in batch[index:]]
                    break
                try:
                    smtp = await connection.open()
                except _CONNECTION_ERRORS as error:
                    # No server: the rest of the batch waits for the next try (no reconnect storm).
                    reason = _describe(error)
                    outcomes += [Outcome(m, Result.RETRY, reason) for m in batch[index:]]
                    break
                outcomes.append(await self._send(connection, smtp, message))
        except asyncio.CancelledError:
            # Keep what is known. The message in flight stays "sending": its lease decides.
            outcomes += [Outcome(m, Result.RELEASED) for m in batch[len(outcomes) + 1 :]]
            await asyncio.shield(self._db(record_outcomes, outcomes, now))
            raise
        return outcomes

    async def _send(
        self, connection: _Connection, smtp: aiosmtplib.SMTP, message: Claimed
    ) -> Outcome:
        """Build one message and send it; classify the server's answer.

        Built here, just before it is sent, rather than in the database thread: a few tens of
        microseconds in line cost the event loop less than waiting for the GIL while that
        thread builds a whole batch (measured: about 4% more messages per second)."""
        raw = build_message(self._settings, message)
        options = []
        if not raw.isascii() and smtp.supports_extension("8bitmime"):
            options.append("BODY=8BITMIME")
        if not message.to_address.isascii():
            options.append("SMTPUTF8")
        try:
            await smtp.sendmail(
                self._settings.mail_from, [message.to_address], raw, mail_options=options
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            refusal = error.recipients[0]
            permanent = refusal.code >= 500
            result = Result.FAILED if permanent else Result.RETRY
            return Outcome(message, result, _describe(refusal), undeliverable=permanent)
        except aiosmtplib.SMTPDataError as error:
            # The message itself was refused (size, content): final, but the address is fine.
            result = Result.FAILED if error.code >= 500 else Result.RETRY
            return Outcome(message, result, _describe(error))
        except aiosmtplib.SMTPServerDisconnected as error:
            connection.forget()
            return Outcome(message, Result.RETRY, _describe(error))
        except aiosmtplib.SMTPNotSupported as error:
            return Outcome(message, Result.FAILED, _describe(error))
        except aiosmtplib.SMTPResponseException as error:
            # MAIL FROM refused, or 421 "closing": our side or the server's, never the address.
            if error.code == 421:
                connection.forget()
            return Outcome(message, Result.RETRY, _describe(error))
        except ValueError as error:  # an address aiosmtplib cannot put in an envelope
            return Outcome(message, Result.FAILED, _describe(error), undeliverable=True)
        except _CONNECTION_ERRORS as error:
            connection.forget()
            return Outcome(message, Result.RETRY, _describe(error))
        return Outcome(message, Result.SENT)

    async def _db(self, work: Callable[..., _T], *args: object) -> _T:
        """Run one unit of database work in a thread (never on the event loop), one at a time:
        this sender's connections take turns instead of contending for SQLite's write lock."""
        async with self._db_lock:
            return await asyncio.to_thread(self._in_session, work, *args)

    def _in_session(self, work: Callable[..., _T], *args: object) -> _T:
        with session_scope(self._engine) as session:
            return work(session, *args)
