"""Rule-based coding: match a codebook's terms, phrases and regexes against segments.

The semantics (lemma matching, compounds, phrases with gaps, vetoes, ``min_matches``, the
most-specific-path rule) are described in the README ("Write and check a codebook") and pinned
down by ``tests/test_tag.py``; this module is their implementation. Speed comes from doing the expensive work once per *distinct* lower-cased word:
``_WordIndex`` turns a word into the term hits and phrase slots it can fill (lemmas via
:func:`qcode.nlp.lemma_candidates`, compound and prefix checks), and caches the answer, so
tagging a token costs one dict lookup.

Scores: each distinct matched span adds a weight for how specific its best pattern is
(phrase or regex 1.5, a term by its lemma 1.0, by prefix 0.8, as part of a compound 0.6), and
``score = 1 - 0.5 ** total``: one plain term gives 0.5, two give 0.75, a phrase 0.65, and the
score approaches 1 as evidence accumulates. It ranks codings for review; it is not a probability.

>>> from qcode.codebook import Codebook, Code, Patterns, Term
>>> code = Code("beredskap", "beredskap", "Beredskap", patterns=Patterns(terms=(Term("beredskap"),)))
>>> tagger = Tagger(Codebook("demo", "1", "sv", (code,)))
>>> from qcode.models import Segment
>>> [c.code_path for c in tagger.tag_segment(Segment("d", 0, 0, 26, "IP", False, "Vi saknar beredskapen här."))]
['beredskap']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Generic, NamedTuple, TypeVar

from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc

from .codebook import Code, Codebook, Patterns, Term
from .errors import CodebookError
from .models import Coding, Evidence, Segment
from .nlp import Word, doc_words, fresh_nlp, get_nlp, lemma_candidates
from .regexes import (
    ODD_CASE,
    RegexTimeout,
    alarm_handler,
    finditer_from,
    leading_literals,
    required_parts,
    time_limit,
)

# how a pattern matched -> weight in the score (see module docstring)
WEIGHTS = {"phrase": 1.5, "regex": 1.5, "lemma": 1.0, "prefix": 0.8, "compound": 0.6}

# a compound part must be at least this long (the codebook term) ...
MIN_PART = 4
# ... and the rest of the word at least this long
MIN_REST = 3
#: distinct words whose analysis is remembered; the cache is emptied when full, so a tag run's
#: memory stays flat however many word types the corpus brings (a word costs ~20 us to redo)
WORD_CACHE_SIZE = 50_000
#: strings the tokenizer's vocabulary may hold before the Tagger starts a fresh one (spaCy keeps
#: every string and lexeme it has seen; this keeps a long run's memory flat)
VOCAB_LIMIT = 100_000
#: letters of a regex's required literal used to index it (see _WordIndex._regex_parts_in)
NEEDLE_KEY = 3
# linking letters between a first part and the rest ("samverkan-s-plan", "kvinno-", "gata-")
LINKERS = "seau"
# phrase words may be separated by at most this many tokens ("tog det på allvar")
MAX_GAP = 2
# a phrase never runs across these
BARRIERS = frozenset(".!?;:")
# wall-clock seconds the regexes may run on one segment, plus this much per character: codebook
# validation rejects the known catastrophic shapes ((a+)+, (a|aa)+), and this bound stops any
# that slip through (\w*\w*\w*x is polynomial) instead of hanging a tag run
REGEX_SECONDS = 2.0
REGEX_SECONDS_PER_CHAR = 1e-6


T = TypeVar("T")


class _Rule(NamedTuple):
    """One term of one code: ``pattern`` as shown to users, ``veto`` for ``not`` terms."""

    code: int
    pattern: str
    veto: bool


class _Hit(NamedTuple):
    code: int
    start: int  # local offsets into the segment text
    end: int
    pattern: str
    kind: str  # term | phrase | regex
    how: str  # lemma | prefix | compound | phrase | regex
    veto: bool


class _WordInfo(NamedTuple):
    """What one distinct word can do: term hits ``(rule, how)``, phrase slots, phrase starts."""

    hits: tuple[tuple[_Rule, str], ...]
    slots: frozenset[tuple[int, int]]  # (phrase id, word position) this word can fill
    starts: tuple[int, ...]  # phrase ids whose first word this is
    ends: tuple[int, ...]  # phrase ids whose last word this is
    regexes: tuple[tuple[int, int], ...]  # (regex, part) whose required letters occur in this word
    barrier: bool


_NOTHING = _WordInfo((), frozenset(), (), (), (), False)
_BARRIER = _WordInfo((), frozenset(), (), (), (), True)


class _Phrase(NamedTuple):
    code: int
    pattern: str
    length: int
    veto: bool


def _split_star(text: str) -> tuple[str, bool]:
    text = text.strip().lower()
    return (text[:-1], True) if text.endswith("*") else (text, False)


def _pattern_forms(text: str) -> set[str]:
    """The lemmas a codebook word stands for: the word itself, plus its lemma when that is no
    longer than the word.

    Terms are meant to be written as lemmas, but phrases are often written inflected
    ("dubbla roller" -> dubbel, roll). A *longer* lemma is a different word that happens to
    share the form: simplemma reads the nouns "plan" and "ring" as the verbs "plana" and "ringa",
    which would let the term "ring" match "ringde".
    """
    return {text} | {lemma for lemma in lemma_candidates(text) if len(lemma) <= len(text)}


class _PrefixTable(Generic[T]):
    """Stems grouped by length, so finding the stems a word starts with costs one dict lookup
    per distinct stem length rather than one comparison per stem."""

    def __init__(self) -> None:
        self.by_length: dict[int, dict[str, list[T]]] = {}

    def add(self, stem: str, value: T) -> None:
        self.by_length.setdefault(len(stem), {}).setdefault(stem, []).append(value)

    def find(self, word: str) -> Iterator[T]:
        for length, table in self.by_length.items():
            if len(word) >= length:
                yield from table.get(word[:length], ())


class _WordIndex:
    """Every term and phrase word of a codebook, indexed for per-word lookups (see module doc)."""

    def __init__(self) -> None:
        self.lemma: dict[str, list[_Rule]] = {}  # any lemma of the term -> rules
        self.prefix: _PrefixTable[_Rule] = _PrefixTable()  # prefix terms (``utbild*``)
        self.compound: dict[str, list[_Rule]] = {}  # compound-enabled terms by their own text
        self.compound_prefix: _PrefixTable[_Rule] = (
            _PrefixTable()
        )  # compound-enabled prefix terms, for heads
        self.head_starts: set[str] = set()  # first letters of compound terms: worth lemmatising
        self.phrase_words: dict[str, list[tuple[int, int]]] = {}
        self.phrase_prefix: _PrefixTable[tuple[int, int]] = _PrefixTable()
        self.phrase_last: dict[int, int] = {}  # phrase id -> position of its last word
        # (letters, regex number, part number): a regex runs when every part has a word
        self.needles: list[tuple[str, int, int]] = []
        self._needle_index: dict[str, list[tuple[str, int, int]]] = {}
        self._short_needles: list[tuple[str, int, int]] = []
        self._needle_index_size = -1
        self.cache: dict[str, _WordInfo] = {}

    def add_term(self, term: Term, rule: _Rule) -> None:
        text, star = _split_star(term.text)
        prefix = star or term.prefix
        if not text:
            return
        if prefix:
            self.prefix.add(text, rule)
        else:
            for form in _pattern_forms(text):
                self.lemma.setdefault(form, []).append(rule)
        if term.compound and len(text) >= MIN_PART:
            if prefix:
                self.compound_prefix.add(text, rule)
            else:
                self.compound.setdefault(text, []).append(rule)
            self.head_starts.add(text[:MIN_PART])

    def add_phrase_word(self, word: str, slot: tuple[int, int]) -> None:
        pid, pos = slot
        self.phrase_last[pid] = max(pos, self.phrase_last.get(pid, 0))
        text, prefix = _split_star(word)
        if prefix:
            self.phrase_prefix.add(text, slot)
        else:
            for form in _pattern_forms(text):
                self.phrase_words.setdefault(form, []).append(slot)

    def lookup(self, word: str) -> _WordInfo:
        info = self.cache.get(word)
        if info is None:
            if len(self.cache) >= WORD_CACHE_SIZE:
                self.cache.clear()  # in place: callers hold a reference to it
            info = self.cache[word] = self._compute(word)
        return info

    def _compute(self, word: str) -> _WordInfo:
        if len(word) == 1 and word in BARRIERS:
            return _BARRIER
        forms = lemma_candidates(word) | {word}
        found: dict[_Rule, str] = {}

        def note(rules: Iterable[_Rule], how: str) -> None:
            for rule in rules:
                # keep the most specific way each rule matched
                if rule not in found or WEIGHTS[how] > WEIGHTS[found[rule]]:
                    found[rule] = how

        for form in forms:
            note(self.lemma.get(form, ()), "lemma")
            note(self.prefix.find(form), "prefix")
        if self.compound or self.compound_prefix.by_length:
            for form in forms:
                self._compound_hits(form, note)
        slots: set[tuple[int, int]] = set()
        for form in forms:
            slots.update(self.phrase_words.get(form, ()))
            slots.update(self.phrase_prefix.find(form))
        regexes = self._regex_parts_in(word)
        if not found and not slots and not regexes:
            return _NOTHING
        starts = tuple(sorted({pid for pid, pos in slots if pos == 0}))
        ends = tuple(sorted({pid for pid, pos in slots if pos == self.phrase_last[pid]}))
        return _WordInfo(tuple(found.items()), frozenset(slots), starts, ends, regexes, False)

    def _regex_parts_in(self, word: str) -> tuple[tuple[int, int], ...]:
        """The (regex, part) pairs whose required letters occur in ``word``.

        Needles are indexed by their first three letters, so a new word costs a dict look-up
        per position instead of a scan of every needle; shorter needles are scanned."""
        if self._needle_index_size != len(self.needles):
            index: dict[str, list[tuple[str, int, int]]] = {}
            short = []
            for needle in self.needles:
                if len(needle[0]) < NEEDLE_KEY:
                    short.append(needle)
                else:
                    index.setdefault(needle[0][:NEEDLE_KEY], []).append(needle)
            self._needle_index, self._short_needles = index, short
            self._needle_index_size = len(self.needles)
        found = {(r, k) for needle, r, k in self._short_needles if needle in word}
        index = self._needle_index
        for i in range(len(word) - NEEDLE_KEY + 1):
            for text, r, k in index.get(word[i : i + NEEDLE_KEY], ()):
                if word.startswith(text, i):
                    found.add((r, k))
        return tuple(sorted(found))

    def _compound_hits(self, form: str, note: Callable[[Iterable[_Rule], str], None]) -> None:
        """Terms that are the first part (with or without a linking letter) or the head of
        ``form``; both parts must be long enough (MIN_PART, MIN_REST)."""
        n = len(form)
        if not form.isalpha():
            return
        for cut in range(MIN_PART, n - MIN_REST + 1):
            first = form[:cut]
            note(self.compound.get(first, ()), "compound")
            if first[-1] in LINKERS and cut - 1 >= MIN_PART:
                note(self.compound.get(first[:-1], ()), "compound")
        for cut in range(MIN_REST, n - MIN_PART + 1):
            head = form[cut:]
            note(self.compound.get(head, ()), "compound")
            note(self.compound_prefix.find(head), "compound")
            if head[:MIN_PART] in self.head_starts:
                for lemma in lemma_candidates(head):
                    if lemma != head:
                        note(self.compound.get(lemma, ()), "compound")


@dataclass(frozen=True)
class Match:
    """One pattern that fired in a segment, with document offsets (``text[start:end] == matched``)."""

    code_path: str
    start: int
    end: int
    matched: str
    pattern: str
    kind: str  # term | phrase | regex
    how: str  # lemma | prefix | compound | phrase | regex
    veto: bool = False


@dataclass(frozen=True)
class CodeExplanation:
    """Everything one code's patterns did in a segment and what came of it.

    ``status`` is ``coded``, ``vetoed``, ``below_min`` (fewer distinct spans than
    ``min_matches``) or ``subcode`` (it applied, but a more specific subcode was coded instead).
    """

    code_path: str
    status: str
    score: float
    distinct: int
    min_matches: int
    matches: tuple[Match, ...]
    vetoes: tuple[Match, ...]  # the code's own vetoes and those inherited from ancestors
    subcodes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SegmentExplanation:
    """The matches in one segment, per code, and the codings that follow from them."""

    segment: Segment
    codes: tuple[CodeExplanation, ...]
    codings: tuple[Coding, ...]
    skipped: str | None = None  # why the segment is not coded (interviewer), else None
    matches: tuple[Match, ...] = field(default=())


class Tagger:
    """Codes segments with a codebook's rules; build once, then tag many segments.

    ``code_interviewer`` also codes interviewer segments (skipped by default).
    """

    def __init__(self, codebook: Codebook, *, code_interviewer: bool = False):
        self.codebook = codebook
        self.code_interviewer = code_interviewer
        self._codes: list[Code] = list(codebook.walk())
        index_of = {code.path: i for i, code in enumerate(self._codes)}
        self._ancestors: list[tuple[int, ...]] = []
        for code in self._codes:
            chain = []
            parent = code.parent_path
            while parent is not None:
                chain.append(index_of[parent])
                parent = parent.rsplit("/", 1)[0] if "/" in parent else None
            self._ancestors.append(tuple(chain))
        self._words = _WordIndex()
        self._phrases: list[_Phrase] = []
        self._regexes: list[tuple[int, re.Pattern[str]]] = []
        self._leads: list[frozenset[str] | None] = []  # literals each regex's matches start with
        self._always: list[
            int
        ] = []  # regexes without a letters-only requirement: run on every segment
        self._parts: dict[int, int] = {}  # regex number -> number of required letters-only parts
        for i, code in enumerate(self._codes):
            self._add_patterns(i, code.patterns)
        self._nlp = get_nlp()

    def _add_patterns(self, i: int, patterns: Patterns) -> None:
        for terms, veto in ((patterns.terms, False), (patterns.not_terms, True)):
            for term in terms:
                shown = term.text.rstrip("*") + (
                    "*" if term.prefix or term.text.endswith("*") else ""
                )
                self._words.add_term(term, _Rule(i, shown, veto))
        for phrases, veto in ((patterns.phrases, False), (patterns.not_phrases, True)):
            for words in phrases:
                words = tuple(w for w in words if w.strip())
                if not words:
                    continue
                pid = len(self._phrases)
                self._phrases.append(_Phrase(i, " ".join(words).lower(), len(words), veto))
                for pos, word in enumerate(words):
                    self._words.add_phrase_word(word, (pid, pos))
        for pattern in patterns.regex:
            number = len(self._regexes)
            self._regexes.append((i, re.compile(pattern, re.IGNORECASE)))
            self._leads.append(leading_literals(pattern))
            # letters-only requirements are checked once per distinct word (a run of letters
            # never spans two tokens); without any, the regex runs on every segment
            parts = [p for p in required_parts(pattern) if all(n.isalpha() for n in p)]
            if parts:
                self._parts[number] = len(parts)
                for k, part in enumerate(parts):
                    self._words.needles.extend((n, number, k) for n in part)
            else:
                self._always.append(number)

    # -- public API -----------------------------------------------------------------------
    def tag_segments(
        self, segments: Iterable[Segment], batch_size: int = 256
    ) -> Iterator[tuple[Segment, list[Coding]]]:
        """Stream ``(segment, codings)`` in input order, tokenizing in batches."""
        iterator = iter(segments)
        with alarm_handler():  # installed once, not per segment (see time_limit)
            while batch := list(islice(iterator, batch_size)):
                todo = [s for s in batch if self._codable(s)]
                tokenizer: Tokenizer = self._nlp.tokenizer  # typed as a plain callable
                docs = iter(tokenizer.pipe([s.text for s in todo], batch_size=batch_size))
                for segment in batch:
                    if not self._codable(segment):
                        yield segment, []
                        continue
                    hits = self._scan(segment.text, next(docs))
                    yield segment, self._codings(segment, hits)
                if len(self._nlp.vocab.strings) > VOCAB_LIMIT:
                    self._nlp = fresh_nlp()

    def tag_segment(self, segment: Segment) -> list[Coding]:
        """The codings of one segment (empty for interviewer segments unless asked)."""
        if not self._codable(segment):
            return []
        return self._codings(segment, self._scan(segment.text, self._nlp.tokenizer(segment.text)))

    def explain(self, segment: Segment) -> SegmentExplanation:
        """Every match in ``segment`` (vetoed and below-``min_matches`` ones too), per code."""
        hits = self._scan(segment.text, self._nlp.tokenizer(segment.text))
        decisions = self._decide(hits)
        skipped = None if self._codable(segment) else "interviewer segment (not coded)"
        codings = () if skipped else tuple(self._codings(segment, hits, decisions))
        all_matches = tuple(self._match(segment, h) for h in hits)
        codes = []
        for i, (status, own, vetoes, subcodes) in decisions.items():
            code = self._codes[i]
            spans = self._best_spans(own)
            codes.append(
                CodeExplanation(
                    code_path=code.path,
                    status=status,
                    score=_score(spans.values()),
                    distinct=len(spans),
                    min_matches=code.patterns.min_matches,
                    matches=tuple(self._match(segment, h) for h in own),
                    vetoes=tuple(self._match(segment, h) for h in vetoes),
                    subcodes=tuple(self._codes[j].path for j in subcodes),
                )
            )
        return SegmentExplanation(segment, tuple(codes), codings, skipped, all_matches)

    # -- matching -------------------------------------------------------------------------
    def _codable(self, segment: Segment) -> bool:
        return self.code_interviewer or not segment.is_interviewer

    def _scan(self, text: str, doc: Doc) -> list[_Hit]:
        """All hits in one segment's text (local offsets), in text order per kind."""
        lookup = self._words.lookup
        cache = self._words.cache
        hits: list[_Hit] = []
        infos: list[_WordInfo] = []
        phrase_at: list[int] = []
        ends: set[int] = set()  # phrases whose last word occurs: only those are worth trying
        regexes: set[tuple[int, int]] = set()  # (regex, part) whose required letters occur
        words = doc_words(doc, text)
        for word in words:
            info = cache.get(word[0]) or lookup(word[0])
            if info.hits:
                for rule, how in info.hits:
                    hits.append(
                        _Hit(rule.code, word[1], word[2], rule.pattern, "term", how, rule.veto)
                    )
            if info.starts:
                phrase_at.append(len(infos))
            if info.ends:
                ends.update(info.ends)
            if info.regexes:
                regexes.update(info.regexes)
            infos.append(info)
        for position in phrase_at:
            for pid in infos[position].starts:
                if pid in ends:
                    hit = self._phrase_hit(pid, position, words, infos)
                    if hit is not None:
                        hits.append(hit)
        runnable = list(self._always)
        if regexes:
            parts = self._parts
            for number in {r for r, _k in regexes}:
                if all((number, k) in regexes for k in range(parts[number])):
                    runnable.append(number)
        if runnable:
            lowered: str | None = text.lower()
            if len(text) != len(lowered or "") or ODD_CASE.search(text):
                lowered = None  # lower() is no guide to re.IGNORECASE here: scan plainly
            budget = REGEX_SECONDS + REGEX_SECONDS_PER_CHAR * len(text)
            number = runnable[0]
            try:
                with time_limit(budget):
                    for number in sorted(runnable):
                        i, regex = self._regexes[number]
                        for m in finditer_from(regex, text, lowered, self._leads[number]):
                            if m.end() > m.start():
                                hits.append(
                                    _Hit(
                                        i,
                                        m.start(),
                                        m.end(),
                                        regex.pattern,
                                        "regex",
                                        "regex",
                                        False,
                                    )
                                )
            except RegexTimeout:
                i, regex = self._regexes[number]
                raise CodebookError(
                    f"regex {regex.pattern!r} of code {self._codes[i].path} ran longer than "
                    f"{budget:.3g} s on one segment of {len(text)} characters and was stopped: "
                    "it backtracks catastrophically; simplify it (avoid repeats next to or "
                    "inside each other, like \\w*\\w* or (a+)+)",
                    path=self.codebook.path,
                ) from None
        return hits

    def _phrase_hit(
        self, pid: int, position: int, words: list[Word], infos: list[_WordInfo]
    ) -> _Hit | None:
        """The phrase ``pid`` starting at ``position``, each next word within MAX_GAP tokens."""
        phrase = self._phrases[pid]
        current = position
        for pos in range(1, phrase.length):
            for nxt in range(current + 1, min(current + 2 + MAX_GAP, len(words))):
                if (pid, pos) in infos[nxt].slots:
                    current = nxt
                    break
                if infos[nxt].barrier:
                    return None
            else:
                return None
        return _Hit(
            phrase.code,
            words[position][1],
            words[current][2],
            phrase.pattern,
            "phrase",
            "phrase",
            phrase.veto,
        )

    # -- deciding -------------------------------------------------------------------------
    @staticmethod
    def _best_spans(hits: Iterable[_Hit]) -> dict[tuple[int, int], float]:
        """Distinct spans with the weight of the most specific pattern that matched each."""
        spans: dict[tuple[int, int], float] = {}
        for h in hits:
            key = (h.start, h.end)
            spans[key] = max(spans.get(key, 0.0), WEIGHTS[h.how])
        return spans

    def _decide(self, hits: list[_Hit]) -> dict[int, tuple[str, list[_Hit], list[_Hit], list[int]]]:
        """Per code with any hit: (status, own hits, vetoes incl. inherited, coded subcodes).

        A veto on a code also vetoes its subcodes: a subcode's path implies its parent, and
        reports roll it up into the parent, so coding it would contradict the parent's veto.
        """
        own: dict[int, list[_Hit]] = {}
        vetoes: dict[int, list[_Hit]] = {}
        for h in hits:
            (vetoes if h.veto else own).setdefault(h.code, []).append(h)
        status: dict[int, str] = {}
        inherited: dict[int, list[_Hit]] = {}
        for i, found in own.items():
            inherited[i] = [v for j in (i, *self._ancestors[i]) for v in vetoes.get(j, ())]
            if inherited[i]:
                status[i] = "vetoed"
            elif len(self._best_spans(found)) < self._codes[i].patterns.min_matches:
                status[i] = "below_min"
            else:
                status[i] = "coded"
        applied = [i for i, s in status.items() if s == "coded"]
        covered: dict[int, list[int]] = {}
        for i in applied:
            for j in self._ancestors[i]:
                covered.setdefault(j, []).append(i)
        decisions: dict[int, tuple[str, list[_Hit], list[_Hit], list[int]]] = {}
        for i in sorted(set(own) | set(vetoes)):
            found = own.get(i, [])
            if not found:  # only vetoes fired for this code
                decisions[i] = ("vetoed", [], vetoes[i], [])
                continue
            s = status[i]
            if s == "coded" and i in covered:
                s = "subcode"
            decisions[i] = (s, found, inherited[i], sorted(covered.get(i, [])))
        return decisions

    def _codings(
        self,
        segment: Segment,
        hits: list[_Hit],
        decisions: dict[int, tuple[str, list[_Hit], list[_Hit], list[int]]] | None = None,
    ) -> list[Coding]:
        if not hits:
            return []
        if decisions is None:
            decisions = self._decide(hits)
        codings = []
        for i, (status, found, _vetoes, _sub) in decisions.items():
            if status != "coded":
                continue
            seen: dict[tuple[int, int, str, str], Evidence] = {}
            for h in sorted(found, key=lambda h: (h.start, h.end, h.kind, h.pattern)):
                key = (h.start, h.end, h.pattern, h.kind)
                if key not in seen:
                    seen[key] = Evidence(
                        segment.start + h.start,
                        segment.start + h.end,
                        segment.text[h.start : h.end],
                        h.pattern,
                        h.kind,
                    )
            codings.append(
                Coding(
                    document_id=segment.document_id,
                    segment_index=segment.index,
                    start=segment.start,
                    end=segment.end,
                    code_path=self._codes[i].path,
                    source="rule",
                    score=_score(self._best_spans(found).values()),
                    evidence=tuple(seen.values()),
                )
            )
        return codings

    def _match(self, segment: Segment, h: _Hit) -> Match:
        return Match(
            self._codes[h.code].path,
            segment.start + h.start,
            segment.start + h.end,
            segment.text[h.start : h.end],
            h.pattern,
            h.kind,
            h.how,
            h.veto,
        )


def _score(weights: Iterable[float]) -> float:
    """``1 - 0.5 ** sum(weights)``, rounded; see the module docstring."""
    total = sum(weights)
    return round(1.0 - 0.5**total, 3) if total > 0 else 0.0
