"""The command line end to end: init, tag, re-runs, exports and one-line errors on bad input."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner
from samples import SMALL_CODEBOOK, SMALL_INTERVIEW

from qcode.cli import cli
from qcode.models import Coding
from qcode.store import CODING_COLUMNS, Store

CODEBOOK = SMALL_CODEBOOK

INTERVIEW = SMALL_INTERVIEW + "\nIP: Kaffet här är gott.\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cb.yaml").write_text(CODEBOOK, encoding="utf-8")
    (tmp_path / "qcode.yaml").write_text(
        "codebook: cb.yaml\ntranscripts: t\ndatabase: p.db\n", encoding="utf-8"
    )
    (tmp_path / "t").mkdir()
    for doc_id in ("polis-01", "polis-02"):
        (tmp_path / "t" / f"{doc_id}.md").write_text(INTERVIEW.format(id=doc_id), encoding="utf-8")
    return tmp_path


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_tag_writes_codings_csv_with_the_documented_columns(project):
    result = invoke("tag", "t", "-o", "x.csv")
    assert result.exit_code == 0, result.output
    assert "documents: 2 tagged, 0 unchanged" in result.output
    with open(project / "x.csv", encoding="utf-8") as handle:
        assert handle.readline().strip() == ",".join(CODING_COLUMNS)
    rows = read_csv(project / "x.csv")
    assert {(r["document"], r["code"], r["segment"]) for r in rows} == {
        ("polis-01", "beredskap", "1"),
        ("polis-01", "samverkan", "2"),
        ("polis-02", "beredskap", "1"),
        ("polis-02", "samverkan", "2"),
    }
    first = rows[0]
    assert first["text"] == "Vi har ingen handlingsplan alls."
    assert first["speaker"] == "IP" and first["title"] == "Polis i Kronobergs län"
    text = Store(project / "p.db").document_text("polis-01")
    assert text[int(first["start"]) : int(first["end"])] == first["text"]


def test_interviewer_turns_are_stored_but_not_coded(project):
    invoke("tag", "t")
    store = Store(project / "p.db")
    segments = store.segments_frame()
    assert segments["is_interviewer"].sum() == 2
    assert 0 not in store.codings_frame()["segment"].tolist()


def test_rerun_skips_unchanged_and_recodes_changed_documents_keeping_human_codings(project):
    invoke("tag", "t")
    store = Store(project / "p.db")
    segment = store.segments_frame(document="polis-02").iloc[3]
    store.add_codings(
        [
            Coding(
                "polis-02",
                3,
                int(segment.start),
                int(segment.end),
                "samverkan",
                "human",
                coder="eva",
            )
        ]
    )
    again = invoke("tag", "t")
    assert "0 tagged, 2 unchanged" in again.output
    path = project / "t" / "polis-02.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("ingen handlingsplan", "ingen plan"),
        encoding="utf-8",
    )
    changed = invoke("tag", "t")
    assert "1 tagged, 1 unchanged" in changed.output
    codings = store.codings_frame()
    polis2 = codings[codings["document"] == "polis-02"]
    assert sorted(zip(polis2["code"], polis2["source"])) == [
        ("samverkan", "human"),
        ("samverkan", "rule"),
    ]
    human = polis2[polis2["source"] == "human"].iloc[0]
    assert human["text"] == "Kaffet här är gott."


def test_changed_codebook_recodes_everything(project):
    invoke("tag", "t")
    (project / "cb.yaml").write_text(
        CODEBOOK.replace("[beredskap, handlingsplan]", "[beredskap]"), encoding="utf-8"
    )
    result = invoke("tag", "t")
    assert "2 tagged, 0 unchanged" in result.output
    assert set(Store(project / "p.db").codings_frame()["code"]) == {"samverkan"}


def test_without_a_codebook_the_error_says_how_to_give_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.md").write_text("IP: hej\n", encoding="utf-8")
    result = invoke("tag", "a.md")
    assert result.exit_code == 2
    assert "pass --codebook FILE" in result.output and "qcode init" in result.output


def test_init_writes_a_project_that_tags(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert invoke("init", "proj").exit_code == 0
    assert (tmp_path / "proj" / "qcode.yaml").exists()
    assert (tmp_path / "proj" / "codebooks" / "kronoberg.yaml").exists()
    (tmp_path / "proj" / "transcripts" / "a.md").write_text(
        "IP: Vi har ingen handlingsplan och vi samverkar inte med polisen.\n", encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path / "proj")
    result = invoke("tag")
    assert result.exit_code == 0, result.output
    assert "documents: 1 tagged" in result.output
    again = invoke("init", ".")
    assert again.exit_code == 2 and "already exists" in again.output


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.md", b"", "empty"),
        ("binary.md", b"\x00\x01\x02PK\x00\x00binary", "binary"),
        ("front.md", b"---\nid: [unclosed\n---\nIP: hej\n", "front.md:2"),
        ("notes.pdf", b"%PDF-1.4", "notes.pdf"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_lost(project, name, content, message):
    invoke("tag", "t")
    before = Store(project / "p.db").codings_frame()
    (project / "t" / name).write_bytes(content)
    result = CliRunner().invoke(cli, ["tag", "t"])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert len([l for l in result.output.splitlines() if l.startswith("Error")]) == 1
    after = Store(project / "p.db").codings_frame()
    assert after[["document", "code", "start"]].equals(before[["document", "code", "start"]])


def test_two_documents_with_one_id_is_an_error_naming_the_second_file(project):
    (project / "t" / "zz-copy.md").write_text(INTERVIEW.format(id="polis-01"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["tag", "t"])
    assert result.exit_code == 2
    assert "zz-copy.md" in result.output and "polis-01" in result.output


def test_keep_going_codes_the_rest_and_lists_failures(project):
    (project / "t" / "empty.md").write_bytes(b"")
    (project / "t" / "binary.md").write_bytes(b"\x00\x00\x00")
    result = CliRunner().invoke(cli, ["tag", "t", "--keep-going"])
    assert result.exit_code == 1
    assert "documents: 2 tagged" in result.output
    assert "empty.md" in result.output and "binary.md" in result.output
    assert "2 file(s) could not be read" in result.output


def test_file_names_with_spaces_unicode_and_leading_dashes(project):
    odd = project / "t" / "-intervju med Åsa ö.md"
    odd.write_text(INTERVIEW.format(id="odd"), encoding="utf-8")
    result = invoke("tag", "--", str(Path("t") / "-intervju med Åsa ö.md"))
    assert result.exit_code == 0, result.output
    assert "documents: 1 tagged" in result.output


def test_export_codings_formats(project):
    invoke("tag", "t")
    for name in ("c.csv", "c.jsonl", "c.xlsx"):
        result = invoke("export", "codings", "-o", name)
        assert result.exit_code == 0 and (project / name).stat().st_size > 0
    assert read_csv(project / "c.csv")[0]["document"] == "polis-01"
    bad = CliRunner().invoke(cli, ["export", "codings", "-o", "c.pdf"])
    assert bad.exit_code == 2 and "cannot write format 'pdf'" in bad.output


def test_jobs_give_the_same_codings_as_one_process(project):
    invoke("tag", "t", "--db", "one.db")
    invoke("tag", "t", "--db", "two.db", "--jobs", "2")
    one = Store(project / "one.db").codings_frame(with_text=False).drop(columns=["created"])
    two = Store(project / "two.db").codings_frame(with_text=False).drop(columns=["created"])
    assert one.equals(two)


def test_tag_uses_every_available_core_unless_told(project, monkeypatch):
    import qcode.project
    import qcode.tagrun

    asked = []
    real_run = qcode.project._run_tag_job
    monkeypatch.setattr(qcode.tagrun, "available_cores", lambda: 3)
    monkeypatch.setattr(
        qcode.project,
        "_run_tag_job",
        lambda job, files, jobs: asked.append(jobs) or real_run(job, files, 1),
    )
    invoke("tag", "t", "--db", "a.db")
    invoke("tag", "t", "--db", "b.db", "-j", "1")
    invoke("tag", "t", "--db", "c.db", "--jobs", "2")
    assert asked == [3, 1, 2]


def test_every_command_has_help_text(project):
    def walk(group, prefix=()):
        for name, command in group.commands.items():
            yield prefix + (name,), command
            if hasattr(command, "commands"):
                yield from walk(command, prefix + (name,))

    for path, command in walk(cli):
        assert command.help, f"qcode {' '.join(path)} has no help text"
        assert invoke(*path, "--help").exit_code == 0


def test_report_group_lists_quotes_and_crosstab_as_the_same_commands(project):
    listed = invoke("report", "--help")
    assert listed.exit_code == 0
    for name in ("frequencies", "cooccurrence", "quotes", "crosstab"):
        assert f"  {name}" in listed.output
    assert invoke("report", "quotes", "--help").output == invoke("quotes", "--help").output.replace(
        "cli quotes", "cli report quotes"
    )
