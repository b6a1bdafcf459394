"""Word, subtitle and survey-table readers (fixtures are built inside the tests)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import docx
import openpyxl
import pytest

from qcode.errors import DuplicateDocument, TranscriptError
from qcode.ingest import IngestConfig, read_path


def turns_of(doc) -> list[tuple[str, bool, str, dict]]:
    return [
        (t.speaker, t.is_interviewer, doc.text[t.start : t.end], dict(t.metadata))
        for t in doc.turns
    ]


# -- docx ----------------------------------------------------------------------------------------


def make_docx(path: Path, paragraphs: list[list[tuple[str, bool]]]) -> Path:
    """Each paragraph is a list of (run text, bold) pairs."""
    document = docx.Document()
    for runs in paragraphs:
        paragraph = document.add_paragraph()
        for text, bold in runs:
            paragraph.add_run(text).bold = bold
    document.save(str(path))
    return path


def test_docx_bold_labels_with_and_without_colon(tmp_path: Path) -> None:
    path = make_docx(
        tmp_path / "polis.docx",
        [
            [("Intervjuare:", True), (" Hur ofta möter ni detta?", False)],
            [("Polis", True), (": Kanske två gånger om året.", False)],
            [("Det var i somras.", False)],
            [("Intervjuare", True), (" Och beredskapen?", False)],
            [("Aldrig", True), (" har vi haft en plan.", False)],
        ],
    )
    [doc] = read_path(path)
    assert doc.id == "polis"
    assert turns_of(doc) == [
        ("Intervjuare", True, "Hur ofta möter ni detta?", {}),
        ("Polis", False, "Kanske två gånger om året.\n\nDet var i somras.", {}),
        (
            "Intervjuare",
            True,
            "Och beredskapen? Aldrig har vi haft en plan.".replace("? Aldrig", "?\n\nAldrig"),
            {},
        ),
    ]
    assert doc.text.startswith("Intervjuare: Hur ofta")


def test_docx_plain_labels_and_front_matter_paragraphs(tmp_path: Path) -> None:
    path = make_docx(
        tmp_path / "k.docx",
        [
            [("---", False)],
            [("id: kommun-2", False)],
            [("group: kommuner", False)],
            [("---", False)],
            [("I: Har ni en handlingsplan?", False)],
            [("R: Nej, inte än.", False)],
        ],
    )
    [doc] = read_path(path)
    assert (doc.id, dict(doc.metadata)) == ("kommun-2", {"group": "kommuner"})
    assert turns_of(doc) == [
        ("I", True, "Har ni en handlingsplan?", {}),
        ("R", False, "Nej, inte än.", {}),
    ]


def test_docx_two_column_table_of_speakers(tmp_path: Path) -> None:
    document = docx.Document()
    table = document.add_table(rows=3, cols=2)
    for row, (who, said) in zip(table.rows, [("I", "Fråga?"), ("R", "Svar ett."), ("I", "Tack.")]):
        row.cells[0].text, row.cells[1].text = who, said
    document.save(str(tmp_path / "t.docx"))
    [doc] = read_path(tmp_path / "t.docx")
    assert [t[:3] for t in turns_of(doc)] == [
        ("I", True, "Fråga?"),
        ("R", False, "Svar ett."),
        ("I", True, "Tack."),
    ]


def test_docx_that_is_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "gammal.docx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    with pytest.raises(TranscriptError, match="not a readable Word .docx") as info:
        read_path(path)
    assert str(path) in str(info.value)


def test_empty_docx(tmp_path: Path) -> None:
    with pytest.raises(TranscriptError, match="empty file"):
        read_path(make_docx(tmp_path / "tom.docx", [[("  ", False)]]))


# -- subtitles -----------------------------------------------------------------------------------

VTT = """WEBVTT

00:00:01.000 --> 00:00:03.500
<v Intervjuare>Hur arbetar ni med
det här?</v>

00:00:04.000 --> 00:00:06.000
<v Anna Svensson>Vi har en rutin.

00:00:06.000 --> 00:00:08.250
<v Anna Svensson>Den är <i>ny</i> sedan i höstas.

00:01:10.000 --> 00:01:12.000
Int: Och polisen?
"""


def test_vtt_voice_tags_prefixes_and_merged_cues(tmp_path: Path) -> None:
    path = tmp_path / "teams.vtt"
    path.write_text(VTT, encoding="utf-8")
    [doc] = read_path(path)
    assert turns_of(doc) == [
        (
            "Intervjuare",
            True,
            "Hur arbetar ni med det här?",
            {"cue_start": "00:00:01.000", "cue_end": "00:00:03.500"},
        ),
        (
            "Anna Svensson",
            False,
            "Vi har en rutin. Den är ny sedan i höstas.",
            {"cue_start": "00:00:04.000", "cue_end": "00:00:08.250"},
        ),
        ("Int", True, "Och polisen?", {"cue_start": "00:01:10.000", "cue_end": "00:01:12.000"}),
    ]
    assert doc.text.splitlines()[0] == "Intervjuare: Hur arbetar ni med det här?"


SRT = """1
00:00:01,000 --> 00:00:02,000
I: Hej och välkommen.

2
00:00:02,500 --> 00:00:04,000
R: Tack.

3
00:00:04,100 --> 00:00:05,000
Vi kan börja.

4
00:00:09,000 --> 00:00:10,000
Efter en paus.
"""


def test_srt_prefix_speakers_and_unlabelled_cues_split_at_pauses(tmp_path: Path) -> None:
    path = tmp_path / "zoom.srt"
    path.write_text(SRT, encoding="utf-8")
    [doc] = read_path(path)
    assert turns_of(doc) == [
        ("I", True, "Hej och välkommen.", {"cue_start": "00:00:01.000", "cue_end": "00:00:02.000"}),
        ("R", False, "Tack.", {"cue_start": "00:00:02.500", "cue_end": "00:00:04.000"}),
        (
            "respondent",
            False,
            "Vi kan börja.",
            {"cue_start": "00:00:04.100", "cue_end": "00:00:05.000"},
        ),
        (
            "respondent",
            False,
            "Efter en paus.",
            {"cue_start": "00:00:09.000", "cue_end": "00:00:10.000"},
        ),
    ]


def test_malformed_subtitles(tmp_path: Path) -> None:
    bad_vtt = tmp_path / "a.vtt"
    bad_vtt.write_text("inte vtt alls\n", encoding="utf-8")
    with pytest.raises(TranscriptError, match="not a valid WebVTT"):
        read_path(bad_vtt)
    bad_srt = tmp_path / "b.srt"
    bad_srt.write_text("1\nfel tid --> x\nText\n", encoding="utf-8")
    with pytest.raises(TranscriptError, match="(not a valid SRT|no subtitle cue)"):
        read_path(bad_srt)


# -- survey tables -------------------------------------------------------------------------------

LONG_A = "Vi samverkar med polisen och socialtjänsten i kommunen"
LONG_B = "Vi vet inte vart vi ska vända oss om något händer"


def test_csv_rows_become_documents_with_question_turns(tmp_path: Path) -> None:
    path = tmp_path / "enkat.csv"
    path.write_text(
        "Respondent;group;main_group;Kunskap;Vilka samverkar ni med?;Övriga kommentarer\n"
        f"12;taxi;naringsbranscher;liten;{LONG_A};{LONG_B}\n"
        "13;hotell;naringsbranscher;ingen;;\n"
        f'14;hotell;naringsbranscher;god;"{LONG_B}\n\nmed flera rader";\n',
        encoding="utf-8-sig",
    )
    docs = read_path(path)
    assert [d.id for d in docs] == ["12", "14"]  # 13 has no free text
    first = docs[0]
    assert first.text == f"{LONG_A}\n\n{LONG_B}"
    assert dict(first.metadata) == {
        "group": "taxi",
        "main_group": "naringsbranscher",
        "Kunskap": "liten",
    }
    assert turns_of(first) == [
        ("Vilka samverkar ni med?", False, LONG_A, {}),
        ("Övriga kommentarer", False, LONG_B, {}),
    ]
    assert docs[1].text == f"{LONG_B}\n\nmed flera rader"
    assert first.path == str(path)


def test_csv_explicit_columns_and_cp1252(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_bytes(("nr,svar,grupp\n1,Självklart,kyrkor\n2,Nej,kyrkor\n").encode("cp1252"))
    docs = read_path(path, IngestConfig(id_column="NR", text_columns=("svar",)))
    assert [(d.id, d.text, dict(d.metadata)) for d in docs] == [
        ("1", "Självklart", {"group": "kyrkor"}),
        ("2", "Nej", {"group": "kyrkor"}),
    ]
    assert len(docs[0].warnings) == 1 and "cp1252" in docs[0].warnings[0]


def test_table_errors(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("id,kort\n1,ja\n2,nej\n", encoding="utf-8")
    with pytest.raises(TranscriptError, match="no free-text column"):
        read_path(path)
    with pytest.raises(TranscriptError, match="no text column named 'saknas'"):
        read_path(path, IngestConfig(text_columns=("saknas",)))
    with pytest.raises(TranscriptError, match="no id column named 'nr'"):
        read_path(path, IngestConfig(id_column="nr"))
    empty = tmp_path / "tom.csv"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(TranscriptError, match="is empty"):
        read_path(empty)


def test_duplicate_respondent_ids_in_one_table(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text(f"id,svar\n1,{LONG_A}\n1,{LONG_B}\n", encoding="utf-8")
    with pytest.raises(DuplicateDocument) as info:
        read_path(path)
    assert info.value.line == 3 and "'1'" in str(info.value)


def test_xlsx_values_only_formulas_never_evaluated(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["id", "aktörsgrupp", "datum", "Beskriv er beredskap", "Summa"])
    sheet.append([101, "polis", dt.date(2010, 1, 12), LONG_A, "=1+1"])
    sheet.append([102.0, "åklagare", None, f"  {LONG_B}  ", "=SUM(A1:A2)"])
    sheet.append([103, "kommuner", None, None, None])
    path = tmp_path / "enkat.xlsx"
    workbook.save(path)
    docs = read_path(path)
    assert [(d.id, d.text) for d in docs] == [("101", LONG_A), ("102", LONG_B)]
    # openpyxl-written formulas have no cached value: read as empty, never computed or kept
    assert dict(docs[0].metadata) == {"group": "polis", "datum": "2010-01-12"}
    assert docs[0].turns[0].speaker == "Beskriv er beredskap"


def test_xlsx_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    path.write_text("id,svar\n", encoding="utf-8")
    with pytest.raises(TranscriptError, match="not a readable Excel"):
        read_path(path)


@pytest.mark.parametrize("name", ["tom.docx", "tom.xlsx", "tom.vtt", "tom.srt", "tom.csv"])
def test_zero_byte_files_of_every_format_are_empty(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    with pytest.raises(TranscriptError, match="empty") as info:
        read_path(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("name", ["x.docx", "x.xlsx", "x.vtt", "x.csv"])
def test_unreadable_files_of_every_format(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / name
    path.write_bytes(b"x")

    def deny(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", deny)
    with pytest.raises(TranscriptError, match="permission denied"):
        read_path(path)


def test_folder_named_like_a_docx(tmp_path: Path) -> None:
    (tmp_path / "mapp.docx").mkdir()
    with pytest.raises(TranscriptError, match="folder"):
        read_path(tmp_path / "mapp.docx")
