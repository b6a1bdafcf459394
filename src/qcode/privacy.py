"""Pseudonymisation and privacy checks for everything qcode writes.

The study promised respondents anonymity outward: role and sector only. The :class:`Redactor`
finds personal names, Swedish personal identity numbers (personnummer and samordningsnummer,
checksum-validated), phone numbers, e-mail addresses, street addresses, postcodes with their
town and car registration plates, and replaces them with stable placeholders (``[NAMN-1]``,
``[PNR]``, …). It is applied to *output* text only; the stored source text is never changed,
so coding offsets stay valid. The name -> placeholder mapping (with each name's original
spelling, for ``--reveal``) lives in the project database and is never written to an export.

**One detector.** ``qcode redact`` and ``qcode check-privacy`` call the same
:meth:`Redactor.find` with the same inputs, so a file that ``redact`` would change never
passes ``check-privacy``. Names come from:

- the project's ``private:`` list, metadata name fields (``interviewer``, ``namn``, …) and
  speaker labels that are personal names ("Maria Johansson" in a VTT file);
- the bundled first-name list (``data/fornamn.txt``): "jag ringde Lena på soc";
- surnames: a capitalised word after a first name ("Lena Holm"), the bundled surname list
  (``data/efternamn.txt``), common Swedish surname endings (-sson, -ström, -qvist, -gren,
  -berg, -lund, …) and a capitalised word after a title, a relation or a word that introduces
  a name ("chefen Holm", "kollegan Berg", "hon heter Ngozi"); the genitive -s is allowed
  everywhere ("Nilssons");
- names no list holds, by their shape: two capitalised words in a row inside a sentence
  ("vi träffade Yohannes Kidane") and a first name used as a speaker label ("Per: …").

Capitalised words that are places, organisations, days and months (``data/icke_namn.txt``:
Kronoberg, Växjö, Polisen, Migrationsverket, …) are never *guessed* to be names, and first
names that are also ordinary words ("Per timme", "Björn") are not names at the start of a
sentence unless a surname follows.

Every output route goes through the project's redactor (:func:`project_redactor`): reports,
quotes, exports, review sheets, the .qdpx export (:meth:`Redactor.redact_with_positions` keeps
the selections on the redacted text), plot labels and error/warning messages
(:func:`scrub_message`). :func:`check_files` reads every format qcode writes and reports a
file it could not read in full as "could not check", never as clean.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

#: metadata keys whose values are personal names, never to be shown.
NAME_METADATA_KEYS = (
    "name",
    "namn",
    "interviewer",
    "intervjuare",
    "respondent",
    "respondent_name",
    "kontaktperson",
    "contact",
    "förnamn",
    "fornamn",
    "efternamn",
    "first_name",
    "firstname",
    "last_name",
    "lastname",
    "surname",
    "full_name",
    "fullständigt_namn",
    "intervjuperson",
    "informant",
    "deltagare",
    "participant",
    "kontakt",
    "handläggare",
)

#: placeholder labels per kind of hit; names are numbered, the rest are not.
LABELS = {
    "name": "NAMN",
    "pnr": "PNR",
    "phone": "TELEFON",
    "email": "E-POST",
    "address": "ADRESS",
    "postcode": "POSTNUMMER",
    "plate": "REGNR",
}

#: a placeholder this module writes; never itself a hit.
PLACEHOLDER = re.compile(
    r"\[(?:{})(?:-\d+)?\]".format("|".join(re.escape(v) for v in LABELS.values()))
)

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PNR = re.compile(r"(?<![\w-])((?:19|20)?\d{6})(?:[-+– ]|\s?[-+–]\s?)?(\d{4})(?![\w]|-\w)")
_PHONE = re.compile(
    r"(?<![\w+-])(?:\+46|0046)[\s\-–]?(?:\(0\)\s?)?[1-9](?:[\s\-–]?\d){6,9}(?![\w-])"
    r"|(?<![\w+-])\(?0[1-9]\d{0,3}\)?(?:[\s\-–]|/)?\d(?:[\s\-–]?\d){4,8}(?![\w-])"
)
_STREET_SUFFIX = (
    "gatan",
    "vägen",
    "gränd",
    "gränden",
    "torget",
    "stigen",
    "allén",
    "backen",
    "leden",
    "platsen",
    "gata",
    "väg",
    "torg",
    "plan",
    "esplanaden",
    "promenaden",
    "stråket",
    "slingan",
    "kajen",
    "strand",
    "stranden",
    "höjden",
    "liden",
)
_ADDRESS = re.compile(
    r"(?<!\w)(?:[A-ZÅÄÖ][a-zåäöé]+\s)?[A-ZÅÄÖa-zåäö][a-zåäöé]*(?:" + "|".join(_STREET_SUFFIX) + r")"
    r"\s\d{1,4}(?:\s?[A-Za-z](?![\w-]))?(?:,?\s*\d{3}\s?\d{2}(?:\s[A-ZÅÄÖ][a-zåäö]+)?)?(?![\w-])"
)
_POSTCODE = re.compile(
    r"(?<![\w-])[1-9]\d{2} ?\d{2}\s+[A-ZÅÄÖ][a-zåäö]+(?:\s[A-ZÅÄÖ][a-zåäö]+)?(?!\w)"
)
# Swedish plates: three letters (no I, Q, V, Å, Ä, Ö) and three digits, or two digits and a letter.
_PLATE = re.compile(r"(?<![\w-])([A-HJ-PR-UW-Z]{3}) ?(\d{2}[0-9A-HJ-PR-UW-Z])(?![\w-])")
#: three capital letters often followed by a number in this material: laws, reports, units.
_NOT_PLATES = {
    "SOU",
    "SFS",
    "LVU",
    "LVM",
    "BRB",
    "RPS",
    "NJA",
    "PDF",
    "JPG",
    "PNG",
    "CSV",
    "FAQ",
    "EUR",
    "SEK",
    "USD",
    "DNR",
    "KAP",
    "ISO",
    "SMS",
    "MMS",
    "TEL",
    "ORG",
    "NOK",
    "DKK",
    "GBP",
    "ATT",
    "MED",
    "CAP",
    "SCB",
    "FHM",
    "BUP",
    "HVB",
    "IFO",
    "AMA",
    "SIS",
}

_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*(?::s)?")
#: what may stand before a sentence's first word: the start, an end mark, a line or tab, or a
#: table cell's comma with no space after it (``d1,IP,Björn sov``); quotes may be escaped
#: (``\"`` in JSON), so a sentence reads the same in every format it is written to.
_SENTENCE_END = re.compile(r"(?:(?:^|[.!?:;…\n\t])[\s\"'»«”“(\[\-–—*#>|\\]*|^\W*|,\\?\"?)$")

#: first names that are also ordinary words: at the start of a sentence only a name when a
#: surname follows ("Per timme" no, "Per Holm sa" yes).
_AMBIGUOUS_FIRST_NAMES = {
    "björn",
    "stig",
    "sten",
    "axel",
    "rosa",
    "iris",
    "ros",
    "linnea",
    "linnéa",
    "per",
    "bo",
    "mark",
    "sol",
    "klara",
    "ebba",
    "lo",
    "ek",
    "dag",
    "bror",
    "lisa",
    "maj",
    "juni",
    "ester",
    "liv",
    "saga",
    "vide",
    "tuva",
    "siv",
    "gull",
    "love",
    "max",
    "vilja",
    "ask",
    "tim",
    "inge",
    "fred",
    "april",
    "disa",
    "dina",
    "odd",
    "said",
    "viola",
    "alf",
    "inga",
    "hans",
    "sanna",
    "mila",
    "rita",
    "tina",
    "helga",
}
#: surnames that are also ordinary words or places: only next to a first name or a title.
_WORD_SURNAMES = {
    "berg",
    "lund",
    "holm",
    "ek",
    "falk",
    "strand",
    "blom",
    "lind",
    "ström",
    "björk",
    "palm",
    "fors",
    "borg",
    "nord",
    "dahl",
    "ljung",
    "lilja",
    "hammar",
    "kvist",
    "qvist",
    "hägg",
    "ali",
    "omar",
    "farah",
    "jama",
    "osman",
}
#: endings that make a capitalised word a surname on its own (-holm and -son do not:
#: Stockholm, Person; next to a first name or a title any capitalised word is a surname).
_SURNAME_ENDINGS = (
    "sson",
    "ström",
    "strom",
    "qvist",
    "kvist",
    "quist",
    "gren",
    "berg",
    "lund",
    "stedt",
    "lööf",
    "löf",
    "dahl",
    "ović",
    "ovic",
    "evič",
    "ević",
    "owski",
    "ewski",
)
#: words before a name: titles, roles and relations ("chefen Holm", "kollegan Berg").
_TITLES = {
    "chef",
    "chefen",
    "kollega",
    "kollegan",
    "handläggare",
    "handläggaren",
    "socialsekreterare",
    "socialsekreteraren",
    "kurator",
    "kuratorn",
    "utredare",
    "utredaren",
    "inspektör",
    "inspektören",
    "kriminalinspektör",
    "kriminalinspektören",
    "polisinspektör",
    "polisinspektören",
    "kommissarie",
    "kommissarien",
    "åklagare",
    "åklagaren",
    "chefsåklagare",
    "chefsåklagaren",
    "kammaråklagare",
    "kammaråklagaren",
    "advokat",
    "advokaten",
    "doktor",
    "doktorn",
    "dr",
    "läkare",
    "läkaren",
    "sjuksköterskan",
    "barnmorskan",
    "präst",
    "prästen",
    "kyrkoherde",
    "kyrkoherden",
    "diakon",
    "diakonen",
    "pastor",
    "pastorn",
    "rektor",
    "rektorn",
    "läraren",
    "fru",
    "frun",
    "herr",
    "herrn",
    "fröken",
    "tolk",
    "tolken",
    "ägaren",
    "föreståndare",
    "föreståndaren",
    "enhetschef",
    "enhetschefen",
    "direktör",
    "direktören",
    "ordförande",
    "ordföranden",
    "sekreteraren",
    "handledaren",
    "väninnan",
    "vännen",
    "kompisen",
    "grannen",
    "kusin",
    "kusinen",
    "systern",
    "syster",
    "brodern",
    "bror",
    "mamma",
    "mamman",
    "pappa",
    "pappan",
    "dottern",
    "sonen",
    "maken",
    "makan",
    "sambon",
    "pojkvännen",
    "flickvännen",
    "chauffören",
    "hallicken",
    "kunden",
    "mannen",
    "kvinnan",
    "flickan",
    "pojken",
    "tjejen",
    "killen",
    "nämndeman",
    "domare",
    "domaren",
    "biträdet",
    "ombudet",
    "målsägande",
    "målsäganden",
    "offret",
    "vittnet",
    "medarbetaren",
    "kommunalrådet",
    "politikern",
    "journalisten",
    "förhörsledaren",
    "förhörsledare",
    "konsulent",
    "konsulenten",
    "assistent",
    "assistenten",
    "sjuksköterska",
    "undersköterskan",
    # words that introduce a name: "hon heter Yohanna", "tack Yohanna", "kära Yohanna"
    "heter",
    "hette",
    "kallas",
    "kallades",
    "namnet",
    "hej",
    "hejsan",
    "tack",
    "kära",
    "bäste",
    "bästa",
    "käre",
    "signaturen",
}


def _lexicon(name: str) -> frozenset[str]:
    path = Path(__file__).parent / "data" / name
    words = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words.add(unicodedata.normalize("NFC", line).casefold())
    return frozenset(words)


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """Common first names in Sweden (bundled ``data/fornamn.txt``, case-folded)."""
    return _lexicon("fornamn.txt")


@lru_cache(maxsize=1)
def surnames() -> frozenset[str]:
    """Common surnames in Sweden (bundled ``data/efternamn.txt``, case-folded)."""
    return _lexicon("efternamn.txt")


@lru_cache(maxsize=1)
def not_names() -> frozenset[str]:
    """Places, organisations, days and months (bundled ``data/icke_namn.txt``, case-folded)."""
    return _lexicon("icke_namn.txt")


@dataclass(frozen=True, order=True)
class Hit:
    """One piece of personal data found in a text: ``text[start:end]`` is ``value``."""

    start: int
    end: int
    kind: str  # name | pnr | phone | email | address | postcode | plate
    value: str


def normalise_key(value: str) -> str:
    """The mapping key of a value: NFC, case-folded, white space collapsed."""
    return " ".join(unicodedata.normalize("NFC", value).casefold().split())


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
    if len(date_part) == 8 and date_part[:2] not in ("18", "19", "20"):
        return False
    short = date_part[-6:]
    month, day = int(short[2:4]), int(short[4:6])
    if not 1 <= month <= 12:
        return False
    if day > 60:
        day -= 60
    if not 1 <= day <= 31:
        return False
    return luhn_ok(short + serial)


# -- names ------------------------------------------------------------------------------------
def _bare(word: str) -> str:
    """``word`` case-folded without a genitive ending (``Nilssons``, ``Anna's``, ``SOS:s``)."""
    key = unicodedata.normalize("NFC", word).casefold()
    for suffix in (":s", "'s", "’s"):
        if key.endswith(suffix):
            return key[: -len(suffix)]
    return key


def _in(key: str, lexicon: frozenset[str] | set[str]) -> str | None:
    """``key`` or its form without a genitive -s if that is in ``lexicon``."""
    if key in lexicon:
        return key
    if key.endswith("s") and key[:-1] in lexicon:
        return key[:-1]
    return None


def _is_first_name(key: str) -> str | None:
    names = first_names()
    found = _in(key, names)
    if found is None and "-" in key:  # Anna-Karin, Per-Olof
        parts = key.split("-")
        if all(_in(p, names) for p in parts):
            found = key
    return found


def _surname_strength(key: str) -> int:
    """2: a surname on its own; 1: a surname only next to a first name or a title; 0: neither."""
    if "-" in key:  # double-barrelled: the strongest part counts
        return max(_surname_strength(p) for p in key.split("-"))
    listed = _in(key, surnames())
    if listed is not None:
        return 1 if listed in _WORD_SURNAMES else 2
    base = key[:-1] if key.endswith("s") and not key.endswith("ss") else key
    if any(len(c) >= 5 and c.endswith(_SURNAME_ENDINGS) for c in (key, base)):
        return 2
    return 0


def _known_exact(key: str) -> bool:
    """Whether ``key`` as it stands (no genitive taken off) is a known first name or surname."""
    return (
        key in first_names()
        or key in surnames()
        or (len(key) >= 5 and key.endswith(_SURNAME_ENDINGS))
    )


def _is_genitive(word: str, key: str) -> bool:
    """``Annas``, ``Nilssons``, ``Okafor's``: a name in the genitive, which ends the name."""
    if word.endswith((":s", "'s", "’s")):
        return True
    return (
        key.endswith("s")
        and not key.endswith("ss")
        and not _known_exact(key)
        and _known_exact(key[:-1])
    )


def _looks_capitalised(word: str) -> bool:
    """A word written like a name: Capitalised or ALL CAPS (three letters or more)."""
    letters = word.replace("-", "").replace("'", "").replace("’", "").replace(":", "")
    if not letters or not letters[0].isupper():
        return False
    rest = letters[1:]
    return bool(rest) and (
        any(c.islower() for c in rest) or (letters.isupper() and len(letters) >= 3)
    )


def _is_stop(key: str) -> bool:
    return _in(key, not_names()) is not None or key in _TITLES


def _sentence_start(text: str, start: int) -> bool:
    return bool(_SENTENCE_END.search(text[max(0, start - 40) : start])) if start else True


def _name_hits(text: str) -> Iterator[Hit]:
    """Words that are personal names by the lexicons and patterns (see the module docstring)."""
    words = [m for m in _WORD.finditer(text)]
    capital = [_looks_capitalised(m.group(0)) for m in words]
    keys = [_bare(m.group(0)) for m in words]
    i = 0
    while i < len(words):
        m, key = words[i], keys[i]
        start_i = None
        if capital[i] and not PLACEHOLDER.match(text, max(m.start() - 1, 0)):
            first = _is_first_name(key)
            stop = _is_stop(key)
            if first and not stop:
                ambiguous = (
                    first in _AMBIGUOUS_FIRST_NAMES
                    and _sentence_start(text, m.start())
                    and not _name_follows(text, words, capital, keys, i)
                    and not text.startswith(":", m.end())
                )  # "Per: ja" is a speaker
                if not ambiguous and not (m.group(0).isupper() and first in _AMBIGUOUS_FIRST_NAMES):
                    start_i = i
            elif not stop and _surname_strength(key) == 2:
                start_i = i
            elif (
                (not stop or _in(key, surnames())) and i > 0 and _title_before(text, words, keys, i)
            ):
                start_i = i
            elif not stop and _unknown_pair(text, words, capital, keys, i):
                start_i = i
        if start_i is None:
            i += 1
            continue
        end_i = start_i
        while _name_follows(text, words, capital, keys, end_i):
            end_i += 1
        yield Hit(
            words[start_i].start(),
            words[end_i].end(),
            "name",
            text[words[start_i].start() : words[end_i].end()],
        )
        i = end_i + 1


def _name_follows(
    text: str, words: list[re.Match[str]], capital: list[bool], keys: list[str], i: int
) -> bool:
    """Whether the word after ``words[i]`` continues the name: one space between, capitalised,
    and a surname or first name (or any word that is not a place or an organisation)."""
    j = i + 1
    if j >= len(words) or not capital[j] or text[words[i].end() : words[j].start()] != " ":
        return False
    if _is_genitive(words[i].group(0), keys[i]):  # "Annas Volvo"
        return False
    key = keys[j]
    if _surname_strength(key) or _is_first_name(key):
        return True
    return not _is_stop(key) and len(key) >= 2


def _unknown_pair(
    text: str, words: list[re.Match[str]], capital: list[bool], keys: list[str], i: int
) -> bool:
    """Two capitalised words in a row inside a sentence, neither a place, an organisation nor
    an acronym: "vi träffade Yohannes Kidane" is a person even when neither name is listed."""
    j = i + 1
    if j >= len(words) or not capital[j] or text[words[i].end() : words[j].start()] != " ":
        return False
    if _sentence_start(text, words[i].start()) or _is_stop(keys[j]):
        return False
    return all(any(c.islower() for c in words[k].group(0)) and len(keys[k]) >= 2 for k in (i, j))


def _title_before(text: str, words: list[re.Match[str]], keys: list[str], i: int) -> bool:
    """Whether ``words[i]`` follows a title or relation word with one space between."""
    previous = words[i - 1]
    if text[previous.end() : words[i].start()] != " ":
        return False
    key = keys[i - 1]
    if key not in _TITLES:
        return False
    return len(keys[i]) >= 2


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
                key = normalise_key(word)
                if len(word) >= 3 and not _is_stop(key):
                    variants.setdefault(key, canonical)
        variants[canonical] = canonical
    return variants


def _compile_private(variants: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive alternation over the variants, longest first, genitive -s allowed."""
    ordered = sorted(set(variants), key=len, reverse=True)
    if not ordered:
        return None
    body = "|".join(re.escape(v).replace(r"\ ", r"\s+") for v in ordered)
    return re.compile(rf"(?<![\w\[])(?:{body})(?:s|'s|’s|:s)?(?!\w)", re.IGNORECASE)


# -- the redactor -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Redacted:
    """A redacted text and where its replacements are: ``spans`` holds
    ``(old_start, old_end, new_start, new_end)`` per replaced hit, in order."""

    text: str
    spans: tuple[tuple[int, int, int, int], ...]

    def position(self, old: int, *, end: bool = False) -> int:
        """Where offset ``old`` of the original text lands in the redacted one; an offset
        inside a replaced hit moves to the placeholder's start (or its end with ``end``)."""
        starts = [s[0] for s in self.spans]
        k = bisect.bisect_right(starts, old) - 1
        if k < 0:
            return old
        old_start, old_end, new_start, new_end = self.spans[k]
        if old >= old_end:
            return new_end + (old - old_end)
        if old == old_start:
            return new_start
        return new_end if end else new_start


class Redactor:
    """Finds personal data in text and replaces it with stable placeholders.

    >>> r = Redactor(["Anna Svensson"])
    >>> r.redact("Jag pratade med Anna Svensson, ring 070-123 45 67.")
    'Jag pratade med [NAMN-1], ring [TELEFON].'
    >>> [h.kind for h in r.find("Chefen Holm bor på Storgatan 3.")]
    ['name', 'address']
    """

    def __init__(
        self,
        private: Iterable[str] = (),
        *,
        mapping: dict[tuple[str, str], str] | None = None,
        spellings: dict[str, str] | None = None,
        detect_names: bool = True,
    ):
        # ``detect_names`` is accepted for older callers only: every redactor detects names,
        # because redact and check-privacy must find the same things.
        del detect_names
        self.private = tuple(private)
        self._variants = _private_variants(self.private)
        self._private_re = _compile_private(self._variants)
        #: (kind, normalised value) -> placeholder; grows as new names are met.
        self.mapping: dict[tuple[str, str], str] = dict(mapping or {})
        #: placeholder -> the value as first written (for ``reveal``).
        self.spellings: dict[str, str] = dict(spellings or {})
        #: (kind, value, placeholder, spelling) assigned since the last :func:`remember`.
        self.new_entries: list[tuple[str, str, str, str]] = []
        self._numbers = {"name": sum(1 for k in self.mapping if k[0] == "name")}
        originals = {
            normalise_key(" ".join(str(p).split())): " ".join(str(p).split()) for p in self.private
        }
        for canonical in sorted(set(self._variants.values())):
            self.placeholder("name", canonical, spelling=originals.get(canonical, canonical))

    # -- finding ------------------------------------------------------------------------------
    def find(self, text: str) -> list[Hit]:
        """Every hit in ``text``, sorted, overlaps resolved in favour of the earlier/longer."""
        if not text:
            return []
        hits = list(_pattern_hits(text))
        if self._private_re is not None:
            hits += [
                Hit(m.start(), m.end(), "name", m.group(0)) for m in self._private_re.finditer(text)
            ]
        hits += list(_name_hits(text))
        return _non_overlapping(hits)

    def is_name(self, value: str) -> bool:
        """Whether ``value`` (a document id, a label) holds a personal name or identifier.
        Ids are written many ways (``maria-johansson``, ``Johansson_M``), so separators count
        as spaces and every word is tried capitalised.

        >>> Redactor().is_name("maria-johansson"), Redactor().is_name("polis-01")
        (True, False)
        """
        if self.find(value):
            return True
        words = [w for w in re.split(r"[\s_.\-]+", value) if w]
        spaced = " ".join(w[:1].upper() + w[1:] for w in words)
        # Every word is capitalised here, so only a listed first name or surname counts: the
        # shape rule (two capitalised words in a row) would call "Intervju Med Mellanslag" a
        # person and rename ordinary files.
        return any(
            h.kind == "name"
            and any(
                _is_first_name(_bare(w)) or _surname_strength(_bare(w)) for w in h.value.split()
            )
            for h in self.find("x " + spaced)
        )

    # -- replacing ----------------------------------------------------------------------------
    def placeholder(self, kind: str, value: str, *, spelling: str | None = None) -> str:
        """The stable placeholder for a value: numbered for names, plain for the rest."""
        if kind != "name":
            return f"[{LABELS[kind]}]"
        key = (kind, self._canonical(value))
        if key not in self.mapping:
            self._numbers["name"] += 1
            placeholder = f"[{LABELS[kind]}-{self._numbers['name']}]"
            while placeholder in self.mapping.values():
                self._numbers["name"] += 1
                placeholder = f"[{LABELS[kind]}-{self._numbers['name']}]"
            self.mapping[key] = placeholder
            original = spelling or _strip_genitive(" ".join(value.split()), key[1])
            self.spellings.setdefault(placeholder, original)
            self.new_entries.append((kind, key[1], placeholder, self.spellings[placeholder]))
        return self.mapping[key]

    def _canonical(self, value: str) -> str:
        """The mapping key of a name: its private entry if it is one, genitive -s off."""
        key = _bare(normalise_key(value))
        if key in self._variants:
            return self._variants[key]
        if key.endswith("s") and key[:-1] in self._variants:
            return self._variants[key[:-1]]
        words = key.split(" ")
        if _is_genitive(words[-1], words[-1]):
            words[-1] = words[-1][:-1]
        return " ".join(words)

    def redact(self, text: str) -> str:
        """``text`` with every hit replaced by its placeholder."""
        return self.redact_with_positions(text).text if text else text

    def redact_with_positions(self, text: str) -> Redacted:
        """The redacted text and where each replacement went, to move offsets onto it
        (the .qdpx export keeps its selections on the redacted source texts this way)."""
        out, spans, last, size = [], [], 0, 0
        for hit in self.find(text):
            out.append(text[last : hit.start])
            size += hit.start - last
            placeholder = self.placeholder(hit.kind, hit.value)
            out.append(placeholder)
            spans.append((hit.start, hit.end, size, size + len(placeholder)))
            size += len(placeholder)
            last = hit.end
        out.append(text[last:])
        return Redacted("".join(out), tuple(spans))

    def reveal(self, text: str) -> str:
        """Put the original names back, as first written, for placeholders this project
        knows (team use only)."""
        reverse = {placeholder: value for (kind, value), placeholder in self.mapping.items()}
        reverse.update(self.spellings)
        return PLACEHOLDER.sub(lambda m: reverse.get(m.group(0), m.group(0)), text)


def _pattern_hits(text: str) -> Iterator[Hit]:
    for m in _EMAIL.finditer(text):
        yield Hit(m.start(), m.end(), "email", m.group(0))
    for m in _PNR.finditer(text):
        if is_personal_number(m.group(1), m.group(2)):
            yield Hit(m.start(), m.end(), "pnr", m.group(0))
    for m in _PHONE.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if 7 <= len(digits) <= 13 and not _looks_like_date(m.group(0)):
            yield Hit(m.start(), m.end(), "phone", m.group(0))
    for m in _ADDRESS.finditer(text):
        yield Hit(m.start(), m.end(), "address", m.group(0))
    for m in _POSTCODE.finditer(text):
        yield Hit(m.start(), m.end(), "postcode", m.group(0))
    for m in _PLATE.finditer(text):
        if m.group(1) not in _NOT_PLATES:
            yield Hit(m.start(), m.end(), "plate", m.group(0))


def _looks_like_date(value: str) -> bool:
    """0-prefixed numbers that are dates or times, not phone numbers (``01-02-2010``)."""
    return bool(re.fullmatch(r"\d{2}[-/.]\d{2}[-/.]\d{2,4}", value.strip()))


def _strip_genitive(value: str, key: str) -> str:
    """``value`` as written, cut to its mapping key where only a genitive ending differs."""
    for suffix in ("'s", "’s", ":s"):
        if value.endswith(suffix):
            value = value[: -len(suffix)]
    if len(value) > len(key) and normalise_key(value[: len(key)]) == key:
        return value[: len(key)]
    return value


def _non_overlapping(hits: list[Hit]) -> list[Hit]:
    chosen: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (h.start, -(h.end - h.start))):
        if chosen and hit.start < chosen[-1].end:
            continue
        chosen.append(hit)
    return chosen


def scrub_message(message: str) -> str:
    """An error or warning message with every personal name and identifier replaced, so a
    name from a transcript never reaches a terminal or a log. Placeholders in a message are
    per message (no project mapping is opened on the way out of an error).

    >>> scrub_message("speaker 'Maria Johansson' in intervju.vtt line 3 is unknown")
    "speaker '[NAMN-1]' in intervju.vtt line 3 is unknown"
    """
    return Redactor().redact(message)


def metadata_names(records: Iterable[dict[str, Any]], extra_keys: Sequence[str] = ()) -> list[str]:
    """Personal names held in document metadata (``interviewer``, ``name``, …)."""
    keys = {k.casefold() for k in (*NAME_METADATA_KEYS, *extra_keys)}
    found = set()
    for record in records:
        for key, value in record.items():
            if str(key).casefold() in keys and isinstance(value, str) and value.strip():
                found.add(value.strip())
    return sorted(found)


def speaker_names(labels: Iterable[Any]) -> list[str]:
    """Speaker labels that are personal names: "Maria Johansson", "Zara Okafor" (two or three
    capitalised words that are not places or roles), or any label the detector calls a name.
    Role labels ("IP", "Intervjuare A", "Polis") are left alone."""
    found = set()
    plain = Redactor()
    for label in labels:
        if not isinstance(label, str) or not label.strip():
            continue
        label = " ".join(label.split())
        words = label.split(" ")
        if 2 <= len(words) <= 3 and all(
            _looks_capitalised(w) and len(w) >= 2 and not _is_stop(_bare(w)) for w in words
        ):
            found.add(label)
        elif any(h.kind == "name" for h in plain.find(label)):
            found.add(label)
    return sorted(found)


# -- the project's redactor -------------------------------------------------------------------
def private_names(config: Any, documents: Any = None, speakers: Iterable[Any] = ()) -> list[str]:
    """Names to hide in a project: the ``private:`` list, metadata name fields and speaker
    labels that are personal names.

    An entry of ``private:`` that is the name of a metadata key (say ``kontakt``) marks that
    key's values as names too.
    """
    names = [str(p) for p in getattr(config, "private", ()) or () if p]
    if documents is not None and len(documents):
        records = documents.to_dict("records")
        keys = [p for p in names if any(p in r for r in records)]
        names = [n for n in names if n not in keys] + metadata_names(records, keys)
    names += speaker_names(speakers)
    return sorted(set(names))


def project_redactor(store: Any, config: Any) -> Redactor:
    """A redactor for one project: its private names, metadata names, speaker labels and
    stored mapping. Every output route and ``check-privacy`` use this one."""
    speakers: Iterable[Any] = ()
    try:
        speakers = store.speaker_labels()
    except AttributeError:  # a store without the helper (tests passing a stand-in)
        pass
    return Redactor(
        private_names(config, store.documents_frame(), speakers),
        mapping=store.redaction_mapping(),
        spellings=store.redaction_spellings(),
    )


def remember(redactor: Redactor, store: Any) -> None:
    """Persist placeholders the redactor assigned so later outputs reuse them."""
    if redactor.new_entries:
        store.save_redactions(redactor.new_entries)
        redactor.new_entries.clear()


def redact_text(
    text: str, *, store: Any = None, config: Any = None, redactor: Redactor | None = None
) -> str:
    """Redact one output text with the project's redactor (built once per store)."""
    if redactor is None:
        redactor = _cached_redactor(store, config)
    result = redactor.redact(text)
    if store is not None and redactor.new_entries:
        remember(redactor, store)
    return result


def redact_frame(frame: Any, redactor: Redactor, columns: Iterable[str]) -> Any:
    """A copy of ``frame`` with the text cells of ``columns`` (those present) redacted; values
    of metadata name columns (``interviewer``, ``namn``, …) are replaced whole."""
    out = frame.copy()
    names = {k.casefold() for k in NAME_METADATA_KEYS}
    for column in columns:
        if column not in out.columns:
            continue
        whole = str(column).casefold() in names
        out[column] = [
            (redactor.placeholder("name", v) if whole and v.strip() else redactor.redact(v))
            if isinstance(v, str) and v
            else v
            for v in out[column]
        ]
    return out


_REDACTORS: dict[tuple[int, int], Redactor] = {}


def _cached_redactor(store: Any, config: Any) -> Redactor:
    key = (id(store), id(config))
    if key not in _REDACTORS:
        if store is None:
            _REDACTORS[key] = Redactor(getattr(config, "private", ()) if config else ())
        else:
            _REDACTORS[key] = project_redactor(store, config)
    return _REDACTORS[key]


def pseudonymous_id(doc_id: str, path: str | Path, position: int, redactor: Redactor) -> str | None:
    """A new id for a document whose id the detector calls a name, else None.

    A survey table's row becomes ``<file-stem>-<n>`` (``n``: its place among the file's
    documents); a file named after a person becomes ``<folder>-<hash>``, a stable id that does
    not spell the name.

    >>> pseudonymous_id("Maria Johansson", "enkat.xlsx", 3, Redactor())
    'enkat-3'
    >>> pseudonymous_id("polis-01", "polis-01.md", 1, Redactor()) is None
    True
    """
    if not redactor.is_name(doc_id):
        return None
    path = Path(path)
    stem = unicodedata.normalize("NFC", path.stem)
    if not redactor.is_name(stem):
        return f"{stem}-{position}"
    folder = unicodedata.normalize("NFC", path.parent.name) or "dokument"
    if redactor.is_name(folder):
        folder = "dokument"
    digest = hashlib.sha256(("qcode-id:" + doc_id).encode("utf-8")).hexdigest()[:8]
    return f"{folder}-{digest}"


# -- checking outputs -------------------------------------------------------------------------
#: the largest file or archive member check-privacy reads; a larger one is "could not check".
MAX_CHECK_BYTES = 200 * 1024 * 1024
#: PNG text chunk where qcode records the labels it drew, so check-privacy can read a plot.
PNG_LABELS_KEY = "qcode:labels"
_TEXT_SUFFIXES = {".md", ".txt", ".csv", ".tsv", ".json", ".jsonl", ".yaml", ".yml", ".log"}
_XML_SUFFIXES = {".html", ".htm", ".xml", ".qdc", ".qde", ".svg"}
_ZIP_SUFFIXES = {".docx", ".xlsx", ".qdpx", ".pptx", ".odt", ".ods"}
UNREADABLE = "could not check"


@dataclass(frozen=True)
class PrivacyFinding:
    """Personal data found in an output file; ``where`` is a line, a cell or a paragraph.
    ``kind`` is ``could not check`` for a file that was not read in full (``hint``: why)."""

    path: str
    where: str
    kind: str
    hint: str

    def __str__(self) -> str:
        if self.kind == UNREADABLE:
            return f"could not check {self.path}: {self.hint}"
        return f"{self.path}:{self.where}: {self.kind} ({self.hint})"


def mask(value: str) -> str:
    """Enough of a value to recognise it, not enough to leak it: 'Anna Svensson' -> 'A*** S******'."""
    return " ".join(w[:1] + "*" * (len(w) - 1) for w in value.split())


class _Unreadable(Exception):
    """A file or member check-privacy could not read in full; the message says why."""


def check_files(
    paths: Iterable[str | Path], redactor: Redactor, *, skip: Iterable[str | Path] = ()
) -> list[PrivacyFinding]:
    """Scan output files for personal data with ``redactor`` (the one ``redact`` uses).

    Reads md, txt, csv, tsv, json/jsonl, yaml, html, xml, svg, qdc, docx (body, headers,
    footers, comments, notes), xlsx (cells, sheet names, comments), qdpx (project.qde and
    source texts) and qcode's PNG plots (the labels recorded in them). A file it cannot read
    in full (damaged, too large, unknown format, a PNG without qcode's labels) is reported as
    ``could not check``, never passed. ``skip`` names files to leave out (the project
    database).
    """
    skipped = {Path(p).resolve() for p in skip}
    findings: list[PrivacyFinding] = []
    for path in paths:
        path = Path(path)
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            resolved = file.resolve()
            if resolved in skipped or any(
                resolved == Path(str(s) + suffix)
                for s in skipped
                for suffix in ("-wal", "-shm", "-journal")
            ):
                continue
            try:
                for where, text in _output_texts(file):
                    for hit in redactor.find(text):
                        findings.append(
                            PrivacyFinding(
                                str(file),
                                where(hit.start) if callable(where) else where,
                                hit.kind,
                                mask(hit.value),
                            )
                        )
            except _Unreadable as err:
                findings.append(PrivacyFinding(str(file), "", UNREADABLE, str(err)))
            except Exception as err:  # noqa: BLE001 - a damaged file is reported, never a traceback
                findings.append(
                    PrivacyFinding(
                        str(file),
                        "",
                        UNREADABLE,
                        f"{type(err).__name__}: {scrub_message(str(err))[:200]}",
                    )
                )
    return findings


def _output_texts(path: Path) -> Iterator[tuple[Any, str]]:
    """(location, text) pairs of an output file, by its format; ``location`` is a string or a
    function from an offset in ``text`` to a line."""
    suffix = path.suffix.lower()
    try:
        size = path.stat().st_size
    except OSError as err:
        raise _Unreadable(err.strerror or str(err)) from None
    if size > MAX_CHECK_BYTES:
        raise _Unreadable(f"{size} bytes, more than the {MAX_CHECK_BYTES} bytes checked")
    if suffix in _ZIP_SUFFIXES:
        yield from _zip_texts(path)
    elif suffix in _TEXT_SUFFIXES:
        yield from _lines(path.read_bytes().decode("utf-8", errors="replace"), "")
    elif suffix in _XML_SUFFIXES:
        yield from _markup_texts(path.read_bytes(), "")
    elif suffix == ".png":
        yield from _png_texts(path)
    else:
        raise _Unreadable(
            f"unknown format {suffix or '(no suffix)'!r}; check-privacy reads "
            + ", ".join(sorted(_TEXT_SUFFIXES | _XML_SUFFIXES | _ZIP_SUFFIXES | {".png"}))
        )


def _lines(text: str, prefix: str) -> Iterator[tuple[Any, str]]:
    """The whole text at once (so a name is found as ``redact`` finds it), hits located by line."""
    breaks = [i for i, ch in enumerate(text) if ch == "\n"]

    def line_of(offset: int) -> str:
        return f"{prefix}{bisect.bisect_right(breaks, offset) + 1}"

    yield line_of, text


def _markup_texts(data: bytes, prefix: str) -> Iterator[tuple[Any, str]]:
    """Text of an XML/HTML/SVG file: its visible text by line, and every attribute value (a
    name can hide in a title="" or alt="")."""
    text = data.decode("utf-8", errors="replace")
    visible = re.sub(
        r"<(script|style)\b.*?</\1\s*>",
        lambda m: "\n" * m.group(0).count("\n"),
        text,
        flags=re.S | re.I,
    )
    import html

    # tags become line-preserving blanks so offsets still map onto the file's lines
    def blank(m: re.Match[str]) -> str:
        inner = m.group(0)
        return "".join("\n" if ch == "\n" else " " for ch in inner)

    stripped = html.unescape(re.sub(r"<[^>]*>", blank, visible))
    yield from _lines(stripped, prefix)
    for m in re.finditer(r"""\s([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""", text):
        value = html.unescape(m.group(2) if m.group(2) is not None else m.group(3) or "")
        if m.group(1).split(":")[-1] in _TEXT_ATTRIBUTES and value.strip():
            yield f"{prefix}{text.count(chr(10), 0, m.start()) + 1}", value


def _zip_texts(path: Path) -> Iterator[tuple[Any, str]]:
    """Every text-bearing member of an Office file or a .qdpx, read through SafeZip."""
    from .errors import QcodeError
    from .exchange.xmlutil import SafeZip

    try:
        archive = SafeZip(path)
    except QcodeError as err:
        raise _Unreadable(err.message) from None
    with archive:
        for name in sorted(archive.names()):
            lower = name.lower()
            if _boilerplate(lower):
                continue
            if lower.endswith(_BINARY_SUFFIXES):
                raise _Unreadable(
                    f"member {name!r} is a picture or binary part; its text cannot be checked"
                )
            try:
                data = archive.read(name)
            except QcodeError as err:
                raise _Unreadable(err.message) from None
            if lower.endswith((".xml", ".qde", ".qdc", ".vml", ".html", ".htm", ".svg")):
                yield from _office_xml_texts(data, name)
            elif lower.endswith((".txt", ".csv", ".tsv", ".md", ".json", ".jsonl")):
                yield from _lines(data.decode("utf-8", errors="replace"), f"{name}:")
            else:
                raise _Unreadable(f"member {name!r} has a format check-privacy does not read")


_BINARY_SUFFIXES = (
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
    ".emf",
    ".wmf",
    ".bin",
    ".tif",
    ".tiff",
    ".bmp",
    ".pdf",
    ".docx",
    ".xlsx",
    ".mp3",
    ".mp4",
    ".wav",
    ".m4a",
)
#: parts every Office file carries that hold layout, not text (the template's thumbnail too).
_BOILERPLATE = re.compile(
    r"(^|/)(\[content_types\]\.xml|[^/]*\.rels|theme/[^/]*|styles\.xml|stylesWithEffects\.xml"
    r"|fontTable\.xml|settings\.xml|webSettings\.xml|numbering\.xml|calcChain\.xml"
    r"|printerSettings/[^/]*|docProps/thumbnail\.[a-z]+)$",
    re.I,
)


def _boilerplate(member: str) -> bool:
    return bool(_BOILERPLATE.search(member))


#: XML elements whose text is one unit (a paragraph, a shared string, a comment): runs inside
#: them are joined first, because Word splits a name over runs ("An" + "na").
_BLOCKS = {
    "p": "paragraph",
    "si": "shared string",
    "c": "cell",
    "comment": "comment",
    "text": "text",
    "Description": "description",
    "PlainTextContent": "text",
    "TextValue": "value",
    "title": "title",
    "creator": "creator",
    "lastModifiedBy": "last modified by",
    "description": "description",
    "subject": "subject",
    "keywords": "keywords",
    "definedName": "defined name",
}
#: attributes that hold text a person wrote or a name: sheet names, comment authors, code,
#: case, user and variable names, titles and alt texts. Others (GUIDs, positions, dates,
#: colours, style and font names) are never personal data.
_TEXT_ATTRIBUTES = {
    "name",
    "title",
    "alt",
    "descr",
    "label",
    "author",
    "initials",
    "content",
    "value",
    "placeholder",
    "aria-label",
    "caption",
    "description",
    "displayName",
    "tooltip",
    "creator",
}


def _office_xml_texts(data: bytes, member: str) -> Iterator[tuple[Any, str]]:
    """Paragraphs, cells, comments and attribute values (sheet names, code and case names)
    of one XML member."""
    from .exchange.xmlutil import local_name, parse_xml

    root = parse_xml(data, member)
    number = 0

    def walk(element: Any) -> Iterator[tuple[Any, str]]:
        nonlocal number
        for key, value in element.attrib.items():
            if local_name(key) in _TEXT_ATTRIBUTES and value.strip():
                yield f"{member}:<{local_name(element.tag)} {local_name(key)}>", value
        tag = local_name(element.tag)
        if tag in _BLOCKS:
            number += 1
            text = "".join(element.itertext())
            where = (
                f"{member}!{element.get('r')}"
                if tag == "c" and element.get("r")
                else f"{member}:{_BLOCKS[tag]} {number}"
            )
            if text.strip():
                yield where, text
            for sub in element.iter():
                if sub is not element:
                    for key, value in sub.attrib.items():
                        if local_name(key) in _TEXT_ATTRIBUTES and value.strip():
                            yield f"{member}:<{local_name(sub.tag)} {local_name(key)}>", value
            return
        if element.text and element.text.strip():
            yield f"{member}:{local_name(element.tag)}", element.text
        for sub in element:
            yield from walk(sub)
            if sub.tail and sub.tail.strip():
                yield f"{member}:{local_name(element.tag)}", sub.tail

    yield from walk(root)


def _png_texts(path: Path) -> Iterator[tuple[Any, str]]:
    """The labels qcode recorded in a PNG's text chunk; a PNG without them is unreadable to
    the check (its pixels may hold any text)."""
    import struct
    import zlib

    data = path.read_bytes()
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise _Unreadable("not a PNG file")
    position, found = 8, None
    while position + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"tEXt":
            key, _, value = body.partition(b"\0")
            if key.decode("latin-1") == PNG_LABELS_KEY:
                found = value.decode("latin-1")
        elif kind == b"iTXt":
            key, _, rest = body.partition(b"\0")
            if key.decode("latin-1") == PNG_LABELS_KEY:
                compressed = rest[0]  # rest[1]: the compression method, always zlib
                rest = rest[2:]
                _lang, _, rest = rest.partition(b"\0")
                _translated, _, value = rest.partition(b"\0")
                found = (zlib.decompress(value) if compressed else value).decode("utf-8")
        elif kind == b"zTXt":
            key, _, rest = body.partition(b"\0")
            if key.decode("latin-1") == PNG_LABELS_KEY:
                found = zlib.decompress(rest[1:]).decode("latin-1")
    if found is None:
        raise _Unreadable(
            "a picture without the labels qcode records in its plots; "
            "check it by eye or leave it out"
        )
    yield from _lines(found, "label ")
