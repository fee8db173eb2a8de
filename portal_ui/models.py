"""The tables of SPEC.md's data model (R1-R5, R14-R15, R22a, R27a-R30)."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from portal_ui.clock import utcnow

# R3: the nine notification categories of an access row, in the order the product shows them.
NOTIFICATION_CATEGORIES: tuple[str, ...] = (
    "documents_file_upload",
    "documents_signature_requests",
    "documents_approvals",
    "messages_client_tasks",
    "proposals",
    "organizers",
    "invoices_payments",
    "client_requests",
    "transactions",
)

# The four switches of an access row (R2, R12, R25).
SWITCHES: tuple[str, ...] = ("login", "notify", "email_sync", "signatory")


class AccountStatus(IntEnum):
    """R7. Stored as a small integer so the list sorts Activated, Pending, Not activated."""

    ACTIVATED = 0
    PENDING = 1
    NOT_ACTIVATED = 2

    @property
    def slug(self) -> str:
        return ("activated", "pending", "not-activated")[self.value]


class AccessState(StrEnum):
    """R6, with the slugs CONTRACT.md gives `data-state`."""

    NO_ACCESS = "no-access"
    PENDING = "pending"
    ACTIVE = "active"


class InvitationState(StrEnum):
    OUTSTANDING = "outstanding"
    ACCEPTED = "accepted"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"


class DeliveryState(StrEnum):
    """R22a. QUEUED covers 'waiting for a retry' too; last_error then says why."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class TeamMember(SQLModel, table=True):
    __tablename__ = "team_member"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True)
    name: str
    password_hash: str
    language: str = "en"
    # Accounts-list columns this member has hidden (R23).
    hidden_columns: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    # A deactivated member cannot sign in and has no session (R34); None while active.
    deactivated_at: datetime | None = None


class Account(SQLModel, table=True):
    """A client account (R1, R4, R5). The roll-up columns are a cache of access.py's SQL rules,
    refreshed in the same transaction as every change, so the list can sort and filter by index."""

    __tablename__ = "account"
    __table_args__ = (
        Index("ix_account_name_id", "name", "id"),
        Index("ix_account_status_name", "status", "name", "id"),
        Index("ix_account_last_login", "last_login_at", "id"),
        Index("ix_account_login_name", "has_login", "name", "id"),
        Index("ix_account_test_name", "is_test_client", "name", "id"),
        Index("ix_account_contacts", "contact_count", "id"),
        # Sorting the list by Notify or Email sync (R24) on 100,000 accounts without a scan.
        Index("ix_account_notify_name", "has_notify", "name", "id"),
        Index("ix_account_email_sync_name", "has_email_sync", "name", "id"),
        # Sorting by Last login, never-logged-in last both ways (accounts.list_accounts).
        Index("ix_account_last_login_asc", text("(last_login_at IS NULL)"), "last_login_at", "id"),
        Index(
            "ix_account_last_login_desc", text("(last_login_at IS NOT NULL)"), "last_login_at", "id"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str
    # The account's identifier in the firm's other system, from an import's Account ID (R32).
    external_id: str | None = Field(default=None, unique=True, index=True)
    is_test_client: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    # Roll-ups (see access.refresh_accounts).
    status: int = AccountStatus.NOT_ACTIVATED.value
    has_login: bool = False
    has_notify: bool = False
    has_email_sync: bool = False
    contact_count: int = 0
    last_login_at: datetime | None = None
    # Lower-cased account name, contact names and addresses, for the search box (R24).
    search_text: str = ""


class AccountAssignment(SQLModel, table=True):
    """R5: a team member assigned to an account."""

    __tablename__ = "account_assignment"

    account_id: int = Field(foreign_key="account.id", primary_key=True, ondelete="CASCADE")
    team_member_id: int = Field(
        foreign_key="team_member.id", primary_key=True, index=True, ondelete="CASCADE"
    )


class Contact(SQLModel, table=True):
    """A person (R1); `language` is the language of its emails and pages (R31a), None = firm's."""

    __tablename__ = "contact"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    language: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


class ContactPhone(SQLModel, table=True):
    __tablename__ = "contact_phone"

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True, ondelete="CASCADE")
    number: str


class ContactEmail(SQLModel, table=True):
    """One address of a contact (R1), normalised and unique. `invalid_reason` is set when the
    address is invalid (R22): its syntax, its domain, or a permanent SMTP refusal."""

    __tablename__ = "contact_email"

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True, ondelete="CASCADE")
    address: str = Field(unique=True, index=True)
    invalid_reason: str | None = None
    # R27: set on a new address that waits to replace an activated one.
    replaces_email_id: int | None = Field(default=None, foreign_key="contact_email.id")
    created_at: datetime = Field(default_factory=utcnow)


class AccountContact(SQLModel, table=True):
    """The link between an account and a contact (R1)."""

    __tablename__ = "account_contact"

    account_id: int = Field(foreign_key="account.id", primary_key=True, ondelete="CASCADE")
    contact_id: int = Field(
        foreign_key="contact.id", primary_key=True, index=True, ondelete="CASCADE"
    )


class AccessRow(SQLModel, table=True):
    """The settings of one contact email on one account (R2, R3)."""

    __tablename__ = "access_row"
    __table_args__ = (
        UniqueConstraint("account_id", "email_id", name="uq_access_row_account_email"),
        Index("ix_access_row_email_login", "email_id", "login"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    email_id: int = Field(foreign_key="contact_email.id", ondelete="CASCADE")
    login: bool = False
    notify: bool = False
    email_sync: bool = False
    signatory: bool = False
    documents_file_upload: bool = False
    documents_signature_requests: bool = False
    documents_approvals: bool = False
    messages_client_tasks: bool = False
    proposals: bool = False
    organizers: bool = False
    invoices_payments: bool = False
    client_requests: bool = False
    transactions: bool = False
    updated_at: datetime = Field(default_factory=utcnow)

    def preferences(self) -> dict[str, bool]:
        return {name: getattr(self, name) for name in NOTIFICATION_CATEGORIES}


class PortalUser(SQLModel, table=True):
    """The client-side identity of one address, created when its holder activates (R8, R17)."""

    __tablename__ = "portal_user"

    id: int | None = Field(default=None, primary_key=True)
    email_id: int = Field(foreign_key="contact_email.id", unique=True, ondelete="CASCADE")
    password_hash: str
    activated_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None


class Invitation(SQLModel, table=True):
    """An invitation for one address (R14-R16, R20). Only the token's hash is stored."""

    __tablename__ = "invitation"
    __table_args__ = (Index("ix_invitation_email_state", "email_id", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    email_id: int = Field(foreign_key="contact_email.id", ondelete="CASCADE")
    address: str
    token_hash: str = Field(unique=True, index=True)
    message: str = ""
    state: str = InvitationState.OUTSTANDING.value
    invited_by_member_id: int | None = Field(default=None, foreign_key="team_member.id")
    invited_by_portal_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    # True for a "Send me a new link" request from the activation page (R16 throttle).
    requested_by_client: bool = False
    outbox_id: int | None = Field(default=None, foreign_key="outbox_message.id")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    accepted_at: datetime | None = None
    cancelled_at: datetime | None = None
    superseded_at: datetime | None = None


class PasswordReset(SQLModel, table=True):
    """A single-use, expiring "Forgot password" link; hashed like invitations."""

    __tablename__ = "password_reset"

    id: int | None = Field(default=None, primary_key=True)
    portal_user_id: int = Field(foreign_key="portal_user.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class OutboxMessage(SQLModel, table=True):
    """R22a: an email, committed with the change that caused it and delivered by the sender.
    The sender builds the message from these columns (outbox.build_message), the same bytes
    and Message-ID on every attempt."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str
    to_address: str
    email_id: int | None = Field(default=None, foreign_key="contact_email.id", index=True)
    subject: str
    message_id: str
    # The rendered parts (R19) and their language. They carry the activation link: cleared
    # (set to "") once the message is sent or failed for good, so no token stays at rest.
    language: str = ""
    text_body: str = Field(default="", sa_column=Column(Text, nullable=False))
    html_body: str = Field(default="", sa_column=Column(Text, nullable=False))
    state: str = DeliveryState.QUEUED.value
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    last_error: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class ActivityEvent(SQLModel, table=True):
    """R30 activity feed and R27a invitation history: one row per change of access."""

    __tablename__ = "activity_event"
    __table_args__ = (
        Index("ix_activity_account_at", "account_id", "at"),
        Index("ix_activity_member_at", "actor_member_id", "at"),
        Index("ix_activity_portal_user_at", "actor_portal_user_id", "at"),
        Index("ix_activity_email_at", "email_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    kind: str
    actor_member_id: int | None = Field(default=None, foreign_key="team_member.id")
    actor_portal_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    # The actor's name when it happened; "System" for the mail sender.
    actor_name: str = ""
    account_id: int | None = Field(default=None, foreign_key="account.id", ondelete="SET NULL")
    email_id: int | None = Field(default=None, foreign_key="contact_email.id", ondelete="SET NULL")
    address: str = ""
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class InboxNotification(SQLModel, table=True):
    """R29: one Inbox+ item for one team member; rendered in the reader's language."""

    __tablename__ = "inbox_notification"
    __table_args__ = (Index("ix_inbox_member_read", "member_id", "read_at"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="team_member.id", ondelete="CASCADE")
    at: datetime = Field(default_factory=utcnow)
    kind: str
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    link: str = ""
    read_at: datetime | None = None


class BulkJob(SQLModel, table=True):
    """R12-R13, R32: one bulk update or import (`kind`), its parameters, progress and report;
    run by portal_ui.jobs."""

    __tablename__ = "bulk_job"

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="team_member.id", index=True)
    kind: str = "edit_access"
    state: str = JobState.QUEUED.value
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    total: int = 0
    done: int = 0
    report: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    # Until when the process running it holds it (R40): renewed as it advances; once past, a
    # job still running was left by a stopped process and another may resume it.
    lease_until: datetime | None = None


class UserSession(SQLModel, table=True):
    """A signed-in browser, staff or client (R34). The browser's cookie holds a random token;
    only its hash is stored. A session is made at sign-in with a single-use grant, which the
    browser exchanges for the cookie (so an identifier seen before sign-in never signs in)."""

    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    # None until the browser takes the session with its grant.
    token_hash: str | None = Field(default=None, unique=True)
    grant_hash: str | None = Field(default=None, unique=True)
    grant_expires_at: datetime | None = None
    # Exactly one of the two: whose session this is.
    member_id: int | None = Field(
        default=None, foreign_key="team_member.id", index=True, ondelete="CASCADE"
    )
    portal_user_id: int | None = Field(
        default=None, foreign_key="portal_user.id", index=True, ondelete="CASCADE"
    )
    # A digest of the person's address and password hash at sign-in: a session ends when
    # either changes, however it was changed (sessions.credential).
    credential: str
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None


class LimitCounter(SQLModel, table=True):
    """How many times one subject used one limit in its current window (R33, R37), counted by
    one atomic upsert, so every process and restart sees the same counts. The window ends at
    `expires_at`, in whole seconds since the epoch."""

    __tablename__ = "limit_counter"

    key: str = Field(primary_key=True)
    count: int = 0
    expires_at: int = Field(index=True)
