"""Survey free text from tables (``.csv``, ``.xlsx``): one Document per respondent row.

The first non-empty row is the header. The id column is ``IngestConfig.id_column`` or, by
default, a column named id / respondent / respondent_id / respondent-id (any case), else the
first column. The free-text columns are ``IngestConfig.text_columns`` or, by default, the text
columns whose non-empty answers average five words or more (fixed-choice answers and codes are
shorter), leaving out the id column and the known metadata columns (group, main_group, …).
Every other column becomes case metadata under its own name.

A row's text is its answers joined by blank lines; each answer is one Turn whose speaker is
the question (the column name). Empty answers are skipped, and a row without any answer text
is skipped. Excel files are opened with ``data_only=True``: the values Excel last saved are read
and formulas are never evaluated.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from ..errors import DuplicateDocument, TranscriptError
from ..models import KNOWN_METADATA_KEYS, Document, Turn, frozen_mapping
from .common import IngestConfig, decode_text, metadata_value, normalise_text, read_bytes

#: header names taken as the respondent id when no ``id_column`` is configured.
ID_COLUMN_NAMES = ("id", "respondent", "respondent_id", "respondent-id", "respondent id")
#: an answer column's non-empty cells must average at least this many words.
MIN_AVERAGE_WORDS = 5.0

_NUMBER = re.compile(r"\s*[-+]?\d[\d\s]*(?:[.,]\d+)?\s*%?\s*")


@dataclass(frozen=True)
class Table:
    """A table as read: header names and the data rows with their 1-based line/row number."""

    header: tuple[str, ...]
    rows: tuple[tuple[int, tuple[Any, ...]], ...]
    warnings: tuple[str, ...] = ()


def _unique_header(values: Iterable[Any]) -> tuple[str, ...]:
    names: list[str] = []
    for index, value in enumerate(values):
        name = metadata_value(value) or f"column_{index + 1}"
        base, n = name, 2
        while name in names:
            name, n = f"{base} ({n})", n + 1
        names.append(name)
    return tuple(names)


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _build_table(rows: Iterable[tuple[int, list[Any]]], path: Path,
                 warnings: tuple[str, ...] = ()) -> Table:
    header: tuple[str, ...] | None = None
    data: list[tuple[int, tuple[Any, ...]]] = []
    for number, values in rows:
        if all(_is_empty(v) for v in values):
            continue
        if header is None:
            header = _unique_header(values)
            continue
        if len(values) > len(header):
            if any(not _is_empty(v) for v in values[len(header):]):
                raise TranscriptError(f"row has {len(values)} cells but the header has "
                                      f"{len(header)}; check the delimiter or add header names",
                                      path=str(path), line=number)
        padded = tuple(values[:len(header)]) + (None,) * (len(header) - len(values))
        data.append((number, padded))
    if header is None:
        raise TranscriptError("empty file: the table has no header row", path=str(path))
    return Table(header, tuple(data), warnings)


def _delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv_table(path: Path) -> Table:
    """A CSV file as a Table; the delimiter (``;``, ``,`` or tab) is taken from the header line,
    and Excel's ``sep=;`` first line is honoured."""
    text, warnings = decode_text(read_bytes(path), path)
    if not text.strip():
        raise TranscriptError("empty file: the table has no rows", path=str(path))
    first_line = 1
    match = re.match(r"sep=(.)\n", text)
    if match:
        delimiter, text, first_line = match.group(1), text[match.end():], 2
    else:
        delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def numbered() -> Iterable[tuple[int, list[Any]]]:
        try:
            for row in reader:
                yield reader.line_num + first_line - 1, row
        except csv.Error as error:
            raise TranscriptError(f"malformed CSV: {error}", path=str(path),
                                  line=reader.line_num + first_line - 1) from None

    return _build_table(numbered(), path, warnings)


def read_xlsx_table(path: Path) -> Table:
    """The first worksheet of an Excel file as a Table (cached values only, no formulas)."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    data = read_bytes(path)  # same unreadable-file errors as the other formats
    if not data:
        raise TranscriptError("empty file: 0 bytes", path=str(path))
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise TranscriptError(f"not a readable Excel .xlsx file: {error}", path=str(path)) from None
    try:
        if not workbook.worksheets:
            raise TranscriptError("empty file: the workbook has no sheets", path=str(path))
        sheet = workbook.worksheets[0]
        rows = ((number, list(values)) for number, values in
                enumerate(sheet.iter_rows(values_only=True), start=1))
        return _build_table(rows, path)
    finally:
        workbook.close()


def _find_column(header: tuple[str, ...], name: str, path: Path, what: str) -> int:
    wanted = normalise_text(name).strip().casefold()
    for index, column in enumerate(header):
        if column.casefold() == wanted:
            return index
    raise TranscriptError(f"no {what} column named {name!r}; the columns are "
                          f"{', '.join(header)}", path=str(path))


def _id_column(table: Table, config: IngestConfig, path: Path) -> int:
    if config.id_column:
        return _find_column(table.header, config.id_column, path, "id")
    for index, column in enumerate(table.header):
        if column.casefold() in ID_COLUMN_NAMES:
            return index
    return 0


def _is_free_text(values: list[Any]) -> bool:
    texts = [v for v in values if not _is_empty(v)]
    if not texts or not all(isinstance(v, str) and not _NUMBER.fullmatch(v) for v in texts):
        return False
    return sum(len(v.split()) for v in texts) / len(texts) >= MIN_AVERAGE_WORDS


def _text_columns(table: Table, id_index: int, config: IngestConfig, path: Path) -> list[int]:
    if config.text_columns:
        return [_find_column(table.header, name, path, "text") for name in config.text_columns]
    known = {key.casefold() for key in KNOWN_METADATA_KEYS}
    found = [index for index, column in enumerate(table.header)
             if index != id_index and column.casefold() not in known
             and _is_free_text([row[index] for _n, row in table.rows])]
    if not found:
        raise TranscriptError(
            "no free-text column found (none whose answers average five words or more); name "
            "the answer columns with `text_columns:` in qcode.yaml", path=str(path))
    return found


def _answer(value: Any) -> str:
    if isinstance(value, str):
        return normalise_text(value).strip()
    return metadata_value(value) or ""


def table_documents(table: Table, path: Path, config: IngestConfig) -> list[Document]:
    """One Document per respondent row that has at least one answer."""
    id_index = _id_column(table, config, path)
    text_indexes = _text_columns(table, id_index, config, path)
    meta_indexes = [i for i in range(len(table.header))
                    if i != id_index and i not in text_indexes]
    documents: list[Document] = []
    seen: dict[str, int] = {}
    for number, row in table.rows:
        answers = [(table.header[i], _answer(row[i])) for i in text_indexes]
        answers = [(question, text) for question, text in answers if text]
        if not answers:
            continue
        doc_id = metadata_value(row[id_index]) or normalise_text(f"{path.stem}-{number}")
        if doc_id in seen:
            raise DuplicateDocument(f"respondent id {doc_id!r} is also used on line "
                                    f"{seen[doc_id]}; ids must be unique",
                                    path=str(path), line=number)
        seen[doc_id] = number
        turns, offset = [], 0
        for question, text in answers:
            turns.append(Turn(offset, offset + len(text), question, False, frozen_mapping({})))
            offset += len(text) + 2
        metadata = {}
        for i in meta_indexes:
            value = metadata_value(row[i])
            if value:
                key = table.header[i]
                metadata[key.lower() if key.lower() in KNOWN_METADATA_KEYS else key] = value
        documents.append(Document(
            id=doc_id, text="\n\n".join(text for _q, text in answers), path=str(path),
            turns=tuple(turns), metadata=frozen_mapping(metadata),
            warnings=table.warnings if not documents else ()))
    if not documents:
        raise TranscriptError("no respondent row has any answer text", path=str(path))
    return documents


def read_table(path: Path, config: IngestConfig) -> list[Document]:
    """Read a ``.csv`` or ``.xlsx`` survey table (see the module docstring)."""
    table = read_xlsx_table(path) if path.suffix.lower() == ".xlsx" else read_csv_table(path)
    return table_documents(table, path, config)
