"""Fuzz every reader with mutated files (issue 19): whatever the bytes, reading a transcript
(txt, md, docx, odt, pdf, vtt, srt), a survey table (csv, xlsx), a REFI codebook or project (qdc, qdpx)
or a YAML codebook gives documents/codes or a :class:`~qcode.errors.QcodeError` — never
another exception, which the command line would print as a traceback.

The mutations are seeded (``random.Random(format, n)``), so a failure names a case that can be
re-run alone: bytes flipped, cut, repeated or replaced by characters that parsers treat
specially, and for the zip formats (docx, xlsx, qdpx) the same damage done either to the
archive itself or to one XML member inside an intact archive (odt too).
"""

from __future__ import annotations

import hashlib
import io
import random
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from formats_fixtures import pdf

from qcode.codebook import codebook_from_yaml_text, load_codebook
from qcode.errors import QcodeError
from qcode.exchange.qdc import codebook_to_qdc_bytes, read_qdc
from qcode.exchange.qdpx import import_content, read_qdpx, write_qdpx
from qcode.ingest import read_path
from qcode.models import Coding, Document, Segment, Turn
from qcode.store import Store

CASES_PER_FORMAT = 100

CODEBOOK_YAML = """\
name: Fuzz
version: "1"
language: sv
codes:
  - id: beredskap
    label: Beredskap
    description: Hur man är förberedd.
    color: "#1f77b4"
    codes:
      - id: handlingsplan
        label: Handlingsplan
        patterns:
          terms: [handlingsplan, rutin*]
          phrases: ["ingen plan"]
          not: [semesterplan]
  - id: samverkan
    label: Samverkan
    patterns:
      regex: ['\\bsamverka\\w*']
      min_matches: 1
"""
CODEBOOK = codebook_from_yaml_text(CODEBOOK_YAML)
TRANSCRIPT = (
    "---\nid: polis-07\ntitle: Handläggare\ngroup: polis\ndate: 2010-03-01\n---\n"
    "Intervjuare: Hur ser er beredskap ut?\n\nIP: Vi har en handlingsplan sedan 2009, "
    "men ingen plan för uppföljning.\n\nIntervjuare: Och samverkan?\n\n"
    "IP: Vi samverkar med socialtjänsten – oftast. Åsa vet mer.\n"
)


def _docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("Intervjuare: Hur ser er beredskap ut?")
    document.add_paragraph("IP: Vi har en handlingsplan sedan 2009.")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "IP", "Vi samverkar med socialtjänsten."
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _xlsx() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["id", "grupp", "fritext"])
    sheet.append([1, "polis", "Vi har en handlingsplan men ingen utbildning alls."])
    sheet.append([2, "kyrka", "Vi samverkar med kommunen, ibland men inte ofta."])
    sheet.append([3, "taxi", None])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _qdpx(tmp: Path) -> bytes:
    store = Store(":memory:")
    store.save_codes(CODEBOOK.walk(), CODEBOOK.sha256)
    text = TRANSCRIPT.split("---\n", 2)[2]
    start = text.index("handlingsplan")
    segment = Segment("polis-07", 0, 0, len(text), "IP", False, text)
    store.save_document(
        Document(
            "polis-07",
            text,
            "polis-07.txt",
            (Turn(0, len(text), "IP"),),
            {"title": "Handläggare", "group": "polis"},
        ),
        hashlib.sha256(text.encode()).hexdigest(),
        [segment],
        [Coding("polis-07", 0, start, start + 13, "beredskap/handlingsplan", "rule", 0.9)],
        tag_key="k",
    )
    store.add_codings([Coding("polis-07", 0, 0, 20, "samverkan", "human", coder="eva")])
    return write_qdpx(store, tmp / "seed.qdpx").read_bytes()


_STAMP = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z?")


def rezip(members: list[tuple[str, bytes]]) -> bytes:
    """An archive of ``members`` with fixed dates, so the same mutation hits the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name, payload in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            target.writestr(info, payload)
    return out.getvalue()


def deterministic(data: bytes) -> bytes:
    """``data`` (an office zip) with every time stamp inside and on its members fixed."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        return rezip(
            [(n, _STAMP.sub(b"2010-01-01T00:00:00Z", source.read(n))) for n in source.namelist()]
        )


def _odt(lines: list[str]) -> bytes:
    """A minimal OpenDocument text, written from literal XML (odfpy's output depends on what
    it wrote before in the same process, which would make the mutations unrepeatable)."""
    office = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    text_ns = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
    paragraphs = "".join(f"<text:p>{line}</text:p>" for line in lines)
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content '
        f'xmlns:office="{office}" xmlns:text="{text_ns}" office:version="1.2">'
        f'<office:body><office:text><text:h text:outline-level="1">Intervju</text:h>'
        f"{paragraphs}</office:text></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<manifest:manifest xmlns:manifest='
        '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type='
        '"application/vnd.oasis.opendocument.text"/><manifest:file-entry '
        'manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    return rezip(
        [
            ("mimetype", b"application/vnd.oasis.opendocument.text"),
            ("META-INF/manifest.xml", manifest.encode()),
            ("content.xml", content.encode()),
        ]
    )


def seeds(tmp: Path) -> dict[str, bytes]:
    lines = [
        "Intervjuare: Hur ser er beredskap ut?",
        "IP: Vi har en handlingsplan sedan 2009.",
        "IP: Vi samverkar med socialtjänsten.",
    ]
    return {
        "odt": _odt(lines),
        "pdf": pdf(tmp / "seed.pdf", [lines[:2], lines[2:]]).read_bytes(),
        "txt": TRANSCRIPT.encode("utf-8"),
        "md": (
            "# Intervju\n\n" + TRANSCRIPT.split("---\n", 2)[2].replace("IP:", "**IP:**")
        ).encode(),
        "vtt": (
            b"WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.500\n<v Intervjuare>Hur ser det ut?</v>\n\n"
            b"00:00:05.000 --> 00:00:09.000\n<v IP>Vi har en handlingsplan.</v>\n"
        ),
        "srt": (
            b"1\n00:00:01,000 --> 00:00:04,500\nIntervjuare: Hur ser det ut?\n\n"
            b"2\n00:00:05,000 --> 00:00:09,000\nIP: Vi har en handlingsplan.\n"
        ),
        "csv": (
            b"id;grupp;fritext\n1;polis;Vi har en handlingsplan men ingen utbildning alls.\n"
            b'2;kyrka;"Vi samverkar med kommunen; ibland men inte ofta"\n3;taxi;\n'
        ),
        "docx": deterministic(_docx()),
        "xlsx": deterministic(_xlsx()),
        "qdc": codebook_to_qdc_bytes(CODEBOOK),
        "qdpx": _qdpx(tmp),
        "yaml": CODEBOOK_YAML.encode("utf-8"),
    }


def _read_document(path: Path) -> object:
    return read_path(path)


def _import_qdpx(path: Path) -> object:
    with Store(":memory:") as store:
        return import_content(read_qdpx(path), store)


READERS: dict[str, Callable[[Path], object]] = {
    "txt": _read_document,
    "md": _read_document,
    "vtt": _read_document,
    "srt": _read_document,
    "csv": _read_document,
    "docx": _read_document,
    "xlsx": _read_document,
    "odt": _read_document,
    "pdf": _read_document,
    "qdc": read_qdc,
    "qdpx": _import_qdpx,
    "yaml": load_codebook,
}
SPECIAL = [
    b"\x00",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\r",
    b"\r\n",
    b'"',
    b"'",
    b"<",
    b">",
    b"&",
    b"&amp;",
    b"]]>",
    b"<!--",
    b"{",
    b"[",
    b":",
    b"---\n",
    b"\n\n",
    b"\t",
    b"\x1b",
    b"\x0b",
    b"9" * 25,
    b"-1",
    b"\xc3",
    b"\xe2\x80",
    b"PK\x03\x04",
    b"*",
    b"|",
    b"!!",
    b"%",
]


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    """One to four random edits of ``data``."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not out:
            out += rng.choice(SPECIAL)
            continue
        at = rng.randrange(len(out))
        kind = rng.randrange(6)
        if kind == 0:
            out[at] = rng.randrange(256)
        elif kind == 1:
            del out[at : at + rng.randint(1, 40)]
        elif kind == 2:
            out[at:at] = out[at : at + rng.randint(1, 40)] * rng.randint(2, 5)
        elif kind == 3:
            out[at:at] = rng.choice(SPECIAL)
        elif kind == 4:
            out[at : at + rng.randint(1, 8)] = rng.choice(SPECIAL)
        else:
            del out[at:]
    return bytes(out)


def mutate_zip(data: bytes, rng: random.Random) -> bytes:
    """Damage one member of the archive (XML or text) and write the archive again intact."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        names = source.namelist()
        victim = rng.choice(
            [n for n in names if n.endswith((".xml", ".qde", ".txt", ".rels"))] or names
        )
        return rezip(
            [
                (n, mutate_bytes(source.read(n), rng) if n == victim else source.read(n))
                for n in names
            ]
        )


@pytest.fixture(scope="module")
def seed_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return seeds(tmp_path_factory.mktemp("seeds"))


@pytest.mark.parametrize("fmt", list(READERS))
def test_seed_files_are_read(seed_files: dict[str, bytes], fmt: str, tmp_path: Path) -> None:
    """The unmutated seeds are valid, so the mutations start from something each reader takes."""
    path = tmp_path / f"seed.{fmt}"
    path.write_bytes(seed_files[fmt])
    assert READERS[fmt](path)


@pytest.mark.parametrize("fmt", list(READERS))
def test_mutated_files_give_results_or_qcode_errors(
    seed_files: dict[str, bytes], fmt: str, tmp_path: Path
) -> None:
    failures = []
    for case in range(CASES_PER_FORMAT):
        rng = random.Random(f"{fmt}-{case}")
        data = seed_files[fmt]
        if fmt in ("docx", "xlsx", "odt", "qdpx") and case % 3 != 0:
            data = mutate_zip(data, rng)
        else:
            data = mutate_bytes(data, rng)
        path = tmp_path / f"case-{case}.{fmt}"
        path.write_bytes(data)
        try:
            READERS[fmt](path)
        except QcodeError as err:
            assert "\n" not in str(err).strip() or fmt == "yaml", f"case {case}: {err}"
        except Exception as err:  # noqa: BLE001 - the point of the test
            failures.append(f"case {case}: {type(err).__name__}: {str(err)[:160]}")
    assert not failures, (
        f"{len(failures)} of {CASES_PER_FORMAT} {fmt} cases escaped:\n" + "\n".join(failures)
    )


@pytest.mark.parametrize(
    "suffix,text",
    [
        ("srt", "1\n99999999999999999999:00:01,000 --> 99999999999999999999:00:04,000\nIP: Ja.\n"),
        (
            "vtt",
            "WEBVTT\n\n99999999999999999999:00:01.000 --> 99999999999999999999:00:04.000\nIP: Ja.\n",
        ),
    ],
)
def test_subtitle_times_past_any_clock_are_a_transcript_error(
    tmp_path: Path, suffix: str, text: str
) -> None:
    path = tmp_path / f"lang.{suffix}"
    path.write_text(text, encoding="utf-8")
    try:
        read_path(path)
    except QcodeError as err:
        assert str(err).startswith(str(path))


def test_a_docx_with_corrupt_deflate_data_is_a_transcript_error(
    seed_files: dict[str, bytes], tmp_path: Path
) -> None:
    # found by a 1000-case run: a member's deflate stream damaged in an otherwise intact zip
    data = bytearray(seed_files["docx"])
    at = data.index(b"word/document.xml") + len("word/document.xml") + 40
    data[at : at + 6] = b"\xff" * 6
    path = tmp_path / "skadad.docx"
    path.write_bytes(bytes(data))
    with pytest.raises(QcodeError, match="not a readable Word .docx file"):
        read_path(path)
