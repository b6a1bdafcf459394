"""XML and zip plumbing shared by the QDC and QDPX code: safe parsing, stable GUIDs, writing.

Files from other tools are untrusted input. XML is parsed with :mod:`defusedxml`, which refuses
DTDs, entity declarations and external references (billion laughs, XXE) instead of expanding
them; zip archives are read member by member with limits on paths, sizes, counts and
compression ratio, and nothing is ever extracted to disk.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO
from xml.etree import ElementTree as ET

from ..errors import ExchangeError

CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
PROJECT_NS = "urn:QDA-XML:project:1.0"

#: every GUID qcode writes is a UUID5 in this namespace, so the same codebook, document or
#: coding gets the same GUID on every export (diffs stay small, re-imports match up).
QCODE_NAMESPACE = uuid.UUID("8a0c2f5e-4b1d-5e7a-9c3f-71d2a6e0b4c8")

#: limits for reading a .qdpx: a real project with hundreds of transcripts stays far below.
MAX_MEMBER_BYTES = 200 * 1024 * 1024
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
MAX_MEMBERS = 20_000
#: a member that inflates more than this many times is treated as a zip bomb (text and XML
#: compress ~3-10x; 1 MB of one repeated byte compresses ~1000x).
MAX_COMPRESSION_RATIO = 200
_RATIO_FLOOR_BYTES = 1024 * 1024  # small members may compress well without being a threat

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_COLOR_RE = re.compile(r"^#(?:[0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})$")


def stable_guid(*parts: object) -> str:
    """A deterministic GUID for ``parts`` (joined with NUL, so ("a/b", "c") != ("a", "b/c"))."""
    return str(uuid.uuid5(QCODE_NAMESPACE, "\x00".join(str(p) for p in parts)))


def local_name(tag: str) -> str:
    """``{urn:…}Code`` -> ``Code``: other tools differ in namespaces, the element names agree."""
    return tag.rsplit("}", 1)[-1]


def children(element: ET.Element, name: str) -> list[ET.Element]:
    """Direct children called ``name`` whatever their namespace."""
    return [child for child in element if local_name(child.tag) == name]


def child(element: ET.Element, name: str) -> ET.Element | None:
    found = children(element, name)
    return found[0] if found else None


def child_text(element: ET.Element, name: str) -> str:
    found = child(element, name)
    return (found.text or "") if found is not None else ""


def parse_xml(data: bytes, where: str) -> ET.Element:
    """Parse ``data`` with DTDs, entities and external references refused; one-line errors."""
    import defusedxml.ElementTree as DET
    from defusedxml import DefusedXmlException

    try:
        root: ET.Element = DET.fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
        return root
    except DefusedXmlException as err:
        raise ExchangeError(
            f"refused: the XML declares a DTD or entities ({type(err).__name__}); "
            "REFI-QDA files never need them",
            path=where,
        ) from None
    except ET.ParseError as err:
        line = getattr(err, "position", (None,))[0]
        raise ExchangeError(
            f"not well-formed XML ({err.msg if hasattr(err, 'msg') else err})",
            path=where,
            line=line,
        ) from None


def to_xml_bytes(root: ET.Element) -> bytes:
    """Serialise with an XML declaration, UTF-8, two-space indentation (diff-friendly)."""
    ET.indent(root, space="  ")
    written: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return written + b"\n"


def is_valid_id(name: str) -> bool:
    return bool(_ID_RE.match(name))


def slug_id(name: str) -> str:
    """A code id from a free-form name: lower case, ASCII letters/digits/underscores.

    å ä ö become a a o (the way Swedish ids are written in the Kronoberg codebook:
    ``samverkansplan``, ``socialtjanst``); anything else becomes ``_``.

    >>> slug_id("Dubbla roller (sekretess)")
    'dubbla_roller_sekretess'
    >>> slug_id("Första kontakt")
    'forsta_kontakt'
    """
    decomposed = unicodedata.normalize("NFKD", name.lower())
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    ascii_only = ascii_only.replace("ß", "ss").replace("æ", "ae").replace("ø", "o")
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_only).strip("_")
    if not slug:
        slug = "kod"
    if not slug[0].isalpha():
        slug = "k_" + slug
    return slug


def normalise_color(value: str | None) -> str | None:
    """``#rgb``/``#RRGGBB`` -> ``#rrggbb`` (the codebook's spelling); anything else -> None."""
    if not value or not _COLOR_RE.match(value.strip()):
        return None
    value = value.strip()[1:]
    if len(value) == 3:
        value = "".join(ch * 2 for ch in value)
    return "#" + value.lower()


# -- zip archives --------------------------------------------------------------------------------
def _unsafe_member_name(name: str) -> bool:
    """True when extracting ``name`` would leave the target folder (zip slip)."""
    cleaned = name.replace("\\", "/")
    if cleaned.startswith("/") or re.match(r"^[A-Za-z]:", cleaned):
        return True
    return any(part == ".." for part in cleaned.split("/"))


class SafeZip:
    """A read-only view of a zip archive that refuses unsafe members up front.

    Every member name is checked before anything is read; sizes are checked against the
    header and again while reading, because a hostile header can lie.
    """

    def __init__(self, path: str | Path | IO[bytes], *, kind: str = ".qdpx"):
        """``path`` is a file or an open binary stream (bytes held in memory, a database
        blob); ``kind`` names what the archive should be in the message when it is no zip."""
        self.path = (
            str(path) if isinstance(path, (str, Path)) else str(getattr(path, "name", "(bytes)"))
        )
        try:
            self._zip = zipfile.ZipFile(path)
        except FileNotFoundError:
            raise ExchangeError("no such file", path=self.path) from None
        except (zipfile.BadZipFile, OSError) as err:
            raise ExchangeError(f"not a {kind} (zip) archive ({err})", path=self.path) from None
        infos = self._zip.infolist()
        if len(infos) > MAX_MEMBERS:
            raise ExchangeError(
                f"refused: {len(infos)} members (limit {MAX_MEMBERS})", path=self.path
            )
        total = 0
        for info in infos:
            if _unsafe_member_name(info.filename):
                raise ExchangeError(
                    f"refused: member {info.filename!r} would be written outside the project "
                    "folder (absolute path or '..')",
                    path=self.path,
                )
            self._check_size(info.filename, info.file_size, info.compress_size)
            total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise ExchangeError(
                f"refused: {total} bytes uncompressed (limit {MAX_TOTAL_BYTES})", path=self.path
            )
        self._by_name = {
            info.filename.replace("\\", "/"): info for info in infos if not info.is_dir()
        }

    def _check_size(self, name: str, size: int, compressed: int) -> None:
        if size > MAX_MEMBER_BYTES:
            raise ExchangeError(
                f"refused: member {name!r} is {size} bytes (limit {MAX_MEMBER_BYTES})",
                path=self.path,
            )
        if size > _RATIO_FLOOR_BYTES and size > MAX_COMPRESSION_RATIO * max(compressed, 1):
            raise ExchangeError(
                f"refused: member {name!r} inflates {size // max(compressed, 1)}x (a zip bomb?)",
                path=self.path,
            )

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def names(self) -> list[str]:
        return list(self._by_name)

    def find(self, name: str) -> str | None:
        """The member called ``name``, matched case-insensitively (``Sources/`` vs ``sources/``)."""
        if name in self._by_name:
            return name
        lowered = name.lower()
        for member in self._by_name:
            if member.lower() == lowered:
                return member
        return None

    def read(self, name: str) -> bytes:
        """The member's bytes, read in chunks so a lying header cannot exhaust memory."""
        info = self._by_name[name]
        chunks, size = [], 0
        try:
            with self._zip.open(info) as handle:
                for chunk in iter(lambda: handle.read(1 << 16), b""):
                    size += len(chunk)
                    self._check_size(name, size, info.compress_size)
                    chunks.append(chunk)
        except (
            zipfile.BadZipFile,
            zlib.error,
            EOFError,
            OSError,
            NotImplementedError,
            RuntimeError,
        ) as err:  # damaged header or data, unknown method, encrypted
            raise ExchangeError(
                f"member {name!r} cannot be read: the archive is damaged "
                f"({type(err).__name__}: {err})",
                path=self.path,
            ) from None
        return b"".join(chunks)


def iter_codes(element: ET.Element) -> Iterator[ET.Element]:
    """Every ``Code`` below ``element``, depth first."""
    for code in children(element, "Code"):
        yield code
        yield from iter_codes(code)
