"""Team members, the firm's staff users: creation, sign-in, and their saved choices (R23, R31a)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlmodel import Session, col

from portal_ui import activity, inputs, sessions
from portal_ui.activity import Actor
from portal_ui.clock import utcnow
from portal_ui.errors import InvalidAddress, NotFound, StaffExists, UnknownLanguage
from portal_ui.i18n import LANGUAGES, N_
from portal_ui.models import TeamMember
from portal_ui.security import DUMMY_PASSWORD_HASH, check_password, hash_password, verify_password

NO_SUCH_MEMBER = N_("There is no team member with this email address.")
MAX_HIDDEN_COLUMNS = 32


def normalise_staff_email(raw: str) -> str:
    """The stored form of a team member's address: valid syntax, lower-cased (as R1 for
    clients), so sign-in does not depend on how the address is typed."""
    try:
        # test_environment: the reserved .test domain is fine for staff (demo and test firms).
        checked = validate_email(raw.strip(), check_deliverability=False, test_environment=True)
    except EmailNotValidError as error:
        raise InvalidAddress(str(error)) from None
    return checked.normalized.lower()


def create_team_member(
    session: Session,
    email: str,
    name: str,
    password: str,
    language: str = "en",
    *,
    firm_name: str = "",
) -> TeamMember:
    """A new team member with an Argon2id password hash; the name follows R38 (InvalidName),
    the password R17 and R38a, rated knowing the address and `firm_name` (PasswordRejected)."""
    address = normalise_staff_email(email)
    clean_name = inputs.clean_name(name)
    if language not in LANGUAGES:
        raise UnknownLanguage()
    if member_by_email(session, address) is not None:
        raise StaffExists()
    check_password(password, address, firm_name)
    member = TeamMember(
        email=address, name=clean_name, password_hash=hash_password(password), language=language
    )
    session.add(member)
    session.flush()
    return member


def member_by_email(session: Session, email: str) -> TeamMember | None:
    """The team member with this address, however its case is typed (stored lower-cased)."""
    query = select(TeamMember).where(TeamMember.email == email.strip().lower())
    return session.scalars(query).first()


def authenticate(session: Session, email: str, password: str) -> TeamMember | None:
    """The active team member whose address and password these are, or None. An unknown
    address still costs one Argon2id verification, so timing does not reveal who has an
    account; a deactivated member is refused like a wrong password (R34)."""
    try:
        address = normalise_staff_email(email)
    except InvalidAddress:
        address = email.strip().lower()
    member = member_by_email(session, address)
    if member is None:
        verify_password(DUMMY_PASSWORD_HASH, password)
        return None
    if not verify_password(member.password_hash, password):
        return None
    return member if member.deactivated_at is None else None


def deactivate(session: Session, email: str, now: datetime | None = None) -> TeamMember:
    """R34: the member can no longer sign in, and every session of theirs ends at once."""
    member = _existing(session, email)
    if member.deactivated_at is None:
        member.deactivated_at = now or utcnow()
        session.add(member)
    sessions.end_person(session, member_id=member.id, now=now)
    session.flush()
    return member


def reactivate(session: Session, email: str) -> TeamMember:
    """R34: a deactivated member may sign in again (with the password they had)."""
    member = _existing(session, email)
    member.deactivated_at = None
    session.add(member)
    session.flush()
    return member


def _existing(session: Session, email: str) -> TeamMember:
    member = member_by_email(session, normalise_staff_email(email))
    if member is None:
        raise NotFound(NO_SUCH_MEMBER)
    return member


def get_member(session: Session, member_id: int) -> TeamMember:
    member = session.get(TeamMember, member_id)
    if member is None:
        raise NotFound()
    return member


def set_language(session: Session, member_id: int, language: str) -> TeamMember:
    """R31a: the language of this team member's pages and emails."""
    if language not in LANGUAGES:
        raise UnknownLanguage()
    member = get_member(session, member_id)
    member.language = language
    session.add(member)
    session.flush()
    return member


def set_hidden_columns(session: Session, member_id: int, columns: Iterable[str]) -> TeamMember:
    """R23: remember which accounts-list columns this team member has hidden (names as the
    accounts list defines them; duplicates and blanks dropped, order kept)."""
    hidden = list(dict.fromkeys(name.strip() for name in columns if name and name.strip()))
    member = get_member(session, member_id)
    # A new list object: the JSON column does not track changes made in place.
    member.hidden_columns = hidden[:MAX_HIDDEN_COLUMNS]
    session.add(member)
    session.flush()
    return member


def list_members(session: Session) -> list[TeamMember]:
    """Every team member, by name (the Assigned to filter and column, R5, R24)."""
    query = select(TeamMember).order_by(col(TeamMember.name), col(TeamMember.id))
    return list(session.scalars(query))


def member_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(TeamMember)) or 0


def header(session: Session, member_id: int) -> tuple[TeamMember | None, int]:
    """What the staff header shows (R29): the member and their unread Inbox+ count."""
    return session.get(TeamMember, member_id), activity.unread_count(session, member_id)


def actor_of(session: Session, member_id: int) -> Actor:
    """The team member as the actor of what they do (R20, R30)."""
    member = get_member(session, member_id)
    return Actor(name=member.name, member_id=member.id)
