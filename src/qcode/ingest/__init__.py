"""Ingest: files -> :class:`~qcode.models.Document` objects, one module per format.

``.txt``/``.md`` (:mod:`.text`), ``.docx`` (:mod:`.docx`), ``.vtt``/``.srt``
(:mod:`.subtitles`), ``.csv``/``.tsv``/``.xlsx`` survey tables (:mod:`.table`). Every reader returns
documents whose ``text`` is NFC with ``\\n`` line ends and whose turns have exact offsets;
problems a user can fix raise :class:`~qcode.errors.TranscriptError` subclasses naming the file.

>>> from qcode.ingest import iter_documents, IngestConfig
>>> for path, result in iter_documents(["transcripts/"], IngestConfig()):  # doctest: +SKIP
...     print(path, result)
"""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..errors import DuplicateDocument, TranscriptError, UnsupportedFormat
from ..models import KNOWN_METADATA_KEYS, Document, frozen_mapping
from .common import IngestConfig, metadata_value

__all__ = [
    "IngestConfig", "SUPPORTED_SUFFIXES", "SIDECAR_NAME", "discover", "read_path",
    "load_sidecar_metadata", "apply_sidecar", "iter_documents",
]

SUPPORTED_SUFFIXES = (".txt", ".md", ".docx", ".vtt", ".srt", ".csv", ".tsv", ".xlsx")
#: per-folder case metadata, keyed by document id.
SIDECAR_NAME = "metadata.csv"


#: operating-system clutter that is never a transcript.
_OS_FILES = ("thumbs.db", "desktop.ini")


def _skipped(name: str) -> bool:
    """Files a folder scan leaves out: hidden files, README.*, the metadata sidecar, Office
    lock files (``~$interview.docx``) and Windows' Thumbs.db/desktop.ini."""
    lower = name.lower()
    return (name.startswith(".") or name.startswith("~$") or lower == SIDECAR_NAME
            or lower.startswith("readme.") or lower in _OS_FILES)


def discover(paths: Iterable[str | Path]) -> list[Path]:
    """The input files under ``paths``: folders are searched recursively (sorted; hidden
    folders and :func:`_skipped` files left out). Files of other formats found in a folder are
    returned too, like a file named explicitly, so reading them reports ``UnsupportedFormat``
    instead of silently leaving a transcript out.

    >>> discover(["transcripts/"])  # doctest: +SKIP
    [PosixPath('transcripts/polis.txt'), PosixPath('transcripts/taxi/enkat.xlsx')]
    """
    found: list[Path] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        if path not in seen:
            seen.add(path)
            found.append(path)

    for given in paths:
        path = Path(given)
        if not path.is_dir():
            add(path)
            continue
        folder_files = []
        for root, dirs, files in os.walk(path):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            folder_files.extend(Path(root, name) for name in files if not _skipped(name))
        for file in sorted(folder_files):
            add(file)
    return found


def _reader(suffix: str) -> Callable[[Path, IngestConfig], list[Document]]:
    if suffix in (".txt", ".md"):
        from .text import read_text
        return read_text
    if suffix == ".docx":
        from .docx import read_docx
        return read_docx
    if suffix in (".vtt", ".srt"):
        from .subtitles import read_subtitles
        return read_subtitles
    from .table import read_table
    return read_table


def read_path(path: Path, config: IngestConfig = IngestConfig()) -> list[Document]:
    """Read one file into documents (a survey table gives one per respondent row).

    Raises :class:`~qcode.errors.UnsupportedFormat` for an unknown suffix and other
    :class:`~qcode.errors.TranscriptError` subclasses for empty, binary, unreadable or malformed
    files.

    >>> read_path(Path("transcripts/polis.txt"))[0].turns[0].speaker  # doctest: +SKIP
    'Intervjuare'
    """
    path = Path(path)
    if path.is_dir():
        raise TranscriptError("is a folder, not a file", path=str(path))
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        if not path.exists():
            raise TranscriptError("no such file", path=str(path))
        raise UnsupportedFormat(f"unsupported file type {suffix or '(no suffix)'!r}; qcode reads "
                                f"{', '.join(SUPPORTED_SUFFIXES)}", path=str(path))
    _check_size(path, config.max_file_mb)
    return _reader(suffix)(path, config)


def _check_size(path: Path, limit_mb: float) -> None:
    """Refuse a file over ``limit_mb`` megabytes (0: no limit) before reading a byte of it.

    A 200 MB file with no line breaks is one segment of 200 MB, which would take tens of
    gigabytes to tokenize; a clear refusal with the way round is better than running out of
    memory.
    """
    if not limit_mb:
        return
    try:
        size = path.stat().st_size
    except OSError:
        return  # the reader says why the file cannot be read
    if size > limit_mb * 1024 * 1024:
        raise TranscriptError(
            f"file is {size / 1024 / 1024:.3g} MB, more than the {limit_mb:g} MB limit for one "
            "input file (a long interview is well under 1 MB); check that it is the right file, "
            "or raise the limit with `--max-file-mb N` or `max_file_mb: N` in qcode.yaml",
            path=str(path))


def load_sidecar_metadata(folder: Path) -> dict[str, dict]:
    """Case metadata from ``folder/metadata.csv`` keyed by document id (``{}`` if none).

    Read by the one table reader (:func:`qcode.tables.read_table_file`: UTF-8 with or without
    BOM, cp1252 as Excel on Windows writes it, ``;``/``,``/tab). The id column is named ``id``
    (or respondent, löpnummer…, as in survey tables; else the first column); ``Grupp`` and the
    other Swedish headers mean the known keys; every other non-empty cell is a metadata value.

    >>> load_sidecar_metadata(Path("transcripts"))  # doctest: +SKIP
    {'polis-1': {'group': 'polis', 'main_group': 'myndigheter'}}
    """
    from ..tables import read_table_file
    from .table import canonical_header

    path = Path(folder) / SIDECAR_NAME
    if not path.is_file():
        return {}
    try:
        table = read_table_file(path, what="metadata sidecar")
    except TranscriptError as error:
        if "is empty" in error.message:
            return {}
        raise
    header = [canonical_header(cell) or _metadata_key(cell) for cell in table.header]
    id_index = next((i for i, name in enumerate(header) if name == "id"), 0)
    result: dict[str, dict] = {}
    for number, row in table.rows:
        doc_id = metadata_value(row[id_index]) or ""
        if not doc_id:
            raise TranscriptError("row has no document id", path=str(path), line=number)
        if doc_id in result:
            raise TranscriptError(f"document id {doc_id!r} appears twice", path=str(path),
                                  line=number)
        result[doc_id] = {header[i]: metadata_value(cell) for i, cell in enumerate(row)
                          if i != id_index and not _blank(cell)}
    return result


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _metadata_key(name: str) -> str:
    name = name.strip()
    return name.lower() if name.lower() in KNOWN_METADATA_KEYS else name


def apply_sidecar(doc: Document, sidecar: dict[str, dict]) -> Document:
    """Fill the document's missing metadata from its sidecar row (front matter wins).

    A sidecar value that disagrees with the document's own is ignored and noted in
    ``doc.warnings``.
    """
    row = sidecar.get(doc.id)
    if not row:
        return doc
    metadata = dict(doc.metadata)
    warnings = list(doc.warnings)
    for key, value in row.items():
        if value is None:
            continue
        current = metadata.get(key)
        if current is None or current == "":
            metadata[key] = value
        elif str(current) != str(value):
            warnings.append(f"{doc.path}: {SIDECAR_NAME} gives {key}={value!r} for {doc.id!r} "
                            f"but the file itself says {current!r}; keeping {current!r}")
    return replace(doc, metadata=frozen_mapping(metadata), warnings=tuple(warnings))


def iter_documents(paths: Iterable[str | Path], config: IngestConfig = IngestConfig()
                   ) -> Iterator[tuple[Path, list[Document] | TranscriptError]]:
    """Discover, read and apply sidecar metadata, one file at a time.

    Errors are yielded, not raised, so a caller can report them and go on; a file whose
    document id was already seen in this run yields :class:`~qcode.errors.DuplicateDocument`.
    """
    sidecars: dict[Path, dict[str, dict] | TranscriptError] = {}
    seen: dict[str, Path] = {}
    for path in discover(paths):
        folder = path.parent
        if folder not in sidecars:
            try:
                sidecars[folder] = load_sidecar_metadata(folder)
            except TranscriptError as error:
                sidecars[folder] = error
        try:
            documents = read_path(path, config)
        except TranscriptError as error:
            yield path, error
            continue
        sidecar = sidecars[folder]
        if isinstance(sidecar, TranscriptError):
            yield path, sidecar
            continue
        duplicate = next((d.id for d in documents if d.id in seen), None)
        if duplicate is not None:
            yield path, DuplicateDocument(
                f"document id {duplicate!r} is already used by {seen[duplicate]}; give one of "
                "them another `id:` in its front matter", path=str(path))
            continue
        documents = [apply_sidecar(doc, sidecar) for doc in documents]
        for doc in documents:
            seen[doc.id] = path
        yield path, documents
