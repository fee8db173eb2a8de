"""`python -m bench` keeps working (bench/README.md): a tiny run of the benchmarks, so that they
do not rot between two `make bench`. Figures are not judged here, only that each one is
measured beside its floor and the table is written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Its own marker (`pytest -m "not bench"` leaves it out); `make test` runs it with the rest.
pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parents[2]
# Every benchmark but the slowest browser ones; list-browser keeps a browser figure in the run.
SMOKE = ("seed", "list-page", "bulk-edit", "delivery", "list-browser")


def run_bench(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, str]:
    output = tmp_path / "latest.md"
    # A `portal-ui serve` started below must not believe it runs inside a pytest screen test.
    env = {key: value for key, value in os.environ.items() if key != "PYTEST_CURRENT_TEST"}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--output", str(output), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    return done, output.read_text() if output.exists() else ""


def test_each_benchmark_measures_its_figure_beside_its_floor_at_a_tiny_size(tmp_path):
    # Issue 5: every figure printed beside its floor, measured in the same run, with the ratio.
    done, table = run_bench(
        tmp_path, "--size", "300", "--repeat", "2", "--heavy-repeat", "1", "--quick",
        "--only", ",".join(SMOKE),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    assert "ERROR" not in table, table
    lines = {line.split("|")[1].strip(): line for line in table.splitlines() if line.count("|") > 6}
    expected = (
        "portal-ui seed --accounts 300",
        "accounts list: by name, first page",
        "accounts list: by name, last page",
        "bulk edit: Login on + Send invitations, until all are in the outbox",
        "outbox delivery to aiosmtpd on loopback",
        "click to rows: by name, first page",
    )
    for figure in expected:
        assert figure in lines, f"{figure!r} missing from:\n{table}"
    for figure in expected[1:]:
        value, floor, ratio = (cell.strip() for cell in lines[figure].split("|")[2:5])
        assert value and floor and ratio, f"no value, floor or ratio: {lines[figure]}"
    assert all(lines[figure] in done.stdout for figure in expected)  # printed as well


def test_an_unknown_benchmark_name_is_refused_with_one_clear_line(tmp_path):
    done, table = run_bench(tmp_path, "--only", "list-pages")
    assert done.returncode == 2
    assert "unknown benchmark(s) list-pages" in done.stderr
    assert table == ""
