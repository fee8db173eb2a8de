"""The accounts list pages end to end in real Chromium: from the click on the table's next or
previous page button to the new rows on screen, on a real `portal-ui serve`; against the same
click on the same table whose rows are already in the server's memory (bench/floor_app.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlmodel import Session

from bench.browser import click_ms, floor_app, jump, new_context
from bench.harness import (
    Figure,
    Goal,
    Run,
    Server,
    db_url,
    log,
    median,
    portal_server,
    screenshot,
    sign_in,
    smtp_server,
)
from bench.views import PageOf, View, page_rows, pages_of, views
from portal_ui.clock import utcnow
from portal_ui.db import make_engine

NAME = "list-browser"
GOAL = Goal("< 150 ms, ratio <= 2", limit=150, ratio=2)
WARMUP = 2


@dataclass(frozen=True)
class Target:
    """A page to measure, reached by one click from the page next to it (1-based numbers)."""

    key: str
    page: PageOf
    start: int  # the page the click is made from
    start_first_id: int

    @property
    def number(self) -> int:
        return self.page.number + 1

    @property
    def towards(self) -> str:
        return "next" if self.start < self.number else "prev"

    @property
    def back(self) -> str:
        return "prev" if self.towards == "next" else "next"


def url_query(view: View) -> str:
    query = view.filter.to_query()
    if view.sort != "name":
        query["sort"] = view.sort
    return "?" + urlencode(query) if query else ""


def prepare(run: Run) -> tuple[list[Target], list[PageOf], dict[str, Any]]:
    """The pages to measure, those with a single page (nothing to click), and the floor
    app's rows: for each target, its page and the one the click starts from."""
    from pages.accounts import account_cells  # the page's own row formatting

    engine = make_engine(db_url(run.seeded()))
    now = utcnow()
    targets, single, floor_views = [], [], {}
    try:
        with Session(engine) as session:
            for index, view in enumerate(views(run.quick)):
                for page in pages_of(session, view, now, run.quick):
                    if page.pages < 2:
                        single.append(page)
                        continue
                    start = page.number - 1 if page.number > 0 else page.number + 1
                    start_rows = page_rows(session, view, start, now)
                    key = f"{index}-{page.where}"
                    targets.append(Target(key, page, start + 1, start_rows[0].id))
                    target_rows = page_rows(session, view, page.number, now)
                    floor_views[key] = {
                        "sortBy": view.sort,
                        "total": page.total,
                        "start": start + 1,
                        "pages": {
                            str(start + 1): [account_cells(row) for row in start_rows],
                            str(page.number + 1): [account_cells(row) for row in target_rows],
                        },
                    }
            first = page_rows(session, views(run.quick)[0], 0, now)
    finally:
        engine.dispose()
    data = {"views": floor_views, "static": {"rows": [account_cells(row) for row in first]}}
    return targets, single, data


def clicks(page: Any, target: Target, repeat: int) -> list[float]:
    """Click to the target page and back, `repeat` times after a warm-up; the times of the
    clicks that land on the target."""
    samples = []
    for n in range(WARMUP + repeat):
        spent = click_ms(page, target.towards, target.page.ids[0])
        click_ms(page, target.back, target.start_first_id)
        if n >= WARMUP:
            samples.append(spent)
    return samples


def measure(
    page: Any, floor_page: Any, url: str, floor_url: str, target: Target, run: Run
) -> tuple[list[float], list[float]]:
    """The target's clicks on the real page, then on the floor's."""
    current = page
    try:
        # Chromium throttles a tab in the background (animation frames, timers): measure in
        # the front one.
        page.bring_to_front()
        page.goto(url + "/clients/accounts" + url_query(target.page.view))
        jump(page, target.start, target.start_first_id)
        values = clicks(page, target, run.repeat)
        current = floor_page
        floor_page.bring_to_front()
        floor_page.goto(f"{floor_url}/memory?view={target.key}")
        jump(floor_page, target.start, target.start_first_id)
        return values, clicks(floor_page, target, run.repeat)
    except Exception as error:
        picture = screenshot(current, f"{NAME}-error")
        raise RuntimeError(f"{target.page.label}: {error} (screenshot {picture})") from error


def measure_twice(
    page: Any, floor_page: Any, server: Server, floor_url: str, target: Target, run: Run
) -> tuple[list[float], list[float]]:
    """measure(), once more if a page went wrong (a busy machine can drop a websocket and
    make NiceGUI reload the page); a second failure is the figure's error."""
    try:
        return measure(page, floor_page, server.url, floor_url, target, run)
    except Exception as error:
        log(f"{error}; measuring this page again\n{server.log_tail()}")
    return measure(page, floor_page, server.url, floor_url, target, run)


def run(run: Run) -> list[Figure]:
    targets, single, data = prepare(run)
    figures = []
    with (
        smtp_server() as (smtp_port, _),
        portal_server(run, run.seeded(), smtp_port) as server,
        floor_app(run, data) as floor,
    ):
        context = new_context(run)
        try:
            page = context.new_page()
            sign_in(page, server.url)
            floor_page = context.new_page()
            for target in targets:
                label = f"click to rows: {target.page.label}"
                try:
                    values, floors = measure_twice(page, floor_page, server, floor.url, target, run)
                except Exception as error:  # the other pages are still worth measuring
                    figures.append(Figure(NAME, label, "ms", GOAL, error=str(error)[:300]))
                    continue
                log(f"{target.page.label}: {median(values):.0f} ms, floor {median(floors):.0f} ms")
                figures.append(
                    Figure(
                        NAME, label, "ms", GOAL, value=median(values), floor=median(floors),
                        floor_name="rows in memory", samples=len(values),
                    )
                )  # fmt: skip
        finally:
            context.close()
    for page_of in single:
        figures.append(
            Figure(NAME, f"click to rows: {page_of.label}", "ms", GOAL, note="one page only")
        )
    return figures
