"""Transcripts in the layouts real tools and typists produce: every turn's speaker and
interviewer flag, the preamble, and no interviewer turn coded or quoted.

The text fixtures are in tests/data/formats/; the .docx/.odt/.pdf ones are built here by
tests/formats_fixtures.py (no office file is committed).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from formats_fixtures import docx_paragraphs, docx_table, odt, pdf, scanned_pdf

from qcode.errors import TranscriptError
from qcode.ingest import read_path

FORMATS = Path(__file__).parent / "data" / "formats"

I, R = True, False  # is_interviewer


def _docx_bold(folder: Path) -> Path:
    return docx_paragraphs(
        folder / "docx-bold.docx",
        [
            [("Intervjuare:", True), (" Vilka myndigheter samverkar ni med i dag?", False)],
            [("Kurator", True), (": Mest socialtjänsten och ibland polisen.", False)],
            [("Det beror på ärendet.", False)],
            [("Intervjuare:", True), (" Har ni en handlingsplan för människohandel?", False)],
            [("Kurator", True), (": Nej, ingen skriven plan alls.", False)],
        ],
        heading="Intervju 5 – kurator på ungdomsmottagningen",
    )


def _docx_table(folder: Path) -> Path:
    return docx_table(
        folder / "docx-table.docx",
        [
            ("Talare", "Text"),
            ("Intervjuare", "Hur ofta möter ni personer som kan vara utsatta?"),
            ("Socialsekreterare", "Kanske två gånger per år, ungefär."),
            ("", "Oftast via akuten eller polisen."),
            ("Intervjuare", "Vem kontaktar ni då?"),
            ("Socialsekreterare", "Polisen först, sedan kvinnojouren."),
        ],
        heading="Intervju 2 – socialsekreterare",
    )


def _docx_table_with_times(folder: Path) -> Path:
    return docx_table(
        folder / "docx-table-times.docx",
        [
            ("00:00:03", "Helena Strand", "Har ni fått någon utbildning om människohandel?"),
            (
                "00:00:09",
                "Per Lund",
                "Nej, ingen utbildning alls, tyvärr, och det saknas verkligen.",
            ),
            ("00:00:30", "Helena Strand", "Skulle ni vilja ha det?"),
            ("00:00:34", "Per Lund", "Ja, gärna något kort om tecken att titta efter på hotellet."),
        ],
    )


def _docx_speaker_lines(folder: Path) -> Path:
    """Word Transcribe's export: "Speaker 1 00:00:05" paragraphs with the speech below."""
    return docx_paragraphs(
        folder / "word-transcribe-speaker.docx",
        [
            [("Speaker 1 00:00:02", False)],
            [("Hur ser er beredskap ut om någon söker hjälp?", False)],
            [("Speaker 2 00:00:07", False)],
            [
                (
                    "Vi har ingen beredskap alls, vi skulle ringa polisen och hoppas att de kommer.",
                    False,
                )
            ],
            [("Speaker 1 00:00:31", False)],
            [("Vem skulle ta emot personen?", False)],
            [("Speaker 2 00:00:35", False)],
            [
                (
                    "Ingen vet, det är problemet. Det finns ingen som har ansvaret för det hos oss.",
                    False,
                )
            ],
        ],
    )


def _docx_no_labels(folder: Path) -> Path:
    return docx_paragraphs(
        folder / "docx-no-labels.docx",
        [
            [("Intervju 7 – restaurangägare", False)],
            [("Har ni märkt något som kan tyda på människohandel i branschen?", False)],
            [("Ja, det finns kök där folk jobbar för nästan ingenting och bor i lokalen.", False)],
            [("Har ni anmält det till någon?", False)],
            [
                (
                    "Nej, man vill inte ange en kollega, och man vet inte säkert om det stämmer.",
                    False,
                )
            ],
            [("Vad skulle göra det lättare att anmäla?", False)],
            [("Att kunna ringa någon anonymt, som inte är polisen direkt.", False)],
        ],
    )


def _odt(folder: Path) -> Path:
    return odt(
        folder / "odt-labels.odt",
        [
            "Intervjuare: Hur ser samverkan ut mellan er och Migrationsverket?",
            "IP: Den fungerar bra på pappret men sämre i praktiken, vi hörs för sällan.",
            "Intervjuare: Vad skulle behövas?",
            "IP: En gemensam rutin och en kontaktperson hos varje myndighet.",
        ],
        heading="Intervju 9 – Migrationsverket",
    )


def _pdf(folder: Path) -> Path:
    return pdf(
        folder / "pdf-text-layer.pdf",
        [
            [
                "Intervju 4 – polis",
                "I: Hur stort är problemet i länet, tror du?",
                "R: Större än man tror. Men vi har inga resurser att leta.",
            ],
            ["I: Vad skulle ni behöva?", "R: Utbildning och fler utredare.", "2"],
        ],
    )


def _copy(name: str) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        return Path(shutil.copy(FORMATS / name, folder / name))

    return build


#: file builder, expected (speaker, is_interviewer) of every turn, how the interviewer is found,
#: and the start of the preamble (None: no preamble).
CASES: dict[str, tuple[Callable[[Path], Path], list[tuple[str, bool]], str, str | None]] = {
    "ts-before-label": (
        _copy("ts-before-label.txt"),
        [("Intervjuare", I), ("IP", R)] * 2,
        "label",
        None,
    ),
    "ts-after-label": (
        _copy("ts-after-label.txt"),
        [("Intervjuare", I), ("Respondent", R)] * 2,
        "label",
        None,
    ),
    "numbered-labels": (
        _copy("numbered-labels.md"),
        [
            ("Intervjuare 1", I),
            ("Respondent 1", R),
            ("Intervjuare 2", I),
            ("Respondent 1", R),
            ("Intervjuare 1", I),
            ("Respondent 1", R),
        ],
        "label",
        None,
    ),
    "abbreviations-dot": (
        _copy("abbreviations-dot.txt"),
        [("Int", I), ("Resp", R)] * 2,
        "label",
        None,
    ),
    "dash-labels": (_copy("dash-labels.txt"), [("I", I), ("IP", R)] * 2, "label", None),
    "otter-names": (
        _copy("otter-names.txt"),
        [("Helena Strand", I), ("Johan Berg", R)] * 3,
        "guess",
        None,
    ),
    "zoom-short-times": (
        _copy("zoom-short-times.txt"),
        [("Maria Lind", I), ("Karin Ek", R)] * 2,
        "front matter",
        None,
    ),
    "word-transcribe": (
        _copy("word-transcribe.txt"),
        [("Talare 1", I), ("Talare 2", R)] * 3,
        "guess",
        None,
    ),
    "vtt-voices": (
        _copy("vtt-voices.vtt"),
        [("Sara Holm", I), ("Erik Nyström", R)] * 2,
        "guess",
        None,
    ),
    "vtt-colon-cues": (
        _copy("vtt-colon-cues.vtt"),
        [("Intervjuare", I), ("Respondent", R)] * 2,
        "label",
        None,
    ),
    "preamble-heading": (
        _copy("preamble-heading.md"),
        [("I", I), ("R", R)] * 2,
        "label",
        "# Intervju 3 – socialsekreterare",
    ),
    "frontmatter-named": (
        _copy("frontmatter-named.md"),
        [("Helena", I), ("Anders", R)] * 2,
        "front matter",
        None,
    ),
    "frontmatter-initials": (
        _copy("frontmatter-initials.txt"),
        [("HS", I), ("PL", R)] * 2,
        "front matter",
        None,
    ),
    "label-own-line": (
        _copy("label-own-line.txt"),
        [("INTERVJUARE", I), ("RESPONDENT", R)] * 2,
        "label",
        None,
    ),
    "no-labels-guess": (
        _copy("no-labels-guess.txt"),
        [("interviewer", I), ("respondent", R)] * 3,
        "guess",
        None,
    ),
    "docx-bold": (
        _docx_bold,
        [("Intervjuare", I), ("Kurator", R)] * 2,
        "label",
        "Intervju 5 – kurator",
    ),
    "docx-table": (
        _docx_table,
        [("Intervjuare", I), ("Socialsekreterare", R)] * 2,
        "label",
        "Intervju 2 – socialsekreterare",
    ),
    "docx-table-times": (
        _docx_table_with_times,
        [("Helena Strand", I), ("Per Lund", R)] * 2,
        "guess",
        None,
    ),
    "word-transcribe-speaker-docx": (
        _docx_speaker_lines,
        [("Speaker 1", I), ("Speaker 2", R)] * 2,
        "guess",
        None,
    ),
    "docx-no-labels": (
        _docx_no_labels,
        [("interviewer", I), ("respondent", R)] * 3,
        "guess",
        "Intervju 7 – restaurangägare",
    ),
    "odt-labels": (_odt, [("Intervjuare", I), ("IP", R)] * 2, "label", "Intervju 9"),
    "pdf-text-layer": (_pdf, [("I", I), ("R", R)] * 2, "label", "Intervju 4 – polis"),
}


def test_at_least_fourteen_text_fixtures_one_per_style() -> None:
    assert len(list(FORMATS.iterdir())) >= 14
    assert {p.name for p in FORMATS.iterdir()} <= {
        build.__closure__[0].cell_contents for build, *_ in CASES.values() if build.__closure__
    }  # every committed fixture is checked below


@pytest.mark.parametrize("case", list(CASES))
def test_every_turn_has_the_right_speaker_and_interviewer_flag(case: str, tmp_path: Path) -> None:
    build, expected, reason, preamble = CASES[case]
    [doc] = read_path(build(tmp_path))
    assert [(t.speaker, t.is_interviewer) for t in doc.turns] == expected
    assert doc.reading is not None and doc.reading.reason == reason
    if preamble is None:
        assert doc.reading.preamble is None
    else:
        start, end = doc.reading.preamble
        assert doc.text[start:end].startswith(preamble)
        assert all(t.start >= end for t in doc.turns)  # the preamble is no turn's text
    for turn in doc.turns:  # what a turn says never carries its label or a timestamp
        said = doc.text[turn.start : turn.end]
        assert not said.startswith((turn.speaker + ":", "[", "("))
        assert said == said.strip() and said


def test_no_interviewer_turn_is_coded_or_quoted(tmp_path: Path, repo_root: Path) -> None:
    from qcode import Project

    folder = tmp_path / "t"
    folder.mkdir()
    for build, *_ in CASES.values():
        build(folder)
    with Project(
        tmp_path, db=tmp_path / "p.db", codebook=repo_root / "codebooks" / "kronoberg.yaml"
    ) as project:
        project.tag([folder], jobs=1, companion=False)
        segments = project.segments()
        codings = project.codings()
        asked = segments[segments["is_interviewer"]]
        assert len(asked) >= 2 * len(CASES)
        coded = codings.merge(segments, on=["document", "segment"])
        assert not coded.empty and not coded["is_interviewer"].any()
        quotes = project.quotes(max_quotes=50, min_words=3)
        assert not quotes.empty
        for quote in quotes["text"]:
            core = quote.strip("…. ")[:30]
            assert not any(core in text for text in asked["text"]), quote
    # the check can fail: the same questions are coded once interviewer turns are coded
    with Project(
        tmp_path,
        db=tmp_path / "q.db",
        code_interviewer=True,
        codebook=repo_root / "codebooks" / "kronoberg.yaml",
    ) as project:
        project.tag([folder], jobs=1, companion=False)
        both = project.codings().merge(project.segments(), on=["document", "segment"])
        assert both["is_interviewer"].any()


def test_a_scanned_pdf_without_text_is_a_one_line_error(tmp_path: Path) -> None:
    path = scanned_pdf(tmp_path / "skannad.pdf")
    with pytest.raises(TranscriptError, match="no text layer") as info:
        read_path(path)
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)
