"""Bulk update of access rows: preview, the job, its report and its idempotence."""

from __future__ import annotations

import re
from datetime import timedelta
from email import parser as email_parser
from email import policy as email_policy

import pytest
from sqlalchemy import event, func, select, text

from portal_ui import access_rows, activity, bulk, contacts, events, invitations
from portal_ui.bulk import BulkChoices, Choice
from portal_ui.clock import utcnow
from portal_ui.errors import InvalidToken
from portal_ui.i18n import translator
from portal_ui.mail import outbox
from portal_ui.models import (
    NOTIFICATION_CATEGORIES,
    AccessRow,
    Account,
    AccountStatus,
    ActivityEvent,
    BulkJob,
    InboxNotification,
    Invitation,
    InvitationState,
    JobState,
    OutboxMessage,
)
from tests.factories import actor_for, emails_of, make_account, make_member
from tests.sql import add_row_trigger, refusal

LOGIN_AND_INVITE = BulkChoices(login=Choice.ENABLE, send_invitations=True, message="Welcome!")


@pytest.fixture
def member(session):
    return make_member(session, name="Alice Staff")


def _run(session, engine, settings, member, accounts, choices, **options):
    """Start and run a job as the web app does: commit, then run it outside the session."""
    job = bulk.start_job(session, member.id, [a.id for a in accounts], choices)
    session.commit()
    report = bulk.run_job(engine, settings, job.id, **options)
    session.expire_all()
    return job.id, report


def _rows(session, account):
    return list(session.scalars(select(AccessRow).where(AccessRow.account_id == account.id)))


def _outbox_addresses(session) -> list[str]:
    return sorted(session.scalars(select(OutboxMessage.to_address)))


def _shared(session, settings, *accounts):
    """A contact with one address linked to each of these accounts."""
    contact = contacts.create_contact(session, settings, "Shared", addresses=["shared@ex.com"])
    for account in accounts:
        contacts.link_contact(session, account.id, contact.id)
    return contact


def _with_invalid_address(session, settings, name="Typo Ltd"):
    account = contacts.create_account(session, name)
    contact = contacts.create_contact(session, settings, "Typo", addresses=["typo@@example"])
    contacts.link_contact(session, account.id, contact.id)
    return account


def test_login_is_enabled_on_every_row_of_every_contact_of_the_selected_accounts(
    session, engine, settings, member
):  # R12
    chosen = [make_account(session, settings, contacts_count=2, addresses=2) for _ in range(2)]
    other = make_account(session, settings)
    _, report = _run(session, engine, settings, member, chosen, BulkChoices(login=Choice.ENABLE))
    assert all(row.login for account in chosen for row in _rows(session, account))
    assert not any(row.login for row in _rows(session, other))
    assert report["rows_changed"] == 8 and report["invitations_sent"] == 0
    assert _outbox_addresses(session) == []  # no "Send invitations": Later (R9)


def test_one_invitation_per_address_even_on_several_accounts(
    session, engine, settings, member
):  # R12 R14
    first, second, third = (make_account(session, settings) for _ in range(3))
    _shared(session, settings, first, second, third)
    session.commit()
    _, report = _run(
        session, engine, settings, member, [first, second, third], LOGIN_AND_INVITE, chunk=1
    )
    sent = _outbox_addresses(session)
    assert sent.count("shared@ex.com") == 1
    assert len(sent) == len(set(sent)) == 4
    assert report["invitations_sent"] == 4
    outstanding = invitations.outstanding(session, emails_of(session, first)[-1].id)
    assert outstanding.message == "Welcome!"
    assert all(
        session.get(Account, a.id).status == AccountStatus.PENDING for a in (first, second, third)
    )


def test_an_address_on_an_unselected_account_makes_it_pending_too(
    session, engine, settings, member
):  # R7 R14
    chosen, unselected = make_account(session, settings), make_account(session, settings)
    contact = _shared(session, settings, chosen, unselected)
    email = emails_of(session, unselected)[-1]
    assert email.contact_id == contact.id
    access_rows.set_login(session, settings, unselected.id, email.id, True, actor_for(member))
    session.commit()
    _run(session, engine, settings, member, [chosen], LOGIN_AND_INVITE)
    assert session.get(Account, unselected.id).status == AccountStatus.PENDING


def test_already_active_addresses_get_no_invitation(session, engine, settings, member):  # R10
    account = make_account(session, settings, contacts_count=2)
    active, other = emails_of(session, account)
    issued = access_rows.set_login(
        session, settings, account.id, active.id, True, actor_for(member), send_invitation=True
    )
    invitations.activate(session, settings, issued.link.rsplit("/", 1)[1], "tidal-Otter-4821")
    session.commit()
    second = make_account(session, settings)
    contacts.link_contact(session, second.id, active.contact_id)
    session.commit()
    outbox_before = _outbox_addresses(session)
    _, report = _run(session, engine, settings, member, [account, second], LOGIN_AND_INVITE)
    new = [a for a in _outbox_addresses(session) if a not in outbox_before]
    assert active.address not in new
    assert other.address in new
    assert report["invitations_sent"] == 2
    assert session.get(Account, second.id).status == AccountStatus.ACTIVATED  # at once


def test_invalid_address_and_account_without_contacts_are_reported_others_proceed(
    session, engine, settings, member
):  # R13 R22
    good = make_account(session, settings, name="Good Ltd")
    typo = _with_invalid_address(session, settings)
    empty = contacts.create_account(session, "Empty Ltd")
    session.commit()
    _, report = _run(session, engine, settings, member, [typo, empty, good], LOGIN_AND_INVITE)
    assert _outbox_addresses(session) == [emails_of(session, good)[0].address]
    assert all(row.login for row in _rows(session, typo))  # Login on; only the mail is refused
    errors = {(e.get("account"), e.get("address")): e for e in report["errors"]}
    assert errors[("Empty Ltd", None)]["reason"] == bulk.NO_CONTACTS
    assert errors[(None, "typo@@example")]["reason"] == bulk.INVALID_ADDRESS
    assert errors[(None, "typo@@example")]["detail"]
    assert report["errors_total"] == 2
    assert report["invitations_sent"] == 1


def test_running_the_same_update_again_changes_nothing_and_sends_nothing(
    session, engine, settings, member
):  # R13
    chosen = [make_account(session, settings, contacts_count=2) for _ in range(3)]
    session.commit()
    _, first = _run(session, engine, settings, member, chosen, LOGIN_AND_INVITE)
    outbox = _outbox_addresses(session)
    events_before = session.scalar(select(func.count()).select_from(ActivityEvent))
    _, again = _run(session, engine, settings, member, chosen, LOGIN_AND_INVITE)
    assert first["rows_changed"] == 6 and first["invitations_sent"] == 6
    assert again["rows_changed"] == 0 and again["invitations_sent"] == 0
    assert again["accounts_changed"] == 0
    assert _outbox_addresses(session) == outbox
    assert session.scalar(select(func.count()).select_from(ActivityEvent)) == events_before


def test_an_invitation_older_than_a_day_is_renewed_by_a_new_bulk_update(
    session, engine, settings, member
):  # R13 R14
    account = make_account(session, settings)
    email = emails_of(session, account)[0]
    old = access_rows.set_login(
        session, settings, account.id, email.id, True, actor_for(member), send_invitation=True,
        now=utcnow() - timedelta(hours=25),
    )  # fmt: skip
    session.commit()
    _, report = _run(session, engine, settings, member, [account], LOGIN_AND_INVITE)
    assert report["invitations_sent"] == 1
    session.refresh(old.invitation)
    assert old.invitation.state == InvitationState.SUPERSEDED.value


def test_a_report_arrives_in_the_members_inbox(session, engine, settings, member):  # R13 R29
    good = make_account(session, settings, name="Good Ltd")
    empty = contacts.create_account(session, "Empty Ltd")
    session.commit()
    job_id, report = _run(session, engine, settings, member, [good, empty], LOGIN_AND_INVITE)
    (item,) = session.scalars(select(InboxNotification))
    assert item.member_id == member.id and item.kind == "bulk_report"
    assert item.link == "/clients/accounts"
    assert item.params["accounts"] == 2
    assert item.params["rows_changed"] == 1
    assert item.params["invitations_sent"] == 1
    assert item.params["errors"] == report["errors"] and item.params["job_id"] == job_id
    line = bulk.describe_error(report["errors"][0], translator("en"))
    assert line == "Empty Ltd: The account has no contacts."
    title, body = activity.describe_notification(item, translator("en"))
    assert "Invitations sent: 1" in body


def test_progress_is_visible_while_the_job_runs(session, engine, settings, member):  # R13
    chosen = [make_account(session, settings) for _ in range(5)]
    job = bulk.start_job(session, member.id, [a.id for a in chosen], LOGIN_AND_INVITE)
    session.commit()
    assert bulk.job_progress(session, job.id) == (JobState.QUEUED, 0, 5, {})
    seen: list[tuple[str, int]] = []

    def follow(change: events.Change) -> None:
        if change.topic == "job" and change.job_id == job.id:
            with engine.connect() as connection:
                done = connection.execute(select(BulkJob.done).where(BulkJob.id == job.id))
                seen.append(done.scalar_one())

    unsubscribe = events.subscribe(follow)
    try:
        bulk.run_job(engine, settings, job.id, chunk=2)
    finally:
        unsubscribe()
    session.expire_all()
    state, done, total, report = bulk.job_progress(session, job.id)
    assert (state, done, total) == (JobState.DONE, 5, 5)
    assert report["invitations_sent"] == 5
    assert seen == [0, 2, 4, 5, 5]  # started, after each chunk of 2, finished


def test_a_job_runs_once(session, engine, settings, member):  # R13
    account = make_account(session, settings)
    job_id, first = _run(session, engine, settings, member, [account], LOGIN_AND_INVITE)
    assert bulk.run_job(engine, settings, job_id) == first
    assert len(_outbox_addresses(session)) == 1
    assert session.scalar(select(func.count()).select_from(InboxNotification)) == 1


def test_a_bulk_update_event_per_changed_account(session, engine, settings, member):  # R30
    changed = make_account(session, settings)
    already = make_account(session, settings)
    email = emails_of(session, already)[0]
    access_rows.set_switch(session, already.id, email.id, "email_sync", True, actor_for(member))
    session.commit()
    choices = BulkChoices(email_sync=Choice.ENABLE)
    _run(session, engine, settings, member, [changed, already], choices)
    feed = session.scalars(select(ActivityEvent).where(ActivityEvent.kind == activity.BULK_UPDATE))
    (event,) = feed.all()
    assert event.account_id == changed.id
    assert event.actor_member_id == member.id
    assert event.detail["rows_changed"] == 1


def test_notify_enable_turns_all_nine_categories_on_by_default(
    session, engine, settings, member
):  # R3 R12
    account = make_account(session, settings, contacts_count=2)
    _run(session, engine, settings, member, [account], BulkChoices(notify=Choice.ENABLE))
    for row in _rows(session, account):
        assert row.notify and all(row.preferences().values())


def test_notify_enable_keeps_the_choices_of_a_row_that_had_some(
    session, engine, settings, member
):  # R3
    account = make_account(session, settings)
    email = emails_of(session, account)[0]
    chosen = {c: c == "proposals" for c in NOTIFICATION_CATEGORIES}
    access_rows.set_preferences(session, account.id, email.id, chosen, actor_for(member))
    session.commit()
    _run(session, engine, settings, member, [account], BulkChoices(notify=Choice.ENABLE))
    (row,) = _rows(session, account)
    assert row.notify and row.preferences() == chosen


def test_notify_enable_with_customized_preferences(session, engine, settings, member):  # R3 R12
    account = make_account(session, settings, contacts_count=2)
    first = emails_of(session, account)[0]
    access_rows.set_switch(session, account.id, first.id, "notify", True, actor_for(member))
    session.commit()
    custom = {"invoices_payments": True, "documents_signature_requests": True}
    choices = BulkChoices(notify=Choice.ENABLE, preferences=custom)
    _, report = _run(session, engine, settings, member, [account], choices)
    expected = {c: c in custom for c in NOTIFICATION_CATEGORIES}
    assert [row.preferences() for row in _rows(session, account)] == [expected, expected]
    assert all(row.notify for row in _rows(session, account))
    assert report["rows_changed"] == 2  # the row already on had other categories


def test_disable_switches_for_all_contacts(session, engine, settings, member):  # R12
    account = make_account(session, settings, contacts_count=2)
    for email in emails_of(session, account):
        for switch in ("notify", "email_sync", "signatory"):
            access_rows.set_switch(session, account.id, email.id, switch, True, actor_for(member))
    session.commit()
    choices = BulkChoices(email_sync=Choice.DISABLE, signatory=Choice.DISABLE)
    _run(session, engine, settings, member, [account], choices)
    rows = _rows(session, account)
    assert not any(row.email_sync or row.signatory for row in rows)
    assert all(row.notify for row in rows)  # Do nothing
    assert session.get(Account, account.id).has_email_sync is False


def test_login_disable_cancels_invitations_of_addresses_left_without_login(
    session, engine, settings, member
):  # R11 R12
    chosen, elsewhere = make_account(session, settings), make_account(session, settings)
    _shared(session, settings, chosen, elsewhere)
    lone, shared = emails_of(session, chosen)
    actor = actor_for(member)
    for account, email in ((chosen, lone), (chosen, shared), (elsewhere, shared)):
        access_rows.set_login(
            session, settings, account.id, email.id, True, actor, send_invitation=True
        )
    session.commit()
    _run(session, engine, settings, member, [chosen], BulkChoices(login=Choice.DISABLE))
    assert invitations.outstanding(session, lone.id) is None
    assert invitations.outstanding(session, shared.id) is not None  # Login on elsewhere
    assert session.get(Account, chosen.id).status == AccountStatus.NOT_ACTIVATED
    cancelled = session.scalars(select(Invitation).where(Invitation.email_id == lone.id)).one()
    assert cancelled.state == InvitationState.CANCELLED.value


def test_preview_counts_accounts_rows_invitations_and_failures(
    session, engine, settings, member
):  # R13
    plain = make_account(session, settings, contacts_count=2)
    second = make_account(session, settings)
    _shared(session, settings, plain, second)
    typo = _with_invalid_address(session, settings)
    empty = contacts.create_account(session, "Empty Ltd")
    active_account = make_account(session, settings)
    active = emails_of(session, active_account)[0]
    issued = access_rows.set_login(
        session, settings, active_account.id, active.id, True, actor_for(member),
        send_invitation=True,
    )  # fmt: skip
    invitations.activate(session, settings, issued.link.rsplit("/", 1)[1], "tidal-Otter-4821")
    recent_account = make_account(session, settings)
    recent = emails_of(session, recent_account)[0]
    access_rows.set_login(
        session, settings, recent_account.id, recent.id, True, actor_for(member),
        send_invitation=True,
    )  # fmt: skip
    session.commit()
    chosen = [plain, second, typo, empty, active_account, recent_account]
    ids = [a.id for a in chosen] + [999_999]
    seen = bulk.preview(session, ids, LOGIN_AND_INVITE)
    assert seen.accounts == 6
    # plain 3 rows, second 2, typo 1; the active and recent rows already have Login on.
    assert seen.rows == 6
    assert seen.invitations == 4  # plain's two, the shared address once, second's own
    assert (seen.already_active, seen.recently_invited) == (1, 1)
    reasons = sorted(f["reason"] for f in seen.failures)
    assert reasons == sorted([bulk.NO_CONTACTS, bulk.INVALID_ADDRESS, bulk.ACCOUNT_GONE])
    assert seen.failures_total == 3
    _, report = _run(session, engine, settings, member, chosen, LOGIN_AND_INVITE)
    assert (report["rows_changed"], report["invitations_sent"]) == (seen.rows, seen.invitations)


def test_preview_without_invitations_counts_no_invitation(session, settings):  # R13
    account = make_account(session, settings, contacts_count=2)
    session.commit()
    seen = bulk.preview(session, [account.id], BulkChoices(login=Choice.ENABLE))
    assert (seen.accounts, seen.rows, seen.invitations) == (1, 2, 0)


def test_a_job_needs_a_choice(session, settings, member):  # R12
    account = make_account(session, settings)
    with pytest.raises(ValueError):
        bulk.start_job(session, member.id, [account.id], BulkChoices(send_invitations=True))


def test_choices_survive_the_jobs_storage(session):  # R12
    choices = BulkChoices(
        login=Choice.ENABLE,
        notify=Choice.ENABLE,
        signatory=Choice.DISABLE,
        send_invitations=True,
        message="Hi",
        preferences={"proposals": True},
    )
    again = BulkChoices.from_params(choices.to_params())
    assert again == choices
    assert again.preferences["proposals"] and not again.preferences["organizers"]
    assert BulkChoices(send_invitations=True, message="x").to_params()["send_invitations"] is False
    with pytest.raises(ValueError):
        BulkChoices(notify=Choice.ENABLE, preferences={"spam": True})


def test_one_row_the_database_refuses_never_stops_the_rest(
    session, engine, settings, member
):  # R13
    accounts = [make_account(session, settings) for _ in range(3)]
    refused = emails_of(session, accounts[1])[0].address
    session.commit()
    with engine.begin() as connection:  # a real refusal by the database, for one address
        add_row_trigger(
            connection, "refuse", "BEFORE INSERT", "invitation",
            refusal(connection, "refused"), when=f"NEW.address = '{refused}'",
        )  # fmt: skip
    _, report = _run(session, engine, settings, member, accounts, LOGIN_AND_INVITE)
    sent = _outbox_addresses(session)
    assert refused not in sent and len(sent) == 2
    assert report["invitations_sent"] == 2
    assert report["errors"] == [{"address": refused, "reason": bulk.NOT_SENT}]
    assert all(row.login for a in accounts for row in _rows(session, a))


def test_a_job_left_running_by_a_stopped_process_can_be_resumed(
    session, engine, settings, member
):  # R13
    account = make_account(session, settings)
    job = bulk.start_job(session, member.id, [account.id], LOGIN_AND_INVITE)
    job.state = JobState.RUNNING.value  # the process stopped before it finished
    session.commit()
    assert bulk.unfinished_jobs(session) == [job.id]
    assert bulk.run_job(engine, settings, job.id) == {}  # not without resume
    assert _outbox_addresses(session) == []
    report = bulk.run_job(engine, settings, job.id, resume=True)
    assert report["invitations_sent"] == 1
    session.expire_all()
    assert bulk.unfinished_jobs(session) == []


def _link_in(raw: bytes) -> str:
    message = email_parser.BytesParser(policy=email_policy.default).parsebytes(raw)
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"https?://\S+/activate/\S+", text).group(0)


def test_the_link_of_a_bulk_invitation_activates_every_account_it_covers(
    session, engine, settings, member
):  # R12 R14 R17 R19 R20
    first, second = make_account(session, settings, name="Alpha"), make_account(session, settings)
    contact = _shared(session, settings, first, second)
    contact.language = "fr"
    session.commit()
    _run(session, engine, settings, member, [first, second], LOGIN_AND_INVITE)
    row = session.scalars(
        select(OutboxMessage).where(OutboxMessage.to_address == "shared@ex.com")
    ).one()
    raw = outbox.build_message(settings, row)
    text = raw.decode("ascii", "replace")
    assert "Content-Language: fr" in text
    view = invitations.check_link(session, settings, _link_in(raw).rsplit("/", 1)[1])
    assert view.address == "shared@ex.com"
    assert view.account_names == sorted([first.name, second.name])
    invitation = session.get(Invitation, view.invitation_id)
    assert invitation.message == "Welcome!" and invitation.invited_by_member_id == member.id
    history = [e.kind for e in activity.invitation_history(session, invitation.email_id)]
    assert history == [activity.INVITATION_SENT]


def test_each_bulk_invitation_points_at_the_email_that_carries_its_own_link(
    session, engine, settings, member
):  # R14 R22a: the pending list shows each invitation's delivery state through this link
    accounts = [make_account(session, settings, contacts_count=3) for _ in range(3)]
    _run(session, engine, settings, member, accounts, LOGIN_AND_INVITE)
    sent = list(session.scalars(select(Invitation)))
    assert len(sent) == 9
    for invitation in sent:
        row = session.get(OutboxMessage, invitation.outbox_id)
        assert row.to_address == invitation.address and row.email_id == invitation.email_id
        token = _link_in(outbox.build_message(settings, row)).rsplit("/", 1)[1]
        assert invitations.check_link(session, settings, token).invitation_id == invitation.id


def test_a_bulk_invitation_supersedes_an_older_one_and_says_so(
    session, engine, settings, member
):  # R14 R27a
    account = make_account(session, settings)
    email = emails_of(session, account)[0]
    old = access_rows.set_login(
        session, settings, account.id, email.id, True, actor_for(member), send_invitation=True,
        now=utcnow() - timedelta(days=2),
    )  # fmt: skip
    session.commit()
    _run(session, engine, settings, member, [account], LOGIN_AND_INVITE)
    with pytest.raises(InvalidToken):
        invitations.check_link(session, settings, old.link.rsplit("/", 1)[1])
    history = [e.kind for e in activity.invitation_history(session, email.id)]
    assert history == [
        activity.INVITATION_SENT,
        activity.INVITATION_SUPERSEDED,
        activity.INVITATION_RESENT,
    ]


def test_a_bulk_update_never_rewrites_the_search_text(session, engine, settings, member):  # R12 R24
    chosen = [make_account(session, settings, contacts_count=2) for _ in range(2)]
    session.commit()
    with engine.begin() as connection:  # what a search index kept by triggers would see
        connection.exec_driver_sql("CREATE TABLE search_write (account_id INTEGER)")
        add_row_trigger(
            connection, "count_search_write", "AFTER UPDATE OF search_text", "account",
            "INSERT INTO search_write VALUES (NEW.id);",
        )  # fmt: skip
    _run(session, engine, settings, member, chosen, LOGIN_AND_INVITE)
    for account in chosen:
        refreshed = session.get(Account, account.id)
        assert refreshed.status == AccountStatus.PENDING and refreshed.has_login
    assert session.execute(text("SELECT count(*) FROM search_write")).scalar_one() == 0


@pytest.mark.only_on("sqlite", reason="a page cache per connection; PostgreSQL's is shared")
def test_the_job_gives_its_connection_back_with_the_usual_page_cache(
    session, engine, settings, member
):  # R13: a job's larger cache is its own, not every later request's
    with engine.connect() as connection:
        usual = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    returned: list[int] = []

    def checkin(dbapi_connection, _record) -> None:
        returned.append(dbapi_connection.execute("PRAGMA cache_size").fetchone()[0])

    account = make_account(session, settings)
    session.commit()
    event.listen(engine, "checkin", checkin)
    try:
        _run(session, engine, settings, member, [account], LOGIN_AND_INVITE)
    finally:
        event.remove(engine, "checkin", checkin)
    assert returned and set(returned) == {usual}
