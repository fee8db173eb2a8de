"""The progress panel of a running job, bulk update or import (R13, R32): CONTRACT.md's
`bulk-progress` indicator, then the job's report once it ends."""

from __future__ import annotations

from dataclasses import dataclass

from nicegui import ui

from components.feedback import number
from portal_ui.i18n import _
from portal_ui.models import JobState


@dataclass(frozen=True)
class JobTexts:
    """What one kind of job's panel says (message ids; `count` has {done} and {total})."""

    running: str
    finished: str
    stopped: str
    bar_label: str
    count: str


class JobProgress:
    """While the job runs: a spinner, a bar and "done of total"; once it ends, its summary, a
    link to Inbox+ (and `link`, when given) and a column for the rest (`ended_with`)."""

    def __init__(
        self,
        texts: JobTexts,
        marker: str,
        *,
        link: tuple[str, str] | None = None,
        closable: bool = False,
    ) -> None:
        self.texts = texts
        self.panel = ui.card().classes("w-full p-4 gap-2 border border-blue-200 bg-blue-50")
        self.panel.props("flat data-testid=bulk-progress role=status aria-live=polite")
        with self.panel:
            with ui.row().classes("w-full items-center no-wrap gap-3"):
                self.icon = ui.spinner(size="1.5em", color="primary")
                self.title = ui.label("").classes("font-semibold text-gray-900")
                ui.space()
                links = [(_("Open Inbox+"), "/inbox"), *([link] if link else [])]
                # Shown once the job has ended.
                self.ended: list[ui.element] = [
                    ui.link(text, target).classes("text-blue-800 text-sm font-medium")
                    for text, target in links
                ]
                if closable:
                    close = ui.button(icon="close", on_click=self.hide)
                    close.props("flat round dense color=grey-9")
                    close.props["aria-label"] = _("Close")
                    self.ended.append(close)
            self.bar = ui.linear_progress(value=0, show_value=False, size="8px")
            self.bar.props["aria-label"] = _(texts.bar_label)
            self.detail = ui.label("").classes("text-sm text-gray-800").mark(marker)
            self.body = ui.column().classes("w-full gap-0")
        self.panel.set_visibility(False)

    def hide(self) -> None:
        self.panel.set_visibility(False)

    def running(self, done: int, total: int) -> None:
        self._show("running", running=True)
        self.title.set_text(_(self.texts.running))
        self.bar.set_value(done / total if total else 0)
        self.detail.set_text(_(self.texts.count).format(done=number(done), total=number(total)))
        self.body.clear()

    def ended_with(self, state: JobState, summary: str) -> ui.column:
        """Show the end of the job and its one-line summary; returns the (emptied) column
        under it, where each kind of job's `finished(state, report)` puts its own report."""
        self._show(state.value, running=False)
        failed = state == JobState.FAILED
        self.title.set_text(_(self.texts.stopped) if failed else _(self.texts.finished))
        self.detail.set_text(summary)
        self.body.clear()
        return self.body

    def _show(self, state: str, *, running: bool) -> None:
        self.panel.set_visibility(True)
        self.panel.props["data-state"] = state
        self.icon.set_visibility(running)
        self.bar.set_visibility(running)
        for element in self.ended:
            element.set_visibility(not running)
