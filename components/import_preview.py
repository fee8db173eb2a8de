"""What an import will do (the preview) and did (the report), and the progress panel of the
running import (R13, R32)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nicegui import ui

from components.feedback import counted, number
from components.job_progress import JobProgress, JobTexts
from portal_ui.activity import row_failure_text
from portal_ui.i18n import N_, _, ngettext
from portal_ui.imports import ImportCounts
from portal_ui.models import JobState

SHOWN_FAILURES = 50


def _figure(value: int, caption: str, key: str, detail: str = "") -> None:
    with ui.column().classes("gap-0 min-w-[8rem]"):
        ui.label(number(value)).classes("text-xl font-semibold text-gray-900").mark(
            f"preview-{key}"
        )
        ui.label(caption).classes("text-xs text-gray-700")
        if detail:
            ui.label(detail).classes("text-xs text-gray-700").mark(f"preview-{key}-detail")


def _updated(n: int) -> str:
    return counted(ngettext("{n} updated", "{n} updated", n), n)


def show_counts(counts: ImportCounts, *, sending: bool, done: bool = False) -> None:
    """The figures of a preview (or, `done`, of a report): accounts, contacts and addresses
    created and updated, access rows that change, invitations, and the failing rows."""
    with ui.row().classes("gap-8 flex-wrap"):
        _figure(
            counts.accounts_created,
            _("new accounts"),
            "accounts",
            _updated(counts.accounts_updated),
        )
        _figure(
            counts.contacts_created,
            _("new contacts"),
            "contacts",
            _updated(counts.contacts_updated),
        )
        _figure(
            counts.addresses_created,
            _("new addresses"),
            "addresses",
            _updated(counts.addresses_updated),
        )
        _figure(
            counts.rows_changed,
            _("access rows changed") if done else _("access rows change"),
            "rows",
        )
        if done:
            caption = _("invitations sent")
        elif sending:
            caption = _("invitations to send")
        else:
            caption = _("invitations if you choose Send invitations")
        _figure(counts.invitations, caption, "invitations")
    notes = []
    if counts.already_active:
        notes.append(
            counted(
                ngettext(
                    "{n} address already active: it gets the account without an invitation.",
                    "{n} addresses already active: they get the account without an invitation.",
                    counts.already_active,
                ),
                counts.already_active,
            )
        )
    if counts.recently_invited:
        notes.append(
            counted(
                ngettext(
                    "{n} address invited in the last 24 hours: not invited again.",
                    "{n} addresses invited in the last 24 hours: not invited again.",
                    counts.recently_invited,
                ),
                counts.recently_invited,
            )
        )
    if not done and not counts.changes:
        notes.append(_("This file changes nothing: everything in it is already there."))
    for note in notes:
        ui.label(note).classes("text-sm text-gray-800")
    show_failures(counts.failures, counts.failures_total, done=done)


def show_failures(failures: list[Mapping[str, Any]], total: int, *, done: bool) -> None:
    """Every failing row with its line and reason (the first SHOWN_FAILURES)."""
    if not total:
        ui.label(_("No row fails.")).classes("text-sm text-green-800").mark("import-no-failures")
        return
    wording = (
        ngettext("{n} row failed:", "{n} rows failed:", total)
        if done
        else ngettext("{n} row will fail:", "{n} rows will fail:", total)
    )
    ui.label(counted(wording, total)).classes("text-sm font-semibold text-red-800 mt-1")
    listing = ui.element("ul").classes("list-disc pl-5 text-sm text-gray-900 m-0")
    listing.mark("import-failures")
    with listing:
        for failure in failures[:SHOWN_FAILURES]:
            with ui.element("li"):
                ui.label(row_failure_text(failure, _))
    hidden = total - min(len(failures), SHOWN_FAILURES)
    if hidden > 0:
        ui.label(counted(ngettext("and {n} more", "and {n} more", hidden), hidden)).classes(
            "text-sm text-gray-700"
        )


IMPORT_TEXTS = JobTexts(
    running=N_("Import in progress"),
    finished=N_("Import finished"),
    stopped=N_("Import stopped"),
    bar_label=N_("Import progress"),
    count=N_("{done} of {total} rows imported"),
)


class ImportProgress(JobProgress):
    """The progress of a running import; once it ends, its report, until the person leaves
    the page."""

    def __init__(self) -> None:
        super().__init__(
            IMPORT_TEXTS, "import-report", link=(_("Go to accounts"), "/clients/accounts")
        )

    def finished(self, state: JobState, report: dict[str, Any]) -> None:
        body = self.ended_with(state, report_summary(report))
        with body:
            show_counts(ImportCounts.from_report(report), sending=True, done=True)


def report_summary(report: Mapping[str, Any]) -> str:
    """One line for a finished import: what it created, changed and sent, and what failed."""
    accounts = int(report.get("accounts_created", 0))
    rows = int(report.get("rows_changed", 0))
    sent = int(report.get("invitations_sent", 0))
    failed = int(report.get("failures_total", 0))
    parts = [
        counted(ngettext("{n} account created", "{n} accounts created", accounts), accounts),
        counted(ngettext("{n} access row changed", "{n} access rows changed", rows), rows),
        counted(ngettext("{n} invitation sent", "{n} invitations sent", sent), sent),
        counted(ngettext("{n} row failed", "{n} rows failed", failed), failed),
    ]
    return " · ".join(parts)
