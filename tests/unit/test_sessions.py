"""Server-side sessions (R34): a new identifier at every sign-in, idle expiry, and the end of
every session of a person on sign-out, password change, deactivation and last Login off."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import delete, select
from sqlmodel import Session

from portal_ui import access_rows, sessions, staff
from portal_ui.clock import utcnow
from portal_ui.db import session_scope
from portal_ui.errors import NotFound
from portal_ui.models import TeamMember, UserSession
from portal_ui.security import hash_password, hash_token
from tests.clients import activated_client
from tests.factories import actor_for, make_account, make_member

IDLE = timedelta(hours=12)


def signed_in(session: Session, **person: int) -> str:
    """A browser's cookie token for a new session of this person."""
    token = sessions.begin(session, sessions.grant(session, **person))
    assert token is not None
    return token


def test_a_session_knows_its_team_member(session):  # R34
    member = make_member(session)
    token = signed_in(session, member_id=member.id)
    principal = sessions.current(session, token, IDLE)
    assert (principal.member_id, principal.portal_user_id) == (member.id, None)


def test_only_hashes_of_the_grant_and_the_token_are_stored(session):  # R34
    member = make_member(session)
    grant = sessions.grant(session, member_id=member.id)
    record = session.scalars(select(UserSession)).one()
    assert record.grant_hash == hash_token(grant) and record.token_hash is None
    token = sessions.begin(session, grant)
    session.refresh(record)
    assert record.token_hash == hash_token(token) and record.grant_hash is None


def test_a_grant_gives_a_cookie_once(session):  # R34
    member = make_member(session)
    grant = sessions.grant(session, member_id=member.id)
    assert sessions.begin(session, grant) is not None
    assert sessions.begin(session, grant) is None


def test_a_grant_expires_within_a_minute(session):  # R34
    member = make_member(session)
    grant = sessions.grant(session, member_id=member.id)
    later = utcnow() + sessions.GRANT_TTL + timedelta(seconds=1)
    assert sessions.begin(session, grant, now=later) is None


def test_two_browsers_racing_for_one_grant_get_one_session(engine):  # R34
    with session_scope(engine) as session:
        grant = sessions.grant(session, member_id=make_member(session).id)

    def take(_n: int) -> str | None:
        with session_scope(engine) as session:
            return sessions.begin(session, grant)

    with ThreadPoolExecutor(8) as pool:
        tokens = [token for token in pool.map(take, range(8)) if token]
    assert len(tokens) == 1


def test_every_sign_in_makes_a_new_identifier(session):  # R34
    member = make_member(session)
    first, second = signed_in(session, member_id=member.id), signed_in(session, member_id=member.id)
    assert first != second
    assert (
        sessions.current(session, first, IDLE).session_id
        != sessions.current(session, second, IDLE).session_id
    )


def test_an_unknown_or_missing_token_is_nobody(session):  # R34
    make_member(session)
    assert sessions.current(session, "not-a-token", IDLE) is None
    assert sessions.current(session, None, IDLE) is None


def test_a_session_ends_after_the_idle_period(session):  # R34
    member = make_member(session)
    token = signed_in(session, member_id=member.id)
    assert sessions.current(session, token, IDLE, now=utcnow() + IDLE - timedelta(minutes=5))
    # Used just now: the period starts again from here.
    assert sessions.current(session, token, IDLE, now=utcnow() + IDLE + timedelta(minutes=1))
    assert sessions.current(session, token, IDLE, now=utcnow() + 3 * IDLE) is None
    assert sessions.current(session, token, IDLE) is None  # ended for good


def test_signing_out_ends_every_session_of_that_person_only(session):  # R34
    member, other = make_member(session), make_member(session)
    phone, laptop = signed_in(session, member_id=member.id), signed_in(session, member_id=member.id)
    theirs = signed_in(session, member_id=other.id)
    sessions.end_person(session, member_id=member.id)
    assert sessions.current(session, phone, IDLE) is None
    assert sessions.current(session, laptop, IDLE) is None
    assert sessions.current(session, theirs, IDLE) is not None


def test_a_deactivated_member_has_no_session_and_cannot_sign_in(session):  # R34
    staff.create_team_member(session, "dana@firm.test", "Dana", "Quiet-Harbour-42")
    member = staff.member_by_email(session, "dana@firm.test")
    token = signed_in(session, member_id=member.id)
    staff.deactivate(session, "Dana@Firm.test")
    assert sessions.current(session, token, IDLE) is None
    assert staff.authenticate(session, "dana@firm.test", "Quiet-Harbour-42") is None
    with pytest.raises(LookupError):
        sessions.grant(session, member_id=member.id)
    staff.reactivate(session, "dana@firm.test")
    assert staff.authenticate(session, "dana@firm.test", "Quiet-Harbour-42") is not None
    assert sessions.current(session, token, IDLE) is None  # an ended session stays ended


def test_deactivating_an_unknown_address_says_so(session):  # R34
    with pytest.raises(NotFound):
        staff.deactivate(session, "nobody@firm.test")


def test_a_deleted_member_s_session_ends_even_when_a_new_member_gets_the_id(session):  # R34
    member = make_member(session)
    token = signed_in(session, member_id=member.id)
    member_id = member.id
    session.execute(delete(TeamMember).where(TeamMember.id == member_id))
    session.add(
        TeamMember(
            id=member_id, email="new@firm.test", name="New", password_hash=hash_password("x")
        )
    )
    session.flush()
    assert sessions.current(session, token, IDLE) is None


def test_a_changed_address_or_password_hash_ends_the_session(session):  # R34
    first, second = make_member(session), make_member(session)
    by_address = signed_in(session, member_id=first.id)
    by_password = signed_in(session, member_id=second.id)
    first.email = "moved@firm.test"
    second.password_hash = hash_password("Another-Long-Phrase-8")
    session.add_all([first, second])
    session.flush()
    assert sessions.current(session, by_address, IDLE) is None
    assert sessions.current(session, by_password, IDLE) is None


def test_a_client_s_session_ends_with_its_last_login(session, settings):  # R34 R11
    member = make_member(session)
    alpha, beta = make_account(session, settings), make_account(session, settings)
    email, user = activated_client(session, settings, member, [alpha, beta])
    token = signed_in(session, portal_user_id=user.id)
    access_rows.set_login(session, settings, alpha.id, email.id, False, actor_for(member))
    assert sessions.current(session, token, IDLE) is not None  # one account left
    access_rows.set_login(session, settings, beta.id, email.id, False, actor_for(member))
    assert sessions.current(session, token, IDLE) is None
    access_rows.set_login(session, settings, beta.id, email.id, True, actor_for(member))
    assert sessions.current(session, token, IDLE) is None  # Login back on: sign in again


def test_a_session_is_for_exactly_one_person(session):
    with pytest.raises(ValueError):
        sessions.grant(session)
