"""End-to-end fixtures: a real `portal-ui serve` subprocess with its own database, a real
aiosmtpd server collecting its mail, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from sqlalchemy import Engine
from sqlmodel import Session

from portal_ui import staff
from portal_ui.config import Settings, load_settings
from portal_ui.db import make_engine, migrate
from tests.databases import Databases

CHROMIUM = "/usr/bin/chromium"
STAFF_EMAIL = "erin@firm.test"
STAFF_NAME = "Erin Staff"
STAFF_PASSWORD = "Quiet-Harbour-42"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
LINK = re.compile(r"https?://\S+/activate/[A-Za-z0-9_\-]+")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Collector:
    """aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.changed = threading.Condition()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd API)
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.changed:
            self.messages.append(message)  # type: ignore[arg-type]
            self.changed.notify_all()
        return "250 OK"


@dataclass
class MailServer:
    """A real SMTP server on loopback; `wait_for` returns the messages one address received."""

    port: int
    collector: _Collector
    controller: Controller

    @property
    def messages(self) -> list[EmailMessage]:
        return list(self.collector.messages)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    def wait_for(self, address: str, count: int = 1, timeout: float = 15) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        with self.collector.changed:
            while len(self.to(address)) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no {count} message(s) for {address} in {timeout} s")
                self.collector.changed.wait(remaining)
        return self.to(address)


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part else ""


def activation_link(message: EmailMessage) -> str:
    found = LINK.search(text_of(message))
    assert found, "the email carries no activation link"
    return found.group(0)


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    collector = _Collector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    yield MailServer(port, collector, controller)
    controller.stop()


@dataclass
class Portal:
    """A running `portal-ui serve` and what a test needs to drive it."""

    url: str
    settings: Settings
    engine: Engine
    mail: MailServer
    process: subprocess.Popen
    log: Path
    env: dict[str, str] = field(default_factory=dict)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def sign_in_staff(self, page: Page, next_path: str = "/clients/accounts") -> None:
        page.goto(f"{self.url}/login?next={next_path}")
        page.get_by_label("Email").fill(STAFF_EMAIL)
        page.get_by_label("Password").fill(STAFF_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        # A glob on the path would also match /login?next=<path>: wait for the path itself.
        target = next_path.split("?")[0]
        page.wait_for_url(lambda url: urlsplit(url).path == target)


Arrange = Callable[[Session, Settings], object]


@pytest.fixture
def start_portal(
    tmp_path: Path, mail_server: MailServer, databases: Databases
) -> Iterator[Callable[..., Portal]]:
    """`start_portal(arrange=fn, **env)`: arrange data with the services (fn(session, settings)),
    then start the server on a free port and wait until it answers. Its database is new and
    migrated by the test (R39: SQLite, then PostgreSQL), the same one for every start."""
    started: list[Portal] = []
    database_url = databases.url(schema=False, name="e2e.db")

    def start(arrange: Arrange | None = None, **extra_env: str) -> Portal:
        port = free_port()
        env = {
            key: value
            for key, value in os.environ.items()
            if key != "PYTEST_CURRENT_TEST" and not key.startswith("PORTAL_")
        }
        env.update(
            PORTAL_DATABASE_URL=database_url,
            PORTAL_DATA_DIR=str(tmp_path),
            PORTAL_HOST="127.0.0.1",
            PORTAL_PORT=str(port),
            PORTAL_SMTP_HOST="127.0.0.1",
            PORTAL_SMTP_PORT=str(mail_server.port),
            PORTAL_SECRET="e2e-secret",
            PORTAL_PASSWORD_HASH_COST=os.environ["PORTAL_PASSWORD_HASH_COST"],  # tests/conftest.py
            PORTAL_FIRM_NAME="Harbour & Co Accountants",
            PORTAL_MAIL_FROM="portal@harbour.test",
        )
        env.update(extra_env)
        settings = load_settings(
            **{k[7:].lower(): v for k, v in env.items() if k.startswith("PORTAL_")}
        )
        engine = make_engine(settings.database_url)
        migrate(engine)
        with Session(engine, expire_on_commit=False) as session:
            staff.create_team_member(session, STAFF_EMAIL, STAFF_NAME, STAFF_PASSWORD)
            if arrange is not None:
                arrange(session, settings)
            session.commit()
        log = tmp_path / f"serve-{port}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "portal_ui.cli", "serve"],
            env=env,
            cwd=tmp_path,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        portal = Portal(
            f"http://127.0.0.1:{port}", settings, engine, mail_server, process, log, env
        )
        started.append(portal)
        _wait_until_up(portal)
        return portal

    yield start
    for portal in started:
        portal.process.terminate()
        try:
            portal.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            portal.process.kill()
        portal.engine.dispose()


def _wait_until_up(portal: Portal, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if portal.process.poll() is not None:
            raise AssertionError(f"portal-ui serve exited:\n{portal.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{portal.url}/login", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"portal-ui serve did not answer:\n{portal.log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module scope: sync Playwright keeps an event loop running in this thread while it is
    # open, which would break the asyncio tests (unit, ui) that run after the e2e ones.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def screenshot(page: Page, name: str) -> Path:
    """Keep a picture of the page in test-output/screenshots/ for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
