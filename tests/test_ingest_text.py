"""Plain-text transcripts: speaker labels, timestamps, front matter, encodings, bad input."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from qcode.errors import TranscriptError, UnsupportedFormat
from qcode.ingest import IngestConfig, read_path
from qcode.ingest.turns import parse_turns


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return path


def spans(text: str, **kwargs) -> list[tuple[str, bool, str, dict]]:
    return [
        (t.speaker, t.is_interviewer, text[t.start : t.end], dict(t.metadata))
        for t in parse_turns(text, **kwargs)
    ]


# -- speaker labels ------------------------------------------------------------------------------


def test_labels_open_turns_and_continuation_lines_stay_in_the_turn() -> None:
    text = (
        "Intervjuare: Hur ser samverkan ut hos er?\n"
        "IP: Vi har ett nätverk med polisen.\n"
        "Det träffas två gånger per år.\n"
        "Intervjuare: Och socialtjänsten?\n"
        "IP: Mindre.\n"
    )
    assert spans(text) == [
        ("Intervjuare", True, "Hur ser samverkan ut hos er?", {}),
        ("IP", False, "Vi har ett nätverk med polisen.\nDet träffas två gånger per år.", {}),
        ("Intervjuare", True, "Och socialtjänsten?", {}),
        ("IP", False, "Mindre.", {}),
    ]


@pytest.mark.parametrize(
    "label",
    [
        "I",
        "i",
        "Int",
        "INTERVJUARE",
        "Interviewer",
        "F",
        "I2",
        "Intervjuare (AS)",
        "Intervjuare Anna",
    ],
)
def test_interviewer_labels_match_case_insensitively(label: str) -> None:
    turns = parse_turns(f"{label}: Fråga?\nR: Svar.")
    assert (turns[0].speaker, turns[0].is_interviewer) == (" ".join(label.split()), True)
    assert turns[1].is_interviewer is False


def test_question_answer_transcripts_and_label_notes() -> None:
    text = (
        "Fråga 3: Hur ser samverkan ut?\n"
        "Svar: Vi ringer polisen.\n"
        "Intervjuaren: Något mer?\n"
        "Respondent 2 (kvinna, 45 år): Nej, inte nu.\n"
    )
    assert [(s[0], s[1], s[2]) for s in spans(text)] == [
        ("Fråga 3", True, "Hur ser samverkan ut?"),
        ("Svar", False, "Vi ringer polisen."),
        ("Intervjuaren", True, "Något mer?"),
        ("Respondent 2 (kvinna, 45 år)", False, "Nej, inte nu."),
    ]


def test_configured_interviewer_labels_replace_the_defaults() -> None:
    turns = parse_turns(
        "Moderator: Välkomna.\nI: Jag heter Ida.", interviewer_labels=("Moderator",)
    )
    assert [(t.speaker, t.is_interviewer) for t in turns] == [("Moderator", True), ("I", False)]


def test_names_as_labels_and_label_on_its_own_line() -> None:
    text = "Anna Svensson:\nVi ringde polisen.\n\nBo Ek: Det gjorde vi inte.\n"
    assert spans(text) == [
        ("Anna Svensson", False, "Vi ringde polisen.", {}),
        ("Bo Ek", False, "Det gjorde vi inte.", {}),
    ]


def test_colon_inside_speech_is_not_a_label() -> None:
    text = (
        "I: Hur gick det till?\n"
        "R: Det var så här: vi ringde.\n"
        "Det var så här: vi ringde igen.\n"
        "Ja, det är klart: vi vet.\n"
        "Klockan 12:30 kom han.\n"
        "Se https://example.org: där.\n"
        "Jag menar: vi gjorde det.\n"
    )
    turns = parse_turns(text)
    assert [t.speaker for t in turns] == ["I", "R"]
    assert text[turns[1].start : turns[1].end].endswith("Jag menar: vi gjorde det.")


def test_a_one_off_sentence_with_a_colon_in_unlabelled_text_is_a_paragraph() -> None:
    text = "Vi har ingen plan: ingen har frågat.\n\nMen vi borde ha en."
    assert spans(text) == [
        ("respondent", False, "Vi har ingen plan: ingen har frågat.", {}),
        ("respondent", False, "Men vi borde ha en.", {}),
    ]


def test_unlabelled_text_is_one_respondent_turn_per_paragraph() -> None:
    text = "\n\nFörsta stycket\nfortsätter här.\n  \t\nAndra stycket.\n\n\n"
    assert spans(text) == [
        ("respondent", False, "Första stycket\nfortsätter här.", {}),
        ("respondent", False, "Andra stycket.", {}),
    ]


def test_markdown_bold_labels() -> None:
    text = "**Intervjuare:** Hur?\n**Respondent**: Så här.\n"
    assert spans(text) == [("Intervjuare", True, "Hur?", {}), ("Respondent", False, "Så här.", {})]


def test_text_before_the_first_label_is_the_preamble_not_a_turn() -> None:
    from qcode.ingest.turns import read_turns

    text = "Intervju 3, kommun\n\nI: Fråga?\nR: Svar."
    assert [s[:3] for s in spans(text)] == [("I", True, "Fråga?"), ("R", False, "Svar.")]
    start, end = read_turns(text).preamble
    assert text[start:end] == "Intervju 3, kommun"


# -- timestamps ----------------------------------------------------------------------------------


def test_timestamps_before_or_after_the_label_become_metadata() -> None:
    text = (
        "[00:12:34] I: Fråga ett?\n"
        "R: (12:40) Svar ett.\n"
        "[00:13:05]\n"
        "I: Fråga två?\n"
        "R: [01:02:03.5] Svar två.\n"
    )
    assert spans(text) == [
        ("I", True, "Fråga ett?", {"timestamp": "00:12:34"}),
        ("R", False, "Svar ett.", {"timestamp": "12:40"}),
        ("I", True, "Fråga två?", {"timestamp": "00:13:05"}),
        ("R", False, "Svar två.", {"timestamp": "01:02:03.5"}),
    ]


def test_bare_timestamps_before_a_label() -> None:
    text = "00:01:02 Intervjuare: Hur?\n1:02:03.5 - IP: Så här.\n12:30 kom han.\n"
    assert spans(text) == [
        ("Intervjuare", True, "Hur?", {"timestamp": "00:01:02"}),
        ("IP", False, "Så här.\n12:30 kom han.", {"timestamp": "1:02:03.5"}),
    ]


def test_timestamp_at_the_start_of_an_unlabelled_paragraph() -> None:
    assert spans("(00:01) Vi började.\n\n[00:02:00]\nSen slutade vi.") == [
        ("respondent", False, "Vi började.", {"timestamp": "00:01"}),
        ("respondent", False, "Sen slutade vi.", {"timestamp": "00:02:00"}),
    ]


# -- front matter and metadata -------------------------------------------------------------------


def test_front_matter_sets_id_and_metadata_and_is_removed_from_the_text(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "intervju.md",
        "---\nid: 007\ntitle: Polis i Kronobergs län\n"
        "group: polis\nmain_group: myndigheter\ndate: 2010-01-12\ninterviewer: AS\n"
        "kon: null\nantal: 3\n---\nI: Hej.\nR: Hej på dig.\n",
    )
    [doc] = read_path(path)
    assert doc.id == "007"
    assert dict(doc.metadata) == {
        "title": "Polis i Kronobergs län",
        "group": "polis",
        "main_group": "myndigheter",
        "date": "2010-01-12",
        "interviewer": "AS",
        "kon": None,
        "antal": "3",
    }
    assert doc.text == "I: Hej.\nR: Hej på dig.\n"
    assert doc.path == str(path)
    assert [doc.text[t.start : t.end] for t in doc.turns] == ["Hej.", "Hej på dig."]


def test_id_defaults_to_the_file_stem(tmp_path: Path) -> None:
    [doc] = read_path(write(tmp_path, "kommun-3.txt", "Bara text."))
    assert (doc.id, dict(doc.metadata), doc.warnings) == ("kommun-3", {}, ())


def test_object_tags_in_front_matter_are_refused_with_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "x.txt",
        "---\ntitle: ok\nevil: !!python/object/apply:os.system ['ls']\n---\nText.\n",
    )
    with pytest.raises(TranscriptError) as info:
        read_path(path)
    assert info.value.line == 3
    assert str(info.value).startswith(f"{path}:3: malformed front matter")


def test_yaml_syntax_error_reports_the_line_in_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "x.txt", "---\ntitle: ok\ngroup: [polis\ndate: 2010\n---\nText.\n")
    with pytest.raises(TranscriptError) as info:
        read_path(path)
    assert info.value.path == str(path) and info.value.line == 3  # where "[" opened
    assert "\n" not in str(info.value)


def test_yaml_error_in_the_middle_points_at_that_line(tmp_path: Path) -> None:
    path = write(tmp_path, "x.txt", "---\ntitle: ok\ngroup: a: b\n---\nText.\n")
    with pytest.raises(TranscriptError) as info:
        read_path(path)
    assert info.value.line == 3 and "mapping values are not allowed" in str(info.value)


def test_front_matter_that_is_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(TranscriptError, match="mapping"):
        read_path(write(tmp_path, "x.txt", "---\n- a\n- b\n---\nText\n"))


def test_unclosed_front_matter(tmp_path: Path) -> None:
    with pytest.raises(TranscriptError, match="never closed") as info:
        read_path(write(tmp_path, "x.txt", "---\ntitle: a\nText utan slut\n"))
    assert info.value.line == 1


# -- encodings -----------------------------------------------------------------------------------

TEXT = "I: Hur mår du, Åsa?\r\nR: Bättre än förr, tack.\r\n"


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode("utf-8"),
        b"\xef\xbb\xbf" + TEXT.encode("utf-8"),
        TEXT.encode("utf-16"),  # with BOM
        "\ufeff".encode("utf-16-be") + TEXT.encode("utf-16-be"),
    ],
    ids=["utf8", "utf8-bom", "utf16-le-bom", "utf16-be-bom"],
)
def test_unicode_encodings_read_without_warning(tmp_path: Path, data: bytes) -> None:
    [doc] = read_path(write(tmp_path, "a.txt", data))
    assert doc.text == "I: Hur mår du, Åsa?\nR: Bättre än förr, tack.\n"
    assert doc.warnings == ()
    assert [t.speaker for t in doc.turns] == ["I", "R"]


def test_cp1252_falls_back_with_a_warning_naming_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "gammal.txt", "R: Så är det – “säkert”.\n".encode("cp1252"))
    [doc] = read_path(path)
    assert doc.text == "R: Så är det – “säkert”.\n"
    assert len(doc.warnings) == 1 and str(path) in doc.warnings[0] and "cp1252" in doc.warnings[0]


def test_text_is_nfc_and_line_ends_are_normalised(tmp_path: Path) -> None:
    decomposed = "R: Ta\u0308ckt a\u030a\rmen\r\nslut\n"
    [doc] = read_path(write(tmp_path, "a.txt", decomposed))
    assert doc.text == "R: Täckt å\nmen\nslut\n"


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "empty file"),
        ("  \n\t\n", "empty file"),
        ("---\ntitle: x\n---\n", "no text after it"),
        ("---\ntitle: x\n---\n\n   \n", "no text after it"),
    ],
)
def test_empty_files(tmp_path: Path, content: str, message: str) -> None:
    path = write(tmp_path, "tom.txt", content)
    with pytest.raises(TranscriptError, match=message) as info:
        read_path(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_binary_file(tmp_path: Path) -> None:
    path = write(tmp_path, "bild.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(TranscriptError, match="binary file") as info:
        read_path(path)
    assert str(info.value).startswith(str(path))


def test_utf16_without_bom_is_reported_as_binary_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(TranscriptError, match="UTF-16 without a byte-order mark"):
        read_path(write(tmp_path, "a.txt", "R: hej hej hej".encode("utf-16-le")))


def test_directory_and_missing_file(tmp_path: Path) -> None:
    folder = tmp_path / "mapp.txt"
    folder.mkdir()
    with pytest.raises(TranscriptError, match="folder"):
        read_path(folder)
    with pytest.raises(TranscriptError, match="no such file"):
        read_path(tmp_path / "saknas.txt")


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0,
    reason="root can read files without read permission",
)
def test_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path, "hemlig.txt", "R: hej")
    path.chmod(0)
    try:
        with pytest.raises(TranscriptError, match="permission denied"):
            read_path(path)
    finally:
        path.chmod(0o644)


def test_unreadable_file_via_oserror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs as root too: the read itself fails with PermissionError."""
    path = write(tmp_path, "hemlig.txt", "R: hej")

    def deny(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", deny)
    with pytest.raises(TranscriptError, match="permission denied") as info:
        read_path(path)
    assert info.value.path == str(path)


def test_unknown_suffix(tmp_path: Path) -> None:
    path = write(tmp_path, "intervju.doc", b"\xd0\xcf\x11\xe0")
    with pytest.raises(UnsupportedFormat, match=r"old Word \.doc file.*save it as \.docx") as info:
        read_path(path)
    assert str(path) in str(info.value)
    other = write(tmp_path, "intervju.xyz", b"x")
    with pytest.raises(UnsupportedFormat, match=r"'\.xyz'.*\.docx"):
        read_path(other)


def test_very_large_single_line_file(tmp_path: Path) -> None:
    """8 MB on one line: read in linear time and without a label blow-up."""
    word = "samverkan: "
    path = write(tmp_path, "stor.txt", "R: " + word * 800_000)
    [doc] = read_path(path, IngestConfig())
    assert len(doc.turns) == 1
    assert doc.turns[0].end == len(doc.text.rstrip())


def test_memory_stays_a_few_times_the_file_size(tmp_path: Path) -> None:
    import tracemalloc

    path = write(
        tmp_path, "stor.txt", ("R: " + "vi samverkar: med polisen, åäö " * 100_000).encode()
    )
    size = path.stat().st_size
    tracemalloc.start()
    try:
        [doc] = read_path(path)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(doc.turns) == 1
    assert peak < 5 * size, f"peak {peak} bytes for a {size}-byte file"


DATA = Path(__file__).parent / "data" / "ingest"


def test_a_realistic_transcript_with_header_lines_and_colons_in_speech() -> None:
    [doc] = read_path(DATA / "kommun-ifo.txt")
    assert [(t.speaker, t.is_interviewer, t.metadata.get("timestamp")) for t in doc.turns] == [
        ("Intervjuare", True, "00:00:12"),
        ("IP", False, None),
        ("Intervjuare", True, None),
        ("IP", False, "00:01:40"),
        ("Intervjuare", True, "00:03:05"),
        ("IP", False, None),
        ("Intervjuare", True, None),
        ("IP", False, None),
    ]
    said = [doc.text[t.start : t.end] for t in doc.turns]
    start, end = doc.reading.preamble  # the title and header lines: kept, never a turn
    assert doc.text[start:end].startswith("Intervju med enhetschef")
    assert doc.text[start:end].endswith("kommunhuset")
    assert "Det var så här: en kvinna" in said[3] and said[3].endswith("något mer bakom.")
    assert said[5] == (
        "Vi ordnade ett skyddat boende först.\nAlltså: det var det viktigaste "
        "just då.\nSen kontaktade vi polisen, kl 14:30 samma dag."
    )


def test_focus_group_names_without_known_labels() -> None:
    text = "Anna: Vi har en plan.\nBo: Det har inte vi.\nAnna: Då borde ni skaffa en.\n"
    assert [s[0] for s in spans(text)] == ["Anna", "Bo", "Anna"]


def test_zoom_bracketed_names_with_a_time_before_the_speech() -> None:
    text = (
        "[Helena Strand] 10:02:33 Hur länge har du jobbat här?\n"
        "[Johan Berg] 10:02:40 Tio år, mest på natten och mest i centrala Växjö.\n"
        "[Helena Strand] 10:03:00 Och polisen, hur ofta?\n"
        "[Johan Berg] 10:03:05 Sällan, kanske en gång om året när något har hänt.\n"
    )
    assert spans(text) == [
        ("Helena Strand", True, "Hur länge har du jobbat här?", {"timestamp": "10:02:33"}),
        (
            "Johan Berg",
            False,
            "Tio år, mest på natten och mest i centrala Växjö.",
            {"timestamp": "10:02:40"},
        ),
        ("Helena Strand", True, "Och polisen, hur ofta?", {"timestamp": "10:03:00"}),
        (
            "Johan Berg",
            False,
            "Sällan, kanske en gång om året när något har hänt.",
            {"timestamp": "10:03:05"},
        ),
    ]
