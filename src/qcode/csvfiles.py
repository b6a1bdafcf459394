"""Reading the small CSV files people hand to qcode: gold files, codings, review sheets.

They come from Excel as often as from scripts, so: UTF-8 with or without a BOM, NFC text,
the delimiter (``,``, ``;`` as Swedish Excel writes, or a tab) taken from the header line,
and every row kept with its line number so an error can point at it.
"""
from __future__ import annotations

import csv
import unicodedata
from pathlib import Path

from .errors import ReviewError


def read_delimited(path: str | Path, *, what: str = "file", expected: str = "a header row"
                   ) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header cells and the ``(line number, cells)`` of every row of a CSV file.

    ``what`` names the file in errors ("gold file"); ``expected`` says what the header
    should look like when the file is empty.
    """
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ReviewError(f"{what} not found", path=str(path)) from None
    except UnicodeDecodeError as err:
        raise ReviewError(f"{what} is not UTF-8 ({err.reason} at byte {err.start})",
                          path=str(path)) from None
    raw = unicodedata.normalize("NFC", raw)
    lines = raw.splitlines()
    if not lines or not lines[0].strip():
        raise ReviewError(f"{what} is empty; expected {expected}", path=str(path), line=1)
    delimiter = max(",;\t", key=lines[0].count)
    reader = csv.reader(raw.splitlines(keepends=True), delimiter=delimiter)
    header = next(reader)
    return header, [(reader.line_num, row) for row in reader]
