"""Bulk update of access rows (R12, R13): the preview, the job that applies the choices chunk by
chunk with set-based SQL and sends the invitations (run by portal_ui.jobs), and the rule of who
gets an invitation, which the import shares (R32)."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, Engine, and_, exists, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col

from portal_ui import access, activity, events, inputs, invitations, jobs
from portal_ui.activity import Actor
from portal_ui.batch_sql import in_ids, insert_rows
from portal_ui.clock import utcnow
from portal_ui.config import Settings
from portal_ui.db import begin_write, session_scope
from portal_ui.i18n import N_, Translate
from portal_ui.models import (
    NOTIFICATION_CATEGORIES,
    SWITCHES,
    AccessRow,
    Account,
    ActivityEvent,
    BulkJob,
    ContactEmail,
    Invitation,
    InvitationState,
    JobState,
)

log = logging.getLogger(__name__)
_ACTIVITY_EVENT = ActivityEvent.__table__  # type: ignore[attr-defined]

JOB_KIND = "edit_access"
# R13: a bulk update does not re-invite an address invited this recently (Resend is explicit).
RECENT_INVITATION = timedelta(hours=24)
# Accounts per transaction: a trade between how long other writers wait for SQLite's write
# lock and how much the job writes. Every chunk rewrites most pages of the indexes it touches
# at random (account by status and by Login, invitation by token hash: some 3,000 pages per
# chunk at 100,000 accounts, hardly fewer for a smaller chunk), so fewer, larger transactions
# write far fewer pages to the WAL (10,000 accounts in 10 chunks: 63,000 pages; in one:
# 34,000). 2,000 accounts with their ~4,000 invitations hold the lock about 0.45 s here (1,000
# held it 0.4 s before the job got lighter, 100 once held it 1.3 s); 10,000 accounts take
# 2.8 s instead of 3.1 s in chunks of 1,000.
DEFAULT_CHUNK = 2000
INVITING_CHUNK = 2000
# The job's page cache on SQLite (KiB): see _job_connection.
JOB_CACHE_KIB = 32 * 1024
# The report keeps this many errors in full; `errors_total` counts them all.
MAX_REPORTED_ERRORS = 500
REPORT_LINK = "/clients/accounts"

# Why a row fails (message ids; the report and the preview carry them untranslated).
NO_CONTACTS = N_("The account has no contacts.")
NO_ADDRESSES = N_("The account's contacts have no email address.")
ACCOUNT_GONE = N_("The account no longer exists.")
INVALID_ADDRESS = N_("Invalid email address: no invitation sent.")
UNEXPECTED = N_("Unexpected error: nothing was changed for this account.")
NOT_SENT = N_("Unexpected error: the invitation was not sent.")


class Choice(StrEnum):
    """R12: what to do with one switch on every access row of the selected accounts."""

    NOTHING = "nothing"
    ENABLE = "enable"
    DISABLE = "disable"


CHOICE_LABELS: dict[Choice, str] = {
    Choice.NOTHING: N_("Do nothing"),
    Choice.ENABLE: N_("Enable for all contacts"),
    Choice.DISABLE: N_("Disable for all contacts"),
}


@dataclass(frozen=True)
class BulkChoices:
    """The choices of the "Edit login, notify, email sync" dialog (R12). `preferences` are the
    nine categories when "Customize notification preferences" is on (missing ones are off);
    None gives R3's default (all nine on for a row whose Notify is first turned on)."""

    login: Choice = Choice.NOTHING
    notify: Choice = Choice.NOTHING
    email_sync: Choice = Choice.NOTHING
    signatory: Choice = Choice.NOTHING
    send_invitations: bool = False
    message: str = ""
    preferences: dict[str, bool] | None = None

    def __post_init__(self) -> None:
        for switch in SWITCHES:
            object.__setattr__(self, switch, Choice(getattr(self, switch)))
        if self.preferences is not None:
            unknown = set(self.preferences) - set(NOTIFICATION_CATEGORIES)
            if unknown:
                raise ValueError(f"unknown categories {sorted(unknown)}")
            chosen = {c: bool(self.preferences.get(c, False)) for c in NOTIFICATION_CATEGORIES}
            object.__setattr__(self, "preferences", chosen)

    @property
    def switches(self) -> dict[str, Choice]:
        """The switches to change (Do nothing left out)."""
        chosen = {switch: getattr(self, switch) for switch in SWITCHES}
        return {switch: choice for switch, choice in chosen.items() if choice != Choice.NOTHING}

    @property
    def sends_invitations(self) -> bool:
        """ "Send invitations" only exists when Login is enabled (R12)."""
        return self.login == Choice.ENABLE and self.send_invitations

    @property
    def custom_preferences(self) -> dict[str, bool] | None:
        return self.preferences if self.notify == Choice.ENABLE else None

    @property
    def is_empty(self) -> bool:
        return not self.switches

    def to_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {switch: getattr(self, switch).value for switch in SWITCHES}
        params.update(
            send_invitations=self.sends_invitations,
            message=self.message if self.sends_invitations else "",
            preferences=self.custom_preferences,
        )
        return params

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> BulkChoices:
        return cls(
            **{switch: Choice(params.get(switch, Choice.NOTHING)) for switch in SWITCHES},
            send_invitations=bool(params.get("send_invitations")),
            message=str(params.get("message") or ""),
            preferences=params.get("preferences"),
        )


@dataclass(frozen=True)
class BulkPreview:
    """What Save will do (R13): accounts, access rows that change, invitations sent, and the
    rows that will fail and why (same shape as the report's errors)."""

    accounts: int
    rows: int
    invitations: int
    already_active: int
    recently_invited: int
    failures: list[dict[str, Any]]
    failures_total: int


JobProgress = jobs.JobProgress


@dataclass
class _Tally:
    """What one chunk did; merged into the job's only once the chunk is committed."""

    accounts_changed: int = 0
    rows_changed: int = 0
    invitations_sent: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    # Addresses already invited or reported by this job (one invitation per address, R12).
    handled: set[int] = field(default_factory=set)

    def merge(self, other: _Tally) -> None:
        self.accounts_changed += other.accounts_changed
        self.rows_changed += other.rows_changed
        self.invitations_sent += other.invitations_sent
        self.errors.extend(other.errors)
        self.handled |= other.handled


def describe_error(error: dict[str, Any], _: Translate) -> str:
    """One line of a preview's failures or a report's errors, in the reader's language."""
    where = " / ".join(str(error[key]) for key in ("account", "address") if error.get(key))
    reason = _(str(error.get("reason") or UNEXPECTED))
    if error.get("detail"):
        reason = f"{reason} ({_(str(error['detail']))})"
    return f"{where}: {reason}" if where else reason


def preview(
    session: Session,
    account_ids: Iterable[int],
    choices: BulkChoices,
    now: datetime | None = None,
) -> BulkPreview:
    """Count what the update will touch, with set-based queries per chunk of accounts (R13)."""
    moment = now or utcnow()
    ids = _unique(account_ids)
    accounts = rows = 0
    failures: list[dict[str, Any]] = []
    addresses: dict[int, Any] = {}
    for chunk in _chunks(ids, DEFAULT_CHUNK):
        found, problems = _account_problems(session, chunk)
        accounts += len(found)
        failures.extend(problems)
        rows += _count_changing_rows(session, chunk, choices)
        if choices.sends_invitations:
            for candidate in invitation_candidates(session, chunk, moment):
                addresses.setdefault(candidate.email_id, candidate)
    # The job's own selection and decisions, before it runs.
    decisions = Counter(decide_invitation(candidate) for candidate in addresses.values())
    failures.extend(
        invalid_address_error(candidate.address, candidate.invalid_reason)
        for candidate in addresses.values()
        if decide_invitation(candidate) is InvitationDecision.INVALID
    )
    return BulkPreview(
        accounts=accounts,
        rows=rows,
        invitations=decisions[InvitationDecision.INVITE],
        already_active=decisions[InvitationDecision.ACTIVE],
        recently_invited=decisions[InvitationDecision.RECENT],
        failures=failures[:MAX_REPORTED_ERRORS],
        failures_total=len(failures),
    )


def start_job(
    session: Session, member_id: int, account_ids: Iterable[int], choices: BulkChoices
) -> BulkJob:
    """Queue a bulk update (R13); the caller commits, then runs `run_job` in a thread. A
    message over R38's limit is refused here (MessageTooLong), before any account changes."""
    if choices.is_empty:
        raise ValueError("a bulk update needs at least one switch to change")
    if choices.sends_invitations:
        inputs.clean_message(choices.message)
    ids = _unique(account_ids)
    params = {"account_ids": ids, "choices": choices.to_params()}
    return jobs.queue(session, member_id, JOB_KIND, params, total=len(ids))


def run_job(
    engine: Engine,
    settings: Settings,
    job_id: int,
    now: datetime | None = None,
    chunk: int = DEFAULT_CHUNK,
    resume: bool = False,
) -> dict[str, Any]:
    """Apply a queued bulk update, one transaction per chunk of accounts, then report to the
    member who started it in Inbox+ (R13). Blocking: the web app runs it in a thread.

    A job runs once. `resume=True` also runs a job left "running" by a stopped process: it
    starts over, which is safe because the same update applied again changes nothing and
    sends nothing more (R13). A job that sends invitations takes at most INVITING_CHUNK
    accounts per transaction, so SQLite's write lock is never held for long."""
    claimed = jobs.claim(engine, job_id, resume=resume, now=now)
    if claimed is None:
        return jobs.stored_report(engine, job_id)
    ids = [int(account_id) for account_id in claimed.params.get("account_ids", [])]
    choices = BulkChoices.from_params(claimed.params.get("choices", {}))
    work = _Work(settings, choices, claimed.actor, _Tally(), claimed.moment, careful=False)
    size = min(chunk, INVITING_CHUNK) if work.choices.sends_invitations else chunk
    try:
        with job_connection(engine) as bind:
            for part in _chunks(ids, max(size, 1)):
                work.before.merge(_run_chunk(bind, claimed, part, work, now))
    except Exception:
        log.exception("bulk job %s stopped", job_id)
        _finish(engine, claimed, len(ids), work.before, now, JobState.FAILED)
        raise
    return _finish(engine, claimed, len(ids), work.before, now, JobState.DONE)


def unfinished_jobs(session: Session) -> list[int]:
    """Bulk updates queued or left running (jobs.unfinished_jobs has every kind)."""
    return jobs.unfinished_jobs(session, JOB_KIND)


def job_progress(session: Session, job_id: int) -> JobProgress:
    """State, accounts done, accounts in all, and the report once done (R13 progress)."""
    return jobs.job_progress(session, job_id)


@contextmanager
def job_connection(engine: Engine) -> Iterator[Engine | Connection]:
    """Where the job's chunks run: on SQLite, one connection of its own whose page cache holds
    what every chunk touches again (the indexes of account, invitation and activity_event):
    with SQLite's default 2 MB cache each chunk read most of them back from the file, about a
    tenth of the job's time. The cache grows only as pages are read, and shrinks back to its
    former size before the connection returns to the pool."""
    if engine.dialect.name != "sqlite":
        yield engine
        return
    with engine.connect() as connection:
        before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
        connection.exec_driver_sql(f"PRAGMA cache_size = -{JOB_CACHE_KIB}")
        connection.commit()  # each chunk's session begins and commits its own transaction
        try:
            yield connection
        finally:
            connection.rollback()
            connection.exec_driver_sql(f"PRAGMA cache_size = {int(before or -2000)}")
            connection.commit()


def _run_chunk(
    bind: Engine | Connection,
    claimed: jobs.Claimed,
    account_ids: list[int],
    job: _Work,
    now: datetime | None,
) -> _Tally:
    """One chunk in one transaction. If the database refuses it, the chunk runs again with a
    SAVEPOINT per invitation, so that one bad row cannot stop the others; if even that fails,
    its accounts are reported and the job goes on with the next chunk."""
    for careful in (False, True):
        try:
            with session_scope(bind) as session:
                work = replace(job, moment=now or utcnow(), careful=careful)
                tally = _apply(session, account_ids, work)
                jobs.advance(session, claimed, len(account_ids), now)
            return tally
        except SQLAlchemyError:
            log.exception("bulk job %s: a chunk failed (careful=%s)", claimed.id, careful)
    try:
        with session_scope(bind) as session:
            jobs.advance(session, claimed, len(account_ids), now)
            names = dict(_names(session, account_ids))
    except SQLAlchemyError:
        log.exception("bulk job %s: cannot record a failed chunk", claimed.id)
        names = {}
    errors = [
        {"account": names.get(account_id, f"#{account_id}"), "reason": UNEXPECTED}
        for account_id in account_ids
    ]
    return _Tally(errors=errors)


@dataclass(frozen=True)
class _Work:
    """What every chunk of one job shares."""

    settings: Settings
    choices: BulkChoices
    actor: Actor
    before: _Tally  # what earlier chunks did (addresses already handled)
    moment: datetime
    careful: bool  # a SAVEPOINT per invitation (the retry of a chunk that failed)


def _apply(session: Session, account_ids: list[int], work: _Work) -> _Tally:
    """The choices on every access row of these accounts, then the invitations (R12)."""
    choices, actor, moment = work.choices, work.actor, work.moment
    begin_write(session)
    tally = _Tally()
    found, tally.errors = _account_problems(session, account_ids)
    changed = _changing_rows_per_account(session, account_ids, choices)
    _update_rows(session, account_ids, choices, moment)
    touched_emails: set[int] = set()
    if choices.login == Choice.DISABLE:
        touched_emails |= cancel_orphan_invitations(session, account_ids, actor, moment)
    sent_per_account: dict[int, int] = defaultdict(int)
    if choices.sends_invitations:
        sent = _send_invitations(session, account_ids, work)
        tally.invitations_sent = len(sent.invited)
        tally.errors.extend(sent.errors)
        tally.handled = sent.handled
        touched_emails |= sent.invited
        for account_id in sent.accounts:
            sent_per_account[account_id] += 1
    _record_history(session, work, changed, sent_per_account)
    tally.accounts_changed = len(changed)
    tally.rows_changed = sum(changed.values())
    # The chosen switches' roll-ups on these accounts; the status alone on the other accounts
    # of an address invited or whose invitation was cancelled (R7).
    others = access.accounts_of_emails(session, touched_emails) - set(found)
    access.refresh_access(session, found, _rollups(choices))
    access.refresh_access(session, others, access.INVITATION_ROLLUPS)
    events.record(session, "invitation", account_ids=set(found) | others)
    return tally


def _rollups(choices: BulkChoices) -> set[str]:
    """The account roll-ups these choices can alter (a bulk update never alters contacts or
    addresses, so neither the contact count nor the search text)."""
    rollups = {name for switch in choices.switches for name in access.SWITCH_ROLLUPS[switch]}
    if choices.sends_invitations:
        rollups.update(access.INVITATION_ROLLUPS)
    return rollups


def _record_history(
    session: Session, work: _Work, changed: dict[int, int], sent: dict[int, int]
) -> None:
    """activity.record's BULK_UPDATE event for each account, in one INSERT instead of one ORM
    flush per account (R30)."""
    actor = work.actor
    changes = work.choices.to_params()
    rows = [
        {
            "at": work.moment,
            "kind": activity.BULK_UPDATE,
            "actor_member_id": actor.member_id,
            "actor_portal_user_id": actor.portal_user_id,
            "actor_name": actor.name,
            "account_id": account_id,
            "email_id": None,
            "address": "",
            "detail": {
                "accounts": 1,
                "rows_changed": changed.get(account_id, 0),
                "invitations_sent": sent.get(account_id, 0),
                "changes": changes,
            },
        }
        for account_id in sorted(set(changed) | set(sent))
    ]
    if rows:
        insert_rows(session, _ACTIVITY_EVENT, rows)
        events.record(session, "activity", account_ids=[row["account_id"] for row in rows])


def _row_changes(choices: BulkChoices) -> list[ColumnElement[bool]]:
    """For each chosen switch, the condition under which a row changes."""
    conditions: list[ColumnElement[bool]] = []
    for switch, choice in choices.switches.items():
        column = col(getattr(AccessRow, switch))
        if choice == Choice.DISABLE:
            conditions.append(column)
            continue
        conditions.append(~column)
        preferences = choices.custom_preferences
        if switch == "notify" and preferences is not None:
            conditions.append(_preferences_differ(preferences))
    return conditions


def _preferences_differ(preferences: dict[str, bool]) -> ColumnElement[bool]:
    return or_(*(col(getattr(AccessRow, c)) != on for c, on in preferences.items()))


def _count_changing_rows(session: Session, account_ids: list[int], choices: BulkChoices) -> int:
    conditions = _row_changes(choices)
    if not conditions:
        return 0
    query = select(func.count(AccessRow.id)).where(
        in_ids(session, AccessRow.account_id, account_ids), or_(*conditions)
    )
    return session.scalar(query) or 0


def _changing_rows_per_account(
    session: Session, account_ids: list[int], choices: BulkChoices
) -> dict[int, int]:
    conditions = _row_changes(choices)
    if not conditions:
        return {}
    query = (
        select(AccessRow.account_id, func.count(AccessRow.id))
        .where(in_ids(session, AccessRow.account_id, account_ids), or_(*conditions))
        .group_by(AccessRow.account_id)
    )
    return {account_id: count for account_id, count in session.execute(query)}


def _update_rows(
    session: Session, account_ids: list[int], choices: BulkChoices, moment: datetime
) -> None:
    """One UPDATE per chosen switch, touching only the rows that change (R12)."""
    in_chunk = in_ids(session, AccessRow.account_id, account_ids)
    for switch, choice in choices.switches.items():
        column = col(getattr(AccessRow, switch))
        on = choice == Choice.ENABLE
        if switch == "notify" and on:
            _enable_notify(session, in_chunk, choices.custom_preferences, moment)
        condition = ~column if on else column
        _update(session, and_(in_chunk, condition), {switch: on, "updated_at": moment})


def _enable_notify(
    session: Session,
    in_chunk: ColumnElement[bool],
    preferences: dict[str, bool] | None,
    moment: datetime,
) -> None:
    notify = col(AccessRow.notify)
    if preferences is not None:
        condition = and_(in_chunk, or_(~notify, _preferences_differ(preferences)))
        _update(session, condition, {"notify": True, **preferences, "updated_at": moment})
        return
    # R3: a row whose Notify is first turned on (all nine off) gets all nine on.
    all_off = and_(*(~col(getattr(AccessRow, c)) for c in NOTIFICATION_CATEGORIES))
    every = dict.fromkeys(NOTIFICATION_CATEGORIES, True)
    _update(session, and_(in_chunk, ~notify, all_off), {"notify": True, **every})


def _update(session: Session, condition: ColumnElement[bool], values: dict[str, Any]) -> None:
    statement = update(AccessRow).where(condition).values(values)
    session.execute(statement.execution_options(synchronize_session=False))


def cancel_orphan_invitations(
    session: Session, account_ids: list[int], actor: Actor, moment: datetime
) -> set[int]:
    """R11: an address left with Login on no account loses its outstanding invitation."""
    emails = select(AccessRow.email_id).where(in_ids(session, AccessRow.account_id, account_ids))
    still_login = exists().where(AccessRow.email_id == Invitation.email_id, col(AccessRow.login))
    query = select(Invitation.email_id).where(
        Invitation.state == InvitationState.OUTSTANDING.value,
        col(Invitation.email_id).in_(emails),
        ~still_login,
    )
    cancelled = set(session.scalars(query))
    for email_id in sorted(cancelled):
        invitations.cancel_invitation(session, email_id, actor, now=moment, refresh=False)
    return cancelled


@dataclass
class _Sent:
    invited: set[int] = field(default_factory=set)
    handled: set[int] = field(default_factory=set)
    # One account id per (account, invited address) pair: who gets "invitations sent".
    accounts: list[int] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


def _send_invitations(session: Session, account_ids: list[int], work: _Work) -> _Sent:
    """One invitation per address left Pending (R12), none to an address invited in the last
    24 hours (R13), none to an invalid address (R22: reported)."""
    sent = _Sent()
    accounts_of: dict[int, list[int]] = defaultdict(list)
    emails: dict[int, InvitationCandidate] = {}
    for candidate in invitation_candidates(session, account_ids, work.moment):
        if decide_invitation(candidate) in (InvitationDecision.INVITE, InvitationDecision.INVALID):
            accounts_of[candidate.email_id].append(candidate.account_id)
            emails[candidate.email_id] = candidate
    to_send: list[int] = []
    for email_id, email in emails.items():
        if email_id in work.before.handled or email_id in sent.handled:
            continue
        sent.handled.add(email_id)
        if decide_invitation(email) is InvitationDecision.INVALID:
            sent.errors.append(invalid_address_error(email.address, email.invalid_reason))
            continue
        to_send.append(email_id)
    send = _send_one_by_one if work.careful else _send_all
    problems = send(session, to_send, work)
    for email_id in to_send:
        if email_id in problems:
            sent.errors.append({"address": emails[email_id].address, "reason": problems[email_id]})
            continue
        sent.invited.add(email_id)
        sent.accounts.extend(accounts_of[email_id])
    return sent


def _send_all(session: Session, email_ids: list[int], work: _Work) -> dict[int, str]:
    """All the chunk's invitations with set-based queries; why some were refused."""
    batch = invitations.send_invitations(
        session,
        work.settings,
        email_ids,
        work.actor,
        message=work.choices.message,
        now=work.moment,
    )
    return {email_id: problem.message for email_id, problem in batch.refused.items()}


def _send_one_by_one(session: Session, email_ids: list[int], work: _Work) -> dict[int, str]:
    """The careful retry of a chunk the database refused: the same sending, one address at a
    time, each in its own SAVEPOINT, so that one bad row cannot stop the others."""
    problems: dict[int, str] = {}
    for email_id in email_ids:
        try:
            with session.begin_nested():
                problems.update(_send_all(session, [email_id], work))
        except SQLAlchemyError:
            log.exception("bulk invitation to address %s failed", email_id)
            problems[email_id] = NOT_SENT
    return problems


class InvitationCandidate(NamedTuple):
    """An address on an account, as Send invitations sees it (R12)."""

    account_id: int
    email_id: int
    address: str
    invalid_reason: str | None
    activated: bool
    recent: bool


class InvitationDecision(StrEnum):
    ACTIVE = "active"
    RECENT = "recent"
    INVALID = "invalid"
    INVITE = "invite"


def decide_invitation(candidate: InvitationCandidate) -> InvitationDecision:
    """Whether Send invitations invites this address, in one order of decisions for the
    preview and the job: already Active gets none (R10), nor one invited in the last 24 hours
    (R13); an invalid one gets none and is reported (R22); the others are invited."""
    if candidate.activated:
        return InvitationDecision.ACTIVE
    if candidate.recent:
        return InvitationDecision.RECENT
    if candidate.invalid_reason:
        return InvitationDecision.INVALID
    return InvitationDecision.INVITE


def invitation_candidates(
    session: Session, account_ids: list[int], moment: datetime
) -> list[InvitationCandidate]:
    """Every (account, address) of these accounts, as Send invitations sees it once Login is
    on for all of them (R12): the job reads them after turning Login on, the preview before."""
    query = (
        select(AccessRow.account_id, *_candidate_columns(moment))
        .join(ContactEmail, ContactEmail.id == AccessRow.email_id)
        .where(in_ids(session, AccessRow.account_id, account_ids))
        .order_by(AccessRow.account_id, ContactEmail.id)
    )
    return [
        InvitationCandidate(account_id, email_id, address, invalid, bool(activated), bool(recent))
        for account_id, email_id, address, invalid, activated, recent in session.execute(query)
    ]


def address_candidates(
    session: Session, email_ids: Iterable[int], moment: datetime
) -> dict[int, InvitationCandidate]:
    """These addresses as Send invitations sees them (account_id 0), by id: for the import,
    which invites the addresses its rows turn Login on for rather than whole accounts (R32)."""
    ids = sorted(set(email_ids))
    found: dict[int, InvitationCandidate] = {}
    for chunk in _chunks(ids, DEFAULT_CHUNK):
        query = select(*_candidate_columns(moment)).where(in_ids(session, ContactEmail.id, chunk))
        for email_id, address, invalid, activated, recent in session.execute(query):
            found[email_id] = InvitationCandidate(
                0, email_id, address, invalid, bool(activated), bool(recent)
            )
    return found


def _candidate_columns(moment: datetime) -> tuple[Any, ...]:
    return (
        ContactEmail.id,
        ContactEmail.address,
        ContactEmail.invalid_reason,
        access.email_is_activated(ContactEmail.id),
        recently_invited(ContactEmail.id, moment),
    )


def recently_invited(email_id: Any, moment: datetime) -> ColumnElement[bool]:
    return exists().where(
        Invitation.email_id == email_id,
        Invitation.state == InvitationState.OUTSTANDING.value,
        Invitation.created_at > moment - RECENT_INVITATION,
    )


def _account_problems(
    session: Session, account_ids: list[int]
) -> tuple[list[int], list[dict[str, Any]]]:
    """The accounts that exist, and an error for each that is gone or has no access row."""
    rows = (
        select(func.count(AccessRow.id)).where(AccessRow.account_id == Account.id).scalar_subquery()
    )
    query = select(Account.id, Account.name, Account.contact_count, rows).where(
        in_ids(session, Account.id, account_ids)
    )
    found: list[int] = []
    errors: list[dict[str, Any]] = []
    for account_id, name, contact_count, row_count in session.execute(query):
        found.append(account_id)
        if not contact_count:
            errors.append({"account": name, "reason": NO_CONTACTS})
        elif not row_count:
            errors.append({"account": name, "reason": NO_ADDRESSES})
    for missing in sorted(set(account_ids) - set(found)):
        errors.append({"account": f"#{missing}", "reason": ACCOUNT_GONE})
    return found, errors


def invalid_address_error(address: str, reason: str | None) -> dict[str, Any]:
    return {"address": address, "reason": INVALID_ADDRESS, "detail": reason or ""}


def _finish(
    engine: Engine,
    claimed: jobs.Claimed,
    accounts: int,
    tally: _Tally,
    now: datetime | None,
    state: JobState,
) -> dict[str, Any]:
    """Store the report, end the job and tell its member in Inbox+ (R13, R29)."""
    report = {
        "accounts": accounts,
        "accounts_changed": tally.accounts_changed,
        "rows_changed": tally.rows_changed,
        "invitations_sent": tally.invitations_sent,
        "errors": tally.errors[:MAX_REPORTED_ERRORS],
        "errors_total": len(tally.errors),
    }
    return jobs.finish(
        engine, claimed, report, state, notification="bulk_report", link=REPORT_LINK, now=now
    )


def _names(session: Session, account_ids: list[int]) -> Iterator[tuple[int, str]]:
    query = select(Account.id, Account.name).where(in_ids(session, Account.id, account_ids))
    yield from ((account_id, name) for account_id, name in session.execute(query))


def _unique(account_ids: Iterable[int]) -> list[int]:
    return sorted({int(account_id) for account_id in account_ids})


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]
