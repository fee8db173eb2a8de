"""What every benchmark shares: figures and their goals, timing, the seeded database, a real
`portal-ui serve` subprocess, SMTP servers on loopback, and headless Chromium."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "bench" / "results"  # git-ignored
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
STAFF_EMAIL = "bench@firm.example"
STAFF_NAME = "Bench Staff"
STAFF_PASSWORD = "Steady-Lantern-2048"
SEED = 7
T = TypeVar("T")


@dataclass(frozen=True)
class Goal:
    """What a figure must meet: an absolute bound and/or a bound on its ratio to the floor.
    `higher_is_better` flips both bounds (throughputs)."""

    text: str
    limit: float | None = None
    ratio: float | None = None
    higher_is_better: bool = False

    def met(self, value: float, ratio: float | None) -> bool:
        better = (lambda a, b: a >= b) if self.higher_is_better else (lambda a, b: a <= b)
        if self.limit is not None and not better(value, self.limit):
            return False
        return not (self.ratio is not None and ratio is not None and not better(ratio, self.ratio))


@dataclass
class Figure:
    """One line of the table: a measured value beside its floor, measured in the same run."""

    benchmark: str
    name: str
    unit: str
    goal: Goal
    value: float | None = None
    floor: float | None = None
    floor_name: str = ""
    samples: int = 0
    note: str = ""
    error: str = ""
    # Why the figure misses its goal whatever its value (e.g. a page lost its connection).
    missed: str = ""

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.floor:
            return None
        return self.value / self.floor

    @property
    def verdict(self) -> str:
        if self.error:
            return "ERROR"
        if self.missed:
            return "MISSED"
        if self.value is None:
            return "n/a"
        return "ok" if self.goal.met(self.value, self.ratio) else "MISSED"


def log(message: str) -> None:
    """Progress on standard error (the table goes to standard output)."""
    print(f"[bench]   {message}", file=sys.stderr, flush=True)


def screenshot(page: Any, name: str) -> Path:
    """Keep a picture of a browser page that went wrong, beside the results."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    try:
        page.screenshot(path=str(path), full_page=True)
    except Exception as error:  # the page may be gone; the original error matters more
        log(f"no screenshot: {error}")
    return path


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def timed(action: Callable[[], Any]) -> float:
    """Milliseconds one call takes."""
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def repeat_ms(action: Callable[[], Any], repeat: int, warmup: int = 2) -> list[float]:
    """`repeat` timings in milliseconds after `warmup` untimed calls."""
    for _ in range(warmup):
        action()
    return [timed(action) for _ in range(repeat)]


def paired_ms(
    action: Callable[[], Any], floor: Callable[[], Any], repeat: int, warmup: int = 2
) -> tuple[list[float], list[float]]:
    """Time an action and its floor alternately (so that both see the same machine load)."""
    for _ in range(warmup):
        action()
        floor()
    values, floors = [], []
    for _ in range(repeat):
        values.append(timed(action))
        floors.append(timed(floor))
    return values, floors


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """asyncio.run in a thread of its own: Playwright's sync API keeps an event loop running
    in the main thread once a browser benchmark has run."""
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(asyncio.run, coroutine).result()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def portal_command(*args: str) -> list[str]:
    """The `portal-ui` console script beside this interpreter (or the module if it is absent)."""
    script = Path(sys.executable).with_name("portal-ui")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "portal_ui.cli", *args]


def clean_env(**portal: str) -> dict[str, str]:
    """The environment of a subprocess: ours without PYTEST_CURRENT_TEST (NiceGUI would think
    it runs a screen test) and without any PORTAL_* of the caller, plus `portal`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "PYTEST_CURRENT_TEST" and not key.startswith("PORTAL_")
    }
    env.update(portal)
    return env


def db_url(path: Path) -> str:
    return f"sqlite:///{path}"


def checkpoint(path: Path) -> None:
    """Fold the WAL into the main file, so a plain file copy is the whole database."""
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def copy_db(source: Path, target: Path) -> Path:
    checkpoint(source)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, target)
    return target


def seed_db(path: Path, accounts: int, seed: int = SEED) -> float:
    """Run `portal-ui seed --accounts N --seed S` into a fresh file; returns its seconds."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    env = clean_env(PORTAL_DATABASE_URL=db_url(path), PORTAL_SECRET="bench-secret")
    start = time.perf_counter()
    done = subprocess.run(
        portal_command("seed", "--accounts", str(accounts), "--seed", str(seed)),
        env=env,
        cwd=path.parent,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"portal-ui seed failed: {done.stderr.strip()[-2000:]}")
    return seconds


def add_staff(path: Path) -> None:
    """The team member the browser benchmarks sign in as (idempotent)."""
    from sqlmodel import Session

    from portal_ui import staff
    from portal_ui.db import make_engine, migrate

    engine = make_engine(db_url(path))
    try:
        migrate(engine)
        with Session(engine) as session:
            if staff.member_by_email(session, STAFF_EMAIL) is None:
                staff.create_team_member(session, STAFF_EMAIL, STAFF_NAME, STAFF_PASSWORD)
                session.commit()
    finally:
        engine.dispose()


@dataclass
class Run:
    """One `python -m bench` run: its options, a scratch folder, and what benchmarks share
    (the seeded database, the browser), created on first use and closed at the end."""

    size: int
    repeat: int
    heavy_repeat: int
    workdir: Path
    # A smoke run (tests): fewer views, pages, sessions and activations.
    quick: bool = False
    seed_seconds: list[float] = field(default_factory=list)
    _seeded: Path | None = None
    _playwright: Any = None
    _browser: Any = None

    @classmethod
    @contextmanager
    def open(cls, size: int, repeat: int, heavy_repeat: int, quick: bool = False) -> Iterator[Run]:
        with tempfile.TemporaryDirectory(prefix="portal-bench-") as folder:
            workdir = Path(folder)
            run = cls(size, repeat, heavy_repeat, workdir, quick)
            try:
                yield run
            finally:
                run.close()

    def seeded(self) -> Path:
        """The database seeded with `size` accounts and the bench team member (read-only use:
        benchmarks that change data work on a copy)."""
        if self._seeded is None:
            path = self.workdir / "seeded.db"
            self.seed_seconds.append(seed_db(path, self.size))
            self.adopt(path)
        assert self._seeded is not None
        return self._seeded

    def adopt(self, path: Path) -> None:
        """Use this freshly seeded database as the one the other benchmarks share."""
        add_staff(path)
        checkpoint(path)
        self._seeded = path

    def copy(self, name: str) -> Path:
        return copy_db(self.seeded(), self.workdir / f"{name}.db")

    def empty(self, name: str) -> Path:
        """A migrated database with only the bench team member."""
        path = self.workdir / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        add_staff(path)
        return path

    def browser(self) -> Any:
        if self._browser is None:
            from playwright.sync_api import sync_playwright

            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
        return self._browser

    def close(self) -> None:
        if self._browser is not None:
            self._browser.close()
            self._playwright.stop()
            self._browser = self._playwright = None


@dataclass
class Server:
    """A process serving HTTP on 127.0.0.1 (a real `portal-ui serve`, or a floor app)."""

    url: str
    process: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def peak_rss_mb(self) -> float:
        """VmHWM: the most resident memory the process has had (MB)."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024

    def log_tail(self, lines: int = 30) -> str:
        """The end of the server's output, to tell why a page went wrong."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when the benchmark process dies (Linux), so that
    no server outlives an interrupted run."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def spawn(command: list[str], **options: Any) -> subprocess.Popen:
    return subprocess.Popen(command, preexec_fn=_die_with_parent, **options)


def start_process(
    command: list[str], env: dict[str, str], cwd: Path, ready_path: str, name: str
) -> Server:
    """Start a web server and wait until `ready_path` answers 200."""
    port = int(env["PORTAL_PORT"])
    log = cwd / f"{name}-{port}.log"
    process = spawn(command, env=env, cwd=cwd, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(server.url + ready_path, timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{name} did not answer:\n{log.read_text()[-3000:]}")


@contextmanager
def portal_server(run: Run, database: Path, smtp_port: int, **env: str) -> Iterator[Server]:
    """A real `portal-ui serve` on a free loopback port over `database`, mail to `smtp_port`."""
    port = free_port()
    portal_env = clean_env(
        PORTAL_DATABASE_URL=db_url(database),
        PORTAL_HOST="127.0.0.1",
        PORTAL_PORT=str(port),
        PORTAL_SMTP_HOST="127.0.0.1",
        PORTAL_SMTP_PORT=str(smtp_port),
        PORTAL_SECRET="bench-secret",
        **env,
    )
    server = start_process(portal_command("serve"), portal_env, run.workdir, "/login", "serve")
    try:
        yield server
    finally:
        server.stop()


class CountingHandler:
    """An aiosmtpd handler that accepts every message and counts them."""

    def __init__(self) -> None:
        self.count = 0
        self.bytes = 0
        self.changed = threading.Condition()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd API)
        with self.changed:
            self.count += 1
            self.bytes += len(envelope.content)
            self.changed.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.changed:
            while self.count < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.changed.wait(remaining)
        return True


@contextmanager
def smtp_server() -> Iterator[tuple[int, CountingHandler]]:
    """A real aiosmtpd server on a free loopback port."""
    from aiosmtpd.controller import Controller

    handler = CountingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, data_size_limit=0)
    controller.start()
    try:
        yield port, handler
    finally:
        controller.stop()


def sign_in(page: Any, url: str, next_path: str = "/clients/accounts") -> None:
    """Sign the bench team member in through the real /login page."""
    page.goto(f"{url}/login?next={next_path}")
    page.get_by_label("Email").fill(STAFF_EMAIL)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # A predicate, not a glob: "**/clients/accounts*" also matches /login?next=/clients/accounts.
    wanted = urlsplit(next_path).path
    page.wait_for_url(lambda url: urlsplit(url).path == wanted)
