"""Team coding (issue 15): coders everywhere, blind sheets, the final coding, conflicts.

The rules under test: every export row says who coded it; a blank review sheet shows no
automatic suggestion anywhere (cells, comments, fills, hidden columns, validation lists);
a sample is reproducible and stratified by group; agreement runs on the sampled units; a
human's accept/reject overrides the automatic coding of that segment and code in every report;
two humans who disagree are shown as a conflict, never silently unioned; and (issue 19) an
import checks and writes under one lock, so a re-segmentation cannot move its decisions.
"""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from qcode.cli import cli
from qcode.errors import ConfigError
from qcode.final import conflicts, final_codings
from qcode.models import Coding, Segment
from qcode.reports import cooccurrence, frequencies, quotes
from qcode.review import import_review, review_frame, sample_segments, write_review
from qcode.store import Store

DATA = Path(__file__).parent / "data" / "review"
_spec = importlib.util.spec_from_file_location("review_fixture", DATA / "fixture.py")
fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixture)

CODES = ["beredskap", "beredskap/saknas", "samverkan", "nattbuss"]
RESPONDENT = [
    ("hotell-03", 1),
    ("hotell-03", 2),
    ("kommun-02", 1),
    ("kommun-02", 2),
    ("polis-01", 1),
    ("polis-01", 2),
    ("polis-01", 3),
]


@pytest.fixture
def store(tmp_path):
    with fixture.build_review_store(tmp_path / "p.db") as s:
        yield s


def decide(
    store: Store,
    coder: str,
    ticked: dict[tuple[str, int], set[str]],
    segments=RESPONDENT,
    codes=CODES,
) -> None:
    """A coder's sheet: every listed segment gets a decision on every code column."""
    store.replace_human_decisions(
        coder, {key: {c: c in ticked.get(key, set()) for c in codes} for key in segments}
    )


def coded(frame: pd.DataFrame) -> set[tuple[str, int, str]]:
    return {(d, int(s), c) for d, s, c in zip(frame["document"], frame["segment"], frame["code"])}


# -- coders everywhere ---------------------------------------------------------------------------
def test_five_coders_export_one_distinguishable_row_each(store, tmp_path, monkeypatch):
    counts = {"anna": 28, "bob": 28, "cecilia": 28, "david": 14, "erik": 14}
    pairs = [(key, code) for key in RESPONDENT for code in CODES]  # 28 segment x code pairs
    for coder, n in counts.items():
        chosen = pairs[:n]
        store.add_human_codings(
            [
                Coding(d, i, *store.segment_spans()[(d, i)], code, "human", 1.0, coder)
                for (d, i), code in chosen
            ]
        )
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    for suffix in ("csv", "jsonl", "xlsx"):
        out = runner.invoke(
            cli,
            ["export", "codings", "--db", "p.db", "--source", "human", "-o", f"codings.{suffix}"],
        )
        assert out.exit_code == 0, out.output
        if suffix == "csv":
            frame = pd.read_csv(tmp_path / "codings.csv")
        elif suffix == "jsonl":
            frame = pd.DataFrame(
                [
                    json.loads(line)
                    for line in (tmp_path / "codings.jsonl")
                    .read_text(encoding="utf-8")
                    .splitlines()
                ]
            )
        else:
            frame = pd.read_excel(tmp_path / "codings.xlsx")
        assert list(frame.columns[8:12]) == ["kind", "code", "source", "coder"]
        assert len(frame) == 112
        assert frame.groupby("coder").size().to_dict() == counts
        key = ["document", "segment", "code", "source"]
        assert frame.duplicated(key).sum() == 112 - 28  # without coder: 84 rows look the same
        assert not frame.duplicated(key + ["coder"]).any()


# -- blind sheets and samples --------------------------------------------------------------------
def test_blank_sheet_reveals_no_suggestion_anywhere(store, tmp_path):
    start, end = store.segment_spans()[("hotell-03", 2)]
    store.add_codings([Coding("hotell-03", 2, start, end, "nattbuss", "model", 0.4321)])
    normal = write_review(review_frame(store), tmp_path / "normal.xlsx")
    blank = write_review(review_frame(store, blank=True), tmp_path / "blank.xlsx")

    def everything(path: Path) -> str:
        with zipfile.ZipFile(path) as z:
            return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())

    assert "0.43" in everything(normal) and "suggested" in everything(normal)  # the test can fail
    raw = everything(blank)
    assert "0.43" not in raw and "suggested" not in raw and "comments" not in raw.lower()
    book = load_workbook(blank)
    assert book.sheetnames == ["review"]
    sheet = book["review"]
    header = [c.value for c in sheet[1]]
    assert header == ["segment", "document", "title", "group", "speaker", "text", *CODES, "note"]
    assert sheet.max_row == 8
    for row in sheet.iter_rows(min_row=2):
        for cell in row[6:10]:
            assert cell.value is None and cell.comment is None
            assert cell.fill.fgColor.rgb in (None, "00000000")
    assert not any(d.hidden for d in sheet.column_dimensions.values())
    assert not any(d.hidden for d in sheet.row_dimensions.values())
    assert [v.formula1 for v in sheet.data_validations.dataValidation] == ['"1"']

    csv = write_review(review_frame(store, blank=True), tmp_path / "blank.csv").read_text("utf-8")
    assert (
        csv.splitlines()[0]
        == "segment,document,title,group,speaker,text," + ",".join(CODES) + ",note"
    )
    assert "score" not in csv and "0.75" not in csv and "0.4321" not in csv
    assert all(line.endswith(",,,,,") for line in csv.splitlines()[1:])


def test_sample_is_reproducible_and_stratified_by_group(store):
    first = review_frame(store, blank=True, sample=5, seed=3)
    again = review_frame(store, blank=True, sample=5, seed=3)
    assert first["segment"].tolist() == again["segment"].tolist()
    assert len(first) == 5
    assert first.groupby("group").size().to_dict() == {"hotell": 2, "kommun": 1, "polis": 2}
    assert set(review_frame(store, sample=3, seed=11)["group"]) == {"hotell", "kommun", "polis"}
    rows = pd.DataFrame({"segment": range(40), "group": ["a"] * 30 + ["b"] * 10})
    drawn = {tuple(sample_segments(rows, 8, seed)["segment"]) for seed in range(5)}
    assert len(drawn) > 1  # the seed matters
    assert sample_segments(rows, 8, 0)["group"].value_counts().to_dict() == {"a": 6, "b": 2}
    assert len(review_frame(store, sample=100)) == 7  # larger than the sheet: everything


def test_blind_sample_agreement_runs_on_the_sampled_units(store, tmp_path):
    path = write_review(review_frame(store, blank=True, sample=4, seed=1), tmp_path / "blind.csv")
    sampled = pd.read_csv(path)["segment"].tolist()
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    col = header.index("samverkan")

    def filled(ticks: set[str]) -> Path:
        out = [lines[0]]
        for line in lines[1:]:
            cells = line.split(",")
            if cells[0] in ticks:
                cells[col] = "1"
            out.append(",".join(cells))
        target = tmp_path / f"filled-{len(ticks)}-{sorted(ticks)[:1]}.csv"
        target.write_text("\n".join(out) + "\n", encoding="utf-8")
        return target

    import_review(filled({sampled[0], sampled[1]}), store, "eva")
    import_review(filled({sampled[0]}), store, "ola")
    runner = CliRunner()
    out = runner.invoke(
        cli,
        [
            "agreement",
            "--db",
            str(tmp_path / "p.db"),
            "--coder",
            "eva",
            "--coder",
            "ola",
            "--code",
            "samverkan",
            "-o",
            str(tmp_path / "a.csv"),
        ],
    )
    assert out.exit_code == 0, out.output
    table = pd.read_csv(tmp_path / "a.csv").set_index("code")
    assert table.loc["samverkan", "units"] == 4  # the sample, not the 7 segments of the sheet
    assert table.loc["samverkan", "agreement"] == 0.75
    # against the machine, on the same four units
    from qcode.agreement import agreement

    assert agreement(store, ["eva", "auto"]).set_index("code").loc["samverkan", "units"] == 4


# -- the final coding ----------------------------------------------------------------------------
def test_human_accept_and_reject_override_the_automatic_coding(store):
    before = coded(final_codings(store))
    assert ("kommun-02", 1, "samverkan") in before and ("polis-01", 1, "beredskap/saknas") in before
    decide(
        store,
        "anna",
        {
            ("polis-01", 1): {"beredskap/saknas"},
            ("polis-01", 2): {"samverkan"},
            ("hotell-03", 2): {"beredskap"},
        },
        segments=[("polis-01", 1), ("polis-01", 2), ("kommun-02", 1), ("hotell-03", 2)],
    )
    final = final_codings(store)
    assert coded(final) == {
        ("polis-01", 1, "beredskap/saknas"),
        ("polis-01", 2, "samverkan"),
        ("hotell-03", 2, "beredskap"),
        ("kommun-02", 2, "beredskap"),
    }  # anna never saw kommun-02#2: rule stands
    # the accepted ones are anna's codings now, not the rule's
    assert set(final.loc[final["document"] == "polis-01", "source"]) == {"human"}
    assert final.attrs["conflicts"] == 0
    # anna ticked the subcode and left its parent empty: one decision, no self-conflict
    assert conflicts(store).empty
    freq = frequencies(store, ["group"], level=1)
    assert freq.loc["samverkan", ("kommun", "documents")] == 0  # rejected by anna
    assert freq.loc["beredskap", ("hotell", "documents")] == 1  # added by anna
    raw = store.codings_frame(source="rule")
    assert len(raw) == 4  # the rule codings themselves are kept, only outvoted


def test_conflicts_are_shown_and_left_out_not_unioned(store, tmp_path, monkeypatch):
    decide(store, "anna", {("polis-01", 2): {"samverkan"}, ("kommun-02", 1): {"samverkan"}})
    decide(store, "bob", {("polis-01", 2): {"samverkan"}})  # bob: no samverkan in kommun-02#1
    table = conflicts(store)
    assert table[["document", "segment", "code", "accepted_by", "rejected_by"]].values.tolist() == [
        ["kommun-02", 1, "samverkan", "anna", "bob"]
    ]
    assert table.loc[0, "text"] == "Samverkan finns på papperet men inte i vardagen."
    final = final_codings(store)
    assert ("kommun-02", 1, "samverkan") not in coded(final)  # neither anna's nor the rule's
    assert ("polis-01", 2, "samverkan") in coded(final)
    assert final.attrs["conflicts"] == 1
    # naming one side gives that side's coding without conflict
    assert ("kommun-02", 1, "samverkan") in coded(final_codings(store, coders=["anna"]))
    assert final_codings(store, coders=["anna"]).attrs["conflicts"] == 0
    assert ("kommun-02", 1, "samverkan") not in coded(final_codings(store, coders=["bob", "auto"]))
    # ... and resolving it (bob changes his mind) ends the conflict
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    out = runner.invoke(cli, ["conflicts", "--db", "p.db"])
    assert out.exit_code == 1
    assert "kommun-02" in out.output and "anna" in out.output and "bob" in out.output
    assert "1 conflict(s) on 1 passage(s)" in out.output
    out = runner.invoke(cli, ["report", "frequencies", "--db", "p.db"])
    assert out.exit_code == 0
    assert "1 passage(s) where coders disagree on a code are left out" in out.output
    store.replace_human_decisions("bob", {("kommun-02", 1): {"samverkan": True}})
    out = runner.invoke(cli, ["conflicts", "--db", "p.db"])
    assert out.exit_code == 0 and "no conflicts between coders" in out.output
    assert ("kommun-02", 1, "samverkan") in coded(final_codings(store))


def test_a_rejected_parent_conflicts_with_another_coders_subcode(store):
    decide(
        store,
        "anna",
        {("polis-01", 1): {"beredskap/saknas"}},
        codes=["beredskap/saknas"],
        segments=[("polis-01", 1)],
    )
    decide(store, "bob", {}, codes=["beredskap"], segments=[("polis-01", 1)])
    assert conflicts(store)[["code", "accepted_by", "rejected_by"]].values.tolist() == [
        ["beredskap/saknas", "anna", "bob"]
    ]


def test_coder_option_on_every_report(store, tmp_path, monkeypatch):
    decide(
        store,
        "anna",
        {("hotell-03", 1): {"nattbuss"}, ("kommun-02", 1): {"samverkan"}},
        segments=[("hotell-03", 1), ("kommun-02", 1)],
    )
    assert cooccurrence(store, level=None, coders=["anna"]).loc["nattbuss", "nattbuss"] == 1
    assert cooccurrence(store, level=None, coders=["auto"]).loc["nattbuss", "nattbuss"] == 0
    only_anna = frequencies(store, ["group"], level=1, coders=["anna"])
    assert only_anna.loc["beredskap", ("total", "documents")] == 0  # the rules' beredskap left out
    assert frequencies(store, ["group"], level=1).loc["beredskap", ("total", "documents")] == 2
    assert quotes(store, "samverkan", coders=["anna"], min_words=1)["document"].tolist() == [
        "kommun-02"
    ]
    with pytest.raises(ConfigError, match="zorro: no such coder"):
        frequencies(store, ["group"], coders=["zorro"])
    with pytest.raises(ConfigError, match="selects no codings"):
        frequencies(store, ["group"], coders=["anna"], source="rule")

    monkeypatch.chdir(tmp_path)
    (tmp_path / "survey.csv").write_text(
        "group,svar\npolis,0.5\nkommun,0.2\nhotell,0.1\n", encoding="utf-8"
    )
    runner = CliRunner()
    for args in (
        ["report", "frequencies", "--level", "1"],
        ["report", "cooccurrence", "--level", "2"],
        ["crosstab", "--survey", "survey.csv"],
        ["quotes", "--code", "nattbuss", "--min-words", "1"],
    ):
        machine = runner.invoke(cli, [*args, "--db", "p.db", "--coder", "auto"])
        everyone = runner.invoke(cli, [*args, "--db", "p.db"])
        assert machine.exit_code == 0 and everyone.exit_code == 0, (args, machine.output)
        assert machine.output != everyone.output, args  # anna's nattbuss counts by default
        anna = runner.invoke(cli, [*args, "--db", "p.db", "--coder", "anna", "--coder", "auto"])
        assert anna.exit_code == 0 and anna.output == everyone.output, args
    bad = runner.invoke(cli, ["report", "frequencies", "--db", "p.db", "--coder", "zorro"])
    assert bad.exit_code == 2 and "no such coder" in bad.output


# -- decisions are kept through edits and schema upgrades ----------------------------------------
def test_rejections_follow_their_text_when_the_document_changes(store):
    decide(store, "anna", {}, segments=[("kommun-02", 1)], codes=["samverkan"])
    assert ("kommun-02", 1, "samverkan") not in coded(final_codings(store))
    doc, segs = fixture.make_document(
        "kommun-02",
        "Socialsekreterare i Ljungby",
        "kommun",
        [
            ("I", True, "Först: hur länge har du arbetat här?"),
            ("IP", False, "Sju år."),
            *fixture.INTERVIEWS["kommun-02"][2],
        ],
    )
    store.save_document(
        doc,
        "sha-new",
        segs,
        [Coding("kommun-02", 3, segs[3].start, segs[3].end, "samverkan", "rule", 0.8)],
        tag_key="k",
    )
    rejection = store.rejections_frame("anna").iloc[0]
    assert (rejection["segment"], rejection["stale"]) == (3, False)
    assert doc.text[rejection["start"] : rejection["end"]].startswith("Samverkan finns")
    assert ("kommun-02", 3, "samverkan") not in coded(final_codings(store))


def test_a_database_from_before_rejections_opens_and_keeps_its_data(tmp_path):
    path = tmp_path / "old.db"
    with fixture.build_review_store(path):
        pass
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE rejections")
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()
    with Store(path) as store:
        assert len(store.codings_frame()) == 4
        assert store.rejections_frame().empty
        decide(store, "anna", {}, segments=[("polis-01", 2)], codes=["samverkan"])
        assert len(store.rejections_frame()) == 1


# -- issue 19 (1): check and write in one transaction --------------------------------------------
def test_a_resegmentation_between_check_and_write_cannot_misplace_decisions(store, tmp_path):
    path = write_review(review_frame(store), tmp_path / "review.xlsx")
    sheet_text = dict(zip(*[review_frame(store)[c] for c in ("segment", "text")]))
    book = load_workbook(path)
    rows = book["review"]
    for r in range(2, rows.max_row + 1):
        rows.cell(row=r, column=7 + CODES.index("nattbuss"), value=1)  # every row: nattbuss
    book.save(path)

    # another process re-segments polis-01 (turn 1 split in two) at the worst moment: when
    # the import asks for its write lock
    other = Store(tmp_path / "p.db")
    turns = fixture.INTERVIEWS["polis-01"][2]
    doc, segs = fixture.make_document("polis-01", "Polis i Kronobergs län", "polis", turns)
    cut = doc.text.index("det är helt")
    first = segs[1]
    split = [
        segs[0],
        Segment("polis-01", 1, first.start, cut - 1, "IP", False, doc.text[first.start : cut - 1]),
        Segment("polis-01", 2, cut, first.end, "IP", False, doc.text[cut : first.end]),
    ]
    split += [
        Segment("polis-01", s.index + 1, s.start, s.end, s.speaker, s.is_interviewer, s.text)
        for s in segs[2:]
    ]
    original = store.transaction
    fired = []

    def interleaved():
        if not fired:
            fired.append(True)
            other.save_document(doc, "sha-split", split, [], tag_key="k2")
        return original()

    store.transaction = interleaved
    result = import_review(path, store, "anna")
    other.close()
    assert fired
    stored = {
        (d, int(i)): t
        for d, i, t in zip(*[store.segments_frame()[c] for c in ("document", "segment", "text")])
    }
    for d, i, code in coded(store.codings_frame(source="human", coder="anna")):
        assert stored[(d, i)] == sheet_text[f"{d}#{i}"], (d, i, code)  # never another passage
    assert any("text of segment polis-01#2 has changed" in p for p in result.problems)
    assert ("hotell-03", 1, "nattbuss") in coded(store.codings_frame(source="human"))


def test_workbench_rejections_are_the_same_rejections(store, tmp_path):
    """qcode serve remembers a rejection through Store.log_rejection: the final coding sees
    it, and taking it back brings the automatic coding back."""
    key = ("kommun-02", 1, "samverkan")
    store.log_rejection("anna", "kommun-02", 1, "samverkan")
    assert key in store.rejections("anna") and key not in coded(final_codings(store))
    store.log_rejection("anna", "kommun-02", 1, "samverkan", withdrawn=True)
    assert store.rejections("anna") == set() and key in coded(final_codings(store))
    # a database from before the table: the workbench's logged rejections are carried over
    store.log_rejection("bob", "kommun-02", 1, "samverkan")
    path = tmp_path / "p.db"
    store.close()
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM rejections")
    conn.execute("PRAGMA user_version = 5")
    conn.commit()
    conn.close()
    with Store(path) as again:
        assert again.rejections("bob") == {key}
        assert key not in coded(final_codings(again))


def test_export_codings_by_coder_and_final(store, tmp_path, monkeypatch):
    decide(store, "anna", {("polis-01", 2): {"samverkan"}, ("kommun-02", 1): {"samverkan"}})
    decide(store, "bob", {("polis-01", 2): {"samverkan"}})
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def export(*args: str) -> pd.DataFrame:
        out = runner.invoke(cli, ["export", "codings", "--db", "p.db", "-o", "c.csv", *args])
        assert out.exit_code == 0, out.output
        return pd.read_csv(tmp_path / "c.csv")

    everything = export()
    assert sorted(everything["coder"].fillna("-").unique()) == ["-", "anna", "bob"]
    assert set(export("--coder", "bob")["coder"]) == {"bob"}
    machine = export("--coder", "auto")
    assert set(machine["source"]) == {"rule"} and len(machine) == 4
    final = export("--final")
    assert set(zip(final["document"], final["segment"], final["code"])) == {
        ("polis-01", 2, "samverkan")
    }  # everything else rejected, kommun-02#1 in conflict
    assert len(export("--final", "--coder", "anna")) == 2
    bad = runner.invoke(cli, ["export", "codings", "--db", "p.db", "-o", "c.csv", "--coder", "x"])
    assert bad.exit_code == 2 and "no such coder" in bad.output


def test_conflicts_are_counted_only_in_the_documents_a_report_covers(store):
    decide(store, "anna", {("kommun-02", 1): {"samverkan"}}, segments=[("kommun-02", 1)])
    decide(store, "bob", {}, segments=[("kommun-02", 1)])
    assert frequencies(store, ["group"]).attrs["conflicts"] == 1
    assert frequencies(store, ["group"], where=["group=polis"]).attrs["conflicts"] == 0


def test_conflicts_never_show_a_name(store, tmp_path, monkeypatch):
    """The conflicts listing prints segment text: it goes through the project's redactor."""
    from qcode.project import Project

    doc, segs = fixture.make_document(
        "namn-04",
        "Kurator",
        "kommun",
        [
            ("I", True, "Vem ringer du?"),
            ("IP", False, "Jag ringer Birgitta Lindqvist på 070-123 45 67."),
        ],
    )
    store.save_document(doc, "sha-namn", segs, [], tag_key="k")
    decide(store, "anna", {("namn-04", 1): {"samverkan"}}, segments=[("namn-04", 1)])
    decide(store, "bob", {}, segments=[("namn-04", 1)])
    (tmp_path / "qcode.yaml").write_text(
        f"database: {tmp_path / 'p.db'}\nprivate: [Birgitta Lindqvist]\n", encoding="utf-8"
    )
    with Project(tmp_path) as project:
        text = project.conflicts().loc[0, "text"]
    assert "Birgitta" not in text and "070" not in text and text.startswith("Jag ringer")
