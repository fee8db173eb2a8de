"""Server-side sessions of team members and clients (R34): start with a new identifier, check
and touch on every action, end one person's sessions at once.

Signing in makes a session that no browser holds yet and returns a single-use grant; the
browser exchanges the grant for the session's cookie token (`begin`), which exists nowhere
before that moment, so no identifier seen before sign-in ever becomes a signed-in one. Only
hashes of the grant and the token are stored. A session is alive while it has not ended, has
been used within the idle period, and its person may still use the product: a team member not
deactivated, a client with at least one Active access row (R8), each with the address and
password hash it signed in with.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlmodel import Session, col

from portal_ui import access
from portal_ui.clock import utcnow
from portal_ui.models import (
    AccessRow,
    Contact,
    ContactEmail,
    PortalUser,
    TeamMember,
    UserSession,
)
from portal_ui.security import hash_token, new_token

GRANT_TTL = timedelta(minutes=1)
# last_seen_at is written at most this often: the idle expiry needs no finer clock.
TOUCH_EVERY = timedelta(minutes=1)
# Ended and idle sessions are deleted this long after they stopped counting.
KEEP_ENDED = timedelta(days=7)


@dataclass(frozen=True)
class Principal:
    """Who a live session belongs to: a team member or a portal user."""

    session_id: int
    member_id: int | None = None
    portal_user_id: int | None = None
    # R31a: the language the person's pages speak: a team member's choice, a client's
    # contact's; None for a client whose contact has none (the firm's then).
    language: str | None = None


def credential(address: str, password_hash: str) -> str:
    """A digest of what the person signed in with: if either changes, by any means (a password
    reset, an address change, a row replaced under the same id), the session ends."""
    return hashlib.sha256(f"{address}\0{password_hash}".encode()).hexdigest()


def grant(
    session: Session,
    *,
    member_id: int | None = None,
    portal_user_id: int | None = None,
    now: datetime | None = None,
) -> str:
    """A new session for this team member or portal user, not yet any browser's; returns the
    grant (valid GRANT_TTL, once) that `begin` exchanges for the session's cookie token."""
    if (member_id is None) == (portal_user_id is None):
        raise ValueError("a session belongs to exactly one team member or portal user")
    moment = now or utcnow()
    found = _person(session, member_id, portal_user_id)
    if found is None:
        raise LookupError("no such person")
    value = new_token()
    session.add(
        UserSession(
            grant_hash=hash_token(value),
            grant_expires_at=moment + GRANT_TTL,
            member_id=member_id,
            portal_user_id=portal_user_id,
            credential=found[0],
            created_at=moment,
            last_seen_at=moment,
        )
    )
    session.execute(
        delete(UserSession).where(
            or_(
                col(UserSession.ended_at) < moment - KEEP_ENDED,
                col(UserSession.last_seen_at) < moment - KEEP_ENDED,
            )
        )
    )
    session.flush()
    return value


def begin(session: Session, grant_value: str, now: datetime | None = None) -> str | None:
    """Exchange a grant for the session's cookie token, once; None if the grant is unknown,
    used or expired."""
    moment = now or utcnow()
    token = new_token()
    taken = session.execute(
        update(UserSession)
        .where(
            UserSession.grant_hash == hash_token(grant_value),
            col(UserSession.grant_expires_at) > moment,
            col(UserSession.ended_at).is_(None),
        )
        .values(token_hash=hash_token(token), grant_hash=None, last_seen_at=moment)
    )
    return token if taken.rowcount == 1 else None


def current(
    session: Session, token: str | None, idle: timedelta, now: datetime | None = None
) -> Principal | None:
    """The person whose live session this cookie token is, or None. A session found dead is
    ended for good (a client whose Login comes back later still signs in again)."""
    if not token:
        return None
    moment = now or utcnow()
    record = session.scalars(
        select(UserSession).where(
            UserSession.token_hash == hash_token(token), col(UserSession.ended_at).is_(None)
        )
    ).first()
    if record is None:
        return None
    person = _person(session, record.member_id, record.portal_user_id)
    if person is None or not _alive(session, record, person[0], idle, moment):
        _end(session, UserSession.id == record.id, moment)
        return None
    if record.last_seen_at <= moment - TOUCH_EVERY:
        session.execute(
            update(UserSession).where(UserSession.id == record.id).values(last_seen_at=moment)
        )
    return Principal(record.id or 0, record.member_id, record.portal_user_id, person[1])


def end_person(
    session: Session,
    *,
    member_id: int | None = None,
    portal_user_id: int | None = None,
    now: datetime | None = None,
) -> None:
    """End every session of this team member or portal user (sign-out, password change,
    deactivation)."""
    if member_id is not None:
        _end(session, UserSession.member_id == member_id, now or utcnow())
    if portal_user_id is not None:
        _end(session, UserSession.portal_user_id == portal_user_id, now or utcnow())


def _end(session: Session, which, moment: datetime) -> None:
    session.execute(
        update(UserSession)
        .where(which, col(UserSession.ended_at).is_(None))
        .values(ended_at=moment, grant_hash=None)
    )


def _alive(
    session: Session, record: UserSession, credential_now: str, idle: timedelta, moment: datetime
) -> bool:
    if record.last_seen_at <= moment - idle:
        return False
    if record.credential != credential_now:
        return False
    if record.portal_user_id is not None:
        return _has_active_row(session, record.portal_user_id)
    return True


def _person(
    session: Session, member_id: int | None, portal_user_id: int | None
) -> tuple[str, str | None] | None:
    """The credential digest and language of an active team member or of a portal user; None
    for nobody."""
    if member_id is not None:
        member = session.get(TeamMember, member_id)
        if member is None or member.deactivated_at is not None:
            return None
        return credential(member.email, member.password_hash), member.language
    row = session.execute(
        select(ContactEmail.address, PortalUser.password_hash, Contact.language)
        .join(PortalUser, PortalUser.email_id == ContactEmail.id)
        .outerjoin(Contact, Contact.id == ContactEmail.contact_id)
        .where(PortalUser.id == portal_user_id)
    ).first()
    if row is None:
        return None
    address, password_hash, language = row
    return credential(address, password_hash), language


def _has_active_row(session: Session, portal_user_id: int) -> bool:
    """R8: a client's session holds only while one of its access rows is Active."""
    email_id = select(PortalUser.email_id).where(PortalUser.id == portal_user_id)
    query = (
        select(AccessRow.id)
        .where(AccessRow.email_id == email_id.scalar_subquery(), access.row_is_active())
        .limit(1)
    )
    return session.scalar(query) is not None
