"""Issue 19, the ingest side: nothing replaced silently, nothing hung, nothing crashes.

Every fixture is generated here: two folders with the same file, a FIFO, a sparse 3 GB file,
a file name that is not UTF-8, a stray byte in UTF-8, control characters, a .docx zip bomb and
damaged .docx XML.
"""

from __future__ import annotations

import io
import os
import random
import signal
import sys
import tracemalloc
import zipfile
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner

from qcode.cli import cli
from qcode.errors import TranscriptError
from qcode.ingest import discover_inputs, read_path
from qcode.store import Store

CODEBOOK = str(Path(__file__).resolve().parents[1] / "codebooks" / "kronoberg.yaml")
INTERVIEW = (
    "---\ntitle: Polis i Kronobergs län\ngroup: polis\n---\n"
    "I: Har ni en handlingsplan?\nIP: {answer}\n"
)


def tag(*args: str):
    return CliRunner().invoke(
        cli, ["tag", *args, "--db", "p.db", "--codebook", CODEBOOK, "-j", "1"]
    )


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def time_limit():
    """Fail instead of hanging: SIGALRM after the given seconds."""

    def handler(signum, frame):
        raise TimeoutError("hung")

    old = signal.signal(signal.SIGALRM, handler)
    yield lambda seconds: signal.alarm(seconds)
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def test_the_same_id_from_another_folder_is_an_error_unless_replace(in_tmp: Path) -> None:
    for year, answer in (("2010", "Nej, ingen plan alls."), ("2011", "Ja, sedan i våras.")):
        (in_tmp / "t" / year).mkdir(parents=True)
        (in_tmp / "t" / year / "polis-01.md").write_text(
            INTERVIEW.format(answer=answer), encoding="utf-8"
        )
    assert tag("t/2010").exit_code == 0
    second = tag("t/2011")
    assert second.exit_code == 2
    assert "polis-01" in second.output and "already stored from t/2010/polis-01.md" in second.output
    assert "--replace" in second.output and "Traceback" not in second.output
    with Store(in_tmp / "p.db") as store:
        assert "ingen plan alls" in store.document_text("polis-01")  # nothing replaced
    assert tag("t/2010").exit_code == 0  # the same file again is fine
    replaced = tag("t/2011", "--replace")
    assert replaced.exit_code == 0, replaced.output
    with Store(in_tmp / "p.db") as store:
        assert "sedan i våras" in store.document_text("polis-01")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_named_like_a_transcript_does_not_block(in_tmp: Path, time_limit) -> None:
    (in_tmp / "t").mkdir()
    (in_tmp / "t" / "a.md").write_text(INTERVIEW.format(answer="Nej."), encoding="utf-8")
    os.mkfifo(in_tmp / "t" / "x.txt")
    time_limit(60)
    found = discover_inputs(["t"])
    assert [p.name for p in found.special] == ["x.txt"]
    result = tag("t")
    assert result.exit_code == 0, result.output
    assert "skipped 1 pipe(s) or device(s)" in result.stderr and "x.txt" in result.stderr
    named = tag("t/x.txt")
    assert named.exit_code == 2 and "x.txt: not a regular file" in named.output


def test_a_huge_file_is_refused_by_its_size_before_anything_reads_it(in_tmp: Path) -> None:
    (in_tmp / "t").mkdir()
    (in_tmp / "t" / "a.md").write_text(INTERVIEW.format(answer="Nej."), encoding="utf-8")
    with open(in_tmp / "t" / "film.txt", "wb") as handle:  # sparse: takes no disk
        handle.truncate(3 * 1024**3)
    tracemalloc.start()
    try:
        result = tag("t", "--keep-going")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.exit_code == 1
    assert "film.txt: file is 3.07e+03 MB, more than the 20 MB limit" in result.output
    assert peak < 200 * 1024**2, f"peak {peak / 2**20:.0f} MB"


@pytest.mark.skipif(sys.platform != "linux", reason="file names are bytes only on Linux")
def test_file_names_that_are_not_utf8_give_one_line_not_a_traceback(in_tmp: Path) -> None:
    (in_tmp / "t").mkdir()
    (in_tmp / "t" / "a.md").write_text(INTERVIEW.format(answer="Nej."), encoding="utf-8")
    bad = os.fsdecode(b"t/intervju-\xe9.md")
    Path(bad).write_text(INTERVIEW.format(answer="Ja."), encoding="utf-8")
    for args in (["t"], ["t", "--keep-going"]):
        result = tag(*args)
        assert result.exit_code == 0, result.output
        assert "Traceback" not in result.output
        assert "not valid UTF-8 (rename them): t/intervju-\ufffd.md" in result.stderr
    named = tag(bad, "--keep-going")
    assert named.exit_code == 1 and "Traceback" not in named.output
    assert "intervju-\ufffd.md: the file name is not valid UTF-8" in named.output


def test_one_bad_byte_in_utf8_keeps_the_file_utf8_and_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(
        "I: Hur går det?\nIP: Det går bra, tack.\n".encode()
        + b"IP: Sen kom han till v\xe4r mottagning.\n"
        + "IP: Så var det.\n".encode()
    )
    [doc] = read_path(path)
    assert "går bra" in doc.text and "Så var det" in doc.text  # still UTF-8, not mojibake
    assert "v\ufffdr mottagning" in doc.text
    [warning] = doc.warnings
    assert warning.startswith(f"{path}:3:") and "not valid UTF-8" in warning
    # a file that is cp1252 through and through is still read as cp1252
    legacy = tmp_path / "b.txt"
    legacy.write_bytes("I: Hur går det?\nIP: Så där.\n".encode("cp1252"))
    [doc] = read_path(legacy)
    assert "Så där" in doc.text and "line 1" in doc.warnings[0]


def test_control_characters_are_replaced_at_ingest_and_exports_work(in_tmp: Path) -> None:
    (in_tmp / "t").mkdir()
    path = in_tmp / "t" / "ctrl.md"
    path.write_text(
        "---\ntitle: Polis\ngroup: polis\n---\nI: Har ni en handlingsplan?\n"
        "IP: Vi har ingen handlingsplan\x1b[31m alls\x0bför människohandel.\x0c\n"
        "IP: Vi\x07 samverkar inte med polisen\x01.\n",
        encoding="utf-8",
    )
    [doc] = read_path(path)
    assert not any(ch in doc.text for ch in "\x1b\x0b\x0c\x07\x01")
    assert [w for w in doc.warnings if "control character" in w] == [
        f"{path}:6: 5 control character(s) such as U+001B replaced (first on line 6)"
    ]
    assert tag("t").exit_code == 0
    for name in ("c.xlsx", "c.csv"):
        result = CliRunner().invoke(cli, ["export", "codings", "--db", "p.db", "-o", name])
        assert result.exit_code == 0, result.output
    quotes = CliRunner().invoke(cli, ["quotes", "--db", "p.db", "-o", "q.docx", "--min-words", "2"])
    assert quotes.exit_code == 0, quotes.output


def _docx_bytes(text: str = "I: Har ni en plan?") -> bytes:
    buffer = io.BytesIO()
    document = docx.Document()
    document.add_paragraph(text)
    document.save(buffer)
    return buffer.getvalue()


def test_a_docx_zip_bomb_is_refused_with_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "bomb.docx"
    original = zipfile.ZipFile(io.BytesIO(_docx_bytes()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in original.infolist():
            if info.filename == "word/document.xml":
                with bomb.open("word/document.xml", "w", force_zip64=True) as member:
                    block = b" " * (1 << 20)
                    for _ in range(96):  # 96 MB of spaces: ~100 KB compressed
                        member.write(block)
            else:
                bomb.writestr(info, original.read(info.filename))
    assert path.stat().st_size < 2 * 1024**2
    tracemalloc.start()
    try:
        with pytest.raises(TranscriptError, match="zip bomb") as info:
            read_path(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(info.value).startswith(f"{path}: refused") and "\n" not in str(info.value)
    assert peak < 20 * 1024**2, f"peak {peak / 2**20:.0f} MB"


@pytest.mark.parametrize("damage", ["truncated", "not xml", "wrong root", "no body"])
def test_damaged_docx_xml_is_a_one_line_error(tmp_path: Path, damage: str) -> None:
    original = zipfile.ZipFile(io.BytesIO(_docx_bytes()))
    xml = original.read("word/document.xml")
    broken = {
        "truncated": xml[: len(xml) // 2],
        "not xml": b"\x00\xff garbage",
        "wrong root": b'<?xml version="1.0"?><w:hdr xmlns:w="http://schemas.openxmlformats'
        b'.org/wordprocessingml/2006/main"/>',
        "no body": b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxml'
        b'formats.org/wordprocessingml/2006/main"/>',
    }[damage]
    path = tmp_path / "trasig.docx"
    with zipfile.ZipFile(path, "w") as out:
        for info in original.infolist():
            out.writestr(
                info,
                broken if info.filename == "word/document.xml" else original.read(info.filename),
            )
    with pytest.raises(TranscriptError) as info:
        read_path(path)
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)


def _sample(suffix: str, tmp_path: Path) -> bytes:
    from formats_fixtures import odt, pdf

    if suffix == ".docx":
        return _docx_bytes("Intervjuare: Hur ofta?\n")
    if suffix == ".odt":
        return odt(tmp_path / "s.odt", ["I: Hur ofta?", "R: Sällan."]).read_bytes()
    return pdf(tmp_path / "s.pdf", [["I: Hur ofta?", "R: Sällan."]]).read_bytes()


@pytest.mark.parametrize("suffix", [".docx", ".odt", ".pdf"])
def test_mutated_office_files_raise_only_transcript_errors(tmp_path: Path, suffix: str) -> None:
    data = _sample(suffix, tmp_path)
    rng = random.Random(19)
    for trial in range(40):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        path = tmp_path / f"m{trial}{suffix}"
        path.write_bytes(bytes(mutated))
        try:
            read_path(path)
        except TranscriptError as error:
            assert "\n" not in str(error)
