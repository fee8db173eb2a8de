"""The browser floors: a NiceGUI app with no database serving the accounts list's own table
(built by pages/accounts.py's AccountsList: same columns, cell slots and props) whose rows are
already in memory.

`/static`: a static page holding the first page's rows. `/memory?view=K`: the table in
server-side mode; a page change answers from rows prepared before the measurement, with none
of the page's own work (loading state, URL, selection summary) and no database.
Run by the benchmarks as `python -m bench.floor_app` with PORTAL_PORT and BENCH_FLOOR_DATA
(a JSON file) in the environment."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from nicegui import ui

from pages.accounts import AccountsList
from portal_ui.accounts import AccountFilter

DATA: dict[str, Any] = {}


class MemoryTable(AccountsList):
    """The accounts list's table alone; a page change takes its rows from memory."""

    def __init__(self, sort: str, total: int, pages: dict[str, list[dict]], start: int) -> None:
        super().__init__(0, AccountFilter(), sort, False)
        self.pages, self.total, self.page = pages, total, start
        self.build_table(hidden=[])
        self.table.rows = pages.get(str(start), [])
        self.table.pagination = self.pagination()

    def requested(self, event: Any) -> None:  # type: ignore[override]
        wanted = event.args.get("pagination", event.args) or {}
        self.page = int(wanted.get("page") or 1)
        self.table.rows = self.pages.get(str(self.page), [])
        self.table.pagination = self.pagination()


@ui.page("/static")
def static_page() -> None:
    ui.label("Accounts").classes("text-2xl font-semibold")
    rows = DATA["static"]["rows"]
    MemoryTable("name", len(rows), {"1": rows}, 1)


@ui.page("/memory")
def memory_page(view: str = "0") -> None:
    prepared = DATA["views"][view]
    MemoryTable(prepared["sortBy"], prepared["total"], prepared["pages"], prepared["start"])


def main() -> None:
    DATA.update(json.loads(Path(os.environ["BENCH_FLOOR_DATA"]).read_text()))
    ui.run(
        host="127.0.0.1",
        port=int(os.environ["PORTAL_PORT"]),
        reload=False,
        show=False,
        show_welcome_message=False,
        language="en-US",
    )


if __name__ in {"__main__", "__mp_main__"}:
    main()
