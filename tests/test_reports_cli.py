"""`qcode report frequencies|cooccurrence`, `qcode quotes`, `qcode crosstab` on the fixture
project, and the synthetic survey script."""

from __future__ import annotations

import csv
import importlib.util
import math
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from qcode.cli import cli

DATA = Path(__file__).parent / "data" / "reports"
REPO = Path(__file__).resolve().parents[1]


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fixture = _load("reports_fixture_cli", DATA / "fixture_project.py")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with the fixture database and no qcode.yaml (the repo's is not picked up)."""
    fixture.build_store(tmp_path / "project.db")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> click.testing.Result:  # noqa: F821
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_report_frequencies_writes_table_and_plot(project: Path) -> None:
    result = run(
        "report",
        "frequencies",
        "--db",
        "project.db",
        "--level",
        "1",
        "-o",
        "out/frequencies.md",
        "--plot",
        "out/frequencies.png",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "wrote out/frequencies.md\nwrote out/frequencies.png\n"
    text = (project / "out" / "frequencies.md").read_text(encoding="utf-8")
    assert "| Beredskap | 0 · 0 % · 0 | 1 · 50 % · 1 | 2 · 100 % · 2 |" in text
    assert (project / "out" / "frequencies.png").read_bytes().startswith(b"\x89PNG")


def test_report_frequencies_prints_without_output(project: Path) -> None:
    result = run(
        "report",
        "frequencies",
        "--db",
        "project.db",
        "--by",
        "study",
        "--by",
        "group",
        "--level",
        "1",
        "--source",
        "rule",
    )
    assert result.exit_code == 0
    assert "2010 / polis (n=2)" in result.stdout
    assert "Rapportering och anmälan" in result.stdout


def test_report_frequencies_refuses_a_name_key(project: Path) -> None:
    result = CliRunner().invoke(
        cli, ["report", "frequencies", "--db", "project.db", "--by", "interviewer"]
    )
    assert result.exit_code == 2
    assert (
        "Invalid value for '--by': interviewer: this metadata key holds personal names"
        in result.stderr
    )
    assert fixture.INTERVIEWER_NAME not in result.output
    assert "Traceback" not in result.output


def test_report_frequencies_format_by_suffix_and_bad_suffix(project: Path) -> None:
    assert run("report", "frequencies", "--db", "project.db", "-o", "f.xlsx").exit_code == 0
    assert pd.read_excel(project / "f.xlsx").shape[0] == 8
    bad = CliRunner().invoke(cli, ["report", "frequencies", "--db", "project.db", "-o", "f.pdf"])
    assert bad.exit_code == 2 and "cannot write format 'pdf'" in bad.stderr


def test_report_cooccurrence(project: Path) -> None:
    result = run(
        "report",
        "cooccurrence",
        "--db",
        "project.db",
        "--unit",
        "document",
        "--measure",
        "jaccard",
        "-o",
        "co.csv",
        "--plot",
        "co.png",
    )
    assert result.exit_code == 0
    table = pd.read_csv(project / "co.csv").set_index("code")
    assert table.loc["dubbla_roller", "rapportering"] == 0.75
    assert table.loc["rapportering", "rapportering"] == 4
    assert (project / "co.png").exists()


def test_quotes_docx_and_untitled_note(project: Path) -> None:
    result = CliRunner().invoke(cli, ["quotes", "--db", "project.db", "-o", "quotes.docx"])
    assert result.exit_code == 0
    assert result.stdout == "wrote quotes.docx\n"
    assert (
        "warning: 1 document(s) have no title; their quotes are attributed by group: kommun_02"
    ) in result.stderr
    assert (project / "quotes.docx").stat().st_size > 0


def test_quotes_to_stdout_with_options(project: Path) -> None:
    result = run(
        "quotes",
        "--db",
        "project.db",
        "--code",
        "rapportering",
        "--group",
        "taxi",
        "--max",
        "1",
        "--min-words",
        "5",
        "--max-words",
        "30",
    )
    assert result.exit_code == 0
    assert result.stdout == (
        "[rapportering] Jag skulle nog inte ringa polisen om jag inte var "
        "helt säker på vad jag hade sett i bilen.\n(Taxiförare)\n\n"
    )
    missing = CliRunner().invoke(cli, ["quotes", "--db", "project.db", "--code", "nope"])
    assert (
        missing.exit_code == 2
        and "Invalid value for '--code': nope: no such code" in missing.stderr
    )
    assert len(missing.stderr.strip().splitlines()) == 1  # one line, no usage text


def test_crosstab_warns_about_one_sided_groups(project: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "crosstab",
            "--db",
            "project.db",
            "--survey",
            str(DATA / "survey_respondents.csv"),
            "-o",
            "crosstab.md",
            "--plot",
            "crosstab.png",
        ],
    )
    assert result.exit_code == 0
    assert result.stdout == "wrote crosstab.md\nwrote crosstab.png\n"
    assert "only in the interviews, kept with empty survey cells: hotell" in result.stderr
    assert "only in the survey, kept with empty interview cells: bostadsbolag" in result.stderr
    text = (project / "crosstab.md").read_text(encoding="utf-8")
    assert "| bostadsbolag |  |  |" in text
    assert "för få grupper (n \\< 5)" in text


def test_crosstab_csv_writes_correlations_beside(project: Path) -> None:
    result = run(
        "crosstab",
        "--db",
        "project.db",
        "--survey",
        str(REPO / "data" / "survey" / "kronoberg-2010-aggregates.csv"),
        "--theme",
        "rapportering",
        "--indicator",
        "strong_suspicion_lower",
        "-o",
        "x.csv",
    )
    assert result.exit_code == 0
    assert result.stdout == "wrote x.csv\nwrote x.correlations.csv\n"
    groups = pd.read_csv(project / "x.csv")
    assert len(groups) == 14 and "theme:rapportering" in groups.columns
    assert set(pd.read_csv(project / "x.correlations.csv")["theme"]) == {"rapportering"}


def test_crosstab_missing_survey_is_a_one_line_error(project: Path) -> None:
    result = CliRunner().invoke(cli, ["crosstab", "--db", "project.db", "--survey", "nope.csv"])
    assert result.exit_code == 2
    assert "nope.csv: no such survey file" in result.stderr


def test_report_commands_have_help() -> None:
    for args in (["report", "frequencies"], ["report", "cooccurrence"], ["quotes"], ["crosstab"]):
        result = run(*args, "--help")
        assert result.exit_code == 0 and "--db" in result.stdout and "--source" in result.stdout


# -- the synthetic survey ---------------------------------------------------------------------
def test_synthetic_survey_follows_response_rates_and_is_reproducible() -> None:
    script = _load("make_synthetic_survey", REPO / "scripts" / "make_synthetic_survey.py")
    rows = script.make_rows()
    assert rows == script.make_rows()
    committed = REPO / "data" / "survey" / "synthetic-respondents.csv"
    with committed.open(encoding="utf-8") as handle:
        assert list(csv.DictReader(handle)) == rows
    aggregates = pd.read_csv(REPO / "data" / "survey" / "kronoberg-2010-aggregates.csv")
    expected = {
        r.group: int(round(r.recipients * r.response_rate_pct / 100))
        for r in aggregates.query("level == 'group'").itertuples()
    }
    sizes = pd.DataFrame(rows)["group"].value_counts().to_dict()
    assert sizes == expected
    assert sizes["taxi"] == 118 and sizes["aklagare"] == 1 and sum(sizes.values()) == 386
    assert {r["note"] for r in rows} == {"synthetic"}
    knowledge = pd.Series([r["q8_knowledge"] for r in rows])
    low = knowledge.isin(["ingen", "liten"]).mean()
    assert math.isclose(low, 0.738, abs_tol=0.1)
