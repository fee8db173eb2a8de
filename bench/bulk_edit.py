"""Bulk edit (R12-R13) of one Offline account in ten (10,000 at 100,000: ~20,000 access rows):
Login on with Send invitations, from Save until every invitation is committed to the outbox;
against the same rows written by hand-written set-based SQL in one transaction."""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session

from bench.harness import STAFF_EMAIL, Figure, Goal, Run, db_url, median
from portal_ui import bulk, staff
from portal_ui.accounts import AccountFilter, matching_ids
from portal_ui.bulk import BulkChoices, Choice
from portal_ui.clock import utcnow
from portal_ui.config import Settings, load_settings
from portal_ui.db import make_engine, session_scope
from portal_ui.models import OutboxMessage

NAME = "bulk-edit"
GOAL = Goal("< 5 s, ratio <= 3", limit=5, ratio=3)
CHOICES = BulkChoices(login=Choice.ENABLE, send_invitations=True)


def settings_for(database: Path) -> Settings:
    return load_settings(
        database_url=db_url(database),
        base_url="http://127.0.0.1:8080",
        secret="bench-secret",
        smtp_host="127.0.0.1",
    )


def selection(database: Path, size: int) -> tuple[list[int], list[int]]:
    """One account in ten, all Offline (every access row has Login off, so every row changes),
    and a few other Offline accounts for the warm-up."""
    engine = make_engine(db_url(database))
    try:
        with Session(engine) as session:
            offline = matching_ids(session, AccountFilter(last_login="offline"))
    finally:
        engine.dispose()
    count = size // 10
    warmup = max(1, min(50, count // 10))
    if len(offline) < count + warmup:
        raise RuntimeError(f"only {len(offline)} Offline accounts for a selection of {count}")
    return offline[:count], offline[-warmup:]


def service_bulk(database: Path, account_ids: list[int]) -> tuple[float, dict]:
    """Save in the dialog: start_job, then run_job to its end; seconds and the report."""
    settings = settings_for(database)
    engine = make_engine(settings.database_url)
    try:
        start = time.perf_counter()
        with session_scope(engine) as session:
            member = staff.member_by_email(session, STAFF_EMAIL)
            assert member is not None and member.id is not None
            job = bulk.start_job(session, member.id, account_ids, CHOICES)
        report = bulk.run_job(engine, settings, job.id or 0)
        return time.perf_counter() - start, report
    finally:
        engine.dispose()


def outbox_stats(database: Path) -> tuple[int, float]:
    engine = make_engine(db_url(database))
    try:
        with Session(engine) as session:
            size = func.length(OutboxMessage.text_body) + func.length(OutboxMessage.html_body)
            query = select(func.count(), func.avg(size)).where(OutboxMessage.kind == "invitation")
            count, average = session.execute(query).one()
            return int(count), float(average or 0)
    finally:
        engine.dispose()


# -- the floor ------------------------------------------------------------------------------------

_TARGETS = """
CREATE TEMP TABLE target AS
SELECT DISTINCT ar.email_id AS email_id, ce.address AS address
FROM access_row ar JOIN contact_email ce ON ce.id = ar.email_id
WHERE ar.account_id IN (SELECT id FROM sel) AND ar.login AND ce.invalid_reason IS NULL
  AND NOT EXISTS (SELECT 1 FROM portal_user pu WHERE pu.email_id = ar.email_id)
  AND NOT EXISTS (SELECT 1 FROM invitation i WHERE i.email_id = ar.email_id
                  AND i.state = 'outstanding' AND i.created_at > :recent)"""

_STATUS = """
UPDATE account SET
  has_login = EXISTS (SELECT 1 FROM access_row r WHERE r.account_id = account.id AND r.login),
  status = CASE
    WHEN EXISTS (SELECT 1 FROM access_row r JOIN portal_user p ON p.email_id = r.email_id
                 WHERE r.account_id = account.id AND r.login) THEN 0
    WHEN EXISTS (SELECT 1 FROM access_row r JOIN invitation i ON i.email_id = r.email_id
                 WHERE r.account_id = account.id AND r.login AND i.state = 'outstanding') THEN 1
    ELSE 2 END
WHERE id IN (SELECT id FROM sel)
   OR id IN (SELECT account_id FROM access_row WHERE email_id IN (SELECT email_id FROM target))"""


def floor_bulk(database: Path, account_ids: list[int], body_size: float) -> tuple[float, int]:
    """The same rows by hand: access rows, superseded and new invitations, their outbox
    messages (bodies of the same size), activity events and account roll-ups."""
    now = utcnow()
    stamp = _stamp(now)
    params = {
        "now": stamp,
        "recent": _stamp(now - timedelta(hours=24)),
        "expires": _stamp(now + timedelta(days=7)),
        "text": "x" * max(int(body_size) // 3, 1),
        "html": "x" * max(int(body_size) - int(body_size) // 3, 1),
        "subject": "Your invitation to the Demo Firm client portal",
        "name": "Bench Staff",
    }
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA foreign_keys=ON")
        (member,) = connection.execute(
            "SELECT id FROM team_member WHERE email = ?", (STAFF_EMAIL,)
        ).fetchone()
        params["member"] = member
        (before,) = connection.execute("SELECT coalesce(max(id), 0) FROM outbox_message").fetchone()
        params["before"] = before
        start = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("CREATE TEMP TABLE sel (id INTEGER PRIMARY KEY)")
        connection.executemany("INSERT INTO sel VALUES (?)", [(i,) for i in account_ids])
        connection.execute(
            "UPDATE access_row SET login = 1, updated_at = :now "
            "WHERE account_id IN (SELECT id FROM sel) AND NOT login",
            params,
        )
        connection.execute(_TARGETS, params)
        connection.execute(
            "UPDATE invitation SET state = 'superseded', superseded_at = :now "
            "WHERE state = 'outstanding' AND email_id IN (SELECT email_id FROM target)",
            params,
        )
        connection.execute(
            "INSERT INTO outbox_message (kind, to_address, email_id, subject, message_id, "
            "language, text_body, html_body, state, attempts, next_attempt_at, created_at) "
            "SELECT 'invitation', address, email_id, :subject, '<bench.' || email_id || '@x>', "
            "'en', :text, :html, 'queued', 0, :now, :now FROM target",
            params,
        )
        connection.execute(
            "INSERT INTO invitation (email_id, address, token_hash, message, state, "
            "invited_by_member_id, requested_by_client, outbox_id, created_at, expires_at) "
            "SELECT email_id, to_address, hex(randomblob(32)), '', 'outstanding', :member, 0, "
            "id, :now, :expires FROM outbox_message WHERE id > :before",
            params,
        )
        connection.execute(
            "INSERT INTO activity_event (at, kind, actor_member_id, actor_name, account_id, "
            "email_id, address, detail) "
            "SELECT :now, 'invitation_sent', :member, :name, NULL, email_id, address, '{}' "
            "FROM target",
            params,
        )
        connection.execute(
            "INSERT INTO activity_event (at, kind, actor_member_id, actor_name, account_id, "
            "email_id, address, detail) "
            "SELECT :now, 'bulk_update', :member, :name, id, NULL, '', '{}' FROM sel",
            params,
        )
        connection.execute(_STATUS)
        (invited,) = connection.execute("SELECT count(*) FROM target").fetchone()
        connection.execute("COMMIT")
        return time.perf_counter() - start, invited
    finally:
        connection.close()


def _stamp(moment: datetime) -> str:
    """A datetime as SQLAlchemy stores it in SQLite."""
    return moment.replace(tzinfo=None).isoformat(sep=" ")


# -- the benchmark --------------------------------------------------------------------------------


def prepared_outbox(run: Run) -> Path:
    """A database after one bulk edit: its outbox holds the invitations (delivery uses it)."""
    cached = getattr(run, "bulk_outbox", None)
    if cached is not None:
        return cached
    chosen, _ = selection(run.seeded(), run.size)
    path = run.copy("outbox")
    service_bulk(path, chosen)
    run.bulk_outbox = path  # type: ignore[attr-defined]
    return path


def run(run: Run) -> list[Figure]:
    chosen, warmup = selection(run.seeded(), run.size)
    values, floors = [], []
    report: dict = {}
    invited_by_floor = 0
    body_size = 0.0
    for n in range(run.heavy_repeat):
        # Each repetition starts from the seeded data: a copy per run of each side.
        service_db = run.copy(f"bulk-service-{n}")
        service_bulk(service_db, warmup)  # warm-up: the same code, other accounts
        seconds, report = service_bulk(service_db, chosen)
        values.append(seconds)
        invited, body_size = outbox_stats(service_db)
        floor_db = run.copy(f"bulk-floor-{n}")
        floor_bulk(floor_db, warmup, body_size)
        seconds, invited_by_floor = floor_bulk(floor_db, chosen, body_size)
        floors.append(seconds)
        Path(floor_db).unlink()
        if n < run.heavy_repeat - 1:
            Path(service_db).unlink()
        else:
            run.bulk_outbox = service_db  # type: ignore[attr-defined]
    sent = report.get("invitations_sent", 0)
    note = (
        f"{len(chosen):,} accounts, {report.get('rows_changed', 0):,} access rows, "
        f"{sent:,} invitations (floor {invited_by_floor:,}), "
        f"{body_size / 1024:.1f} KB of text and HTML each"
    )
    return [
        Figure(
            NAME, "bulk edit: Login on + Send invitations, until all are in the outbox", "s",
            GOAL, value=median(values), floor=median(floors), floor_name="set-based SQL",
            samples=len(values), note=note,
        )
    ]  # fmt: skip
