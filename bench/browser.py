"""Measuring in real Chromium: page-change clicks on the accounts table timed with
performance.now() in the page, and the floor app that serves the same table from memory."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.harness import Run, Server, clean_env, free_port, start_process

TABLE = ".accounts-table"
VIEWPORT = {"width": 1440, "height": 900}

# Resolves once the table's first row links to `expected` (an account's profile path), and
# the frame showing it has been painted.
_ARRIVAL = """
const table = () => document.querySelector('TABLE');
const firstLink = () => {
  const link = table() && table().querySelector('tbody tr a[href]');
  return link ? link.getAttribute('href') : null;
};
const until = (test, what) => new Promise((resolve, reject) => {
  const timer = setTimeout(() => {
    observer.disconnect();
    reject(new Error(what + ' never came; the first row is ' + firstLink()));
  }, waitMs);
  const check = () => {
    if (!test()) return;
    observer.disconnect();
    clearTimeout(timer);
    requestAnimationFrame(() => resolve());
  };
  const observer = new MutationObserver(check);
  observer.observe(document, {subtree: true, childList: true, characterData: true,
                             attributes: true});
  check();
});
const arrival = (expected) => until(() => firstLink() === expected, 'rows of ' + expected);
""".replace("TABLE", TABLE)

CLICK_JS = (
    "async ([direction, expected, waitMs]) => {"
    + _ARRIVAL
    + """
  const label = direction === 'next' ? 'Next page' : 'Previous page';
  const button = table().querySelector(`.q-table__bottom button[aria-label="${label}"]`);
  if (!button) throw new Error('no ' + direction + ' page button');
  const started = performance.now();
  const arrived = arrival(expected);
  button.click();
  await arrived;
  return performance.now() - started;
}"""
)

JUMP_JS = (
    "async ([number, expected, waitMs]) => {"
    + _ARRIVAL
    + """
  await until(() => firstLink() !== null, 'the table');
  if (firstLink() === expected) return;
  const arrived = arrival(expected);
  getElement(table()).$refs.qRef.setPagination({page: number});
  await arrived;
}"""
)

# Installed before any page script: records when the first row (of EXPECTED) is on screen.
_FIRST_ROWS_INIT = (
    "(() => { const expected = EXPECTED; const waitMs = 60000;"
    + _ARRIVAL
    + """
  arrival(expected).then(() => { window.__rowsAt = performance.now(); });
})();"""
)


def first_rows_init(account_id: int) -> str:
    """An init script setting window.__rowsAt when this account's row is first on screen."""
    return _FIRST_ROWS_INIT.replace("EXPECTED", json.dumps(profile_href(account_id)))


def profile_href(account_id: int) -> str:
    return f"/clients/{account_id}/info"


def click_ms(page: Any, direction: str, expected_id: int, wait_s: float = 30) -> float:
    """Click the table's next or previous page button; ms until the expected rows show (an
    error after `wait_s` seconds)."""
    arguments = [direction, profile_href(expected_id), wait_s * 1000]
    return float(page.evaluate(CLICK_JS, arguments))


def jump(page: Any, number: int, expected_id: int, wait_s: float = 30) -> None:
    """Go to a page (1-based) without a click, to stand next to the page to measure."""
    page.evaluate(JUMP_JS, [number, profile_href(expected_id), wait_s * 1000])


def new_context(run: Run) -> Any:
    context = run.browser().new_context(viewport=VIEWPORT, locale="en-US")
    context.set_default_timeout(30_000)
    return context


@contextmanager
def floor_app(run: Run, data: dict[str, Any]) -> Iterator[Server]:
    """The floor app (bench/floor_app.py) serving `data` on a free loopback port."""
    path = run.workdir / f"floor-{free_port()}.json"
    path.write_text(json.dumps(data))
    env = clean_env(PORTAL_PORT=str(free_port()), BENCH_FLOOR_DATA=str(path))
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    server = start_process(
        [sys.executable, "-m", "bench.floor_app"], env, run.workdir, "/static", "floor"
    )
    try:
        yield server
    finally:
        server.stop()
