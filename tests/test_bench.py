"""The scale benchmark runs end to end at a small size, so it cannot rot unnoticed.

Speed is not asserted (that is what ``benchmarks/RESULTS.md`` records); the run must finish and
print every figure the issue asks for, and the generated corpus must look like transcripts.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "benchmarks" / "bench_tag.py"

FIGURES = ["floor: blank sv tokenizer", "qcode tag, 1 job", "qcode tag, 2 jobs",
           "re-run unchanged", "changed docs (1 %)", "report frequencies", "quotes"]


@pytest.mark.slow
def test_small_benchmark_run_prints_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    figures = tmp_path / "figures.json"
    done = subprocess.run(
        [sys.executable, str(BENCH), "--words", "20000", "--jobs", "2", "--out", str(out),
         "--json", str(figures)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for name in FIGURES:
        row = next((line for line in lines if line.startswith("| ") and name in line), None)
        assert row is not None, f"no {name!r} line in:\n{done.stdout}"
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert float(cells[1]) > 0  # seconds
        assert re.fullmatch(r"\d+ MB.*", cells[4])  # peak RSS
        assert "x floor" in cells[3] or "of full run" in cells[3]
    assert any(line.startswith("machine: 2 cpus") or line.startswith("machine: ") for line in lines)
    assert any(line.startswith("command: benchmarks/bench_tag.py --words 20000") for line in lines)

    result = json.loads(figures.read_text(encoding="utf-8"))
    assert result["words"] >= 20000
    tagged = result["figures"]["tag_1"]
    assert tagged["tagged"] == result["files"] and tagged["segments"] > 0
    assert result["figures"]["rerun_unchanged"]["tagged"] == 0
    assert result["figures"]["rerun_unchanged"]["unchanged"] == result["files"]
    assert result["figures"]["rerun_changed"]["tagged"] == 1  # 1 % of 10 files, at least one
    assert result["figures"]["quotes"]["rows"] > 0


def test_corpus_is_varied_transcripts_with_front_matter(tmp_path: Path) -> None:
    sys.path.insert(0, str(BENCH.parent))
    try:
        import bench_tag
    finally:
        sys.path.remove(str(BENCH.parent))
    corpus = bench_tag.build_corpus(tmp_path / "c", 12000, seed=1)
    files = sorted((tmp_path / "c").glob("*.md"))
    assert corpus.files == len(files) >= 4 and corpus.words >= 12000
    text = files[0].read_text(encoding="utf-8")
    assert text.startswith("---\nid: b000001\n") and "\nI: " in text and "\nIP: " in text
    answers = [line for f in files for line in f.read_text(encoding="utf-8").split("\n\n")
               if line.startswith("IP: ")]
    assert len(set(answers)) == len(answers)  # never the same paragraph twice
    # the same seed gives the same corpus
    again = bench_tag.build_corpus(tmp_path / "d", 12000, seed=1)
    assert again.words == corpus.words
    assert (tmp_path / "d" / files[-1].name).read_text(encoding="utf-8") == files[-1].read_text(encoding="utf-8")
