"""/clients/import: the CSV import (R32): upload a file, check how its columns are read, see
the preview, choose whether to send invitations, run the import and follow it to its report."""

from __future__ import annotations

import logging

from fastapi.responses import Response
from nicegui import app, background_tasks, events, run, ui

from components.checked_fields import message_textarea
from components.feedback import counted, toast
from components.frame import heading
from components.import_mapping import ColumnMapping
from components.import_preview import ImportProgress, report_summary, show_counts
from portal_ui import import_files, imports, jobs
from portal_ui.errors import DomainError
from portal_ui.i18n import _, ngettext
from portal_ui.import_files import FIELD_LABELS, MAX_FILE_BYTES, CsvFile, ImportField
from portal_ui.imports import ImportOptions
from portal_ui.models import JobState
from web import live, runtime
from web.layout import staff_layout
from web.sessions import staff_page

log = logging.getLogger(__name__)

IMPORT_PATH = "/clients/import"
TEMPLATE_PATH = "/clients/import/template.csv"


@app.get(TEMPLATE_PATH, include_in_schema=False)
def download_template() -> Response:
    """The template file (R32): the English headers and two example rows."""
    return Response(
        import_files.template(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="import-template.csv"'},
    )


class ImportPage:
    """The import's steps on one page; each appears once the one before it is done."""

    def __init__(self, member_id: int) -> None:
        self.member_id = member_id
        self.file: CsvFile | None = None
        self.columns: ColumnMapping | None = None
        self.previewing = False
        self.again = False
        self._upload_step()
        self.mapping_step = self._step(_("2. Check how the columns are read"))
        self.preview_step = self._step(_("3. Preview and import"))
        with self.preview_step:
            self.summary = ui.column().classes("w-full gap-2").mark("import-preview")
            self.summary.props("role=status aria-live=polite data-testid=import-preview")
            self.send = ui.checkbox(_("Send invitations"), value=False)
            self.send.on_value_change(self._options_changed)
            self.message = message_textarea(
                _("Personalized message"),
                placeholder=_("Optional: added to the invitation email as plain text"),
            ).classes("w-full max-w-2xl")
            self.message.set_visibility(False)
            self.start = ui.button(_("Import"), icon="upload", on_click=self.run)
            self.start.props("unelevated no-caps color=primary").mark("import-run")
        self.progress = ImportProgress()

    @staticmethod
    def _step(title: str) -> ui.card:
        card = ui.card().classes("w-full p-6 gap-3 border border-gray-200").props("flat")
        with card:
            heading(title, level=2)
        card.set_visibility(False)
        return card

    # -- 1. the file

    def _upload_step(self) -> None:
        with ui.card().classes("w-full p-6 gap-3 border border-gray-200").props("flat"):
            heading(_("1. Choose a CSV file"), level=2)
            ui.label(
                _(
                    "One row per email address of a contact on an account. Account name and "
                    "Email are needed; the other columns are optional. Column names may be in "
                    "English, French, Spanish or Italian, in any order. Rows that already "
                    "exist are updated: importing the same file again changes nothing."
                )
            ).classes("text-sm text-gray-800 max-w-3xl")
            names = ", ".join(_(FIELD_LABELS[field]) for field in ImportField)
            ui.label(_("Columns: {names}.").format(names=names)).classes(
                "text-sm text-gray-800 max-w-3xl"
            )
            ui.label(
                _(
                    "Yes/no columns take yes, no, true, false, 1, 0, x, oui, non, sí, sì; "
                    "Language takes en, fr, es or it; Assigned to takes team members' email "
                    "addresses separated by ; or ,."
                )
            ).classes("text-sm text-gray-800 max-w-3xl")
            ui.link(_("Download the template (CSV)"), TEMPLATE_PATH).classes(
                "text-blue-800 font-medium"
            ).props("download").mark("import-template")
            self.upload = ui.upload(
                label=_("Drop a CSV file here, or choose one (up to {size} MB)").format(
                    size=import_files.MAX_FILE_MB
                ),
                auto_upload=True,
                max_file_size=MAX_FILE_BYTES,
                on_upload=self.uploaded,
                on_rejected=self._rejected,
            )
            self.upload.props('accept=".csv,.txt,text/csv,text/plain" flat bordered')
            self.upload.classes("w-full max-w-xl").mark("import-upload")
            self.file_info = ui.label("").classes("text-sm text-gray-800").mark("import-file")
            self.error = ui.label("").classes("text-sm text-red-800 font-medium")
            self.error.props("role=alert").mark("import-error")

    async def uploaded(self, event: events.UploadEventArguments) -> None:
        data = await event.file.read()
        self.upload.reset()
        try:
            file = await run.io_bound(import_files.read_csv, data, event.file.name)
        except DomainError as problem:
            self._refuse(problem.describe(_))
            return
        self.error.set_text("")
        self.file = file
        rows = counted(ngettext("{n} row", "{n} rows", file.rows), file.rows)
        separator = {",": _("comma"), ";": _("semicolon"), "\t": _("tab")}[file.delimiter]
        self.file_info.set_text(
            _("{name}: {rows}, {separator}-separated, {encoding}").format(
                name=file.name, rows=rows, separator=separator, encoding=file.encoding
            )
        )
        self._show_mapping(file)
        await self.refresh_preview()

    def _rejected(self) -> None:
        self._refuse(_(import_files.TOO_LARGE).format(limit=import_files.MAX_FILE_MB))

    def _refuse(self, problem: str) -> None:
        self.file = None
        self.error.set_text(problem)
        self.file_info.set_text("")
        self.mapping_step.set_visibility(False)
        self.preview_step.set_visibility(False)

    # -- 2. the mapping

    def _show_mapping(self, file: CsvFile) -> None:
        self.mapping_step.clear()
        with self.mapping_step:
            heading(_("2. Check how the columns are read"), level=2)
            ui.label(
                _("Each column is matched to what it holds; change any, or ignore a column.")
            ).classes("text-sm text-gray-800")
            guessed = import_files.guess_mapping(file.headers)
            self.columns = ColumnMapping(file, guessed, self.refresh_preview)
        self.mapping_step.set_visibility(True)
        self.preview_step.set_visibility(True)

    # -- 3. the preview, the options, the run

    def options(self) -> ImportOptions | None:
        if self.columns is None:
            return None
        sending = bool(self.send.value)
        message = (self.message.value or "").strip() if sending else ""
        return ImportOptions(self.columns.mapping(), sending, message)

    async def _options_changed(self) -> None:
        self.message.set_visibility(bool(self.send.value))
        await self.refresh_preview()

    async def refresh_preview(self) -> None:
        """Ask for the preview of the file as now mapped; while one is computed, changes
        ask for one more afterwards (never two at once: a large file takes seconds)."""
        if self.previewing:
            self.again = True
            return
        self.previewing = True
        try:
            while True:
                self.again = False
                await self._preview()
                if not self.again:
                    break
        finally:
            self.previewing = False

    async def _preview(self) -> None:
        options, file = self.options(), self.file
        if options is None or file is None:
            return
        self.start.set_enabled(False)
        self.summary.clear()
        with self.summary:
            ui.spinner(size="1.5em", color="primary")
        try:
            import_files.check_mapping(options.mapping)
            found = await runtime.call(imports.preview, runtime.settings(), file, options)
        except DomainError as problem:
            self.summary.clear()
            with self.summary:
                ui.label(problem.describe(_)).classes("text-sm text-red-800 font-medium").mark(
                    "import-mapping-problem"
                )
            return
        self.summary.clear()
        with self.summary:
            show_counts(found, sending=options.send_invitations)
        self.start.set_text(
            counted(ngettext("Import {n} row", "Import {n} rows", file.rows), file.rows)
        )
        self.start.set_enabled(True)

    async def run(self) -> None:
        options, file = self.options(), self.file
        if options is None or file is None:
            return
        if options.send_invitations and not self.message.validate():
            return  # R38: the message's problem is said next to it
        try:
            job = await runtime.call(imports.start_job, self.member_id, file, options)
        except DomainError as refused:
            ui.notify(refused.describe(_), type="negative", multi_line=True)
            return
        for element in (self.upload, self.start, self.send, self.message):
            element.disable()
        self.mapping_step.set_visibility(False)
        job_id = job.id or 0
        self.follow(job_id)
        self.progress.running(0, file.rows)
        background_tasks.create(run.io_bound(_run, job_id), name=f"import job {job_id}")

    def follow(self, job_id: int) -> None:
        """Show the job's progress on each of its committed changes, and its report."""
        ended = {"yes": False}

        async def refresh() -> None:
            if ended["yes"]:
                return
            found = await runtime.call(jobs.job_progress, job_id)
            if found.state in (JobState.QUEUED, JobState.RUNNING):
                self.progress.running(found.done, found.total)
                return
            ended["yes"] = True
            self.preview_step.set_visibility(False)
            self.progress.finished(found.state, found.report)
            failed = found.state == JobState.FAILED
            title = _("Import stopped") if failed else _("Import finished")
            warning = failed or bool(found.report.get("failures_total"))
            toast(f"{title}: {report_summary(found.report)}", warning=warning)

        live.on_change(lambda change: change.topic == "job" and change.job_id == job_id, refresh)


def _run(job_id: int) -> None:
    current = runtime.current()
    try:
        imports.run_job(current.engine, current.settings, job_id)
    except Exception:  # the job records its failure and reports it in Inbox+
        log.exception("import job %s failed", job_id)


@staff_page(IMPORT_PATH)
async def import_page() -> None:
    ui.page_title(_("Import accounts and contacts") + " · " + runtime.settings().firm_name)
    async with staff_layout(_("Import accounts and contacts"), "accounts") as member_id:
        ImportPage(member_id)
