"""Speaker turns in transcript text, and who of the speakers is the interviewer.

**Labels.** A turn opens at a line that starts with a speaker label, in any of the layouts
that transcription tools and typists produce:

* ``LABEL: text`` with an optional timestamp before or after the label or after the colon
  (``[00:01:02] Intervjuare: …``, ``Intervjuare (00:01:02): …``, ``IP: (12:40) …``), in
  Markdown bold (``**I:**``), abbreviated (``Int.: …``, ``Resp.: …``), numbered
  (``Intervjuare 1:``) or with a note (``Respondent 2 (kvinna, 45 år):``);
* ``LABEL - text`` with a dash (``I - …``, ``IP – …``);
* a label alone on its line with the speech below it, with or without a timestamp and colon:
  ``Helena Strand  00:00:05`` (Otter, Teams, Zoom), ``Talare 1 00:00:05`` / ``Speaker 2``
  (Word Transcribe), ``00:00:05 Talare 1``, ``INTERVJUARE``.

Telling a label from a sentence that happens to have a colon or a dash is the hard part ("Det
var så här: vi ringde" is speech, "Anna Svensson: vi ringde" is a label). A candidate must have
the shape of a label (1–4 words, starts with a letter, no sentence punctuation, at most 40
characters) and also be *likely* one in this document: a known interviewer/respondent label
(configured, "Fråga"/"Svar", IP, Respondent, …, possibly numbered), or a label that opens two
or more turns and does not start with a common Swedish sentence opener ("det", "jag", …), or a
Title Case one-off ("Polis 1:") after another sure label. A dash or a bare line needs more:
a known label or repetition (a bare line with a timestamp counts once the layout is in use).

**Preamble.** Text before the first label (a title, "Intervju med …", ``Datum: …`` lines) is
the document's *preamble*: kept in the text, not a turn, so it is never coded or quoted. In a
text with no labels, leading heading lines are the preamble and the rest is read paragraph by
paragraph (line by line when the lines are separate utterances).

**Interviewer.** :func:`settle_interviewer` decides who asks the questions: whoever the
metadata names (``interviewer: Helena Strand`` matches ``Helena Strand``, ``Helena``, ``HS``),
else the configured labels, else — when nothing says — the speaker whose turns are mostly short
questions, reported as a guess. Unlabelled paragraphs that are short questions between answers
become turns of speaker ``interviewer`` the same way.

Timestamps become the turn's ``timestamp`` metadata, as written, and are left out of its span.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from ..models import Turn, frozen_mapping, strip_span
from .common import IngestConfig

#: speaker of text that carries no label.
DEFAULT_SPEAKER = "respondent"
#: speaker of unlabelled paragraphs that are guessed to be the interviewer's questions.
GUESSED_INTERVIEWER = "interviewer"
DEFAULT_INTERVIEWER_LABELS = IngestConfig().interviewer_labels

MAX_LABEL_CHARS = 40
MAX_LABEL_WORDS = 4
#: a text before the first label is a preamble only while it is this short; a longer one is
#: more likely speech whose labels were missed, so it stays as (respondent) paragraphs.
MAX_PREAMBLE_WORDS = 200

_TIME = r"(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"


def _bracket_ts(name: str) -> str:
    return r"[\[(][ \t]*(?P<" + name + ">" + _TIME + r")[ \t]*[\])]"


def _any_ts(name: str) -> str:
    """A timestamp in brackets or parentheses, or bare ("00:00:05", "0:05")."""
    return r"(?:" + _bracket_ts(name) + r"|(?P<" + name + "b>" + _TIME + r")(?![\d:]))"


# The label itself: a letter, then anything but line ends, colons, brackets, bold marks and
# long dashes; checked by :func:`label_shape_ok` afterwards. Bounded, so matching stays linear.
_LABEL = r"(?P<label>[^\W\d_][^\n:*\[\]()–—]{0,60}?)"
_NOTE = r"\((?P<note>[^()\n]{1,40})\)"
# What stands before the separator (colon or dash) of an inline label: timestamp, bold,
# [bracketed] label, timestamp or note.
_HEAD = re.compile(
    r"[ \t]*(?:" + _any_ts("ts0") + r"[ \t]*(?:[-–—][ \t]*)?)?"
    r"(?:\*\*|__)?\[?" + _LABEL + r"\.?\]?"
    r"(?:[ \t]*(?:" + _any_ts("ts1") + r"|" + _NOTE + r"))?[ \t]*(?:\*\*|__)?"
)
# After the colon: closing bold, an optional timestamp.
_AFTER_COLON = re.compile(r"(?:\*\*|__)?(?=[ \t]|$)[ \t]*(?:" + _bracket_ts("ts2") + r"[ \t]*)?")
# A label alone on its line: "Helena Strand  00:00:05", "00:05 Talare 1", "[Anna] 10:02:33".
_ALONE = re.compile(
    r"[ \t]*(?:" + _any_ts("ts0") + r"[ \t]+(?:[-–—][ \t]*)?)?"
    r"(?:\*\*|__)?(?P<open>\[)?" + _LABEL + r"(?(open)\])(?:\*\*|__)?"
    r"(?:[ \t]+(?:[-–—][ \t]*)?" + _any_ts("ts1") + r")?[ \t]*"
)
_DASH = re.compile(r"[ \t]+[-–—](?:[ \t]+|$)")
# "[Helena Strand] 10:02:33 Hur länge …": a bracketed name and a time, then the speech (Zoom)
_BRACKETED = re.compile(
    r"[ \t]*\[(?P<label>[^\W\d_][^\n:*\[\]()]{0,40})\][ \t]*" + _any_ts("ts1") + r"[ \t]+(?=\S)"
)
_LEADING_TIMESTAMP = re.compile(r"[ \t]*" + _bracket_ts("ts") + r"(?=\s|$)")
_TIMESTAMP_ONLY_LINE = re.compile(r"[ \t]*" + _bracket_ts("ts") + r"[ \t]*(?=\n|$)")
_LABEL_SHAPE = re.compile(r"[^\W\d_][\w'’/&\- ]*")
# an optional note after the label: "Respondent 2 (kvinna, 45 år)"
_LABEL_NOTE = re.compile(r"(?P<base>.*?)[ \t]*\((?P<note>[^()\n]{1,40})\)")
_BLANK_LINES = re.compile(r"\n[^\S\n]*\n\s*")
_WORD = re.compile(r"\w+")

#: labels that mean "the interviewee" in Swedish and English transcripts (case-insensitive,
#: optionally followed by a number).
RESPONDENT_LABELS = frozenset(
    {
        "r",
        "ip",
        "resp",
        "respondent",
        "informant",
        "intervjuperson",
        "intervjupersonen",
        "deltagare",
        "svarande",
        "interviewee",
        "participant",
        "d",
        "p",
        "b",
        "s",
        "svar",
        "answer",
        "a",
        "inf",
    }
)

#: labels that always mean the interviewer, whatever the configured labels: the question
#: side of a "Fråga:/Svar:" transcript.
IMPLICIT_INTERVIEWER_LABELS = frozenset(
    {
        "fråga",
        "question",
        "frågeställare",
        "moderator",
        "q",
        "intervjuare",
        "interviewer",
        "intervjuaren",
        "samtalsledare",
    }
)

#: keys of the header lines a transcript may start with ("Datum: 2010-03-04"); before the
#: first speaker turn they are preamble, never speakers.
HEADER_KEYS = frozenset(
    """
datum date plats ort location place tid tidpunkt time längd duration titel title ämne subject
projekt project fil file filnamn transkribent transkriberat transkriberad transcribed
transcriber inspelning recording intervju interview intervjunummer nr nummer kod code id
organisation organization myndighet grupp group kommun län version sida page antal
""".split()
)

#: Swedish (and a few English) words that open sentences; a "Label:" starting with one of
#: these is speech ("Det var så här: …"), not a speaker, unless it is a known label.
SENTENCE_OPENERS = frozenset(
    """
alltså annars att bara de dem den denna dessa det detta dom du då där därför eftersom eller
en enligt ett fast faktiskt för först han hela hon här i jag ja javisst jo just kanske man med
men mitt min mina när nej nja nu och också okej om precis på sedan sen sist slutligen som så
till tja ungefär ut vad var vem vi vilken visst än även ändå the and but so yes no well this
that it we they i'm you
""".split()
)

#: words that open a request for an answer without a question mark ("Berätta om …").
_PROMPT_OPENERS = ("berätta", "beskriv", "tell me", "describe", "kan du berätta", "ge ett exempel")
#: how the interviewer was found, as :func:`settle_interviewer` reports it.
REASONS = ("front matter", "label", "guess")


@dataclass(frozen=True)
class _Candidate:
    line_start: int
    content_start: int  # after label, separator and any timestamp (next line for "alone")
    label: str
    timestamp: str | None
    layout: str  # "colon" | "dash" | "alone"
    rest: str = ""  # the rest of the line after the label (colon layout)


@dataclass(frozen=True)
class TurnReading:
    """How a transcript text was read: turns, the preamble span (or None), the interviewer
    names found in header lines (``Intervjuare: Helena Strand``), and notes for ``inspect``."""

    turns: tuple[Turn, ...]
    preamble: tuple[int, int] | None = None
    header_interviewers: tuple[str, ...] = ()
    labelled: bool = True


def normalise_label(label: str) -> str:
    """A label as stored as the speaker: inner white space collapsed, an abbreviation's dot
    dropped ("Int." -> "Int")."""
    label = " ".join(label.split())
    if label.endswith(".") and " " not in label and len(label) <= 7:
        label = label[:-1]
    return label


def _label_base(label: str) -> str:
    """The label without a trailing note in parentheses or dot, case-folded."""
    match = _LABEL_NOTE.fullmatch(label)
    base = (match.group("base") if match else label).casefold().strip()
    return base[:-1] if base.endswith(".") else base


def is_interviewer_label(label: str, interviewer_labels: Iterable[str]) -> bool:
    """True when ``label`` names the interviewer: a configured label or one of
    :data:`IMPLICIT_INTERVIEWER_LABELS`, ignoring case, a trailing number or a note in
    parentheses ("I2", "Intervjuare (AS)"), also with a Swedish definite ending
    ("Intervjuaren") or followed by a name ("Intervjuare Anna", for labels of 3+ letters)."""
    return _is_interviewer_label(label, tuple(interviewer_labels))


@lru_cache(maxsize=4096)
def _is_interviewer_label(label: str, interviewer_labels: tuple[str, ...]) -> bool:
    wanted = {lab.casefold().strip() for lab in interviewer_labels} | IMPLICIT_INTERVIEWER_LABELS
    base = _label_base(label)
    bare = base.rstrip("0123456789 ").strip() or base
    if base in wanted or bare in wanted:
        return True
    first = base.split(" ", 1)[0]
    if len(base.split()) > 1 and len(first) >= 3 and first in wanted:
        return True
    return any(
        len(w) >= 5 and first.startswith(w) and first[len(w) :] in ("n", "en", "s") for w in wanted
    )


@lru_cache(maxsize=4096)
def is_respondent_label(label: str) -> bool:
    """One of :data:`RESPONDENT_LABELS`, possibly numbered ("IP2", "Respondent 3")."""
    base = _label_base(label)
    bare = base.rstrip("0123456789 ").strip()
    return base in RESPONDENT_LABELS or bare in RESPONDENT_LABELS


def label_shape_ok(label: str) -> bool:
    """The shape rule: 1–4 words, starts with a letter, ≤ 40 characters, no sentence
    punctuation (comma, period, ?, !, ;, quotes); a note in parentheses may follow."""
    label = normalise_label(label)
    match = _LABEL_NOTE.fullmatch(label)
    base = match.group("base") if match else label
    return (
        0 < len(base) <= MAX_LABEL_CHARS
        and len(base.split()) <= MAX_LABEL_WORDS
        and _LABEL_SHAPE.fullmatch(base) is not None
    )


def is_known_label(label: str, interviewer_labels: Iterable[str]) -> bool:
    """An interviewer label or one of :data:`RESPONDENT_LABELS` (possibly numbered)."""
    return is_interviewer_label(label, interviewer_labels) or is_respondent_label(label)


def _is_initials(label: str) -> bool:
    """ "I", "AS", "IP2": capitals (and digits) only, which no sentence starts with."""
    return len(label) <= 4 and " " not in label and label.isupper()


def _is_title_case(label: str) -> bool:
    base = _LABEL_NOTE.fullmatch(label)
    words = (base.group("base") if base else label).split()
    return bool(words) and all(word[0].isupper() or word[0].isdigit() for word in words)


def _timestamp(match: re.Match[str], *names: str) -> str | None:
    for name in names:
        for group in (name, name + "b"):
            value: str | None = match.groupdict().get(group)
            if value:
                return value
    return None


def _line_candidate(text: str, start: int, end: int) -> _Candidate | None:
    """The label this line starts with, if it has the shape of one (not yet judged)."""
    line = text[start:end]
    first = line.lstrip()[:1]
    if not first or not (first.isalnum() or first in "[(*_"):
        return None
    # inline "LABEL: text": try each colon of the first 80 characters (the first one may sit
    # inside a timestamp, "Intervjuare (00:01:02): …")
    colon = line.find(":")
    while 0 <= colon <= 80:
        head = _HEAD.fullmatch(line, 0, colon)
        after = _AFTER_COLON.match(line, colon + 1)
        if head is not None and after is not None:
            label = normalise_label(head.group("label"))
            if head.group("note"):
                label = f"{label} ({head.group('note').strip()})"
            if label_shape_ok(label):
                return _Candidate(
                    start,
                    start + after.end(),
                    label,
                    _timestamp(head, "ts0", "ts1") or after.group("ts2"),
                    "colon",
                    line[after.end() :].strip(),
                )
        colon = line.find(":", colon + 1)
    # "LABEL - text"
    dash = _DASH.search(line[:60])  # a "$" match at the cut starts past 45
    if dash is not None and dash.start() <= 45:
        head = _HEAD.fullmatch(line, 0, dash.start())
        if head is not None and not head.group("note"):
            label = normalise_label(head.group("label"))
            if label_shape_ok(label) and len(label.split()) <= 3:
                return _Candidate(
                    start,
                    start + dash.end(),
                    label,
                    _timestamp(head, "ts0", "ts1"),
                    "dash",
                    line[dash.end() :].strip(),
                )
    bracketed = _BRACKETED.match(line)
    if bracketed is not None:
        label = normalise_label(bracketed.group("label"))
        if label_shape_ok(label):
            return _Candidate(
                start,
                start + bracketed.end(),
                label,
                _timestamp(bracketed, "ts1"),
                "alone",
                line[bracketed.end() :],
            )
    # a label alone on its line
    if len(line.strip()) <= 60:
        alone = _ALONE.fullmatch(line)
        if alone is not None and "." not in alone.group("label"):
            label = normalise_label(alone.group("label"))
            timestamp = _timestamp(alone, "ts0", "ts1")
            if label_shape_ok(label) and (timestamp or not alone.group("open")):
                return _Candidate(start, min(end + 1, len(text)), label, timestamp, "alone")
    return None


def _lines(text: str, start: int = 0, end: int | None = None) -> Iterable[tuple[int, int]]:
    end = len(text) if end is None else end
    pos = start
    while pos < end:
        newline = text.find("\n", pos, end)
        stop = end if newline < 0 else newline
        yield pos, stop
        pos = stop + 1


def _candidates(text: str) -> list[_Candidate]:
    """Every line start that has the shape of a label (not yet judged likely)."""
    found = []
    for start, end in _lines(text):
        candidate = _line_candidate(text, start, end)
        if candidate is not None:
            found.append(candidate)
    return found


def _has_speech_after(text: str, cand: _Candidate, next_start: int) -> bool:
    return bool(text[cand.content_start : next_start].strip())


def _name_like(value: str) -> bool:
    """ "Helena Strand", "Anna S", "AS": 1–4 capitalised words, no sentence punctuation."""
    words = value.split()
    return (
        0 < len(words) <= 4
        and len(value) <= 40
        and not re.search(r"[.?!;\"”]$", value)
        and all(w[0].isupper() for w in words)
    )


def _judge(
    candidates: list[_Candidate],
    text: str,
    interviewer_labels: tuple[str, ...],
    extra_labels: frozenset[str],
    names: Sequence[str],
) -> tuple[list[_Candidate], list[_Candidate]]:
    """``(turn starts, header lines)``: the candidates that are speaker labels in this
    document (see the module docstring), and the leading ``Key: value`` lines that are the
    transcript's header (``Datum: …``, ``Intervjuare: Helena Strand``)."""
    counts = Counter(c.label for c in candidates)
    layouts = Counter(c.layout for c in candidates if c.timestamp)
    strong: set[tuple[str, str]] = set()
    weak: set[tuple[str, str]] = set()
    for cand in candidates:
        label, layout = cand.label, cand.layout
        key = (label, layout)
        first = label.split()[0].casefold()
        known = (
            label in extra_labels
            or is_known_label(label, interviewer_labels)
            or _matches_names(label, names)
        )
        if layout == "alone" and not cand.timestamp and len(label) <= 2 and counts[label] < 2:
            continue  # a lone "I" may be a numbered heading
        if known:
            strong.add(key)
        elif first in SENTENCE_OPENERS and not _is_initials(label):
            continue
        elif layout == "colon":
            if counts[label] >= 2:
                strong.add(key)
            elif _is_title_case(label):
                weak.add(key)
        elif layout == "dash":
            if counts[label] >= 2 and (_is_title_case(label) or _is_initials(label)):
                strong.add(key)
        elif cand.timestamp:  # alone, with a timestamp: Otter, Teams, Word Transcribe
            if counts[label] >= 2 or layouts["alone"] >= 2:
                strong.add(key) if counts[label] >= 2 else weak.add(key)
        elif (
            counts[label] >= 2
            and len(label.split()) <= 3
            and (_is_title_case(label) or label.isupper())
        ):
            strong.add(key)
    # header lines: "Key: value" lines before the first turn that are not speech
    header: list[_Candidate] = []
    for cand in candidates:
        key_word = cand.label.casefold()
        if cand.layout != "colon" or not cand.rest:
            break
        # "Intervjuare: Helena Strand" names a person in the header; "I: Hej Anna" is speech
        if (
            key_word in HEADER_KEYS
            or key_word.split()[0] in HEADER_KEYS
            or (
                len(cand.label) >= 5
                and is_known_label(cand.label, interviewer_labels)
                and _name_like(cand.rest)
            )
        ):
            header.append(cand)
            continue
        break
    in_header = {c.line_start for c in header}
    starts: list[_Candidate] = []
    seen_strong = False
    accepted = [c for c in candidates if c.line_start not in in_header]
    if not any((c.label, c.layout) in strong for c in accepted):
        weak_ones = [c for c in accepted if (c.label, c.layout) in weak]
        return (weak_ones if len({c.label for c in weak_ones}) >= 2 else []), header
    for index, cand in enumerate(accepted):
        key = (cand.label, cand.layout)
        if key in strong:
            seen_strong = True
        elif not (key in weak and seen_strong):
            continue
        if cand.layout == "alone":
            following = accepted[index + 1].line_start if index + 1 < len(accepted) else len(text)
            if not _has_speech_after(text, cand, following):
                continue
        starts.append(cand)
    return starts, header


def _make_turn(
    text: str, start: int, end: int, speaker: str, is_interviewer: bool, timestamp: str | None
) -> Turn | None:
    start, end = strip_span(text, start, end)
    if timestamp is None:
        match = _LEADING_TIMESTAMP.match(text, start, end)
        if match is not None:
            timestamp = match.group("ts")
            start, end = strip_span(text, match.end(), end)
    if start >= end:
        return None
    metadata = {"timestamp": timestamp} if timestamp else {}
    return Turn(start, end, speaker, is_interviewer, frozen_mapping(metadata))


def _trailing_timestamp(text: str, start: int, end: int) -> tuple[int, str | None]:
    """If the region ends with a line holding only a timestamp, it belongs to the next turn:
    return the region's new end and that timestamp."""
    stop = end
    while stop > start and text[stop - 1].isspace():
        stop -= 1
    line_start = text.rfind("\n", start, stop) + 1
    if line_start <= start:
        return end, None
    match = _TIMESTAMP_ONLY_LINE.match(text, line_start, stop)
    if match is None or match.end() != stop:
        return end, None
    return line_start, match.group("ts")


# -- unlabelled text -----------------------------------------------------------------------------


def _paragraphs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    pos = start
    while pos < end:
        gap = _BLANK_LINES.search(text, pos, end)
        stop = gap.start() if gap else end
        piece = strip_span(text, pos, stop)
        if piece[0] < piece[1]:
            spans.append(piece)
        pos = gap.end() if gap else end
    return spans


def is_question(said: str) -> bool:
    """Speech that asks: ends with a question mark (before closing quotes or brackets), or
    opens with a request such as "Berätta om …"."""
    said = said.strip().rstrip("\"'”’)]»… ").strip()
    if said.endswith("?"):
        return True
    return said.casefold().startswith(_PROMPT_OPENERS)


def _is_heading(line: str) -> bool:
    """A title line: Markdown heading, "Intervju med …"/"Transkription …", or a short line
    without sentence punctuation at its end."""
    line = line.strip()
    lower = line.casefold()
    if line.startswith("#") or lower.startswith(
        ("intervju", "transkri", "transcript", "interview")
    ):
        return True
    words = line.split()
    return 0 < len(words) <= 10 and not re.search(r"[.?!…,;:\"”]$", line) and line[0].isupper()


def _utterance_lines(text: str, start: int, end: int) -> list[tuple[int, int]] | None:
    """The lines of a paragraph when they are separate utterances (questions and answers
    typed one per line) rather than one paragraph wrapped at a fixed width."""
    lines = [strip_span(text, s, e) for s, e in _lines(text, start, end)]
    lines = [(s, e) for s, e in lines if s < e]
    if len(lines) < 3:
        return None
    questions = sum(is_question(text[s:e]) for s, e in lines)
    ended = sum(bool(re.search(r"[.?!…\"”]$", text[s:e])) for s, e in lines)
    if questions >= 2 and ended >= 0.7 * len(lines):
        return lines
    return None


def _unlabelled(
    text: str, start: int, end: int, leading: bool
) -> tuple[list[Turn], tuple[int, int] | None]:
    """Unlabelled text: respondent turns per paragraph (or per line, see
    :func:`_utterance_lines`); with ``leading``, heading lines at the top are the preamble."""
    units: list[tuple[int, int]] = []
    for p_start, p_end in _paragraphs(text, start, end):
        units.extend(_utterance_lines(text, p_start, p_end) or [(p_start, p_end)])
    preamble = None
    if leading:
        head = 0
        while head < len(units) - 1:
            u_start, u_end = units[head]
            piece = text[u_start:u_end]
            if not all(_is_heading(line) or _is_header_line(line) for line in piece.split("\n")):
                break
            head += 1
        if head:
            preamble = (units[0][0], units[head - 1][1])
            units = units[head:]
    turns = [
        t
        for t in (_make_turn(text, s, e, DEFAULT_SPEAKER, False, None) for s, e in units)
        if t is not None
    ]
    return turns, preamble


def _is_header_line(line: str) -> bool:
    key, colon, value = line.partition(":")
    return bool(colon) and key.strip().casefold() in HEADER_KEYS and bool(value.strip())


def read_turns(
    text: str,
    interviewer_labels: Iterable[str] = DEFAULT_INTERVIEWER_LABELS,
    extra_labels: Iterable[str] = (),
    names: Sequence[str] = (),
) -> TurnReading:
    """Split ``text`` into speaker turns and a preamble (see the module docstring);
    ``text[turn.start:turn.end]`` is exactly what was said. ``extra_labels`` are labels known
    from elsewhere (bold runs in a .docx) and ``names`` the interviewer's names from the
    metadata; both are always accepted as labels. Interviewer flags are set by
    :func:`settle_interviewer`, which the readers call afterwards.
    """
    interviewer_labels = tuple(interviewer_labels)
    starts, header = _judge(
        _candidates(text),
        text,
        interviewer_labels,
        frozenset(normalise_label(x) for x in extra_labels),
        names,
    )
    header_names = tuple(
        c.rest
        for c in header
        if is_interviewer_label(c.label, interviewer_labels)
        or c.label.casefold() in ("intervjuare", "interviewer")
    )
    if not starts:
        unlabelled, preamble = _unlabelled(text, 0, len(text), leading=True)
        return TurnReading(tuple(unlabelled), preamble, header_names, labelled=False)
    turns: list[Turn] = []
    first_end, carried = _trailing_timestamp(text, 0, starts[0].line_start)
    preamble = None
    before = strip_span(text, 0, first_end)
    if before[0] < before[1]:
        if len(_WORD.findall(text[before[0] : before[1]])) <= MAX_PREAMBLE_WORDS:
            preamble = before
        else:
            turns.extend(_unlabelled(text, 0, first_end, leading=True)[0])
    for i, cand in enumerate(starts):
        region_end = starts[i + 1].line_start if i + 1 < len(starts) else len(text)
        end, next_ts = (
            _trailing_timestamp(text, cand.content_start, region_end)
            if i + 1 < len(starts)
            else (region_end, None)
        )
        turn = _make_turn(
            text,
            cand.content_start,
            end,
            cand.label,
            is_interviewer_label(cand.label, interviewer_labels),
            cand.timestamp or carried,
        )
        if turn is not None:
            turns.append(turn)
        carried = next_ts
    return TurnReading(tuple(turns), preamble, header_names)


def parse_turns(
    text: str,
    interviewer_labels: Iterable[str] = DEFAULT_INTERVIEWER_LABELS,
    extra_labels: Iterable[str] = (),
    names: Sequence[str] = (),
) -> tuple[Turn, ...]:
    """The turns of ``text`` with the interviewer settled (see :func:`read_turns` and
    :func:`settle_interviewer`); the preamble is left out.

    >>> [(t.speaker, t.is_interviewer) for t in parse_turns("I: Hur då?\\nR: Så här.")]
    [('I', True), ('R', False)]
    """
    interviewer_labels = tuple(interviewer_labels)
    reading = read_turns(text, interviewer_labels, extra_labels, names)
    return settle_interviewer(
        text, reading.turns, interviewer_labels, tuple(names) + reading.header_interviewers
    ).turns


# -- who is the interviewer ----------------------------------------------------------------------


@dataclass(frozen=True)
class Interviewer:
    """The turns with interviewer flags set, the speakers taken as the interviewer, and why:
    ``"front matter"`` (the metadata names them), ``"label"``, ``"guess"`` or None."""

    turns: tuple[Turn, ...]
    speakers: tuple[str, ...] = ()
    reason: str | None = None


def split_names(value: object) -> tuple[str, ...]:
    """``"Helena Strand, Per Ek"`` / ``"Helena Strand och Per Ek"`` -> the names."""
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(n for item in value for n in split_names(item))
    parts = re.split(r"\s*(?:[,;/&+]|\boch\b|\band\b)\s*", str(value))
    return tuple(p.strip() for p in parts if p.strip())


def _matches_names(label: str, names: Sequence[str]) -> bool:
    """Does a speaker label name one of ``names``: the full name, the first name, the last
    name, the first name and an initial ("Helena S"), or the initials ("HS", "H.S.")?"""
    if not names:
        return False
    wanted = _label_base(label).replace(".", "").strip()
    if not wanted:
        return False
    for name in names:
        words = [w for w in re.split(r"[\s.]+", name.casefold()) if w]
        if not words:
            continue
        forms = {" ".join(words), words[0], words[-1]}
        if len(words) >= 2:
            forms.add(f"{words[0]} {words[-1][0]}")
            forms.add("".join(w[0] for w in words))
            forms.add(" ".join(w[0] for w in words))
        if wanted in forms or wanted.replace(" ", "") in forms:
            return True
    return False


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def _guess_speaker(
    text: str, turns: Sequence[Turn], interviewer_labels: tuple[str, ...]
) -> str | None:
    """The speaker whose turns are mostly questions and shorter than the others', if one
    stands out clearly; known respondent labels never qualify."""
    by_speaker: dict[str, list[str]] = {}
    for turn in turns:
        by_speaker.setdefault(turn.speaker, []).append(text[turn.start : turn.end])
    if len(by_speaker) < 2:
        return None
    share = {s: sum(map(is_question, said)) / len(said) for s, said in by_speaker.items()}
    candidates = [
        s
        for s in by_speaker
        if not is_respondent_label(s) and s != DEFAULT_SPEAKER and len(by_speaker[s]) >= 2
    ]
    if not candidates:
        return None
    best = max(candidates, key=lambda s: (share[s], -statistics.median(map(_words, by_speaker[s]))))
    others = [s for s in by_speaker if s != best]
    other_words = [_words(x) for s in others for x in by_speaker[s]]
    if (
        share[best] < 0.5
        or any(share[s] > share[best] - 0.25 for s in others)
        or statistics.median(map(_words, by_speaker[best])) > statistics.median(other_words)
    ):
        return None
    return best


def _guess_unlabelled(text: str, turns: Sequence[Turn]) -> set[int]:
    """Indexes of unlabelled turns that are the interviewer's: short questions, each answered
    by a turn that is not one, making up a fair share (20–70 %) of the turns."""
    if len(turns) < 4:
        return set()
    asked = [
        is_question(text[t.start : t.end]) and _words(text[t.start : t.end]) <= 40 for t in turns
    ]
    picked = {i for i, q in enumerate(asked) if q}
    if len(picked) < 2 or not 0.2 <= len(picked) / len(turns) <= 0.7:
        return set()
    answered = sum(1 for i in picked if i + 1 < len(turns) and not asked[i + 1])
    return picked if answered >= 0.7 * len(picked) else set()


def settle_interviewer(
    text: str,
    turns: Sequence[Turn],
    interviewer_labels: Iterable[str] = DEFAULT_INTERVIEWER_LABELS,
    names: Sequence[str] = (),
) -> Interviewer:
    """Decide which turns are the interviewer's (see the module docstring) and set
    ``is_interviewer`` on every turn accordingly.

    >>> found = settle_interviewer("Helena: Hur?\\nMaria: Så.", parse_turns(
    ...     "Helena: Hur?\\nMaria: Så."), names=["Helena Strand"])
    >>> found.speakers, found.reason
    (('Helena',), 'front matter')
    """
    interviewer_labels = tuple(interviewer_labels)
    turns = tuple(turns)
    speakers = list(dict.fromkeys(t.speaker for t in turns))
    if speakers == [DEFAULT_SPEAKER]:
        picked = _guess_unlabelled(text, turns)
        if not picked:
            return Interviewer(tuple(replace(t, is_interviewer=False) for t in turns))
        return Interviewer(
            tuple(
                replace(t, speaker=GUESSED_INTERVIEWER, is_interviewer=True)
                if i in picked
                else replace(t, is_interviewer=False)
                for i, t in enumerate(turns)
            ),
            (GUESSED_INTERVIEWER,),
            "guess",
        )
    chosen = {s for s in speakers if _matches_names(s, names) and not is_respondent_label(s)}
    reason = "front matter" if chosen else None
    labelled = {s for s in speakers if is_interviewer_label(s, interviewer_labels)}
    if labelled:
        reason = reason or "label"
        chosen |= labelled
    if not chosen:
        guess = _guess_speaker(text, turns, interviewer_labels)
        if guess is not None:
            chosen, reason = {guess}, "guess"
    return Interviewer(
        tuple(replace(t, is_interviewer=t.speaker in chosen) for t in turns),
        tuple(s for s in speakers if s in chosen),
        reason,
    )
