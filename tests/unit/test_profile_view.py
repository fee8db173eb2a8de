"""The profile Info tab's view service (portal_ui/profile.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session

from portal_ui import access_rows, contacts, invitations, profile
from portal_ui.errors import NotFound
from portal_ui.models import NOTIFICATION_CATEGORIES, AccessState, DeliveryState
from tests.factories import actor_for, emails_of, make_account, make_contact, make_member


@contextmanager
def counted_queries(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_profile_lists_each_linked_contact_with_its_phones_and_addresses(session, settings):
    # R25
    account = contacts.create_account(session, "Harbour Bakery")
    anna = contacts.create_contact(
        session, settings, "Anna Baker", addresses=["anna@bakery.test", "anna@home.test"],
        phones=["+33 1 23 45 67 89"],
    )  # fmt: skip
    bob = contacts.create_contact(session, settings, "Bob Baker", addresses=["bob@bakery.test"])
    contacts.link_contact(session, account.id, anna.id)
    contacts.link_contact(session, account.id, bob.id)
    session.commit()

    view = profile.profile(session, account.id)

    assert view.header.name == "Harbour Bakery"
    assert [c.name for c in view.contacts] == ["Anna Baker", "Bob Baker"]
    assert view.contacts[0].phones == ("+33 1 23 45 67 89",)
    assert [a.address for a in view.contacts[0].addresses] == [
        "anna@bakery.test",
        "anna@home.test",
    ]
    first = view.contacts[0].addresses[0]
    assert (first.login, first.notify, first.email_sync, first.signatory) == (
        False,
        False,
        False,
        False,
    )
    assert set(first.preferences) == set(NOTIFICATION_CATEGORIES)
    assert first.state is AccessState.NO_ACCESS


def test_address_state_follows_login_invitation_and_activation(session, settings):
    # R6, R9, R17, R22a
    member = make_member(session)
    account = make_account(session, settings)
    email = emails_of(session, account)[0]
    actor = actor_for(member)

    access_rows.set_login(session, settings, account.id, email.id, True, actor)
    later = profile.profile(session, account.id).contacts[0].addresses[0]
    assert later.state is AccessState.PENDING
    assert later.invite_sent_at is None and later.delivery_state is None

    issued = invitations.send_invitation(session, settings, email.id, actor)
    session.commit()
    sent = profile.profile(session, account.id).contacts[0].addresses[0]
    assert sent.state is AccessState.PENDING
    assert sent.invite_sent_at is not None
    assert sent.delivery_state is DeliveryState.QUEUED

    invitations.activate(session, settings, issued.link.rsplit("/", 1)[1], "correct horse 1 2")
    session.commit()
    active = profile.profile(session, account.id).contacts[0].addresses[0]
    assert active.state is AccessState.ACTIVE
    assert active.activated and active.invite_sent_at is None


def test_settings_are_shown_per_account_not_per_contact(session, settings):
    # R2
    member = make_member(session)
    contact = make_contact(session, settings)
    first = contacts.create_account(session, "First")
    second = contacts.create_account(session, "Second")
    contacts.link_contact(session, first.id, contact.id)
    contacts.link_contact(session, second.id, contact.id)
    email = emails_of(session, first)[0]
    access_rows.set_login(session, settings, first.id, email.id, True, actor_for(member))
    access_rows.set_switch(session, first.id, email.id, "notify", True, actor_for(member))
    session.commit()

    on_first = profile.profile(session, first.id).contacts[0].addresses[0]
    on_second = profile.profile(session, second.id).contacts[0].addresses[0]

    assert on_first.login and on_first.notify and all(on_first.preferences.values())
    assert not on_second.login and not on_second.notify
    assert on_second.state is AccessState.NO_ACCESS


def test_an_invalid_address_carries_its_reason(session, settings):
    # R22
    account = contacts.create_account(session, "Typo Ltd")
    contact = contacts.create_contact(session, settings, "Tina Typo", addresses=["tina@@typo"])
    contacts.link_contact(session, account.id, contact.id)
    session.commit()

    address = profile.profile(session, account.id).contacts[0].addresses[0]

    assert address.invalid_reason
    assert not address.can_send_invitation


def test_a_new_address_waiting_to_replace_an_activated_one_says_so(session, settings):
    # R27
    member = make_member(session)
    account = make_account(session, settings)
    email = emails_of(session, account)[0]
    old_address = email.address
    issued = access_rows.set_login(
        session, settings, account.id, email.id, True, actor_for(member), send_invitation=True
    )
    invitations.activate(session, settings, issued.link.rsplit("/", 1)[1], "correct horse 1 2")
    contacts.change_address(session, settings, email.id, "new@example.com", actor_for(member))
    session.commit()

    addresses = profile.profile(session, account.id).contacts[0].addresses

    assert [a.address for a in addresses] == [old_address, "new@example.com"]
    assert addresses[0].state is AccessState.ACTIVE
    assert addresses[1].replaces_address == old_address
    assert addresses[1].state is AccessState.PENDING
    assert addresses[1].invite_sent_at is not None


def test_the_profile_reads_in_the_same_number_of_queries_however_many_addresses(engine, settings):
    # R25: no query per contact or per address.
    with Session(engine, expire_on_commit=False) as session:
        small = make_account(session, settings, contacts_count=1, addresses=1)
        large = make_account(session, settings, contacts_count=6, addresses=3)
        session.commit()
    with Session(engine) as session, counted_queries(engine) as small_queries:
        profile.profile(session, small.id)
    with Session(engine) as session, counted_queries(engine) as large_queries:
        view = profile.profile(session, large.id)

    assert sum(len(c.addresses) for c in view.contacts) == 18
    assert len(large_queries) == len(small_queries) <= 6


def test_an_unknown_account_is_not_found(session):
    with pytest.raises(NotFound):
        profile.profile(session, 404)


def test_find_contacts_matches_a_name_or_an_address_and_says_which_are_linked(session, settings):
    # R26
    account = contacts.create_account(session, "Linked Co")
    linked = contacts.create_contact(session, settings, "Zoe Linked", addresses=["zoe@co.test"])
    other = contacts.create_contact(session, settings, "Yann Other", addresses=["yann@zoe.test"])
    contacts.create_contact(session, settings, "Nobody", addresses=["nobody@else.test"])
    contacts.link_contact(session, account.id, linked.id)
    session.commit()

    found = profile.find_contacts(session, "ZOE", account_id=account.id)

    assert [(m.name, m.linked) for m in found] == [("Yann Other", False), ("Zoe Linked", True)]
    assert found[0].addresses == ("yann@zoe.test",)
    assert other.id == found[0].id
    assert profile.find_contacts(session, "   ") == []


def test_find_contacts_treats_wildcards_as_text(session, settings):
    contacts.create_contact(session, settings, "Percy", addresses=["percy@example.com"])
    session.commit()

    assert profile.find_contacts(session, "%") == []
