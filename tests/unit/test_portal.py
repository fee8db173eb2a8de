"""The client side: sign-in (R8), the accounts a client sees (R8, R10, R11), password reset,
and a client inviting another person (R31, R20)."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal_ui import access_rows, activity, contacts, invitations, portal, sessions
from portal_ui.clock import utcnow
from portal_ui.errors import (
    InvalidAddress,
    InvalidToken,
    NoPortalAccess,
    NotFound,
    TokenProblem,
    TooManyInvitations,
    TooManyRequests,
)
from portal_ui.models import (
    Account,
    ActivityEvent,
    Contact,
    ContactEmail,
    Invitation,
    OutboxMessage,
    PasswordReset,
)
from portal_ui.security import PasswordRejected
from tests.clients import (
    CLIENT_PASSWORD,
    activated_client,
    messages_to,
    text_of,
    token_in,
    two_clients,
)
from tests.factories import actor_for, emails_of, make_account, make_member

NEW_PASSWORD = "Green-Lantern-Walks-19"
IP = "192.0.2.7"
IDLE = timedelta(hours=12)


def contact_name_of(session, email_id):
    email = session.get(ContactEmail, email_id)
    return session.get(Contact, email.contact_id).name


@pytest.fixture
def member(session):
    return make_member(session)


@pytest.fixture
def client_on_two(session, settings, member):
    """An activated client with Login on two accounts, and a third account it is linked to
    with Login off."""
    alpha = make_account(session, settings, "Alpha Ltd")
    beta = make_account(session, settings, "Beta Ltd")
    gamma = make_account(session, settings, "Gamma Ltd")
    email, user = activated_client(session, settings, member, [alpha, beta])
    contacts.link_contact(session, gamma.id, email.contact_id)
    session.commit()
    return email, user, (alpha, beta, gamma)


def test_an_activated_client_signs_in_and_the_last_login_is_kept(session, client_on_two):  # R8
    email, user, (alpha, _beta, _gamma) = client_on_two
    moment = utcnow() + timedelta(days=1)
    signed_in = portal.authenticate_client(session, email.address.upper(), CLIENT_PASSWORD, moment)
    assert signed_in is not None and signed_in.id == user.id
    session.refresh(alpha)
    assert alpha.last_login_at == moment


def test_a_wrong_password_or_unknown_address_is_refused_alike(session, client_on_two):  # R8
    email, *_ = client_on_two
    assert portal.authenticate_client(session, email.address, "Wrong-Password-123") is None
    assert portal.authenticate_client(session, "nobody@example.com", CLIENT_PASSWORD) is None


def test_a_client_without_an_active_access_row_cannot_sign_in(session, settings, member):  # R8
    alpha = make_account(session, settings, "Alpha Ltd")
    email, _user = activated_client(session, settings, member, [alpha])
    access_rows.set_login(session, settings, alpha.id, email.id, False, actor_for(member))
    with pytest.raises(NoPortalAccess):
        portal.authenticate_client(session, email.address, CLIENT_PASSWORD)


def test_a_pending_address_cannot_sign_in(session, settings, member):  # R6 R8
    alpha = make_account(session, settings, "Alpha Ltd")
    email = emails_of(session, alpha)[0]
    access_rows.set_login(
        session, settings, alpha.id, email.id, True, actor_for(member), send_invitation=True
    )
    assert portal.authenticate_client(session, email.address, CLIENT_PASSWORD) is None


def test_a_client_sees_exactly_the_accounts_whose_rows_are_active(session, client_on_two):  # R8
    _email, user, (alpha, beta, _gamma) = client_on_two
    expected = [(alpha.id, "Alpha Ltd"), (beta.id, "Beta Ltd")]
    assert portal.client_accounts(session, user.id) == expected


def test_login_off_removes_the_account_at_the_next_action(
    session, settings, member, client_on_two
):  # R11
    email, user, (alpha, beta, _gamma) = client_on_two
    before = portal.portal_home(session, settings, user.id, alpha.id)
    assert before.selected == (alpha.id, "Alpha Ltd")
    access_rows.set_login(session, settings, alpha.id, email.id, False, actor_for(member))
    session.commit()
    after = portal.portal_home(session, settings, user.id, alpha.id)
    assert after.accounts == [(beta.id, "Beta Ltd")]
    assert after.selected == (beta.id, "Beta Ltd") and after.asked_for_unavailable
    assert not portal.can_use_account(session, user.id, alpha.id)
    assert session.get(Account, alpha.id) is not None  # the account and its data stay


def test_login_on_for_an_activated_address_grants_the_account_at_once(
    session, settings, member, client_on_two
):  # R10
    email, user, (_alpha, _beta, gamma) = client_on_two
    sent_before = session.scalars(select(OutboxMessage)).all()
    issued = access_rows.set_login(
        session, settings, gamma.id, email.id, True, actor_for(member), send_invitation=True
    )
    assert issued is None
    assert (gamma.id, "Gamma Ltd") in portal.client_accounts(session, user.id)
    assert session.scalars(select(OutboxMessage)).all() == sent_before


def test_a_client_cannot_use_another_clients_account(session, settings, member):  # R8
    (_, first), (_, second) = two_clients(session, settings, member)
    theirs = portal.client_accounts(session, second.id)[0][0]
    assert not portal.can_use_account(session, first.id, theirs)
    home = portal.portal_home(session, settings, first.id, theirs)
    assert home.asked_for_unavailable and home.selected[0] != theirs


def test_the_home_of_a_portal_user_that_is_gone_is_none(session, settings, client_on_two):
    # R8
    _email, user, _accounts = client_on_two
    assert portal.portal_home(session, settings, user.id + 1000) is None


def test_a_reset_link_is_emailed_to_an_activated_client(session, settings, client_on_two):  # R15
    email, *_ = client_on_two
    portal.request_password_reset(session, settings, email.address.title(), IP)
    message = messages_to(session, email.address)[-1]
    assert "/portal/reset/" in text_of(message)
    token = token_in(message)
    assert portal.check_reset_link(session, token) == email.address
    assert portal.check_reset_link(session, token) == email.address  # opening never consumes
    reset = session.scalars(select(PasswordReset)).one()
    assert reset.token_hash != token and reset.used_at is None


def test_a_reset_request_for_an_unknown_address_sends_nothing(
    session, settings, client_on_two
):  # R8
    before = len(session.scalars(select(OutboxMessage)).all())
    portal.request_password_reset(session, settings, "stranger@example.com", IP)
    assert len(session.scalars(select(OutboxMessage)).all()) == before


def test_reset_requests_are_limited_per_hour(session, settings, client_on_two):  # R16
    email, *_ = client_on_two
    before = len(messages_to(session, email.address))
    moment = utcnow()
    for minute in range(5):
        portal.request_password_reset(
            session, settings, email.address, f"10.0.0.{minute}", moment + timedelta(minutes=minute)
        )
    assert len(messages_to(session, email.address)) == before + portal.RESET_LIMIT


def test_a_reset_sets_the_new_password_once_and_ends_other_sessions(
    session, settings, client_on_two
):  # R17
    email, user, _accounts = client_on_two
    elsewhere = sessions.begin(session, sessions.grant(session, portal_user_id=user.id))
    portal.request_password_reset(session, settings, email.address, IP)
    token = token_in(messages_to(session, email.address)[-1])
    portal.reset_password(session, settings, token, NEW_PASSWORD)
    assert portal.authenticate_client(session, email.address, NEW_PASSWORD) is not None
    assert portal.authenticate_client(session, email.address, CLIENT_PASSWORD) is None
    assert sessions.current(session, elsewhere, IDLE) is None  # R34
    with pytest.raises(InvalidToken) as used:
        portal.reset_password(session, settings, token, "Another-Fine-Password-5")
    assert used.value.problem is TokenProblem.USED


def test_a_reset_link_expires_after_an_hour(session, settings, client_on_two):  # R15
    email, *_ = client_on_two
    portal.request_password_reset(session, settings, email.address, IP)
    token = token_in(messages_to(session, email.address)[-1])
    later = utcnow() + portal.RESET_TTL + timedelta(seconds=1)
    with pytest.raises(InvalidToken) as expired:
        portal.reset_password(session, settings, token, NEW_PASSWORD, now=later)
    assert expired.value.problem is TokenProblem.EXPIRED


def test_a_reset_keeps_the_password_policy(session, settings, client_on_two):  # R17
    email, *_ = client_on_two
    portal.request_password_reset(session, settings, email.address, IP)
    token = token_in(messages_to(session, email.address)[-1])
    with pytest.raises(PasswordRejected):
        portal.reset_password(session, settings, token, "password")
    assert portal.check_reset_link(session, token) == email.address


def test_a_client_invites_a_new_person_who_shows_as_invited_by_the_client(
    session, settings, client_on_two
):  # R31 R20
    _email, user, (alpha, *_) = client_on_two
    issued = portal.invite_person(
        session, settings, user.id, alpha.id, "Dana Lee", " Dana.Lee@Example.com "
    )
    invitation = issued.invitation
    assert invitation.address == "dana.lee@example.com"
    assert invitation.invited_by_portal_user_id == user.id
    assert invitation.invited_by_member_id is None
    view = invitations.check_link(session, settings, issued.link.rsplit("/", 1)[1])
    assert view.account_names == ["Alpha Ltd"]
    login_on = session.scalars(
        select(ActivityEvent).where(ActivityEvent.kind == activity.LOGIN_ON)
    ).all()[-1]
    assert (login_on.actor_portal_user_id, login_on.address) == (user.id, invitation.address)
    assert login_on.actor_name == contact_name_of(session, user.email_id)


def test_inviting_someone_already_invited_sends_a_fresh_link(
    session, settings, member, client_on_two
):  # R14 R31
    _email, user, (alpha, *_) = client_on_two
    first = portal.invite_person(session, settings, user.id, alpha.id, "Dana", "dana@example.com")
    second = portal.invite_person(session, settings, user.id, alpha.id, "Dana", "dana@example.com")
    assert first.invitation.state == "superseded"
    assert second.invitation.invited_by_portal_user_id == user.id


def test_inviting_an_activated_person_grants_the_account_at_once(
    session, settings, member, client_on_two
):  # R10 R31
    _email, user, (alpha, *_) = client_on_two
    other_account = make_account(session, settings, "Delta Ltd")
    other_email, other_user = activated_client(session, settings, member, [other_account])
    issued = portal.invite_person(session, settings, user.id, alpha.id, "X", other_email.address)
    assert issued is None
    assert (alpha.id, "Alpha Ltd") in portal.client_accounts(session, other_user.id)


def test_an_activated_person_invited_by_a_client_is_told_by_email(
    session, settings, member, client_on_two
):  # R37: no invitation, but an email all the same, so the inviter learns nothing
    _email, user, (alpha, *_) = client_on_two
    other_email, _other = activated_client(
        session, settings, member, [make_account(session, settings, "Delta Ltd")]
    )
    before = len(messages_to(session, other_email.address))
    portal.invite_person(session, settings, user.id, alpha.id, "X", other_email.address)
    granted = messages_to(session, other_email.address)[before:]
    assert len(granted) == 1
    assert "Alpha Ltd" in text_of(granted[0]) and "/portal/login" in text_of(granted[0])
    assert "/activate/" not in text_of(granted[0])


def test_a_client_invites_at_most_the_daily_number_of_people(
    session, settings, client_on_two
):  # R37
    _email, user, (alpha, *_) = client_on_two
    limited = settings.model_copy(update={"client_invites_per_day": 3})
    moment = utcnow()
    for n in range(3):
        portal.invite_person(
            session, limited, user.id, alpha.id, "P", f"p{n}@example.com", now=moment
        )
    with pytest.raises(TooManyInvitations):
        portal.invite_person(session, limited, user.id, alpha.id, "P", "p9@example.com", now=moment)
    tomorrow = moment + timedelta(days=1, seconds=1)
    assert portal.invite_person(
        session, limited, user.id, alpha.id, "P", "p9@example.com", now=tomorrow
    )


def test_reset_requests_from_one_place_are_limited(session, settings, client_on_two):  # R33
    email, *_ = client_on_two
    for _attempt in range(5):
        portal.request_password_reset(session, settings, "stranger@example.com", IP)
    with pytest.raises(TooManyRequests):
        portal.request_password_reset(session, settings, email.address, IP)


def test_a_client_cannot_invite_to_an_account_it_cannot_use(
    session, settings, client_on_two
):  # R8 R31
    _email, user, (_alpha, _beta, gamma) = client_on_two
    with pytest.raises(NotFound):
        portal.invite_person(session, settings, user.id, gamma.id, "Eve", "eve@example.com")
    assert (
        session.scalars(select(Invitation).where(Invitation.address == "eve@example.com")).all()
        == []
    )


def test_an_invalid_address_is_refused_before_anything_is_written(
    session, settings, client_on_two
):  # R22 R31
    _email, user, (alpha, *_) = client_on_two
    with pytest.raises(InvalidAddress):
        portal.invite_person(session, settings, user.id, alpha.id, "Bad", "not an address")
    found = session.scalars(select(ContactEmail).where(ContactEmail.address == "not an address"))
    assert found.first() is None
