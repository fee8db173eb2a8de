"""SQL over many rows at once (a bulk update's invitations, outbox messages and activity
events): rows inserted the fast way read back as the ORM would have written them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import func, select

from portal_ui.batch_sql import ids_after, in_ids, insert_rows
from portal_ui.models import Account, ActivityEvent, Invitation, InvitationState
from tests.factories import emails_of, make_account, make_member

_INVITATION = Invitation.__table__
_ACTIVITY_EVENT = ActivityEvent.__table__
MOMENT = datetime(2025, 3, 10, 12, 0, 0, 123456, tzinfo=UTC)


def _invitation(email, token_hash: str, member_id: int) -> dict:
    return {
        "email_id": email.id,
        "address": email.address,
        "token_hash": token_hash,
        "invited_by_member_id": member_id,
        "invited_by_portal_user_id": None,
        "requested_by_client": False,
        "created_at": MOMENT,
        # Another time zone, the same instant as the ORM stores it (UTC).
        "expires_at": (MOMENT + timedelta(days=7)).astimezone(timezone(timedelta(hours=2))),
    }


def test_inserted_invitations_read_back_as_the_orm_writes_them(session, settings):  # R14 R15
    member = make_member(session)
    emails = emails_of(session, make_account(session, settings, contacts_count=3))
    session.add(Invitation(**_invitation(emails[0], "orm", member.id)))  # the ORM's own way
    session.flush()
    before = session.scalar(select(func.max(Invitation.id))) or 0
    rows = [_invitation(email, f"hash-{n}", member.id) for n, email in enumerate(emails)]
    insert_rows(session, _INVITATION, rows)
    ids = ids_after(session, _INVITATION, _INVITATION.c.token_hash, before)
    assert sorted(ids) == ["hash-0", "hash-1", "hash-2"]
    session.expire_all()
    by_orm = session.scalars(select(Invitation).where(Invitation.token_hash == "orm")).one()
    for n, email in enumerate(emails):
        invitation = session.get(Invitation, ids[f"hash-{n}"])
        assert invitation.email_id == email.id and invitation.address == email.address
        # Left out of the rows: the columns' defaults, as the ORM gives them.
        assert invitation.state == InvitationState.OUTSTANDING.value == by_orm.state
        assert invitation.message == "" and invitation.accepted_at is None
        assert invitation.created_at == MOMENT == by_orm.created_at
        assert invitation.expires_at == MOMENT + timedelta(days=7) == by_orm.expires_at
        assert invitation.requested_by_client is False


def test_inserted_activity_events_keep_their_details(session, settings):  # R30
    member = make_member(session)
    account = make_account(session, settings)
    rows = [
        {
            "at": MOMENT,
            "kind": "bulk_update",
            "actor_member_id": member.id,
            "actor_portal_user_id": None,
            "actor_name": member.name,
            "account_id": account.id,
            "email_id": None,
            "address": "",
            "detail": {"rows_changed": n, "changes": {"login": "enable"}},
        }
        for n in range(3)
    ]
    insert_rows(session, _ACTIVITY_EVENT, rows)
    stored = session.scalars(select(ActivityEvent).order_by(ActivityEvent.id)).all()
    assert [event.detail["rows_changed"] for event in stored] == [0, 1, 2]
    assert all(event.detail["changes"] == {"login": "enable"} for event in stored)
    assert all(event.at == MOMENT and event.account_id == account.id for event in stored)


def test_a_long_list_of_ids_finds_exactly_those_rows(session, settings):  # R12
    accounts = [make_account(session, settings) for _ in range(5)]
    wanted = [accounts[0].id, accounts[3].id, 10_000_000]
    query = select(Account.id).where(in_ids(session, Account.id, wanted)).order_by(Account.id)
    assert list(session.scalars(query)) == [accounts[0].id, accounts[3].id]
    assert list(session.scalars(select(Account.id).where(in_ids(session, Account.id, [])))) == []
