"""Length limits, phone numbers, addresses checked before a form saves, and ids read from URLs
(R38), enforced by the services whatever calls them."""

import pytest
from sqlalchemy import func, select

from portal_ui import access_rows, bulk, contacts, invitations, portal, profile, staff
from portal_ui.accounts import AccountFilter
from portal_ui.activity_view import Actor
from portal_ui.bulk import BulkChoices, Choice
from portal_ui.errors import InvalidAddress, InvalidName, InvalidPhone, MessageTooLong
from portal_ui.inputs import (
    MAX_ADDRESS,
    MAX_ID,
    MAX_MESSAGE,
    MAX_NAME,
    clean_phone,
    parse_id,
)
from portal_ui.models import (
    Account,
    BulkJob,
    Contact,
    ContactEmail,
    ContactPhone,
    Invitation,
    TeamMember,
)
from tests.clients import activated_client
from tests.factories import actor_for, emails_of, make_account, make_contact, make_member

LONG_NAME = "N" * (MAX_NAME + 1)
LONG_MESSAGE = "m" * (MAX_MESSAGE + 1)


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _address_of_length(length: int) -> str:
    domain = "@example.com"
    return "a" * (length - len(domain)) + domain


def test_a_name_of_200_characters_is_kept_and_one_more_is_refused(session, settings):  # R38
    account = contacts.create_account(session, "N" * MAX_NAME)
    assert len(account.name) == MAX_NAME
    with pytest.raises(InvalidName) as refused:
        contacts.create_account(session, LONG_NAME)
    assert refused.value.params == {"limit": MAX_NAME}
    assert "200" in str(refused.value)


def test_every_way_to_name_something_refuses_a_long_or_blank_name(session, settings):  # R38
    account = make_account(session, settings)
    contact = make_contact(session, settings)
    for name in (LONG_NAME, "   "):
        with pytest.raises(InvalidName):
            contacts.rename_account(session, account.id, name)
        with pytest.raises(InvalidName):
            contacts.create_contact(session, settings, name)
        with pytest.raises(InvalidName):
            contacts.rename_contact(session, contact.id, name)
        with pytest.raises(InvalidName):
            staff.create_team_member(session, "anna@example.com", name, "Quiet-Harbour-42")
    assert session.get(Account, account.id).name != LONG_NAME
    assert _count(session, TeamMember) == 0


def test_a_client_cannot_invite_someone_under_a_long_name(session, settings):  # R38 R31
    member = make_member(session)
    _email, user = activated_client(session, settings, member, [make_account(session, settings)])
    account_id = portal.client_accounts(session, user.id)[0][0]
    contacts_before = _count(session, Contact)
    with pytest.raises(InvalidName):
        portal.invite_person(session, settings, user.id, account_id, LONG_NAME, "dana@example.com")
    with pytest.raises(InvalidAddress):
        portal.invite_person(session, settings, user.id, account_id, "Dana", "dana@@example.com")
    assert _count(session, Contact) == contacts_before


def test_a_message_over_5000_characters_sends_no_invitation(session, settings):  # R38 R9
    member = make_member(session)
    account = make_account(session, settings)
    email = emails_of(session, account)[0]
    with pytest.raises(MessageTooLong) as refused:
        access_rows.set_login(
            session, settings, account.id, email.id, True, actor_for(member),
            send_invitation=True, message=LONG_MESSAGE,
        )  # fmt: skip
    assert refused.value.params == {"limit": MAX_MESSAGE}
    assert _count(session, Invitation) == 0
    issued = invitations.send_invitation(
        session, settings, email.id, actor_for(member), message="m" * MAX_MESSAGE
    )
    assert len(issued.invitation.message) == MAX_MESSAGE


def test_a_bulk_update_with_a_long_message_is_refused_before_it_starts(session, settings):
    # R38 R12
    member = make_member(session)
    account = make_account(session, settings)
    choices = BulkChoices(login=Choice.ENABLE, send_invitations=True, message=LONG_MESSAGE)
    with pytest.raises(MessageTooLong):
        bulk.start_job(session, member.id, [account.id], choices)
    assert _count(session, BulkJob) == 0
    email = emails_of(session, account)[0]
    with pytest.raises(MessageTooLong):
        invitations.send_invitations(
            session, settings, [email.id], actor_for(member), message=LONG_MESSAGE
        )


def test_an_address_over_254_characters_is_refused_even_where_a_typo_is_kept(
    session, settings
):  # R38 R22
    contact = make_contact(session, settings, addresses=0)
    kept = contacts.add_address(session, settings, contact.id, _address_of_length(MAX_ADDRESS))
    assert len(kept.address) == MAX_ADDRESS
    with pytest.raises(InvalidAddress) as refused:
        contacts.add_address(session, settings, contact.id, _address_of_length(MAX_ADDRESS + 1))
    assert refused.value.params == {"limit": MAX_ADDRESS}
    with pytest.raises(InvalidAddress):
        contacts.change_address(
            session, settings, kept.id, "b" + kept.address, actor_for(make_member(session))
        )


def test_a_form_refuses_a_wrong_address_instead_of_keeping_it(session, settings):  # R38 R22
    member = make_member(session)
    contact = make_contact(session, settings, addresses=1)
    (email,) = session.scalars(select(ContactEmail).where(ContactEmail.contact_id == contact.id))
    before = email.address
    with pytest.raises(InvalidAddress) as refused:
        contacts.add_address(session, settings, contact.id, "bad@@example", refuse_invalid=True)
    assert "invalid" in refused.value.describe(lambda text: text)
    with pytest.raises(InvalidAddress):
        contacts.change_address(
            session, settings, email.id, "not-an-email", actor_for(member), refuse_invalid=True
        )
    assert session.get(ContactEmail, email.id).address == before
    assert _count(session, ContactEmail) == 1


def test_the_new_contact_form_says_which_field_is_wrong(session, settings):  # R38 R26
    account = make_account(session, settings, contacts_count=0)
    cases = [
        (("Carla", ["carla@example.com"], ["", "call me"]), "phone:1", InvalidPhone),
        (("Carla", ["", "bad@@example"], []), "address:1", InvalidAddress),
        ((LONG_NAME, [], []), "name", InvalidName),
    ]
    for (name, addresses, phones), field, error in cases:
        with pytest.raises(profile.FieldRejected) as refused:
            profile.create_linked_contact(session, settings, account.id, name, addresses, phones)
        assert refused.value.field == field
        assert isinstance(refused.value.__cause__, error)


@pytest.mark.parametrize(
    "number",
    ["+33 1 23 45 67 89", "(555) 010-2231 ext. 12", "020.7946.0018", "555 0100 x7", "12345"],
)
def test_a_phone_number_of_5_to_20_digits_is_kept(session, settings, number):  # R38
    contact = make_contact(session, settings)
    assert contacts.add_phone(session, contact.id, f"  {number} ").number == number


@pytest.mark.parametrize(
    "number",
    ["call me", "1234", "1" * 21, "+1 555 0100 / 0101", "555 0100 ext", "12345 ext. 1234567", ""],
)
def test_a_phone_number_that_breaks_the_rule_is_refused(session, settings, number):  # R38
    contact = make_contact(session, settings)
    with pytest.raises(InvalidPhone):
        contacts.add_phone(session, contact.id, number)
    with pytest.raises(InvalidPhone):
        contacts.create_contact(session, settings, "Carla", phones=[number or "x"])
    assert _count(session, ContactPhone) == 0


def test_runs_of_spaces_in_a_phone_number_become_one():  # R38
    assert clean_phone(" +39   06\t1234 ") == "+39 06 1234"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        ("0042", 42),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
        ("99999999999999999999999999", None),
        ("0", None),
        ("-3", None),
        ("+3", None),
        (" 3", None),
        ("3.0", None),
        ("abc", None),
        ("١٢", None),
        ("", None),
        (None, None),
    ],
)
def test_an_id_from_a_url_is_a_32_bit_positive_number_or_nothing(text, expected):  # R38
    assert parse_id(text) == expected


def test_filters_with_an_out_of_range_id_name_nobody(session):  # R38 R24 R30
    assert Actor.parse("member:99999999999999999999999") is None
    assert Actor.parse(f"client:{MAX_ID}") == Actor("client", MAX_ID)
    huge = AccountFilter.from_query({"assigned": "99999999999999999999999999"})
    assert huge.assigned_member_id is None
