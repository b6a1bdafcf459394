"""Pseudonymisation and privacy checks for everything qcode writes.

The study promised respondents anonymity outward: role and sector only. The :class:`Redactor`
replaces personal names, Swedish personal identity numbers (personnummer and
samordningsnummer, checksum-validated), phone numbers, e-mail addresses and street addresses
with stable placeholders (``[NAMN-1]``, ``[PNR]``, …). It is applied to *output* text only; the
stored source text is never changed, so coding offsets stay valid. The name -> placeholder
mapping lives in the project database (for ``--reveal``) and is never written to an export.

Names come from three places: the project's ``private:`` list, metadata name fields
(``interviewer``, ``name``, …) and a bundled list of common Swedish first names, which catches
a colleague mentioned in passing ("jag ringde Lena på soc").
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

#: metadata keys whose values are personal names, never to be shown.
NAME_METADATA_KEYS = ("name", "namn", "interviewer", "intervjuare", "respondent", "respondent_name",
                      "kontaktperson", "contact")

#: placeholder labels per kind of hit; names and places are numbered, the rest are not.
LABELS = {"name": "NAMN", "pnr": "PNR", "phone": "TELEFON", "email": "E-POST", "address": "ADRESS"}

_WORD = r"[A-Za-zÅÄÖÉÜåäöéü]"
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PNR = re.compile(r"(?<![\d-])((?:19|20)?\d{6})\s?([-+]?)\s?(\d{4})(?!\d)")
_PHONE = re.compile(r"(?<![\w+])(?:\+46|0046|0)[\s-]?\(?\d{1,3}\)?(?:[\s-]?\d){5,9}(?!\d)")
_STREET_SUFFIX = ("gatan", "vägen", "gränd", "gränden", "torget", "stigen", "allén", "backen",
                  "leden", "platsen", "gata", "väg", "torg", "plan", "esplanaden", "promenaden")
_ADDRESS = re.compile(
    r"(?<!\w)(?:[A-ZÅÄÖ][a-zåäöé]+\s)?[A-ZÅÄÖ][a-zåäöé]*(?:" + "|".join(_STREET_SUFFIX) + r")"
    r"\s\d{1,4}(?:\s?[A-Za-z](?!\w))?(?:,\s*\d{3}\s?\d{2}(?:\s[A-ZÅÄÖ][a-zåäö]+)?)?"
)
_SURNAME = re.compile(
    r"(?<!\w)[A-ZÅÄÖ][a-zåäöé]{2,}(?:sson|ström|qvist|kvist)(?!\w)"
)
_CAPITALISED = re.compile(r"(?<!\w)[A-ZÅÄÖÉ][a-zåäöéü]+(?:-[A-ZÅÄÖ][a-zåäöéü]+)?(?!\w)")
_SENTENCE_END = re.compile(r"(?:^|[.!?:…\n]\s*|^\s*)$")

#: capitalised words ending like surnames (-sson, -ström, -qvist) that are not people.
_NOT_SURNAMES = {"Person", "Personen", "Lesson"}
#: first names that are also ordinary words: only a name when not first in a sentence.
_AMBIGUOUS_FIRST_NAMES = {"björn", "stig", "sten", "axel", "rosa", "iris", "ros", "linnea",
                          "viola", "per", "bo", "alf", "mark", "vera", "sol", "hugo", "erika",
                          "klara", "ebba", "lo", "tor", "ulf", "ek", "dag", "bror", "stina", "lisa",
                          "mona", "maj", "juni", "ester", "svea", "tova", "li", "noa", "ali"}
#: words that may start a private entry without being a person's name part on their own.
_NOT_NAME_PARTS = {"norra", "södra", "östra", "västra", "stora", "lilla", "nya", "gamla", "sankt",
                   "röda", "korset", "kyrka", "kyrkan", "församling", "kommun", "län", "och"}


@dataclass(frozen=True, order=True)
class Hit:
    """One piece of personal data found in a text: ``text[start:end]`` is ``value``."""

    start: int
    end: int
    kind: str  # name | pnr | phone | email | address
    value: str


def normalise_key(value: str) -> str:
    """The mapping key of a value: NFC, case-folded, white space collapsed, genitive -s off."""
    folded = " ".join(unicodedata.normalize("NFC", value).casefold().split())
    return folded


def luhn_ok(digits: str) -> bool:
    """The Luhn check used by Swedish personal identity numbers (over YYMMDDNNNC)."""
    total = 0
    for i, ch in enumerate(digits):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def is_personal_number(date_part: str, serial: str) -> bool:
    """Whether YYMMDD/YYYYMMDD + NNNC is a checksum-valid personnummer or samordningsnummer
    (samordningsnummer add 60 to the day)."""
    short = date_part[-6:]
    month, day = int(short[2:4]), int(short[4:6])
    if not 1 <= month <= 12:
        return False
    if day > 60:
        day -= 60
    if not 1 <= day <= 31:
        return False
    return luhn_ok(short + serial)


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """Common Swedish first names (bundled list, lower case)."""
    path = Path(__file__).parent / "data" / "fornamn.txt"
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            names.add(line.casefold())
    return frozenset(names)


def _private_variants(terms: Iterable[str]) -> dict[str, str]:
    """Every private entry and the name parts of multi-word personal names, each mapped to
    the entry it stands for (so "Svensson" and "Anna Svensson" get one placeholder)."""
    variants: dict[str, str] = {}
    for term in terms:
        term = " ".join(unicodedata.normalize("NFC", str(term)).split())
        if len(term) < 2:
            continue
        canonical = normalise_key(term)
        words = term.split(" ")
        if 2 <= len(words) <= 3 and all(w[:1].isupper() for w in words):
            for word in words:
                if len(word) >= 3 and word.casefold() not in _NOT_NAME_PARTS:
                    variants.setdefault(normalise_key(word), canonical)
        variants[canonical] = canonical
    return variants


def _compile_private(variants: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive alternation over the variants, longest first, genitive -s allowed."""
    ordered = sorted(set(variants), key=len, reverse=True)
    if not ordered:
        return None
    body = "|".join(re.escape(v).replace(r"\ ", r"\s+") for v in ordered)
    return re.compile(rf"(?<!\w)(?:{body})(?:s|'s|:s)?(?!\w)", re.IGNORECASE)


class Redactor:
    """Finds personal data in text and replaces it with stable placeholders.

    >>> r = Redactor(["Anna Svensson"])
    >>> r.redact("Jag pratade med Anna Svensson, ring 070-123 45 67.")
    'Jag pratade med [NAMN-1], ring [TELEFON].'
    """

    def __init__(self, private: Iterable[str] = (), *, mapping: dict[tuple[str, str], str] | None = None,
                 detect_names: bool = True):
        self.private = tuple(private)
        self._variants = _private_variants(self.private)
        self._private_re = _compile_private(self._variants)
        self.detect_names = detect_names
        #: (kind, normalised value) -> placeholder; grows as new names are met.
        self.mapping: dict[tuple[str, str], str] = dict(mapping or {})
        self.new_entries: list[tuple[str, str, str]] = []
        for canonical in sorted(set(self._variants.values())):
            self.placeholder("name", canonical)

    # -- finding ------------------------------------------------------------------------------
    def find(self, text: str, *, guess_names: bool | None = None) -> list[Hit]:
        """Every hit in ``text``, sorted, overlaps resolved in favour of the longer/earlier.

        ``guess_names`` (default: the redactor's ``detect_names``) adds words that look like
        personal names without being on any list; role titles are redacted without it."""
        hits = list(self._pattern_hits(text))
        if self._private_re is not None:
            hits += [Hit(m.start(), m.end(), "name", m.group(0)) for m in self._private_re.finditer(text)]
        if self.detect_names if guess_names is None else guess_names:
            hits += list(self._lexicon_names(text))
        return _non_overlapping(hits)

    def _pattern_hits(self, text: str) -> Iterator[Hit]:
        for m in _EMAIL.finditer(text):
            yield Hit(m.start(), m.end(), "email", m.group(0))
        for m in _PNR.finditer(text):
            if is_personal_number(m.group(1), m.group(3)):
                yield Hit(m.start(), m.end(), "pnr", m.group(0))
        for m in _PHONE.finditer(text):
            digits = re.sub(r"\D", "", m.group(0))
            if 8 <= len(digits) <= 13:
                yield Hit(m.start(), m.end(), "phone", m.group(0))
        for m in _ADDRESS.finditer(text):
            yield Hit(m.start(), m.end(), "address", m.group(0))

    def _lexicon_names(self, text: str) -> Iterator[Hit]:
        names = first_names()
        words = list(_CAPITALISED.finditer(text))
        for i, m in enumerate(words):
            word = m.group(0)
            key = word.casefold()
            is_first_name = key in names or key.split("-")[0] in names
            if is_first_name:
                sentence_start = bool(_SENTENCE_END.search(text[: m.start()]))
                if key in _AMBIGUOUS_FIRST_NAMES and sentence_start:
                    continue
                end = m.end()
                following = words[i + 1] if i + 1 < len(words) else None
                if following is not None and text[end:following.start()] == " " and \
                        following.group(0).casefold() not in names | {"och"}:
                    end = following.end()
                yield Hit(m.start(), end, "name", text[m.start():end])
            elif _SURNAME.fullmatch(word) and word not in _NOT_SURNAMES:
                yield Hit(m.start(), m.end(), "name", word)

    # -- replacing ----------------------------------------------------------------------------
    def placeholder(self, kind: str, value: str) -> str:
        """The stable placeholder for a value: numbered for names, plain for the rest."""
        if kind != "name":
            return f"[{LABELS[kind]}]"
        key = (kind, self._canonical(value))
        if key not in self.mapping:
            number = 1 + sum(1 for k in self.mapping if k[0] == kind)
            self.mapping[key] = f"[{LABELS[kind]}-{number}]"
            self.new_entries.append((kind, key[1], self.mapping[key]))
        return self.mapping[key]

    def _canonical(self, value: str) -> str:
        """The mapping key of a name: its private entry if it is one (genitive -s off)."""
        key = normalise_key(_strip_genitive(value))
        if key in self._variants:
            return self._variants[key]
        if key.endswith("s") and key[:-1] in self._variants:
            return self._variants[key[:-1]]
        return key

    def redact(self, text: str, *, guess_names: bool | None = None) -> str:
        """``text`` with every hit replaced by its placeholder."""
        if not text:
            return text
        out, last = [], 0
        for hit in self.find(text, guess_names=guess_names):
            out.append(text[last:hit.start])
            out.append(self.placeholder(hit.kind, hit.value))
            last = hit.end
        out.append(text[last:])
        return "".join(out)

    def reveal(self, text: str) -> str:
        """Put the original names back for placeholders this project knows (team use only)."""
        reverse = {placeholder: value for (kind, value), placeholder in self.mapping.items()}
        return re.sub(r"\[[A-ZÅÄÖ-]+-\d+\]", lambda m: reverse.get(m.group(0), m.group(0)), text)


def _strip_genitive(value: str) -> str:
    for suffix in ("'s", ":s"):
        if value.endswith(suffix):
            return value[: -len(suffix)]
    return value


def _non_overlapping(hits: list[Hit]) -> list[Hit]:
    chosen: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (h.start, -(h.end - h.start))):
        if chosen and hit.start < chosen[-1].end:
            continue
        chosen.append(hit)
    return chosen


def metadata_names(records: Iterable[dict[str, Any]], extra_keys: Sequence[str] = ()) -> list[str]:
    """Personal names held in document metadata (``interviewer``, ``name``, …)."""
    keys = {k.casefold() for k in (*NAME_METADATA_KEYS, *extra_keys)}
    found = set()
    for record in records:
        for key, value in record.items():
            if str(key).casefold() in keys and isinstance(value, str) and value.strip():
                found.add(value.strip())
    return sorted(found)


# -- the project's redactor -------------------------------------------------------------------
def private_names(config: Any, documents: Any = None) -> list[str]:
    """Names to hide in a project: the ``private:`` list plus metadata name fields.

    An entry of ``private:`` that is the name of a metadata key (say ``kontakt``) marks that
    key's values as names too.
    """
    names = [p for p in getattr(config, "private", ()) if p]
    if documents is not None and len(documents):
        records = documents.to_dict("records")
        keys = [p for p in names if any(p in r for r in records)]
        names = [n for n in names if n not in keys] + metadata_names(records, keys)
    return sorted(set(names))


def project_redactor(store: Any, config: Any, *, detect_names: bool = True) -> Redactor:
    """A redactor for one project: its private names, metadata names and stored mapping."""
    return Redactor(private_names(config, store.documents_frame()),
                    mapping=store.redaction_mapping(), detect_names=detect_names)


def remember(redactor: Redactor, store: Any) -> None:
    """Persist placeholders the redactor assigned so later outputs reuse them."""
    store.save_redactions(redactor.new_entries)
    redactor.new_entries.clear()


def redact_text(text: str, *, store: Any = None, config: Any = None,
                redactor: Redactor | None = None, guess_names: bool | None = None) -> str:
    """Redact one output text with the project's redactor (built once per store)."""
    if redactor is None:
        redactor = _cached_redactor(store, config)
    result = redactor.redact(text, guess_names=guess_names)
    if store is not None and redactor.new_entries:
        remember(redactor, store)
    return result


_REDACTORS: dict[tuple[int, int], Redactor] = {}


def _cached_redactor(store: Any, config: Any) -> Redactor:
    key = (id(store), id(config))
    if key not in _REDACTORS:
        if store is None:
            _REDACTORS[key] = Redactor(getattr(config, "private", ()) if config else ())
        else:
            _REDACTORS[key] = project_redactor(store, config)
    return _REDACTORS[key]


# -- checking outputs -------------------------------------------------------------------------
@dataclass(frozen=True)
class PrivacyFinding:
    """Personal data found in an output file; ``where`` is a line, a cell or a paragraph."""

    path: str
    where: str
    kind: str
    hint: str

    def __str__(self) -> str:
        return f"{self.path}:{self.where}: {self.kind} ({self.hint})"


def mask(value: str) -> str:
    """Enough of a value to recognise it, not enough to leak it: 'Anna Svensson' -> 'A*** S******'."""
    return " ".join(w[:1] + "*" * (len(w) - 1) for w in value.split())


def check_files(paths: Iterable[str | Path], redactor: Redactor) -> list[PrivacyFinding]:
    """Scan output files (md, txt, csv, html, json, docx, xlsx, qdpx) for personal data."""
    findings: list[PrivacyFinding] = []
    for path in paths:
        path = Path(path)
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            for where, text in _output_texts(file):
                for hit in redactor.find(text):
                    findings.append(PrivacyFinding(str(file), where, hit.kind, mask(hit.value)))
    return findings


def _output_texts(path: Path) -> Iterator[tuple[str, str]]:
    """(location, text) pairs of an output file, by its format."""
    from .errors import QcodeError

    suffix = path.suffix.lower()
    try:
        if suffix == ".docx":
            yield from _docx_texts(path)
        elif suffix == ".xlsx":
            yield from _xlsx_texts(path)
        elif suffix == ".qdpx":
            yield from _qdpx_texts(path)
        elif suffix in {".md", ".txt", ".csv", ".tsv", ".html", ".json", ".jsonl", ".yaml", ".qdc", ".xml"}:
            for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                yield str(number), line
    except (OSError, ValueError, KeyError) as err:
        raise QcodeError(f"cannot scan this file: {err}", path=str(path)) from None


def _docx_texts(path: Path) -> Iterator[tuple[str, str]]:
    import docx

    document = docx.Document(str(path))
    for number, paragraph in enumerate(document.paragraphs, 1):
        yield f"paragraph {number}", paragraph.text
    for t, table in enumerate(document.tables, 1):
        for r, row in enumerate(table.rows, 1):
            for c, cell in enumerate(row.cells, 1):
                yield f"table {t} row {r} cell {c}", cell.text


def _xlsx_texts(path: Path) -> Iterator[tuple[str, str]]:
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if isinstance(cell.value, str):
                        yield f"{sheet.title}!{cell.coordinate}", cell.value
    finally:
        workbook.close()


def _qdpx_texts(path: Path) -> Iterator[tuple[str, str]]:
    import zipfile

    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.is_dir() or not info.filename.lower().endswith((".qde", ".txt", ".xml")):
                continue
            if info.file_size > 200 * 1024 * 1024:
                continue
            text = archive.read(info).decode("utf-8", errors="replace")
            for number, line in enumerate(text.splitlines(), 1):
                yield f"{info.filename}:{number}", line
