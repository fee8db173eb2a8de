"""Accounts list pages as the service returns them (list_accounts), against the same rows by
one hand-written SQL query on the same database."""

from __future__ import annotations

from sqlmodel import Session

from bench.harness import Figure, Goal, Run, db_url, median, paired_ms
from bench.views import floor_connection, floor_page, pages_of, service_page, views
from portal_ui.clock import utcnow
from portal_ui.db import make_engine

NAME = "list-page"
GOAL = Goal("< 50 ms, ratio <= 1.5", limit=50, ratio=1.5)


def run(run: Run) -> list[Figure]:
    database = run.seeded()
    engine = make_engine(db_url(database))
    connection = floor_connection(database)
    now = utcnow()
    figures = []
    try:
        with Session(engine) as session:
            pages = [
                p for view in views(run.quick) for p in pages_of(session, view, now, run.quick)
            ]
        for page in pages:
            # The service as a page calls it: a fresh session (pooled connection) per page.
            def service(page=page) -> list[str]:
                with Session(engine) as session:
                    return service_page(session, page, now)

            def floor(page=page) -> list[str]:
                return floor_page(connection, page, now)

            if service() != floor():
                raise AssertionError(f"{page.label}: the floor query returns other rows")
            value, base = paired_ms(service, floor, run.repeat)
            figures.append(
                Figure(
                    NAME, f"accounts list: {page.label}", "ms", GOAL, value=median(value),
                    floor=median(base), floor_name="one SQL query", samples=len(value),
                )
            )  # fmt: skip
    finally:
        connection.close()
        engine.dispose()
    return figures
