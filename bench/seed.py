"""`portal-ui seed --accounts N`: wall time of the real command into a fresh SQLite file."""

from __future__ import annotations

from pathlib import Path

from bench.harness import Figure, Goal, Run, median, seed_db

NAME = "seed"
GOAL = Goal("< 30 s", limit=30)


def run(run: Run) -> list[Figure]:
    seconds = []
    for n in range(run.heavy_repeat):
        path = run.workdir / f"seed-{n}.db"
        seconds.append(seed_db(path, run.size))
        if n < run.heavy_repeat - 1:
            _remove(path)
    run.adopt(path)  # the last one is the database the other benchmarks use
    return [
        Figure(
            NAME, f"portal-ui seed --accounts {run.size:,}", "s", GOAL,
            value=median(seconds), samples=len(seconds), note="no floor",
        )
    ]  # fmt: skip


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
