"""check-privacy over every output of `make demo`: clean as shipped, and a hit for every name
planted in a variant (transcript text, speaker label, metadata, survey name column, file name)
when the redaction is switched off; with it on, the planted names appear in no output."""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from pathlib import Path

from click.testing import CliRunner

from qcode import privacy
from qcode.cli import cli

REPO = Path(__file__).resolve().parents[1]

#: every step of `make demo` (Makefile), plus the exports that are not in it.
DEMO_STEPS = [
    ["tag", "transcripts/", "--db", "out/demo.db", "-o", "out/codings.csv", "-j", "1"],
    [
        "report",
        "frequencies",
        "--db",
        "out/demo.db",
        "-o",
        "out/frequencies.md",
        "--plot",
        "out/frequencies.png",
    ],
    [
        "report",
        "cooccurrence",
        "--db",
        "out/demo.db",
        "-o",
        "out/cooccurrence.md",
        "--plot",
        "out/cooccurrence.png",
    ],
    ["quotes", "--db", "out/demo.db", "-o", "out/quotes.md"],
    ["quotes", "--db", "out/demo.db", "-o", "out/quotes.docx"],
    [
        "crosstab",
        "--db",
        "out/demo.db",
        "--survey",
        "data/survey/synthetic-respondents.csv",
        "-o",
        "out/crosstab.md",
        "--plot",
        "out/crosstab.png",
    ],
]
EXTRA_STEPS = [
    ["export", "review", "--db", "out/demo.db", "-o", "out/review.xlsx"],
    ["export", "qdpx", "--db", "out/demo.db", "-o", "out/demo.qdpx"],
    ["export", "codings", "--db", "out/demo.db", "-o", "out/codings.jsonl"],
    ["quotes", "--db", "out/demo.db", "-o", "out/quotes.html"],
    [
        "report",
        "frequencies",
        "--by",
        "document",
        "--db",
        "out/demo.db",
        "-o",
        "out/by-document.md",
    ],
]

#: where each planted person is put in the variant.
PLANTED = {
    "Gunnel Sjöberg": "transcript text",
    "Zara Okafor": "speaker label",
    "Signe Vallgren": "metadata (interviewer, and named in the text)",
    "Helmer Bjurling": "metadata (title)",
    "Tindra Qvarnström": "survey name column",
    "Vilgot Enqvist": "file name",
}


def _copy_demo(root: Path, transcripts: list[str] | None = None) -> None:
    shutil.copytree(REPO / "codebooks", root / "codebooks")
    (root / "data").mkdir()
    shutil.copytree(REPO / "data" / "survey", root / "data" / "survey")
    if transcripts is None:
        shutil.copytree(REPO / "transcripts", root / "transcripts")
    else:
        (root / "transcripts").mkdir()
        for name in transcripts:
            shutil.copy(REPO / "transcripts" / name, root / "transcripts" / name)
    shutil.copy(REPO / "qcode.yaml", root / "qcode.yaml")
    (root / "out").mkdir()


def _run_steps(root: Path, steps: list[list[str]]) -> list[str]:
    runner = CliRunner()
    old = os.getcwd()
    os.chdir(root)
    messages = []
    try:
        for args in steps:
            result = runner.invoke(cli, args)
            assert result.exit_code == 0, (args, result.output)
            messages.append(result.output)
    finally:
        os.chdir(old)
    return messages


def _check(root: Path):
    old = os.getcwd()
    os.chdir(root)
    try:
        return CliRunner().invoke(cli, ["check-privacy", "--db", "out/demo.db", "out/"])
    finally:
        os.chdir(old)


def test_every_output_of_the_demo_passes_check_privacy(tmp_path):
    _copy_demo(tmp_path)
    _run_steps(tmp_path, DEMO_STEPS + EXTRA_STEPS)
    result = _check(tmp_path)
    assert result.exit_code == 0, result.output
    outputs = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert {"codings.csv", "frequencies.png", "quotes.docx", "demo.qdpx", "review.xlsx"} <= set(
        outputs
    )


def _plant(root: Path) -> None:
    """Names in every place a name can come from (see PLANTED)."""
    folder = root / "transcripts"
    polis = folder / "polis-operativ.md"
    text = polis.read_text(encoding="utf-8")
    text = text.replace("interviewer: Intervjuare B", "interviewer: Signe Vallgren")
    text = text.replace(
        "title: Polis i yttre tjänst, Polisen i Kronobergs län",
        "title: Polis i yttre tjänst, Helmer Bjurling",
    )
    text = text.replace(
        "IP: Nej, bra.",
        "IP: Nej, bra. Jag pratade med Gunnel Sjöberg om det här. "
        "Och du heter Signe Vallgren, sa du.",
        1,
    )
    polis.write_text(text, encoding="utf-8")
    jour = folder / "jour-kvinnojour.md"
    jour.write_text(
        jour.read_text(encoding="utf-8").replace("\nIP:", "\nZara Okafor:"), encoding="utf-8"
    )
    shutil.move(folder / "kyrka-diakon.md", folder / "Vilgot Enqvist.md")
    named = folder / "Vilgot Enqvist.md"
    named.write_text(
        re.sub(r"(?m)^id: .*\n", "", named.read_text(encoding="utf-8"), count=1), encoding="utf-8"
    )
    survey = folder / "survey_free_text.csv"
    lines = survey.read_text(encoding="utf-8").splitlines()
    lines[0] += ",namn"
    lines[1] += ",Tindra Qvarnström"
    lines[2:] = [line + "," for line in lines[2:]]
    survey.write_text("\n".join(lines) + "\n", encoding="utf-8")


VARIANT_FILES = [
    "polis-operativ.md",
    "jour-kvinnojour.md",
    "kyrka-diakon.md",
    "survey_free_text.csv",
]


def _leaky(monkeypatch) -> None:
    """Every route as if it forgot to redact: the detector still finds, nothing is replaced."""
    monkeypatch.setattr(
        privacy.Redactor, "redact_with_positions", lambda self, text: privacy.Redacted(text, ())
    )
    monkeypatch.setattr(privacy, "redact_frame", lambda frame, redactor, columns: frame.copy())
    monkeypatch.setattr("qcode.exchange.qdpx._redacted_metadata", lambda meta, redactor: meta)
    for where in ("qcode.project.private_ids", "qcode.tagrun.private_ids"):  # writer, workers
        monkeypatch.setattr(where, lambda documents, path, redactor: list(documents))


def _all_text(folder: Path) -> str:
    parts = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("demo.db"):
            continue
        if path.suffix in (".docx", ".xlsx", ".qdpx"):
            with zipfile.ZipFile(path) as archive:
                parts += [archive.read(n).decode("utf-8", "replace") for n in archive.namelist()]
        else:
            parts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(parts)


STEPS_WITH_SURVEY = DEMO_STEPS + EXTRA_STEPS


def test_a_leak_of_any_planted_name_is_caught(tmp_path, monkeypatch):
    _copy_demo(tmp_path, VARIANT_FILES)
    _plant(tmp_path)
    _leaky(monkeypatch)
    _run_steps(tmp_path, STEPS_WITH_SURVEY)
    leaked = _all_text(tmp_path / "out")
    result = _check(tmp_path)
    assert result.exit_code == 1
    for name, where in PLANTED.items():
        assert name in leaked, f"{name} ({where}) never reached an output; the test plants badly"
        masks = {privacy.mask(name), *(privacy.mask(part) for part in name.split())}
        assert any(f"({m})" in result.output for m in masks), f"{name} ({where}) not flagged"


def test_with_redaction_on_no_planted_name_leaves_the_project(tmp_path):
    _copy_demo(tmp_path, VARIANT_FILES)
    _plant(tmp_path)
    messages = _run_steps(tmp_path, STEPS_WITH_SURVEY)
    text = _all_text(tmp_path / "out") + "\n".join(messages)
    for name in PLANTED:
        for part in name.split():
            assert part not in text, (name, PLANTED[name])
    result = _check(tmp_path)
    assert result.exit_code == 0, result.output
