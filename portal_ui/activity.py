"""The activity feed (R30), invitation history (R27a) and Inbox+ (R29), each written in the
same transaction as the change it records."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from portal_ui import events
from portal_ui.clock import utcnow
from portal_ui.i18n import N_, Translate
from portal_ui.models import ActivityEvent, InboxNotification


@dataclass(frozen=True)
class Actor:
    """Who did something: a team member, a client (portal user), or the system."""

    name: str
    member_id: int | None = None
    portal_user_id: int | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls(name="System")


# Kinds of activity events. The invitation history of an address (R27a) is the subset below.
LOGIN_ON = "login_on"
LOGIN_OFF = "login_off"
SWITCH_CHANGED = "switch_changed"
PREFERENCES_CHANGED = "preferences_changed"
INVITATION_CREATED = "invitation_created"
INVITATION_SENT = "invitation_sent"
INVITATION_RESENT = "invitation_resent"
INVITATION_DELIVERED = "invitation_delivered"
INVITATION_FAILED = "invitation_failed"
INVITATION_SUPERSEDED = "invitation_superseded"
INVITATION_CANCELLED = "invitation_cancelled"
INVITATION_ACCEPTED = "invitation_accepted"
ADDRESS_CHANGED = "address_changed"
BULK_UPDATE = "bulk_update"
IMPORT = "import"  # a CSV import (R32): one per account it changed, one for the whole file

INVITATION_HISTORY_KINDS = (
    INVITATION_CREATED,
    INVITATION_SENT,
    INVITATION_RESENT,
    INVITATION_DELIVERED,
    INVITATION_FAILED,
    INVITATION_SUPERSEDED,
    INVITATION_CANCELLED,
    INVITATION_ACCEPTED,
    ADDRESS_CHANGED,
)


def record(
    session: Session,
    kind: str,
    actor: Actor,
    *,
    account_id: int | None = None,
    email_id: int | None = None,
    address: str = "",
    now: datetime | None = None,
    **detail: Any,
) -> ActivityEvent:
    """Add one activity event to the session (committed with the change it records)."""
    event = ActivityEvent(
        at=now or utcnow(),
        kind=kind,
        actor_member_id=actor.member_id,
        actor_portal_user_id=actor.portal_user_id,
        actor_name=actor.name,
        account_id=account_id,
        email_id=email_id,
        address=address,
        detail=detail,
    )
    session.add(event)
    events.record(session, "activity", account_ids=[account_id] if account_id else ())
    return event


def notify_member(
    session: Session,
    member_id: int,
    kind: str,
    link: str = "",
    now: datetime | None = None,
    **params: Any,
) -> InboxNotification:
    """Add one Inbox+ notification for a team member (R29)."""
    item = InboxNotification(
        member_id=member_id, at=now or utcnow(), kind=kind, params=params, link=link
    )
    session.add(item)
    events.record(session, "inbox", member_ids=[member_id])
    return item


def feed(
    session: Session,
    *,
    account_id: int | None = None,
    member_id: int | None = None,
    portal_user_id: int | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[ActivityEvent], int]:
    """One page of the activity feed, newest first, and the number of matching events (R30)."""
    query = select(ActivityEvent)
    if account_id is not None:
        query = query.where(ActivityEvent.account_id == account_id)
    if member_id is not None:
        query = query.where(ActivityEvent.actor_member_id == member_id)
    if portal_user_id is not None:
        query = query.where(ActivityEvent.actor_portal_user_id == portal_user_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = query.order_by(col(ActivityEvent.at).desc(), col(ActivityEvent.id).desc())
    rows = list(session.scalars(page.offset(offset).limit(limit)))
    return rows, total


def invitation_history(session: Session, email_id: int) -> list[ActivityEvent]:
    """R27a: what happened to this address's invitations, oldest first."""
    query = (
        select(ActivityEvent)
        .where(
            ActivityEvent.email_id == email_id,
            col(ActivityEvent.kind).in_(INVITATION_HISTORY_KINDS),
        )
        .order_by(col(ActivityEvent.at), col(ActivityEvent.id))
    )
    return list(session.scalars(query))


def inbox(
    session: Session, member_id: int, offset: int = 0, limit: int = 50
) -> list[InboxNotification]:
    query = (
        select(InboxNotification)
        .where(InboxNotification.member_id == member_id)
        .order_by(col(InboxNotification.at).desc(), col(InboxNotification.id).desc())
    )
    return list(session.scalars(query.offset(offset).limit(limit)))


def unread_count(session: Session, member_id: int) -> int:
    query = select(func.count()).where(
        InboxNotification.member_id == member_id, col(InboxNotification.read_at).is_(None)
    )
    return session.scalar(query) or 0


def mark_read(
    session: Session, member_id: int, ids: list[int] | None = None, now: datetime | None = None
) -> None:
    """Mark these notifications (None: all) of this member as read."""
    statement = update(InboxNotification).where(
        InboxNotification.member_id == member_id, col(InboxNotification.read_at).is_(None)
    )
    if ids is not None:
        statement = statement.where(col(InboxNotification.id).in_(ids))
    session.execute(statement.values(read_at=now or utcnow()))
    events.record(session, "inbox", member_ids=[member_id])


# What the Inbox+ and the activity feed say, in the reader's language (R27a, R29, R30).
_EVENT_TEXTS: dict[str, str] = {
    LOGIN_ON: N_("Login turned on"),
    LOGIN_OFF: N_("Login turned off"),
    PREFERENCES_CHANGED: N_("Notification preferences changed"),
    INVITATION_CREATED: N_("Invitation created"),
    INVITATION_SENT: N_("Invitation sent"),
    INVITATION_RESENT: N_("Invitation resent"),
    INVITATION_DELIVERED: N_("Invitation email delivered"),
    INVITATION_SUPERSEDED: N_("Invitation superseded by a newer one"),
    INVITATION_CANCELLED: N_("Invitation cancelled"),
    INVITATION_ACCEPTED: N_("Invitation accepted: portal access activated"),
}
_SWITCH_TEXTS: dict[tuple[str, bool], str] = {
    ("login", True): N_("Login turned on"),
    ("login", False): N_("Login turned off"),
    ("notify", True): N_("Notify turned on"),
    ("notify", False): N_("Notify turned off"),
    ("email_sync", True): N_("Email sync turned on"),
    ("email_sync", False): N_("Email sync turned off"),
    ("signatory", True): N_("Signatory turned on"),
    ("signatory", False): N_("Signatory turned off"),
}


def describe_event(event: ActivityEvent, _: Translate) -> str:
    """One readable sentence for an activity event (R27a, R30)."""
    detail = event.detail or {}
    if event.kind == SWITCH_CHANGED:
        key = (str(detail.get("switch", "")), bool(detail.get("on")))
        return _(_SWITCH_TEXTS[key]) if key in _SWITCH_TEXTS else _("Setting changed")
    if event.kind == INVITATION_FAILED:
        reason = detail.get("error") or detail.get("reason") or ""
        if reason:
            return _("Invitation email failed: {reason}").format(reason=reason)
        return _("Invitation email failed")
    if event.kind == ADDRESS_CHANGED:
        new = str(detail.get("new_address", ""))
        if detail.get("completed"):
            return _("Replaced by {address}, now activated: Login turned off").format(address=new)
        return _("Address changed to {address}").format(address=new)
    if event.kind == BULK_UPDATE:
        return _("Bulk update") + ": " + _bulk_counts(detail, _)
    if event.kind == IMPORT:
        return _import_summary(detail, _)
    if event.kind in _EVENT_TEXTS:
        return _(_EVENT_TEXTS[event.kind])
    return event.kind.replace("_", " ").capitalize()


def describe_notification(item: InboxNotification, _: Translate) -> tuple[str, str]:
    """The title and body of an Inbox+ item (R13, R18, R29); errors one per line."""
    params = item.params or {}
    if item.kind == "client_signup":
        title = _("{address} activated their portal access").format(
            address=params.get("address", "")
        )
        return title, _("Account: {name}").format(name=params.get("account_name", ""))
    if item.kind == "import_report":
        return _import_report(params, _)
    if item.kind == "bulk_report":
        errors = [_describe_error(error) for error in params.get("errors") or []]
        body = _bulk_counts(params, _)
        if errors:
            lines = "\n".join(f"• {error}" for error in errors)
            body += "\n" + _("Errors ({count}):").format(count=len(errors)) + "\n" + lines
        return _("Bulk update finished"), body
    return item.kind.replace("_", " ").capitalize(), ""


def _bulk_counts(values: dict[str, Any], _: Translate) -> str:
    parts = [
        _("Accounts: {count}").format(count=values.get("accounts", 0)),
        _("Access rows changed: {count}").format(count=values.get("rows_changed", 0)),
        _("Invitations sent: {count}").format(count=values.get("invitations_sent", 0)),
    ]
    return " · ".join(parts)


def _describe_error(error: object) -> str:
    """An error of a bulk report: a sentence, or a mapping naming the row and the reason."""
    if not isinstance(error, dict):
        return str(error)
    where = " / ".join(
        str(error[key]) for key in ("account", "account_name", "address") if error.get(key)
    )
    reason = str(error.get("reason") or error.get("message") or error.get("error") or "")
    return f"{where}: {reason}" if where and reason else where or reason


def inbox_page(session: Session, member_id: int, limit: int) -> tuple[list[InboxNotification], int]:
    """Inbox+ as its page shows it (R29): the newest `limit` notifications and the unread
    count."""
    return inbox(session, member_id, limit=limit), unread_count(session, member_id)


def _import_summary(detail: dict[str, Any], _: Translate) -> str:
    """An import's activity entry (R30): the file's, or one account's part of it."""
    if "file" not in detail:
        return (
            _("Imported from a file")
            + ": "
            + _("Access rows changed: {count}").format(count=detail.get("rows_changed", 0))
            + " · "
            + _("Invitations sent: {count}").format(count=detail.get("invitations_sent", 0))
        )
    return (
        _("Import of {file}").format(file=detail.get("file") or "CSV")
        + ": "
        + _import_counts(detail, _)
    )


def _import_counts(values: Mapping[str, Any], _: Translate) -> str:
    parts = [
        _("Rows: {count}").format(count=values.get("rows", 0)),
        _("Accounts created: {count}").format(count=values.get("accounts_created", 0)),
        _("Accounts updated: {count}").format(count=values.get("accounts_updated", 0)),
        _("Contacts created: {count}").format(count=values.get("contacts_created", 0)),
        _("Addresses created: {count}").format(count=values.get("addresses_created", 0)),
        _("Access rows changed: {count}").format(count=values.get("rows_changed", 0)),
        _("Invitations sent: {count}").format(count=values.get("invitations_sent", 0)),
        _("Failing rows: {count}").format(count=values.get("failures_total", 0)),
    ]
    return " · ".join(parts)


def _import_report(params: Mapping[str, Any], _: Translate) -> tuple[str, str]:
    """The Inbox+ report of an import (R13, R32): its counts and its failing rows."""
    failed = bool(params.get("failed"))
    title = _("Import stopped") if failed else _("Import finished")
    if params.get("file"):
        title = f"{title}: {params['file']}"
    body = _import_counts(params, _)
    failures = [row_failure_text(failure, _) for failure in params.get("failures") or []]
    if failures:
        lines = "\n".join(f"• {failure}" for failure in failures)
        body += "\n" + _("Failing rows ({count}):").format(count=len(failures)) + "\n" + lines
    return title, body


def row_failure_reason(failure: Mapping[str, Any], _: Translate) -> str:
    """Why one row of an import fails, in the reader's language (R32)."""
    params = failure.get("params") or {}
    reason = _(str(failure.get("reason") or ""))
    if params:
        reason = reason.format(**params)
    if failure.get("detail"):
        reason = f"{reason} ({_(str(failure['detail']))})"
    if failure.get("address"):
        reason = f"{failure['address']}: {reason}"
    return reason


def row_failure_text(failure: Mapping[str, Any], _: Translate) -> str:
    """A failing row as the report and the preview show it: "Line 12: why"."""
    reason = row_failure_reason(failure, _)
    if not failure.get("line"):
        return reason
    return _("Line {line}: {reason}").format(line=failure["line"], reason=reason)
