"""Speaker turns in plain text: ``LABEL:`` at a line start opens a turn.

Telling a speaker label from an ordinary sentence that happens to contain a colon is the hard
part ("Det var så här: vi ringde" is speech, "Anna Svensson: vi ringde" is a label). A
candidate label must have the shape of one (1–4 words, starts with a letter, no sentence
punctuation, at most 40 characters, colon followed by white space) and then also be *likely*
a label in this document:

* it is an interviewer label from the config (or "Fråga"), or a common respondent label
  (R, IP, Respondent, Informant, Svar, …), possibly numbered ("IP2", "Respondent 3"); or
* its first word is not a common Swedish sentence opener ("det", "jag", "ja", …; initials
  like "I" or "AS" are exempt) and either
  it is Title Case (every word capitalised, like a name or a role: "Anna Svensson",
  "Polis 1") and comes after another sure label, or it opens at least two lines.

Text with no accepted label at all is read paragraph by paragraph, each paragraph a turn of
speaker ``respondent``. Timestamps like ``[00:12:34]`` or ``(12:34)`` before or after a label
(or a bare ``00:12:34`` before one) become the turn's ``timestamp`` metadata, as written, and are
left out of its span.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

from ..models import Turn, frozen_mapping, strip_span
from .common import IngestConfig

#: speaker of text that carries no label.
DEFAULT_SPEAKER = "respondent"
DEFAULT_INTERVIEWER_LABELS = IngestConfig().interviewer_labels

MAX_LABEL_CHARS = 40
MAX_LABEL_WORDS = 4

_TIMESTAMP = r"[\[(][ \t]*(?P<{name}>(?:\d{{1,2}}:)?\d{{1,2}}:\d{{2}}(?:[.,]\d{{1,3}})?)[ \t]*[\])]"
# A bare "00:12:34" (or "1:02:03.5") counts only before a label: "00:12:34 IP: …".
_BARE_TIMESTAMP = r"(?P<ts0>(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?)[ \t]+(?:-[ \t]+)?"
# A line start: optional indent, optional timestamp, optional markdown bold, the label, the
# colon (inside or outside the bold), white space or end of line after it. The label part is
# bounded and cannot cross a colon, so matching stays linear on huge single-line files.
_LABEL_LINE = re.compile(
    r"[ \t]*(?:" + _TIMESTAMP.format(name="ts1") + r"[ \t]*|" + _BARE_TIMESTAMP + r")?"
    r"(?P<bold>\*\*)?(?P<label>[^\W\d_][^:\n*]{0,90}?)[ \t]*"
    r"(?(bold)(?::\*\*|\*\*[ \t]*:)|:)"
    r"(?=[ \t]|\n|$)[ \t]*"
    r"(?:" + _TIMESTAMP.format(name="ts2") + r")?"
)
_LEADING_TIMESTAMP = re.compile(r"[ \t]*" + _TIMESTAMP.format(name="ts") + r"(?=\s|$)")
_TIMESTAMP_ONLY_LINE = re.compile(r"[ \t]*" + _TIMESTAMP.format(name="ts") + r"[ \t]*(?=\n|$)")
_LABEL_SHAPE = re.compile(r"[^\W\d_][\w'’/&\- ]*")
# an optional note after the label: "Respondent 2 (kvinna, 45 år)"
_LABEL_NOTE = re.compile(r"(?P<base>.*?)[ \t]*\((?P<note>[^()\n]{1,40})\)")
_BLANK_LINES = re.compile(r"\n[^\S\n]*\n\s*")

#: labels that mean "the interviewee" in Swedish and English transcripts (case-insensitive,
#: optionally followed by a number).
RESPONDENT_LABELS = frozenset({
    "r", "ip", "resp", "respondent", "informant", "intervjuperson", "deltagare", "svarande",
    "interviewee", "participant", "d", "p", "b", "s", "svar", "answer",
})

#: labels that always mean the interviewer, whatever the configured labels: the question
#: side of a "Fråga:/Svar:" transcript.
IMPLICIT_INTERVIEWER_LABELS = frozenset({"fråga", "question", "frågeställare", "moderator"})

#: Swedish (and a few English) words that open sentences; a "Label:" starting with one of
#: these is speech ("Det var så här: …"), not a speaker, unless it is a known label.
SENTENCE_OPENERS = frozenset("""
alltså annars att bara de dem den denna dessa det detta dom du då där därför eftersom eller
en enligt ett fast faktiskt för först han hela hon här i jag ja javisst jo just kanske man med
men mitt min mina när nej nja nu och också okej om precis på sedan sen sist slutligen som så
till tja ungefär ut vad var vem vi vilken visst än även ändå the and but so yes no well this
that it we they i'm you
""".split())


@dataclass(frozen=True)
class _Candidate:
    line_start: int
    content_start: int  # after label, colon and any timestamp
    label: str
    timestamp: str | None


def normalise_label(label: str) -> str:
    """A label as stored as the speaker: inner white space collapsed."""
    return " ".join(label.split())


def _label_base(label: str) -> str:
    """The label without a trailing note in parentheses, case-folded."""
    match = _LABEL_NOTE.fullmatch(label)
    return (match.group("base") if match else label).casefold().strip()


def is_interviewer_label(label: str, interviewer_labels: Iterable[str]) -> bool:
    """True when ``label`` names the interviewer: a configured label or one of
    :data:`IMPLICIT_INTERVIEWER_LABELS`, ignoring case, a trailing number or a note in
    parentheses ("I2", "Intervjuare (AS)"), also with a Swedish definite ending
    ("Intervjuaren") or followed by a name ("Intervjuare Anna", for labels of 3+ letters)."""
    wanted = {lab.casefold().strip() for lab in interviewer_labels} | IMPLICIT_INTERVIEWER_LABELS
    base = _label_base(label)
    bare = base.rstrip("0123456789 ").strip() or base
    if base in wanted or bare in wanted:
        return True
    first = base.split(" ", 1)[0]
    if len(base.split()) > 1 and len(first) >= 3 and first in wanted:
        return True
    return any(len(w) >= 5 and first.startswith(w) and first[len(w):] in ("n", "en", "s")
               for w in wanted)


def label_shape_ok(label: str) -> bool:
    """The shape rule: 1–4 words, starts with a letter, ≤ 40 characters, no sentence
    punctuation (comma, period, ?, !, ;, quotes); a note in parentheses may follow."""
    label = normalise_label(label)
    match = _LABEL_NOTE.fullmatch(label)
    base = match.group("base") if match else label
    return (0 < len(base) <= MAX_LABEL_CHARS
            and len(base.split()) <= MAX_LABEL_WORDS
            and _LABEL_SHAPE.fullmatch(base) is not None)


def is_known_label(label: str, interviewer_labels: Iterable[str]) -> bool:
    """An interviewer label or one of :data:`RESPONDENT_LABELS` (possibly numbered)."""
    base = _label_base(label)
    bare = base.rstrip("0123456789 ").strip()
    return (is_interviewer_label(label, interviewer_labels)
            or base in RESPONDENT_LABELS or bare in RESPONDENT_LABELS)


def _is_initials(label: str) -> bool:
    """"I", "AS", "IP2": capitals (and digits) only, which no sentence starts with."""
    return len(label) <= 4 and " " not in label and label.isupper()


def _is_title_case(label: str) -> bool:
    base = _LABEL_NOTE.fullmatch(label)
    words = (base.group("base") if base else label).split()
    return bool(words) and all(word[0].isupper() or word[0].isdigit() for word in words)


def _candidates(text: str) -> list[_Candidate]:
    """Every line start that has the shape of ``LABEL:`` (not yet judged likely)."""
    found: list[_Candidate] = []
    pos = 0
    size = len(text)
    while pos <= size:
        match = _LABEL_LINE.match(text, pos)
        if match is not None:
            label = normalise_label(match.group("label"))
            if label_shape_ok(label):
                found.append(_Candidate(pos, match.end(), label,
                                        match.group("ts0") or match.group("ts1")
                                        or match.group("ts2")))
        newline = text.find("\n", pos)
        if newline < 0:
            break
        pos = newline + 1
    return found


def _label_starts(candidates: list[_Candidate], interviewer_labels: tuple[str, ...],
                  extra_labels: frozenset[str]) -> list[_Candidate]:
    """The candidates that are speaker labels in this document (see module docstring).

    One-off Title Case labels before the first sure label are header lines of the
    transcript ("Datum: 2010-02-03", "Plats: kommunhuset"), not speakers.
    """
    counts = Counter(c.label for c in candidates)
    strong = set()
    weak = set()
    for label, count in counts.items():
        first = label.split()[0].casefold()
        if label in extra_labels or is_known_label(label, interviewer_labels):
            strong.add(label)
        elif first in SENTENCE_OPENERS and not _is_initials(label):
            continue
        elif count >= 2:
            strong.add(label)
        elif _is_title_case(label):
            weak.add(label)
    if strong:
        first_strong = next(i for i, c in enumerate(candidates) if c.label in strong)
        return [c for i, c in enumerate(candidates)
                if c.label in strong or (c.label in weak and i > first_strong)]
    return [c for c in candidates if c.label in weak] if len(weak) >= 2 else []


def _paragraph_turns(text: str, start: int, end: int) -> list[Turn]:
    """Unlabelled text: each blank-line separated paragraph is a respondent turn."""
    turns: list[Turn] = []
    pos = start
    while pos < end:
        gap = _BLANK_LINES.search(text, pos, end)
        stop = gap.start() if gap else end
        turn = _make_turn(text, pos, stop, DEFAULT_SPEAKER, False, None)
        if turn is not None:
            turns.append(turn)
        pos = gap.end() if gap else end
    return turns


def _make_turn(text: str, start: int, end: int, speaker: str, is_interviewer: bool,
               timestamp: str | None) -> Turn | None:
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


def parse_turns(text: str, interviewer_labels: Iterable[str] = DEFAULT_INTERVIEWER_LABELS,
                extra_labels: Iterable[str] = ()) -> tuple[Turn, ...]:
    """Split ``text`` into speaker turns; ``text[turn.start:turn.end]`` is exactly what was said.

    ``extra_labels`` are labels known from elsewhere (bold runs in a .docx) that are always
    accepted. Text before the first label is read as unlabelled paragraphs.

    >>> [(t.speaker, t.is_interviewer) for t in parse_turns("I: Hur då?\\nR: Så här.")]
    [('I', True), ('R', False)]
    """
    candidates = _candidates(text)
    interviewer_labels = tuple(interviewer_labels)
    starts = _label_starts(candidates, interviewer_labels,
                           frozenset(normalise_label(x) for x in extra_labels))
    if not starts:
        return tuple(_paragraph_turns(text, 0, len(text)))
    turns: list[Turn] = []
    first_end, carried = _trailing_timestamp(text, 0, starts[0].line_start)
    turns.extend(_paragraph_turns(text, 0, first_end))
    for i, cand in enumerate(starts):
        region_end = starts[i + 1].line_start if i + 1 < len(starts) else len(text)
        end, next_ts = (_trailing_timestamp(text, cand.content_start, region_end)
                        if i + 1 < len(starts) else (region_end, None))
        timestamp = cand.timestamp or carried
        turn = _make_turn(text, cand.content_start, end, cand.label,
                          is_interviewer_label(cand.label, interviewer_labels), timestamp)
        if turn is not None:
            turns.append(turn)
        carried = next_ts
    return tuple(turns)
