"""`python -m bench [--size N] [--only NAME,...]`: run the benchmarks, print each figure beside
its floor, write bench/results/latest.md. Exits 0 even when a goal is missed (marked MISSED);
exits 1 only when a benchmark could not run at all (ERROR)."""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import signal
import sys
import time
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench.harness import Figure, Goal, Run, copy_db

# One module per figure, in the order they run (seed first: the others use its database).
BENCHMARKS: dict[str, str] = {
    "seed": "bench.seed",
    "list-page": "bench.list_page",
    "list-browser": "bench.list_browser",
    "open-page": "bench.open_page",
    "bulk-edit": "bench.bulk_edit",
    "import": "bench.imports",
    "delivery": "bench.delivery",
    "activations": "bench.activations",
    "memory": "bench.memory",
}
RESULTS = Path(__file__).resolve().parent / "results" / "latest.md"


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--size", type=int, default=100_000, help="accounts (default 100000)")
    parser.add_argument(
        "--only", default="", help=f"comma-separated benchmarks among: {', '.join(BENCHMARKS)}"
    )
    parser.add_argument(
        "--repeat", type=int, default=20, help="timed repetitions per figure (default 20)"
    )
    parser.add_argument(
        "--heavy-repeat",
        type=int,
        default=3,
        help="repetitions of the figures that take seconds each: seed, bulk edit, delivery "
        "(default 3)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="the Markdown table")
    parser.add_argument(
        "--database",
        type=Path,
        default=None,
        help="an SQLite file already seeded with --size accounts, used (on a copy) instead of "
        "seeding one; saves time when running one benchmark repeatedly",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run (the tests' one): fewer views, pages, sessions and activations",
    )
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}")
    if args.size < 100:
        parser.error("--size must be at least 100")
    args.chosen = chosen or list(BENCHMARKS)
    return args


def _stop(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds, so servers and the browser are stopped


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    signal.signal(signal.SIGTERM, _stop)
    figures: list[Figure] = []
    started = time.perf_counter()
    with Run.open(args.size, args.repeat, args.heavy_repeat, args.quick) as run:
        if args.database is not None:
            run.adopt(copy_db(args.database, run.workdir / "given.db"))
        for name in args.chosen:
            print(f"[bench] {name} ...", file=sys.stderr, flush=True)
            begun = time.perf_counter()
            try:
                module = importlib.import_module(BENCHMARKS[name])
                figures.extend(module.run(run))
            except Exception as error:  # one benchmark's failure never stops the others
                traceback.print_exc()
                figures.append(Figure(name, name, "", Goal(""), error=_one_line(error)))
            print(
                f"[bench] {name} done in {time.perf_counter() - begun:.1f} s",
                file=sys.stderr,
                flush=True,
            )
    table = render(figures)
    header = describe_machine(args, time.perf_counter() - started)
    print(header + "\n" + table)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(f"# Benchmark results\n\n{header}\n{table}")
    return 1 if any(figure.error for figure in figures) else 0


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return f"{type(error).__name__}: {text}"[:300]


def _number(value: float | None) -> str:
    if value is None:
        return ""
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def render(figures: list[Figure]) -> str:
    """The Markdown table: one line per figure, with its floor, ratio, goal and verdict."""
    lines = [
        "| figure | value | floor | ratio | goal | n | result |",
        "|---|---:|---:|---:|---|---:|---|",
    ]
    for figure in figures:
        unit = f" {figure.unit}" if figure.unit else ""
        value = _number(figure.value) + (unit if figure.value is not None else "")
        floor = ""
        if figure.floor is not None:
            floor = f"{_number(figure.floor)}{unit} ({figure.floor_name})"
        ratio = f"{figure.ratio:.2f}" if figure.ratio is not None else ""
        result = figure.verdict
        if figure.error:
            result += f": {figure.error}"
        elif figure.missed:
            result += f": {figure.missed}"
        if figure.note and not figure.error:
            result += f" ({figure.note})"
        lines.append(
            f"| {figure.name} | {value} | {floor} | {ratio} | {figure.goal.text} "
            f"| {figure.samples or ''} | {result} |"
        )
    missed = [figure for figure in figures if figure.verdict in ("MISSED", "ERROR")]
    lines.append("")
    lines.append(f"{len(figures) - len(missed)} of {len(figures)} figures meet their goal.")
    return "\n".join(lines) + "\n"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def describe_machine(args: argparse.Namespace, seconds: float) -> str:
    """When and where the figures were measured."""
    moment = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"{moment}; {os.cpu_count()} cores ({_cpu_model()}), {_memory_gb():.0f} GB; "
        f"Python {platform.python_version()}, SQLite {_sqlite_version()}; "
        f"--size {args.size}, {args.repeat} repetitions after a warm-up "
        f"({args.heavy_repeat} for heavy figures); took {seconds:.0f} s.\n"
    )


def _sqlite_version() -> str:
    import sqlite3

    return sqlite3.sqlite_version


if __name__ == "__main__":
    sys.exit(main())
