"""The import of accounts and contacts from a CSV file (R32): the preview of what it will do,
and the job that does it chunk by chunk through the rules of the bulk update (R2-R13): the
same invitation path, the same 24-hour rule, R10 for addresses already active, R11 for Login
turned off, and a report in Inbox+ (run by portal_ui.jobs). Reading the file and its rows is
portal_ui.import_files'."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, insert, literal, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col

from portal_ui import access, activity, bulk, events, inputs, invitations, jobs
from portal_ui.activity import Actor
from portal_ui.batch_sql import in_ids, insert_rows
from portal_ui.bulk import InvitationDecision, decide_invitation
from portal_ui.clock import utcnow
from portal_ui.config import Settings
from portal_ui.db import begin_write, session_scope
from portal_ui.i18n import N_
from portal_ui.import_files import (
    CsvFile,
    ImportField,
    ImportRow,
    RowProblem,
    check_mapping,
    read_row,
)
from portal_ui.models import (
    NOTIFICATION_CATEGORIES,
    SWITCHES,
    AccessRow,
    Account,
    AccountAssignment,
    AccountContact,
    AccountStatus,
    ActivityEvent,
    BulkJob,
    Contact,
    ContactEmail,
    ContactPhone,
    JobState,
    TeamMember,
)

log = logging.getLogger(__name__)

JOB_KIND = "import"
# Rows per transaction: like the bulk update's chunks, a trade between how long other
# writers wait for SQLite's write lock and how much each transaction writes.
CHUNK_ROWS = 1000
MAX_REPORTED_ERRORS = bulk.MAX_REPORTED_ERRORS
REPORT_LINK = "/clients/accounts"

_ACCOUNT = Account.__table__  # type: ignore[attr-defined]
_CONTACT = Contact.__table__  # type: ignore[attr-defined]
_EMAIL = ContactEmail.__table__  # type: ignore[attr-defined]
_ACCESS_ROW = AccessRow.__table__  # type: ignore[attr-defined]
_ASSIGNMENT = AccountAssignment.__table__  # type: ignore[attr-defined]
_ACTIVITY_EVENT = ActivityEvent.__table__  # type: ignore[attr-defined]

# Why a row fails because of other rows or of the database (message ids, with their line).
ADDRESS_OF_ANOTHER = N_(
    "This address is given to {name} on line {line}: an address belongs to one person."
)
SAME_ROW_TWICE = N_("This address is already on this account on line {line}.")
ACCOUNT_ID_NAMED_OTHERWISE = N_('Account ID {id} is named "{name}" on line {line}.')
AMBIGUOUS_ACCOUNT = N_(
    'Several accounts are named "{name}": add an Account ID column to say which one.'
)
UNEXPECTED = N_("Unexpected error: nothing was changed for this row.")


@dataclass(frozen=True)
class ImportOptions:
    """What the member chose: the field of each column (None: ignored), and whether the
    import sends invitations, with the personalized message of R12."""

    mapping: tuple[ImportField | None, ...]
    send_invitations: bool = False
    message: str = ""

    def to_params(self) -> dict[str, Any]:
        return {
            "mapping": [field.value if field else None for field in self.mapping],
            "send_invitations": self.send_invitations,
            "message": self.message if self.send_invitations else "",
        }

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> ImportOptions:
        mapping = tuple(ImportField(value) if value else None for value in params["mapping"])
        return cls(mapping, bool(params.get("send_invitations")), str(params.get("message", "")))


@dataclass
class ImportCounts:
    """What an import will do (the preview) or did (the report), R13's figures for R32.
    `invitations`: to send (preview) or sent (report); `failures`: the first failing rows,
    each {"line", "reason", "params"} (or the address and its detail for an invalid one)."""

    rows: int = 0
    accounts_created: int = 0
    accounts_updated: int = 0
    contacts_created: int = 0
    contacts_updated: int = 0
    addresses_created: int = 0
    addresses_updated: int = 0
    rows_changed: int = 0
    invitations: int = 0
    already_active: int = 0
    recently_invited: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)
    failures_total: int = 0

    def merge(self, other: ImportCounts) -> None:
        for name, value in vars(other).items():
            if name == "failures":
                self.fail(value)
            elif name not in ("failures_total", "rows"):
                setattr(self, name, getattr(self, name) + value)

    def fail(self, failures: Iterable[dict[str, Any]]) -> None:
        for failure in failures:
            self.failures_total += 1
            if len(self.failures) < MAX_REPORTED_ERRORS:
                self.failures.append(failure)

    @property
    def changes(self) -> int:
        """How many things the import changes (0: importing it again changes nothing)."""
        return (
            self.accounts_created
            + self.accounts_updated
            + self.contacts_created
            + self.contacts_updated
            + self.addresses_created
            + self.rows_changed
        )

    def to_report(self) -> dict[str, Any]:
        """The job's report (R13): these figures, `invitations` named `invitations_sent`."""
        report = dict(vars(self))
        report["failures"] = sorted(self.failures, key=_line)
        report["invitations_sent"] = report.pop("invitations")
        return report

    @classmethod
    def from_report(cls, report: Mapping[str, Any]) -> ImportCounts:
        names = set(vars(cls()))
        counts = cls(**{key: value for key, value in report.items() if key in names})
        counts.invitations = int(report.get("invitations_sent", 0))
        return counts


def row_failure(line: int, reason: str, /, **params: Any) -> dict[str, Any]:
    """One failing row of a preview or a report: its line and why (translated when shown)."""
    return {"line": line, "reason": reason, "params": params}


def _line(failure: dict[str, Any]) -> int:
    return int(failure.get("line") or 0)


def start_job(session: Session, member_id: int, file: CsvFile, options: ImportOptions) -> BulkJob:
    """Queue the import (R32); the caller commits, then runs `run_job` in a thread. The
    mapping and the message are checked here (ImportFileError, MessageTooLong), before any
    row is written. The job keeps the whole file, so that a restart can resume it."""
    check_mapping(options.mapping)
    if options.send_invitations:
        inputs.clean_message(options.message)
    params = {"file": file.to_params(), "options": options.to_params()}
    return jobs.queue(session, member_id, JOB_KIND, params, total=file.rows)


def preview(
    session: Session,
    settings: Settings,
    file: CsvFile,
    options: ImportOptions,
    now: datetime | None = None,
) -> ImportCounts:
    """What the import will do, before anything is written (R32): the job's own reading and
    matching, chunk by chunk, remembering what earlier chunks would have created."""
    check_mapping(options.mapping)
    moment = now or utcnow()
    reader = _Reader(file, options, _members(session), settings.check_dns)
    counts = ImportCounts(rows=file.rows)
    state = _State()
    for batch in reader.batches():
        counts.merge(_Chunk(session, state, options, moment, write=None).plan(batch.rows))
    counts.fail(reader.take_failures())
    counts.failures.sort(key=_line)
    return counts


def run_job(
    engine: Engine,
    settings: Settings,
    job_id: int,
    now: datetime | None = None,
    resume: bool = False,
) -> dict[str, Any]:
    """Run a queued import, one transaction per chunk of rows, then report to the member who
    started it in Inbox+ (R13, R32). Blocking: the web app runs it in a thread. A resumed job
    starts over, which changes nothing already done and invites nobody again (R13)."""
    claimed = jobs.claim(engine, job_id, resume=resume, now=now)
    if claimed is None:
        return jobs.stored_report(engine, job_id)
    file = CsvFile.from_params(claimed.params["file"])
    options = ImportOptions.from_params(claimed.params["options"])
    counts = ImportCounts(rows=file.rows)
    try:
        with session_scope(engine) as session:
            members = _members(session)
        reader = _Reader(file, options, members, settings.check_dns)
        write = _Write(settings, claimed.actor, options.message, handled=set())
        with bulk.job_connection(engine) as bind:
            for batch in reader.batches():
                counts.merge(_run_chunk(bind, claimed, batch, options, write, now))
                counts.fail(reader.take_failures())
        counts.fail(reader.take_failures())
    except Exception:
        log.exception("import job %s stopped", job_id)
        _finish(engine, claimed, file, counts, now, JobState.FAILED)
        raise
    return _finish(engine, claimed, file, counts, now, JobState.DONE)


def _finish(
    engine: Engine,
    claimed: jobs.Claimed,
    file: CsvFile,
    counts: ImportCounts,
    now: datetime | None,
    state: JobState,
) -> dict[str, Any]:
    """The report in the job and in Inbox+ (R13), and the import's entry in the activity feed
    (R30)."""
    report = {"file": file.name, **counts.to_report()}
    with session_scope(engine) as session:
        summary = {key: value for key, value in report.items() if key != "failures"}
        activity.record(
            session,
            activity.IMPORT,
            claimed.actor,
            now=now,
            job_id=claimed.id,
            failed=state == JobState.FAILED,
            **summary,
        )
    return jobs.finish(
        engine, claimed, report, state, notification="import_report", link=REPORT_LINK, now=now
    )


def _members(session: Session) -> dict[str, int]:
    """Team member ids by address, for Assigned to (R5)."""
    query = select(TeamMember.email, TeamMember.id)
    return {email.lower(): member_id for email, member_id in session.execute(query) if member_id}


@dataclass
class _Write:
    """What every chunk of one import job shares when it writes."""

    settings: Settings
    actor: Actor
    message: str
    handled: set[int]  # addresses already invited or reported by this job (one each, R12)


def _run_chunk(
    bind: Engine | Connection,
    claimed: jobs.Claimed,
    batch: _Batch,
    options: ImportOptions,
    write: _Write,
    now: datetime | None,
) -> ImportCounts:
    """One chunk in one transaction. If the database refuses it, its rows run again one by
    one, so that one bad row cannot stop the others (R13); a row refused again is reported."""
    try:
        return _apply(bind, claimed, batch.rows, options, write, now, advance=batch.records)
    except SQLAlchemyError:
        log.exception("import job %s: a chunk failed; its rows go one by one", claimed.id)
    counts = ImportCounts()
    skipped = batch.records - len(batch.rows)  # the rows that failed before: done already
    for index, row in enumerate(batch.rows):
        advance = 1 + (skipped if index == 0 else 0)
        try:
            counts.merge(_apply(bind, claimed, [row], options, write, now, advance=advance))
        except SQLAlchemyError:
            log.exception("import job %s: line %s failed", claimed.id, row.line)
            counts.fail([row_failure(row.line, UNEXPECTED)])
            with session_scope(bind) as session:
                jobs.advance(session, claimed, advance, now)
    return counts


def _apply(
    bind: Engine | Connection,
    claimed: jobs.Claimed,
    rows: list[ImportRow],
    options: ImportOptions,
    write: _Write,
    now: datetime | None,
    advance: int,
) -> ImportCounts:
    """Rows in one transaction, matched afresh against the database (which holds what the
    earlier chunks wrote), and the job's progress with them."""
    handled_before = set(write.handled)
    try:
        with session_scope(bind) as session:
            begin_write(session)
            chunk = _Chunk(session, _State(), options, now or utcnow(), write=write)
            counts = chunk.plan(rows)
            jobs.advance(session, claimed, advance, now)
        return counts
    except BaseException:
        write.handled.intersection_update(handled_before)  # rolled back: nothing was sent
        raise


# -- reading the rows ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Batch:
    rows: list[ImportRow]
    records: int  # the file's rows it covers, failing ones included (the job's progress)


class _Reader:
    """The file's rows, read and checked, in chunks. A row that fails on its own or against
    an earlier row of the file is kept aside with its line; the first row stands (R32)."""

    def __init__(
        self, file: CsvFile, options: ImportOptions, members: Mapping[str, int], check_dns: bool
    ) -> None:
        self.file = file
        self.mapping = options.mapping
        self.members = members
        self.check_dns = check_dns
        self.failures: list[dict[str, Any]] = []
        self._taken = 0
        # What the first rows said: each address's contact name, each Account ID's account
        # name, each address on each account; each account's Test client and each address's
        # language (a later row saying otherwise is not followed, so a second import of the
        # file changes nothing).
        self.names: dict[str, tuple[str, int]] = {}
        self.id_names: dict[str, tuple[str, int]] = {}
        self.pairs: dict[tuple[tuple[str, str], str], int] = {}
        self.test_clients: dict[tuple[str, str], bool] = {}
        self.languages: dict[str, str] = {}

    def batches(self, size: int = CHUNK_ROWS) -> Iterator[_Batch]:
        rows: list[ImportRow] = []
        records = 0
        for line, cells in self.file.records():
            records += 1
            row = self._row(line, cells)
            if row is not None:
                rows.append(row)
            if len(rows) >= size:
                yield _Batch(rows, records)
                rows, records = [], 0
        if records:
            yield _Batch(rows, records)

    def take_failures(self) -> list[dict[str, Any]]:
        taken, self._taken = self.failures[self._taken :], len(self.failures)
        return taken

    def _row(self, line: int, cells: list[str]) -> ImportRow | None:
        try:
            row = read_row(
                line, cells, self.mapping, self.file.headers, self.members, self.check_dns
            )
            return self._against_earlier_rows(row)
        except RowProblem as problem:
            self.failures.append(row_failure(line, problem.reason, **problem.params))
            return None

    def _against_earlier_rows(self, row: ImportRow) -> ImportRow:
        pair = (row.account_key, row.address)
        if pair in self.pairs:
            raise RowProblem(SAME_ROW_TWICE, line=self.pairs[pair])
        if row.contact_name:
            name, line = self.names.setdefault(row.address, (row.contact_name, row.line))
            if _name_key(name) != _name_key(row.contact_name):
                raise RowProblem(ADDRESS_OF_ANOTHER, name=name, line=line)
        if row.external_id:
            name, line = self.id_names.setdefault(row.external_id, (row.account_name, row.line))
            if name != row.account_name:
                raise RowProblem(
                    ACCOUNT_ID_NAMED_OTHERWISE, id=row.external_id, name=name, line=line
                )
        self.pairs[pair] = row.line
        test_client, language = row.test_client, row.language
        if test_client is not None:
            test_client = self.test_clients.setdefault(row.account_key, test_client)
        if language is not None:
            language = self.languages.setdefault(row.address, language)
        if (test_client, language) != (row.test_client, row.language):
            row = replace(row, test_client=test_client, language=language)
        return row


def _name_key(name: str) -> str:
    """Names compared as people read them: case and runs of spaces do not count."""
    return " ".join(name.casefold().split())


# -- matching rows to the database, and writing them -------------------------------------------


@dataclass(eq=False, slots=True)
class _Account:
    id: int
    name: str
    external_id: str | None
    is_test_client: bool
    new: bool = False
    assigned: set[int] = field(default_factory=set)
    linked: set[int] = field(default_factory=set)  # its contacts' ids
    by_name: dict[str, _Contact] = field(default_factory=dict)  # its contacts by name


@dataclass(eq=False, slots=True)
class _Contact:
    id: int
    name: str
    language: str | None
    new: bool = False
    phones: set[str] | None = None  # loaded when a row gives a phone


@dataclass(eq=False, slots=True)
class _Email:
    id: int
    address: str
    contact: _Contact
    new: bool = False


@dataclass(eq=False, slots=True)
class _Pair:
    """An access row (R2): its four switches, and whether its nine categories are all off."""

    id: int | None
    switches: list[bool]
    categories_off: bool
    new: bool = False


@dataclass
class _State:
    """The accounts, contacts, addresses and access rows the rows name, as they will be:
    loaded from the database, with what the import creates. The job starts each chunk anew
    (the database holds what earlier chunks wrote); the preview keeps it across chunks."""

    accounts: dict[int, _Account] = field(default_factory=dict)
    by_external_id: dict[str, _Account | None] = field(default_factory=dict)
    by_name: dict[str, list[_Account]] = field(default_factory=dict)
    contacts: dict[int, _Contact] = field(default_factory=dict)
    emails: dict[str, _Email | None] = field(default_factory=dict)
    pairs: dict[tuple[int, int], _Pair] = field(default_factory=dict)
    counted: set[int] = field(default_factory=set)  # the preview's addresses counted
    last_id: int = 0  # the preview's ids of what it would create: negative, in no table

    def fake_id(self) -> int:
        self.last_id -= 1
        return self.last_id


class _Chunk:
    """One chunk of rows matched to the database (R32: an account by its Account ID, else by
    its exact name; a contact by its address) and, with `write`, written in the session's
    transaction; without, only counted (the preview)."""

    def __init__(
        self,
        session: Session,
        state: _State,
        options: ImportOptions,
        moment: datetime,
        write: _Write | None,
    ) -> None:
        self.session = session
        self.state = state
        self.options = options
        self.moment = moment
        self.write = write
        self.counts = ImportCounts()
        self.accounts_updated: set[_Account] = set()
        self.account_changes: dict[_Account, set[str]] = {}
        self.new_assignments: list[tuple[_Account, int]] = []
        self.contacts_updated: set[_Contact] = set()
        self.addresses_updated: set[_Email] = set()
        self.changed_accounts: dict[int, int] = {}  # account id: its rows changed (R30)
        self.touched_contacts: set[int] = set()  # a new link or address: rows to fill (R1)
        self.logins_off: set[int] = set()  # accounts where Login was turned off (R11)
        self.logins_on: dict[int, int] = {}  # addresses left with Login on: their first line
        self.row_writes: list[tuple[int, int, _Pair, bool]] = []

    def plan(self, rows: list[ImportRow]) -> ImportCounts:
        self._load(rows)
        matched: list[tuple[ImportRow, _Account]] = []
        for row in rows:
            account = self._account(row)
            if account is not None:
                matched.append((row, account))
        self._write_accounts([account for _, account in matched])
        emails = [(row, account, self._email(row, account)) for row, account in matched]
        self._write_contacts_and_emails([email for _, _, email in emails])
        self._load_phones([(row, email) for row, _, email in emails if row.phone])
        for row, account, email in emails:
            self._link(account, email.contact)
            self._contact_details(row, email.contact)
            self._access_row(row, account, email)
        self._write_rows()
        invited = self._invitations()
        if self.write is not None:
            self._refresh_and_record(invited)
        self.counts.accounts_updated = len(self.accounts_updated)
        self.counts.contacts_updated = len(self.contacts_updated)
        self.counts.addresses_updated = len(self.addresses_updated)
        return self.counts

    # -- what the database holds for these rows

    def _load(self, rows: list[ImportRow]) -> None:
        state, session = self.state, self.session
        external_ids = {row.external_id for row in rows if row.external_id}
        external_ids -= set(state.by_external_id)
        names = {row.account_name for row in rows} - set(state.by_name)
        addresses = {row.address for row in rows} - set(state.emails)
        fresh: dict[int, _Account] = {}

        def take(found: Any) -> _Account:
            account = state.accounts.get(found.id)
            if account is None:
                account = state.accounts[found.id] = fresh[found.id] = _Account(*found)
            return account

        columns = (Account.id, Account.name, Account.external_id, Account.is_test_client)
        state.by_external_id.update(dict.fromkeys(external_ids))
        for part in _parts(sorted(external_ids)):
            query = select(*columns).where(col(Account.external_id).in_(part))
            for found in session.execute(query):
                state.by_external_id[found.external_id] = take(found)
        for name in names:
            state.by_name[name] = []
        for part in _parts(sorted(names)):
            query = select(*columns).where(col(Account.name).in_(part)).order_by(Account.id)
            for found in session.execute(query):
                state.by_name[found.name].append(take(found))
        self._load_accounts(fresh)
        state.emails.update(dict.fromkeys(addresses))
        for part in _parts(sorted(addresses)):
            self._load_emails(part)
        self._load_pairs(rows)

    def _load_accounts(self, fresh: dict[int, _Account]) -> None:
        """Their assigned team members and their contacts."""
        session = self.session
        for part in _parts(sorted(fresh)):
            assigned = select(AccountAssignment.account_id, AccountAssignment.team_member_id)
            query = assigned.where(in_ids(session, AccountAssignment.account_id, part))
            for account_id, member_id in session.execute(query):
                fresh[account_id].assigned.add(member_id)
            linked = (
                select(AccountContact.account_id, Contact.id, Contact.name, Contact.language)
                .join(Contact, Contact.id == AccountContact.contact_id)
                .where(in_ids(session, AccountContact.account_id, part))
                .order_by(Contact.id)
            )
            for account_id, contact_id, name, language in session.execute(linked):
                contact = self._contact(contact_id, name, language)
                fresh[account_id].linked.add(contact_id)
                fresh[account_id].by_name.setdefault(_name_key(name), contact)

    def _contact(self, contact_id: int, name: str, language: str | None) -> _Contact:
        found = self.state.contacts.get(contact_id)
        if found is None:
            found = self.state.contacts[contact_id] = _Contact(contact_id, name, language)
        return found

    def _load_emails(self, addresses: list[str]) -> None:
        query = (
            select(
                ContactEmail.id, ContactEmail.address, Contact.id, Contact.name, Contact.language
            )
            .join(Contact, Contact.id == ContactEmail.contact_id)
            .where(col(ContactEmail.address).in_(addresses))
        )
        for email_id, address, contact_id, name, language in self.session.execute(query):
            self.state.emails[address] = _Email(
                email_id, address, self._contact(contact_id, name, language)
            )

    def _load_pairs(self, rows: list[ImportRow]) -> None:
        """The access rows of the known addresses these rows name (on any account)."""
        emails = self.state.emails
        email_ids = {email.id for row in rows if (email := emails.get(row.address))}
        wanted = sorted(email_id for email_id in email_ids if email_id > 0)
        all_off = and_(*(~col(getattr(AccessRow, c)) for c in NOTIFICATION_CATEGORIES))
        switches = [getattr(AccessRow, switch) for switch in SWITCHES]
        for part in _parts(wanted):
            query = select(
                AccessRow.id, AccessRow.account_id, AccessRow.email_id, all_off, *switches
            ).where(in_ids(self.session, AccessRow.email_id, part))
            for row_id, account_id, email_id, off, *values in self.session.execute(query):
                self.state.pairs.setdefault(
                    (account_id, email_id), _Pair(row_id, [bool(v) for v in values], bool(off))
                )

    def _load_phones(self, rows: list[tuple[ImportRow, _Email]]) -> None:
        contacts = {email.contact.id: email.contact for _, email in rows}
        wanted = sorted(cid for cid, contact in contacts.items() if contact.phones is None)
        for contact_id in wanted:
            contacts[contact_id].phones = set()
        known = [cid for cid in wanted if cid > 0 and not contacts[cid].new]
        for part in _parts(known):
            query = select(ContactPhone.contact_id, ContactPhone.number).where(
                in_ids(self.session, ContactPhone.contact_id, part)
            )
            for contact_id, number in self.session.execute(query):
                contacts[contact_id].phones.add(number)  # type: ignore[union-attr]

    # -- accounts (R4, R5, R32)

    def _account(self, row: ImportRow) -> _Account | None:
        """The row's account: by Account ID, else by exact name (an ID adopts an account of
        that name that has none yet); new if none matches; None when the name is ambiguous."""
        state = self.state
        account = state.by_external_id.get(row.external_id) if row.external_id else None
        if account is None:
            named = state.by_name.get(row.account_name, [])
            if row.external_id:
                named = [candidate for candidate in named if candidate.external_id is None]
            if len(named) > 1:
                self.counts.fail([row_failure(row.line, AMBIGUOUS_ACCOUNT, name=row.account_name)])
                return None
            account = named[0] if named else self._new_account(row)
        if row.external_id:
            state.by_external_id[row.external_id] = account
            self._set(account, "external_id", row.external_id)
            self._set(account, "name", row.account_name)
        if row.test_client is not None:
            self._set(account, "is_test_client", row.test_client)
        for member_id in row.assignees:
            if member_id not in account.assigned:
                account.assigned.add(member_id)
                self.new_assignments.append((account, member_id))
                self._changed(account)
        return account

    def _new_account(self, row: ImportRow) -> _Account:
        account = _Account(0, row.account_name, row.external_id or None, False, new=True)
        self.state.by_name.setdefault(row.account_name, []).append(account)
        return account

    def _set(self, account: _Account, name: str, value: object) -> None:
        if getattr(account, name) == value:
            return
        setattr(account, name, value)
        self.account_changes.setdefault(account, set()).add(name)
        self._changed(account)

    def _changed(self, account: _Account) -> None:
        if not account.new:
            self.accounts_updated.add(account)

    def _write_accounts(self, accounts: list[_Account]) -> None:
        new = [a for a in dict.fromkeys(accounts) if a.new and not a.id]
        self.counts.accounts_created = len(new)
        if self.write is None:
            for account in new:
                account.id = self.state.fake_id()
            return
        rows = [
            {
                "name": a.name,
                "external_id": a.external_id,
                "is_test_client": a.is_test_client,
                "created_at": self.moment,
                "status": AccountStatus.NOT_ACTIVATED.value,
                "has_login": False,
                "has_notify": False,
                "has_email_sync": False,
                "contact_count": 0,
                "last_login_at": None,
                "search_text": a.name.lower(),
            }
            for a in new
        ]
        for account, new_id in zip(new, self._insert_returning(_ACCOUNT, rows), strict=True):
            account.id = new_id
            self.changed_accounts.setdefault(new_id, 0)
        for account, names in self.account_changes.items():
            if account.new:
                continue
            values = {name: getattr(account, name) for name in sorted(names)}
            statement = update(_ACCOUNT).where(_ACCOUNT.c.id == account.id).values(values)
            self.session.execute(statement)
            self.changed_accounts.setdefault(account.id, 0)
        assignments = [
            {"account_id": account.id, "team_member_id": member_id}
            for account, member_id in self.new_assignments
        ]
        insert_rows(self.session, _ASSIGNMENT, assignments)
        self.changed_accounts.update(
            {
                account.id: self.changed_accounts.get(account.id, 0)
                for account, _ in self.new_assignments
            }
        )

    # -- contacts and addresses (R1)

    def _email(self, row: ImportRow, account: _Account) -> _Email:
        """The row's address; a new one goes to the account's contact of that name, else to
        a new contact (named after the address when the row names nobody)."""
        email = self.state.emails.get(row.address)
        if email is not None:
            return email
        name = _name_key(row.contact_name)
        contact = account.by_name.get(name) if name else None
        if contact is None:
            contact = _Contact(0, row.contact_name or row.address, row.language, new=True)
            if name:
                account.by_name[name] = contact
        elif not contact.new:
            self.contacts_updated.add(contact)  # it gets a new address
        email = self.state.emails[row.address] = _Email(0, row.address, contact, new=True)
        return email

    def _write_contacts_and_emails(self, emails: list[_Email]) -> None:
        new_emails = [email for email in dict.fromkeys(emails) if email.new and not email.id]
        contacts = [c for c in dict.fromkeys(e.contact for e in new_emails) if not c.id]
        self.counts.contacts_created = len(contacts)
        self.counts.addresses_created = len(new_emails)
        if self.write is None:
            for item in (*contacts, *new_emails):
                item.id = self.state.fake_id()
        else:
            rows = [
                {"name": c.name, "language": c.language, "created_at": self.moment}
                for c in contacts
            ]
            for contact, new_id in zip(
                contacts, self._insert_returning(_CONTACT, rows), strict=True
            ):
                contact.id = new_id
            rows = [
                {
                    "contact_id": e.contact.id,
                    "address": e.address,
                    "invalid_reason": None,
                    "replaces_email_id": None,
                    "created_at": self.moment,
                }
                for e in new_emails
            ]
            for email, new_id in zip(new_emails, self._insert_returning(_EMAIL, rows), strict=True):
                email.id = new_id
        for contact in contacts:
            self.state.contacts[contact.id] = contact
        self.touched_contacts.update(email.contact.id for email in new_emails)

    def _insert_returning(self, table: Any, rows: list[dict[str, Any]]) -> list[int]:
        """INSERT these rows; their ids, in the rows' order."""
        if not rows:
            return []
        statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(self.session.scalars(statement, rows))

    def _link(self, account: _Account, contact: _Contact) -> None:
        """R1: the row's contact is linked to the row's account."""
        if contact.id in account.linked:
            return
        account.linked.add(contact.id)
        self._changed(account)
        self.touched_contacts.add(contact.id)
        self.changed_accounts.setdefault(account.id, 0)
        if self.write is not None:
            self.session.add(AccountContact(account_id=account.id, contact_id=contact.id))

    def _contact_details(self, row: ImportRow, contact: _Contact) -> None:
        """A row updates the contact's name, language and phones it gives (R32)."""
        values: dict[str, Any] = {}
        if row.contact_name and contact.name != row.contact_name and not contact.new:
            values["name"] = contact.name = row.contact_name
        if row.language and contact.language != row.language and not contact.new:
            values["language"] = contact.language = row.language
        if values:
            self.contacts_updated.add(contact)
            if self.write is not None:
                statement = update(_CONTACT).where(_CONTACT.c.id == contact.id).values(values)
                self.session.execute(statement)
        phones = contact.phones if contact.phones is not None else set()
        if row.phone and row.phone not in phones:
            phones.add(row.phone)
            contact.phones = phones
            if not contact.new:
                self.contacts_updated.add(contact)
            if self.write is not None:
                self.session.add(ContactPhone(contact_id=contact.id, number=row.phone))

    # -- access rows (R2, R3, R6-R11)

    def _access_row(self, row: ImportRow, account: _Account, email: _Email) -> None:
        """The row's switches on its access row; an empty cell leaves a switch as it is."""
        key = (account.id, email.id)
        pair = self.state.pairs.get(key)
        if pair is None:
            pair = self.state.pairs[key] = _Pair(None, [False] * len(SWITCHES), True, new=True)
        before = list(pair.switches)
        for index, wanted in enumerate(row.switches):
            if wanted is not None:
                pair.switches[index] = wanted
        login, notify = pair.switches[0], pair.switches[1]
        if login:
            self.logins_on.setdefault(email.id, row.line)
        if not pair.new and pair.switches == before:
            return
        self.counts.rows_changed += 1
        self.changed_accounts[account.id] = self.changed_accounts.get(account.id, 0) + 1
        self._changed(account)
        if not email.new:
            self.addresses_updated.add(email)
        if before[0] and not login:
            self.logins_off.add(account.id)
        # R3: the nine categories all on when Notify is first turned on.
        categories_on = notify and not before[1] and pair.categories_off
        if categories_on:
            pair.categories_off = False
        self.row_writes.append((account.id, email.id, pair, categories_on))
        pair.new = False

    def _write_rows(self) -> None:
        if self.write is None:
            return
        session, moment = self.session, self.moment
        inserted: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        for account_id, email_id, pair, categories_on in self.row_writes:
            values = dict(zip(SWITCHES, pair.switches, strict=True))
            if pair.id is None:
                every = dict.fromkeys(NOTIFICATION_CATEGORIES, categories_on)
                inserted.append(
                    {
                        "account_id": account_id,
                        "email_id": email_id,
                        **every,
                        **values,
                        "updated_at": moment,
                    }
                )
                continue
            if categories_on:
                values.update(dict.fromkeys(NOTIFICATION_CATEGORIES, True))
            changed.append({"row_id": pair.id, "updated_at": moment, **values})
        session.flush()  # the links and phones added to the session
        insert_rows(session, _ACCESS_ROW, inserted)
        for group in _same_keys(changed):
            names = [name for name in group[0] if name != "row_id"]
            statement = (
                update(_ACCESS_ROW)
                .where(_ACCESS_ROW.c.id == bindparam("v_row_id"))
                .values({name: bindparam(f"v_{name}") for name in names})
            )
            params = [{f"v_{name}": value for name, value in item.items()} for item in group]
            session.connection().execute(statement, params)
        self._fill_rows()
        if self.logins_off:
            actor = self.write.actor
            bulk.cancel_orphan_invitations(session, sorted(self.logins_off), actor, moment)

    def _fill_rows(self) -> None:
        """R1: each address of a contact has an access row (all off) on each account the
        contact is linked to: the other addresses of a contact newly linked, and the other
        accounts of a new address."""
        contact_ids = sorted(self.touched_contacts)
        if not contact_ids:
            return
        session = self.session
        flags = (*SWITCHES, *NOTIFICATION_CATEGORIES)
        exists_already = (
            select(AccessRow.id)
            .where(
                AccessRow.account_id == AccountContact.account_id,
                AccessRow.email_id == ContactEmail.id,
            )
            .exists()
        )
        for part in _parts(contact_ids):
            missing = (
                select(
                    AccountContact.account_id,
                    ContactEmail.id,
                    *(literal(False).label(name) for name in flags),
                    literal(self.moment, _ACCESS_ROW.c.updated_at.type).label("updated_at"),
                )
                .join(ContactEmail, ContactEmail.contact_id == AccountContact.contact_id)
                .where(in_ids(session, AccountContact.contact_id, part), ~exists_already)
            )
            names = ["account_id", "email_id", *flags, "updated_at"]
            session.execute(insert(_ACCESS_ROW).from_select(names, missing))

    # -- invitations (R10, R12-R14, R22), roll-ups and the activity feed (R7, R30)

    def _invitations(self) -> set[int]:
        """The addresses the rows leave with Login on, as Send invitations decides (bulk.py's
        rule: none to an address already active, R10, nor to one invited in the last 24 hours,
        R13; an invalid one is reported, R22): counted by the preview, sent by the job."""
        write, moment, sending = self.write, self.moment, self.options.send_invitations
        if write is not None and not sending:
            return set()
        handled = write.handled if write is not None else self.state.counted
        ids = [email_id for email_id in self.logins_on if email_id not in handled]
        handled.update(ids)
        facts = bulk.address_candidates(self.session, [i for i in ids if i > 0], moment)
        to_send: list[int] = []
        for email_id in ids:
            candidate = facts.get(email_id)
            decision = decide_invitation(candidate) if candidate else InvitationDecision.INVITE
            if decision == InvitationDecision.ACTIVE:
                self.counts.already_active += 1
            elif decision == InvitationDecision.RECENT:
                self.counts.recently_invited += 1
            elif decision == InvitationDecision.INVITE:
                to_send.append(email_id)
            elif candidate is not None and sending:
                failure = bulk.invalid_address_error(candidate.address, candidate.invalid_reason)
                self.counts.fail([{"line": self.logins_on[email_id], **failure}])
        if write is None:
            self.counts.invitations = len(to_send)
            return set()
        batch = invitations.send_invitations(
            self.session, write.settings, to_send, write.actor, message=write.message, now=moment
        )
        for email_id, problem in batch.refused.items():
            reason = row_failure(self.logins_on[email_id], problem.message, **problem.params)
            self.counts.fail([reason])
        self.counts.invitations = len(batch.sent)
        return set(batch.sent)

    def _refresh_and_record(self, invited: set[int]) -> None:
        """The roll-ups of every account whose rows, contacts or invitations changed (R7,
        R23), and the import's entry in each one's activity feed (R30)."""
        session = self.session
        touched = set(self.changed_accounts)
        contacts = sorted(self.touched_contacts | {c.id for c in self.contacts_updated})
        for part in _parts(contacts):
            query = select(AccountContact.account_id).where(
                in_ids(session, AccountContact.contact_id, part)
            )
            touched.update(session.scalars(query))
        touched |= access.accounts_of_emails(session, invited)
        access.refresh_accounts(session, touched)
        if invited:
            events.record(session, "invitation", account_ids=touched)
        sent: dict[int, int] = {}
        for account_id, email_id in self.state.pairs:
            if email_id in invited and account_id in self.changed_accounts:
                sent[account_id] = sent.get(account_id, 0) + 1
        actor = self.write.actor  # type: ignore[union-attr]
        history = [
            {
                "at": self.moment,
                "kind": activity.IMPORT,
                "actor_member_id": actor.member_id,
                "actor_portal_user_id": actor.portal_user_id,
                "actor_name": actor.name,
                "account_id": account_id,
                "email_id": None,
                "address": "",
                "detail": {"rows_changed": changed, "invitations_sent": sent.get(account_id, 0)},
            }
            for account_id, changed in sorted(self.changed_accounts.items())
        ]
        if history:
            insert_rows(session, _ACTIVITY_EVENT, history)
            events.record(session, "activity", account_ids=[r["account_id"] for r in history])


def _parts(values: list[Any], size: int = 500) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _same_keys(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    yield from groups.values()
