"""Reports for a Swedish write-up: one language per output, display labels, Excel-friendly CSV,
escaped Markdown, and a crosstab whose statistics a methodologist can sign."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qcode.config import ProjectConfig, load_config
from qcode.errors import ConfigError
from qcode.reports import (
    MESSAGES,
    Presentation,
    benjamini_hochberg,
    crosstab,
    frequencies,
    plot_crosstab,
    quotes,
    read_questions,
    render_crosstab,
    render_frequencies,
    render_quotes,
    survey_by_group,
)
from qcode.reports.crosstab import _correlations
from qcode.reports.i18n import presentation_for
from qcode.store import Store

DATA = Path(__file__).parent / "data" / "reports"
REPO = Path(__file__).resolve().parents[1]

_spec = importlib.util.spec_from_file_location("reports_fixture_lang", DATA / "fixture_project.py")
fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixture)


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fixture.build_store(tmp_path_factory.mktemp("lang") / "project.db")


@pytest.fixture
def store(db_path: Path):
    with Store(db_path, create=False) as opened:
        yield opened


# -- the catalogue ----------------------------------------------------------------------------
def test_catalogue_has_every_message_in_both_languages() -> None:
    assert set(MESSAGES["sv"]) == set(MESSAGES["en"])
    for key in MESSAGES["sv"]:
        sv, en = MESSAGES["sv"][key], MESSAGES["en"][key]
        fields = {f for f in __import__("re").findall(r"{(\w+)}", sv)}
        assert fields == set(__import__("re").findall(r"{(\w+)}", en)), key


def test_language_comes_from_flag_then_project_then_codebook(tmp_path: Path) -> None:
    codebook = tmp_path / "cb.yaml"
    codebook.write_text("name: x\nlanguage: en-GB\ncodes: []\n", encoding="utf-8")
    config = ProjectConfig(root=tmp_path, codebook=codebook)
    assert presentation_for(config).lang == "en"
    assert presentation_for(config, lang="sv").lang == "sv"
    assert presentation_for(ProjectConfig(root=tmp_path, codebook=codebook, lang="sv")).lang == "sv"
    assert presentation_for(ProjectConfig(root=tmp_path)).lang == "sv"
    (tmp_path / "qcode.yaml").write_text("lang: de\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="lang: 'de' is not one of sv, en"):
        load_config(tmp_path)


def test_labels_from_groups_file_and_project_file(tmp_path: Path) -> None:
    (tmp_path / "codebooks").mkdir()
    (tmp_path / "codebooks" / "groups.yaml").write_text(
        "group:\n  aklagare: Åklagarmyndigheten\n  polis: Polisen\n"
        "main_group:\n  naringsbranscher: Näringsbranscher\n",
        encoding="utf-8",
    )
    (tmp_path / "qcode.yaml").write_text(
        "codebook: codebooks/kb.yaml\nlabels:\n  group:\n    polis: Polismyndigheten\n"
        "  hotell: Hotell och vandrarhem\ncsv_dialect: excel-sv\n",
        encoding="utf-8",
    )
    style = presentation_for(load_config(tmp_path))
    assert style.label("group", "aklagare") == "Åklagarmyndigheten"
    assert style.label("group", "polis") == "Polismyndigheten"  # qcode.yaml wins
    assert style.label("main_group", "naringsbranscher") == "Näringsbranscher"
    assert style.label("group", "hotell") == "Hotell och vandrarhem"  # any key
    assert style.label("group", "taxi") == "taxi"
    assert style.csv_dialect == "excel-sv"
    (tmp_path / "qcode.yaml").write_text("labels: [a, b]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="labels: expects a mapping"):
        load_config(tmp_path)


def test_demo_labels_name_every_group_of_the_study() -> None:
    import yaml

    labels = yaml.safe_load((REPO / "codebooks" / "groups.yaml").read_text(encoding="utf-8"))
    assert len(labels["group"]) == 14 and len(labels["main_group"]) == 4
    assert labels["group"]["aklagare"] == "Åklagarmyndigheten"
    assert labels["main_group"]["naringsbranscher"] == "Näringsbranscher"
    published = pd.read_csv(REPO / "data" / "survey" / "kronoberg-2010-aggregates.csv")
    assert set(labels["group"]) == set(published.query("level == 'group'")["group"])
    assert set(labels["main_group"]) == set(published.query("level == 'group'")["main_group"])
    bundled = REPO / "src" / "qcode" / "data" / "groups.yaml"
    assert bundled.read_text(encoding="utf-8") == (REPO / "codebooks" / "groups.yaml").read_text(
        encoding="utf-8"
    )


def test_labels_reach_reports_but_csv_keeps_ids(store: Store, tmp_path: Path) -> None:
    style = Presentation("sv", {"group": {"polis": "Polismyndigheten", "kommuner": "Kommunerna"}})
    freq = frequencies(store, "group", level=1)
    md = render_frequencies(freq, tmp_path / "f.md", style=style).read_text(encoding="utf-8")
    assert "Polismyndigheten (n=2)" in md and "| polis" not in md
    csv = render_frequencies(freq, tmp_path / "f.csv", style=style).read_text(encoding="utf-8")
    assert "polis (n=2) · documents" in csv and "Polismyndigheten" not in csv
    quoted = quotes(store, "beredskap", max_quotes=5)
    text = render_quotes(quoted, tmp_path / "q.md", style=style).read_text(encoding="utf-8")
    assert "(Kommunerna)" in text  # an untitled document is attributed by its group's label


# -- CSV for Swedish Excel --------------------------------------------------------------------
def test_excel_csv_reads_back_as_numbers(store: Store, tmp_path: Path) -> None:
    freq = frequencies(store, "group", level=1)
    path = render_frequencies(freq, tmp_path / "f.csv", style=Presentation(csv_dialect="excel-sv"))
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b";" in raw.splitlines()[0]
    table = pd.read_csv(path, sep=";", decimal=",", encoding="utf-8-sig")
    assert table.loc[table["code"] == "beredskap", "kommuner (n=2) · share"].item() == 0.5
    assert table["total (n=6) · share"].dtype == np.float64
    assert "0,5" in raw.decode("utf-8-sig")
    plain = render_frequencies(freq, tmp_path / "g.csv")
    assert not plain.read_bytes().startswith(b"\xef\xbb\xbf")
    assert pd.read_csv(plain).equals(table)


# -- Markdown from hostile transcripts (issue 19) ---------------------------------------------
HOSTILE = (
    "Hon sa <script>alert('x')</script> och klickade [här](javascript:alert(1)) "
    "och såg ![bild](http://example.org/spår.png) <img src=x onerror=alert(2)> "
    "<http://example.org> *fet* `kod`."
)


def test_markdown_reports_escape_transcript_text(tmp_path: Path) -> None:
    """Nothing a respondent said becomes HTML, a link or an image when the report renders."""
    from markdown_it import MarkdownIt

    frame = pd.DataFrame(
        [
            {
                "code": "beredskap",
                "label": "Beredskap",
                "document": "d",
                "segment": 0,
                "start": 0,
                "end": 10,
                "score": 1.0,
                "group": "polis",
                "attribution": "# Polis <b>x</b>",
                "attributed_by": "title",
                "words": 20,
                "text": HOSTILE,
            }
        ]
    )
    frame.attrs.update(codes=["beredskap"], labels={"beredskap": "Beredskap [x](javascript:y)"})
    source = render_quotes(frame, tmp_path / "q.md").read_text(encoding="utf-8")
    rendered = MarkdownIt("commonmark").enable("table").render(source)
    for bad in ("<script", "<a ", "<img", "href=", "<b>", "<em>", "<code>"):
        assert bad not in rendered, bad
    assert "alert(&#x27;x&#x27;)" in rendered or "alert('x')" in rendered
    assert "&lt;script&gt;" in rendered  # the words are still there, as text
    table = pd.DataFrame({"Kod": [HOSTILE], "n": [1]})
    from qcode.writers import frame_to_markdown

    cell = MarkdownIt("commonmark").enable("table").render(frame_to_markdown(table))
    assert "<script" not in cell and "<a " not in cell and "<img" not in cell
    html = render_quotes(frame, tmp_path / "q.html").read_text(encoding="utf-8")
    assert "<script" not in html and "<img" not in html


# -- crosstab statistics ----------------------------------------------------------------------
def test_benjamini_hochberg_matches_scipy() -> None:
    from scipy.stats import false_discovery_control

    p = np.array(
        [
            0.001,
            0.008,
            0.039,
            0.041,
            0.042,
            0.06,
            0.074,
            0.205,
            0.212,
            0.216,
            0.222,
            0.251,
            0.269,
            0.275,
            0.34,
            0.341,
            0.384,
            0.569,
            0.594,
            0.696,
        ]
    )
    np.testing.assert_allclose(benjamini_hochberg(p), false_discovery_control(p, method="bh"))
    shuffled = np.random.default_rng(3).permutation(p)
    np.testing.assert_allclose(
        benjamini_hochberg(shuffled), false_discovery_control(shuffled, method="bh")
    )
    with_gaps = np.array([0.02, np.nan, 0.01, 0.5, np.nan])
    adjusted = benjamini_hochberg(with_gaps)
    assert np.isnan(adjusted[[1, 4]]).all()
    np.testing.assert_allclose(
        adjusted[[0, 2, 3]], false_discovery_control([0.02, 0.01, 0.5], method="bh")
    )


def test_correlations_need_five_groups_and_carry_adjusted_p() -> None:
    table = pd.DataFrame(
        {
            "theme:t": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
            "up": [1, 2, 3, 4, 5, 6],
            "noise": [3, 1, 4, 1, 5, 9],
            "four": [1, 2, 3, 4, None, None],
            "flat": [1, 1, 1, 1, 1, 1],
        }
    )
    corr = _correlations(table, ["theme:t"], ["up", "noise", "four", "flat"]).set_index("indicator")
    assert corr.loc["up", "rho"] == 1.0 and corr.loc["up", "n"] == 6
    assert corr.loc["four", "n"] == 4
    assert math.isnan(corr.loc["four", "rho"]) and math.isnan(corr.loc["four", "p_value"])
    assert (
        math.isnan(corr.loc["four", "p_adjusted"]) and corr.loc["four", "note"] == "too few groups"
    )
    assert math.isnan(corr.loc["flat", "rho"]) and corr.loc["flat", "note"] == "constant values"
    from scipy.stats import false_discovery_control, spearmanr

    raw = [spearmanr(table["theme:t"], table[c]).pvalue for c in ("up", "noise")]
    expected = false_discovery_control(raw, method="bh")
    assert corr.loc["noise", "p_adjusted"] == pytest.approx(round(expected[1], 4))
    assert corr.loc["up", "p_adjusted"] <= 1.0


def _respondents(groups: int = 6) -> pd.DataFrame:
    """Four respondents per group; a `grupp` column duplicating `group`, an id, a count."""
    rows = []
    scale = ["inte_sannolikt", "mindre_sannolikt", "sannolikt", "mycket_sannolikt"]
    for g in range(groups):
        for r in range(4):
            rows.append(
                {
                    "respondent_id": f"R{g}{r}",
                    "group": f"g{g}",
                    "grupp": f"G{g}",
                    "main_group": "m",
                    "recipients": 10 + g,
                    "q1": "ja" if r <= g % 3 else "nej",
                    "q12": scale[(g + r) % 4] if r < 3 else "vet_ej",
                }
            )
    return pd.DataFrame(rows)


def test_a_column_repeating_the_group_is_never_an_indicator() -> None:
    survey = _respondents()
    _table, indicators, kind = survey_by_group(survey)
    assert kind == "respondents"
    assert not any(
        i.startswith(("grupp", "main_group", "recipients", "respondent_id")) for i in indicators
    )
    assert "q1=ja" in indicators
    for column in ("grupp", "group", "respondent_id", "recipients"):
        with pytest.raises(ConfigError, match=f"--indicator {column}: "):
            survey_by_group(survey, indicators=[column])
    questions = read_questions({"grupp": {"share": ["G1"]}})
    with pytest.raises(ConfigError, match="survey: questions: grupp: this column only repeats"):
        survey_by_group(survey, questions=questions)


def test_ordinal_scale_gives_mean_and_top_two_share() -> None:
    questions = read_questions(
        {
            "q12": {
                "label": {"sv": "Skulle anmäla", "en": "Would report"},
                "scale": ["inte_sannolikt", "mindre_sannolikt", "sannolikt", "mycket_sannolikt"],
            },
            "q1": {"share": "ja"},
        }
    )
    assert questions["q12"].share == ("sannolikt", "mycket_sannolikt") and questions["q12"].mean
    table, indicators, _kind = survey_by_group(_respondents(), questions=questions)
    assert indicators == ["q12=sannolikt|mycket_sannolikt", "q12:mean", "q1=ja"]
    # g0: answers inte_sannolikt, mindre_sannolikt, sannolikt, vet_ej (off the scale)
    assert table.loc["g0", "q12:mean"] == 2.0
    assert table.loc["g0", "q12=sannolikt|mycket_sannolikt"] == 0.25  # of all 4 respondents
    assert table.loc["g1", "q12=sannolikt|mycket_sannolikt"] == 0.5
    assert table.loc["g2", "q1=ja"] == 0.75
    chosen, indicators, _ = survey_by_group(_respondents(), indicators=["q12=sannolikt"])
    assert indicators == ["q12=sannolikt"] and chosen.loc["g0", "q12=sannolikt"] == 0.25
    for bad, message in (
        ({"q": {}}, "give the answers to count"),
        ({"q": {"scale": ["a", "b"], "share": ["c"]}}, "not on its scale"),
        ({"q": {"share": ["a"], "mean": True}}, "needs a scale"),
        ({"q": {"shares": ["a"]}}, "expects label, scale, share, mean"),
    ):
        with pytest.raises(ConfigError, match=message):
            read_questions(bad)


def test_crosstab_reports_chosen_indicators_with_labels(store: Store, tmp_path: Path) -> None:
    config = ProjectConfig(
        root=tmp_path,
        survey_questions={
            "q13_taken_seriously": {
                "label": {"sv": "Tas på allvar", "en": "Taken seriously"},
                "scale": ["inte_sannolikt", "mindre_sannolikt", "sannolikt", "mycket_sannolikt"],
            }
        },
    )
    result = crosstab(store, DATA / "survey_respondents.csv", config=config)
    assert result.indicators == [
        "q13_taken_seriously=sannolikt|mycket_sannolikt",
        "q13_taken_seriously:mean",
    ]
    assert result.tests == 0  # three groups have both: no correlation is computed at all
    assert result.correlations["rho"].isna().all()
    md = render_crosstab(result, tmp_path / "c.md")[0].read_text(encoding="utf-8")
    assert "Tas på allvar: andel sannolikt eller mycket sannolikt" in md
    assert "Tas på allvar: medelvärde (1–4)" in md
    en = render_crosstab(result, tmp_path / "c.en.md", style=Presentation("en"))[0]
    assert "Taken seriously: share sannolikt or mycket sannolikt" in en.read_text(encoding="utf-8")
    png = plot_crosstab(result, tmp_path / "c.png")
    assert png.read_bytes().startswith(b"\x89PNG")


def test_demo_crosstab_shows_a_handful_of_meaningful_indicators() -> None:
    config = load_config(REPO)
    questions = read_questions(config.survey_questions)
    survey = pd.read_csv(REPO / "data" / "survey" / "synthetic-respondents.csv")
    _table, indicators, _kind = survey_by_group(
        survey, questions=questions, id_column=config.id_column
    )
    assert indicators == [
        "q1_met_victims=ja",
        "q8_knowledge=god|mycket_god",
        "q8_knowledge:mean",
        "q12_would_report=sannolikt|mycket_sannolikt",
        "q12_would_report:mean",
    ]


# -- quote matrix -----------------------------------------------------------------------------
def test_quote_matrix_has_the_best_quote_per_code_and_group(store: Store, tmp_path: Path) -> None:
    from qcode.reports import quote_matrix, render_quote_matrix

    matrix = quote_matrix(store, ["beredskap", "rapportering"])
    ranked = quotes(store, ["beredskap", "rapportering"], max_quotes=50)
    assert not matrix.duplicated(["code", "value"]).any()
    for row in matrix.itertuples(index=False):
        first = ranked[(ranked["code"] == row.code) & (ranked["group"] == row.value)].iloc[0]
        assert (row.document, row.start, row.text) == (
            first["document"],
            first["start"],
            first["text"],
        )
    assert set(zip(matrix["code"], matrix["value"])) == {
        ("beredskap", "polis"),
        ("beredskap", "kommuner"),
        ("rapportering", "polis"),
        ("rapportering", "kommuner"),
        ("rapportering", "taxi"),
    }
    assert matrix.attrs["values"] == ["hotell", "kommuner", "polis", "taxi"]
    assert "Lena" not in " ".join(matrix["text"])
    style = Presentation("sv", {"group": {"polis": "Polismyndigheten"}})
    md = render_quote_matrix(matrix, tmp_path / "m.md", style=style).read_text(encoding="utf-8")
    assert md.startswith("# Citat per kod och grupp\n")
    # four groups, two codes: groups are the rows
    assert "| Grupp | Beredskap | Rapportering och anmälan |" in md
    assert "\n| hotell |  |  |\n" in md and "\n| Polismyndigheten | " in md
    style = Presentation("sv", {"group": {"polis": "Polismyndigheten"}}, transpose=False)
    assert "(Kriminalinspektör, länskriminalpolisen)" in md or "(Polis i Kronobergs län)" in md

    from openpyxl import load_workbook

    sheet = load_workbook(render_quote_matrix(matrix, tmp_path / "m.xlsx", style=style))[
        "Citatmatris"
    ]
    assert sheet["A2"].value == "Beredskap" and sheet.freeze_panes == "B2"
    filled = sheet["D2"]
    assert filled.value.endswith(")") and "\n(" in filled.value
    assert filled.alignment.wrap_text and filled.alignment.vertical == "top"

    from docx import Document
    from docx.oxml.ns import qn

    path = render_quote_matrix(matrix, tmp_path / "m.docx", style=Presentation("en"))
    document = Document(str(path))
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (297, 210)
    table = document.tables[0]
    assert [c.text for c in table.rows[0].cells] == [
        "Group",
        "Beredskap",
        "Rapportering och anmälan",
    ]
    assert len(table.rows) == 5 and table.rows[1].cells[1].text == ""  # hotell: no quote
    styles = {p.style.name for c in table.rows[3].cells for p in c.paragraphs}
    assert "Quote Attribution" in styles
    for run in document.element.body.iter(qn("w:r")):
        assert run.find(qn("w:rPr")).find(qn("w:lang")).get(qn("w:val")) == "en-GB"
    csv = pd.read_csv(render_quote_matrix(matrix, tmp_path / "m.csv"))
    assert {"code", "by", "value", "document", "start", "end", "text"} <= set(csv.columns)


def test_quote_matrix_cli_by_main_group(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from qcode.cli import cli

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        cli, ["quotes", "--matrix", "--by", "main_group", "--db", str(db_path), "-o", "m.xlsx"]
    )
    assert result.exit_code == 0, result.output
    sheet = pd.read_excel(tmp_path / "m.xlsx")
    assert list(sheet.columns) == ["Kod", "myndigheter", "naringsbranscher"]
    bad = CliRunner().invoke(
        cli, ["quotes", "--matrix", "--by", "interviewer", "--db", str(db_path)]
    )
    assert bad.exit_code == 2 and "personal names" in bad.stderr


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_plot_words_come_from_the_catalogue(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    """PNG titles, colour-bar labels and tick labels are in the report's language; a crosstab
    cell with fewer than five groups is blank (no value, no colour)."""
    import qcode.reports.plots as plots
    from qcode.reports import cooccurrence

    drawn = []

    def capture(values, annotations, rows, columns, output, **options):  # noqa: ANN001
        drawn.append((np.asarray(values, dtype="float64"), annotations, rows, columns, options))
        return Path(output)

    monkeypatch.setattr(plots, "heatmap", capture)
    style = Presentation(lang, {"group": {"polis": "Polismyndigheten"}})
    text = Presentation(lang).text
    plots.plot_frequencies(frequencies(store, "group", level=1), tmp_path / "f.png", style=style)
    plots.plot_cooccurrence(cooccurrence(store, unit="document"), tmp_path / "c.png", style=style)
    plots.plot_crosstab(
        crosstab(store, DATA / "survey_respondents.csv"), tmp_path / "x.png", style=style
    )
    (freq, co, cross) = drawn
    assert freq[4]["title"] == text("freq.plot_title", by=text("key.group"))
    assert freq[4]["colorbar"] == text("freq.plot_bar")
    assert "Polismyndigheten (n=2)" in freq[3] and text("total") + " (n=6)" in freq[3]
    assert co[4]["title"] == text("cooc.plot_title.document")
    assert co[4]["colorbar"] == text("cooc.plot_bar.document")
    assert cross[4]["title"] == text("cross.plot_title", min_groups=5)
    assert np.isnan(cross[0]).all() and all(cell == "" for row in cross[1] for cell in row)
    assert any(
        text("cross.share_of", question="q8_knowledge", answers="god") == r for r in cross[2]
    )


def test_groups_appear_in_the_alphabetical_order_of_their_labels(store: Store) -> None:
    from qcode.reports import frequencies_table

    labels = {"group": {"hotell": "Ädelhotell", "taxi": "Ambulanstaxi"}}
    freq = frequencies(store, "group", level=1)
    sv = frequencies_table(freq, pretty=True, style=Presentation("sv", labels))
    assert list(sv.columns[1:]) == [
        "Ambulanstaxi (n=1)",
        "kommuner (n=2)",
        "polis (n=2)",
        "Ädelhotell (n=1)",
        "Totalt (n=6)",
    ]  # å, ä, ö after z
    en = frequencies_table(freq, pretty=True, style=Presentation("en", labels))
    assert list(en.columns[1:3]) == ["Ädelhotell (n=1)", "Ambulanstaxi (n=1)"]


def test_export_codings_excel_dialect(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from qcode.cli import cli

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        cli, ["export", "codings", "--db", str(db_path), "-o", "c.csv", "--excel"]
    )
    assert result.exit_code == 0, result.output
    raw = (tmp_path / "c.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(tmp_path / "c.csv", sep=";", decimal=",", encoding="utf-8-sig")
    assert table["score"].dtype == np.float64 and table["score"].max() <= 1.0
    assert "polis_01" in set(table["document"])  # ids, not labels
