"""The nine notification categories of R3 as a checklist (bulk dialog, profile's three-dots)."""

from __future__ import annotations

from nicegui import ui

from portal_ui.i18n import N_, _
from portal_ui.models import NOTIFICATION_CATEGORIES

# R3, in the order of models.NOTIFICATION_CATEGORIES; the hints come from the product's help.
CATEGORY_LABELS: dict[str, str] = {
    "documents_file_upload": N_("Documents: file upload"),
    "documents_signature_requests": N_("Documents: signature requests"),
    "documents_approvals": N_("Documents: approvals"),
    "messages_client_tasks": N_("Messages and client tasks"),
    "proposals": N_("Proposals"),
    "organizers": N_("Organizers"),
    "invoices_payments": N_("Invoices and payments"),
    "client_requests": N_("Client requests"),
    "transactions": N_("Transactions"),
}
CATEGORY_HINTS: dict[str, str] = {
    "documents_file_upload": N_("New documents uploaded by the firm"),
    "documents_signature_requests": N_("Documents waiting for a signature, and reminders"),
    "documents_approvals": N_("Documents waiting for approval, and reminders"),
    "messages_client_tasks": N_("New messages, client tasks and replies"),
    "proposals": N_("New proposals and reminders"),
    "organizers": N_("New questionnaires and reminders"),
    "invoices_payments": N_("New invoices, reminders, payment confirmations and refunds"),
    "client_requests": N_("New client requests and reminders"),
    "transactions": N_("Weekly reminder on Mondays at 9:00 in the client's time zone"),
}


def notification_prefs(
    values: dict[str, bool], *, legend: str | None = None
) -> dict[str, ui.checkbox]:
    """A labelled group of nine checkboxes set from `values` (missing categories are on, R3);
    returns them by category so the caller reads `.value` when it saves."""
    boxes: dict[str, ui.checkbox] = {}
    fieldset = ui.element("fieldset").classes("w-full border border-gray-200 rounded-lg p-3 m-0")
    with fieldset:
        with ui.element("legend").classes("px-1 text-sm font-medium text-gray-800"):
            ui.label(legend or _("Notification preferences"))
        with ui.element("div").classes("grid grid-cols-1 sm:grid-cols-2 gap-x-4 gap-y-1"):
            for category in NOTIFICATION_CATEGORIES:
                boxes[category] = _category(category, values.get(category, True))
    return boxes


def _category(category: str, value: bool) -> ui.checkbox:
    with ui.column().classes("gap-0"):
        box = ui.checkbox(_(CATEGORY_LABELS[category]), value=value).props("dense")
        box.classes("text-gray-900").mark(f"category-{category}")
        hint = ui.label(_(CATEGORY_HINTS[category])).classes("text-xs text-gray-700 ml-7 mb-1")
        box.props(f"aria-describedby=c{hint.id}")  # NiceGUI's DOM id of the hint
    return box


def chosen(boxes: dict[str, ui.checkbox]) -> dict[str, bool]:
    """The values the person chose, by category."""
    return {category: bool(box.value) for category, box in boxes.items()}
