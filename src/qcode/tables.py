"""The one table reader: ``.csv``/``.tsv``/``.txt`` and ``.xlsx`` files as a header and rows.

Every table qcode takes goes through :func:`read_table_file`: survey tables (ingest), the
``metadata.csv`` sidecar, review sheets, ``import codings`` files, gold files and the
``crosstab`` survey. Tables come from Swedish Excel as often as from scripts, so:

* text files are decoded like transcripts (UTF-8 with or without BOM, UTF-16/32 with a BOM,
  otherwise Windows-1252 with a warning);
* the separator is Excel's ``sep=;`` first line when there is one, else sniffed among ``,``,
  ``;`` and tab: the one that splits the first lines into the same number of cells (quotes
  respected), preferring the one that gives the most cells;
* a field opened by a stray quote that swallows the rows after it is an error naming the line,
  never a silently merged row;
* ``.xlsx`` files are checked before they are read: zip members are bounded in size and in
  compression ratio (zip bombs), rows and columns are bounded (a lone cell at XFD1048576 is not
  read as a million empty rows), and a damaged workbook is a one-line error naming the file.

Empty rows are skipped; every row keeps its 1-based line (CSV: the line where the row starts)
or sheet row number so errors can point at it. Header cells are made unique in linear time
(``q``, ``q (2)``, …) and empty ones are named ``column_N``.

>>> table = read_table_file("enkat.csv")  # doctest: +SKIP
>>> table.header, table.rows[0]           # doctest: +SKIP
(('id', 'grupp', 'svar'), (2, ('r1', 'polis', 'Vi har en handlingsplan.')))
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import QcodeError, TranscriptError

#: file suffixes read as delimited text and as Excel workbooks.
TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
TABLE_SUFFIXES = TEXT_SUFFIXES + EXCEL_SUFFIXES
SEPARATORS = (",", ";", "\t")

#: a table is refused past these bounds (a survey or review sheet is far smaller): they keep a
#: hostile workbook from turning a few kilobytes into millions of cells.
MAX_ROWS = 200_000
MAX_COLUMNS = 5_000
#: zip limits for an .xlsx: per member, in total, and the inflation ratio of a large member.
MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_TOTAL_BYTES = 512 * 1024 * 1024
MAX_MEMBERS = 10_000
MAX_COMPRESSION_RATIO = 200
_RATIO_FLOOR_BYTES = 1024 * 1024

#: the first lines looked at when sniffing the separator.
_SNIFF_LINES = 20


class _EmptyTable(Exception):
    """No header row: turned into the caller's error with its wording."""

    def __init__(self, line: int | None):
        super().__init__(line)
        self.line = line


@dataclass(frozen=True)
class Table:
    """A table as read: unique header names, the data rows with their 1-based line (CSV) or
    row (xlsx) number, padded to the header's width, and warnings (encoding fallback)."""

    header: tuple[str, ...]
    rows: tuple[tuple[int, tuple[Any, ...]], ...]
    warnings: tuple[str, ...] = ()
    separator: str | None = None


def unique_header(values: Iterable[Any]) -> tuple[str, ...]:
    """Header names made unique: a repeated name gets `` (2)``, `` (3)``…, an empty one
    ``column_N``. Linear in the number of columns (a set, and one counter per name)."""
    names: list[str] = []
    used: set[str] = set()
    next_number: dict[str, int] = {}
    for index, value in enumerate(values):
        name = _cell_text(value) or f"column_{index + 1}"
        if name in used:
            base, n = name, next_number.get(name, 2)
            while f"{base} ({n})" in used:
                n += 1
            next_number[base] = n + 1
            name = f"{base} ({n})"
        used.add(name)
        names.append(name)
    return tuple(names)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    from .ingest.common import normalise_text

    return normalise_text(str(value)).strip()


def is_empty(value: Any) -> bool:
    """A blank cell: None or only white space."""
    return value is None or (isinstance(value, str) and not value.strip())


def read_table_file(
    path: str | Path,
    *,
    what: str = "table",
    expected: str = "a header row",
    error: type[QcodeError] = TranscriptError,
    keep_formulas: bool = False,
    sheet: str | None = None,
) -> Table:
    """Read a CSV/TSV/XLSX table (see the module docstring).

    ``what`` names the file in messages ("gold file", "review sheet") and ``expected`` says
    what an empty one should hold. In CSV rows, cells past the end of a short row are None
    (an empty cell is ``""``). Errors are raised as
    ``error`` (a :class:`~qcode.errors.QcodeError` subclass) naming the file and line. For
    xlsx, ``keep_formulas`` hands over a formula's text instead of its cached value (review
    sheets refuse formulas), and ``sheet`` picks a worksheet by name when it exists (else the
    first). Nothing in a workbook is ever evaluated.
    """
    path = Path(path)
    try:
        if path.suffix.lower() in EXCEL_SUFFIXES:
            return _read_xlsx(path, what, keep_formulas, sheet)
        return _read_text_table(path, what)
    except _EmptyTable as empty:
        raise error(
            f"{what} is empty; expected {expected}", path=str(path), line=empty.line
        ) from None
    except QcodeError as err:
        if isinstance(err, error):
            raise
        raise error(err.message, path=err.path, line=err.line) from None


# -- delimited text ----------------------------------------------------------------------------
def _read_text_table(path: Path, what: str) -> Table:
    from .ingest.common import decode_text, read_bytes

    data = read_bytes(path)
    text, warnings = decode_text(data, path)
    if not text.strip():
        raise _EmptyTable(1)
    first_line = 1
    match = re.match(r"\s*sep=(.)[ \t]*\n", text) if text.lstrip().startswith("sep=") else None
    if match:
        separator = match.group(1)
        first_line = 1 + text[: match.end()].count("\n")
        text = text[match.end() :]
    else:
        separator = sniff_separator(text, default="\t" if path.suffix.lower() == ".tsv" else ",")
    rows = _csv_rows(text, separator, first_line, path)
    return _build_table(rows, path, what, warnings, separator)


def sniff_separator(text: str, default: str = ",") -> str:
    """The separator among ``,``, ``;`` and tab that splits the first lines most consistently:
    every sampled row gets the same number of cells (quotes respected), more cells better.
    A header like ``id;namn, ort;svar`` is ``;`` although it holds a comma."""
    sample_end = 0
    for _ in range(_SNIFF_LINES):
        found = text.find("\n", sample_end)
        if found < 0:
            sample_end = len(text)
            break
        sample_end = found + 1
    sample, truncated = text[:sample_end], sample_end < len(text)
    best, best_score = default, (0, 0, 0)
    for separator in SEPARATORS:
        try:
            widths = [
                len(row)
                for row in csv.reader(io.StringIO(sample, newline=""), delimiter=separator)
                if row
            ]
        except csv.Error:
            continue
        if truncated and len(widths) > 1:
            widths.pop()  # the sample may end inside a multi-line cell
        if not widths or widths[0] < 2:
            continue
        consistent = sum(1 for w in widths if w == widths[0])
        score = (int(consistent == len(widths)), consistent, widths[0])
        if score > best_score:
            best, best_score = separator, score
    return best


def _csv_rows(
    text: str, separator: str, first_line: int, path: Path
) -> Iterator[tuple[int, list[Any], str | None]]:
    """``(line where the row starts, cells, separator)`` per CSV row; a malformed file or an
    unclosed quote raises."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    previous_end = start = 0
    try:
        for row in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            yield start + first_line - 1, row, separator
    except csv.Error as err:
        raise TranscriptError(
            f"malformed CSV: {err}", path=str(path), line=previous_end + first_line
        ) from None
    # A quote that is never closed runs to the end of the file: the last row spans several
    # lines and the file holds an odd number of quote characters (well-formed quoting pairs them).
    if previous_end > start and text.count('"') % 2:
        raise TranscriptError(
            f"a quote opened in the row starting on this line is never closed, so the "
            f"{previous_end - start + 1} lines to the end of the file were read as one row: a "
            'stray `"`? Remove it or close the quote',
            path=str(path),
            line=start + first_line - 1,
        )


def _shape(text: str) -> str:
    """The shape of a cell for comparing ids: letters -> ``a``, digits -> ``9`` (``enk-12``
    and ``enk-7`` are both ``a-9``)."""
    return re.sub(r"\d+", "9", re.sub(r"[^\W\d_]+", "a", text.strip()))


def _check_stray_quotes(
    data: list[tuple[int, tuple[Any, ...]]], width: int, separator: str, path: Path
) -> None:
    """Refuse a multi-line cell whose later lines look like rows of their own: as many cells
    as the header when split on the separator and, when the table has ordinary rows, a first
    cell shaped like theirs (``12``, ``enk-7``). A legitimate multi-line answer ("Polisen,
    kommunen och soc" on its own line) rarely passes both; text after a stray opening quote
    always does."""
    if width < 2:
        return
    shapes = {
        _shape(row[0])
        for _n, row in data
        if isinstance(row[0], str)
        and row[0].strip()
        and not any(isinstance(v, str) and "\n" in v for v in row)
    }
    for number, row in data:
        for value in row:
            if not isinstance(value, str) or "\n" not in value:
                continue
            rowlike = [
                cells
                for cells in (
                    next(csv.reader([line], delimiter=separator), [])
                    for line in value.split("\n")[1:]
                )
                if len(cells) == width and (not shapes or _shape(cells[0]) in shapes)
            ]
            if rowlike and (shapes or len(rowlike) >= 2 or width >= 3):
                raise TranscriptError(
                    f"a quoted field starting on this line runs over "
                    f"{value.rstrip(chr(10)).count(chr(10)) + 1} lines and holds {len(rowlike)} "
                    'line(s) that look like rows of their own: a stray `"`? Remove it or close '
                    "the quote",
                    path=str(path),
                    line=number,
                )


# -- xlsx ---------------------------------------------------------------------------------------
def check_zip(path: Path, data: bytes, what: str) -> None:
    """Refuse an Office file whose zip members are too many, too large or inflate too much,
    before any member is decompressed."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
        raise TranscriptError(
            f"not a readable Excel .xlsx file (not a zip archive: {err})", path=str(path)
        ) from None
    if len(infos) > MAX_MEMBERS:
        raise TranscriptError(
            f"refused: the {what} has {len(infos)} zip members (limit {MAX_MEMBERS})",
            path=str(path),
        )
    total = 0
    for info in infos:
        size = info.file_size
        if size > MAX_MEMBER_BYTES or (
            size > _RATIO_FLOOR_BYTES and size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1)
        ):
            raise TranscriptError(
                f"refused: zip member {info.filename!r} inflates to {size} bytes from "
                f"{info.compress_size} (a zip bomb?)",
                path=str(path),
            )
        total += size
    if total > MAX_TOTAL_BYTES:
        raise TranscriptError(
            f"refused: the {what} inflates to {total} bytes (limit {MAX_TOTAL_BYTES})",
            path=str(path),
        )


def _read_xlsx(path: Path, what: str, keep_formulas: bool, sheet_name: str | None) -> Table:
    import openpyxl

    from .ingest.common import read_bytes

    data = read_bytes(path)
    if not data:
        raise _EmptyTable(None)
    check_zip(path, data, what)
    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=not keep_formulas
        )
    except Exception as err:  # noqa: BLE001 - openpyxl raises a dozen types for damaged files
        raise TranscriptError(
            f"not a readable Excel .xlsx file ({_reason(err)})", path=str(path)
        ) from None
    try:
        if not workbook.worksheets:
            raise _EmptyTable(None)
        sheet = (
            workbook[sheet_name]
            if sheet_name and sheet_name in workbook.sheetnames
            else workbook.worksheets[0]
        )
        # The declared <dimension> may be missing or lie (A1:XFD1048576 for one cell): ignore
        # it, so rows are only as wide as their cells, and bound what is actually there.
        sheet.reset_dimensions()
        rows = list(_xlsx_rows(sheet, path, what))
        return _build_table(((n, v, None) for n, v in rows), path, what, (), None)
    except (QcodeError, _EmptyTable):
        raise
    except Exception as err:  # noqa: BLE001 - damaged sheet XML surfaces while iterating
        raise TranscriptError(
            f"not a readable Excel .xlsx file: damaged sheet ({_reason(err)})", path=str(path)
        ) from None
    finally:
        workbook.close()


def _xlsx_rows(sheet: Any, path: Path, what: str) -> Iterator[tuple[int, list[Any]]]:
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        if not values:  # a gap between stored rows
            continue
        values = list(values)
        if len(values) > MAX_COLUMNS:
            if any(not is_empty(v) for v in values[MAX_COLUMNS:]):
                raise TranscriptError(
                    f"the {what} has a cell in column {len(values)}; qcode reads at most "
                    f"{MAX_COLUMNS} columns (delete the stray cells far to the right)",
                    path=str(path),
                    line=number,
                )
            values = values[:MAX_COLUMNS]
        if number > MAX_ROWS and any(not is_empty(v) for v in values):
            raise TranscriptError(
                f"the {what} has a cell in row {number}; qcode reads at most {MAX_ROWS} rows "
                "(delete the stray cells far below the table)",
                path=str(path),
                line=number,
            )
        yield number, values


def _reason(err: BaseException) -> str:
    text = str(err).splitlines()[0] if str(err) else ""
    return f"{type(err).__name__}: {text}"[:200] if text else type(err).__name__


# -- shared -------------------------------------------------------------------------------------
def _build_table(
    rows: Iterable[tuple[int, list[Any], str | None]],
    path: Path,
    what: str,
    warnings: tuple[str, ...],
    used_separator: str | None,
) -> Table:
    """Header and padded rows; ``rows`` yield ``(number, cells, separator)``, the separator
    (CSV only) used to spot a field that swallowed the rows after it."""
    header: tuple[str, ...] | None = None
    data: list[tuple[int, tuple[Any, ...]]] = []
    for number, values, _separator in rows:
        if all(is_empty(v) for v in values):
            continue
        if header is None:
            if len(values) > MAX_COLUMNS:
                raise TranscriptError(
                    f"the header has {len(values)} columns; qcode reads at most {MAX_COLUMNS}",
                    path=str(path),
                    line=number,
                )
            header = unique_header(values)
            continue
        if len(values) > len(header):
            if any(not is_empty(v) for v in values[len(header) :]):
                raise TranscriptError(
                    f"row has {len(values)} cells but the header has "
                    f"{len(header)}; check the separator or add header names",
                    path=str(path),
                    line=number,
                )
        padded = tuple(values[: len(header)]) + (None,) * (len(header) - len(values))
        data.append((number, padded))
        if len(data) > MAX_ROWS:
            raise TranscriptError(
                f"the {what} has more than {MAX_ROWS} rows", path=str(path), line=number
            )
    if header is None:
        raise _EmptyTable(1)
    if used_separator is not None:
        _check_stray_quotes(data, len(header), used_separator, path)
    return Table(header, tuple(data), warnings, used_separator)
