"""/activity: the activity feed (R30), paged by the database, filterable by account and by actor
(team member or client), kept current without polling."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from nicegui import events, ui

from components.access_row import actor_text
from components.formats import full_moment
from portal_ui import activity, activity_view
from portal_ui.activity_view import Actor, FeedRow
from portal_ui.events import Change
from portal_ui.i18n import N_, _
from portal_ui.inputs import parse_id
from web import live, runtime
from web.layout import staff_layout
from web.not_found import staff_not_found
from web.sessions import staff_page

ROWS_PER_PAGE = 25

# The account cell links to the profile; {{ }} escapes, so no text is read as HTML.
ACCOUNT_CELL = """
    <q-td :props="props">
      <a v-if="props.row.account_id" :href="'/clients/' + props.row.account_id + '/info'"
         class="text-blue-800 hover:underline">{{ props.row.account }}</a>
    </q-td>
"""


def _row(row: FeedRow) -> dict[str, Any]:
    event = row.event
    actor = actor_text(event)
    if event.actor_portal_user_id is not None:
        actor = _("{name} (client)").format(name=actor)
    return {
        "id": event.id,
        "at": full_moment(event.at),
        "actor": actor,
        "account": row.account_name,
        "account_id": event.account_id,
        "address": event.address,
        "what": activity.describe_event(event, _),
    }


class ActivityPage:
    def __init__(self, account_id: int | None, actor: Actor | None, choices: tuple) -> None:
        self.account_id, self.actor = account_id, actor
        accounts, actors = choices
        with ui.row().classes("w-full items-end gap-4"):
            self.account_select = self._filter(_("Account"), accounts, account_id, "account")
            self.account_select.on("input-value", self._search_accounts)
            self.actor_select = self._filter(
                _("Actor (team member or client)"), actors, actor.key if actor else None, "actor"
            )
            self.actor_select.on("input-value", self._search_actors)
            ui.button(_("Clear filters"), on_click=self.clear).props(
                "flat no-caps color=primary"
            ).mark("clear-filters")
        columns = [
            {"name": "at", "label": _("Time"), "field": "at", "align": "left"},
            {"name": "what", "label": _("What happened"), "field": "what", "align": "left"},
            {"name": "account", "label": _("Account"), "field": "account", "align": "left"},
            {"name": "address", "label": _("Address"), "field": "address", "align": "left"},
            {"name": "actor", "label": _("Actor"), "field": "actor", "align": "left"},
        ]
        pagination = {"page": 1, "rowsPerPage": ROWS_PER_PAGE, "rowsNumber": 0}
        self.table = ui.table(columns=columns, rows=[], row_key="id", pagination=pagination)
        self.table.props("flat bordered wrap-cells").classes("w-full").mark("activity-table")
        self.table.props["rows-per-page-options"] = [25, 50, 100]
        self.table.props["no-data-label"] = _("No activity matches.")
        self.table.add_slot("body-cell-account", ACCOUNT_CELL)
        self.table.on("request", self._request)

    def _filter(self, label: str, options: dict, value: Any, marker: str) -> ui.select:
        select = ui.select(
            options,
            label=label,
            value=value,
            with_input=True,
            clearable=True,
            on_change=self._filters_changed,
        )
        return select.props("outlined dense").classes("w-72").mark(f"filter-{marker}")

    async def _search_accounts(self, event: events.GenericEventArguments) -> None:
        found = await runtime.call(activity_view.account_choices, str(event.args or ""))
        self._set_options(self.account_select, found)

    async def _search_actors(self, event: events.GenericEventArguments) -> None:
        found = await runtime.call(activity_view.actor_choices, str(event.args or ""))
        self._set_options(self.actor_select, found)

    @staticmethod
    def _set_options(select: ui.select, found: dict) -> None:
        current = select.value
        if current is not None and current not in found:
            found[current] = select.options.get(current, str(current))  # keep the chosen one
        select.set_options(found, value=current)

    async def _filters_changed(self) -> None:
        self.account_id = self.account_select.value
        self.actor = Actor.parse(self.actor_select.value)
        query = {}
        if self.account_id is not None:
            query["account"] = str(self.account_id)
        if self.actor is not None:
            query["actor"] = self.actor.key
        ui.navigate.history.replace("/activity" + (f"?{urlencode(query)}" if query else ""))
        await self.load(page=1)

    async def clear(self) -> None:
        self.account_select.value = None
        self.actor_select.value = None

    async def _request(self, event: events.GenericEventArguments) -> None:
        wanted = event.args.get("pagination", {})
        await self.load(page=int(wanted.get("page", 1)), per_page=wanted.get("rowsPerPage"))

    async def load(self, page: int | None = None, per_page: int | None = None) -> None:
        pagination = dict(self.table.pagination)
        page = page or pagination["page"]
        per_page = int(per_page or pagination["rowsPerPage"] or ROWS_PER_PAGE)
        result = await runtime.call(
            activity_view.feed_page,
            account_id=self.account_id,
            actor=self.actor,
            offset=(page - 1) * per_page,
            limit=per_page,
        )
        self.table.rows = [_row(row) for row in result.rows]
        self.table.pagination = {
            **pagination,
            "page": page,
            "rowsPerPage": per_page,
            "rowsNumber": result.total,
        }

    def wants(self, change: Change) -> bool:
        if change.topic != "activity":
            return False
        return (
            self.account_id is None
            or not change.account_ids
            or (self.account_id in change.account_ids)
        )

    async def refresh(self) -> None:
        await self.load()


@staff_page("/activity")
async def activity_page(account: str | None = None, actor: str | None = None) -> None:
    account_id, chosen_actor = parse_id(account), Actor.parse(actor)
    if (account and account_id is None) or (actor and chosen_actor is None):
        # R38: an id that is malformed or out of range names nothing.
        await staff_not_found(back=(N_("Back to activity"), "/activity"), active="activity")
        return
    ui.page_title(_("Activity") + " · " + runtime.settings().firm_name)
    choices = await runtime.call(activity_view.filter_choices, account_id, chosen_actor)
    if account_id not in choices[0]:
        account_id = None  # an account that does not exist (any more): no filter
    async with staff_layout(_("Activity"), "activity"):
        page = ActivityPage(account_id, chosen_actor, choices)
        await page.load(page=1)
        live.on_change(page.wants, page.refresh)
