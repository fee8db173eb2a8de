"""What a stopped process left queued is finished by the next `portal-ui serve` (R13, R22a)."""

from sqlmodel import select

from portal_ui import access_rows, bulk
from portal_ui.bulk import BulkChoices, Choice
from portal_ui.models import BulkJob, JobState, TeamMember
from tests.e2e.conftest import activation_link
from tests.factories import actor_for, emails_of, make_account


def test_a_restart_delivers_queued_mail_and_finishes_an_interrupted_bulk_job(start_portal):
    arranged = {}

    def arrange(session, settings):
        member = session.exec(select(TeamMember)).one()
        queued = make_account(session, settings, name="Queued Before Restart")
        address = emails_of(session, queued)[0]
        access_rows.set_login(
            session, settings, queued.id, address.id, True, actor_for(member),
            send_invitation=True,
        )  # fmt: skip
        interrupted = make_account(session, settings, name="Interrupted Bulk", contacts_count=2)
        choices = BulkChoices(login=Choice.ENABLE, send_invitations=True)
        job = bulk.start_job(session, member.id, [interrupted.id], choices)
        job.state = JobState.RUNNING.value  # the process that ran it stopped mid-way
        session.add(job)
        arranged["queued"] = address.address
        arranged["bulk"] = [e.address for e in emails_of(session, interrupted)]
        arranged["job"] = job.id

    portal = start_portal(arrange=arrange)

    # R22a: the invitation committed before the server started is delivered once.
    (message,) = portal.mail.wait_for(arranged["queued"])
    assert "/activate/" in activation_link(message)
    # R13: the interrupted job runs to its end and each of its addresses is invited.
    for address in arranged["bulk"]:
        assert len(portal.mail.wait_for(address)) == 1
    with portal.session() as session:
        assert session.get(BulkJob, arranged["job"]).state == JobState.DONE.value
