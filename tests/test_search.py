"""`qcode search`: keyword in context with the codebook's lemma matcher, filters, outputs, and
coding the results as a person's human codings."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from qcode.cli import cli
from qcode.codebook import Code
from qcode.config import ProjectConfig
from qcode.errors import ConfigError
from qcode.models import Coding, Document, Segment, frozen_mapping
from qcode.reports import Presentation, code_hits, render_search, search
from qcode.store import Store

# (search term, the form written in the transcript): inflections and compounds that a codebook
# term finds, so the search must find them too.
FORMS = [
    ("handlingsplan", "handlingsplanerna"),
    ("handlingsplan", "handlingsplanen"),
    ("handlingsplan", "krishandlingsplan"),
    ("handlingsplan", "handlingsplanens"),
    ("anmälan", "anmälningarna"),
    ("anmälan", "polisanmälan"),
    ("utbildning", "personalutbildningen"),
    ("utbildning", "utbildningar"),
    ("kvinna", "kvinnorna"),
    ("samverkan", "samverkansgruppen"),
    ("misstanke", "misstankar"),
    ("rutin", "rutinerna"),
    ("myndighet", "myndigheterna"),
    ("tystnadsplikt", "tystnadsplikten"),
]


def build(path: Path) -> Path:
    """Two documents: every form in its own respondent turn, an interviewer question, a name."""
    with Store(path) as store:
        store.save_codes(
            [
                Code(id="beredskap", path="beredskap", label="Beredskap"),
                Code(id="handlingsplan", path="beredskap/handlingsplan", label="Handlingsplan"),
            ],
            "cb",
        )
        turns = [("I", True, "Har ni en handlingsplan?")]
        turns += [
            ("R", False, f"Vi har pratat mycket om {form} på sistone, sa Lena Berg.")
            for _term, form in FORMS
        ]
        turns += [("R", False, "Planerna för hösten handlar om annat, och handlingen likaså.")]
        _save(
            store,
            "polis-01",
            {"title": "Polis i Kronobergs län", "group": "polis"},
            turns,
            coded={1: "beredskap"},
        )
        _save(
            store,
            "taxi-01",
            {"group": "taxi"},
            [("R", False, "Någon handlingsplan har vi inte på taxibolaget, tyvärr.")],
            coded={},
        )
    return path


def _save(store: Store, doc_id: str, meta: dict, turns: list, coded: dict) -> None:
    text, spans = "", []
    for speaker, _is_int, said in turns:
        line = f"{speaker}: "
        spans.append((len(text) + len(line), len(text) + len(line) + len(said)))
        text += line + said + "\n"
    document = Document(doc_id, text, f"{doc_id}.txt", (), frozen_mapping(meta))
    segments = [
        Segment(doc_id, i, s, e, sp, is_int, text[s:e])
        for i, ((s, e), (sp, is_int, _)) in enumerate(zip(spans, turns))
    ]
    codings = [Coding(doc_id, i, *spans[i], code, "rule", 0.9) for i, code in coded.items()]
    store.save_document(document, "x" + doc_id, segments, codings, tag_key="k")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return build(tmp_path / "s.db")


@pytest.mark.parametrize("term, form", FORMS)
def test_lemma_search_finds_inflected_and_compound_forms(db: Path, term: str, form: str) -> None:
    with Store(db, create=False) as store:
        hits = search(store, [term], lemma=True, config=ProjectConfig(root=db.parent))
    assert form in set(hits["match"]), hits["match"].tolist()
    row = hits[hits["match"] == form].iloc[0]
    assert row["left"].endswith("Vi har pratat mycket om") and row["right"].startswith("på sistone")
    assert row["role"] == "Polis i Kronobergs län"
    with Store(db, create=False) as store:
        assert store.document_text(row["document"])[row["start"] : row["end"]] == form


def test_literal_search_matches_as_written(db: Path) -> None:
    with Store(db, create=False) as store:
        plain = search(store, ["handlingsplan"])
        prefix = search(store, ["handlingsplan*"])
        lemma = search(store, ["handlingsplan"], lemma=True)
    assert set(plain["match"]) == {"handlingsplan"}  # interviewer question and taxi-01
    assert {"handlingsplanerna", "handlingsplanen", "handlingsplanens"} <= set(prefix["match"])
    assert "krishandlingsplan" not in set(prefix["match"])
    # neither "Planerna" nor "handlingen" is a form of handlingsplan
    assert not {"Planerna", "handlingen"} & set(lemma["match"])
    assert len(lemma) == 4 + 2  # four forms, the question, the taxi answer


def test_context_is_redacted_and_filters_narrow(db: Path) -> None:
    config = ProjectConfig(root=db.parent, private=("Lena Berg",))
    with Store(db, create=False) as store:
        hits = search(store, ["kvinna"], lemma=True, config=config)
        assert "Lena" not in " ".join(hits["right"]) and "[NAMN-" in hits["right"].iloc[0]
        where = search(store, ["handlingsplan"], lemma=True, where=["group=taxi"])
        assert where["document"].tolist() == ["taxi-01"] and where["role"].tolist() == ["taxi"]
        coded = search(store, ["handlingsplan"], lemma=True, codes=["beredskap"])
        assert coded["match"].tolist() == ["handlingsplanerna"]  # only polis-01 #1 is coded
        question = search(store, ["handlingsplan"], where=["group=polis"])
        assert question["is_interviewer"].tolist() == [True]
        with pytest.raises(ConfigError, match="county: no document has this"):
            search(store, ["x"], where=["county=kronoberg"])
        with pytest.raises(ConfigError, match="nope: no such code"):
            search(store, ["x"], codes=["nope"])
        with pytest.raises(ConfigError, match="words of letters"):
            search(store, ["<script>"])


def test_search_outputs_md_csv_xlsx(db: Path, tmp_path: Path) -> None:
    with Store(db, create=False) as store:
        hits = search(store, ["handlingsplan"], lemma=True)
    md = render_search(hits, tmp_path / "k.md").read_text(encoding="utf-8")
    assert md.startswith("# Sökträffar: handlingsplan\n")
    assert "| Före | Träff | Efter | Dokument | Roll |" in md
    assert "| Har ni en | handlingsplan | ? | polis-01 | intervjuaren |" in md
    en = render_search(hits, tmp_path / "k.en.md", style=Presentation("en")).read_text(
        encoding="utf-8"
    )
    assert "| Left | Match | Right | Document | Role |" in en and "| interviewer |" in en
    csv = pd.read_csv(render_search(hits, tmp_path / "k.csv"))
    assert list(csv.columns)[:7] == [
        "document",
        "segment",
        "start",
        "end",
        "left",
        "match",
        "right",
    ]
    sheet = pd.read_excel(render_search(hits, tmp_path / "k.xlsx"))
    assert list(sheet.columns) == ["Före", "Träff", "Efter", "Dokument", "Roll"] and len(sheet) == 6


def test_code_as_turns_hits_into_the_coders_human_codings(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    args = [
        "search",
        "handlingsplan",
        "--lemma",
        "--where",
        "group=polis",
        "--db",
        str(db),
        "--code-as",
        "beredskap/handlingsplan",
        "--coder",
        "eva",
    ]
    refused = CliRunner().invoke(cli, args, input="n\n")
    assert refused.exit_code == 1  # aborted at the prompt
    with Store(db, create=False) as store:
        assert store.codings_frame(source="human").empty
    result = CliRunner().invoke(cli, args, input="y\n")
    assert result.exit_code == 0, result.output
    assert "Code 5 passage(s) with beredskap/handlingsplan as eva's human codings?" in result.output
    assert "codings added: 5" in result.stdout
    with Store(db, create=False) as store:
        human = store.codings_frame(source="human")
        assert set(human["coder"]) == {"eva"} and set(human["code"]) == {"beredskap/handlingsplan"}
        assert len(human) == 5
        spans = store.segment_spans()
        assert all((r.start, r.end) == spans[(r.document, r.segment)] for r in human.itertuples())
        again = code_hits(
            store,
            search(store, ["handlingsplan"], lemma=True, where=["group=polis"]),
            "beredskap/handlingsplan",
            "eva",
        )
        assert again == 0  # never twice
    bad = CliRunner().invoke(
        cli, ["search", "x", "--db", str(db), "--code-as", "nope", "--coder", "eva"]
    )
    assert bad.exit_code == 2 and "--code-as nope: no such code" in bad.stderr
    no_coder = CliRunner().invoke(cli, ["search", "x", "--db", str(db), "--code-as", "beredskap"])
    assert no_coder.exit_code == 2 and "--code-as needs --coder" in no_coder.stderr


def test_search_prints_kwic_lines(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        cli, ["search", "tystnadsplikt", "--lemma", "--db", str(db), "--context", "20"]
    )
    assert result.exit_code == 0
    line = result.stdout.splitlines()[0]
    assert "[tystnadsplikten]" in line and line.endswith("polis-01 (Polis i Kronobergs län)")
    assert "1 hit(s) in 1 passage(s) of 1 document(s)" in result.stderr
