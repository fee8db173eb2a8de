"""A first journey through the services: Login on with Send, then activation."""

from sqlmodel import select

from portal_ui import access_rows, invitations
from portal_ui.models import Account, AccountStatus, OutboxMessage
from tests.factories import actor_for, emails_of, make_account, make_member


def test_send_then_activate_turns_the_account_activated(session, settings):  # R6 R7 R9 R17
    member = make_member(session)
    account = make_account(session, settings, contacts_count=2)
    email = emails_of(session, account)[0]
    issued = access_rows.set_login(
        session, settings, account.id, email.id, True, actor_for(member), send_invitation=True
    )
    session.commit()
    assert session.get(Account, account.id).status == AccountStatus.PENDING
    assert len(session.exec(select(OutboxMessage)).all()) == 1
    token = issued.link.rsplit("/", 1)[1]
    view = invitations.check_link(session, settings, token)
    assert view.address == email.address
    invitations.activate(session, settings, token, "correct horse battery staple")
    session.commit()
    session.refresh(account)
    assert account.status == AccountStatus.ACTIVATED
