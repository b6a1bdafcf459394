"""`qcode explain` tells the truth: its verdicts are the codings `tag` stored."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from qcode.cli import cli
from qcode.project import Project

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo corpus tagged as `make demo` does: rules with the shipped companion."""
    folder = tmp_path_factory.mktemp("demo")
    project = Project(
        folder,
        codebook=REPO / "codebooks" / "kronoberg.yaml",
        db=folder / "demo.db",
        id_column="respondent_id",
    )
    project.tag([REPO / "transcripts"], jobs=1)
    yield project
    project.close()


def test_explain_verdicts_equal_the_stored_codings_on_the_whole_demo(demo):
    stored = demo.codings(source=["rule", "companion", "model"])
    want = {
        (d, int(s), c, src)
        for d, s, c, src in zip(
            stored["document"], stored["segment"], stored["code"], stored["source"]
        )
    }
    got, dropped = set(), 0
    for document in demo.store.document_ids():
        frame = demo.decisions(document)
        hits = frame[frame["verdict"] == "stored"]
        got |= {
            (d, int(s), c, src)
            for d, s, c, src in zip(hits["document"], hits["segment"], hits["code"], hits["source"])
        }
        dropped += int((frame["verdict"] == "dropped").sum())
    assert got == want
    assert len(want) == len(stored) > 300 and {src for *_x, src in want} == {"rule", "companion"}
    assert dropped > 0  # the companion did vote rule codings down, and explain says so


def test_a_dropped_coding_is_shown_as_dropped_with_the_companion_vote(demo):
    for document in demo.store.document_ids():
        frame = demo.decisions(document)
        dropped = frame[frame["verdict"] == "dropped"]
        if not dropped.empty:
            break
    row = dropped.iloc[0]
    assert row["source"] == "rule" and row["reason"].startswith("companion p=")
    assert " < 0.35" in row["reason"]
    stored = demo.codings()
    assert stored[
        (stored["document"] == row["document"])
        & (stored["segment"] == row["segment"])
        & (stored["code"] == row["code"])
    ].empty
    text = demo.explain(row["document"], int(row["segment"]))
    assert f"{row['code']}  dropped ({row['reason']})" in text


def test_explaining_one_segment_reads_and_scans_only_that_segment(demo, monkeypatch):
    fresh = Project(
        demo.root, codebook=REPO / "codebooks" / "kronoberg.yaml", db=demo.config.database
    )
    started = time.process_time()  # CPU time: the machine running the suite may be busy
    fresh.explain("polis-01", 13)  # loads the codebook, tagger and companion, once
    first = time.process_time() - started
    fresh.close()
    assert first < 1.0, f"explaining one segment from start took {first:.2f} s of CPU"
    demo.explain("polis-01", 13)
    tagger = demo._explain_parts[0]
    scanned = []
    original = tagger.explain
    monkeypatch.setattr(tagger, "explain", lambda seg: scanned.append(seg.index) or original(seg))
    started = time.perf_counter()
    demo.explain("polis-01", 13)
    elapsed = time.perf_counter() - started
    assert scanned == [13]
    assert elapsed < 1.0, f"explaining one segment took {elapsed:.2f} s"


def test_cli_explain_colours_only_when_asked(demo):
    base = [
        "explain",
        "polis-01",
        "13",
        "--db",
        str(demo.config.database),
        "--codebook",
        str(REPO / "codebooks" / "kronoberg.yaml"),
    ]
    plain = CliRunner().invoke(cli, base)
    assert plain.exit_code == 0 and "\033[" not in plain.output
    assert plain.output.startswith("[polis-01 #13] IP\n")
    assert "beredskap/saknas  stored (rule score" in plain.output
    assert "\nsamverkan  not matched\n" in plain.output
    coloured = CliRunner().invoke(cli, [*base, "--color"])
    assert "\033[1;32mberedskap/saknas  stored" in coloured.output
