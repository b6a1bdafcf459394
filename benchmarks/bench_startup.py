"""How long each everyday command takes on the demo project, against ``import pandas``.

Run from the repository root (``make bench`` runs it too)::

    .venv/bin/python benchmarks/bench_startup.py [--repeat 5] [--json FILE]

A report on a 56-document project is mostly start-up: Python, pandas, qcode's own modules,
then a few milliseconds of SQL. Every report needs pandas, so ``python -c "import pandas"`` is
the floor; the targets say how far above it a command may be:

* ``report frequencies``, ``quotes``, ``crosstab``: at most 1.5 x the floor;
* ``explain`` of one segment: at most 2 x;
* ``tag`` of the unchanged demo folder (every file skipped by its fingerprint): at most 2 x.

Each command runs in a fresh process, ``--repeat`` times, and the fastest wall time is kept
(the usual guard against a shared machine's noise). The demo project is tagged once into a
temporary database first, from the repository root so ``qcode.yaml`` applies as in
``make demo``. Nothing downloads.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SURVEY = "data/survey/synthetic-respondents.csv"

#: (name, arguments after ``qcode``, the most a command may take as a multiple of the floor)
TARGETS: dict[str, float] = {
    "report frequencies": 1.5,
    "quotes": 1.5,
    "crosstab": 1.5,
    "explain": 2.0,
    "tag (unchanged)": 2.0,
}


def qcode_command() -> list[str]:
    """``python -m qcode`` of the interpreter running this script (the project's .venv)."""
    return [sys.executable, "-m", "qcode"]


def fastest(command: list[str], repeat: int) -> float:
    """The fastest wall time of ``repeat`` runs of ``command`` in the repository root; a
    command that fails stops the benchmark with its own message."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()}")
        best = min(best, elapsed)
    return best


def coded_segment(database: Path) -> tuple[str, int]:
    """A document and segment of the demo that has a rule coding, for ``explain``."""
    with sqlite3.connect(database) as conn:
        row = conn.execute(
            "SELECT document_id, segment_idx FROM codings WHERE source = 'rule' "
            "ORDER BY document_id, segment_idx LIMIT 1"
        ).fetchone()
    if row is None:
        sys.exit(f"{database}: the demo project has no rule codings to explain")
    return str(row[0]), int(row[1])


def commands(database: Path) -> dict[str, list[str]]:
    """Every measured command with its arguments."""
    qcode = qcode_command()
    db = ["--db", str(database)]
    document, segment = coded_segment(database)
    return {
        "--version": [*qcode, "--version"],
        "report frequencies": [*qcode, "report", "frequencies", *db],
        "quotes": [*qcode, "quotes", *db],
        "crosstab": [*qcode, "crosstab", *db, "--survey", SURVEY],
        "explain": [*qcode, "explain", document, str(segment), *db],
        "tag (unchanged)": [*qcode, "tag", "transcripts/", *db],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeat", type=int, default=5, help="runs per command; the fastest counts"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    os.environ.setdefault("NO_COLOR", "1")

    with tempfile.TemporaryDirectory(prefix="qcode-startup-") as folder:
        database = Path(folder) / "demo.db"
        tagged = subprocess.run(
            [*qcode_command(), "tag", "transcripts/", "--db", str(database)],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        if tagged.returncode != 0:
            sys.exit(f"tagging the demo failed: {tagged.stderr.strip()}")
        floor = fastest([sys.executable, "-c", "import pandas"], args.repeat)
        figures = {"floor (import pandas)": floor}
        for name, command in commands(database).items():
            figures[name] = fastest(command, args.repeat)

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, fastest of {args.repeat} runs")
    print(f"{'command':<24}{'seconds':>9}{'x floor':>9}{'target':>9}  verdict")
    rows = []
    for name, seconds in figures.items():
        ratio = seconds / floor
        target = TARGETS.get(name)
        verdict = "" if target is None else ("met" if ratio <= target else "missed")
        shown_target = f"{target:.1f}" if target is not None else ""
        print(f"{name:<24}{seconds:>9.3f}{ratio:>9.2f}{shown_target:>9}  {verdict}")
        rows.append(
            {
                "command": name,
                "seconds": round(seconds, 4),
                "ratio": round(ratio, 3),
                "target": target,
                "verdict": verdict or None,
            }
        )
    if args.json:
        args.json.write_text(
            json.dumps({"repeat": args.repeat, "rows": rows}, indent=2) + "\n", encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
