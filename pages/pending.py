"""/clients/accounts/pending: the Pending activation tab (R21, R22, R22a): who has not activated
yet, their invitation and its delivery, and "Resend to selected" / "Cancel invites to selected"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import ui

from components.checked_fields import search_input
from components.confirm import confirm
from components.feedback import counted, toast
from components.formats import delivery_label, full_moment, short_date
from components.server_table import ServerTableList, selection_labels
from portal_ui import pending, staff
from portal_ui.activity import Actor
from portal_ui.clock import utcnow
from portal_ui.errors import AlreadyActive, NoLoginAccess, NoOutstandingInvitation, NotFound
from portal_ui.i18n import N_, _, ngettext
from portal_ui.pending import BatchResult, PendingPage, PendingRow
from web import live, runtime
from web.layout import PENDING_PATH, clients_layout
from web.sessions import staff_page

SHOWN_SKIPPED = 8
# Committed changes after which the list may differ (R21 counts update live).
TOPICS = frozenset({"invitation", "access", "account", "outbox"})

_EMAIL_CELL = """
<q-td :props="props">
  <div class="flex items-center gap-2 no-wrap">
    <span v-if="props.row.invalid_reason" data-testid="invalid-email" role="img"
          :aria-label="props.col.invalid_label" class="inline-flex text-red-700 cursor-help">
      <q-icon name="error" size="20px" aria-hidden="true"></q-icon>
      <q-tooltip class="text-sm">{{ props.row.invalid_reason }}</q-tooltip>
    </span>
    <span class="font-medium text-gray-900">{{ props.row.address }}</span>
  </div>
  <div v-if="props.row.invalid_reason"
       class="text-xs text-red-800 whitespace-normal max-w-sm mt-0.5">{{
       props.col.invalid_label }}: {{ props.row.invalid_reason }}</div>
</q-td>
"""

_ACCOUNTS_CELL = """
<q-td :props="props">
  <div class="flex flex-wrap gap-1 max-w-md">
    <span v-for="name in props.row.accounts" :key="name"
          class="rounded bg-gray-100 px-2 py-0.5 text-sm text-gray-900">{{ name }}</span>
  </div>
</q-td>
"""

_SENT_CELL = """
<q-td :props="props">
  <span :title="props.row.invite_sent_title" class="text-gray-900">{{ props.value }}</span>
  <div v-if="props.row.expired" class="text-xs text-gray-700">{{ props.col.expired_label }}</div>
</q-td>
"""

_DELIVERY_CELL = """
<q-td :props="props">
  <span v-if="props.row.delivery" :data-delivery="props.row.delivery"
        class="inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium ring-1
               ring-inset whitespace-nowrap"
        :class="{sent: 'bg-green-100 text-green-900 ring-green-600',
                 failed: 'bg-red-100 text-red-900 ring-red-600',
                 queued: 'bg-blue-50 text-blue-900 ring-blue-300',
                 sending: 'bg-blue-50 text-blue-900 ring-blue-300'}[props.row.delivery]">{{
        props.row.delivery_label }}</span>
  <span v-else class="text-sm text-gray-700">{{ props.row.delivery_label }}</span>
  <div v-if="props.row.delivery_error"
       class="text-xs text-red-800 whitespace-normal max-w-xs mt-0.5">{{
       props.row.delivery_error }}</div>
</q-td>
"""


def _columns() -> list[dict[str, Any]]:
    return [
        {
            "name": "address",
            "label": _("Email"),
            "field": "address",
            "align": "left",
            "required": True,
            "invalid_label": _("Invalid address"),
            **selection_labels(),
        },
        {"name": "accounts", "label": _("Account(s)"), "field": "accounts", "align": "left"},
        {
            "name": "invite_sent",
            "label": _("Invite sent"),
            "field": "invite_sent",
            "align": "left",
            "sortable": True,
            "expired_label": _("Expired"),
        },
        {"name": "invited_by", "label": _("Invited by"), "field": "invited_by", "align": "left"},
        {"name": "delivery", "label": _("Delivery"), "field": "delivery_label", "align": "left"},
    ]


def _delivery(row: PendingRow) -> tuple[str, str]:
    """R22a: the delivery state's slug and text."""
    slug = row.delivery.value if row.delivery else ""
    return slug, delivery_label(row.delivery, row.delivery_error)


def _row(row: PendingRow) -> dict[str, Any]:
    slug, label = _delivery(row)
    invited_by = row.invited_by or ""
    if invited_by and row.invited_by_client:
        invited_by = _("{name} (client)").format(name=invited_by)
    title = ""
    if row.invite_sent_at and row.expires_at:
        title = _("Sent {sent}; the link expires {expires}").format(
            sent=full_moment(row.invite_sent_at), expires=full_moment(row.expires_at)
        )
    return {
        "id": row.email_id,
        "address": row.address,
        "invalid_reason": row.invalid_reason or "",
        "accounts": list(row.accounts),
        "invite_sent": short_date(row.invite_sent_at),
        "invite_sent_title": title,
        "expired": row.is_expired(utcnow()),
        "invited_by": invited_by,
        "delivery": slug,
        "delivery_label": label,
        "delivery_error": row.delivery_error if slug in ("failed", "queued") else "",
    }


# Short words for why an address was skipped, keyed by the services' message ids. An invalid
# address's message is its own explanation (R22), so anything else reads "invalid address".
SHORT_REASONS: dict[str, str] = {
    AlreadyActive.message: N_("already active"),
    NoLoginAccess.message: N_("Login is off"),
    NoOutstandingInvitation.message: N_("no invitation to cancel"),
    NotFound.message: N_("no longer pending"),
}
INVALID = N_("invalid address")


def describe_result(result: BatchResult, done_text: Callable[[int], str]) -> str:
    """E.g. "2 invitations sent, 1 skipped: invalid address"; the details list says more."""
    text = done_text(len(result.done))
    if not result.skipped:
        return text
    reasons = dict.fromkeys(_(SHORT_REASONS.get(s.reason, INVALID)) for s in result.skipped)
    skipped = counted(
        ngettext("{n} skipped", "{n} skipped", len(result.skipped)), len(result.skipped)
    )
    return f"{text}, {skipped}: " + ", ".join(reasons)


class PendingList(ServerTableList):
    """The Pending activation tab: its state (sort, page, selection) and its elements."""

    def __init__(self, member_id: int, actor: Actor) -> None:
        super().__init__()
        self.member_id = member_id
        self.actor = actor
        self.sort_desc: bool | None = None

    async def build(self) -> None:
        ui.label(
            _(
                "People whose Login is on but who have not activated their portal account yet. "
                "Resend an invitation or cancel it; Login stays on."
            )
        ).classes("text-sm text-gray-700")
        with ui.row().classes("w-full items-center gap-3"):
            self.search = (
                search_input(_("Search"))
                .props("outlined dense clearable debounce=300 type=search")
                .classes("w-64")
            )
            self.search.props["aria-label"] = _("Search addresses and contacts")
            with self.search.add_slot("prepend"):
                ui.icon("search").classes("text-gray-700").props('aria-hidden="true"')
            self.search.on_value_change(self.search_changed)
            self.summary = ui.label("").classes("text-sm text-gray-800")
            self.summary.props("role=status aria-live=polite")
            ui.space()
            self.resend = ui.button(_("Resend to selected"), icon="send", on_click=self.resend_to)
            self.resend.props("unelevated no-caps color=primary")
            self.cancel = ui.button(
                _("Cancel invites to selected"), icon="block", on_click=self.cancel_invites
            ).props("outline no-caps color=negative")
        self._result_panel()
        self._table()
        await self.load()
        live.on_change(lambda change: change.topic in TOPICS, self.load)

    def _result_panel(self) -> None:
        self.result = (
            ui.card()
            .classes("w-full p-3 gap-1 border border-gray-200")
            .props("flat role=status aria-live=polite data-testid=pending-result")
        )
        with self.result:
            with ui.row().classes("w-full items-center no-wrap gap-2"):
                self.result_icon = ui.icon("check_circle", size="20px").classes("text-green-700")
                self.result_icon.props('aria-hidden="true"')
                self.result_text = ui.label("").classes("font-medium text-gray-900")
                ui.space()
                close = ui.button(icon="close", on_click=lambda: self.result.set_visibility(False))
                close.props("flat round dense color=grey-9")
                close.props["aria-label"] = _("Close")
            self.result_details = ui.column().classes("gap-0 pl-7")
        self.result.set_visibility(False)

    def _table(self) -> None:
        self.make_table(
            _columns(),
            selection_column="address",
            no_data_label=_("Nobody is pending activation."),
            rows_per_page_label=_("Addresses per page:"),
        )
        self.table.add_slot("body-cell-address", _EMAIL_CELL)
        self.table.add_slot("body-cell-accounts", _ACCOUNTS_CELL)
        self.table.add_slot("body-cell-invite_sent", _SENT_CELL)
        self.table.add_slot("body-cell-delivery", _DELIVERY_CELL)
        self.table.on_select(self._show_selection)

    def sort_by(self) -> tuple[str | None, bool]:
        return (None if self.sort_desc is None else "invite_sent"), bool(self.sort_desc)

    def sort_requested(self, sort_by: str | None, descending: bool) -> None:
        self.sort_desc = descending if sort_by else None

    def selected_ids(self) -> list[int]:
        return [row["id"] for row in self.table.selected]

    def _show_selection(self, _event: Any = None) -> None:
        selected = len(self.table.selected)
        if selected:
            text = counted(
                ngettext("{n} address selected", "{n} addresses selected", selected), selected
            )
        else:
            text = counted(
                ngettext("{n} address pending", "{n} addresses pending", self.total), self.total
            )
        self.summary.set_text(text)
        self.resend.set_enabled(selected > 0)
        self.cancel.set_enabled(selected > 0)

    async def fetch(self, offset: int, limit: int) -> PendingPage:
        search = (self.search.value or "").strip()
        return await runtime.call(pending.list_pending, self.sort_desc, offset, limit, search)

    def table_row(self, row: PendingRow) -> dict[str, Any]:
        return _row(row)

    def loaded(self) -> None:
        self._show_selection()

    async def search_changed(self) -> None:
        self.page = 1
        self.table.selected = []
        await self.load()

    async def resend_to(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        result = await runtime.call(pending.resend_to_selected, runtime.settings(), ids, self.actor)
        self._report(
            result,
            lambda n: counted(ngettext("{n} invitation sent", "{n} invitations sent", n), n),
        )

    async def cancel_invites(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        question = counted(
            ngettext(
                "Cancel the invitation of {n} address?",
                "Cancel the invitations of {n} addresses?",
                len(ids),
            ),
            len(ids),
        )
        agreed = await confirm(
            question,
            _("Cancel invites"),
            detail=_(
                "Their links stop working at once. Login stays on, so you can send a new "
                "invitation later."
            ),
            cancel_label=_("Keep invites"),
            danger=True,
        )
        if not agreed:
            return
        result = await runtime.call(pending.cancel_invites_to_selected, ids, self.actor)
        self._report(
            result,
            lambda n: counted(
                ngettext("{n} invitation cancelled", "{n} invitations cancelled", n), n
            ),
        )

    def _report(self, result: BatchResult, done_text: Callable[[int], str]) -> None:
        """Say what the action did and what it skipped, and why (never silently, R22)."""
        text = describe_result(result, done_text)
        problems = bool(result.skipped)
        self.result_text.set_text(text)
        self.result_icon.name = "warning" if problems else "check_circle"
        self.result_icon.classes(replace="text-amber-700" if problems else "text-green-700")
        self.result_details.clear()
        with self.result_details:
            for skipped in result.skipped[:SHOWN_SKIPPED]:
                ui.label(f"{skipped.address}: {skipped.describe(_)}").classes(
                    "text-sm text-gray-800"
                )
            if len(result.skipped) > SHOWN_SKIPPED:
                more = len(result.skipped) - SHOWN_SKIPPED
                ui.label(counted(ngettext("and {n} more", "and {n} more", more), more))
        self.result.set_visibility(True)
        toast(text, warning=problems)
        self.table.selected = []
        self._show_selection()


async def _actor(member_id: int) -> Actor:
    member = await runtime.call(staff.get_member, member_id)
    return Actor(name=member.name, member_id=member_id)


@staff_page(PENDING_PATH)
async def pending_page() -> None:
    ui.page_title(_("Pending activation") + " · " + runtime.settings().firm_name)
    async with clients_layout("pending") as member_id:
        view = PendingList(member_id, await _actor(member_id))
        await view.build()
