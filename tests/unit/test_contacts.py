"""Accounts, contacts and addresses (R1, R2, R11, R22, R26, R27)."""

import pytest
from sqlmodel import select

from portal_ui import access_rows, contacts, invitations
from portal_ui.errors import AddressTaken, InvalidToken
from portal_ui.models import AccessRow, Account, AccountStatus, ContactEmail, InvitationState
from tests.clients import CLIENT_PASSWORD, activated_client, invite
from tests.factories import actor_for, emails_of, make_account, make_contact, make_member


def _row(session, account, email):
    return access_rows.get_row(session, account.id, email.id)


def test_addresses_are_stored_lower_case_and_unique_whatever_their_case(session, settings):  # R1
    contact = make_contact(session, settings, addresses=0)
    email = contacts.add_address(session, settings, contact.id, "  Nora.Fields@Example.COM ")
    assert email.address == "nora.fields@example.com"
    other = make_contact(session, settings, addresses=0)
    with pytest.raises(AddressTaken):
        contacts.add_address(session, settings, other.id, "NORA.FIELDS@example.com")


def test_linking_gives_each_address_its_own_row_all_off(session, settings):  # R2 R26
    account = make_account(session, settings, contacts_count=0)
    contact = make_contact(session, settings, addresses=2)
    contacts.link_contact(session, account.id, contact.id)
    rows = session.exec(select(AccessRow).where(AccessRow.account_id == account.id)).all()
    assert len(rows) == 2
    assert not any(row.login or row.notify or row.email_sync or row.signatory for row in rows)
    assert session.get(Account, account.id).contact_count == 1


def test_settings_are_per_account_for_the_same_address(session, settings):  # R2
    member = make_member(session)
    first = make_account(session, settings)
    second = make_account(session, settings, contacts_count=0)
    email = emails_of(session, first)[0]
    contacts.link_contact(session, second.id, email.contact_id)
    access_rows.set_login(session, settings, first.id, email.id, True, actor_for(member))
    assert _row(session, first, email).login
    assert not _row(session, second, email).login


def test_a_bad_address_is_kept_marked_invalid_and_fixing_it_clears_the_mark(
    session, settings
):  # R22
    member = make_member(session)
    contact = make_contact(session, settings, addresses=0)
    email = contacts.add_address(session, settings, contact.id, "maria.lopez@example")
    assert email.invalid_reason
    contacts.change_address(
        session, settings, email.id, "maria.lopez@example.com", actor_for(member)
    )
    assert session.get(ContactEmail, email.id).invalid_reason is None


def test_unlinking_the_last_login_cancels_the_outstanding_invitation(session, settings):  # R11 R26
    member = make_member(session)
    account = make_account(session, settings)
    email = emails_of(session, account)[0]
    token = invite(session, settings, member, account, email)
    contacts.unlink_contact(session, account.id, email.contact_id, actor_for(member))
    assert invitations.outstanding(session, email.id) is None
    with pytest.raises(InvalidToken):
        invitations.check_link(session, settings, token)


def test_changing_a_pending_address_moves_its_invitation_to_the_new_one(session, settings):  # R27
    member = make_member(session)
    account = make_account(session, settings)
    email = emails_of(session, account)[0]
    old_token = invite(session, settings, member, account, email)
    changed = contacts.change_address(
        session, settings, email.id, "new.address@example.com", actor_for(member)
    )
    assert changed.address == "new.address@example.com"
    assert _row(session, account, changed).login  # the settings stay
    with pytest.raises(InvalidToken):
        invitations.check_link(session, settings, old_token)
    fresh = invitations.outstanding(session, changed.id)
    assert fresh is not None and fresh.address == "new.address@example.com"
    assert fresh.state == InvitationState.OUTSTANDING.value


def test_an_activated_address_keeps_access_until_the_new_one_activates(session, settings):  # R27
    member = make_member(session)
    account = make_account(session, settings)
    old, _user = activated_client(session, settings, member, [account])
    new = contacts.change_address(session, settings, old.id, "moved@example.com", actor_for(member))
    assert new.id != old.id
    # No moment without access: the old address is still Active, the new one Pending.
    assert _row(session, account, old).login and _row(session, account, new).login
    assert session.get(Account, account.id).status == AccountStatus.ACTIVATED
    issued = invitations.outstanding(session, new.id)
    assert issued is not None
    token = invitations.send_invitation(session, settings, new.id, actor_for(member)).link
    invitations.activate(session, settings, token.rsplit("/", 1)[1], CLIENT_PASSWORD)
    session.flush()
    session.expire_all()
    assert not _row(session, account, old).login
    assert _row(session, account, new).login
