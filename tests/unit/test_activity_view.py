"""The activity page's data (portal_ui/activity_view.py) and the readable texts of activity
events and Inbox+ items (activity.describe_event, activity.describe_notification)."""

from __future__ import annotations

from sqlmodel import Session

from portal_ui import access_rows, activity, activity_view, invitations
from portal_ui.activity_view import Actor
from portal_ui.i18n import translator
from portal_ui.models import ActivityEvent, InboxNotification
from tests.factories import actor_for, emails_of, make_account, make_member

english = translator("en")


def invited(session: Session, settings) -> tuple[int, int, int]:  # noqa: ANN001
    """An account whose address got Login on and an invitation from a team member."""
    member = make_member(session, name="Greta Sender")
    account = make_account(session, settings)
    email = emails_of(session, account)[0]
    access_rows.set_login(
        session, settings, account.id, email.id, True, actor_for(member), send_invitation=True
    )
    session.commit()
    return account.id, email.id, member.id


def test_filtered_by_account_the_feed_includes_its_addresses_invitations(session, settings):
    # R30: an invitation names an address, not one account (R14)
    account_id, _email_id, _member = invited(session, settings)
    other_id, _other_email, _ = invited(session, settings)

    page = activity_view.feed_page(session, account_id=account_id)

    kinds = [row.event.kind for row in page.rows]
    assert kinds == [activity.INVITATION_SENT, activity.LOGIN_ON]
    assert page.total == 2
    assert {row.account_name for row in page.rows} == {
        activity_view.account_names(session, {account_id})[account_id]
    }
    assert other_id != account_id


def test_the_feed_filters_by_team_member_and_by_client(session, settings):
    # R30
    account_id, email_id, member_id = invited(session, settings)
    issued = invitations.send_invitation(
        session, settings, email_id, activity.Actor(name="Someone else")
    )
    client = invitations.activate(
        session, settings, issued.link.rsplit("/", 1)[1], "correct horse 1 2"
    )
    session.commit()

    by_member = activity_view.feed_page(session, actor=Actor("member", member_id))
    by_client = activity_view.feed_page(session, actor=Actor("client", client.id))

    assert {row.event.actor_member_id for row in by_member.rows} == {member_id}
    assert [row.event.kind for row in by_client.rows] == [activity.INVITATION_ACCEPTED]
    assert by_client.rows[0].event.account_id == account_id


def test_the_feed_is_paged_by_the_database(session, settings):
    # R30
    account_id, email_id, _member = invited(session, settings)
    for index in range(7):
        access_rows.set_switch(
            session, account_id, email_id, "notify", index % 2 == 0, activity.Actor(name="A")
        )
    session.commit()

    first = activity_view.feed_page(session, offset=0, limit=4)
    rest = activity_view.feed_page(session, offset=4, limit=4)

    assert first.total == rest.total == 9
    assert len(first.rows) == 4 and len(rest.rows) == 4
    assert not {r.event.id for r in first.rows} & {r.event.id for r in rest.rows}


def test_actor_choices_list_team_members_and_clients_found_by_search(session, settings):
    # R30: an actor is a team member or a client
    invited(session, settings)
    make_member(session, name="Otto Other")
    session.commit()

    everyone = activity_view.actor_choices(session)
    found = activity_view.actor_choices(session, "gRETa")

    assert {"Greta Sender", "Otto Other"} <= set(everyone.values())
    assert list(found.values()) == ["Greta Sender"]
    assert next(iter(found)).startswith("member:")
    assert Actor.parse("nonsense") is None and Actor.parse("client:x") is None


def test_every_activity_kind_reads_as_a_sentence():
    # R27a, R30
    for kind in (*activity.INVITATION_HISTORY_KINDS, activity.LOGIN_ON, activity.LOGIN_OFF,
                 activity.PREFERENCES_CHANGED, activity.BULK_UPDATE):  # fmt: skip
        text = activity.describe_event(ActivityEvent(kind=kind), english)
        assert text and "_" not in text, kind
    switch = ActivityEvent(kind=activity.SWITCH_CHANGED, detail={"switch": "email_sync", "on": 1})
    assert activity.describe_event(switch, english) == "Email sync turned on"
    failed = ActivityEvent(kind=activity.INVITATION_FAILED, detail={"reason": "550 no such user"})
    assert activity.describe_event(failed, english) == "Invitation email failed: 550 no such user"
    moved = ActivityEvent(kind=activity.ADDRESS_CHANGED, detail={"new_address": "n@example.com"})
    assert activity.describe_event(moved, english) == "Address changed to n@example.com"


def test_event_texts_are_translated():
    # R31a
    text = activity.describe_event(ActivityEvent(kind=activity.LOGIN_ON), translator("fr"))
    assert text  # falls back to English until the catalogue has it, never empty


def test_inbox_items_describe_signups_and_bulk_reports_with_their_errors():
    # R13, R18, R29
    signup = InboxNotification(
        member_id=1, kind="client_signup",
        params={"address": "anna@example.com", "account_name": "Harbour Bakery"},
    )  # fmt: skip
    report = InboxNotification(
        member_id=1,
        kind="bulk_report",
        params={
            "accounts": 3,
            "rows_changed": 5,
            "invitations_sent": 2,
            "errors": ["Acme has no contacts", {"address": "x@@y", "reason": "invalid"}],
        },
    )

    assert activity.describe_notification(signup, english) == (
        "anna@example.com activated their portal access",
        "Account: Harbour Bakery",
    )
    title, body = activity.describe_notification(report, english)
    assert title == "Bulk update finished"
    assert body.splitlines() == [
        "Accounts: 3 · Access rows changed: 5 · Invitations sent: 2",
        "Errors (2):",
        "• Acme has no contacts",
        "• x@@y: invalid",
    ]
