"""Reports on a small fixed project (tests/data/reports/fixture_project.py).

Every expected number below was counted by hand from the fixture's CODINGS table: codings on
the interviewer segment (polis_01 #3) never count; a segment coded with a subcode counts for
its parent; documents are counted once however many segments or codes they have.
"""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from qcode.config import ProjectConfig
from qcode.errors import ConfigError
from qcode.reports import (
    Presentation,
    cooccurrence,
    crosstab,
    frequencies,
    frequencies_table,
    plot_cooccurrence,
    plot_crosstab,
    plot_frequencies,
    quotes,
    render_cooccurrence,
    render_crosstab,
    render_frequencies,
    render_quotes,
    survey_by_group,
    trim_quote,
)
from qcode.reports.crosstab import _correlations
from qcode.store import Store

DATA = Path(__file__).parent / "data" / "reports"
GOLDEN = Path(__file__).parent / "golden" / "reports"
REPO = Path(__file__).resolve().parents[1]
SURVEY = DATA / "survey_respondents.csv"
AGGREGATES = REPO / "data" / "survey" / "kronoberg-2010-aggregates.csv"

_spec = importlib.util.spec_from_file_location("reports_fixture", DATA / "fixture_project.py")
fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixture)


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fixture.build_store(tmp_path_factory.mktemp("reports") / "project.db")


@pytest.fixture
def store(db_path: Path):
    with Store(db_path, create=False) as opened:
        yield opened


def cells(frame: pd.DataFrame, group: str, measure: str) -> dict[str, float]:
    return frame[(group, measure)].to_dict()


# -- frequencies ------------------------------------------------------------------------------
def test_frequencies_by_group_counts_respondents_not_matches(store: Store) -> None:
    freq = frequencies(store, "group")
    assert list(freq.index) == [
        "erfarenhet",
        "beredskap",
        "beredskap/handlingsplan",
        "beredskap/saknas",
        "dubbla_roller",
        "rapportering",
        "rapportering/tas_pa_allvar",
        "total",
    ]
    assert list(dict.fromkeys(c[0] for c in freq.columns)) == [
        "hotell",
        "kommuner",
        "polis",
        "taxi",
        "total",
    ]
    assert freq.attrs["group_sizes"] == {
        ("hotell",): 1,
        ("kommuner",): 2,
        ("polis",): 2,
        ("taxi",): 1,
        ("total",): 6,
    }
    assert cells(freq, "polis", "documents") == {
        "erfarenhet": 0,
        "beredskap": 2,
        "beredskap/handlingsplan": 1,
        "beredskap/saknas": 1,
        "dubbla_roller": 2,
        "rapportering": 2,
        "rapportering/tas_pa_allvar": 1,
        "total": 2,
    }
    assert cells(freq, "polis", "segments") == {
        "erfarenhet": 0,
        "beredskap": 2,
        "beredskap/handlingsplan": 1,
        "beredskap/saknas": 1,
        "dubbla_roller": 2,
        "rapportering": 2,
        "rapportering/tas_pa_allvar": 1,
        "total": 4,
    }
    # kommun_02 #1 is coded beredskap and beredskap/handlingsplan: one document, one segment
    assert cells(freq, "kommuner", "documents") == {
        "erfarenhet": 1,
        "beredskap": 1,
        "beredskap/handlingsplan": 1,
        "beredskap/saknas": 0,
        "dubbla_roller": 1,
        "rapportering": 1,
        "rapportering/tas_pa_allvar": 0,
        "total": 2,
    }
    assert cells(freq, "kommuner", "segments")["total"] == 3
    # taxi_01: two segments coded rapportering, still one respondent
    assert freq.loc["rapportering", ("taxi", "documents")] == 1
    assert freq.loc["rapportering", ("taxi", "segments")] == 2
    assert freq.loc["total", ("hotell", "documents")] == 0
    assert cells(freq, "total", "documents") == {
        "erfarenhet": 1,
        "beredskap": 3,
        "beredskap/handlingsplan": 2,
        "beredskap/saknas": 1,
        "dubbla_roller": 3,
        "rapportering": 4,
        "rapportering/tas_pa_allvar": 1,
        "total": 5,
    }
    assert cells(freq, "total", "segments")["rapportering"] == 5
    assert cells(freq, "total", "segments")["total"] == 9
    assert freq.loc["beredskap", ("kommuner", "share")] == 0.5
    assert freq.loc["rapportering", ("total", "share")] == round(4 / 6, 4)


def test_frequencies_level_and_source(store: Store) -> None:
    top = frequencies(store, ["group"], level=1)
    assert list(top.index) == ["erfarenhet", "beredskap", "dubbla_roller", "rapportering", "total"]
    assert top.loc["beredskap", ("polis", "documents")] == 2
    rule = frequencies(store, ["group"], level=1, source="rule")
    # polis_02's dubbla_roller is a model coding and its rapportering a human one
    assert rule.loc["dubbla_roller", ("polis", "documents")] == 1
    assert rule.loc["rapportering", ("polis", "documents")] == 1
    human = frequencies(store, ["group"], level=1, source="human")
    assert human.loc["total", ("total", "documents")] == 1
    with pytest.raises(ConfigError, match="source"):
        frequencies(store, ["group"], source="robot")


def test_frequencies_two_keys_give_nested_columns(store: Store) -> None:
    freq = frequencies(store, ["study", "group"], level=1)
    assert freq.columns.names == ["study", "group", "measure"]
    keys = list(dict.fromkeys(c[:2] for c in freq.columns))
    assert keys == [
        ("2010", "kommuner"),
        ("2010", "polis"),
        ("2012", "hotell"),
        ("2012", "kommuner"),
        ("2012", "taxi"),
        ("total", "total"),
    ]
    assert freq.loc["beredskap", ("2010", "polis", "documents")] == 2
    assert freq.loc["beredskap", ("2010", "kommuner", "documents")] == 0
    assert freq.loc["beredskap", ("2012", "kommuner", "documents")] == 1
    assert freq.attrs["group_sizes"][("2012", "hotell")] == 1


def test_frequencies_by_document_and_speaker(store: Store) -> None:
    by_doc = frequencies(store, "document", level=1)
    assert by_doc.loc["rapportering", ("taxi_01", "segments")] == 2
    assert by_doc.attrs["group_sizes"][("polis_01",)] == 1
    by_speaker = frequencies(store, ["speaker"], level=1)
    assert [c[0] for c in by_speaker.columns][::3] == ["R", "total"]
    assert by_speaker.loc["total", ("R", "documents")] == 5


@pytest.mark.parametrize("key", ["interviewer", "name", "Interviewer", "kontakt"])
def test_name_keys_are_never_a_dimension(store: Store, key: str) -> None:
    config = ProjectConfig(root=Path("."), private=("kontakt",))
    with pytest.raises(ConfigError, match="personal names"):
        frequencies(store, ["group", key], config=config)


def test_unknown_by_key_names_the_known_ones(store: Store) -> None:
    with pytest.raises(ConfigError, match="known keys: .*group"):
        frequencies(store, "county")


# -- co-occurrence ----------------------------------------------------------------------------
def test_cooccurrence_by_segment_and_document(store: Store) -> None:
    seg = cooccurrence(store)
    assert list(seg.index) == ["erfarenhet", "beredskap", "dubbla_roller", "rapportering"]
    assert seg.loc["dubbla_roller", "rapportering"] == 3
    assert seg.loc["beredskap", "rapportering"] == 0
    assert [seg.loc[c, c] for c in seg.index] == [1, 3, 3, 5]
    assert (seg.to_numpy() == seg.to_numpy().T).all()
    doc = cooccurrence(store, unit="document")
    assert doc.loc["beredskap", "rapportering"] == 2
    assert doc.loc["erfarenhet", "dubbla_roller"] == 1
    assert [doc.loc[c, c] for c in doc.index] == [1, 3, 3, 4]
    jac = cooccurrence(store, measure="jaccard")
    assert jac.loc["dubbla_roller", "rapportering"] == 0.6  # 3 / (3 + 5 - 3)
    assert jac.loc["rapportering", "rapportering"] == 5  # diagonal stays the total
    deep = cooccurrence(store, level=2)
    assert deep.loc["beredskap", "beredskap/handlingsplan"] == 2
    with pytest.raises(ConfigError, match="unit"):
        cooccurrence(store, unit="word")


# -- quotes -----------------------------------------------------------------------------------
def test_trim_quote_keeps_whole_sentences_around_the_evidence() -> None:
    text = (
        "Det här är en inledning utan betydelse. Vi har aldrig fått någon utbildning om "
        "människohandel här. Det vore bra. Sedan pratade vi om annat hela eftermiddagen."
    )
    at = text.index("utbildning")
    quote, start, end = trim_quote(text, [(at, at + 10)], min_words=5, max_words=20)
    assert quote == "… Vi har aldrig fått någon utbildning om människohandel här. …"
    assert text[start:end] == "Vi har aldrig fått någon utbildning om människohandel här."
    short, _, _ = trim_quote(text, [(at, at + 10)], min_words=11, max_words=20)
    assert short == "… Vi har aldrig fått någon utbildning om människohandel här. Det vore bra. …"
    assert trim_quote("För kort.", [], min_words=5) is None
    long = " ".join(["ord"] * 100) + "."
    cut, _, _ = trim_quote(long, [(0, 3)], min_words=5, max_words=10)
    assert cut == " ".join(["ord"] * 10) + " …"
    abbreviation = "Vi pratade t.ex. om sekretess och om anmälan till polisen i går."
    assert trim_quote(abbreviation, [], min_words=3)[0] == abbreviation


def test_quotes_rank_spread_attribute_and_redact(store: Store) -> None:
    frame = quotes(store, "rapportering", max_quotes=5)
    # round 1: every respondent once (groups take turns), round 2: taxi_01's second passage
    assert list(frame["document"]) == ["polis_02", "kommun_01", "taxi_01", "polis_01", "taxi_01"]
    assert list(frame["score"]) == [1.0, 0.9, 0.75, 0.8, 0.7]
    first = frame.iloc[0]
    assert first["attribution"] == "Kriminalinspektör, länskriminalpolisen"
    assert first["text"] == "När en anmälan kommer in tas den på stort allvar här. …"
    text = fixture.build_documents()["polis_02"][0].text
    assert (
        text[first["start"] : first["end"]]
        == "När en anmälan kommer in tas den på stort allvar här."
    )
    last = frame.iloc[-1]["text"]
    assert "Lena" not in last and "[NAMN-" in last
    beredskap = quotes(store, "beredskap", max_quotes=5)
    untitled = beredskap[beredskap["document"] == "kommun_02"].iloc[0]
    assert (untitled["attribution"], untitled["attributed_by"]) == ("kommuner", "group")
    # the interviewer's coded question (polis_01 #3) is never quoted
    assert set(beredskap["segment"]) == {1}


def test_quotes_filters_and_duplicates(store: Store) -> None:
    only = quotes(store, "dubbla_roller", groups=["kommuner"])
    assert list(only["document"]) == ["kommun_01"]
    assert quotes(store, "dubbla_roller", max_quotes=1)["document"].tolist() == ["kommun_01"]
    # polis_02 #2 is coded under two themes; within one theme it is never quoted twice
    both = quotes(store, ["dubbla_roller", "rapportering"], max_quotes=10)
    for _code, rows in both.groupby("code"):
        assert not rows.duplicated(["document", "segment"]).any()
    every = quotes(store)
    assert list(dict.fromkeys(every["code"])) == [
        "erfarenhet",
        "beredskap",
        "dubbla_roller",
        "rapportering",
    ]
    assert (every["words"] >= 8).all()
    none = quotes(store, "erfarenhet", min_words=40, max_words=60)
    assert none.empty
    with pytest.raises(ConfigError, match="no such code") as err:
        quotes(store, "finns_inte")
    # a Python caller is told the parameter, not a command-line flag
    assert err.value.param == "code" and "--" not in str(err.value)


# -- crosstab ---------------------------------------------------------------------------------
def test_crosstab_merges_respondents_with_one_sided_groups(store: Store) -> None:
    result = crosstab(store, SURVEY)
    table = result.table.set_index("group")
    assert list(table.index) == ["polis", "kommuner", "taxi", "bostadsbolag", "hotell"]
    assert table.loc["polis", "documents"] == 2
    assert table.loc["polis", "respondents"] == 3
    assert table.loc["polis", "q13_taken_seriously=sannolikt"] == round(2 / 3, 4)
    assert table.loc["kommuner", "q8_knowledge=no_answer"] == 0.5
    assert table.loc["kommuner", "theme:beredskap"] == 0.5
    assert pd.isna(table.loc["bostadsbolag", "documents"])
    assert pd.isna(table.loc["bostadsbolag", "theme:rapportering"])
    assert pd.isna(table.loc["hotell", "respondents"])
    assert table.loc["hotell", "theme:rapportering"] == 0.0
    assert "note=test" not in table.columns and "main_group=myndigheter" not in table.columns
    assert result.warnings == [
        "1 group(s) only in the interviews, kept with empty survey cells: hotell",
        "1 group(s) only in the survey, kept with empty interview cells: bostadsbolag",
    ]
    corr = result.correlations.set_index(["theme", "indicator"])
    row = corr.loc[("rapportering", "q13_taken_seriously=sannolikt")]
    assert row["n"] == 3 and row["note"] == "too few groups"


def test_crosstab_with_published_aggregates(store: Store) -> None:
    result = crosstab(store, AGGREGATES, themes=["rapportering", "beredskap/handlingsplan"])
    table = result.table.set_index("group")
    assert len(table) == 14  # group rows only; main-group and total rows left out
    assert table.loc["polis", "strong_suspicion_lower"] == 2
    assert pd.isna(table.loc["polis", "strong_suspicion_upper"])
    assert table.loc["polis", "strong_suspicion_text"] == "≥2"
    assert (
        table.loc["taxi", "strong_suspicion_lower"],
        table.loc["taxi", "strong_suspicion_upper"],
    ) == (6, 8)
    assert table.loc["taxi", "theme:rapportering"] == 1.0
    assert table.loc["kommuner", "theme:beredskap/handlingsplan"] == 0.5
    assert "strong_suspicion_text" not in result.indicators
    assert "knowledge_none_or_little_pct" not in table.columns  # total row only
    assert result.warnings == [
        "10 group(s) only in the survey, kept with empty interview cells: aklagare, "
        "migrationsverket, bostadsbolag, restauranger, landstinget, mottagande_asyl, "
        "privatlakare, jourer, frivilligorganisationer, kyrkor"
    ]


def test_aggregates_file_keeps_published_bounds() -> None:
    groups, indicators, kind = survey_by_group(pd.read_csv(AGGREGATES))
    assert kind == "groups"
    assert groups["recipients"].sum() == 558
    assert groups.loc["taxi", "strong_suspicion_text"] == "6–8"
    assert groups.loc["mottagande_asyl", "strong_suspicion_text"] == "≥4"
    total = pd.read_csv(AGGREGATES).query("level == 'total'").iloc[0]
    assert total["strong_suspicion_text"] == "46–48 or more"
    assert (
        total["knowledge_none_or_little_pct"],
        total["knowledge_good_or_very_good_pct"],
        total["knowledge_dont_know_pct"],
        total["knowledge_no_answer_pct"],
    ) == (73.8, 12.1, 9.1, 5.0)
    # counts and response rates describe the survey: never an automatic indicator
    assert "respondents" not in indicators and "recipients" not in indicators
    assert "response_rate_pct" not in indicators and "strong_suspicion_lower" not in indicators


def test_correlation_flag_and_values() -> None:
    table = pd.DataFrame(
        {
            "theme:t": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
            "up": [1, 2, 3, 4, 5, 6],
            "down": [6, 5, 4, 3, 2, 1],
            "few": [1, 2, None, None, None, None],
        }
    )
    corr = _correlations(table, ["theme:t"], ["up", "down", "few"]).set_index("indicator")
    assert (
        corr.loc["up", "rho"] == 1.0 and corr.loc["up", "note"] == "" and corr.loc["up", "n"] == 6
    )
    assert corr.loc["down", "rho"] == -1.0
    assert corr.loc["few", "n"] == 2 and pd.isna(corr.loc["few", "rho"])
    assert corr.loc["few", "note"] == "too few groups"


def test_crosstab_survey_errors(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such survey file"):
        crosstab(store, tmp_path / "missing.csv")
    bad = tmp_path / "survey.csv"
    bad.write_text("id,sektor\n1,polis\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no 'group' column"):
        crosstab(store, bad)


# -- files: golden, deterministic, private ----------------------------------------------------
def render_all(store: Store, folder: Path, lang: str = "sv") -> list[Path]:
    """Every report in every format, the way `make demo` writes them, in ``lang``."""
    style = Presentation(lang, labels=LABELS)
    folder.mkdir(parents=True, exist_ok=True)
    freq = frequencies(store, ["group"])
    nested = frequencies(store, ["study", "group"], level=1)
    co = cooccurrence(store)
    jac = cooccurrence(store, unit="document", measure="jaccard")
    quoted = quotes(store, max_quotes=3)
    cross = crosstab(store, SURVEY)
    written = []
    for fmt in ("md", "csv", "html", "xlsx"):
        written.append(render_frequencies(freq, folder / f"frequencies.{fmt}", style=style))
        written.append(render_cooccurrence(co, folder / f"cooccurrence.{fmt}", style=style))
        written.extend(render_crosstab(cross, folder / f"crosstab.{fmt}", style=style))
    written.append(render_frequencies(nested, folder / "frequencies-study.md", style=style))
    written.append(render_cooccurrence(jac, folder / "cooccurrence-jaccard.md", style=style))
    for fmt in ("md", "csv", "html", "docx"):
        written.append(render_quotes(quoted, folder / f"quotes.{fmt}", style=style))
    written.append(plot_frequencies(freq, folder / "frequencies.png", style=style))
    written.append(plot_cooccurrence(co, folder / "cooccurrence.png", style=style))
    written.append(plot_crosstab(cross, folder / "crosstab.png", style=style))
    return written


#: display labels of the fixture's groups (as a project's groups.yaml would give them).
LABELS = {
    "group": {
        "polis": "Polismyndigheten",
        "kommuner": "Kommunerna",
        "taxi": "Taxi",
        "hotell": "Hotell",
        "bostadsbolag": "Bostadsbolag",
    }
}


@pytest.fixture(scope="module")
def rendered(db_path: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    with Store(db_path, create=False) as opened:
        return render_all(opened, tmp_path_factory.mktemp("rendered"))


@pytest.fixture(scope="module")
def rendered_en(db_path: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    with Store(db_path, create=False) as opened:
        return render_all(opened, tmp_path_factory.mktemp("rendered_en"), "en")


TEXT_GOLDEN = [
    "frequencies.md",
    "frequencies.csv",
    "frequencies.html",
    "frequencies-study.md",
    "cooccurrence.md",
    "cooccurrence.csv",
    "cooccurrence.html",
    "cooccurrence-jaccard.md",
    "quotes.md",
    "quotes.csv",
    "quotes.html",
    "crosstab.md",
    "crosstab.csv",
    "crosstab.correlations.csv",
    "crosstab.html",
]
#: the English outputs for people (CSV is the same in both languages: ids).
EN_GOLDEN = [n for n in TEXT_GOLDEN if n.endswith((".md", ".html"))]


@pytest.mark.parametrize("name", EN_GOLDEN)
def test_english_outputs_match_golden_files(
    rendered_en: list[Path], name: str, update_golden: bool
) -> None:
    produced = next(p for p in rendered_en if p.name == name).read_text(encoding="utf-8")
    golden = GOLDEN / "en" / name
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(produced, encoding="utf-8", newline="\n")
    assert golden.exists(), f"no golden file {golden}; run pytest --update-golden"
    assert produced == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", TEXT_GOLDEN)
def test_text_formats_match_golden_files(
    rendered: list[Path], name: str, update_golden: bool
) -> None:
    produced = next(p for p in rendered if p.name == name).read_text(encoding="utf-8")
    golden = GOLDEN / name
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(produced, encoding="utf-8", newline="\n")
    assert golden.exists(), f"no golden file {golden}; run pytest --update-golden"
    assert produced == golden.read_text(encoding="utf-8")


def test_xlsx_cells_are_numbers_with_formats(rendered: list[Path]) -> None:
    """Shares are numbers shown as percentages, the header is frozen, columns are sized."""
    from openpyxl import load_workbook

    by_name = {p.name: p for p in rendered}
    book = load_workbook(by_name["frequencies.xlsx"])
    assert book.sheetnames == ["Andel", "Dokument", "Passager"]
    share = book["Andel"]
    assert share.freeze_panes == "B2"
    assert [c.value for c in share[1]][:3] == ["Kod", "Hotell (n=1)", "Kommunerna (n=2)"]
    cell = share["C3"]  # Beredskap, Kommunerna
    assert (share["A3"].value, cell.value, cell.number_format) == ("Beredskap", 0.5, "0%")
    assert share["A4"].value == "↳ Handlingsplan"
    assert share.column_dimensions["A"].width >= len("Rapportering och anmälan")
    documents = book["Dokument"]
    assert (documents["D3"].value, documents["D3"].number_format) == (2, "0")
    freq = pd.read_csv(GOLDEN / "frequencies.csv")
    assert documents["D3"].value == freq.loc[1, "polis (n=2) · documents"]

    cross = load_workbook(by_name["crosstab.xlsx"])
    assert cross.sheetnames == ["Grupper", "Rangkorrelationer"]
    groups = cross["Grupper"]
    header = [c.value for c in groups[1]]
    assert header[:3] == ["Grupp", "Intervjuer", "Erfarenheter (andel intervjuer)"]
    column = header.index("q13_taken_seriously: andel sannolikt") + 1
    value = groups.cell(row=2, column=column)
    assert (value.value, value.number_format) == (round(2 / 3, 4), "0%")
    corr = cross["Rangkorrelationer"]
    assert [c.value for c in corr[1]] == [
        "Tema",
        "Indikator",
        "Grupper (n)",
        "ρ",
        "p",
        "p just.",
        "Anmärkning",
    ]
    assert corr["D2"].number_format == "0.00" and corr["F2"].number_format == "0.000"
    co = load_workbook(by_name["cooccurrence.xlsx"])["Kod"]
    assert co["B2"].value == 1 and co.freeze_panes == "B2"


def test_docx_uses_real_paragraph_styles(rendered: list[Path]) -> None:
    from docx import Document

    path = next(p for p in rendered if p.suffix == ".docx")
    document = Document(str(path))
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert document.paragraphs[0].text == "Citat"
    pairs = [(p.style.name, p.text) for p in document.paragraphs]
    headings = [t for s, t in pairs if s == "Heading 1"]
    assert headings == [
        "Erfarenheter (erfarenhet)",
        "Beredskap (beredskap)",
        "Dubbla roller (dubbla_roller)",
        "Rapportering och anmälan (rapportering)",
    ]
    quoted = [i for i, (s, _t) in enumerate(pairs) if s == "Quote"]
    assert quoted and all(pairs[i + 1][0] == "Quote Attribution" for i in quoted)
    assert pairs[quoted[0] + 1][1] == "(Enhetschef, individ- och familjeomsorgen)"
    golden_md = (GOLDEN / "quotes.md").read_text(encoding="utf-8")
    for i in quoted:
        assert f"> {pairs[i][1]}\n\n{pairs[i + 1][1]}\n" in golden_md
    props = document.core_properties
    assert (props.author, props.created.year, props.modified.year) == ("qcode", 2000, 2000)


@pytest.mark.parametrize("lang, tag", [("sv", "sv-SE"), ("en", "en-GB")])
def test_docx_proofing_language_on_every_run(
    rendered: list[Path], rendered_en: list[Path], lang: str, tag: str
) -> None:
    """Word checks spelling in the report's language: every run of text, every style and the
    document defaults carry it, so no Swedish word is red-underlined as English."""
    from docx import Document
    from docx.oxml.ns import qn

    files = rendered if lang == "sv" else rendered_en
    document = Document(str(next(p for p in files if p.suffix == ".docx")))
    runs = list(document.element.body.iter(qn("w:r")))
    assert len(runs) > 10
    for run in runs:
        lang_element = run.find(qn("w:rPr")).find(qn("w:lang"))
        assert lang_element is not None and lang_element.get(qn("w:val")) == tag
    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults")).iter(qn("w:lang"))
    assert [e.get(qn("w:val")) for e in defaults] == [tag]
    for name in ("Normal", "Heading 1", "Quote", "Quote Attribution"):
        element = document.styles[name].element
        assert element.find(qn("w:rPr")).find(qn("w:lang")).get(qn("w:val")) == tag
    assert "en-US" not in document.element.xml and "en-US" not in styles.xml


def test_png_plots_are_images_of_a_fixed_size(rendered: list[Path]) -> None:
    from PIL import Image

    for path in (p for p in rendered if p.suffix == ".png"):
        with Image.open(path) as image:
            assert image.format == "PNG" and image.width > 300 and image.height > 200
            assert "Software" not in image.info


def test_same_database_gives_same_bytes(tmp_path: Path, rendered: list[Path]) -> None:
    """A second project built from the same input renders byte-identical files, Office
    and PNG included."""
    other = fixture.build_store(tmp_path / "again.db")
    with Store(other, create=False) as opened:
        again = render_all(opened, tmp_path / "again")
    assert [p.name for p in again] == [p.name for p in rendered]
    for first, second in zip(rendered, again):
        assert first.read_bytes() == second.read_bytes(), first.name


def test_no_output_shows_a_name_from_metadata(rendered: list[Path]) -> None:
    names = [fixture.INTERVIEWER_NAME, fixture.RESPONDENT_NAME, "Lindqvist", "Holmqvist", "Lena"]
    for path in rendered:
        if path.suffix in (".xlsx", ".docx"):
            with zipfile.ZipFile(path) as archive:
                text = "".join(
                    archive.read(n).decode("utf-8", "replace") for n in archive.namelist()
                )
        elif path.suffix == ".png":
            continue
        else:
            text = path.read_text(encoding="utf-8")
        for name in names:
            assert name not in text, f"{name} in {path.name}"


def test_pretty_table_marks_subcodes_and_uses_labels(store: Store) -> None:
    style = Presentation("en", labels=LABELS)
    table = frequencies_table(frequencies(store, "group"), pretty=True, style=style)
    assert table["Code"].tolist()[:3] == ["Erfarenheter", "Beredskap", "↳ Handlingsplan"]
    assert table.loc[1, "Polismyndigheten (n=2)"] == "2 · 100 % · 2"
    assert table["Code"].iloc[-1] == "Any code"
    # the marker is text, not white space: it survives Markdown rendering
    from qcode.writers import frame_to_markdown

    assert "| ↳ Handlingsplan |" in frame_to_markdown(table)


def test_tables_turn_when_there_are_more_groups_than_codes(store: Store) -> None:
    themes = frequencies(store, "group", level=1)  # 4 themes, 4 groups: codes stay rows
    assert frequencies_table(themes, pretty=True).columns[0] == "Kod"
    by_document = frequencies(store, "document", level=1)  # 6 documents > 4 themes
    turned = frequencies_table(by_document, pretty=True, style=Presentation(labels=LABELS))
    assert turned.columns.tolist() == [
        "Dokument",
        "Erfarenheter",
        "Beredskap",
        "Dubbla roller",
        "Rapportering och anmälan",
        "Någon kod",
    ]
    assert turned.iloc[-1, 0] == "Totalt (n=6)"
    forced = frequencies_table(themes, pretty=True, style=Presentation(transpose=True))
    assert forced.columns[0] == "Grupp" and forced.iloc[0, 0] == "hotell (n=1)"
    kept = frequencies_table(by_document, pretty=True, style=Presentation(transpose=False))
    assert kept.columns[0] == "Kod"


def test_attribution_hides_private_names_but_keeps_place_names(tmp_path: Path) -> None:
    from qcode.codebook import Code
    from qcode.models import Coding, Document, Segment, frozen_mapping

    with Store(tmp_path / "p.db") as store:
        store.save_codes([Code(id="beredskap", path="beredskap", label="Beredskap")], "x")
        for doc_id, title, place in (
            ("a", "Hälso- och sjukvårdsdirektör, Landstinget Kronoberg", "kliniken"),
            ("b", "Samordnare Berit Sjöholm, länsstyrelsen", "enheten på vårt kontor"),
        ):
            text = (
                f"R: Vi har ingen handlingsplan här på {place} och det har vi aldrig haft.\n"
                "R: Vi ringde Berit Sjöholm på länsstyrelsen och frågade om en handlingsplan.\n"
            )
            document = Document(
                doc_id,
                text,
                f"{doc_id}.txt",
                (),
                frozen_mapping({"title": title, "group": "landstinget"}),
            )
            spans = [(3, text.index("\n")), (text.index("\n") + 4, len(text) - 1)]
            segments = [
                Segment(doc_id, i, s, e, "R", False, text[s:e]) for i, (s, e) in enumerate(spans)
            ]
            codings = [
                Coding(doc_id, i, s, e, "beredskap", "rule", 0.9 - i / 10)
                for i, (s, e) in enumerate(spans)
            ]
            store.save_document(document, "x" + doc_id, segments, codings, tag_key="x")
        config = ProjectConfig(root=tmp_path, private=("Berit Sjöholm",))
        frame = quotes(store, "beredskap", max_quotes=4, config=config)
    # b's second passage is word for word a's: dropped as a near-duplicate
    assert list(frame["document"]) == ["a", "b", "a"]
    assert "Hälso- och sjukvårdsdirektör, Landstinget Kronoberg" in set(frame["attribution"])
    rendered = "\n".join(frame["attribution"]) + "\n".join(frame["text"])
    assert "Sjöholm" not in rendered and "Berit" not in rendered


def test_crosstab_by_main_group(store: Store) -> None:
    result = crosstab(store, SURVEY, by="main_group", themes=["rapportering"])
    table = result.table.set_index("main_group")
    assert list(table.index) == ["myndigheter", "naringsbranscher"]
    assert table.loc["myndigheter", "documents"] == 4
    assert table.loc["myndigheter", "respondents"] == 5
    assert table.loc["naringsbranscher", "theme:rapportering"] == 0.5  # taxi_01, not hotell_01
    assert not any(c.startswith("group=") for c in table.columns)
    assert result.warnings == []


def test_quotes_prefer_passages_a_rule_or_person_coded_over_model_only_ones(tmp_path):
    """A model-only coding has no evidence to trim around and a probability, not a rule
    score: however high, it comes after a passage with words that made the coding."""
    from qcode.codebook import Code
    from qcode.models import Coding, Document, Evidence, Segment, Turn, frozen_mapping
    from qcode.reports import quotes
    from qcode.store import Store

    store = Store(tmp_path / "q.db")
    store.save_codes([Code("dubbla_roller", "dubbla_roller", "Dubbla roller")], "cb")
    for doc_id, text in (
        ("a", "Hon berättade det i förtroende och bad mig att inte säga något till polisen."),
        ("b", "Vi pratade länge om hur vintern hade varit och om nya lokaler."),
    ):
        doc = Document(
            doc_id,
            text,
            f"{doc_id}.md",
            (Turn(0, len(text), "IP"),),
            frozen_mapping({"title": f"Roll {doc_id}", "group": "jourer"}),
        )
        seg = Segment(doc_id, 0, 0, len(text), "IP", False, text)
        if doc_id == "a":
            at = text.index("förtroende")
            coding = Coding(
                doc_id,
                0,
                0,
                len(text),
                "dubbla_roller",
                "rule",
                0.5,
                evidence=(Evidence(at, at + 10, "förtroende", "förtroende", "term"),),
            )
        else:
            coding = Coding(doc_id, 0, 0, len(text), "dubbla_roller", "model", 0.97)
        store.save_document(doc, doc_id, [seg], [coding], tag_key="k")
    frame = quotes(store, "dubbla_roller", max_quotes=2, min_words=3)
    assert frame["document"].tolist() == ["a", "b"]
