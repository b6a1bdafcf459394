"""Survey free text from tables (``.csv``, ``.tsv``, ``.xlsx``): one Document per respondent row.

The table is read by :func:`qcode.tables.read_table_file` (separator, encoding and xlsx
safety live there). Header names are matched in Swedish and English, in any case:
``id``/``respondent``/``löpnummer`` is the id, ``grupp``/``aktörsgrupp``/``group`` the group,
``huvudgrupp``/``main_group`` the main group (:data:`HEADER_SYNONYMS`). The id column is
``IngestConfig.id_column`` or the first id-named column. A column that holds personal names
(header ``namn``/``name``/``kontaktperson``…, or values the privacy detector reads as names) is
never an id: it is kept as private name metadata (``namn``, never shown in a report). With no id
column, rows are named ``<file stem>-<line>`` and the document's warnings say so.

The free-text columns are ``IngestConfig.text_columns`` or, by default, the text columns whose
non-empty answers average five words or more (fixed-choice answers and codes are shorter),
leaving out the id, name and known metadata columns. Every other column becomes case metadata
under its own name. A row's text is its answers joined by blank lines; each answer is one Turn
whose speaker is the question (the column name). Empty answers are skipped, and a row without
any answer text is skipped. Every document is of kind ``survey``. Excel files are read with
their cached values: formulas are never evaluated.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

from ..errors import DuplicateDocument, TranscriptError
from ..models import KNOWN_METADATA_KEYS, Document, Turn, frozen_mapping
from ..tables import Table, is_empty, read_table_file
from .common import IngestConfig, metadata_value, normalise_text

#: header names (after :func:`header_key`) that mean a known column, Swedish and English.
HEADER_SYNONYMS = {
    "id": (
        "id",
        "respondent",
        "respondent_id",
        "respondentid",
        "respondentnr",
        "respondentnummer",
        "lopnummer",
        "lopnr",
        "resp",
        "resp_id",
    ),
    "group": ("group", "grupp", "aktorsgrupp", "actor_group", "aktorskategori"),
    "main_group": ("main_group", "maingroup", "huvudgrupp", "huvudkategori"),
    "title": ("title", "titel", "befattning"),
    "organisation": ("organisation", "organization", "organisationen"),
}
#: header names taken as the respondent id when no ``id_column`` is configured (for callers
#: matching plain names; :func:`canonical_header` is the full rule).
ID_COLUMN_NAMES = (
    "id",
    "respondent",
    "respondent_id",
    "respondent-id",
    "respondent id",
    "löpnummer",
)
#: headers that say the column holds personal names.
NAME_HEADERS = (
    "namn",
    "name",
    "kontaktperson",
    "kontakt_person",
    "contact",
    "contact_person",
    "respondent_name",
    "respondentens_namn",
    "fornamn",
    "efternamn",
    "first_name",
    "last_name",
    "full_name",
    "fullstandigt_namn",
    "for_och_efternamn",
    "intervjuperson",
)
#: metadata keys a name column is stored under: all of them are private name keys.
NAME_KEYS = ("namn", "name", "kontaktperson", "contact", "respondent_name")
#: an answer column's non-empty cells must average at least this many words.
MIN_AVERAGE_WORDS = 5.0
#: a column holds names when at least this share of its (sampled) values are names.
NAME_SHARE = 0.5
_NAME_SAMPLE = 40

_NUMBER = re.compile(r"\s*[-+]?\d[\d\s]*(?:[.,]\d+)?\s*%?\s*")


def header_key(name: str) -> str:
    """A header name for matching: case-folded, accents off (``löpnummer`` -> ``lopnummer``),
    spaces and dashes as ``_``."""
    text = unicodedata.normalize("NFKD", normalise_text(str(name)).strip().casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[\s\-.]+", "_", text).strip("_")


_CANONICAL = {synonym: key for key, synonyms in HEADER_SYNONYMS.items() for synonym in synonyms}


def canonical_header(name: str) -> str | None:
    """``id``, ``group``, ``main_group``, ``title`` or ``organisation`` for a header that means
    one of them in Swedish or English, else None."""
    return _CANONICAL.get(header_key(name))


def is_name_header(name: str) -> bool:
    """True for a header such as ``Namn`` or ``Kontaktperson``."""
    return header_key(name) in NAME_HEADERS


def holds_names(values: list[Any]) -> bool:
    """True when most non-empty values are short and read as personal names by the privacy
    detector (``Helena Strand``, ``Lena``)."""
    from ..privacy import Redactor

    texts = [v.strip() for v in values if isinstance(v, str) and v.strip()][:_NAME_SAMPLE]
    if not texts:
        return False
    redactor = Redactor(detect_names=True)
    names = 0
    for text in texts:
        if len(text.split()) > 4:
            continue
        covered = sum(len(hit.value) for hit in redactor.find(text) if hit.kind == "name")
        if covered >= 0.6 * len(text.replace(" ", "")):
            names += 1
    return names >= max(1, NAME_SHARE * len(texts))


def name_columns(table: Table) -> list[int]:
    """The columns that hold personal names: by header, or by their values (a column whose
    header gives it a known meaning, such as ``grupp``, is judged by its header alone)."""
    return [
        index
        for index, column in enumerate(table.header)
        if is_name_header(column)
        or (
            canonical_header(column) in (None, "id")
            and holds_names([row[index] for _n, row in table.rows])
        )
    ]


def _find_column(header: tuple[str, ...], name: str, path: Path, what: str) -> int:
    wanted = normalise_text(name).strip().casefold()
    for index, column in enumerate(header):
        if column.casefold() == wanted:
            return index
    raise TranscriptError(
        f"no {what} column named {name!r}; the columns are {', '.join(header)}", path=str(path)
    )


def _id_column(table: Table, config: IngestConfig, path: Path, names: list[int]) -> int | None:
    if config.id_column:
        index = _find_column(table.header, config.id_column, path, "id")
        if index in names:
            raise TranscriptError(
                f"id column {config.id_column!r} holds personal names; a name "
                "is never a document id (number the rows instead, or drop "
                "`id_column:`)",
                path=str(path),
            )
        return index
    return next(
        (
            index
            for index, column in enumerate(table.header)
            if canonical_header(column) == "id" and index not in names
        ),
        None,
    )


def _is_free_text(values: list[Any]) -> bool:
    texts = [v for v in values if not is_empty(v)]
    if not texts or not all(isinstance(v, str) and not _NUMBER.fullmatch(v) for v in texts):
        return False
    return sum(len(v.split()) for v in texts) / len(texts) >= MIN_AVERAGE_WORDS


def _text_columns(table: Table, skip: set[int], config: IngestConfig, path: Path) -> list[int]:
    if config.text_columns:
        return [_find_column(table.header, name, path, "text") for name in config.text_columns]
    known = {key.casefold() for key in KNOWN_METADATA_KEYS}
    found = [
        index
        for index, column in enumerate(table.header)
        if index not in skip
        and column.casefold() not in known
        and canonical_header(column) is None
        and _is_free_text([row[index] for _n, row in table.rows])
    ]
    if not found:
        raise TranscriptError(
            "no free-text column found (none whose answers average five words or more); name "
            "the answer columns with `text_columns:` in qcode.yaml",
            path=str(path),
        )
    return found


def _answer(value: Any) -> str:
    if isinstance(value, str):
        return normalise_text(value).strip()
    return metadata_value(value) or ""


def _metadata_keys(table: Table, indexes: list[int], names: list[int]) -> dict[int, str]:
    """The metadata key of each column: its canonical name (``Grupp`` -> ``group``), a private
    name key for a name column, else the header as written."""
    keys: dict[int, str] = {}
    taken: set[str] = set()
    spare_name_keys = iter(
        k for k in NAME_KEYS if k not in {header_key(table.header[i]) for i in names}
    )
    for index in indexes:
        column = table.header[index]
        if index in names:
            key = (
                header_key(column)
                if is_name_header(column) and header_key(column) in NAME_KEYS
                else next(spare_name_keys, None)
            )
            if key is None or key in taken:
                continue  # more name columns than private keys: leave the extra ones out
        else:
            key = canonical_header(column) or column
            if key.lower() in KNOWN_METADATA_KEYS:
                key = key.lower()
            if key in taken:
                key = column
        taken.add(key)
        keys[index] = key
    return keys


def table_documents(table: Table, path: Path, config: IngestConfig) -> list[Document]:
    """One Document (kind ``survey``) per respondent row that has at least one answer."""
    names = name_columns(table)
    id_index = _id_column(table, config, path, names)
    skip = set(names) | ({id_index} if id_index is not None else set())
    text_indexes = _text_columns(table, skip, config, path)
    text_set = set(text_indexes)
    meta_keys = _metadata_keys(
        table, [i for i in range(len(table.header)) if i != id_index and i not in text_set], names
    )
    notes = list(table.warnings)
    if id_index is None:
        notes.append(
            f"{path}: no id column (looked for id, respondent, löpnummer); rows are "
            f"named {path.stem}-<line>"
        )
    for index in names:
        notes.append(
            f"{path}: column {table.header[index]!r} holds personal names: kept as "
            "private metadata, never an id or a report column"
        )
    documents: list[Document] = []
    seen: dict[str, int] = {}
    for number, row in table.rows:
        answers = [(table.header[i], _answer(row[i])) for i in text_indexes]
        answers = [(question, text) for question, text in answers if text]
        if not answers:
            continue
        given = metadata_value(row[id_index]) if id_index is not None else None
        doc_id = given or normalise_text(f"{path.stem}-{number}")
        if doc_id in seen:
            raise DuplicateDocument(
                f"respondent id {doc_id!r} is also used on line {seen[doc_id]}; ids must be unique",
                path=str(path),
                line=number,
            )
        seen[doc_id] = number
        turns, offset = [], 0
        for question, text in answers:
            turns.append(Turn(offset, offset + len(text), question, False, frozen_mapping({})))
            offset += len(text) + 2
        metadata = {}
        for i, key in meta_keys.items():
            value = metadata_value(row[i])
            if value:
                metadata[key] = value
        documents.append(
            Document(
                id=doc_id,
                text="\n\n".join(text for _q, text in answers),
                path=str(path),
                turns=tuple(turns),
                metadata=frozen_mapping(metadata),
                warnings=tuple(notes) if not documents else (),
                kind="survey",
            )
        )
    if not documents:
        raise TranscriptError("no respondent row has any answer text", path=str(path))
    return documents


def read_table(path: Path, config: IngestConfig) -> list[Document]:
    """Read a ``.csv``, ``.tsv`` or ``.xlsx`` survey table (see the module docstring)."""
    return table_documents(read_table_file(path, what="survey table"), path, config)
