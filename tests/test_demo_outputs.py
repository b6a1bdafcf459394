"""`make demo` in one language per output: every file it writes is read back and the report's
own words (headings, column labels, notes, sheet names) are checked against the other
language's catalogue. Transcript text, codebook labels, group labels and survey answers are
data, not report words, and are left out of the check.

The recipe is read from the Makefile and run through the CLI in a copy of the demo project, so
the test follows the Makefile as it changes.
"""

from __future__ import annotations

import html
import re
import shlex
import shutil
import zipfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from qcode.cli import cli
from qcode.reports import MESSAGES

REPO = Path(__file__).resolve().parents[1]
DEMO_PARTS = ("qcode.yaml", "codebooks", "transcripts", "data")
_WORD = re.compile(r"[^\W\d_]{4,}")


def demo_commands() -> list[list[str]]:
    """The qcode commands of the Makefile's ``demo`` recipe, continuation lines joined."""
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    recipe = text.split("\ndemo:", 1)[1].split("\n\n", 1)[0].replace("\\\n", " ")
    commands = []
    for line in recipe.splitlines():
        line = line.strip()
        if line.startswith("$(QCODE)"):
            line = line.replace("$(DEMO_DB)", "out/demo.db").replace("$(QCODE)", "")
            commands.append(shlex.split(line))
    return commands


def catalogue_words(lang: str) -> set[str]:
    other = "en" if lang == "sv" else "sv"
    own = {w.casefold() for text in MESSAGES[lang].values() for w in _WORD.findall(text)}
    theirs = {w.casefold() for text in MESSAGES[other].values() for w in _WORD.findall(text)}
    return own - theirs


def data_strings(root: Path) -> list[str]:
    """Codebook labels and ids, group labels and ids, survey answers: data in any language."""
    strings = []
    codebook = yaml.safe_load((root / "codebooks" / "kronoberg.yaml").read_text(encoding="utf-8"))

    def walk(codes: list) -> None:
        for code in codes or []:
            strings.extend([str(code.get("label", "")), str(code.get("id", ""))])
            walk(code.get("codes") or code.get("children") or [])

    walk(codebook.get("codes"))
    groups = yaml.safe_load((root / "codebooks" / "groups.yaml").read_text(encoding="utf-8"))
    for values in groups.values():
        for key, label in values.items():
            strings.extend([key, label])
    survey = (root / "data" / "survey" / "synthetic-respondents.csv").read_text(encoding="utf-8")
    for line in survey.splitlines()[1:]:
        strings.extend(v.replace("_", " ") for v in line.split(",")[3:])
    return sorted((s for s in strings if s), key=len, reverse=True)


def report_words(path: Path) -> str:
    """The text a report writes itself: quotes and their attributions left out."""
    if path.suffix == ".md":
        lines = path.read_text(encoding="utf-8").splitlines()
        return "\n".join(l for l in lines if not l.startswith(">") and not re.match(r"^\(.*\)$", l))
    if path.suffix == ".html":
        text = path.read_text(encoding="utf-8")
        text = re.sub(
            r"<blockquote>.*?</blockquote>|<p class=\"attribution\">.*?</p>", " ", text, flags=re.S
        )
        return html.unescape(re.sub(r"<[^>]+>", " ", text))
    if path.suffix == ".docx":
        from docx import Document

        return "\n".join(
            p.text
            for p in Document(str(path)).paragraphs
            if p.style.name not in ("Quote", "Quote Attribution")
        )
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True)
        parts = list(book.sheetnames)
        for sheet in book.worksheets:
            for row in sheet.iter_rows(max_row=1, values_only=True):
                parts.extend(str(v) for v in row if v is not None)
            for (value,) in sheet.iter_rows(min_row=2, max_col=1, values_only=True):
                parts.append(str(value))
        return "\n".join(parts)
    return ""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    for part in DEMO_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, root / part)
        else:
            shutil.copy2(source, root / part)
    import os

    here = os.getcwd()
    os.chdir(root)
    try:
        for args in demo_commands():
            if args[0] == "tag":
                args = [*args, "--jobs", "1"]
            result = CliRunner().invoke(cli, args, catch_exceptions=False)
            assert result.exit_code == 0, (args, result.output)
    finally:
        os.chdir(here)
    return root


@pytest.mark.slow
def test_demo_outputs_speak_one_language(demo: Path) -> None:
    outputs = [
        p for p in (demo / "out").rglob("*") if p.suffix in (".md", ".html", ".docx", ".xlsx")
    ]
    assert len(outputs) >= 9
    assert any(p.parent.name == "en" for p in outputs)
    data = data_strings(demo)
    for path in outputs:
        lang = "en" if path.parent.name == "en" else "sv"
        text = report_words(path)
        for value in data:
            text = text.replace(value, " ")
        foreign = catalogue_words("sv" if lang == "en" else "en")
        found = sorted({w for w in _WORD.findall(text) if w.casefold() in foreign})
        assert not found, (
            f"{path.relative_to(demo)} ({lang}) has words of the other language: {found}"
        )


@pytest.mark.slow
def test_demo_writes_labels_swedish_headings_and_the_new_crosstab(demo: Path) -> None:
    out = demo / "out"
    freq = (out / "frequencies.md").read_text(encoding="utf-8")
    assert freq.startswith("# Teman per grupp\n")
    assert "| Grupp | Erfarenheter och uppfattning |" in freq  # 14 groups > 6 themes: turned
    assert "| Åklagarmyndigheten (n=" in freq and "aklagare" not in freq
    cross = (out / "crosstab.md").read_text(encoding="utf-8")
    assert "Har mött troliga offer: andel ja" in cross
    assert "Kunskap om människohandel: andel god eller mycket god" in cross
    assert "Skulle anmäla en misstanke: andel sannolikt eller mycket sannolikt" in cross
    assert "BH-metoden" in cross and "p just." in cross
    assert "recipients" not in cross and "grupp=" not in cross
    with zipfile.ZipFile(out / "quotes.docx") as archive:
        document = archive.read("word/document.xml").decode("utf-8")
    assert 'w:val="sv-SE"' in document and "en-US" not in document
    assert "# Theme frequencies by group" in (out / "en" / "frequencies.md").read_text(
        encoding="utf-8"
    )
    import pandas as pd

    excel = pd.read_csv(out / "frequencies-excel.csv", sep=";", decimal=",", encoding="utf-8-sig")
    assert excel.filter(like="· share").dtypes.eq("float64").all()
    codings = (out / "codings.csv").read_text(encoding="utf-8")
    assert ",aklagare,myndigheter," in codings  # exports keep the ids
