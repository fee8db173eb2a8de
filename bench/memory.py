"""Server memory: peak RSS (VmHWM) of a real `portal-ui serve` over the seeded database with
ten staff sessions open on the accounts list, each having paged through it; against the same
server and sessions over an empty database."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from bench.browser import click_ms, new_context
from bench.harness import (
    Figure,
    Goal,
    Run,
    Server,
    db_url,
    median,
    portal_server,
    sign_in,
    smtp_server,
)
from bench.views import VIEWS, page_rows
from portal_ui.clock import utcnow
from portal_ui.db import make_engine

NAME = "memory"
GOAL = Goal("< 300 MB", limit=300)
SESSIONS = 10
PAGES = 3  # page changes per session


def page_ids(database: Path) -> list[int]:
    """The first account id of the first pages by name (what each session pages through)."""
    engine = make_engine(db_url(database))
    try:
        with Session(engine) as session:
            now = utcnow()
            return [
                rows[0].id
                for number in range(PAGES + 1)
                if (rows := page_rows(session, VIEWS[0], number, now))
            ]
    finally:
        engine.dispose()


def peak_with_sessions(run: Run, database: Path, sessions: int) -> float:
    """Start a server, open `sessions` signed-in staff sessions that page the list, and
    return the server's peak RSS in MB."""
    ids = page_ids(database)
    with smtp_server() as (smtp_port, _), portal_server(run, database, smtp_port) as server:
        contexts = []
        try:
            for _ in range(sessions):
                context = new_context(run)
                contexts.append(context)
                _open_and_page(server, context, ids)
            return server.peak_rss_mb()
        finally:
            for context in contexts:
                context.close()


def _open_and_page(server: Server, context, ids: list[int]) -> None:  # noqa: ANN001
    page = context.new_page()
    sign_in(page, server.url)
    page.wait_for_selector(".accounts-table")
    for expected in ids[1:]:
        click_ms(page, "next", expected)


def run(run: Run) -> list[Figure]:
    sessions = 2 if run.quick else SESSIONS
    empty = run.empty("memory-empty")
    values, floors = [], []
    for _ in range(run.heavy_repeat):
        values.append(peak_with_sessions(run, run.seeded(), sessions))
        floors.append(peak_with_sessions(run, empty, sessions))
    return [
        Figure(
            NAME, f"server peak RSS, {run.size:,} accounts, {sessions} staff sessions", "MB",
            GOAL, value=median(values), floor=median(floors), floor_name="empty database",
            samples=len(values),
        )
    ]  # fmt: skip
