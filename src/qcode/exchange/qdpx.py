"""REFI-QDA projects (``.qdpx``): a qcode project out to other QDA tools and their work back in.

Export writes ``project.qde`` plus every document as a UTF-8, LF-only ``sources/<guid>.txt``;
each coding becomes a ``PlainTextSelection`` whose ``startPosition``/``endPosition`` are
code-point offsets into exactly that file (zero-based, end exclusive), with a ``Coding`` naming
its user: human coders by name, automatic codings as the users ``qcode rule``/``qcode model``
(left out with ``human_only``). Documents are ``Cases`` with their metadata as ``Variables``.
Memos (``qcode serve``) become ``Notes``, referenced from their document's ``TextSource`` or
their coding's ``PlainTextSelection``.
GUIDs are UUID5s of what they name, so exporting the same project twice gives the same bytes.

Import reads what real exports contain: ``sources/`` or ``Sources/``, ``internal://`` and
``relative://`` paths or bare file names, texts inline (``PlainTextContent``) or in files, CRLF
line ends (positions mapped onto the LF text), codes without colours, and selections that run
past the text (clipped and reported). A source that only has rich text (NVivo ``.docx`` with an
empty ``.txt`` companion) is reported, not guessed at.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zipfile
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pandas as pd

from .. import models
from ..codebook import Code, Codebook
from ..errors import ExchangeError
from ..models import Coding, Document, Segment, Turn
from .qdc import ORIGIN, code_guid, codes_element, read_codes, read_sets
from .xmlutil import (
    PROJECT_NS,
    SafeZip,
    child,
    child_text,
    children,
    local_name,
    parse_xml,
    stable_guid,
    to_xml_bytes,
)

#: users that stand for qcode's automatic codings in an exported project (User/@id -> source).
AUTOMATIC_USERS = {
    "qcode:rule": ("rule", "qcode rule"),
    "qcode:companion": ("companion", "qcode companion"),
    "qcode:model": ("model", "qcode model"),
}
#: a user that is one of qcode's automatic sources, by id (``qcode:rule``) or by name
#: (``qcode rule``): tools such as QualCoder drop the optional ``User/@id`` and keep the name.
_AUTOMATIC_USER_RE = re.compile(r"^\s*qcode\s*[:_\- ]\s*(rule|companion|model)\s*$", re.IGNORECASE)
#: file extensions other tools add to a source's name (``polis_01.txt`` for ``polis_01``)
_SOURCE_SUFFIX_RE = re.compile(r"\.(txt|md|docx?|odt|rtf|pdf|vtt|srt)$", re.IGNORECASE)
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed member dates: same project, same archive bytes


def _q(name: str) -> str:
    return f"{{{PROJECT_NS}}}{name}"


def _sub(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, _q(tag), attrs)


# =================================================================================================
# export
# =================================================================================================
def code_tree(
    codes: pd.DataFrame, extra_paths: Iterable[str] = (), codebook: Codebook | None = None
) -> list[Code]:
    """The project's code table as a tree of :class:`Code`, in table order.

    ``extra_paths`` (codes used by codings but missing from the table) are added with their
    parents so every exported coding points at a code. Definitions, criteria and examples come
    from ``codebook`` where it has the path, else from the table's description.
    """
    rows: dict[str, dict[str, Any]] = {}
    for row in codes.sort_values("ord").itertuples(index=False):
        rows[row.path] = {
            "id": row.id,
            "label": row.label or row.id,
            "color": row.color if isinstance(row.color, str) else None,
            "description": row.description if isinstance(row.description, str) else "",
            "codable": bool(getattr(row, "codable", True)),
        }
    for path in extra_paths:
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            sub = "/".join(parts[:depth])
            rows.setdefault(
                sub,
                {
                    "id": parts[depth - 1],
                    "label": parts[depth - 1],
                    "color": None,
                    "description": "",
                    "codable": True,
                },
            )
    known = {c.path: c for c in codebook.walk()} if codebook is not None else {}
    kids: dict[str | None, list[str]] = {}
    for path in rows:
        parent = path.rsplit("/", 1)[0] if "/" in path else None
        if parent is not None and parent not in rows:
            parent = None
        kids.setdefault(parent, []).append(path)

    def build(path: str) -> Code:
        row, full = rows[path], known.get(path)
        return Code(
            id=row["id"],
            path=path,
            label=row["label"],
            description=full.description if full else row["description"],
            include=full.include if full else "",
            exclude=full.exclude if full else "",
            examples=full.examples if full else (),
            color=row["color"],
            children=tuple(build(p) for p in kids.get(path, [])),
            codable=full.codable if full else row["codable"],
        )

    return [build(p) for p in kids.get(None, [])]


def _user_of(source: str, coder: Any) -> tuple[str, str]:
    """(User id, User name) for a coding: a human coder by name, automatic ones by source."""
    if source == "human":
        name = coder if isinstance(coder, str) and coder else "unknown"
        return f"coder:{name}", name
    key = f"qcode:{source}"
    return key, AUTOMATIC_USERS.get(key, (source, f"qcode {source}"))[1]


def _variable_type(values: list[Any]) -> str:
    if values and all(isinstance(v, bool) for v in values):
        return "Boolean"
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "Integer"
    return "Text"


def _variable_value(parent: ET.Element, var_guid: str, kind: str, value: Any) -> None:
    element = _sub(parent, "VariableValue")
    _sub(element, "VariableRef", targetGUID=var_guid)
    if kind == "Boolean":
        _sub(element, "BooleanValue").text = "true" if value else "false"
    elif kind == "Integer":
        _sub(element, "IntegerValue").text = str(value)
    else:
        _sub(element, "TextValue").text = str(value)


def build_project(
    store: Any,
    *,
    name: str = "qcode project",
    human_only: bool = False,
    codebook: Codebook | None = None,
    redactor: Any = None,
) -> tuple[bytes, dict[str, str]]:
    """``project.qde`` for the project in ``store`` and the source files it names.

    Returns the XML bytes and ``{member name: text}`` for the ``sources/`` folder. With a
    ``redactor`` (:class:`qcode.privacy.Redactor`) source texts, titles and text variables
    are redacted and each selection is moved onto the redacted text.
    """
    codings = store.codings_frame(with_text=False)
    if human_only:
        codings = codings[codings["source"] == "human"]
    codes = code_tree(store.codes_frame(), sorted(set(codings["code"])), codebook)
    language = codebook.language if codebook is not None else "sv"

    ET.register_namespace("", PROJECT_NS)
    root = ET.Element(_q("Project"), {"name": name, "origin": ORIGIN})
    users: dict[str, str] = {}  # user id -> name
    for row in codings.itertuples(index=False):
        user_id, user_name = _user_of(row.source, row.coder)
        users.setdefault(user_id, user_name)
    memos = store.memos_frame()
    for coder in memos["coder"]:
        users.setdefault(*_user_of("human", coder))
    if users:
        users_el = _sub(root, "Users")
        for user_id in sorted(users):
            _sub(
                users_el, "User", guid=stable_guid("user", user_id), name=users[user_id], id=user_id
            )
    if codes:
        _sub(root, "CodeBook").append(codes_element(codes, PROJECT_NS, language))

    documents = store.document_ids()
    metadata = {doc: store.document_metadata(doc) for doc in documents}
    if redactor is not None:
        metadata = {doc: _redacted_metadata(meta, redactor) for doc, meta in metadata.items()}
    keys = sorted({k for meta in metadata.values() for k, v in meta.items() if v is not None})
    kinds = {
        k: _variable_type([m[k] for m in metadata.values() if m.get(k) is not None]) for k in keys
    }
    if keys:
        variables = _sub(root, "Variables")
        for key in keys:
            _sub(
                variables,
                "Variable",
                guid=stable_guid("variable", key),
                name=key,
                typeOfVariable=kinds[key],
            )
    if documents:
        cases = _sub(root, "Cases")
        for doc in documents:
            case = _sub(cases, "Case", guid=stable_guid("case", doc), name=doc)
            for key in keys:
                if metadata[doc].get(key) is not None:
                    _variable_value(
                        case, stable_guid("variable", key), kinds[key], metadata[doc][key]
                    )
            _sub(case, "SourceRef", targetGUID=stable_guid("source", doc))

    files: dict[str, str] = {}
    note_refs = _memo_targets(memos)
    if documents:
        sources = _sub(root, "Sources")
        by_document = {doc: frame for doc, frame in codings.groupby("document", sort=False)}
        for doc in documents:
            guid = stable_guid("source", doc)
            text = store.document_text(doc)
            redacted = redactor.redact_with_positions(text) if redactor is not None else None
            files[f"sources/{guid}.txt"] = redacted.text if redacted is not None else text
            source = _sub(
                sources, "TextSource", guid=guid, name=doc, plainTextPath=f"internal://{guid}.txt"
            )
            title = metadata[doc].get("title")
            if title:
                _sub(source, "Description").text = str(title)
            frame = by_document.get(doc)
            for row in [] if frame is None else frame.itertuples(index=False):
                start, end = int(row.start), int(row.end)
                if redacted is not None:
                    start, end = redacted.position(start), redacted.position(end, end=True)
                selection = _selection(
                    source, doc, start, end, row.code, *_user_of(row.source, row.coder)
                )
                for memo in note_refs.get(
                    ("coding", doc, int(row.start), int(row.end), row.code), []
                ):
                    _sub(selection, "NoteRef", targetGUID=memo)
            for memo in note_refs.get(("document", doc), []):
                _sub(source, "NoteRef", targetGUID=memo)
    if not memos.empty:
        _notes(root, memos, redactor)
    return to_xml_bytes(root), files


def _note_guid(memo_id: Any) -> str:
    return stable_guid("note", str(int(memo_id)))


def _memo_targets(memos: pd.DataFrame) -> dict[tuple[Any, ...], list[str]]:
    """Where each memo is referenced from: ("document", doc) -> its TextSource,
    ("coding", doc, start, end, code) -> every selection of that coding."""
    targets: dict[tuple[Any, ...], list[str]] = {}
    for memo in memos.itertuples(index=False):
        if memo.kind == "document":
            key: tuple[Any, ...] = ("document", memo.document)
        elif memo.kind == "coding":
            key = ("coding", memo.document, int(memo.start), int(memo.end), memo.code)
        else:
            continue  # a code memo: REFI codes carry no NoteRef; the Note names its code
        targets.setdefault(key, []).append(_note_guid(memo.id))
    return targets


def _notes(root: ET.Element, memos: pd.DataFrame, redactor: Any = None) -> None:
    """The project's memos as REFI ``Notes`` (plain text inside, named after their target;
    redacted with ``redactor`` when given)."""
    notes = _sub(root, "Notes")
    for memo in memos.itertuples(index=False):
        if memo.kind == "code":
            name = f"Memo on code {memo.code}"
        elif memo.kind == "coding":
            name = f"Memo on coding {memo.code} at {memo.start}-{memo.end} of {memo.document}"
        else:
            name = f"Memo on document {memo.document}"
        user_id, _name = _user_of("human", memo.coder)
        note = _sub(
            notes,
            "Note",
            guid=_note_guid(memo.id),
            name=name,
            creatingUser=stable_guid("user", user_id),
            creationDateTime=str(memo.at),
        )
        text = str(memo.text)
        _sub(note, "PlainTextContent").text = (
            redactor.redact(text) if redactor is not None else text
        )


def _redacted_metadata(meta: dict[str, Any], redactor: Any) -> dict[str, Any]:
    """Metadata with text values redacted and name fields replaced whole."""
    from ..privacy import NAME_METADATA_KEYS

    names = {k.casefold() for k in NAME_METADATA_KEYS}
    out = {}
    for key, value in meta.items():
        if isinstance(value, str) and value.strip():
            value = (
                redactor.placeholder("name", value)
                if key.casefold() in names
                else redactor.redact(value)
            )
        out[key] = value
    return out


def _selection(
    source: ET.Element, doc: str, start: int, end: int, code: str, user_id: str, user_name: str
) -> ET.Element:
    key = ("selection", doc, start, end, code, user_id)
    user_guid = stable_guid("user", user_id)
    selection = _sub(
        source,
        "PlainTextSelection",
        guid=stable_guid(*key),
        startPosition=str(start),
        endPosition=str(end),
        creatingUser=user_guid,
    )
    coding = _sub(selection, "Coding", guid=stable_guid("coding", *key[1:]), creatingUser=user_guid)
    _sub(coding, "CodeRef", targetGUID=code_guid(code))
    return selection


def write_qdpx(
    store: Any,
    output: str | Path,
    *,
    human_only: bool = False,
    codebook: Codebook | None = None,
    name: str | None = None,
    redactor: Any = None,
) -> Path:
    """Write the project in ``store`` as a REFI-QDA ``.qdpx`` archive (atomically); with a
    ``redactor`` the texts and metadata are redacted (see :func:`build_project`)."""
    from ..writers import atomic_path

    output = Path(output)
    xml, files = build_project(
        store, name=name or output.stem, human_only=human_only, codebook=codebook, redactor=redactor
    )
    with atomic_path(output) as tmp:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            for member, data in [
                ("project.qde", xml),
                *((m, t.encode("utf-8")) for m, t in sorted(files.items())),
            ]:
                info = zipfile.ZipInfo(member, date_time=_ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, data)
    return output


# =================================================================================================
# import
# =================================================================================================
def normalise_with_offsets(raw: str, *, crlf_as_one: bool = False) -> tuple[str, list[int]]:
    """The NFC, LF-only form of ``raw`` and, for every position the file's selections can
    name, the matching position in it.

    By default positions count code points of ``raw`` exactly (CRLF is two, the REFI reading
    that QualCoder and qcode use); with ``crlf_as_one`` (ATLAS.ti) a CRLF pair is one position,
    so positions are counted over the LF text.

    >>> text, where = normalise_with_offsets("a\\r\\nb")
    >>> text, where
    ('a\\nb', [0, 1, 1, 2, 3])
    >>> normalise_with_offsets("a\\r\\nb", crlf_as_one=True)[1]
    [0, 1, 2, 3]
    """
    lf_chars: list[str] = []
    to_lf = [0] * (len(raw) + 1)
    i = 0
    while i < len(raw):
        to_lf[i] = len(lf_chars)
        if raw[i] == "\r":
            if i + 1 < len(raw) and raw[i + 1] == "\n":
                to_lf[i + 1] = len(lf_chars)
                i += 1
            lf_chars.append("\n")
        else:
            lf_chars.append(raw[i])
        i += 1
    to_lf[len(raw)] = len(lf_chars)
    lf = "".join(lf_chars)
    if crlf_as_one:
        to_lf = list(range(len(lf) + 1))
    if unicodedata.is_normalized("NFC", lf):
        return lf, to_lf
    # Normalise run by run (a run = a starter and the combining marks after it) so each
    # position can be mapped; composition never crosses a starter in practice.
    out: list[str] = []
    to_nfc = [0] * (len(lf) + 1)
    start = 0
    for j in range(1, len(lf) + 1):
        if j == len(lf) or unicodedata.combining(lf[j]) == 0:
            piece = unicodedata.normalize("NFC", lf[start:j])
            base = sum(len(p) for p in out)
            for k in range(start, j):
                to_nfc[k] = base + min(k - start, len(piece))
            out.append(piece)
            start = j
    text = "".join(out)
    to_nfc[len(lf)] = len(text)
    text_nfc = unicodedata.normalize("NFC", text)
    if text_nfc != text:  # pathological input: keep NFC, clamp the offsets
        text = text_nfc
    return text, [min(to_nfc[p], len(text)) for p in to_lf]


@dataclass
class Selection:
    """One coded span read from a ``.qdpx``: offsets into the normalised text."""

    source_guid: str  # the key of its SourceText (the GUID, unless two sources share one)
    start: int
    end: int
    code_path: str
    user: str
    source: str = "human"


@dataclass
class SourceText:
    """A text source read from a ``.qdpx``: its proposed document id, text and metadata."""

    guid: str
    document_id: str
    text: str
    member: str
    metadata: dict[str, Any] = field(default_factory=dict)
    #: for each position in the text as stored in the archive, the position in ``text``
    offsets: list[int] = field(default_factory=list, repr=False)
    raw_length: int = 0
    #: unique within the file: the GUID, or ``GUID#2``… for a source repeating another's GUID
    key: str = ""
    name: str = ""

    def __post_init__(self) -> None:
        self.key = self.key or self.guid


@dataclass
class QdpxContent:
    """Everything usable read from a ``.qdpx`` file, before anything touches a project."""

    path: str
    codes: list[Code]
    sources: list[SourceText]
    selections: list[Selection]
    notes: list[str] = field(default_factory=list)

    def walk_codes(self) -> Iterable[Code]:
        for code in self.codes:
            yield from code.walk()


def _source_members(reference: str) -> list[str]:
    """Candidate archive members for a ``plainTextPath``/``richTextPath`` value."""
    for scheme in ("internal://", "relative://"):
        if reference.startswith(scheme):
            reference = reference[len(scheme) :]
            break
    reference = reference.replace("\\", "/").lstrip("./")
    base = reference.rsplit("/", 1)[-1]
    return [f"sources/{reference}", reference, f"sources/{base}"]


def _read_variables(root: ET.Element) -> dict[str, str]:
    variables = child(root, "Variables")
    return (
        {v.get("guid", ""): v.get("name", "") for v in children(variables, "Variable")}
        if variables is not None
        else {}
    )


def _values(parent: ET.Element, names: dict[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for value in children(parent, "VariableValue"):
        ref = child(value, "VariableRef")
        name = names.get(ref.get("targetGUID", "") if ref is not None else "")
        if not name:
            continue
        for element in value:
            kind = local_name(element.tag)
            if kind == "VariableRef" or element.text is None:
                continue
            text = element.text.strip()
            if kind == "BooleanValue":
                found[name] = text.lower() in ("true", "1")
            elif kind == "IntegerValue":
                try:
                    found[name] = int(text)
                except ValueError:
                    found[name] = text
            else:
                found[name] = text
    return found


def _user_kinds(root: ET.Element) -> dict[str, tuple[str, str]]:
    """User GUID -> (source, name): qcode's automatic sources by id or name, humans by name."""
    users_el = child(root, "Users")
    known = models.AUTOMATIC_SOURCES
    kinds: dict[str, tuple[str, str]] = {}
    for user in children(users_el, "User") if users_el is not None else []:
        guid, user_id, name = user.get("guid", ""), user.get("id") or "", user.get("name") or ""
        match = next((m for m in (_AUTOMATIC_USER_RE.match(v) for v in (user_id, name)) if m), None)
        if match:
            source = match.group(1).lower()
            kinds[guid] = (source if source in known else "model", "")
        else:
            kinds[guid] = ("human", name.strip() or user_id.strip() or guid)
    return kinds


def _crlf_convention(origin: str) -> tuple[bool, str]:
    """(CRLF counts as one position?, the convention's name for notes) for ``Project/@origin``.

    ATLAS.ti counts a CRLF line end as one character (QualCoder's importer reads its files
    that way too); the REFI text and every other tool count the code points of the stored
    file, CRLF as two."""
    if "atlas" in origin.lower():
        return (
            True,
            f"CRLF counted as one position (Project/@origin {origin.strip()!r} is ATLAS.ti)",
        )
    return (
        False,
        "CRLF counted as two positions (code points of the stored text, the REFI-QDA reading)",
    )


def read_qdpx(path: str | Path) -> QdpxContent:
    """Read a ``.qdpx`` safely into :class:`QdpxContent` (nothing is written anywhere)."""
    where = str(path)
    with SafeZip(path) as archive:
        qde = archive.find("project.qde") or next(
            (m for m in archive.names() if m.lower().endswith(".qde")), None
        )
        if qde is None:
            raise ExchangeError("no project.qde inside; is this a REFI-QDA project?", path=where)
        root = parse_xml(archive.read(qde), f"{where}:{qde}")
        if local_name(root.tag) != "Project":
            raise ExchangeError(
                f"not a REFI-QDA project: the root element is "
                f"{local_name(root.tag)!r}, expected 'Project'",
                path=where,
            )
        notes: list[str] = []
        users = _user_kinds(root)
        crlf_as_one, convention = _crlf_convention(root.get("origin") or "")
        codebook = child(root, "CodeBook")
        imported = read_codes(child(codebook, "Codes") if codebook is not None else None, where)
        notes += imported.notes
        names = _read_variables(root)
        case_values: dict[str, dict[str, Any]] = {}
        by_case_name: dict[str, dict[str, Any]] = {}
        cases = child(root, "Cases")
        for case in children(cases, "Case") if cases is not None else []:
            values = _values(case, names)
            refs = children(case, "SourceRef")
            for ref in refs:
                case_values.setdefault(ref.get("targetGUID", ""), {}).update(values)
            if not refs and values and (case.get("name") or "").strip():
                # QualCoder writes no SourceRef for whole-document cases: match them by name
                by_case_name[_without_suffix(case.get("name", "").strip())] = values
        content = QdpxContent(where, imported.codes, [], [], notes)
        sources = child(root, "Sources")
        skipped_kinds: dict[str, int] = {}
        used_ids: set[str] = set()
        guids: dict[str, int] = {}
        source_names: dict[str, str] = {}
        for element in list(sources) if sources is not None else []:
            kind = local_name(element.tag)
            source_names.setdefault(element.get("guid", ""), element.get("name") or kind)
            if kind != "TextSource":
                skipped_kinds[kind] = skipped_kinds.get(kind, 0) + 1
                continue
            source = _read_text_source(element, archive, content, used_ids, crlf_as_one, convention)
            if source is None:
                continue
            guids[source.guid] = guids.get(source.guid, 0) + 1
            if guids[source.guid] > 1:
                source.key = f"{source.guid}#{guids[source.guid]}"
                content.notes.append(
                    f"source {source.document_id!r} repeats the GUID {source.guid} of an earlier "
                    "source; imported as a separate document with only its own selections"
                )
            metadata = {
                **by_case_name.get(_without_suffix(source.name), {}),
                **case_values.get(source.guid, {}),
                **_values(element, names),
            }
            description = child_text(element, "Description").strip()
            if description and "title" not in metadata:
                metadata["title"] = description
            source.metadata = metadata
            content.sources.append(source)
            _read_selections(element, source, users, imported.by_guid, content)
        for kind, n in sorted(skipped_kinds.items()):
            content.notes.append(f"{n} {kind}(s) skipped: qcode codes text only")
        content.notes += read_sets(root, imported.by_guid, source_names)
    return content


def _without_suffix(name: str) -> str:
    return _SOURCE_SUFFIX_RE.sub("", unicodedata.normalize("NFC", name))


def _read_text_source(
    element: ET.Element,
    archive: SafeZip,
    content: QdpxContent,
    used_ids: set[str],
    crlf_as_one: bool = False,
    convention: str = "",
) -> SourceText | None:
    guid = element.get("guid", "")
    name = (element.get("name") or "").strip()
    plain_path = element.get("plainTextPath") or ""
    rich_path = element.get("richTextPath") or ""
    label = name or plain_path or rich_path or guid
    member, raw = "", None
    inline = child(element, "PlainTextContent")
    if inline is not None and (inline.text or "").strip():
        raw, member = inline.text or "", "PlainTextContent"
    elif plain_path:
        member = next((m for m in (archive.find(c) for c in _source_members(plain_path)) if m), "")
        if not member:
            content.notes.append(f"source {label!r}: {plain_path} is not in the archive; skipped")
            return None
        data = archive.read(member)
        try:
            raw = data.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            content.notes.append(
                f"source {label!r}: {member} is not UTF-8 (byte {err.start}); skipped"
            )
            return None
    if raw is None or not raw.strip():
        if rich_path:
            content.notes.append(
                f"source {label!r} has only rich text ({rich_path.split('://')[-1]}), no plain text; "
                "skipped — export it with plain text from the other tool, or add the document "
                "file itself with `qcode tag`"
            )
        else:
            content.notes.append(f"source {label!r} has no text; skipped")
        return None
    text, offsets = normalise_with_offsets(raw, crlf_as_one=crlf_as_one)
    document_id = _document_id(name, plain_path or rich_path, guid)
    base, n = document_id, 2
    while document_id in used_ids:
        document_id, n = f"{base}-{n}", n + 1
    used_ids.add(document_id)
    if "\r" in raw:
        content.notes.append(
            f"source {document_id!r} has CR line ends; positions read with "
            f"{convention or _crlf_convention('')[1]}"
        )
    return SourceText(guid, document_id, text, member, {}, offsets, len(offsets) - 1, name=name)


def _document_id(name: str, path: str, guid: str) -> str:
    """A document id: the source's name (a file extension other tools add, such as ``.txt``,
    left off), else its file name without extension, else its GUID."""
    if name:
        candidate = _SOURCE_SUFFIX_RE.sub("", name) or name
    elif path:
        candidate = path.split("://")[-1].replace("\\", "/").rsplit("/", 1)[-1]
        candidate = candidate.rsplit(".", 1)[0] if "." in candidate else candidate
    else:
        candidate = guid
    candidate = unicodedata.normalize("NFC", candidate).replace("/", "_").replace("\\", "_").strip()
    return candidate or guid


def _read_selections(
    element: ET.Element,
    source: SourceText,
    users: dict[str, tuple[str, str]],
    by_guid: dict[str, str],
    content: QdpxContent,
) -> None:
    offsets, raw_length = source.offsets, source.raw_length
    clipped = dropped = unknown = 0
    spans: list[tuple[int, int, ET.Element, str]] = []
    for selection in children(element, "PlainTextSelection"):
        try:
            start = int(selection.get("startPosition", ""))
            end = int(selection.get("endPosition", ""))
        except ValueError:
            dropped += 1
            continue
        if end > raw_length or start < 0:
            clipped += 1
        start, end = max(0, min(start, raw_length)), max(0, min(end, raw_length))
        if end <= start:
            dropped += 1
            continue
        spans.append((offsets[start], offsets[end], selection, selection.get("creatingUser", "")))
    # codings on the whole source (no selection) cover the whole text
    spans.append((0, len(source.text), element, element.get("creatingUser", "")))
    for start, end, holder, default_user in spans:
        for coding in children(holder, "Coding"):
            ref = child(coding, "CodeRef")
            path = by_guid.get(ref.get("targetGUID", "") if ref is not None else "")
            if path is None:
                unknown += 1
                continue
            user_guid = coding.get("creatingUser") or default_user
            kind, user_name = users.get(user_guid, ("human", user_guid or "unknown"))
            content.selections.append(Selection(source.key, start, end, path, user_name, kind))
    label = source.document_id
    if clipped:
        content.notes.append(f"source {label!r}: {clipped} selection(s) ran past the text; clipped")
    if dropped:
        content.notes.append(
            f"source {label!r}: {dropped} empty or unreadable selection(s) dropped"
        )
    if unknown:
        content.notes.append(
            f"source {label!r}: {unknown} coding(s) point at no code in the codebook; dropped"
        )


# -- into a project -------------------------------------------------------------------------------
Prepare = Callable[[Document], tuple[Document, Sequence[Segment]]]


def whole_text_segments(document: Document) -> tuple[Document, list[Segment]]:
    """Fallback segmentation for imported texts: one respondent turn and segment per paragraph."""
    turns: list[Turn] = []
    segments: list[Segment] = []
    pos = 0
    for block in document.text.split("\n\n"):
        stripped = block.strip()
        if stripped:
            start = pos + block.index(stripped)
            end = start + len(stripped)
            turns.append(Turn(start, end, ""))
            segments.append(Segment(document.id, len(segments), start, end, "", False, stripped))
        pos += len(block) + 2
    return Document(
        document.id, document.text, document.path, tuple(turns), document.metadata
    ), segments


@dataclass
class QdpxImportResult:
    """What an import did: ``documents`` has one row per source (document, source, status,
    codings), ``notes`` the one-line remarks to show (skipped sources, clipped selections…)."""

    documents: pd.DataFrame
    codes_added: int
    codings_added: int
    notes: list[str] = field(default_factory=list)


def import_content(
    content: QdpxContent,
    store: Any,
    *,
    coder_prefix: str | None = None,
    prepare: Prepare = whole_text_segments,
) -> QdpxImportResult:
    """Store ``content`` in the project: documents (no automatic coding), codes merged by
    path, and the selections as codings (``human`` with coder ``prefix + user``; the users
    ``qcode rule``/``qcode model``… as those sources again).

    A source is the same document as one already in the project when it has the GUID qcode
    gave that document on export, or its name (a ``.txt`` added by the other tool ignored),
    or exactly its text; then nothing of it is stored twice. Another text under a known id
    is stored as ``id-2`` (``-3``…) and the notes say so. A selection already present as a
    coding (same document, span and code, from the same source or coder — with or without
    ``coder_prefix``) is not added again, so a project's own export, through QualCoder or
    not, comes back without duplicates.
    """
    notes = list(content.notes)
    before = set(store.codes_frame()["path"])
    store.add_codes(list(content.walk_codes()))
    codes_added = len(set(store.codes_frame()["path"]) - before)
    existing = store.codings_frame(with_text=False, include_stale=True)
    seen: dict[tuple[str, int, int, str], set[tuple[str, str | None]]] = {}
    for r in existing.itertuples(index=False):
        seen.setdefault((r.document, int(r.start), int(r.end), r.code), set()).add(
            (r.source, r.coder if isinstance(r.coder, str) else None)
        )
    rows, total = [], 0
    by_source: dict[str, list[Selection]] = {}
    for selection in content.selections:
        by_source.setdefault(selection.source_guid, []).append(selection)
    for source in content.sources:
        document_id, status, segments = _place_document(source, store, content.path, prepare)
        if status == "renamed":
            notes.append(
                f"document {source.document_id!r} already exists with another text; "
                f"imported as {document_id!r}"
            )
        starts = [s.start for s in segments]
        codings = []
        for sel in by_source.get(source.key, []):
            coder = f"{coder_prefix or ''}{sel.user}" if sel.source == "human" else None
            have = seen.setdefault((document_id, sel.start, sel.end, sel.code_path), set())
            if (sel.source, coder) in have or (
                sel.source == "human" and ("human", sel.user) in have
            ):
                continue
            have.add((sel.source, coder))
            index = bisect_right(starts, sel.start) - 1
            segment = (
                segments[index].index if index >= 0 and sel.start < segments[index].end else None
            )
            codings.append(
                Coding(
                    document_id, segment, sel.start, sel.end, sel.code_path, sel.source, 1.0, coder
                )
            )
        if codings:
            store.add_codings(codings)
        total += len(codings)
        rows.append(
            {
                "document": document_id,
                "source": source.member,
                "status": status,
                "codings": len(codings),
            }
        )
    frame = pd.DataFrame(rows, columns=["document", "source", "status", "codings"])
    return QdpxImportResult(frame, codes_added, total, notes)


def _place_document(
    source: SourceText, store: Any, archive: str, prepare: Prepare
) -> tuple[str, str, Sequence[Segment]]:
    """Store the source as a document (or find it already there): (id, status, segments)."""
    known = store.document_ids()
    same, status = _same_document(source, store, known)
    if same is not None:
        frame = store.segments_frame(document=same, with_text=False)
        segments = [
            Segment(
                same,
                int(r.segment),
                int(r.start),
                int(r.end),
                r.speaker or "",
                bool(r.is_interviewer),
                "",
            )
            for r in frame.itertuples(index=False)
        ]
        return same, status, segments
    taken = set(known)
    candidate, n, status = source.document_id, 2, "new"
    while candidate in taken:
        candidate, n, status = f"{source.document_id}-{n}", n + 1, "renamed"
    document = Document(candidate, source.text, f"{archive}:{source.member}", (), source.metadata)
    document, prepared = prepare(document)
    sha = hashlib.sha256(source.text.encode("utf-8")).hexdigest()
    store.save_document(document, sha, list(prepared), [], tag_key=None)
    return candidate, status, prepared


def _same_document(source: SourceText, store: Any, known: Sequence[str]) -> tuple[str | None, str]:
    """The stored document ``source`` is a copy of, and the import status: same text, and
    qcode's GUID for it or its name (``existing``), or the ``name-2``… an earlier import gave
    it (``renamed``), or else the only stored document with that text (``existing``)."""
    known_set = set(known)
    by_guid = {stable_guid("source", doc): doc for doc in known}
    for name in (by_guid.get(source.guid), source.document_id, _without_suffix(source.document_id)):
        if name in known_set and store.document_text(name) == source.text:
            return name, "existing"
    n = 2
    while f"{source.document_id}-{n}" in known_set:
        if store.document_text(f"{source.document_id}-{n}") == source.text:
            return f"{source.document_id}-{n}", "renamed"
        n += 1
    sha = hashlib.sha256(source.text.encode("utf-8")).hexdigest()
    same_text = [
        doc
        for doc, (doc_sha, _key) in store.document_states().items()
        if doc_sha == sha and store.document_text(doc) == source.text
    ]
    return (same_text[0], "existing") if len(same_text) == 1 else (None, "new")


def import_qdpx(
    path: str | Path,
    store: Any,
    *,
    coder_prefix: str | None = None,
    prepare: Prepare = whole_text_segments,
) -> QdpxImportResult:
    """Read the ``.qdpx`` at ``path`` and store its documents, codes and codings in ``store``."""
    return import_content(read_qdpx(path), store, coder_prefix=coder_prefix, prepare=prepare)
