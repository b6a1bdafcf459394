"""Ctrl-C during a parallel `qcode tag`: the run stops within two seconds, says so in one line,
prints no worker tracebacks and keeps everything already stored (issue 19)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CODEBOOK = REPO / "codebooks" / "kronoberg.yaml"
SENTENCES = [
    "Vi har ingen handlingsplan för det här, ingen har tagit fram något.",
    "Vi ringer alltid socialtjänsten först när något känns fel.",
    "Sekretessen gör att vi inte kan berätta allt för polisen.",
    "Kaffet var gott och vädret var fint i går.",
]


def children_of(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@pytest.mark.skipif(
    not Path("/proc/self/task").exists() or not hasattr(os, "killpg"),
    reason="needs Linux /proc and process groups to find the workers",
)
def test_ctrl_c_during_parallel_tag_exits_quickly_without_tracebacks(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(400):
        turns = [f"I: Fråga {j}?\n\nIP: {SENTENCES[(i + j) % 4]} Fall {i}-{j}." for j in range(30)]
        (corpus / f"intervju-{i:04d}.md").write_text("\n\n".join(turns) + "\n", encoding="utf-8")
    db = tmp_path / "qcode.db"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # its own session, so the SIGINT goes to the whole group as a terminal's Ctrl-C does
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "qcode",
            "tag",
            str(corpus),
            "--codebook",
            str(CODEBOOK),
            "--db",
            str(db),
            "-j2",
            "--no-companion",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 120
        while len(children_of(process.pid)) < 2 and process.poll() is None:
            assert time.monotonic() < deadline, "the workers never started"
            time.sleep(0.05)
        time.sleep(0.5)  # let them code a few files
        assert process.poll() is None, "the run finished before it could be interrupted"
        workers = children_of(process.pid)
        sent = time.monotonic()
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    stderr = err.decode("utf-8", "replace")
    assert took < 2.0, f"took {took:.2f} s to stop"
    assert process.returncode == 130
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert stderr.strip().splitlines()[-1].startswith("interrupted, nothing lost")
    assert all(
        not Path(f"/proc/{w}").exists() or "zombie" in Path(f"/proc/{w}/status").read_text()
        for w in workers
    ), "a worker outlived the run"
    # what was stored before the interrupt is a whole, readable project
    conn = sqlite3.connect(db)
    try:
        documents = conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        orphans = conn.execute(
            "SELECT COUNT(*) FROM documents d WHERE NOT EXISTS "
            "(SELECT 1 FROM segments s WHERE s.document_id = d.id)"
        ).fetchone()[0]
    finally:
        conn.close()
    assert documents < 400 and orphans == 0
