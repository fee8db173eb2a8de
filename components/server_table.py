"""A list whose table the database pages and sorts (R24): Quasar's server-side ui.table with
multiple selection, named checkboxes, and only the latest page load shown."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

from nicegui import ui

from portal_ui.i18n import _

ROWS_PER_PAGE = 25
ROWS_PER_PAGE_OPTIONS = [10, 25, 50, 100]
# Seconds a page may take before the table shows its loading bar.
LOADING_DELAY = 0.2

NO_DATA = """
<div class="w-full flex items-center justify-center gap-2 py-8 text-gray-700">
  <q-icon name="search_off" size="24px" aria-hidden="true"></q-icon>
  <span>{{ props.message }}</span>
</div>
"""


class Found(Protocol):
    """One page of a list service's answer: the rows and how many match in all."""

    @property
    def total(self) -> int: ...

    @property
    def rows(self) -> Sequence[Any]: ...


def selection_labels() -> dict[str, str]:
    """The column properties `label_selection` reads, in the reader's language."""
    return {"select_label": _("Select {name}"), "select_all_label": _("Select all on this page")}


def label_selection(table: ui.table, column: str, field: str) -> None:
    """Give the selection checkboxes names ("Select Harbour Bakery", "Select all on this page")
    from the translated `select_label` and `select_all_label` of the table's `column`."""
    names = f"props.colsMap.{column}"
    table.add_slot(
        "header-selection",
        f'<q-checkbox v-model="props.selected" :color="props.color" '
        f':aria-label="{names}.select_all_label"></q-checkbox>',
    )
    table.add_slot(
        "body-selection",
        f'<q-checkbox v-model="props.selected" :color="props.color" :aria-label="'
        f"{names}.select_label.replace('{{name}}', props.row.{field})\"></q-checkbox>",
    )


class ServerTableList:
    """A list view over a server-side table: the page, its size and the total live here; a
    subclass fetches a page, turns its rows into table rows and keeps its own sort order."""

    table: ui.table

    def __init__(self) -> None:
        self.page = 1
        self.rows_per_page = ROWS_PER_PAGE
        self.total = 0
        self.loads = 0  # counts page loads, so only the latest one is shown

    # -- what a subclass says

    async def fetch(self, offset: int, limit: int) -> Found:
        """The rows of the current page, from the database."""
        raise NotImplementedError

    def table_row(self, row: Any) -> dict[str, Any]:
        """One fetched row as the table's cells read it."""
        raise NotImplementedError

    def sort_by(self) -> tuple[str | None, bool]:
        """The sorted column (None: the service's own order) and whether it is descending."""
        raise NotImplementedError

    def sort_requested(self, sort_by: str | None, descending: bool) -> None:
        """Quasar asks for another sort order."""
        raise NotImplementedError

    def loaded(self) -> None:
        """A page is shown: bring the selection and its summary up to date."""

    # -- building

    def make_table(
        self,
        columns: list[dict[str, Any]],
        *,
        selection_column: str,
        no_data_label: str,
        rows_per_page_label: str,
        classes: str = "w-full",
    ) -> ui.table:
        """The table, empty until `load`; its rows are selectable by their "id"."""
        self.table = ui.table(
            columns=columns,
            # Cells wrap (long names), headers do not: the sort arrow would drop a line.
            column_defaults={"headerClasses": "whitespace-nowrap"},
            rows=[],
            row_key="id",
            selection="multiple",
            pagination=self.pagination(),
        ).classes(classes)
        self.table.props("flat bordered binary-state-sort wrap-cells color=primary")
        self.table.props["no-data-label"] = no_data_label
        self.table.props["rows-per-page-label"] = rows_per_page_label
        self.table.props["rows-per-page-options"] = ROWS_PER_PAGE_OPTIONS
        # The owner's own summary counts the selection.
        self.table.props[":selected-rows-label"] = "() => ''"
        self.table.add_slot("no-data", NO_DATA)
        label_selection(self.table, selection_column, selection_column)
        self.table.on("request", self.requested, ["pagination"])
        self.table.on_pagination_change(self._keep_pagination)
        return self.table

    def pagination(self) -> dict[str, Any]:
        sort_by, descending = self.sort_by()
        return {
            "sortBy": sort_by,
            "descending": descending,
            "page": self.page,
            "rowsPerPage": self.rows_per_page,
            "rowsNumber": self.total,
        }

    # -- loading

    async def load(self) -> None:
        """Fetch the current page from the database (paging is the database's, R24)."""
        self.loads += 1
        mine = self.loads
        # Show the loading bar only if the page is slow to come: set at once, it would send
        # (and Vue would draw) the whole table one extra time for every page change.
        slow = asyncio.get_running_loop().call_later(LOADING_DELAY, self._show_loading, mine)
        try:
            found = await self.fetch((self.page - 1) * self.rows_per_page, self.rows_per_page)
        finally:
            slow.cancel()
        if mine != self.loads:
            return  # a newer request (sort, page, filter, live change) answers instead
        last_page = max(1, -(-found.total // self.rows_per_page))
        if self.page > last_page:
            self.page = last_page
            await self.load()
            return
        self.total = found.total
        self.table.rows = [self.table_row(row) for row in found.rows]
        self.table.pagination = self.pagination()
        self.loaded()
        if self.table.props.get("loading"):
            self.table.props["loading"] = False

    def _keep_pagination(self, _event: Any) -> None:
        """The page shown is the server's. Quasar reports its pagination once as the table
        mounts, and that report, sent when the socket connects, can come after a page change
        clicked at once: it would put back the old page number under the new rows."""
        self.table.pagination = self.pagination()

    def _show_loading(self, load: int) -> None:
        if load == self.loads:
            self.table.props["loading"] = True

    async def requested(self, event: Any) -> None:
        """Quasar asks for another page, page size or sort order (server-side mode)."""
        wanted = event.args.get("pagination", event.args) or {}
        self.sort_requested(wanted.get("sortBy"), bool(wanted.get("descending")))
        self.page = int(wanted.get("page") or 1)
        self.rows_per_page = int(wanted.get("rowsPerPage") or ROWS_PER_PAGE) or ROWS_PER_PAGE
        await self.load()
