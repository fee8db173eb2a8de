"""/clients/accounts: the accounts list (R7, R23, R24) with filters in the URL, selection across
pages, the column chooser and the bulk "Edit login, notify, email sync" (R12, R13)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from nicegui import ui

from components import bulk_edit_dialog
from components.checked_fields import search_input
from components.feedback import counted
from components.formats import full_moment, short_date
from components.new_account_dialog import new_account_button
from components.server_table import ROWS_PER_PAGE as ROWS_PER_PAGE
from components.server_table import ServerTableList, selection_labels
from components.status_badge import row_values, status_cell_template
from portal_ui import accounts, staff
from portal_ui.accounts import (
    COLUMNS,
    LAST_LOGIN_LABELS,
    SORTABLE,
    AccountFilter,
    AccountPage,
    AccountRow,
)
from portal_ui.errors import DomainError
from portal_ui.i18n import _, ngettext
from portal_ui.inputs import parse_id
from portal_ui.models import AccountStatus
from web import accounts as web_accounts
from web import bulk_jobs, live, runtime
from web.layout import ACCOUNTS_PATH, clients_layout
from web.not_found import staff_not_found
from web.sessions import staff_page

ANY = ""  # the "any" choice of a filter select


# ---------------------------------------------------------------- the accounts tab


def _columns() -> list[dict[str, Any]]:
    """R23's columns; the selection column is Quasar's own."""
    center = {"align": "center", "headerClasses": "text-center whitespace-nowrap"}
    on_off = {"on_label": _("On"), "off_label": _("Off")}
    labels = {column.key: _(column.label) for column in COLUMNS}
    return [
        {
            "name": "name",
            "label": _("Name"),
            "field": "name",
            "sortable": True,
            "align": "left",
            "required": True,
            "test_label": _("Test client"),
            **selection_labels(),
        },
        {
            "name": "status",
            "label": labels["status"],
            "field": "status_label",
            "sortable": True,
            "align": "left",
        },
        {
            "name": "login",
            "label": labels["login"],
            "field": "login",
            "sortable": True,
            **center,
            **on_off,
        },
        {
            "name": "notify",
            "label": labels["notify"],
            "field": "notify",
            "sortable": True,
            **center,
            **on_off,
        },
        {
            "name": "email_sync",
            "label": labels["email_sync"],
            "field": "email_sync",
            "sortable": True,
            **center,
            **on_off,
        },
        {
            "name": "contacts",
            "label": labels["contacts"],
            "field": "contacts",
            "sortable": True,
            **center,
        },
        {
            "name": "last_login",
            "label": labels["last_login"],
            "field": "last_login",
            "sortable": True,
            "align": "left",
        },
        {"name": "assigned", "label": labels["assigned"], "field": "assigned", "align": "left"},
    ]


_NAME_CELL = """
<q-td :props="props">
  <a :href="'/clients/' + props.row.id + '/info'"
     class="font-medium text-blue-800 no-underline hover:underline focus:underline">{{
     props.row.name }}</a>
  <span v-if="props.row.is_test_client"
        class="ml-2 rounded px-1.5 py-0.5 text-xs font-medium bg-blue-50 text-blue-900
               ring-1 ring-inset ring-blue-200">{{ props.col.test_label }}</span>
</q-td>
"""

_ON_OFF_CELL = """
<q-td :props="props">
  <span v-if="props.value" role="img" :aria-label="props.col.on_label"
        :title="props.col.on_label" class="inline-flex text-green-700">
    <q-icon name="check_circle" size="20px" aria-hidden="true"></q-icon></span>
  <span v-else role="img" :aria-label="props.col.off_label" :title="props.col.off_label"
        class="text-gray-700">–</span>
</q-td>
"""

_LAST_LOGIN_CELL = """
<q-td :props="props" class="whitespace-nowrap"><span :title="props.row.last_login_title"
  :class="props.row.last_login_at ? 'text-gray-900' : 'text-gray-700'">{{ props.value }}</span>
</q-td>
"""


def account_cells(row: AccountRow) -> dict[str, Any]:
    """One account as the table's cells and slots read it."""
    if row.last_login_at:
        last_login = short_date(row.last_login_at)
    else:
        last_login = _("Never") if row.has_login else "—"
    return {
        "id": row.id,
        "name": row.name,
        "is_test_client": row.is_test_client,
        **row_values(row.status),
        "login": row.has_login,
        "notify": row.has_notify,
        "email_sync": row.has_email_sync,
        "contacts": row.contact_count,
        "last_login": last_login,
        "last_login_at": bool(row.last_login_at),
        "last_login_title": full_moment(row.last_login_at) if row.last_login_at else "",
        "assigned": ", ".join(row.assigned),
    }


def _sort_from_query(request: Request) -> tuple[str, bool]:
    sort = request.query_params.get("sort", "name")
    return (sort if sort in SORTABLE else "name"), request.query_params.get("desc") == "1"


class AccountsList(ServerTableList):
    """The Accounts tab: its state (filter, sort, page, selection) and its elements."""

    def __init__(self, member_id: int, filter: AccountFilter, sort: str, descending: bool) -> None:
        super().__init__()
        self.member_id = member_id
        self.filter = filter
        self.sort = sort
        self.descending = descending
        # "Select all N matching": every id of the filter, minus the rows unticked since.
        self.all_matching: list[int] | None = None
        self.excluded: set[int] = set()

    # -- building

    async def build(self) -> None:
        members = await runtime.call(staff.list_members)
        hidden = await runtime.call(accounts.hidden_columns, self.member_id)
        self._filters([(m.id, m.name) for m in members])
        with ui.row().classes("w-full items-center gap-3 no-wrap"):
            self.summary = (
                ui.label("").classes("text-sm text-gray-800").props("role=status aria-live=polite")
            )
            self.select_all = ui.button("", on_click=self.select_all_matching)
            self.select_all.props("flat dense no-caps color=primary")
            self.clear_selection = ui.button(_("Clear selection"), on_click=self.unselect)
            self.clear_selection.props("flat dense no-caps color=primary")
            ui.space()
            self._column_chooser(hidden)
            self._more_actions()
            # R32: the CSV import, its own page.
            ui.button(
                _("Import"), icon="upload_file", on_click=lambda: ui.navigate.to("/clients/import")
            ).props("outline no-caps color=primary").mark("import-accounts")
            new_account_button(web_accounts.create_account)
        self.progress = bulk_edit_dialog.BulkProgress()
        self.build_table(hidden)
        await self.load()
        live.on_change(lambda change: change.topic == "account", self.load)

    def _filters(self, members: list[tuple[int | None, str]]) -> None:
        current = self.filter
        last_login = {ANY: _("Any"), **{k: _(v) for k, v in LAST_LOGIN_LABELS.items()}}
        statuses = {ANY: _("Any"), **{s.slug: row_values(s)["status_label"] for s in AccountStatus}}
        assigned = {ANY: _("Anyone"), **{str(m_id): name for m_id, name in members}}
        test_client = {ANY: _("Any"), "yes": _("Test clients only"), "no": _("Hide test clients")}
        with ui.row().classes("w-full items-center gap-3"):
            self.search = search_input(_("Search"), value=current.search).mark("filter-search")
            self.search.props("outlined dense clearable debounce=300 type=search").classes("w-64")
            self.search.props["aria-label"] = _("Search accounts, contacts and emails")
            with self.search.add_slot("prepend"):
                ui.icon("search").classes("text-gray-700").props('aria-hidden="true"')
            self.last_login = self._select(
                _("Last login"), last_login, current.last_login or ANY, "filter-last-login"
            )
            status = current.status.slug if current.status is not None else ANY
            self.status = self._select(_("Status"), statuses, status, "filter-status")
            member = str(current.assigned_member_id or ANY)
            self.assigned = self._select(_("Assigned to"), assigned, member, "filter-assigned")
            test = {True: "yes", False: "no"}.get(current.test_client, ANY)  # type: ignore[arg-type]
            self.test_client = self._select(_("Test client"), test_client, test, "filter-test")
            self.reset = ui.button(
                _("Clear filters"), icon="filter_alt_off", on_click=self.clear_filters
            ).props("flat no-caps color=primary")
            self.reset.set_visibility(not current.is_empty)
        for element in (self.search, self.last_login, self.status, self.assigned, self.test_client):
            element.on_value_change(self.filters_changed)

    def _select(self, label: str, options: dict[str, str], value: str, marker: str) -> ui.select:
        select = ui.select(options, label=label, value=value if value in options else ANY)
        return select.props("outlined dense options-dense").classes("w-44").mark(marker)

    def _column_chooser(self, hidden: list[str]) -> None:
        with ui.button(_("Columns"), icon="view_column").props(
            "outline no-caps color=primary"
        ) as button:
            button.props("aria-haspopup=menu")
            with (
                ui.menu().props("anchor='bottom right' self='top right'"),
                ui.column().classes("p-3 gap-1"),
            ):
                ui.label(_("Show columns")).classes("text-sm font-semibold text-gray-900")
                self.column_boxes = {
                    column.key: ui.checkbox(
                        _(column.label),
                        value=column.key not in hidden,
                        on_change=self.columns_changed,
                    )
                    .props("dense")
                    .mark(f"column-{column.key}")
                    for column in COLUMNS
                }

    def _more_actions(self) -> None:
        button = ui.button(_("More actions")).props(
            "unelevated no-caps color=primary icon-right=expand_more aria-haspopup=menu"
        )
        with button, ui.menu().props("anchor='bottom right' self='top right'"):
            self.edit_item = ui.menu_item(on_click=self.open_bulk_edit).mark("bulk-edit")
            with self.edit_item, ui.item_section():
                ui.item_label(_("Edit login, notify, email sync"))
                self.edit_hint = ui.item_label(_("Select accounts first")).props("caption")
            self.edit_item.classes("text-gray-900")

    def build_table(self, hidden: list[str]) -> None:
        self.make_table(
            _columns(),
            selection_column="name",
            no_data_label=_("No accounts match these filters."),
            rows_per_page_label=_("Accounts per page:"),
            classes="w-full accounts-table",
        )
        self.table.props["visible-columns"] = self._visible(hidden)
        self.table.add_slot("body-cell-name", _NAME_CELL)
        self.table.add_slot("body-cell-status", status_cell_template())
        for name in ("login", "notify", "email_sync"):
            self.table.add_slot(f"body-cell-{name}", _ON_OFF_CELL)
        self.table.add_slot("body-cell-last_login", _LAST_LOGIN_CELL)
        self.table.on_select(self.selection_changed)

    # -- state to elements

    def sort_by(self) -> tuple[str | None, bool]:
        return self.sort, self.descending

    @staticmethod
    def _visible(hidden: list[str]) -> list[str]:
        return ["name", *(c.key for c in COLUMNS if c.key not in hidden)]

    def selected_ids(self) -> list[int]:
        if self.all_matching is not None:
            return [i for i in self.all_matching if i not in self.excluded]
        return [row["id"] for row in self.table.selected]

    def _show_selection(self) -> None:
        selected = len(self.selected_ids())
        if selected == 0:
            text = _("No accounts selected")
        else:
            text = counted(
                ngettext("{n} account selected", "{n} accounts selected", selected), selected
            )
        self.summary.set_text(text)
        self.select_all.set_text(
            counted(
                ngettext("Select all {n} matching", "Select all {n} matching", self.total),
                self.total,
            )
        )
        self.select_all.set_visibility(0 < selected < self.total)
        self.clear_selection.set_visibility(selected > 0)
        self.edit_item.set_enabled(selected > 0)
        self.edit_hint.set_visibility(selected == 0)

    def _show_filter_in_url(self) -> None:
        query = self.filter.to_query()
        if self.sort != "name":
            query["sort"] = self.sort
        if self.descending:
            query["desc"] = "1"
        ui.navigate.history.replace(ACCOUNTS_PATH + (f"?{urlencode(query)}" if query else ""))

    # -- loading

    async def fetch(self, offset: int, limit: int) -> AccountPage:
        return await runtime.call(
            accounts.list_accounts, self.filter, self.sort, self.descending, offset, limit
        )

    def table_row(self, row: AccountRow) -> dict[str, Any]:
        return account_cells(row)

    def loaded(self) -> None:
        if self.all_matching is not None:
            self.table.selected = [r for r in self.table.rows if r["id"] not in self.excluded]
        self._show_selection()

    # -- events

    def sort_requested(self, sort_by: str | None, descending: bool) -> None:
        sort = sort_by or "name"
        sort = sort if sort in SORTABLE else "name"
        if (sort, descending) == (self.sort, self.descending):
            return  # another page, same order: the URL stays (one message less per click)
        self.sort, self.descending = sort, descending
        self._show_filter_in_url()

    def selection_changed(self, _event: Any = None) -> None:
        if self.all_matching is not None:
            page_ids = {row["id"] for row in self.table.rows}
            ticked = {row["id"] for row in self.table.selected} & page_ids
            self.excluded = (self.excluded - ticked) | (page_ids - ticked)
        self._show_selection()

    async def select_all_matching(self) -> None:
        self.all_matching = await runtime.call(accounts.matching_ids, self.filter)
        self.excluded = set()
        self.table.selected = list(self.table.rows)
        self._show_selection()

    def unselect(self) -> None:
        self.all_matching = None
        self.excluded = set()
        self.table.selected = []
        self._show_selection()

    async def filters_changed(self) -> None:
        status = next((s for s in AccountStatus if s.slug == self.status.value), None)
        self.filter = AccountFilter(
            last_login=self.last_login.value or None,
            status=status,
            assigned_member_id=int(self.assigned.value) if self.assigned.value else None,
            test_client={"yes": True, "no": False}.get(self.test_client.value),
            search=(self.search.value or "").strip(),
        )
        self.reset.set_visibility(not self.filter.is_empty)
        self.page = 1
        self.unselect()  # a selection made under other filters would act on unseen accounts
        self._show_filter_in_url()
        await self.load()

    async def clear_filters(self) -> None:
        for element in (self.last_login, self.status, self.assigned, self.test_client):
            element.set_value(ANY)
        self.search.set_value("")
        await self.filters_changed()

    async def columns_changed(self) -> None:
        hidden = [key for key, box in self.column_boxes.items() if not box.value]
        self.table.props["visible-columns"] = self._visible(hidden)
        await runtime.call(accounts.save_hidden_columns, self.member_id, hidden)

    async def open_bulk_edit(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        choices = await bulk_edit_dialog.edit_access(
            len(ids), lambda chosen: bulk_jobs.preview(ids, chosen)
        )
        if choices is None:
            return
        try:
            await bulk_jobs.start(self.member_id, ids, choices, self.progress)
        except DomainError as refused:  # R38: e.g. a message over the limit
            ui.notify(refused.describe(_), type="negative", multi_line=True)
            return
        self.unselect()


@staff_page(ACCOUNTS_PATH)
async def accounts_page(request: Request) -> None:
    assigned = request.query_params.get("assigned")
    if assigned and parse_id(assigned) is None:
        await staff_not_found()  # R38: a malformed or out-of-range id names nobody
        return
    sort, descending = _sort_from_query(request)
    ui.page_title(_("Accounts") + " · " + runtime.settings().firm_name)
    async with clients_layout("accounts") as member_id:
        view = AccountsList(
            member_id, AccountFilter.from_query(request.query_params), sort, descending
        )
        await view.build()
