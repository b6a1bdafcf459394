"""qcode inspect (golden output), the reading warnings of qcode tag, and folders with nothing
or something unreadable in them."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from qcode.cli import cli

FORMATS = Path(__file__).parent / "data" / "formats"
CODEBOOK = str(Path(__file__).resolve().parents[1] / "codebooks" / "kronoberg.yaml")
GOLDEN = Path(__file__).parent / "golden" / "inspect"


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def check_golden(name: str, produced: str, update_golden: bool) -> None:
    golden = GOLDEN / name
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(produced, encoding="utf-8", newline="\n")
    assert golden.exists(), f"no golden file {golden}; run pytest --update-golden"
    assert produced == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "names, golden",
    [
        (["otter-names.txt", "preamble-heading.md", "zoom-short-times.txt"], "three-files.txt"),
        (["no-labels-guess.txt", "label-own-line.txt"], "guessed-and-labels.txt"),
    ],
)
def test_inspect_output_matches_golden(names, golden, tmp_path, monkeypatch, update_golden):
    for name in names:
        shutil.copy(FORMATS / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    result = run("inspect", *names)
    assert result.exit_code == 0, result.output
    check_golden(golden, result.stdout, update_golden)
    assert not (tmp_path / "qcode.db").exists()  # nothing stored


def test_inspect_a_folder_names_skipped_files_and_a_bad_file(tmp_path, monkeypatch, update_golden):
    folder = tmp_path / "t"
    folder.mkdir()
    shutil.copy(FORMATS / "frontmatter-named.md", folder)
    (folder / "anteckningar.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    (folder / "bild.png").write_bytes(b"\x89PNG")
    (folder / "tom.txt").write_text("", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run("inspect", "t")
    assert result.exit_code == 2  # one file could not be read
    check_golden("folder.txt", result.stdout, update_golden)
    assert "Traceback" not in result.output


def test_tag_prints_reading_warnings_once_per_file_and_a_count(tmp_path, monkeypatch):
    folder = tmp_path / "t"
    folder.mkdir()
    # (file names that could be a person's name get another id, see privacy; these cannot)
    shutil.copy(FORMATS / "otter-names.txt", folder / "intervju-07.txt")
    shutil.copy(FORMATS / "frontmatter-named.md", folder / "intervju-08.md")
    (folder / "intervju-09.txt").write_text(
        "---\ntitle: Taxiförare\ngroup: taxi\n---\nIP: Vi kör mest på natten.\n"
        "IP: Ingen har frågat oss om sådant.\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    result = run("tag", "t", "--db", "p.db", "--codebook", CODEBOOK, "-j", "1")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: t/")]
    # (the CLI may redact the guessed interviewer's name in what it prints)
    assert [re.sub(r"\[NAMN-\d+\]", "Helena Strand", w) for w in warnings] == [
        "warning: t/intervju-07.txt: interviewer guessed: Helena Strand (mostly short questions; "
        "confirm with `interviewer: NAME` in the front matter); no title or group in the "
        "metadata (quotes are attributed by title, reports grouped by group)",
        "warning: t/intervju-09.txt: no interviewer turn found, everything will be coded as the "
        "respondent's (name the interviewer with `interviewer:` in the front matter or "
        "`interviewer_labels` in qcode.yaml)",
    ]
    assert re.search(r"warnings: \d+ \(see above\)", result.stderr)
    again = run(
        "tag", "t", "--db", "p.db", "--codebook", CODEBOOK, "-j", "1"
    )  # unchanged files say it again
    assert [l for l in again.stderr.splitlines() if l.startswith("warning: t/")] == warnings


def test_a_speaker_label_seen_once_is_a_warning(tmp_path, monkeypatch):
    from qcode.ingest import read_path
    from qcode.ingest.inspection import reading_warnings

    path = tmp_path / "fokus.txt"
    path.write_text(
        "---\ntitle: Fokusgrupp\ngroup: hotell\n---\n"
        "Intervjuare: Hur gör ni?\nAnna: Vi ringer polisen.\nBo: Vi gör inget.\n"
        "Intervjuare: Och sen?\nAnna: Inget mer.\nCecilia: Jag håller med.\n",
        encoding="utf-8",
    )
    [doc] = read_path(path)
    assert reading_warnings(doc) == [
        f"{path}: speaker label(s) seen only once: Bo, Cecilia (a typo of another label, or a "
        "line that is not a speaker?)"
    ]


def test_tag_on_a_folder_without_transcripts_is_an_error(tmp_path, monkeypatch):
    (tmp_path / "tom").mkdir()
    (tmp_path / "bilder").mkdir()
    (tmp_path / "bilder" / "a.png").write_bytes(b"\x89PNG")
    monkeypatch.chdir(tmp_path)
    for folder in ("tom", "bilder"):
        result = run("tag", folder, "--db", "p.db", "--codebook", CODEBOOK)
        assert result.exit_code == 2
        assert f"no transcripts found in {folder} (looked for .txt .md .docx" in result.output
        assert "0 tagged" not in result.output


def test_unsupported_files_in_a_folder_are_skipped_with_one_warning(tmp_path, monkeypatch):
    folder = tmp_path / "t"
    folder.mkdir()
    shutil.copy(FORMATS / "frontmatter-named.md", folder)
    for name in ("a.doc", "b.rtf", "c.mp3"):
        (folder / name).write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    result = run("tag", "t", "--db", "p.db", "--codebook", CODEBOOK, "-j", "1")
    assert result.exit_code == 0, result.output
    skipped = [l for l in result.stderr.splitlines() if "skipped" in l]
    assert len(skipped) == 1 and all(n in skipped[0] for n in ("a.doc", "b.rtf", "c.mp3"))
    assert "documents: 1 tagged" in result.output
    strict = run("tag", "t", "--db", "p.db", "--codebook", CODEBOOK, "--strict")
    assert strict.exit_code == 2 and "a.doc" in strict.output and "--strict" in strict.output


def test_one_unsupported_file_named_on_the_command_line_is_an_error(tmp_path, monkeypatch):
    (tmp_path / "intervju.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    monkeypatch.chdir(tmp_path)
    result = run("tag", "intervju.doc", "--db", "p.db", "--codebook", CODEBOOK)
    assert result.exit_code == 2
    assert "intervju.doc: qcode cannot read an old Word .doc file" in result.output
    assert "save it as .docx" in result.output
