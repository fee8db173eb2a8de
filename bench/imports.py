"""CSV import (R32) of `size` rows (about size/2 new accounts, two addresses each, one row in a
hundred failing), without invitations: from the file's bytes to the job done, against
`portal-ui seed` writing as many accounts; the re-import of the same file (nothing changes)
against that file's preview; the preview alone; and the peak memory of a process running the
import against the same process importing one row."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import time
from pathlib import Path

from bench.harness import (
    STAFF_EMAIL,
    Figure,
    Goal,
    Run,
    clean_env,
    db_url,
    median,
    seed_db,
)
from portal_ui import import_files, imports, staff
from portal_ui.config import Settings, load_settings
from portal_ui.db import make_engine, session_scope

NAME = "import"
IMPORT_GOAL = Goal("< 60 s, ratio <= 3", limit=60, ratio=3)
REIMPORT_GOAL = Goal("< 30 s", limit=30)
PREVIEW_GOAL = Goal("< 10 s", limit=10)
MEMORY_GOAL = Goal("+ < 200 MB", limit=200)


def build_file(rows: int) -> bytes:
    """An export as a CRM gives it: Account ID, names, two addresses per account, a phone on
    some, Login and Notify; and one failing row (a broken address) per hundred."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["Account ID", "Account name", "Contact name", "Email", "Phone", "Login",
                     "Notify", "Assigned to"])  # fmt: skip
    for n in range(rows - rows // 100):
        account = n // 2
        writer.writerow([
            f"EXT-{account}", f"Company {account} Ltd", f"Person {n}", f"person{n}@example.com",
            "+1 555 010 2231" if n % 3 == 0 else "", "yes" if n % 2 else "no", "yes",
            STAFF_EMAIL if n % 5 == 0 else "",
        ])  # fmt: skip
    for n in range(rows // 100):
        writer.writerow(["", f"Broken {n}", "Nobody", f"broken{n}@@example", "", "yes", "", ""])
    return buffer.getvalue().encode("utf-8")


def settings_for(database: Path) -> Settings:
    return load_settings(
        database_url=db_url(database), base_url="http://127.0.0.1:8080", secret="bench-secret",
        smtp_host="127.0.0.1",
    )  # fmt: skip


def import_once(database: Path, data: bytes) -> tuple[float, dict]:
    """Upload to job done: read the bytes, queue the job, run it; seconds and the report."""
    settings = settings_for(database)
    engine = make_engine(settings.database_url)
    try:
        start = time.perf_counter()
        file = import_files.read_csv(data, "bench.csv")
        options = imports.ImportOptions(import_files.guess_mapping(file.headers))
        with session_scope(engine) as session:
            member = staff.member_by_email(session, STAFF_EMAIL)
            assert member is not None and member.id is not None
            job = imports.start_job(session, member.id, file, options)
        report = imports.run_job(engine, settings, job.id or 0)
        return time.perf_counter() - start, report
    finally:
        engine.dispose()


def preview_once(database: Path, data: bytes) -> tuple[float, imports.ImportCounts]:
    settings = settings_for(database)
    engine = make_engine(settings.database_url)
    try:
        start = time.perf_counter()
        file = import_files.read_csv(data, "bench.csv")
        options = imports.ImportOptions(import_files.guess_mapping(file.headers))
        with session_scope(engine) as session:
            found = imports.preview(session, settings, file, options)
        return time.perf_counter() - start, found
    finally:
        engine.dispose()


# VmHWM, not ru_maxrss: Linux keeps the parent's ru_maxrss across fork and exec.
_PEAK = """
import sys
from portal_ui.cli import main
code = main(sys.argv[1:])
status = open("/proc/self/status").read().splitlines()
print(next(line for line in status if line.startswith("VmHWM:")).split()[1], file=sys.stderr)
sys.exit(code)
"""


def peak_mb(database: Path, csv_path: Path) -> float:
    """Peak RSS (MB) of `portal-ui import FILE --as E` in a process of its own."""
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, "import", str(csv_path), "--as", STAFF_EMAIL],
        env=clean_env(PORTAL_DATABASE_URL=db_url(database), PORTAL_SECRET="bench-secret",
                      PORTAL_SMTP_HOST="127.0.0.1"),  # fmt: skip
        cwd=database.parent, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"portal-ui import failed: {done.stderr.strip()[-2000:]}")
    return int(done.stderr.strip().splitlines()[-1]) / 1024


def run(run: Run) -> list[Figure]:
    rows = run.size
    data = build_file(rows)
    imported, seeded, again, previews, fresh_previews = [], [], [], [], []
    report: dict = {}
    counts = imports.ImportCounts()
    for n in range(run.heavy_repeat):
        database = run.empty(f"import-{n}")
        seconds, counts = preview_once(database, data)
        fresh_previews.append(seconds)
        seconds, report = import_once(database, data)
        imported.append(seconds)
        seconds, unchanged = preview_once(database, data)
        previews.append(seconds)
        assert unchanged.changes == 0, unchanged
        seconds, _ = import_once(database, data)
        again.append(seconds)
        seeded.append(seed_db(run.workdir / f"import-floor-{n}.db", max(rows // 2, 1)))
    csv_path = run.workdir / "bench.csv"
    csv_path.write_bytes(data)
    one_row = run.workdir / "one.csv"
    one_row.write_bytes(b"Account name,Email\r\nOne Ltd,one@example.com\r\n")
    peak = peak_mb(run.empty("import-memory"), csv_path)
    idle = peak_mb(run.empty("import-idle"), one_row)
    note = (
        f"{rows:,} rows: {report.get('accounts_created', 0):,} accounts, "
        f"{report.get('addresses_created', 0):,} addresses, "
        f"{report.get('failures_total', 0):,} failing rows"
    )
    return [
        Figure(
            NAME, f"import {rows:,} rows without invitations, upload to job done", "s",
            IMPORT_GOAL, value=median(imported), floor=median(seeded),
            floor_name=f"portal-ui seed --accounts {max(rows // 2, 1):,}",
            samples=len(imported), note=note,
        ),
        Figure(
            NAME, "re-import of the same file (nothing changes)", "s", REIMPORT_GOAL,
            value=median(again), floor=median(previews), floor_name="the same file's preview",
            samples=len(again),
        ),
        Figure(
            NAME, f"preview of {rows:,} rows with {counts.failures_total:,} failing", "s",
            PREVIEW_GOAL, value=median(fresh_previews), samples=len(fresh_previews),
            note="no floor; the page previews in a worker thread",
        ),
        Figure(
            NAME, "peak memory of the import over a one-row import", "MB", MEMORY_GOAL,
            value=peak - idle, samples=1,
            note=f"portal-ui import in a process of its own: {peak:.0f} MB against {idle:.0f} MB",
        ),
    ]  # fmt: skip
