"""Changes to access rows: Login with Send or Later (R9-R11), the other switches and the
notification preferences (R3, R25)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from portal_ui import access, activity, invitations
from portal_ui.activity import Actor
from portal_ui.clock import utcnow
from portal_ui.config import Settings
from portal_ui.errors import NotFound
from portal_ui.invitations import IssuedInvitation
from portal_ui.models import NOTIFICATION_CATEGORIES, SWITCHES, AccessRow, ContactEmail


def get_row(session: Session, account_id: int, email_id: int) -> AccessRow:
    query = select(AccessRow).where(
        AccessRow.account_id == account_id, AccessRow.email_id == email_id
    )
    row = session.scalars(query).first()
    if row is None:
        raise NotFound()
    return row


def set_login(
    session: Session,
    settings: Settings,
    account_id: int,
    email_id: int,
    on: bool,
    actor: Actor,
    *,
    send_invitation: bool = False,
    message: str = "",
    now: datetime | None = None,
) -> IssuedInvitation | None:
    """Turn Login on (R9: Send now or Later; R10: an activated address gets the account at once)
    or off (R11: the account leaves the portal user; the last Login off cancels the invitation)."""
    moment = now or utcnow()
    row = get_row(session, account_id, email_id)
    if row.login == on:
        return None
    row.login = on
    row.updated_at = moment
    session.add(row)
    address = _address(session, email_id)
    kind = activity.LOGIN_ON if on else activity.LOGIN_OFF
    activity.record(
        session,
        kind,
        actor,
        account_id=account_id,
        email_id=email_id,
        address=address,
        now=moment,
    )
    session.flush()
    issued = None
    if on and send_invitation and not access.is_activated(session, email_id):
        issued = invitations.send_invitation(
            session, settings, email_id, actor, message=message, now=moment
        )
    last_login_off = not on and not _has_login_anywhere(session, email_id)
    if last_login_off and invitations.outstanding(session, email_id) is not None:
        invitations.cancel_invitation(session, email_id, actor, now=moment)
    access.refresh_access(session, [account_id], access.SWITCH_ROLLUPS["login"])
    return issued


def set_switch(
    session: Session,
    account_id: int,
    email_id: int,
    switch: str,
    on: bool,
    actor: Actor,
    now: datetime | None = None,
) -> AccessRow:
    """Notify, Email sync or Signatory (Login has its own rules: set_login)."""
    if switch not in SWITCHES or switch == "login":
        raise ValueError(f"unknown switch {switch!r}")
    moment = now or utcnow()
    row = get_row(session, account_id, email_id)
    if getattr(row, switch) == on:
        return row
    setattr(row, switch, on)
    if switch == "notify" and on and not any(row.preferences().values()):
        # R3: when Notify is first turned on, all nine categories are on.
        for category in NOTIFICATION_CATEGORIES:
            setattr(row, category, True)
    row.updated_at = moment
    session.add(row)
    activity.record(
        session,
        activity.SWITCH_CHANGED,
        actor,
        account_id=account_id,
        email_id=email_id,
        address=_address(session, email_id),
        now=moment,
        switch=switch,
        on=on,
    )
    session.flush()
    access.refresh_access(session, [account_id], access.SWITCH_ROLLUPS[switch])
    return row


def set_preferences(
    session: Session,
    account_id: int,
    email_id: int,
    preferences: dict[str, bool],
    actor: Actor,
    now: datetime | None = None,
) -> AccessRow:
    """R3, R25: the nine notification categories of one access row."""
    unknown = set(preferences) - set(NOTIFICATION_CATEGORIES)
    if unknown:
        raise ValueError(f"unknown categories {sorted(unknown)}")
    moment = now or utcnow()
    row = get_row(session, account_id, email_id)
    for category, on in preferences.items():
        setattr(row, category, bool(on))
    row.updated_at = moment
    session.add(row)
    activity.record(
        session,
        activity.PREFERENCES_CHANGED,
        actor,
        account_id=account_id,
        email_id=email_id,
        address=_address(session, email_id),
        now=moment,
        preferences=row.preferences(),
    )
    session.flush()
    return row


def _has_login_anywhere(session: Session, email_id: int) -> bool:
    query = select(AccessRow.id).where(AccessRow.email_id == email_id, col(AccessRow.login))
    return session.scalars(query).first() is not None


def _address(session: Session, email_id: int) -> str:
    email = session.get(ContactEmail, email_id)
    return email.address if email else ""
