"""REFI-QDA codebooks (``.qdc``): qcode's YAML codebook out to NVivo, ATLAS.ti, MAXQDA, QualCoder
and back.

A REFI ``Code`` has a name, a colour, a ``Description`` and nested children, nothing more. So:

* the code's ``label`` is the REFI ``name`` (what a researcher sees in the other tool);
* definition, include/exclude criteria and examples are written into ``Description`` as
  readable paragraphs, followed by a ``qcode-id: …`` line that carries the id home again;
* patterns have no place in REFI: they stay in the YAML. Importing into an existing YAML file
  keeps the patterns of every code whose path is unchanged, and the import says which codes
  have none.

GUIDs are UUID5s of the code path, so exporting the same codebook twice gives the same file.

>>> from qcode.codebook import Code, Codebook
>>> book = Codebook("demo", "1", "sv", (Code("beredskap", "beredskap", "Beredskap"),))
>>> b"name=\\"Beredskap\\"" in codebook_to_qdc_bytes(book)
True
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from ..codebook import Code, Codebook
from ..errors import ExchangeError
from .xmlutil import (
    CODEBOOK_NS,
    child_text,
    children,
    is_valid_id,
    local_name,
    normalise_color,
    parse_xml,
    slug_id,
    stable_guid,
    to_xml_bytes,
)

ORIGIN = "qcode"
#: deepest code hierarchy read from a REFI file: real codebooks use a handful of levels, and a
#: YAML codebook (nested ``codes:`` lists, at most 50 YAML levels) cannot hold more than ~20.
MAX_CODE_DEPTH = 20

#: section headings written into ``Description``, per codebook language (read back in any).
_HEADINGS = {
    "sv": {"include": "Ta med:", "exclude": "Ta inte med:", "examples": "Exempel:"},
    "en": {"include": "Include:", "exclude": "Exclude:", "examples": "Examples:"},
}
_ID_LINE = re.compile(r"^qcode-id:\s*(\S+)\s*$")


def code_guid(path: str) -> str:
    """The GUID of the code at ``path`` in every file qcode writes."""
    return stable_guid("code", path)


# -- descriptions ---------------------------------------------------------------------------------
def describe_code(code: Code, language: str = "sv") -> str:
    """The REFI ``Description`` of ``code``: definition, criteria, examples and the id line.

    >>> print(describe_code(Code("saknas", "beredskap/saknas", "Saknas", "Ingen beredskap.",
    ...                          include="Uttryckt avsaknad.", examples=("Vi har ingen plan.",))))
    Ingen beredskap.
    <BLANKLINE>
    Ta med: Uttryckt avsaknad.
    <BLANKLINE>
    Exempel:
    - Vi har ingen plan.
    <BLANKLINE>
    qcode-id: saknas
    """
    heads = _HEADINGS.get(language, _HEADINGS["en"])
    parts = []
    if code.description.strip():
        parts.append(code.description.strip())
    if code.include.strip():
        parts.append(f"{heads['include']} {code.include.strip()}")
    if code.exclude.strip():
        parts.append(f"{heads['exclude']} {code.exclude.strip()}")
    if code.examples:
        parts.append(
            heads["examples"]
            + "\n"
            + "\n".join("- " + e.strip().replace("\n", "\n  ") for e in code.examples)
        )
    parts.append(f"qcode-id: {code.id}")
    return "\n\n".join(parts)


def parse_description(text: str) -> dict[str, Any]:
    """Split a ``Description`` back into description/include/exclude/examples (and ``id``).

    Only text that ends with qcode's ``qcode-id:`` line is split; a description written in
    another tool is kept whole as the definition, since its "Example:" lines mean nothing to us.
    """
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip().split("\n")
    match = _ID_LINE.match(lines[-1].strip()) if lines else None
    if not match:
        return {"description": (text or "").strip()}
    headings = [(h, key) for heads in _HEADINGS.values() for key, h in heads.items()]
    buffers: dict[str, list[str]] = {
        "description": [],
        "include": [],
        "exclude": [],
        "examples": [],
    }
    current = "description"
    for line in lines[:-1]:
        heading = next(((h, key) for h, key in headings if line.startswith(h)), None)
        if heading is not None:
            current = heading[1]
            line = line[len(heading[0]) :].strip()
            if not line:
                continue
        buffers[current].append(line)
    result: dict[str, Any] = {"id": match.group(1)}
    for key in ("description", "include", "exclude"):
        value = "\n".join(buffers[key]).strip()
        if value:
            result[key] = value
    examples: list[str] = []
    for line in buffers["examples"]:
        if line.startswith("- "):
            examples.append(line[2:])
        elif line.startswith("  ") and examples:  # continuation of a multi-line example
            examples[-1] += "\n" + line[2:]
        elif line.strip():
            examples.append(line.strip())
    if examples:
        result["examples"] = examples
    return result


# -- writing --------------------------------------------------------------------------------------
def code_element(code: Code, ns: str, language: str) -> ET.Element:
    """One REFI ``Code`` (with its children) in namespace ``ns``."""
    attrs = {
        "guid": code_guid(code.path),
        "name": code.label or code.id,
        "isCodable": "true" if code.codable else "false",
    }
    color = normalise_color(code.color)
    if color:
        attrs["color"] = color
    element = ET.Element(f"{{{ns}}}Code", attrs)
    ET.SubElement(element, f"{{{ns}}}Description").text = describe_code(code, language)
    for sub in code.children:
        element.append(code_element(sub, ns, language))
    return element


def codes_element(codes: Sequence[Code], ns: str, language: str) -> ET.Element:
    element = ET.Element(f"{{{ns}}}Codes")
    for code in codes:
        element.append(code_element(code, ns, language))
    return element


def codebook_to_qdc_bytes(codebook: Codebook) -> bytes:
    """The ``.qdc`` document for ``codebook`` (deterministic: same codebook, same bytes)."""
    if not codebook.codes:
        raise ExchangeError(
            "the codebook has no codes; REFI-QDA needs at least one", path=codebook.path
        )
    ET.register_namespace("", CODEBOOK_NS)
    root = ET.Element(
        f"{{{CODEBOOK_NS}}}CodeBook", {"origin": f"{ORIGIN} ({codebook.name} {codebook.version})"}
    )
    root.append(codes_element(codebook.codes, CODEBOOK_NS, codebook.language))
    return to_xml_bytes(root)


def write_qdc(codebook: Codebook, output: str | Path) -> Path:
    """Write ``codebook`` as a REFI-QDA ``.qdc`` file (atomically)."""
    from ..writers import atomic_path

    output = Path(output)
    with atomic_path(output) as tmp:
        tmp.write_bytes(codebook_to_qdc_bytes(codebook))
    return output


def export_qdc(codebook_path: str | Path, output: str | Path) -> Path:
    """Read the YAML codebook at ``codebook_path`` and write it as ``.qdc`` to ``output``."""
    from ..codebook import load_codebook

    return write_qdc(load_codebook(codebook_path), output)


# -- reading --------------------------------------------------------------------------------------
@dataclass
class ImportedCodes:
    """Codes read from a REFI ``Codes`` element.

    ``codes`` is the code tree as :class:`~qcode.codebook.Code` value objects (no patterns);
    ``by_guid`` maps each REFI GUID to the qcode path it became; ``notes`` are one-line
    remarks for the user.
    """

    by_guid: dict[str, str] = field(default_factory=dict)
    codes: list[Code] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def walk(self) -> Iterable[Code]:
        for code in self.codes:
            yield from code.walk()


def read_codes(codes_parent: ET.Element | None, where: str) -> ImportedCodes:
    """Turn the ``Code`` elements under ``codes_parent`` (a ``Codes`` element) into qcode codes.

    Names that are valid ids stay as they are; other names get a slug id and are kept as the
    label; siblings that would share an id get ``_2``, ``_3``… and a note.
    """
    result = ImportedCodes()
    renamed: list[str] = []
    if codes_parent is not None:
        _check_depth(codes_parent, where)
        result.codes = _read_level(codes_parent, "", result, renamed, where)
    if renamed:
        result.notes.append(
            f"{len(renamed)} code name(s) are not ids and got one: "
            + ", ".join(renamed[:8])
            + (" …" if len(renamed) > 8 else "")
        )
    return result


def _check_depth(codes_parent: ET.Element, where: str) -> None:
    """Refuse code trees deeper than :data:`MAX_CODE_DEPTH` before anything recurses into them
    (a hostile file nests thousands of codes to exhaust Python's recursion limit)."""
    level = [code for code in children(codes_parent, "Code")]
    depth = 0
    while level:
        depth += 1
        if depth > MAX_CODE_DEPTH:
            name = level[0].get("name") or level[0].get("guid") or "?"
            raise ExchangeError(
                f"refused: codes nested more than {MAX_CODE_DEPTH} levels deep "
                f"(at code {name!r}); no codebook needs that many",
                path=where,
            )
        level = [sub for code in level for sub in children(code, "Code")]


def read_sets(
    parent: ET.Element | None, by_guid: dict[str, str], sources: dict[str, str] | None = None
) -> list[str]:
    """One note per REFI ``Set`` under ``parent``'s ``Sets``: qcode has no code groups, so a
    set is reported with its members (codes by path, sources by name) rather than dropped."""
    sets = (
        next((c for c in parent if local_name(c.tag) == "Sets"), None)
        if parent is not None
        else None
    )
    notes = []
    for element in children(sets, "Set") if sets is not None else []:
        members = [
            by_guid.get(m.get("targetGUID", ""), "?") for m in children(element, "MemberCode")
        ]
        members += [
            (sources or {}).get(m.get("targetGUID", ""), "?")
            for m in children(element, "MemberSource")
        ]
        notes.append(
            f"set {(element.get('name') or '').strip() or '(unnamed)'!r} not kept "
            f"(qcode has no code groups); its {len(members)} member(s): "
            + (_some(members) if members else "none")
        )
    return notes


def _read_level(
    parent: ET.Element, parent_path: str, result: ImportedCodes, renamed: list[str], where: str
) -> list[Code]:
    objects: list[Code] = []
    used: set[str] = set()
    for element in children(parent, "Code"):
        name = (element.get("name") or "").strip()
        guid = element.get("guid") or ""
        parsed = parse_description(child_text(element, "Description"))
        code_id = parsed.pop("id", None)
        if not code_id or not is_valid_id(code_id):
            code_id = name if is_valid_id(name) else slug_id(name or guid or "kod")
            if code_id != name:
                renamed.append(f"{name!r} -> {code_id}")
        base, n = code_id, 2
        while code_id in used:
            code_id, n = f"{base}_{n}", n + 1
        if code_id != base:
            result.notes.append(
                f"two codes named {name!r} under {parent_path or 'the top level'}; "
                f"the second is {code_id}"
            )
        used.add(code_id)
        path = f"{parent_path}/{code_id}" if parent_path else code_id
        if guid:
            result.by_guid[guid] = path
        color = normalise_color(element.get("color"))
        if element.get("color") and not color:
            result.notes.append(
                f"code {name!r}: colour {element.get('color')!r} is not #RRGGBB; dropped"
            )
        objects.append(
            Code(
                id=code_id,
                path=path,
                label=name or code_id,
                description=parsed.get("description", ""),
                include=parsed.get("include", ""),
                exclude=parsed.get("exclude", ""),
                examples=tuple(parsed.get("examples", ())),
                color=color,
                children=tuple(_read_level(element, path, result, renamed, where)),
                codable=(element.get("isCodable") or "true").strip().lower() not in ("false", "0"),
            )
        )
    return objects


def read_qdc(path: str | Path) -> ImportedCodes:
    """Read a ``.qdc`` file (from qcode or any REFI-QDA tool)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ExchangeError("no such file", path=str(path)) from None
    root = parse_xml(data, str(path))
    if local_name(root.tag) != "CodeBook":
        raise ExchangeError(
            f"not a REFI-QDA codebook: the root element is {local_name(root.tag)!r}, "
            "expected 'CodeBook'",
            path=str(path),
        )
    codes = next((c for c in root if local_name(c.tag) == "Codes"), None)
    imported = read_codes(codes, str(path))
    if not imported.codes:
        raise ExchangeError("the codebook has no codes", path=str(path))
    imported.notes += read_sets(root, imported.by_guid)
    return imported


@dataclass
class QdcImportResult:
    """What ``qcode codebook import`` wrote, and the notes to show the user."""

    path: Path
    codes: int
    notes: list[str] = field(default_factory=list)


def import_qdc(qdc_path: str | Path, output: str | Path) -> QdcImportResult:
    """Convert a ``.qdc`` into a YAML codebook at ``output``.

    When ``output`` already exists (and is a valid codebook) its name, version, language and
    the patterns of every code whose path is unchanged are kept — REFI cannot carry patterns;
    codes only in the old file are listed in the notes. YAML comments cannot be carried over,
    so the old file is first copied to ``NAME.bak`` (``NAME.1.bak``… if that exists).
    """
    from ..codebook import codebook_to_yaml_text, load_codebook
    from ..writers import write_text_atomic

    imported = read_qdc(qdc_path)
    output = Path(output)
    notes = list(imported.notes)
    old = load_codebook(output) if output.exists() else None
    old_patterns = (
        {c.path: c.patterns for c in old.walk() if not c.patterns.is_empty} if old else {}
    )
    codes = tuple(_with_patterns(code, old_patterns) for code in imported.codes)
    new_paths = {code.path for code in imported.walk()}
    kept = sorted(new_paths & set(old_patterns))
    dropped = sorted(set(old.paths) - new_paths) if old else []
    without = [
        c.path
        for c in (x for code in codes for x in code.walk())
        if c.patterns.is_empty and not c.children and c.codable
    ]
    if old_patterns:
        notes.append(f"kept the patterns of {len(kept)} code(s) from {output}")
    if dropped:
        notes.append(
            f"{len(dropped)} code(s) of {output} are not in the QDC and were left out: "
            + _some(dropped)
        )
    if without:
        notes.append(
            f"{len(without)} code(s) have no patterns (REFI-QDA has no place for them); "
            f"add them in the YAML before `qcode tag`: {_some(without)}"
        )
    codebook = Codebook(
        name=old.name if old else Path(qdc_path).stem,
        version=old.version if old else "1",
        language=old.language if old else "sv",
        codes=codes,
        description=old.description if old else "",
    )
    text = codebook_to_yaml_text(codebook)
    if output.exists() and output.read_text(encoding="utf-8", errors="replace") != text:
        backup = _backup(output)
        notes.append(
            f"the old {output.name} is kept as {backup} (its comments and layout are "
            "not carried into the new file)"
        )
    write_text_atomic(output, text)
    return QdcImportResult(output, len(new_paths), notes)


def _backup(path: Path) -> Path:
    """Copy ``path`` to the first free ``NAME.bak``, ``NAME.1.bak``… beside it (never over an
    older backup, which may be the only copy with the user's comments)."""
    from ..writers import atomic_path

    target, n = path.with_name(path.name + ".bak"), 1
    while target.exists():
        target, n = path.with_name(f"{path.name}.{n}.bak"), n + 1
    with atomic_path(target) as tmp:
        tmp.write_bytes(path.read_bytes())
    return target


def _some(items: Sequence[str], n: int = 8) -> str:
    return ", ".join(items[:n]) + (" …" if len(items) > n else "")


def _with_patterns(code: Code, patterns: dict[str, Any]) -> Code:
    from dataclasses import replace

    return replace(
        code,
        patterns=patterns.get(code.path, code.patterns) if code.codable else code.patterns,
        children=tuple(_with_patterns(c, patterns) for c in code.children),
    )
