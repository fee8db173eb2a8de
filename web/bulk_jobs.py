"""A bulk update as a page sees it (R13): preview it, start it, run it in a worker thread and
follow its progress through committed "job" changes (no polling)."""

from __future__ import annotations

import logging

from nicegui import background_tasks, run

from components.bulk_edit_dialog import BulkProgress, report_summary
from components.feedback import toast
from portal_ui import bulk
from portal_ui.bulk import BulkChoices, BulkPreview
from portal_ui.i18n import _
from portal_ui.models import JobState
from web import live, runtime

log = logging.getLogger(__name__)


async def preview(account_ids: list[int], choices: BulkChoices) -> BulkPreview:
    return await runtime.call(bulk.preview, account_ids, choices)


def _run(job_id: int) -> None:
    current = runtime.current()
    try:
        bulk.run_job(current.engine, current.settings, job_id)
    except Exception:  # the job records its failure and reports it in Inbox+
        log.exception("bulk job %s failed", job_id)


async def start(
    member_id: int, account_ids: list[int], choices: BulkChoices, progress: BulkProgress
) -> int:
    """Queue the job, follow it in `progress`, and run it off the event loop; the job goes on
    if the page is closed (its report lands in Inbox+)."""
    job = await runtime.call(bulk.start_job, member_id, account_ids, choices)
    job_id = job.id or 0
    follow(job_id, progress)
    progress.running(0, len(set(account_ids)))
    background_tasks.create(run.io_bound(_run, job_id), name=f"bulk job {job_id}")
    return job_id


def follow(job_id: int, progress: BulkProgress) -> None:
    """Show the job's progress on each of its committed changes, and say when it ends."""
    state = {"ended": False}

    async def refresh() -> None:
        if state["ended"]:
            return
        found = await runtime.call(bulk.job_progress, job_id)
        if found.state in (JobState.QUEUED, JobState.RUNNING):
            progress.running(found.done, found.total)
            return
        state["ended"] = True
        progress.finished(found.state, found.report)
        failed = found.state == JobState.FAILED
        errors = bool(found.report.get("errors_total"))
        title = _("Bulk update stopped") if failed else _("Bulk update finished")
        toast(f"{title}: {report_summary(found.report)}", warning=failed or errors)

    live.on_change(lambda change: change.topic == "job" and change.job_id == job_id, refresh)
