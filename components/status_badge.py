"""The account status of R7 shown as colour AND text: a badge element and a table-cell slot."""

from __future__ import annotations

from nicegui import ui

from portal_ui.i18n import N_, _
from portal_ui.models import AccountStatus

LABELS: dict[AccountStatus, str] = {
    AccountStatus.ACTIVATED: N_("Activated"),
    AccountStatus.PENDING: N_("Pending activation"),
    AccountStatus.NOT_ACTIVATED: N_("Not activated"),
}

# Green, yellow, gray (R7) with text dark enough for WCAG AA on its own background.
_CLASSES: dict[str, str] = {
    "activated": "bg-green-100 text-green-900 ring-green-600",
    "pending": "bg-amber-100 text-amber-900 ring-amber-500",
    "not-activated": "bg-gray-100 text-gray-800 ring-gray-400",
}
_DOTS: dict[str, str] = {
    "activated": "bg-green-600",
    "pending": "bg-amber-500",
    "not-activated": "bg-gray-500",
}
_BADGE = (
    "inline-flex items-center gap-1.5 rounded-full px-2.5 py-0.5 text-xs font-medium "
    "whitespace-nowrap ring-1 ring-inset"
)


def status_label(status: AccountStatus) -> str:
    """The translated text of a status."""
    return _(LABELS[status])


def status_badge(status: AccountStatus) -> ui.element:
    """A badge for one account (the profile header); automation finds it by data-testid."""
    slug = status.slug
    badge = ui.element("span").classes(f"{_BADGE} {_CLASSES[slug]}")
    badge.props(f'data-testid=account-status data-status="{slug}"')
    with badge:
        ui.element("span").classes(f"inline-block w-2 h-2 rounded-full {_DOTS[slug]}").props(
            'aria-hidden="true"'
        )
        ui.label(status_label(status))
    return badge


def row_values(status: AccountStatus) -> dict[str, str]:
    """The fields a table row needs for `status_cell_template`."""
    return {"status_slug": status.slug, "status_label": status_label(status)}


def status_cell_template() -> str:
    """A Vue `body-cell-*` slot showing `row_values` as a badge. The label is interpolated
    with {{ }}, which escapes it: text is never interpreted as HTML."""
    classes = ", ".join(f"'{slug}': '{_CLASSES[slug]}'" for slug in _CLASSES)
    dots = ", ".join(f"'{slug}': '{_DOTS[slug]}'" for slug in _DOTS)
    return f"""
        <q-td :props="props">
          <span data-testid="account-status" :data-status="props.row.status_slug"
                class="{_BADGE}" :class="{{{classes}}}[props.row.status_slug]">
            <span aria-hidden="true" class="inline-block w-2 h-2 rounded-full"
                  :class="{{{dots}}}[props.row.status_slug]"></span>
            {{{{ props.row.status_label }}}}
          </span>
        </q-td>
    """
