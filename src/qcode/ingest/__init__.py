"""Ingest: files -> :class:`~qcode.models.Document` objects, one module per format.

``.txt``/``.md`` (:mod:`.text`), ``.docx`` (:mod:`.docx`), ``.odt`` (:mod:`.odt`), ``.pdf``
with a text layer (:mod:`.pdf`), ``.vtt``/``.srt`` (:mod:`.subtitles`), ``.csv``/``.tsv``/``.xlsx``
survey tables (:mod:`.table`); :data:`READERS` maps each suffix to its reader. Every reader returns
documents whose ``text`` is NFC with ``\\n`` line ends and whose turns have exact offsets;
problems a user can fix raise :class:`~qcode.errors.TranscriptError` subclasses naming the file.

>>> from qcode.ingest import iter_documents, IngestConfig
>>> for path, result in iter_documents(["transcripts/"], IngestConfig()):  # doctest: +SKIP
...     print(path, result)
"""

from __future__ import annotations

import importlib
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import DuplicateDocument, TranscriptError, UnsupportedFormat
from ..models import KNOWN_METADATA_KEYS, Document, frozen_mapping
from .common import IngestConfig, metadata_value

__all__ = [
    "IngestConfig",
    "READERS",
    "SUPPORTED_SUFFIXES",
    "SIDECAR_NAME",
    "Discovery",
    "discover",
    "discover_inputs",
    "read_path",
    "reader_for",
    "load_sidecar_metadata",
    "apply_sidecar",
    "iter_documents",
]

#: suffix -> (module, function) of the reader; modules are imported on first use so that
#: reading plain text never loads python-docx, odfpy or pypdf.
READERS: dict[str, tuple[str, str]] = {
    ".txt": ("text", "read_text"),
    ".md": ("text", "read_text"),
    ".docx": ("docx", "read_docx"),
    ".odt": ("odt", "read_odt"),
    ".pdf": ("pdf", "read_pdf"),
    ".vtt": ("subtitles", "read_subtitles"),
    ".srt": ("subtitles", "read_subtitles"),
    ".csv": ("table", "read_table"),
    ".tsv": ("table", "read_table"),
    ".xlsx": ("table", "read_table"),
}
SUPPORTED_SUFFIXES = tuple(READERS)
#: formats people save transcripts in that qcode does not read, with what to do instead.
SAVE_AS_HINTS = {
    ".doc": "an old Word .doc file: open it in Word or LibreOffice and save it as .docx",
    ".rtf": "an RTF file: open it in Word or LibreOffice and save it as .docx",
    ".pages": "a Pages file: export it as .docx",
    ".xls": "an old Excel .xls file: open it in Excel or LibreOffice and save it as .xlsx",
    ".ods": "an OpenDocument spreadsheet: save it as .xlsx or .csv",
}
#: per-folder case metadata, keyed by document id.
SIDECAR_NAME = "metadata.csv"


#: operating-system clutter that is never a transcript.
_OS_FILES = ("thumbs.db", "desktop.ini")


def _skipped(name: str) -> bool:
    """Files a folder scan leaves out: hidden files, README.*, the metadata sidecar, Office
    lock files (``~$interview.docx``) and Windows' Thumbs.db/desktop.ini."""
    lower = name.lower()
    return (
        name.startswith(".")
        or name.startswith("~$")
        or lower == SIDECAR_NAME
        or lower.startswith("readme.")
        or lower in _OS_FILES
    )


def printable_path(path: str | Path) -> str:
    """A path as text that can always be printed and stored: bytes of a file name that are
    not UTF-8 (kept by Python as surrogates) are shown as U+FFFD."""
    return os.fsencode(str(path)).decode("utf-8", "replace")


def _bad_name(path: Path) -> bool:
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


@dataclass
class Discovery:
    """What :func:`discover_inputs` found: the ``files`` to read, in order; files in folders
    that qcode cannot read (``unsupported``), or must not open (``special``: pipes, devices,
    sockets), or whose names are not UTF-8 (``bad_names``); and the folders without any
    readable file (``empty_folders``)."""

    files: list[Path] = field(default_factory=list)
    unsupported: list[Path] = field(default_factory=list)
    special: list[Path] = field(default_factory=list)
    bad_names: list[Path] = field(default_factory=list)
    empty_folders: list[Path] = field(default_factory=list)

    def warnings(self) -> list[str]:
        """One line per kind of skipped file, naming them all."""
        lines = []
        if self.unsupported:
            lines.append(
                f"skipped {len(self.unsupported)} file(s) of a type qcode does not "
                f"read: {', '.join(printable_path(p) for p in self.unsupported)} "
                f"(qcode reads {', '.join(SUPPORTED_SUFFIXES)})"
            )
        if self.special:
            lines.append(
                f"skipped {len(self.special)} pipe(s) or device(s), not regular "
                f"files: {', '.join(printable_path(p) for p in self.special)}"
            )
        if self.bad_names:
            lines.append(
                f"skipped {len(self.bad_names)} file(s) whose names are not valid "
                f"UTF-8 (rename them): "
                f"{', '.join(printable_path(p) for p in self.bad_names)}"
            )
        return lines


def _is_special(path: Path) -> bool:
    """A FIFO, device or socket: opening one may block forever or never end."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False  # missing or unreadable: the reader says why
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def discover_inputs(paths: Iterable[str | Path]) -> Discovery:
    """The input files under ``paths``: folders are searched recursively (sorted; hidden
    folders and :func:`_skipped` files left out); files of other formats, pipes and devices,
    and files with undecodable names found in a folder are set aside in the result. A file
    named explicitly is always kept, so reading it reports what is wrong with it.

    >>> discover_inputs(["transcripts/"]).files  # doctest: +SKIP
    [PosixPath('transcripts/polis.txt'), PosixPath('transcripts/taxi/enkat.xlsx')]
    """
    found = Discovery()
    seen: set[Path] = set()

    def add(path: Path) -> None:
        if path not in seen:
            seen.add(path)
            found.files.append(path)

    for given in paths:
        path = Path(given)
        if not path.is_dir():
            add(path)
            continue
        folder_files: list[Path] = []
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            folder_files.extend(Path(root, name) for name in files if not _skipped(name))
        readable = 0
        for file in sorted(folder_files):
            if _bad_name(file):
                found.bad_names.append(file)
            elif file.suffix.lower() not in READERS:
                found.unsupported.append(file)
            elif _is_special(file):
                found.special.append(file)
            else:
                readable += 1
                add(file)
        if not readable:
            found.empty_folders.append(path)
    return found


def discover(paths: Iterable[str | Path]) -> list[Path]:
    """The files :func:`discover_inputs` would read (see there).

    >>> discover(["transcripts/"])  # doctest: +SKIP
    [PosixPath('transcripts/polis.txt'), PosixPath('transcripts/taxi/enkat.xlsx')]
    """
    return discover_inputs(paths).files


def no_transcripts_message(folders: Iterable[Path]) -> str:
    where = ", ".join(printable_path(f) for f in folders)
    return f"no transcripts found in {where} (looked for {' '.join(SUPPORTED_SUFFIXES)})"


def reader_for(path: Path) -> Callable[[Path, IngestConfig], list[Document]]:
    """The reader function for ``path``'s suffix (:data:`READERS`), or UnsupportedFormat."""
    suffix = path.suffix.lower()
    if suffix not in READERS:
        hint = SAVE_AS_HINTS.get(suffix)
        if hint:
            raise UnsupportedFormat(f"qcode cannot read {hint}", path=printable_path(path))
        raise UnsupportedFormat(
            f"unsupported file type {suffix or '(no suffix)'!r}; qcode reads "
            f"{', '.join(SUPPORTED_SUFFIXES)}",
            path=printable_path(path),
        )
    module, name = READERS[suffix]
    reader: Callable[[Path, IngestConfig], list[Document]] = getattr(
        importlib.import_module(f"{__name__}.{module}"), name
    )
    return reader


def read_path(path: Path, config: IngestConfig = IngestConfig()) -> list[Document]:
    """Read one file into documents (a survey table gives one per respondent row).

    Raises :class:`~qcode.errors.UnsupportedFormat` for an unknown suffix and other
    :class:`~qcode.errors.TranscriptError` subclasses for empty, binary, unreadable or malformed
    files, pipes and devices, and file names that are not UTF-8.

    >>> read_path(Path("transcripts/polis.txt"))[0].turns[0].speaker  # doctest: +SKIP
    'Intervjuare'
    """
    path = Path(path)
    if _bad_name(path):
        raise TranscriptError(
            "the file name is not valid UTF-8; rename the file", path=printable_path(path)
        )
    if path.is_dir():
        raise TranscriptError("is a folder, not a file", path=str(path))
    if path.suffix.lower() not in READERS and not path.exists():
        raise TranscriptError("no such file", path=str(path))
    reader = reader_for(path)
    if _is_special(path):
        raise TranscriptError(
            "not a regular file (a pipe, socket or device); qcode reads files only", path=str(path)
        )
    _check_size(path, config.max_file_mb)
    return reader(path, config)


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
            path=str(path),
        )


def load_sidecar_metadata(folder: Path) -> dict[str, dict[str, Any]]:
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
    result: dict[str, dict[str, Any]] = {}
    for number, row in table.rows:
        doc_id = metadata_value(row[id_index]) or ""
        if not doc_id:
            raise TranscriptError("row has no document id", path=str(path), line=number)
        if doc_id in result:
            raise TranscriptError(
                f"document id {doc_id!r} appears twice", path=str(path), line=number
            )
        result[doc_id] = {
            header[i]: metadata_value(cell)
            for i, cell in enumerate(row)
            if i != id_index and not _blank(cell)
        }
    return result


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _metadata_key(name: str) -> str:
    name = name.strip()
    return name.lower() if name.lower() in KNOWN_METADATA_KEYS else name


def apply_sidecar(
    doc: Document,
    sidecar: dict[str, dict[str, Any]],
    interviewer_labels: Iterable[str] = IngestConfig().interviewer_labels,
) -> Document:
    """Fill the document's missing metadata from its sidecar row (front matter wins).

    A sidecar value that disagrees with the document's own is ignored and noted in
    ``doc.warnings``. An ``interviewer`` named only in the sidecar decides who the
    interviewer of a transcript is, as front matter would.
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
            warnings.append(
                f"{doc.path}: {SIDECAR_NAME} gives {key}={value!r} for {doc.id!r} "
                f"but the file itself says {current!r}; keeping {current!r}"
            )
    merged = replace(doc, metadata=frozen_mapping(metadata), warnings=tuple(warnings))
    if (
        doc.reading is not None
        and doc.reading.reason != "front matter"
        and metadata.get("interviewer")
        and not doc.metadata.get("interviewer")
    ):
        merged = _resettle(merged, interviewer_labels)
    return merged


def _resettle(doc: Document, interviewer_labels: Iterable[str]) -> Document:
    """Decide the interviewer again now that the sidecar names one."""
    from .turns import settle_interviewer, split_names

    settled = settle_interviewer(
        doc.text, doc.turns, interviewer_labels, split_names(doc.metadata.get("interviewer"))
    )
    if settled.reason != "front matter":
        return doc
    assert doc.reading is not None
    return replace(
        doc,
        turns=settled.turns,
        reading=replace(doc.reading, interviewer=settled.speakers, reason=settled.reason),
    )


def iter_documents(
    paths: Iterable[str | Path], config: IngestConfig = IngestConfig()
) -> Iterator[tuple[Path, list[Document] | TranscriptError]]:
    """Discover, read and apply sidecar metadata, one file at a time.

    Errors are yielded, not raised, so a caller can report them and go on; a file whose
    document id was already seen in this run yields :class:`~qcode.errors.DuplicateDocument`.
    """
    sidecars: dict[Path, dict[str, dict[str, Any]] | TranscriptError] = {}
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
            yield (
                path,
                DuplicateDocument(
                    f"document id {duplicate!r} is already used by {seen[duplicate]}; give one of "
                    "them another `id:` in its front matter",
                    path=str(path),
                ),
            )
            continue
        documents = [apply_sidecar(doc, sidecar, config.interviewer_labels) for doc in documents]
        for doc in documents:
            seen[doc.id] = path
        yield path, documents
