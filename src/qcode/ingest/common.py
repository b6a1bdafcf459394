"""Shared reading helpers: bytes -> normalised text, YAML front matter, metadata values.

Every reader goes through :func:`read_bytes` and :func:`decode_text` so that all formats agree on
what "the text" is: NFC-normalised, ``\\n`` line ends, no byte-order mark. Offsets everywhere
else are code points into that string.
"""

from __future__ import annotations

import codecs
import datetime as _dt
import io
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..config import DEFAULT_MAX_FILE_MB
from ..errors import TranscriptError
from ..models import KNOWN_METADATA_KEYS


@dataclass(frozen=True)
class IngestConfig:
    """How to read transcripts and survey tables.

    ``interviewer_labels`` are matched case-insensitively against speaker labels;
    ``id_column`` and ``text_columns`` pick the respondent id and the free-text answers of a
    survey table (``None`` = detect them, see :mod:`qcode.ingest.table`); files larger than
    ``max_file_mb`` are refused before they are read (0: no limit).
    """

    interviewer_labels: tuple[str, ...] = ("I", "Int", "Intervjuare", "Interviewer", "F")
    id_column: str | None = None
    text_columns: tuple[str, ...] | None = None
    max_file_mb: float = DEFAULT_MAX_FILE_MB


def _latin1_for_undefined(error: UnicodeError) -> tuple[str, int]:
    """cp1252 leaves five bytes undefined; map them as Latin-1 (C1 controls) instead of failing,
    so a legacy file always decodes and the user gets a warning rather than an error."""
    if not isinstance(error, UnicodeDecodeError):  # a decoding handler only
        raise error
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error("qcode-latin1", _latin1_for_undefined)

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def read_bytes(path: Path) -> bytes:
    """The file's bytes, or a TranscriptError that says why it cannot be read."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise TranscriptError("no such file", path=str(path)) from None
    except IsADirectoryError:
        raise TranscriptError("is a folder, not a file", path=str(path)) from None
    except PermissionError:
        raise TranscriptError("cannot read the file: permission denied", path=str(path)) from None
    except OSError as error:
        raise TranscriptError(
            f"cannot read the file: {error.strerror or error}", path=str(path)
        ) from None


#: limits for the zip inside an office file (.docx, .odt): the text of the longest interview
#: is a few MB of XML; images may add some. A member that inflates more than
#: MAX_ZIP_RATIO times (past a small floor) is a zip bomb, not a document.
MAX_ZIP_MEMBER_BYTES = 256 * 1024 * 1024
MAX_ZIP_TOTAL_BYTES = 512 * 1024 * 1024
MAX_ZIP_MEMBERS = 10_000
MAX_ZIP_RATIO = 300
_ZIP_RATIO_FLOOR = 8 * 1024 * 1024


def check_office_zip(data: bytes, path: Path, kind: str) -> None:
    """Refuse an office file (a zip) whose members would unpack to too much, before any XML
    is read: declared sizes are checked here, and :mod:`zipfile` never inflates a member past
    its declared size (a lying header ends in a CRC error instead), so memory stays bounded.
    """
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise TranscriptError(
            f"not a readable {kind} file (damaged, or an old format saved "
            f"under a new name? open it and save it again): {error}",
            path=str(path),
        ) from None
    if len(infos) > MAX_ZIP_MEMBERS:
        raise TranscriptError(
            f"refused: the {kind} file has {len(infos)} parts (limit {MAX_ZIP_MEMBERS})",
            path=str(path),
        )
    total = 0
    for info in infos:
        total += info.file_size
        bomb = info.file_size > _ZIP_RATIO_FLOOR and info.file_size > MAX_ZIP_RATIO * max(
            info.compress_size, 1
        )
        if info.file_size > MAX_ZIP_MEMBER_BYTES or total > MAX_ZIP_TOTAL_BYTES or bomb:
            raise TranscriptError(
                f"refused: part {info.filename!r} of the {kind} file would unpack to "
                f"{info.file_size / 2**20:,.0f} MB from {len(data) / 2**20:.1f} MB (a zip bomb or "
                "a damaged file)",
                path=str(path),
            )


def _line_of_byte(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode_text(data: bytes, path: Path) -> tuple[str, tuple[str, ...]]:
    """Decode a text file and normalise it: returns ``(text, warnings)``.

    UTF-8 (with or without BOM) and UTF-16/32 with a BOM are read as such; anything else that
    is not valid UTF-8 is read as Windows-1252 (what older Swedish Word/Excel exports use) with a
    warning naming the file. NUL bytes in a file without a UTF-16/32 BOM mean it is not text.
    """
    warnings: tuple[str, ...] = ()
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), None)
    if encoding is not None:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as error:
            raise TranscriptError(
                f"not valid {encoding.upper().replace('-SIG', '')} although it starts with a "
                f"byte-order mark (bad byte at offset {error.start}); re-save it as UTF-8",
                path=str(path),
                line=_line_of_byte(data, error.start),
            ) from None
    else:
        if b"\x00" in data:
            raise TranscriptError(_binary_message(data), path=str(path))
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            text, warnings = _not_quite_utf8(data, path, error)
    if "\x00" in text:
        raise TranscriptError("binary file: it contains NUL characters, not text", path=str(path))
    text, cleaned = replace_control_characters(normalise_text(text), path)
    return text, warnings + cleaned


def _not_quite_utf8(
    data: bytes, path: Path, error: UnicodeDecodeError
) -> tuple[str, tuple[str, ...]]:
    """A file that is not valid UTF-8: mostly UTF-8 with a few broken bytes (a copy-paste, a
    cut multi-byte character) is read as UTF-8 with those bytes replaced by U+FFFD; a file with
    no UTF-8 sequence at all is a legacy Windows-1252 file (older Swedish Word/Excel exports).
    Either way the warning names the line of the first bad byte."""
    line = _line_of_byte(data, error.start)
    replaced = data.decode("utf-8", errors="replace")
    broken = replaced.count("\ufffd") - data.count("\ufffd".encode("utf-8"))
    valid = sum(1 for ch in replaced if ord(ch) > 0x7F and ch != "\ufffd")
    if valid and valid >= broken:
        return replaced, (
            f"{path}:{line}: {broken} byte sequence(s) that are not valid UTF-8 "
            f"(first on line {line}); read as UTF-8 with them replaced by \ufffd. "
            "Check those lines",
        )
    text = data.decode("cp1252", errors="qcode-latin1")
    return text, (
        f"{path}: not UTF-8; read as Windows-1252 (cp1252), the first non-UTF-8 "
        f"byte is on line {line}. Check å, ä, ö and re-save the file as UTF-8 to "
        "silence this warning",
    )


#: control characters that no transcript needs and that XML (docx, xlsx, qdpx exports)
#: cannot hold: C0 except tab and line ends, and the non-characters U+FFFE/U+FFFF.
_CONTROL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def replace_control_characters(text: str, path: Path | str) -> tuple[str, tuple[str, ...]]:
    """Replace control characters (ESC, VT, FF, …) at ingest so that no export can fail on
    them: a vertical tab or form feed (Word's line and page breaks) becomes a line break, any
    other a space. Returns the text and a warning naming the file and the first line."""
    first = _CONTROL.search(text)
    if first is None:
        return text, ()
    count = len(_CONTROL.findall(text))
    line = text.count("\n", 0, first.start()) + 1
    cleaned = _CONTROL.sub(lambda m: "\n" if m.group() in "\x0b\x0c" else " ", text)
    return cleaned, (
        f"{path}:{line}: {count} control character(s) such as "
        f"U+{ord(first.group()):04X} replaced (first on line {line})",
    )


def _binary_message(data: bytes) -> str:
    sample = data[:4096]
    # Every other byte NUL in mostly-ASCII text: UTF-16 saved without its byte-order mark.
    if sample and sample[1::2].count(0) > len(sample) // 4:
        return "binary file (looks like UTF-16 without a byte-order mark; re-save it as UTF-8)"
    return "binary file: it contains NUL bytes, not text"


def normalise_text(text: str) -> str:
    """NFC, ``\\r\\n``/``\\r`` -> ``\\n`` and no leading BOM: the one stored form of text."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if unicodedata.is_normalized("NFC", text):  # the usual case: no second copy of a big text
        return text
    return unicodedata.normalize("NFC", text)


# -- YAML front matter ---------------------------------------------------------------------------

#: front matter is flat metadata; deeper nesting than this is refused.
MAX_FRONT_MATTER_DEPTH = 20


class _StringScalarLoader(yaml.SafeLoader):
    """SafeLoader that keeps numbers, booleans and dates as the text written.

    Metadata values end up as strings anyway, and ``id: 007`` must stay ``"007"`` (plain YAML
    would read it as the octal number 7), ``date: 2010-01-12`` the same string, ``kod: yes`` not
    ``True``. Unknown tags (``!!python/object`` …) still fail as in ``safe_load``.

    Hostile front matter is refused while composing: nesting deeper than
    :data:`MAX_FRONT_MATTER_DEPTH` (10 000 ``[`` would exhaust the stack) and aliases
    (``*name``: metadata never needs them, and they allow recursive values and "billion laughs"
    expansion when lists are joined into text).
    """

    _qcode_depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]  # stubs: unannotated
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(
                None,
                None,
                "aliases (*name) are not allowed in front matter; write the value out",
                mark,
            )
        self._qcode_depth += 1
        try:
            if self._qcode_depth > MAX_FRONT_MATTER_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested deeper than {MAX_FRONT_MATTER_DEPTH} levels", mark
                )
            return super().compose_node(parent, index)
        finally:
            self._qcode_depth -= 1


def _construct_as_text(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    return str(loader.construct_scalar(node))  # type: ignore[arg-type]


for _tag in ("int", "float", "bool", "timestamp"):
    _StringScalarLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _construct_as_text)


@dataclass(frozen=True)
class FrontMatter:
    """Front matter split off a text: ``metadata`` (raw YAML values), ``body`` and the 0-based
    line in the file where the body starts."""

    metadata: dict[str, Any] = field(default_factory=dict)
    body: str = ""
    body_line: int = 0


def split_front_matter(text: str, path: Path) -> FrontMatter:
    """Split ``---``-delimited YAML front matter off the top of ``text``.

    Only a ``---`` on the very first line opens front matter; a ``---`` or ``...`` line closes
    it. YAML errors are reported with the line number in the *file*.
    """
    first_end = text.find("\n")
    first_line = text if first_end < 0 else text[:first_end]
    if first_line.rstrip() != "---":
        return FrontMatter({}, text, 0)
    pos, line_no = first_end + 1, 1
    while pos <= len(text) and first_end >= 0:
        end = text.find("\n", pos)
        line = text[pos:] if end < 0 else text[pos:end]
        if line.rstrip() in ("---", "..."):
            yaml_text = text[first_end + 1 : pos]
            body = "" if end < 0 else text[end + 1 :]
            return FrontMatter(parse_front_matter(yaml_text, path, first_line=2), body, line_no + 1)
        if end < 0:
            break
        pos, line_no = end + 1, line_no + 1
    raise TranscriptError(
        "front matter opened with `---` on line 1 is never closed; add a "
        "line `---` after the metadata",
        path=str(path),
        line=1,
    )


def parse_front_matter(yaml_text: str, path: Path, *, first_line: int) -> dict[str, Any]:
    """Parse front-matter YAML (a mapping or nothing); ``first_line`` is its 1-based line in
    the file, so error messages point at the right place."""
    try:
        data = yaml.load(yaml_text, Loader=_StringScalarLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as error:
        mark = _error_mark(error, yaml_text)
        line = first_line + mark.line if mark is not None else first_line
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        context = getattr(error, "context", None)
        detail = f"{context}: {problem}" if context else str(problem)
        raise TranscriptError(
            f"malformed front matter: {detail}", path=str(path), line=line
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise TranscriptError(
            "front matter must be `key: value` lines (a YAML mapping), "
            f"not a {type(data).__name__}",
            path=str(path),
            line=first_line,
        )
    return {str(key): value for key, value in data.items()}


def _error_mark(error: yaml.YAMLError, yaml_text: str) -> Any:
    """Where to point the user: the problem, except for an unclosed bracket or quote (or an
    error at the end of the text), where the line that opened it is the one to fix."""
    problem = getattr(error, "problem_mark", None)
    context = getattr(error, "context_mark", None)
    opened = str(getattr(error, "context", "") or "").startswith(
        ("while parsing a flow", "while scanning a quoted")
    )
    at_end = problem is not None and problem.index >= len(yaml_text.rstrip())
    if context is not None and (problem is None or opened or at_end):
        return context
    return problem


def metadata_value(value: Any) -> str | None:
    """A metadata value as a string (dates as ISO text, lists joined), ``None`` kept."""
    if value is None:
        return None
    if isinstance(value, str):
        return normalise_text(value).strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, _dt.datetime) and value.time() == _dt.time() and value.tzinfo is None:
        return value.date().isoformat()  # Excel stores plain dates as midnight datetimes
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "; ".join(v for v in (metadata_value(item) for item in value) if v)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
    return str(value)


def split_metadata(
    raw: Mapping[str, Any], default_id: str, path: Path
) -> tuple[str, dict[str, str | None]]:
    """``(document id, metadata)`` from raw front-matter/row values; ``id`` defaults to
    ``default_id`` (the file stem) and is not repeated inside the metadata."""
    metadata: dict[str, str | None] = {}
    doc_id = normalise_text(default_id)  # a file name may be NFD (macOS): ids are NFC
    for key, value in raw.items():
        key = normalise_text(str(key)).strip()
        converted = metadata_value(value)
        if key.lower() == "id":
            if converted:
                doc_id = converted
            continue
        if key.lower() in KNOWN_METADATA_KEYS:
            key = key.lower()
        metadata[key] = converted
    if not doc_id:
        raise TranscriptError("the document id is empty; give it an `id:`", path=str(path))
    return doc_id, metadata
