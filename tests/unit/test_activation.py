"""Activation links: each way a link can fail, opening never consumes, and "Send me a new link"
(R15, R16, R17, R18)."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal_ui import access_rows, activity, contacts, invitations
from portal_ui.clock import utcnow
from portal_ui.config import load_settings
from portal_ui.errors import InvalidToken, TokenProblem, TooManyRequests
from portal_ui.i18n import translator
from portal_ui.models import (
    ActivityEvent,
    InboxNotification,
    Invitation,
    InvitationState,
    OutboxMessage,
    PortalUser,
)
from portal_ui.security import PasswordRejected
from tests.clients import CLIENT_PASSWORD, invite, messages_to, token_in
from tests.factories import actor_for, emails_of, make_account, make_member


@pytest.fixture
def invited(session, settings):
    """A team member, an account, its address, and the token of the invitation just sent."""
    member = make_member(session)
    account = make_account(session, settings, "Harbour Bakery")
    email = emails_of(session, account)[0]
    token = invite(session, settings, member, account, email)
    session.commit()
    return member, account, email, token


def problem_of(session, token, now=None) -> InvalidToken:
    with pytest.raises(InvalidToken) as raised:
        invitations.check_link(session, load_settings(), token, now=now)
    return raised.value


def test_opening_a_link_never_consumes_it(session, settings, invited):  # R15
    _member, _account, email, token = invited
    for _ in range(3):
        assert invitations.check_link(session, settings, token).address == email.address
    assert invitations.outstanding(session, email.id) is not None
    assert session.scalars(select(PortalUser)).first() is None
    invitations.activate(session, settings, token, CLIENT_PASSWORD)


def test_a_link_shows_the_address_and_the_account_names(session, settings, invited):  # R17
    _member, account, email, token = invited
    view = invitations.check_link(session, settings, token)
    assert (view.address, view.account_names) == (email.address, [account.name])


def test_an_unknown_link_says_it_is_not_valid(session, invited):  # R16
    problem = problem_of(session, "not-a-token-anyone-was-given")
    assert problem.problem is TokenProblem.UNKNOWN
    assert not problem.can_request_new_link


def test_an_expired_link_says_so_and_offers_a_new_link(session, settings, invited):  # R15 R16
    *_, token = invited
    later = utcnow() + timedelta(hours=settings.invite_ttl_hours, seconds=1)
    problem = problem_of(session, token, now=later)
    assert problem.problem is TokenProblem.EXPIRED
    assert problem.can_request_new_link


def test_a_cancelled_link_says_so_and_offers_nothing(session, settings, invited):  # R16 R21
    member, _account, email, token = invited
    invitations.cancel_invitation(session, email.id, actor_for(member))
    problem = problem_of(session, token)
    assert problem.problem is TokenProblem.CANCELLED
    assert not problem.can_request_new_link


def test_a_superseded_link_says_so_and_offers_a_new_link(session, settings, invited):  # R14 R16
    member, _account, email, token = invited
    newer = invitations.send_invitation(session, settings, email.id, actor_for(member))
    problem = problem_of(session, token)
    assert problem.problem is TokenProblem.SUPERSEDED
    assert problem.can_request_new_link
    assert (
        invitations.check_link(session, settings, newer.link.rsplit("/", 1)[1]).address
        == email.address
    )


def test_a_used_link_says_so(session, settings, invited):  # R15 R16
    *_, token = invited
    invitations.activate(session, settings, token, CLIENT_PASSWORD)
    problem = problem_of(session, token)
    assert problem.problem is TokenProblem.USED
    assert not problem.can_request_new_link
    with pytest.raises(InvalidToken):
        invitations.activate(session, settings, token, CLIENT_PASSWORD)


def test_a_rejected_password_changes_nothing(session, settings, invited):  # R16 R17
    _member, _account, email, token = invited
    with pytest.raises(PasswordRejected):
        invitations.activate(session, settings, token, "short")
    with pytest.raises(PasswordRejected):
        invitations.activate(session, settings, token, email.address)
    assert session.scalars(select(PortalUser)).first() is None
    assert invitations.check_link(session, settings, token).address == email.address


def test_a_new_link_goes_to_the_same_address_and_replaces_the_old(session, settings, invited):
    # R16
    _member, _account, email, token = invited
    later = utcnow() + timedelta(hours=settings.invite_ttl_hours, seconds=1)
    issued = invitations.request_new_link(session, settings, token, now=later)
    assert issued.invitation.address == email.address
    newest = messages_to(session, email.address)[-1]
    fresh = token_in(newest)
    assert invitations.check_link(session, settings, fresh, now=later).address == email.address
    assert problem_of(session, token, now=later).problem is TokenProblem.SUPERSEDED


def test_a_new_link_is_sent_at_most_once_an_hour(session, settings, invited):  # R16
    *_, token = invited
    later = utcnow() + timedelta(hours=settings.invite_ttl_hours, seconds=1)
    invitations.request_new_link(session, settings, token, now=later)
    with pytest.raises(TooManyRequests):
        invitations.request_new_link(session, settings, token, now=later + timedelta(minutes=59))
    invitations.request_new_link(session, settings, token, now=later + timedelta(minutes=61))


def test_no_new_link_for_a_cancelled_or_working_link(session, settings, invited):  # R16
    member, _account, email, token = invited
    with pytest.raises(InvalidToken):
        invitations.request_new_link(session, settings, token)  # still works: nothing to renew
    invitations.cancel_invitation(session, email.id, actor_for(member))
    with pytest.raises(InvalidToken):
        invitations.request_new_link(session, settings, token)
    assert len(messages_to(session, email.address)) == 1


def test_no_new_link_once_the_address_is_no_longer_pending(session, settings, invited):  # R16
    member, account, email, token = invited
    newer = invitations.send_invitation(session, settings, email.id, actor_for(member))
    invitations.activate(session, settings, newer.link.rsplit("/", 1)[1], CLIENT_PASSWORD)
    problem = problem_of(session, token)
    assert (problem.problem, problem.can_request_new_link) == (TokenProblem.SUPERSEDED, False)
    with pytest.raises(InvalidToken):
        invitations.request_new_link(session, settings, token)


def test_login_off_everywhere_cancels_the_link(session, settings, invited):  # R11 R16
    member, account, email, token = invited
    access_rows.set_login(session, settings, account.id, email.id, False, actor_for(member))
    assert problem_of(session, token).problem is TokenProblem.CANCELLED


def test_activating_tells_the_assigned_team_members(session, settings, invited):  # R17 R18
    member, account, _email, token = invited
    contacts.assign_members(session, account.id, [member.id])
    invitations.activate(session, settings, token, CLIENT_PASSWORD)
    session.commit()
    invitation = session.scalars(select(Invitation)).one()
    assert invitation.state == InvitationState.ACCEPTED.value
    inbox = session.scalars(select(InboxNotification)).all()
    assert [(n.member_id, n.link) for n in inbox] == [(member.id, f"/clients/{account.id}/info")]
    assert session.scalars(
        select(OutboxMessage).where(OutboxMessage.to_address == member.email)
    ).first()
    kinds = session.scalars(select(ActivityEvent.kind)).all()
    assert activity.INVITATION_ACCEPTED in kinds


def test_each_assigned_member_gets_one_email_and_a_notice_per_account(
    session, settings, invited
):  # R18
    alice, bakery, email, token = invited
    bob = make_member(session, "Bob Staff", language="fr")
    mill = make_account(session, settings, "Harbour Mill")
    contacts.link_contact(session, mill.id, email.contact_id)
    access_rows.set_login(session, settings, mill.id, email.id, True, actor_for(alice))
    contacts.assign_members(session, bakery.id, [alice.id, bob.id])
    contacts.assign_members(session, mill.id, [alice.id])
    session.commit()
    invitations.activate(session, settings, token, CLIENT_PASSWORD)
    session.commit()
    inbox = session.scalars(select(InboxNotification).order_by(InboxNotification.id)).all()
    assert sorted((n.member_id, n.link) for n in inbox) == sorted(
        [
            (alice.id, f"/clients/{bakery.id}/info"),
            (alice.id, f"/clients/{mill.id}/info"),
            (bob.id, f"/clients/{bakery.id}/info"),
        ]
    )
    signups = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "signup")).all()
    assert sorted(m.to_address for m in signups) == sorted([alice.email, bob.email])
    # Each in the member's own language, naming the client (R18, R31a).
    subject = "{address} activated the client portal"
    assert {m.to_address: m.subject for m in signups} == {
        alice.email: translator("en")(subject).format(address=email.address),
        bob.email: translator("fr")(subject).format(address=email.address),
    }
