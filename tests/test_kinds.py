"""Document kinds (issue 13): interviews and survey answers are stored, filtered and reported
apart, never divided by one n.

The small project below is written through the Store API; every expected number is counted
by hand from DOCUMENTS and CODINGS:

=========  =========  ========  ===========================================
document   kind       group     coded (respondent segments only)
=========  =========  ========  ===========================================
polis-1    interview  polis     beredskap (#1), samverkan (#2); #0 is the
                                interviewer, coded beredskap, never counted
polis-2    interview  polis     samverkan (#1)
kommun-1   interview  kommuner  (nothing)
enk-1      survey     polis     beredskap (#0)
enk-2      survey     bostad    beredskap (#0)
enk-3      survey     bostad    samverkan (#0)
=========  =========  ========  ===========================================
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from qcode.cli import cli
from qcode.codebook import Code
from qcode.errors import ConfigError
from qcode.models import Coding, Document, Segment, Turn, frozen_mapping
from qcode.reports import cooccurrence, crosstab, frequencies, quotes
from qcode.reports._common import select_documents
from qcode.store import Store

REPO = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden" / "demo"

INTERVIEW_TURNS = [
    ("I", True, "Hur ser beredskapen ut hos er när något sådant händer på jobbet?"),
    ("R", False, "Vi har en beredskap och en handlingsplan som alla i gruppen har läst igenom."),
    (
        "R",
        False,
        "Vi samverkar med socialtjänsten och med kommunen när det behövs, ofta varje vecka.",
    ),
]
DOCUMENTS = {
    # id: (kind, metadata, turns)
    "polis-1": (
        "interview",
        {"title": "Polis i länet", "group": "polis", "study": "2010"},
        INTERVIEW_TURNS,
    ),
    "polis-2": (
        "interview",
        {"title": "Kriminalinspektör", "group": "polis", "study": "2012"},
        INTERVIEW_TURNS[:1] + INTERVIEW_TURNS[2:],
    ),
    "kommun-1": (
        "interview",
        {"title": "Socialsekreterare", "group": "kommuner", "study": "2010"},
        INTERVIEW_TURNS,
    ),
    "enk-1": (
        "survey",
        {"group": "polis"},
        [("Vad gör ni?", False, "Vi har beredskap för det, en plan finns sedan länge här.")],
    ),
    "enk-2": (
        "survey",
        {"group": "bostad"},
        [("Vad gör ni?", False, "Ingen beredskap alls hos oss på bolaget, tyvärr inte.")],
    ),
    "enk-3": (
        "survey",
        {"group": "bostad"},
        [("Vad gör ni?", False, "Vi samverkar med polisen ibland när det blir fel här.")],
    ),
}
CODINGS = [  # (document, segment, code)
    ("polis-1", 0, "beredskap"),  # interviewer: never counted
    ("polis-1", 1, "beredskap"),
    ("polis-1", 2, "samverkan"),
    ("polis-2", 1, "samverkan"),
    ("enk-1", 0, "beredskap"),
    ("enk-2", 0, "beredskap"),
    ("enk-3", 0, "samverkan"),
]


def build(path: Path) -> Path:
    store = Store(path)
    store.save_codes(
        [
            Code(id="beredskap", path="beredskap", label="Beredskap"),
            Code(id="samverkan", path="samverkan", label="Samverkan"),
        ],
        "kinds",
    )
    for doc_id, (kind, metadata, turns) in DOCUMENTS.items():
        text, spans = "", []
        for speaker, is_interviewer, said in turns:
            start = len(text) + (2 if text else 0)
            text = f"{text}\n\n{said}" if text else said
            spans.append((start, len(text), speaker, is_interviewer))
        document = Document(
            doc_id,
            text,
            f"{doc_id}.{'csv' if kind == 'survey' else 'md'}",
            tuple(Turn(s, e, sp, i) for s, e, sp, i in spans),
            frozen_mapping(metadata),
            kind=kind,
        )
        segments = [
            Segment(doc_id, n, s, e, sp, i, text[s:e]) for n, (s, e, sp, i) in enumerate(spans)
        ]
        codings = [
            Coding(doc_id, n, segments[n].start, segments[n].end, code, "rule")
            for d, n, code in CODINGS
            if d == doc_id
        ]
        store.save_document(document, "sha-" + doc_id, segments, codings, tag_key="kinds")
    store.close()
    return path


@pytest.fixture
def store(tmp_path: Path):
    with Store(build(tmp_path / "p.db"), create=False) as opened:
        yield opened


def test_kind_is_stored_and_in_every_frame(store: Store) -> None:
    docs = store.documents_frame().set_index("document")
    assert docs["kind"].to_dict() == {
        "enk-1": "survey",
        "enk-2": "survey",
        "enk-3": "survey",
        "kommun-1": "interview",
        "polis-1": "interview",
        "polis-2": "interview",
    }
    codings = store.codings_frame()
    assert set(zip(codings["document"], codings["kind"])) == {
        ("polis-1", "interview"),
        ("polis-2", "interview"),
        ("enk-1", "survey"),
        ("enk-2", "survey"),
        ("enk-3", "survey"),
    }


def test_frequencies_keep_the_kinds_apart_each_with_its_own_n(store: Store) -> None:
    freq = frequencies(store, "group")
    assert freq.attrs["by"] == ["kind", "group"]
    assert freq.attrs["group_sizes"] == {
        ("interview", "kommuner"): 1,
        ("interview", "polis"): 2,
        ("interview", "total"): 3,
        ("survey", "bostad"): 2,
        ("survey", "polis"): 1,
        ("survey", "total"): 3,
    }
    # polis interviews: beredskap in polis-1 only (its interviewer segment does not count)
    assert freq.loc["beredskap", ("interview", "polis", "documents")] == 1
    assert freq.loc["beredskap", ("interview", "polis", "share")] == 0.5
    assert freq.loc["samverkan", ("interview", "polis", "documents")] == 2
    assert freq.loc["beredskap", ("interview", "total", "share")] == round(1 / 3, 4)
    # survey: beredskap in enk-1 (polis) and enk-2 (bostad): 2 of 3 answers, not 2 of 6
    assert freq.loc["beredskap", ("survey", "total", "documents")] == 2
    assert freq.loc["beredskap", ("survey", "total", "share")] == round(2 / 3, 4)
    assert freq.loc["samverkan", ("survey", "bostad", "share")] == 0.5
    assert ("total", "total", "share") not in freq.columns  # no pooled n


def test_kind_and_where_filter_every_report(store: Store) -> None:
    only = frequencies(store, "group", kind="survey")
    assert only.attrs["group_sizes"] == {("bostad",): 2, ("polis",): 1, ("total",): 3}
    polis = frequencies(store, "group", kind="interview", where=["study=2010"])
    assert polis.attrs["group_sizes"] == {("kommuner",): 1, ("polis",): 1, ("total",): 2}
    either = select_documents(store, "all", ["group=bostad", "group=kommuner"])
    assert sorted(either["document"]) == ["enk-2", "enk-3", "kommun-1"]
    matrix = cooccurrence(store, unit="document", kind="interview")
    assert matrix.loc["beredskap", "samverkan"] == 1  # polis-1 only
    assert cooccurrence(store, unit="document", kind="survey").loc["beredskap", "samverkan"] == 0
    with pytest.raises(ConfigError, match="--where region=…: no document has this metadata key"):
        frequencies(store, "group", where=["region=syd"])
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        frequencies(store, "group", where=["polis"])


def test_quotes_give_each_kind_its_own_section(store: Store, tmp_path: Path) -> None:
    frame = quotes(store, "beredskap", max_quotes=1, min_words=3)
    assert list(frame["kind"]) == ["interview", "survey"]  # one each, interviews first
    assert list(frame["document"])[0] == "polis-1"
    output = tmp_path / "q.md"
    from qcode.reports import Presentation, render_quotes

    render_quotes(frame, output, style=Presentation("en"))
    text = output.read_text(encoding="utf-8")
    assert "## Beredskap – interviews" in text and "## Beredskap – survey answers" in text
    render_quotes(frame, output)  # Swedish by default
    text = output.read_text(encoding="utf-8")
    assert "## Beredskap – intervjuer" in text and "## Beredskap – enkätsvar" in text
    survey_only = quotes(store, "beredskap", min_words=3, kind="survey")
    assert set(survey_only["kind"]) == {"survey"} and len(survey_only) == 2


def test_crosstab_counts_interviews_and_puts_survey_answers_beside(
    store: Store, tmp_path: Path
) -> None:
    survey = tmp_path / "s.csv"
    survey.write_text("grupp;andel\npolis;0,5\nbostad;0,25\nkommuner;0,1\n", encoding="cp1252")
    table = crosstab(store, survey).table.set_index("group")
    # documents (interviews): polis 2, kommuner 1, bostad none (only survey answers there)
    assert table.loc["polis", "documents"] == 2 and table.loc["kommuner", "documents"] == 1
    assert pd.isna(table.loc["bostad", "documents"])
    assert table.loc["polis", "theme:beredskap"] == 0.5
    assert table.loc["bostad", "survey_documents"] == 2
    assert table.loc["bostad", "survey_theme:beredskap"] == 0.5
    assert table.loc["polis", "survey_theme:beredskap"] == 1.0
    assert pd.isna(table.loc["kommuner", "survey_documents"])
    assert table.loc["polis", "andel"] == 0.5
    interviews_only = crosstab(store, survey, kind="interview").table
    assert not any(str(c).startswith("survey_") for c in interviews_only.columns)


def test_cli_reports_and_export_take_kind_and_where(store: Store, tmp_path: Path) -> None:
    db = store.path
    runner = CliRunner()
    out = tmp_path / "f.md"
    result = runner.invoke(cli, ["report", "frequencies", "--db", db, "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "## Intervjuer (n=3)" in text and "## Enkätsvar (n=3)" in text  # Swedish by default
    export = tmp_path / "c.csv"
    result = runner.invoke(
        cli,
        [
            "export",
            "codings",
            "--db",
            db,
            "-o",
            str(export),
            "--kind",
            "survey",
            "--where",
            "group=bostad",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(export)
    assert sorted(rows["document"]) == ["enk-2", "enk-3"] and set(rows["kind"]) == {"survey"}
    for command in (["report", "cooccurrence"], ["quotes"], ["crosstab", "--survey", "x.csv"]):
        result = runner.invoke(cli, [*command, "--db", db, "--kind", "nej"])
        assert result.exit_code == 2 and "--kind" in result.output


def test_an_old_database_gets_kinds_from_its_files(tmp_path: Path) -> None:
    path = build(tmp_path / "old.db")
    with sqlite3.connect(path) as conn:  # back to schema 5: no kind column
        conn.execute("ALTER TABLE documents DROP COLUMN kind")
        conn.execute("PRAGMA user_version = 5")
    with Store(path) as store:
        kinds = store.documents_frame().set_index("document")["kind"].to_dict()
        assert kinds["enk-1"] == "survey" and kinds["polis-1"] == "interview"
        assert len(store.codings_frame()) == len(CODINGS)


# -- the demo project: interviews and survey answers apart ---------------------------------------
@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    result = CliRunner().invoke(cli, ["tag", str(REPO / "transcripts"), "--db", str(db)])
    assert result.exit_code == 0, result.output
    return db


@pytest.mark.parametrize("name", ["frequencies.md", "crosstab.md"])
def test_demo_reports_match_golden_files(
    demo_db: Path, tmp_path: Path, name: str, update_golden: bool
) -> None:
    args = (
        ["report", "frequencies"]
        if name == "frequencies.md"
        else ["crosstab", "--survey", str(REPO / "data" / "survey" / "synthetic-respondents.csv")]
    )
    output = tmp_path / name
    result = CliRunner().invoke(cli, [*args, "--db", str(demo_db), "-o", str(output)])
    assert result.exit_code == 0, result.output
    produced = output.read_text(encoding="utf-8")
    golden = GOLDEN / name
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(produced, encoding="utf-8", newline="\n")
    assert produced == golden.read_text(encoding="utf-8")


def test_demo_numbers_checked_by_hand(demo_db: Path) -> None:
    """transcripts/ holds 14 interview files (2 polis, 3 kommuner) and survey_free_text.csv
    with 42 rows (3 bostadsbolag, 3 polis, 4 kommuner, 5 taxi): counted with ls and by eye."""
    with Store(demo_db, create=False) as store:
        freq = frequencies(store, "group", level=1)
        sizes = freq.attrs["group_sizes"]
        assert sizes[("interview", "total")] == 14 and sizes[("survey", "total")] == 42
        assert sizes[("interview", "polis")] == 2 and sizes[("survey", "polis")] == 3
        assert sizes[("interview", "kommuner")] == 3 and sizes[("survey", "kommuner")] == 4
        assert ("interview", "bostadsbolag") not in sizes and sizes[("survey", "bostadsbolag")] == 3
        table = crosstab(
            store, REPO / "data" / "survey" / "synthetic-respondents.csv"
        ).table.set_index("group")
    # "documents (interviews)": bostadsbolag has no interview, only 3 survey answers
    assert pd.isna(table.loc["bostadsbolag", "documents"])
    assert table.loc["bostadsbolag", "survey_documents"] == 3
    assert table.loc["polis", "documents"] == 2 and table.loc["polis", "survey_documents"] == 3
    assert table.loc["taxi", "documents"] == 1 and table.loc["taxi", "survey_documents"] == 5
