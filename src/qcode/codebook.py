"""Codebook: the YAML schema, strict validation with line numbers, and frozen value objects.

A codebook is read in three steps so that every problem can be reported at once with its
place in the file:

1. the bytes are decoded (UTF-8 only) and normalised (NFC, ``\\n`` line ends);
2. PyYAML *composes* the node tree with a safe loader that refuses Python object tags, deep
   nesting and alias bombs — nothing is constructed, so every value keeps its line and column;
3. the node tree is walked against the schema below; each problem becomes a
   :class:`~qcode.errors.CodebookProblem` with a location such as
   ``codes -> 2 -> codes -> 0 -> patterns -> regex[1]``. Only a codebook without problems is
   turned into the frozen value objects (:class:`Codebook`, :class:`Code`, :class:`Patterns`).

The matching semantics of the patterns are described in the README ("Write and check a
codebook") and implemented in ``qcode.tag``; this module only checks and normalises them (NFC,
lower case).
"""

from __future__ import annotations

import difflib
import hashlib
import re
import textwrap
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import CodebookError, CodebookProblem, InvalidCodebook
from .regexes import regex_problem

__all__ = [
    "Term",
    "Patterns",
    "Code",
    "Codebook",
    "load_codebook",
    "codebook_from_yaml_text",
    "validate_codebook",
    "validate_codebook_text",
    "format_codebook_tree",
    "codebook_to_yaml_text",
    "normalise_text",
]


# --------------------------------------------------------------------------------------------
# Value objects (the contract the tagger, reports and exchange code rely on)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """A single-word pattern. ``text`` is the lemma as written in the codebook (lower case);
    ``prefix`` is True for ``stem*`` terms; ``compound`` lets it match inside compounds."""

    text: str
    prefix: bool = False
    compound: bool = True

    def __str__(self) -> str:
        return self.text + ("*" if self.prefix else "")


@dataclass(frozen=True)
class Patterns:
    terms: tuple[Term, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()  # each phrase as its words, lower case
    regex: tuple[str, ...] = ()
    not_terms: tuple[Term, ...] = ()
    not_phrases: tuple[tuple[str, ...], ...] = ()
    min_matches: int = 1

    @property
    def is_empty(self) -> bool:
        return not (self.terms or self.phrases or self.regex)

    @property
    def count(self) -> int:
        return len(self.terms) + len(self.phrases) + len(self.regex)


@dataclass(frozen=True)
class Code:
    id: str
    path: str  # ids joined by "/"
    label: str
    description: str = ""
    include: str = ""
    exclude: str = ""
    examples: tuple[str, ...] = ()
    color: str | None = None
    patterns: Patterns = field(default_factory=Patterns)
    children: tuple[Code, ...] = ()
    #: False for a category that only groups its subcodes (REFI-QDA ``isCodable="false"``):
    #: it takes no patterns and keeps that flag through a .qdc/.qdpx round trip.
    codable: bool = True

    @property
    def level(self) -> int:
        return self.path.count("/") + 1

    @property
    def parent_path(self) -> str | None:
        return self.path.rsplit("/", 1)[0] if "/" in self.path else None

    def walk(self) -> Iterator[Code]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class Codebook:
    name: str
    version: str
    language: str
    codes: tuple[Code, ...]
    path: str | None = None
    sha256: str = ""  # hash of the normalised YAML content: a changed codebook re-tags
    description: str = ""

    def walk(self) -> Iterator[Code]:
        """Every code, depth first, in codebook order."""
        for code in self.codes:
            yield from code.walk()

    def get(self, path: str) -> Code:
        for code in self.walk():
            if code.path == path:
                return code
        raise KeyError(path)

    @property
    def paths(self) -> list[str]:
        return [c.path for c in self.walk()]


# --------------------------------------------------------------------------------------------
# Schema constants
# --------------------------------------------------------------------------------------------

TOP_KEYS = ("name", "version", "language", "description", "codes")
CODE_KEYS = (
    "id",
    "label",
    "description",
    "include",
    "exclude",
    "examples",
    "color",
    "codable",
    "codes",
    "patterns",
)
PATTERN_KEYS = ("terms", "phrases", "regex", "not", "min_matches")
TERM_KEYS = ("term", "compound")

ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}$")
#: a term or phrase word: letters, digits, hyphen and apostrophe, optionally ending in "*".
WORD_RE = re.compile(r"^[\w][\w'\-]*\*?$")

#: deeper YAML than this is refused while composing (a codebook needs about 15 levels).
MAX_DEPTH = 50
#: nodes after alias expansion; the Kronoberg codebook has a few thousand.
MAX_NODES = 100_000

_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
#: the only tags a codebook may carry; anything else (``!!python/object``, ``!custom``) is refused.
SAFE_TAGS = frozenset(
    {
        _STR,
        _NULL,
        _BOOL,
        _INT,
        _FLOAT,
        "tag:yaml.org,2002:seq",
        "tag:yaml.org,2002:map",
        "tag:yaml.org,2002:timestamp",
    }
)


# --------------------------------------------------------------------------------------------
# Reading: decode, normalise, compose safely
# --------------------------------------------------------------------------------------------


def normalise_text(text: str) -> str:
    """The text whose SHA-256 identifies a codebook: no BOM, ``\\n`` line ends, NFC."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CodebookError("codebook file not found", path=str(path)) from None
    except OSError as err:
        raise CodebookError(f"cannot read codebook: {err.strerror}", path=str(path)) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise CodebookError(
            f"not UTF-8 (byte 0x{data[err.start]:02x}); save the codebook as UTF-8",
            path=str(path),
            line=line,
        ) from None


class _NodeLoader(yaml.SafeLoader):
    """A SafeLoader that composes with a depth limit and refuses non-standard tags.

    Only the node tree is built (``get_single_node``); values are read straight from the
    nodes, so each keeps its ``start_mark`` for error messages.
    """

    def __init__(self, stream: str, path: str | None):
        super().__init__(stream)
        self._qcode_path = path
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise CodebookError(
                    f"YAML nested deeper than {MAX_DEPTH} levels; refused",
                    path=self._qcode_path,
                    line=mark.line + 1,
                )
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if node is not None and node.tag not in SAFE_TAGS:
            raise CodebookError(
                f"YAML tag {node.tag!r} is not allowed in a codebook (only plain strings, "
                "numbers, lists and mappings); remove the tag",
                path=self._qcode_path,
                line=node.start_mark.line + 1,
            )
        return node


def _compose(text: str, path: str | None) -> Node | None:
    """Compose ``text`` into a node tree, turning YAML errors into one-line CodebookErrors."""
    try:
        loader = _NodeLoader(text, path)  # the reader checks every character here
    except yaml.reader.ReaderError as err:
        line = text.count("\n", 0, max(err.position, 0)) + 1
        raise CodebookError(
            f"character U+{err.character:04X} is not allowed in YAML (a control "
            "character); remove it",
            path=path,
            line=line,
        ) from None
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = err.problem or err.context or "invalid YAML"
        raise CodebookError(
            f"invalid YAML: {problem}", path=path, line=mark.line + 1 if mark else None
        ) from None
    except yaml.YAMLError as err:
        raise CodebookError(f"invalid YAML: {err}", path=path) from None
    finally:
        loader.dispose()
    if node is not None:
        _check_size(node, path)
    return node


def _check_size(root: Node, path: str | None) -> None:
    """Refuse recursive aliases and alias bombs ("billion laughs") before walking the tree.

    Aliases make the node tree a graph; the expanded size is counted once per node object.
    """
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise CodebookError(
                "YAML alias refers to itself; refused", path=path, line=node.start_mark.line + 1
            )
        active.add(key)
        total = 1
        if isinstance(node, SequenceNode):
            total += sum(size(item) for item in node.value)
        elif isinstance(node, MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        active.discard(key)
        if total > MAX_NODES:
            raise CodebookError(
                f"YAML expands to more than {MAX_NODES} values (alias bomb?); refused",
                path=path,
                line=node.start_mark.line + 1,
            )
        sizes[key] = total
        return total

    size(root)


# --------------------------------------------------------------------------------------------
# Validation: walk the node tree, collect problems, build value objects
# --------------------------------------------------------------------------------------------


class _Checker:
    """Walks a composed node tree against the schema, collecting every problem."""

    def __init__(self) -> None:
        self.problems: list[CodebookProblem] = []
        self._written = 0

    # -- helpers ------------------------------------------------------------------------------
    def problem(self, where: str, message: str, node: Node | None) -> None:
        line = node.start_mark.line + 1 if node is not None else None
        column = node.start_mark.column + 1 if node is not None else None
        self.problems.append(CodebookProblem(where, message, line, column))

    def mapping(
        self, node: Node, where: str, allowed: tuple[str, ...], what: str
    ) -> dict[str, tuple[Node, Node]] | None:
        """The mapping's entries by key (key node, value node); unknown/duplicate keys noted."""
        if not isinstance(node, MappingNode):
            self.problem(
                where, f"{what} must be a mapping (key: value lines), not {_kind(node)}", node
            )
            return None
        entries: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            key_where = _join(where, str(key))
            if not isinstance(key, str):
                self.problem(where, f"keys of {what} must be plain words", key_node)
                continue
            if key not in allowed:
                hint = difflib.get_close_matches(key, allowed, n=1)
                suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
                self.problem(
                    key_where,
                    f"unknown key {key!r} in {what} (allowed: {', '.join(allowed)}){suggestion}",
                    key_node,
                )
                continue
            if key in entries:
                self.problem(key_where, f"key {key!r} appears twice", key_node)
                continue
            entries[key] = (key_node, value_node)
        return entries

    def text(self, node: Node, where: str, *, required: bool = False) -> str | None:
        """A scalar as text (numbers keep their spelling), NFC-normalised and stripped."""
        if isinstance(node, ScalarNode) and node.tag in (_STR, _INT, _FLOAT):
            value = unicodedata.normalize("NFC", node.value).strip()
            if required and not value:
                self.problem(where, "must not be empty", node)
                return None
            return value
        if isinstance(node, ScalarNode) and node.tag == _NULL:
            if required:
                self.problem(where, "must not be empty", node)
                return None
            return ""
        if isinstance(node, ScalarNode) and node.tag == _BOOL:
            self.problem(
                where, f"must be text, not the boolean {node.value!r}; put it in quotes", node
            )
            return None
        self.problem(where, f"must be text, not {_kind(node)}", node)
        return None

    def sequence(self, node: Node, where: str, what: str) -> list[Node] | None:
        if isinstance(node, ScalarNode) and node.tag == _NULL:
            return []
        if not isinstance(node, SequenceNode):
            self.problem(
                where, f"{what} must be a list (lines starting with '- '), not {_kind(node)}", node
            )
            return None
        return list(node.value)

    # -- top level ----------------------------------------------------------------------------
    def codebook(self, root: Node | None) -> dict[str, Any] | None:
        if root is None:
            self.problem("", "the codebook is empty; it needs at least `name` and `codes`", None)
            return None
        entries = self.mapping(root, "", TOP_KEYS, "the codebook")
        if entries is None:
            return None
        out: dict[str, Any] = {}
        for key in ("name", "version", "language", "description"):
            if key in entries:
                out[key] = self.text(entries[key][1], key, required=key != "description")
        if "name" not in entries:
            self.problem("name", "missing: give the codebook a name", root)
        if out.get("language") and not LANGUAGE_RE.match(out["language"]):
            self.problem(
                "language",
                f"{out['language']!r} is not a language code like 'sv'",
                entries["language"][1],
            )
        if "codes" not in entries:
            self.problem("codes", "missing: a codebook needs a list of codes", root)
            out["codes"] = []
        else:
            out["codes"] = self.code_list(entries["codes"][1], "codes", None, root_level=True)
        return out

    def code_list(
        self, node: Node, where: str, parent_id: str | None, root_level: bool = False
    ) -> list[dict[str, Any]]:
        items = self.sequence(node, where, "codes")
        if items is None:
            return []
        if root_level and not items:
            self.problem(where, "no codes: list at least one", node)
        seen: dict[str, int] = {}
        out = []
        for index, item in enumerate(items):
            code = self.code(item, f"{where} -> {index}", parent_id)
            if code is None:
                continue
            code_id = code.get("id")
            if code_id:
                if code_id in seen:
                    self.problem(
                        f"{where} -> {index} -> id",
                        f"duplicate id {code_id!r}: already used by code {seen[code_id]} "
                        "at this level",
                        code["_id_node"],
                    )
                else:
                    seen[code_id] = index
            out.append(code)
        return out

    def code(self, node: Node, where: str, parent_id: str | None) -> dict[str, Any] | None:
        entries = self.mapping(node, where, CODE_KEYS, "a code")
        if entries is None:
            return None
        code: dict[str, Any] = {"_node": node, "_id_node": node}
        if "id" not in entries:
            self.problem(_join(where, "id"), "missing: every code needs an id", node)
        else:
            id_node = entries["id"][1]
            code["_id_node"] = id_node
            code_id = self.text(id_node, _join(where, "id"), required=True)
            if code_id is not None and code_id:
                if not ID_RE.match(code_id):
                    self.problem(
                        _join(where, "id"),
                        f"bad id {code_id!r}: use lower-case ASCII letters, digits and "
                        "underscores, starting with a letter (e.g. 'tas_pa_allvar')",
                        id_node,
                    )
                elif parent_id is not None and code_id == parent_id:
                    self.problem(
                        _join(where, "id"),
                        f"id {code_id!r} is the same as its parent's; give the child its own id",
                        id_node,
                    )
                else:
                    code["id"] = code_id
        if "label" not in entries:
            self.problem(_join(where, "label"), "missing: every code needs a label", node)
        else:
            code["label"] = self.text(entries["label"][1], _join(where, "label"), required=True)
        for key in ("description", "include", "exclude"):
            if key in entries:
                code[key] = self.text(entries[key][1], _join(where, key)) or ""
        if "examples" in entries:
            code["examples"] = self.string_list(
                entries["examples"][1], _join(where, "examples"), "examples"
            )
        if "color" in entries:
            color_node = entries["color"][1]
            color = self.text(color_node, _join(where, "color"))
            if color and not COLOR_RE.match(color):
                self.problem(
                    _join(where, "color"),
                    f"bad colour {color!r}: write it as #RRGGBB, e.g. '#1f77b4' "
                    "(quote it: a bare # starts a YAML comment)",
                    color_node,
                )
            elif color:
                code["color"] = color.lower()
        if "codable" in entries:
            c_node = entries["codable"][1]
            if isinstance(c_node, ScalarNode) and c_node.tag == _BOOL:
                code["codable"] = c_node.value.lower() in ("true", "yes", "on", "y")
            else:
                self.problem(_join(where, "codable"), "must be true or false", c_node)
        children: list[dict[str, Any]] = []
        if "codes" in entries:
            children = self.code_list(entries["codes"][1], _join(where, "codes"), code.get("id"))
        code["codes"] = children
        has_children = "codes" in entries and bool(
            isinstance(entries["codes"][1], SequenceNode) and entries["codes"][1].value
        )
        patterns_where = _join(where, "patterns")
        if "patterns" in entries:
            code["patterns"] = self.patterns(entries["patterns"][1], patterns_where)
        else:
            code["patterns"] = Patterns()
            self._written = 0
        if code.get("codable", True) is False:
            if self._written:
                self.problem(
                    patterns_where,
                    "a code with `codable: false` only groups its "
                    "subcodes and takes no patterns; remove them or the flag",
                    entries["patterns"][1],
                )
        elif not has_children and not self._written:
            self.problem(
                patterns_where,
                "a code without subcodes needs patterns (terms, phrases or regex); "
                "only parent codes may have none",
                entries["patterns"][1] if "patterns" in entries else node,
            )
        return code

    def string_list(self, node: Node, where: str, what: str) -> tuple[str, ...] | None:
        items = self.sequence(node, where, what)
        if items is None:
            return None
        out = []
        for index, item in enumerate(items):
            value = self.text(item, f"{where}[{index}]", required=True)
            if value:
                out.append(value)
        return tuple(out)

    # -- patterns -----------------------------------------------------------------------------
    def patterns(self, node: Node, where: str) -> Patterns | None:
        self._written = 0  # entries written under terms/phrases/regex, valid or not
        if isinstance(node, ScalarNode) and node.tag == _NULL:
            return Patterns()
        entries = self.mapping(node, where, PATTERN_KEYS, "patterns")
        if entries is None:
            return None
        terms: list[Term] = []
        phrases: list[tuple[str, ...]] = []
        regexes: list[str] = []
        not_terms: list[Term] = []
        not_phrases: list[tuple[str, ...]] = []
        min_matches = 1
        if "terms" in entries:
            terms = self.written_list(entries, "terms", where, self.term)
        if "phrases" in entries:
            phrases = self.written_list(entries, "phrases", where, self.phrase)
        if "regex" in entries:
            regexes = self.written_list(entries, "regex", where, self.regex)
        if "not" in entries:
            items = self.sequence(entries["not"][1], _join(where, "not"), "not")
            for index, item in enumerate(items or []):
                item_where = f"{_join(where, 'not')}[{index}]"
                value = self.text(item, item_where, required=True)
                if not value:
                    continue
                if " " in value:
                    phrase = self.phrase(item, item_where)
                    if phrase is not None:
                        not_phrases.append(phrase)
                else:
                    term = self.term(item, item_where)
                    if term is not None:
                        not_terms.append(term)
        if "min_matches" in entries:
            mm_node = entries["min_matches"][1]
            written = _int(mm_node.value) if isinstance(mm_node, ScalarNode) else None
            if (
                isinstance(mm_node, ScalarNode)
                and mm_node.tag == _INT
                and written is not None
                and written >= 1
            ):
                min_matches = written
            else:
                self.problem(
                    _join(where, "min_matches"),
                    f"must be a positive whole number, not {mm_node.value!r}"
                    if isinstance(mm_node, ScalarNode)
                    else f"must be a positive whole number, not {_kind(mm_node)}",
                    mm_node,
                )
        return Patterns(
            tuple(terms),
            tuple(phrases),
            tuple(regexes),
            tuple(not_terms),
            tuple(not_phrases),
            min_matches,
        )

    def written_list(
        self,
        entries: dict[str, tuple[Node, Node]],
        key: str,
        where: str,
        parse: Callable[[Node, str], Any],
    ) -> list[Any]:
        """The items of the ``key`` list that ``parse`` accepts (it reports the others).
        Every item written counts in ``_written``, valid or not, and so does a ``key`` that
        is not a list."""
        items = self.sequence(entries[key][1], _join(where, key), key)
        self._written += len(items) if items is not None else 1
        parsed = (
            parse(item, f"{_join(where, key)}[{index}]") for index, item in enumerate(items or [])
        )
        return [value for value in parsed if value is not None]

    def regex(self, node: Node, where: str) -> str | None:
        """A regex pattern, NFC-normalised, or None after reporting why it cannot be one."""
        if not (isinstance(node, ScalarNode) and node.tag == _STR):
            self.problem(where, f"a regex must be a string, not {_kind(node)}", node)
            return None
        pattern = unicodedata.normalize("NFC", node.value)
        if not pattern.strip():
            self.problem(where, "empty regex", node)
            return None
        trouble = regex_problem(pattern)
        if trouble:
            self.problem(where, f"{trouble} (in {pattern!r})", node)
            return None
        return pattern

    def term(self, node: Node, where: str) -> Term | None:
        compound = True
        text_node = node
        if isinstance(node, MappingNode):
            entries = self.mapping(node, where, TERM_KEYS, "a term")
            if entries is None:
                return None
            if "term" not in entries:
                self.problem(
                    _join(where, "term"), "missing: write {term: word, compound: false}", node
                )
                return None
            text_node = entries["term"][1]
            if "compound" in entries:
                c_node = entries["compound"][1]
                if isinstance(c_node, ScalarNode) and c_node.tag == _BOOL:
                    compound = c_node.value.lower() in ("true", "yes", "on", "y")
                else:
                    self.problem(_join(where, "compound"), "must be true or false", c_node)
                    return None
        elif not isinstance(node, ScalarNode):
            self.problem(
                where,
                f"a term must be a word or {{term: word, compound: false}}, not {_kind(node)}",
                node,
            )
            return None
        value = self.text(text_node, where, required=True)
        if not value:
            return None
        value = value.lower()
        if " " in value:
            self.problem(
                where, f"term {value!r} has several words; put it under phrases", text_node
            )
            return None
        if not WORD_RE.match(value):
            self.problem(
                where,
                f"term {value!r} must be one word of letters (a trailing * makes it a prefix)",
                text_node,
            )
            return None
        prefix = value.endswith("*")
        return Term(value.rstrip("*"), prefix=prefix, compound=compound)

    def phrase(self, node: Node, where: str) -> tuple[str, ...] | None:
        value = self.text(node, where, required=True)
        if not value:
            return None
        words = tuple(value.lower().split())
        if len(words) < 2:
            self.problem(where, f"phrase {value!r} has one word; put it under terms", node)
            return None
        bad = [w for w in words if not WORD_RE.match(w)]
        if bad:
            self.problem(
                where,
                f"phrase word {bad[0]!r} must be letters (a trailing * makes it a prefix)",
                node,
            )
            return None
        return words


def _int(value: str) -> int | None:
    try:
        return int(value.replace("_", ""), 0)
    except ValueError:
        return None


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag == _NULL:
        return "nothing (empty value)"
    return f"{node.value!r}"


def _join(where: str, key: str) -> str:
    return f"{where} -> {key}" if where else key


def _build_code(raw: dict[str, Any], parent: str | None) -> Code:
    path = f"{parent}/{raw['id']}" if parent else raw["id"]
    return Code(
        id=raw["id"],
        path=path,
        label=raw["label"],
        description=raw.get("description", ""),
        include=raw.get("include", ""),
        exclude=raw.get("exclude", ""),
        examples=raw.get("examples") or (),
        color=raw.get("color"),
        patterns=raw["patterns"],
        children=tuple(_build_code(child, path) for child in raw["codes"]),
        codable=raw.get("codable", True),
    )


def _check_text(text: str, path: str | None) -> tuple[Codebook | None, list[CodebookProblem]]:
    """Compose and validate normalised YAML text; the codebook only when there are no problems."""
    root = _compose(text, path)
    checker = _Checker()
    raw = checker.codebook(root)
    if checker.problems or raw is None:
        return None, checker.problems
    codebook = Codebook(
        name=raw["name"],
        version=raw.get("version") or "1",
        language=raw.get("language") or "sv",
        codes=tuple(_build_code(code, None) for code in raw["codes"]),
        path=path,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        description=raw.get("description") or "",
    )
    return codebook, []


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def codebook_from_yaml_text(text: str, path: str | None = None) -> Codebook:
    """Parse and validate a codebook given as YAML text; ``path`` is only used in messages.

    >>> cb = codebook_from_yaml_text('''
    ... name: Demo
    ... codes:
    ...   - id: beredskap
    ...     label: Beredskap
    ...     patterns: {terms: [beredskap, handlingsplan]}
    ... ''')
    >>> cb.paths, cb.get("beredskap").patterns.count
    (['beredskap'], 2)
    """
    normalised = normalise_text(text)
    codebook, problems = _check_text(normalised, path)
    if problems:
        raise InvalidCodebook(problems, path=path)
    assert codebook is not None
    return codebook


def load_codebook(path: str | Path) -> Codebook:
    """Read, validate and freeze the codebook at ``path``.

    Raises :class:`CodebookError` when the file cannot be read safely (missing, not UTF-8,
    bad or unsafe YAML; the message names the file and line) and :class:`InvalidCodebook` with
    every schema problem otherwise. ``Codebook.sha256`` hashes the normalised text, so
    re-saving with other line ends does not force re-tagging.
    """
    path = Path(path)
    return codebook_from_yaml_text(_read_text(path), str(path))


def validate_codebook_text(text: str, path: str | None = None) -> list[CodebookProblem]:
    """Every problem in YAML ``text`` (empty list when valid); unsafe/bad YAML is one problem."""
    try:
        _, problems = _check_text(normalise_text(text), path)
    except CodebookError as err:
        return [CodebookProblem("", err.message, err.line, None)]
    return problems


def validate_codebook(path: str | Path) -> list[CodebookProblem]:
    """Every problem in the codebook at ``path``, each with line, column and location.

    A missing or non-UTF-8 file raises :class:`CodebookError` (there is nothing to list);
    YAML that cannot be parsed or is unsafe comes back as a single problem with its line.

    >>> validate_codebook("codebooks/kronoberg.yaml")  # doctest: +SKIP
    []
    """
    path = Path(path)
    return validate_codebook_text(_read_text(path), str(path))


def format_codebook_tree(codebook: Codebook, width: int = 88) -> str:
    """The code tree for ``qcode codebook show``: one block per code, indented by level.

    Each block is ``path  label`` with the pattern counts, then the definition wrapped to
    ``width`` columns.
    """
    total = sum(1 for _ in codebook.walk())
    lines = [
        f"{codebook.name} (version {codebook.version}, language {codebook.language}): "
        f"{len(codebook.codes)} themes, {total} codes"
    ]
    for code in codebook.walk():
        indent = "  " * (code.level - 1)
        p = code.patterns
        counts = (
            f"terms {len(p.terms)}, phrases {len(p.phrases)}, regex {len(p.regex)}, "
            f"not {len(p.not_terms) + len(p.not_phrases)}"
        )
        if p.min_matches != 1:
            counts += f", min_matches {p.min_matches}"
        lines.append(f"{indent}{code.path}  {code.label}  [{counts}]")
        if code.description:
            body_indent = indent + "    "
            lines.extend(
                textwrap.wrap(
                    " ".join(code.description.split()),
                    width=width,
                    initial_indent=body_indent,
                    subsequent_indent=body_indent,
                )
            )
    return "\n".join(lines) + "\n"


def _term_to_yaml(term: Term) -> Any:
    text = term.text + ("*" if term.prefix else "")
    return text if term.compound else {"term": text, "compound": False}


def _code_to_dict(code: Code) -> dict[str, Any]:
    out: dict[str, Any] = {"id": code.id, "label": code.label}
    for key in ("description", "include", "exclude"):
        value = getattr(code, key)
        if value:
            out[key] = value
    if code.examples:
        out["examples"] = list(code.examples)
    if code.color:
        out["color"] = code.color
    if not code.codable:
        out["codable"] = False
    p = code.patterns
    patterns: dict[str, Any] = {}
    if p.terms:
        patterns["terms"] = [_term_to_yaml(t) for t in p.terms]
    if p.phrases:
        patterns["phrases"] = [" ".join(words) for words in p.phrases]
    if p.regex:
        patterns["regex"] = list(p.regex)
    if p.not_terms or p.not_phrases:
        patterns["not"] = [_term_to_yaml(t) for t in p.not_terms] + [
            " ".join(words) for words in p.not_phrases
        ]
    if p.min_matches != 1:
        patterns["min_matches"] = p.min_matches
    if patterns:
        out["patterns"] = patterns
    if code.children:
        out["codes"] = [_code_to_dict(child) for child in code.children]
    return out


def codebook_to_yaml_text(codebook: Codebook) -> str:
    """Serialise ``codebook`` as YAML that :func:`codebook_from_yaml_text` reads back equal.

    Used by the REFI-QDA importer to write a codebook file; comments are not kept.
    """
    data: dict[str, Any] = {
        "name": codebook.name,
        "version": codebook.version,
        "language": codebook.language,
    }
    if codebook.description:
        data["description"] = codebook.description
    data["codes"] = [_code_to_dict(code) for code in codebook.codes]
    return yaml.dump(
        data,
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        width=100,
        default_flow_style=False,
    )


class _Dumper(yaml.SafeDumper):
    """SafeDumper that writes multi-line text as ``|`` blocks, for a readable codebook."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar(_STR, value, style=style)


_Dumper.add_representer(str, _str_representer)
