"""The one job runner bulk updates and imports share (R13, R32, R40): queue a job, claim it
with a lease, advance and renew the lease chunk by chunk, resume what a stopped process left,
and store the report and tell the member in Inbox+."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Engine, func, or_, select, update
from sqlmodel import Session, col

from portal_ui import activity, events
from portal_ui.activity import Actor
from portal_ui.clock import utcnow
from portal_ui.config import Settings
from portal_ui.db import session_scope
from portal_ui.errors import NotFound
from portal_ui.models import BulkJob, JobState, TeamMember

log = logging.getLogger(__name__)

# How long a claim holds without news from its runner (R40). Every chunk renews it; a job
# still "running" past it was left by a stopped process, and another one resumes it.
LEASE = timedelta(seconds=45)
# How often a running web app looks for such jobs: a dead runner's job resumes within
# LEASE + WATCH_INTERVAL, under a minute.
WATCH_INTERVAL = timedelta(seconds=15)
UNFINISHED = (JobState.QUEUED.value, JobState.RUNNING.value)

# What runs a job of one kind: (engine, settings, job_id, resume=...) -> report.
Runner = Callable[..., dict[str, Any]]
_runners: dict[str, Runner] = {}


class JobProgress(NamedTuple):
    state: JobState
    done: int
    total: int
    report: dict[str, Any]


@dataclass(frozen=True)
class Claimed:
    """A job this process now runs: what it was asked to do and on whose behalf."""

    id: int
    kind: str
    member_id: int
    actor: Actor
    params: dict[str, Any]
    total: int
    moment: datetime


def register(kind: str, runner: Runner) -> None:
    """Say which function runs the jobs of `kind` (bulk.py and imports.py, on import)."""
    _runners[kind] = runner


def queue(
    session: Session, member_id: int, kind: str, params: dict[str, Any], total: int
) -> BulkJob:
    """A new job for this team member; the caller commits, then runs it (`run_job`)."""
    if session.get(TeamMember, member_id) is None:
        raise NotFound()
    job = BulkJob(
        member_id=member_id, kind=kind, state=JobState.QUEUED.value, params=params, total=total
    )
    session.add(job)
    session.flush()
    events.record(session, "job", member_ids=[member_id], job_id=job.id)
    return job


def run_job(
    engine: Engine, settings: Settings, job_id: int, *, resume: bool = False
) -> dict[str, Any]:
    """Run a job with the runner of its kind (what the web app resumes on start)."""
    with session_scope(engine) as session:
        kind = session.scalar(select(BulkJob.kind).where(BulkJob.id == job_id))
    if kind is None:
        raise NotFound()
    runner = _runners.get(kind)
    if runner is None:
        raise ValueError(f"no runner for jobs of kind {kind!r}")
    return runner(engine, settings, job_id, resume=resume)


def claim(
    engine: Engine, job_id: int, *, resume: bool = False, now: datetime | None = None
) -> Claimed | None:
    """Take the job for this process, or None when it must not run (again) here.

    A queued job is taken once. With `resume`, a job left running is taken too when its lease
    has run out (or it has none: it was claimed before leases existed): its runner stopped,
    and the same work applied again changes nothing (R13). The claim is one conditional
    UPDATE, so two processes never both take a job (R40)."""
    moment = now or utcnow()
    runnable = col(BulkJob.state) == JobState.QUEUED.value
    if resume:
        left = (col(BulkJob.state) == JobState.RUNNING.value) & or_(
            col(BulkJob.lease_until).is_(None), col(BulkJob.lease_until) < moment
        )
        runnable = runnable | left
    with session_scope(engine) as session:
        if session.get(BulkJob, job_id) is None:
            raise NotFound()
        taken = session.execute(
            update(BulkJob)
            .where(col(BulkJob.id) == job_id, runnable)
            .values(
                state=JobState.RUNNING.value,
                started_at=moment,
                done=0,
                lease_until=moment + LEASE,
            )
            .execution_options(synchronize_session=False)
        )
        if not taken.rowcount:
            return None
        row = session.execute(
            select(BulkJob.kind, BulkJob.member_id, BulkJob.params, BulkJob.total).where(
                BulkJob.id == job_id
            )
        ).one()
        member = session.get(TeamMember, row.member_id)
        actor = Actor(name=member.name if member else "", member_id=row.member_id)
        events.record(session, "job", member_ids=[row.member_id], job_id=job_id)
    return Claimed(job_id, row.kind, row.member_id, actor, dict(row.params), row.total, moment)


def advance(session: Session, job: Claimed, done: int, now: datetime | None = None) -> None:
    """`done` more units of the job are committed with this session; the lease is renewed."""
    moment = now or utcnow()
    session.execute(
        update(BulkJob)
        .where(col(BulkJob.id) == job.id)
        .values(
            done=func.min(BulkJob.done + done, BulkJob.total)
            if session.get_bind().dialect.name == "sqlite"
            else func.least(BulkJob.done + done, BulkJob.total),
            lease_until=moment + LEASE,
        )
        .execution_options(synchronize_session=False)
    )
    events.record(session, "job", member_ids=[job.member_id], job_id=job.id)


def renew(engine: Engine, job: Claimed, now: datetime | None = None) -> None:
    """Keep the lease during a long step that advances nothing (an import reading its file)."""
    with session_scope(engine) as session:
        advance(session, job, 0, now)


def finish(
    engine: Engine,
    job: Claimed,
    report: dict[str, Any],
    state: JobState,
    *,
    notification: str,
    link: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Store the report, end the job and tell its member in Inbox+ (R13, R29)."""
    with session_scope(engine) as session:
        stored = session.get(BulkJob, job.id)
        if stored is None:
            return report
        moment = now or utcnow()
        stored.state = state.value
        stored.report = report
        stored.finished_at = moment
        stored.lease_until = None
        if state == JobState.DONE:
            stored.done = stored.total
        session.add(stored)
        activity.notify_member(
            session,
            job.member_id,
            notification,
            link=link,
            now=moment,
            job_id=job.id,
            failed=state == JobState.FAILED,
            **report,
        )
        events.record(session, "job", member_ids=[job.member_id], job_id=job.id)
    return report


def stored_report(engine: Engine, job_id: int) -> dict[str, Any]:
    """The report of a job that was not run here (finished already, or running elsewhere)."""
    with session_scope(engine) as session:
        return dict(job_progress(session, job_id).report)


def job_progress(session: Session, job_id: int) -> JobProgress:
    """State, units done, units in all, and the report once done (R13 progress). Reads only
    these columns: an import's parameters hold its whole file."""
    query = select(BulkJob.state, BulkJob.done, BulkJob.total, BulkJob.report).where(
        BulkJob.id == job_id
    )
    row = session.execute(query).first()
    if row is None:
        raise NotFound()
    return JobProgress(JobState(row.state), row.done, row.total, dict(row.report or {}))


def unfinished_jobs(
    session: Session, kind: str | None = None, *, now: datetime | None = None
) -> list[int]:
    """Jobs queued or left running, oldest first; with `now`, only those another process may
    take at that moment (queued, or running with a lease run out)."""
    query = select(BulkJob.id).where(col(BulkJob.state).in_(UNFINISHED))
    if kind is not None:
        query = query.where(BulkJob.kind == kind)
    if now is not None:
        query = query.where(
            or_(
                col(BulkJob.state) == JobState.QUEUED.value,
                col(BulkJob.lease_until).is_(None),
                col(BulkJob.lease_until) < now,
            )
        )
    return [job_id for job_id in session.scalars(query.order_by(BulkJob.id)) if job_id]
