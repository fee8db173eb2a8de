"""The Pending activation list and its batch actions Resend and Cancel invites."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal_ui import access_rows, contacts, invitations, pending
from portal_ui.activity import Actor
from portal_ui.errors import AlreadyActive, InvalidAddress, InvalidToken, TokenProblem
from portal_ui.i18n import translator
from portal_ui.models import (
    AccessRow,
    DeliveryState,
    Invitation,
    InvitationState,
    OutboxMessage,
)
from tests.factories import actor_for, emails_of, make_account, make_member

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)


@pytest.fixture
def member(session):
    return make_member(session, name="Alice Staff")


def _login(session, settings, account, email, member, send=True, at=None, message=""):
    return access_rows.set_login(
        session, settings, account.id, email.id, True, actor_for(member),
        send_invitation=send, message=message, now=at,
    )  # fmt: skip


def _shared_contact(session, settings, *account_names):
    """One contact with one address, linked to each named account."""
    contact = contacts.create_contact(
        session, settings, "Shared Person", addresses=["shared@example.com"]
    )
    made = []
    for name in account_names:
        account = contacts.create_account(session, name)
        contacts.link_contact(session, account.id, contact.id)
        made.append(account)
    email = emails_of(session, made[0])[0]
    return made, email


def _token(issued) -> str:
    return issued.link.rsplit("/", 1)[1]


def test_one_row_per_pending_address_with_all_its_accounts(session, settings, member):  # R21
    (acme, bolt, cobalt), shared = _shared_contact(session, settings, "Acme", "Bolt", "Cobalt")
    _login(session, settings, bolt, shared, member, send=False)
    _login(session, settings, acme, shared, member)
    off = make_account(session, settings, name="No Login Ltd")
    session.commit()
    page = pending.list_pending(session)
    assert page.total == 1
    (row,) = page.rows
    assert row.address == "shared@example.com"
    assert row.accounts == ["Acme", "Bolt"]  # Login off on Cobalt: not Pending there
    assert off.name not in str(page.rows)


def test_an_activated_address_leaves_the_list(session, settings, member):  # R6 R21
    account = make_account(session, settings, contacts_count=2)
    first, second = emails_of(session, account)
    issued = _login(session, settings, account, first, member)
    _login(session, settings, account, second, member, send=False)
    invitations.activate(session, settings, _token(issued), "correct horse battery staple")
    session.commit()
    assert [row.address for row in pending.list_pending(session).rows] == [second.address]


def test_row_shows_invite_sent_invited_by_and_delivery_state(session, settings, member):
    # R20 R21 R22a
    account = make_account(session, settings, name="Acme", contacts_count=2)
    invited, later = emails_of(session, account)
    _login(session, settings, account, invited, member, at=T0)
    _login(session, settings, account, later, member, send=False)
    session.commit()
    rows = {row.address: row for row in pending.list_pending(session).rows}
    assert rows[invited.address].invite_sent_at == T0
    assert rows[invited.address].invited_by == "Alice Staff"
    assert not rows[invited.address].invited_by_client
    assert rows[invited.address].delivery is DeliveryState.QUEUED
    assert rows[later.address].invite_sent_at is None
    assert rows[later.address].invited_by is None
    assert rows[later.address].delivery is None
    message = session.scalars(select(OutboxMessage)).one()
    message.state = DeliveryState.FAILED.value
    message.last_error = "550 5.1.1 mailbox unavailable"
    session.commit()
    failed = pending.list_pending(session).rows[0]
    assert failed.delivery is DeliveryState.FAILED
    assert failed.delivery_error == "550 5.1.1 mailbox unavailable"


def test_an_invitation_is_expired_from_its_expiry_moment_on(session, settings, member):
    # R16 R21
    account = make_account(session, settings, name="Acme", contacts_count=2)
    invited, never = emails_of(session, account)
    _login(session, settings, account, invited, member, at=T0)
    _login(session, settings, account, never, member, send=False)
    session.commit()
    rows = {row.address: row for row in pending.list_pending(session).rows}
    expires = T0 + timedelta(hours=settings.invite_ttl_hours)
    assert not rows[invited.address].is_expired(expires - timedelta(seconds=1))
    assert rows[invited.address].is_expired(expires)
    assert not rows[never.address].is_expired(expires)


def test_invited_by_a_client_shows_the_clients_address(session, settings, member):  # R20 R31
    account = make_account(session, settings, name="Acme", contacts_count=2)
    client_email, friend = emails_of(session, account)
    issued = _login(session, settings, account, client_email, member)
    user = invitations.activate(session, settings, _token(issued), "correct horse battery staple")
    _login(session, settings, account, friend, member, send=False)
    client = Actor(name=client_email.address, portal_user_id=user.id)
    invitations.send_invitation(session, settings, friend.id, client)
    session.commit()
    (row,) = pending.list_pending(session).rows
    assert row.address == friend.address
    assert row.invited_by == client_email.address
    assert row.invited_by_client


def test_invalid_address_carries_its_explanation(session, settings, member):  # R21 R22
    account = contacts.create_account(session, "Acme")
    contact = contacts.create_contact(session, settings, "Typo", addresses=["typo@@example"])
    contacts.link_contact(session, account.id, contact.id)
    _login(session, settings, account, emails_of(session, account)[0], member, send=False)
    session.commit()
    (row,) = pending.list_pending(session).rows
    assert row.is_invalid and row.invalid_reason


def _three_invited(session, settings, member):
    account = make_account(session, settings, name="Acme", contacts_count=4)
    emails = emails_of(session, account)
    _login(session, settings, account, emails[0], member, at=T0 + timedelta(hours=2))
    _login(session, settings, account, emails[1], member, send=False)
    _login(session, settings, account, emails[2], member, at=T0)
    _login(session, settings, account, emails[3], member, at=T0 + timedelta(hours=1))
    session.commit()
    return account, emails


def test_invite_sent_sorts_both_ways_never_invited_last(session, settings, member):  # R21
    _, emails = _three_invited(session, settings, member)
    newest = [row.address for row in pending.list_pending(session, sort_desc=True).rows]
    oldest = [row.address for row in pending.list_pending(session, sort_desc=False).rows]
    assert newest == [emails[0].address, emails[3].address, emails[2].address, emails[1].address]
    assert oldest == [emails[2].address, emails[3].address, emails[0].address, emails[1].address]


def test_pages_and_total_come_from_the_database(session, settings, member):  # R21
    _three_invited(session, settings, member)
    first = pending.list_pending(session, sort_desc=True, offset=0, limit=3)
    second = pending.list_pending(session, sort_desc=True, offset=3, limit=3)
    assert (first.total, second.total) == (4, 4)
    assert (len(first.rows), len(second.rows)) == (3, 1)
    assert second.rows[0].invite_sent_at is None


def test_search_narrows_by_address_or_contact_name(session, settings, member):  # R21
    account = contacts.create_account(session, "Acme")
    for name, address in (("Zelda Quartermain", "zq@example.com"), ("Bob", "bob@x.example")):
        contact = contacts.create_contact(session, settings, name, addresses=[address])
        contacts.link_contact(session, account.id, contact.id)
    for email in emails_of(session, account):
        _login(session, settings, account, email, member, send=False)
    session.commit()
    by_name = pending.list_pending(session, search="quarter")
    assert [row.address for row in by_name.rows] == ["zq@example.com"] and by_name.total == 1
    assert [r.address for r in pending.list_pending(session, search="X.EXAMPLE").rows] == [
        "bob@x.example"
    ]
    assert pending.pending_ids(session, search="bob") == [emails_of(session, account)[1].id]
    assert len(pending.pending_ids(session)) == 2


def test_resend_supersedes_the_previous_link(session, settings, member):  # R14 R21
    account = make_account(session, settings, name="Acme")
    email = emails_of(session, account)[0]
    old = _login(session, settings, account, email, member, at=T0, message="Welcome!")
    session.commit()
    result = pending.resend_to_selected(session, settings, [email.id], actor_for(member))
    session.commit()
    assert result.done == [email.address] and result.skipped == []
    with pytest.raises(InvalidToken) as problem:
        invitations.check_link(session, settings, _token(old))
    assert problem.value.problem is TokenProblem.SUPERSEDED
    (row,) = pending.list_pending(session).rows
    assert row.invite_sent_at > T0
    fresh = invitations.outstanding(session, email.id)
    assert fresh.message == "Welcome!"  # the personalized message goes again
    assert session.scalars(select(OutboxMessage)).all()[-1].to_address == email.address


def test_resend_sends_to_a_never_invited_address(session, settings, member):  # R9 R21
    account = make_account(session, settings)
    email = emails_of(session, account)[0]
    _login(session, settings, account, email, member, send=False)
    session.commit()
    result = pending.resend_to_selected(session, settings, [email.id], actor_for(member))
    session.commit()
    assert result.done == [email.address]
    assert pending.list_pending(session).rows[0].invite_sent_at is not None


def test_resend_skips_invalid_active_and_no_login_addresses_and_does_the_rest(
    session, settings, member
):  # R10 R13 R21 R22
    account = contacts.create_account(session, "Acme")
    addresses = ["typo@@example", "active@example.com", "nologin@example.com", "ok@example.com"]
    for address in addresses:
        contact = contacts.create_contact(session, settings, address, addresses=[address])
        contacts.link_contact(session, account.id, contact.id)
    invalid, active, no_login, ok = emails_of(session, account)
    issued = _login(session, settings, account, active, member)
    invitations.activate(session, settings, _token(issued), "correct horse battery staple")
    _login(session, settings, account, invalid, member, send=False)
    _login(session, settings, account, ok, member, send=False)
    session.commit()
    ids = [invalid.id, active.id, no_login.id, ok.id, 999_999]
    result = pending.resend_to_selected(session, settings, ids, actor_for(member))
    session.commit()
    assert result.done == ["ok@example.com"]
    reasons = {skip.address: skip for skip in result.skipped}
    assert set(reasons) == {"typo@@example", "active@example.com", "nologin@example.com", ""}
    assert reasons["active@example.com"].reason == AlreadyActive.message
    assert reasons["typo@@example"].reason != InvalidAddress.message  # says what is wrong
    assert reasons["nologin@example.com"].describe(translator("en")).startswith("Turn Login on")
    sent_to = [m.to_address for m in session.scalars(select(OutboxMessage))]
    assert "typo@@example" not in sent_to and "ok@example.com" in sent_to


def test_cancel_empties_invite_sent_but_keeps_login(session, settings, member):  # R21
    account = make_account(session, settings, contacts_count=2)
    invited, never = emails_of(session, account)
    issued = _login(session, settings, account, invited, member)
    _login(session, settings, account, never, member, send=False)
    session.commit()
    ids = [invited.id, never.id]
    result = pending.cancel_invites_to_selected(session, ids, actor_for(member))
    session.commit()
    assert result.done == [invited.address]
    assert [skip.address for skip in result.skipped] == [never.address]
    with pytest.raises(InvalidToken) as problem:
        invitations.check_link(session, settings, _token(issued))
    assert problem.value.problem is TokenProblem.CANCELLED
    rows = {row.address: row for row in pending.list_pending(session).rows}
    assert rows[invited.address].invite_sent_at is None
    login = session.scalars(select(AccessRow.login).where(AccessRow.email_id == invited.id))
    assert login.one() is True


def test_a_batch_stays_in_the_callers_transaction(session, settings, member):  # R21 R22a
    account = make_account(session, settings, contacts_count=2)
    emails = emails_of(session, account)
    for email in emails:
        _login(session, settings, account, email, member, send=False)
    session.commit()
    ids = [emails[0].id, 999_999, emails[1].id]
    result = pending.resend_to_selected(session, settings, ids, actor_for(member))
    assert len(result.done) == 2
    session.rollback()  # the page's unit of work failed: nothing may have been committed
    assert session.scalars(select(Invitation)).all() == []
    assert session.scalars(select(OutboxMessage)).all() == []


def test_cancelled_invitation_state_is_recorded(session, settings, member):  # R21 R27a
    account = make_account(session, settings)
    email = emails_of(session, account)[0]
    _login(session, settings, account, email, member)
    session.commit()
    pending.cancel_invites_to_selected(session, [email.id], actor_for(member))
    session.commit()
    states = session.scalars(select(Invitation.state)).all()
    assert states == [InvitationState.CANCELLED.value]
