"""Hostile inputs on the way out (issue 19): control characters in coded text never crash an
xlsx or docx export, and a foreign SQLite file given as --db is refused untouched."""

from __future__ import annotations

import hashlib
import sqlite3
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from qcode.cli import cli
from qcode.codebook import codebook_from_yaml_text
from qcode.models import Coding, Document, Segment, Turn
from qcode.store import Store
from qcode.writers import xml_safe

# ESC (a terminal colour code), VT and FF (Word's line and page breaks), NUL, BEL
DIRTY = (
    "IP: Vi har ingen handlingsplan alls, \x1b[31mingen\x1b[0m har tagit fram någon rutin "
    "för det.\x0bNästa rad kommer här och\x0cen ny sida, sedan\x00 och \x07 till slut."
)


@pytest.fixture
def dirty_db(tmp_path: Path) -> Path:
    db = tmp_path / "dirty.db"
    book = codebook_from_yaml_text(
        "name: x\ncodes:\n  - id: beredskap\n    label: Beredskap\n    patterns: {terms: [plan]}\n"
    )
    with Store(db) as store:
        store.save_codes(book.walk(), book.sha256)
        segment = Segment("smuts", 0, 0, len(DIRTY), "IP", False, DIRTY)
        document = Document(
            "smuts",
            DIRTY,
            "smuts.txt",
            (Turn(0, len(DIRTY), "IP"),),
            {"title": "Handläggare\x1b", "group": "kommuner"},
        )
        store.save_document(
            document,
            hashlib.sha256(DIRTY.encode()).hexdigest(),
            [segment],
            [Coding("smuts", 0, 0, len(DIRTY), "beredskap", "rule", 0.9)],
            tag_key="k",
        )
    return db


def test_xml_safe_keeps_breaks_and_drops_what_xml_cannot_hold() -> None:
    assert xml_safe("a\x0bb\x0cc\x1bd\x00e\tf\ng\rh") == "a\nb\nc" + "de\tf\ng\rh"
    assert xml_safe(3) == 3 and xml_safe("ren text") == "ren text"


@pytest.mark.parametrize(
    "args",
    [
        ["export", "codings", "-o", "{out}/c.xlsx", "--no-redact"],
        ["export", "review", "-o", "{out}/r.xlsx"],
        ["quotes", "--code", "beredskap", "--min-words", "1", "-o", "{out}/q.docx"],
    ],
)
def test_control_characters_never_crash_xlsx_or_docx_exports(
    dirty_db: Path, tmp_path: Path, args: list[str]
) -> None:
    args = [a.format(out=tmp_path) for a in args] + ["--db", str(dirty_db)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    written = Path(args[args.index("-o") + 1])
    with zipfile.ZipFile(written) as archive:
        xml = "".join(
            archive.read(n).decode("utf-8") for n in archive.namelist() if n.endswith(".xml")
        )
    assert "\x1b" not in xml and "\x0b" not in xml and "\x00" not in xml
    if "quotes" not in args:  # quotes are trimmed to sentences; the sheets hold the whole turn
        assert "ingen[0m har tagit fram" in xml.replace("\x1b", "")


def test_a_foreign_sqlite_file_is_refused_in_one_line_and_left_untouched(tmp_path: Path) -> None:
    foreign = tmp_path / "kontakter.sqlite"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE people (name TEXT, phone TEXT)")
    conn.execute("INSERT INTO people VALUES ('Anna', '0470-123')")
    conn.commit()
    conn.close()
    before = foreign.read_bytes()
    runner = CliRunner()
    for args in (
        ["export", "codings", "-o", str(tmp_path / "x.csv")],
        ["coders"],
        ["import", "qdpx", str(tmp_path / "none.qdpx")],
    ):
        result = runner.invoke(cli, [*args, "--db", str(foreign)])
        assert result.exit_code == 2, result.output
        assert result.output.strip() == (
            f"Error: {foreign}: not a qcode database (an SQLite file "
            "with other tables: people); pass the project's database "
            "with --db"
        )
    assert foreign.read_bytes() == before
    # an empty SQLite file is still a fine new project database
    empty = tmp_path / "tom.db"
    sqlite3.connect(empty).close()
    Store(empty).close()
