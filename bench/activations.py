"""50 clients activating at once (Argon2id, R17) through the real /activate page while a team
member pages the accounts list: the paging's click-to-rows latency under that load, against
the same paging with the activation pages open and idle. The event loop must never block."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import or_, select
from sqlmodel import Session, col

from bench.browser import click_ms, jump, new_context
from bench.bulk_edit import settings_for
from bench.harness import (
    STAFF_EMAIL,
    Figure,
    Goal,
    Run,
    db_url,
    median,
    portal_server,
    sign_in,
    smtp_server,
)
from bench.views import VIEWS, page_rows
from portal_ui import invitations, staff
from portal_ui.activity import Actor
from portal_ui.clock import utcnow
from portal_ui.db import make_engine
from portal_ui.models import AccessRow, Contact, ContactEmail, PortalUser

NAME = "activations"
GOAL = Goal("latency ratio <= 1.5", ratio=1.5)
ACTIVATIONS = 50
PASSWORD = "Velvet-Orchard-5821"
WARMUP = 2
TIMEOUT = 240.0

_CLICK_ACTIVATE = """() => {
  const button = [...document.querySelectorAll('button')]
    .find((b) => b.textContent.trim() === 'Activate');
  if (!button) throw new Error('no Activate button');
  button.click();
}"""


# Each pressed Activate button shows a spinning wheel until its client is signed in. Fifty
# headless tabs redrawing that animation in software took both cores of the bench machine
# (top: no idle CPU, nearly all of it Chromium's renderers, the server about 5%), so the figure
# measured the browser; real clients draw their wheel on their own machines. Stilled here; the
# pages' own work (their socket, the submit, the redirect) stays.
_STILL = "*, *::before, *::after { animation: none !important; transition: none !important; }"


def invite(database: Path, count: int) -> tuple[list[int], list[str]]:
    """Send `count` Pending addresses a fresh invitation through the service; their email ids
    and tokens. Their outbox messages are marked sent, so no delivery runs meanwhile."""
    settings = settings_for(database)
    engine = make_engine(db_url(database))
    try:
        with Session(engine, expire_on_commit=False) as session:
            member = staff.member_by_email(session, STAFF_EMAIL)
            assert member is not None
            actor = Actor(name=member.name, member_id=member.id)
            # English-speaking contacts: the bench finds the fields by their English labels.
            english = or_(col(Contact.language).is_(None), Contact.language == "en")
            pending = (
                select(ContactEmail.id)
                .join(AccessRow, AccessRow.email_id == ContactEmail.id)
                .join(Contact, Contact.id == ContactEmail.contact_id)
                .where(col(AccessRow.login), col(ContactEmail.invalid_reason).is_(None), english)
                .where(
                    ~select(PortalUser.id).where(PortalUser.email_id == ContactEmail.id).exists()
                )
                .distinct()
                .order_by(ContactEmail.id)
                .limit(count)
            )
            email_ids = list(session.scalars(pending))
            if len(email_ids) < count:
                raise RuntimeError(f"only {len(email_ids)} Pending addresses to invite")
            tokens = []
            for email_id in email_ids:
                issued = invitations.send_invitation(session, settings, email_id, actor)
                tokens.append(issued.link.rsplit("/", 1)[1])
            session.commit()
    finally:
        engine.dispose()
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE outbox_message SET state = 'sent'")
    return email_ids, tokens


def activated(database: Path, email_ids: list[int]) -> int:
    with sqlite3.connect(database) as connection:
        marks = ",".join("?" * len(email_ids))
        query = f"SELECT count(*) FROM portal_user WHERE email_id IN ({marks})"
        return int(connection.execute(query, email_ids).fetchone()[0])


def first_ids(database: Path) -> tuple[int, int]:
    """The first account ids of pages 1 and 2 by name: the staff page clicks between them."""
    engine = make_engine(db_url(database))
    try:
        with Session(engine) as session:
            now = utcnow()
            return page_rows(session, VIEWS[0], 0, now)[0].id, page_rows(session, VIEWS[0], 1, now)[
                0
            ].id
    finally:
        engine.dispose()


def open_activation_pages(context: Any, url: str, tokens: list[str]) -> list[Any]:
    """One page per invitation with both password fields filled, ready to submit."""
    # After activating, the client lands on /portal: a tiny stand-in keeps the browser's own
    # work out of the measurement.
    context.route("**/portal", lambda route: route.fulfill(body="portal", content_type="text/html"))
    pages = []
    for token in tokens:
        page = context.new_page()
        page.goto(f"{url}/activate/{token}")
        page.add_style_tag(content=_STILL)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label("Confirm password").fill(PASSWORD)
        pages.append(page)
    return pages


def page_back_and_forth(staff_page: Any, ids: tuple[int, int], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        samples.append(click_ms(staff_page, "next", ids[1]))
        samples.append(click_ms(staff_page, "prev", ids[0]))
    return samples


class Probe:
    """Asks the server for a static file every 50 ms from a thread: the longest answer shows
    how long its event loop was kept from serving anything."""

    def __init__(self, url: str) -> None:
        self.url = url + "/favicon.ico"
        self.answers: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            start = time.perf_counter()
            with contextlib.suppress(OSError), urllib.request.urlopen(self.url, timeout=300) as r:
                r.read()
            self.answers.append(time.perf_counter() - start)
            self._stop.wait(0.05)

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def longest(self) -> float:
        return max(self.answers, default=0.0)


class Paging:
    """A team member clicking next, previous, next... on the accounts list. A click that fails
    because the page lost its connection and reloaded is counted, not timed."""

    def __init__(self, page: Any, ids: tuple[int, int]) -> None:
        self.page, self.ids = page, ids
        self.samples: list[float] = []
        self.reloads = 0
        self._forward = True

    def click(self, deadline: float) -> None:
        direction, expected = ("next", self.ids[1]) if self._forward else ("prev", self.ids[0])
        try:
            self.samples.append(click_ms(self.page, direction, expected, wait_s=TIMEOUT))
            self._forward = not self._forward
        except PlaywrightError:
            self.reloads += 1
            self._back_on_page_one(deadline)

    def _back_on_page_one(self, deadline: float) -> None:
        """Wait for the reloaded page (it may reload again) to show its first page."""
        self._forward = True
        while time.perf_counter() < deadline:
            try:
                self.page.wait_for_load_state()
                jump(self.page, 1, self.ids[0], wait_s=TIMEOUT)
                return
            except PlaywrightError:
                time.sleep(0.5)


def run(run: Run) -> list[Figure]:
    count = 5 if run.quick else ACTIVATIONS
    database = run.copy("activations")
    email_ids, tokens = invite(database, count)
    ids = first_ids(database)
    with smtp_server() as (smtp_port, _), portal_server(run, database, smtp_port) as server:
        staff_context, client_context = new_context(run), new_context(run)
        try:
            staff_page = staff_context.new_page()
            sign_in(staff_page, server.url)
            jump(staff_page, 1, ids[0])
            pages = open_activation_pages(client_context, server.url, tokens)
            staff_page.bring_to_front()  # a tab in the background is throttled
            page_back_and_forth(staff_page, ids, WARMUP)
            with Probe(server.url) as idle:
                baseline = page_back_and_forth(staff_page, ids, max(run.repeat // 2, 1))
            paging = Paging(staff_page, ids)
            with Probe(server.url) as busy:
                started = time.perf_counter()
                for page in pages:
                    page.evaluate(_CLICK_ACTIVATE)
                done, deadline = 0, started + TIMEOUT
                while done < count and time.perf_counter() < deadline:
                    paging.click(deadline)
                    done = activated(database, email_ids)
                seconds = time.perf_counter() - started
        finally:
            staff_context.close()
            client_context.close()
    note = (
        f"{done} of {count} activations in {seconds:.1f} s; {len(paging.samples)} clicks "
        f"meanwhile; longest answer to a plain GET {busy.longest:.2f} s "
        f"({idle.longest:.2f} s without activations)"
    )
    problems = []
    if done < count:
        problems.append(f"only {done} of {count} activations finished in {TIMEOUT:.0f} s")
    if paging.reloads:
        problems.append(f"the staff page lost its connection and reloaded {paging.reloads} times")
    return [
        Figure(
            NAME, f"paging while {count} clients activate", "ms", GOAL,
            value=median(paging.samples) if paging.samples else None,
            floor=median(baseline), floor_name="no activations", samples=len(paging.samples),
            note=note, missed="; ".join(problems),
        )
    ]  # fmt: skip
