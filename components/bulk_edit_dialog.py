"""The bulk "Edit login, notify, email sync" dialog with its live preview (R12, R13), and the
progress panel that follows the job it starts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import context, ui

from components.access_row import SWITCH_LABELS
from components.checked_fields import message_textarea
from components.feedback import counted, number
from components.frame import heading
from components.job_progress import JobProgress, JobTexts
from components.notification_prefs import chosen, notification_prefs
from portal_ui.bulk import CHOICE_LABELS, BulkChoices, BulkPreview, Choice, describe_error
from portal_ui.i18n import N_, _, ngettext
from portal_ui.models import NOTIFICATION_CATEGORIES, SWITCHES, JobState

SWITCH_HINTS: dict[str, str] = {
    "login": N_("Portal access"),
    "notify": N_("System notifications"),
    "email_sync": N_("Client emails in Inbox+"),
    "signatory": N_("Can sign proposals and invoices"),
}
SHOWN_FAILURES = 8

Preview = Callable[[BulkChoices], Awaitable[BulkPreview]]


class BulkEditDialog:
    """The dialog's controls; `choices()` reads them as the service's BulkChoices."""

    def __init__(self, selected: int, preview: Preview) -> None:
        self.preview = preview
        self.asked = 0  # only the answer to the latest question is shown
        self.dialog = ui.dialog()
        title = _("Edit login, notify, email sync")
        self.dialog.props["aria-label"] = title
        with self.dialog, ui.card().classes("w-full max-w-2xl p-0 gap-0"):
            with ui.column().classes("w-full p-6 pb-4 gap-1"):
                heading(title, level=2)
                ui.label(
                    counted(
                        ngettext(
                            "{n} account selected. The settings apply to every contact of it.",
                            "{n} accounts selected. The settings apply to every contact of them.",
                            selected,
                        ),
                        selected,
                    )
                ).classes("text-sm text-gray-700")
            ui.separator()
            with ui.column().classes("w-full px-6 py-4 gap-3 max-h-[50vh] overflow-y-auto"):
                self._switches()
            # Outside the scrolling part: the preview stays in view whatever is open above.
            self.summary = ui.column().classes(
                "w-full gap-1 bg-gray-50 border-y border-gray-200 px-6 py-3 max-h-48 "
                "overflow-y-auto"
            )
            self.summary.props("role=status aria-live=polite data-testid=bulk-preview")
            with ui.row().classes("w-full justify-end gap-2 px-6 py-3"):
                ui.button(_("Cancel"), on_click=lambda: self.dialog.submit(None)).props(
                    "flat no-caps color=primary"
                )
                self.save = ui.button(_("Save"), on_click=self._save)
                self.save.props("unelevated no-caps color=primary")

    def _switches(self) -> None:
        options = {choice.value: _(label) for choice, label in CHOICE_LABELS.items()}
        self.selects: dict[str, ui.select] = {}
        for switch in SWITCHES:
            with ui.row().classes("w-full items-center no-wrap gap-4"):
                with ui.column().classes("gap-0 grow"):
                    ui.label(_(SWITCH_LABELS[switch])).classes("font-medium text-gray-900")
                    ui.label(_(SWITCH_HINTS[switch])).classes("text-xs text-gray-700")
                select = ui.select(options, value=Choice.NOTHING.value)
                select.props("outlined dense options-dense").classes("w-64").mark(
                    f"choice-{switch}"
                )
                select.props["aria-label"] = _(SWITCH_LABELS[switch])
                self.selects[switch] = select
            if switch == "login":
                self._login_extras()
            if switch == "notify":
                self._notify_extras()
        for select in self.selects.values():
            select.on_value_change(self._changed)

    def _login_extras(self) -> None:
        self.login_extras = ui.column().classes("w-full gap-2 pl-4 border-l-2 border-blue-200")
        with self.login_extras:
            self.send_invitations = ui.checkbox(_("Send invitations"), value=False)
            self.send_invitations.on_value_change(self._changed)
            self.message = message_textarea(
                _("Personalized message"),
                placeholder=_("Optional: added to the invitation email as plain text"),
            ).classes("w-full")
        self.login_extras.set_visibility(False)

    def _notify_extras(self) -> None:
        self.notify_extras = ui.column().classes("w-full gap-2 pl-4 border-l-2 border-blue-200")
        with self.notify_extras:
            self.customize = ui.switch(_("Customize notification preferences"), value=False)
            self.customize.on_value_change(self._changed)
            self.categories = ui.column().classes("w-full gap-0")
            with self.categories:
                self.boxes = notification_prefs(dict.fromkeys(NOTIFICATION_CATEGORIES, True))
            for box in self.boxes.values():
                box.on_value_change(self._changed)
            self.categories.set_visibility(False)
        self.notify_extras.set_visibility(False)

    def choices(self) -> BulkChoices:
        login_on = self.selects["login"].value == Choice.ENABLE.value
        customized = self.selects["notify"].value == Choice.ENABLE.value and self.customize.value
        return BulkChoices(
            **{switch: Choice(select.value) for switch, select in self.selects.items()},
            send_invitations=login_on and bool(self.send_invitations.value),
            message=(self.message.value or "").strip(),
            preferences=chosen(self.boxes) if customized else None,
        )

    async def _changed(self) -> None:
        self.login_extras.set_visibility(self.selects["login"].value == Choice.ENABLE.value)
        self.notify_extras.set_visibility(self.selects["notify"].value == Choice.ENABLE.value)
        self.categories.set_visibility(bool(self.customize.value))
        await self.refresh_preview()

    async def refresh_preview(self) -> None:
        choices = self.choices()
        self.save.set_enabled(not choices.is_empty)
        self.asked += 1
        asked = self.asked
        if choices.is_empty:
            self._show_nothing()
            return
        found = await self.preview(choices)
        if asked == self.asked:
            self._show(found)

    def _show_nothing(self) -> None:
        self.summary.clear()
        with self.summary:
            ui.label(_("Choose what to change: nothing is changed yet.")).classes(
                "text-sm text-gray-800"
            )

    def _show(self, found: BulkPreview) -> None:
        self.summary.clear()
        with self.summary:
            ui.label(_("Preview")).classes("text-sm font-semibold text-gray-900")
            with ui.row().classes("gap-6"):
                # The caption agrees with its number (ngettext: "1 access row changes").
                _figure(found.accounts, ngettext("account", "accounts", found.accounts), "accounts")
                rows = ngettext("access row changes", "access rows change", found.rows)
                _figure(found.rows, rows, "rows")
                invitations = ngettext(
                    "invitation to send", "invitations to send", found.invitations
                )
                _figure(found.invitations, invitations, "invitations")
            active, recent = found.already_active, found.recently_invited
            notes = []
            if active:
                notes.append(
                    counted(
                        ngettext(
                            "{n} address already active: no invitation needed.",
                            "{n} addresses already active: no invitation needed.",
                            active,
                        ),
                        active,
                    )
                )
            if recent:
                notes.append(
                    counted(
                        ngettext(
                            "{n} address invited in the last 24 hours: not invited again.",
                            "{n} addresses invited in the last 24 hours: not invited again.",
                            recent,
                        ),
                        recent,
                    )
                )
            for note in notes:
                ui.label(note).classes("text-sm text-gray-700")
            if found.failures_total:
                self._failures(found)

    def _failures(self, found: BulkPreview) -> None:
        ui.label(
            counted(
                ngettext("{n} row will fail:", "{n} rows will fail:", found.failures_total),
                found.failures_total,
            )
        ).classes("text-sm font-semibold text-red-800 mt-1")
        with ui.element("ul").classes("list-disc pl-5 text-sm text-gray-900 m-0"):
            for failure in found.failures[:SHOWN_FAILURES]:
                with ui.element("li"):
                    ui.label(describe_error(failure, _))
        hidden = found.failures_total - min(len(found.failures), SHOWN_FAILURES)
        if hidden > 0:
            ui.label(counted(ngettext("and {n} more", "and {n} more", hidden), hidden)).classes(
                "text-sm text-gray-700"
            )

    def _save(self) -> None:
        choices = self.choices()
        if choices.sends_invitations and not self.message.validate():
            return  # R38: the message's problem is said next to it
        if not choices.is_empty:
            self.dialog.submit(choices)


def _figure(value: int, caption: str, key: str) -> None:
    with ui.column().classes("gap-0"):
        ui.label(number(value)).classes("text-xl font-semibold text-gray-900").mark(
            f"preview-{key}"
        )
        ui.label(caption).classes("text-xs text-gray-700")


async def edit_access(selected: int, preview: Preview) -> BulkChoices | None:
    """Open the dialog for `selected` accounts; the chosen BulkChoices on Save, None on Cancel."""
    with context.client.content:
        dialog = BulkEditDialog(selected, preview)
    await dialog.refresh_preview()
    result = await dialog.dialog
    dialog.dialog.delete()
    return result if isinstance(result, BulkChoices) else None


BULK_TEXTS = JobTexts(
    running=N_("Bulk update in progress"),
    finished=N_("Bulk update finished"),
    stopped=N_("Bulk update stopped"),
    bar_label=N_("Bulk update progress"),
    count=N_("{done} of {total} accounts updated"),
)


class BulkProgress(JobProgress):
    """The progress panel of a running bulk update (R13); it stays, with the report's summary
    and its first errors, once the job ends, until the person closes it."""

    def __init__(self) -> None:
        super().__init__(BULK_TEXTS, "bulk-report", closable=True)

    def finished(self, state: JobState, report: dict[str, Any]) -> None:
        errors = self.ended_with(state, report_summary(report))
        with errors:
            for error in list(report.get("errors", []))[:SHOWN_FAILURES]:
                ui.label(describe_error(error, _)).classes("text-sm text-red-800")


def report_summary(report: dict[str, Any]) -> str:
    """One line for a finished job: accounts, rows changed, invitations sent, errors (R13)."""
    parts = [
        counted(
            ngettext("{n} account", "{n} accounts", int(report.get("accounts", 0))),
            int(report.get("accounts", 0)),
        ),
        counted(
            ngettext(
                "{n} access row changed",
                "{n} access rows changed",
                int(report.get("rows_changed", 0)),
            ),
            int(report.get("rows_changed", 0)),
        ),
        counted(
            ngettext(
                "{n} invitation sent",
                "{n} invitations sent",
                int(report.get("invitations_sent", 0)),
            ),
            int(report.get("invitations_sent", 0)),
        ),
    ]
    errors = int(report.get("errors_total", len(report.get("errors", []))))
    if errors:
        parts.append(counted(ngettext("{n} error", "{n} errors", errors), errors))
    return ", ".join(parts)
