"""Opening /clients/accounts signed in, from the navigation's start to the first rows on
screen, in real Chromium; against opening a static NiceGUI page holding the same table rows."""

from __future__ import annotations

from typing import Any

from bench.browser import first_rows_init, floor_app, new_context
from bench.harness import Figure, Goal, Run, median, portal_server, sign_in, smtp_server
from bench.list_browser import prepare

NAME = "open-page"
GOAL = Goal("< 1,000 ms", limit=1000)
WARMUP = 2


def first_rows_ms(page: Any, url: str) -> float:
    """Milliseconds from the start of the navigation to the first rows on screen."""
    page.goto(url, wait_until="commit")
    page.wait_for_function("window.__rowsAt !== undefined", polling=50)
    return float(page.evaluate("window.__rowsAt"))


def run(run: Run) -> list[Figure]:
    _, _, data = prepare(run)
    first_id = data["static"]["rows"][0]["id"]
    init = first_rows_init(first_id)
    values, floors = [], []
    with (
        smtp_server() as (smtp_port, _),
        portal_server(run, run.seeded(), smtp_port) as server,
        floor_app(run, data) as floor,
    ):
        context = new_context(run)
        try:
            sign_in(context.new_page(), server.url)
            page = context.new_page()
            page.add_init_script(init)
            for n in range(WARMUP + run.repeat):
                spent = first_rows_ms(page, f"{server.url}/clients/accounts")
                floor_spent = first_rows_ms(page, f"{floor.url}/static")
                if n >= WARMUP:
                    values.append(spent)
                    floors.append(floor_spent)
        finally:
            context.close()
    return [
        Figure(
            NAME, "open /clients/accounts signed in, to the first rows", "ms", GOAL,
            value=median(values), floor=median(floors), floor_name="static NiceGUI page",
            samples=len(values),
        )
    ]  # fmt: skip
