"""Re-anchoring human codings when a document's text changes.

A human coding is a span of the stored text. When the document is edited (a typo fixed, a
line added, a turn rewritten) the span has to be found again in the new text, or the coding
is marked stale and shown to a person (``qcode stale``) — never silently lost, never moved to
words it was not about. Three steps, the first that succeeds wins:

1. **Edit offsets.** The edit itself is computed (difflib's ``SequenceMatcher`` opcodes,
   line by line, then word by word and character by character inside changed blocks) and
   the span's start and end are carried through it. If the text there is unchanged the
   coding moves by exactly what was inserted or deleted before it — so a one-word span, or
   text that occurs twice in the document, stays on *its* occurrence.
2. **Exact text nearby.** The span's text, found in the same segment neighbourhood (its
   segment and the ones beside it, after the edit); the occurrence nearest the carried
   position wins.
3. **Fuzzy alignment.** The carried span, or failing that the best alignment of the old
   text inside the neighbourhood (rapidfuzz), with a similarity of at least
   :data:`MIN_SIMILARITY` (``fuzz.ratio``/100: 1 − normalised InDel distance). A coding that
   covered a whole segment follows the segment it now falls in when that segment is similar
   enough, so a coded turn whose wording changed a little keeps its turn boundaries.

Anything else becomes stale, with the best candidate found (whatever its similarity) kept
for ``qcode stale --accept``.

>>> edit = TextEdit("Vi ringer. Vi ringer.", "Ja. Vi ringer. Vi ringer.")
>>> edit.carry(11, 21)
(15, 25)
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from .models import strip_span

#: the least similarity (0–1) at which a changed span is taken to be the same passage.
MIN_SIMILARITY = 0.9
#: blocks longer than this (characters, either side) are not compared character by character
#: (SequenceMatcher is quadratic); word-level opcodes are used for them instead.
MAX_CHAR_BLOCK = 4000
#: token lists longer than this are compared with difflib's "autojunk" heuristic (tokens
#: making up over 1 % of the text only extend matches, never start one): without it a long
#: single-line text of common words is quadratic (minutes for 300 kB).
AUTOJUNK_FROM = 2000
#: without segment boundaries, the neighbourhood is the carried span widened by this much.
DEFAULT_REACH = 400

_WORDS = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class Anchor:
    """Where a coding goes in the new text: ``how`` is ``kept`` (same offsets), ``offsets``,
    ``exact``, ``fuzzy`` or ``stale``; for ``stale`` ``start``/``end`` are the best candidate
    (or None) and ``similarity`` its similarity."""

    how: str
    start: int | None
    end: int | None
    similarity: float

    @property
    def moved(self) -> bool:
        return self.how in ("offsets", "exact", "fuzzy")


def _tokens(text: str, level: int) -> list[str]:
    if level == 0:
        return text.splitlines(keepends=True)
    if level == 1:
        return _WORDS.findall(text)
    return list(text)


def _opcodes(
    old: str, new: str, a0: int = 0, b0: int = 0, level: int = 0
) -> list[tuple[str, int, int, int, int]]:
    """Character-offset opcodes turning ``old`` into ``new`` (offsets shifted by a0/b0),
    refined line -> word -> character inside blocks that changed."""
    old_tokens, new_tokens = _tokens(old, level), _tokens(new, level)
    old_at = [0]
    for token in old_tokens:
        old_at.append(old_at[-1] + len(token))
    new_at = [0]
    for token in new_tokens:
        new_at.append(new_at[-1] + len(token))
    out: list[tuple[str, int, int, int, int]] = []
    autojunk = max(len(old_tokens), len(new_tokens)) > AUTOJUNK_FROM
    matcher = SequenceMatcher(None, old_tokens, new_tokens, autojunk=autojunk)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        s0, s1, t0, t1 = old_at[i1], old_at[i2], new_at[j1], new_at[j2]
        if (
            tag == "replace"
            and level < 2
            and (level == 0 or max(s1 - s0, t1 - t0) <= MAX_CHAR_BLOCK)
        ):
            out.extend(_opcodes(old[s0:s1], new[t0:t1], a0 + s0, b0 + t0, level + 1))
        else:
            out.append((tag, a0 + s0, a0 + s1, b0 + t0, b0 + t1))
    return out


class TextEdit:
    """The edit from ``old`` to ``new`` as opcodes, and positions carried through it."""

    def __init__(self, old: str, new: str):
        self.old = old
        self.new = new
        # the common start and end are cut off first (linear): most edits are local, and
        # only the part between them needs the (slower) diff
        prefix = 0
        limit = min(len(old), len(new))
        while prefix < limit and old[prefix] == new[prefix]:
            prefix += 1
        suffix = 0
        while suffix < limit - prefix and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]:
            suffix += 1
        # back to a line start, so the line-level diff sees whole lines
        prefix = old.rfind("\n", 0, prefix) + 1
        blocks = [("equal", 0, prefix, 0, prefix)] if prefix else []
        blocks += _opcodes(
            old[prefix : len(old) - suffix], new[prefix : len(new) - suffix], prefix, prefix
        )
        if suffix:
            blocks.append(("equal", len(old) - suffix, len(old), len(new) - suffix, len(new)))
        self.blocks = [b for b in blocks if b[1] < b[2]]  # inserts own no old text
        self._starts = [b[1] for b in self.blocks]

    def _block(self, position: int) -> tuple[str, int, int, int, int] | None:
        i = bisect_right(self._starts, position) - 1
        return self.blocks[i] if i >= 0 and position < self.blocks[i][2] else None

    def carry_start(self, position: int) -> int:
        """Where old ``position`` (the first character of a span) is in the new text; a
        character that was replaced or deleted carries to the start of what replaced it."""
        block = self._block(position)
        if block is None:
            return len(self.new)
        tag, a0, _a1, b0, _b1 = block
        return b0 + (position - a0) if tag == "equal" else b0

    def carry_end(self, position: int) -> int:
        """Where old ``position`` (a span's exclusive end) is in the new text; text inserted
        right after the span stays outside it."""
        if position <= 0:
            return 0
        block = self._block(position - 1)
        if block is None:
            return len(self.new)
        tag, a0, _a1, b0, b1 = block
        return b0 + (position - a0) if tag == "equal" else b1

    def carry(self, start: int, end: int) -> tuple[int, int]:
        new_start, new_end = self.carry_start(start), self.carry_end(end)
        return new_start, max(new_start, new_end)


def similarity(a: str, b: str) -> float:
    """0–1: how alike two spans are (rapidfuzz ``ratio``: 1 − normalised InDel distance)."""
    from rapidfuzz import fuzz

    return fuzz.ratio(a, b) / 100.0


def reanchor(
    edit: TextEdit,
    start: int,
    end: int,
    neighbourhood: tuple[int, int] | None = None,
    segments: Sequence[tuple[int, int]] = (),
    whole_segment: bool = False,
) -> Anchor:
    """Find the span ``old[start:end]`` in the new text (see the module docstring).

    ``neighbourhood`` is the range of the new text the span may move within (its old segment
    and the ones beside it, carried through the edit); ``segments`` are the new segments'
    (start, end), used when ``whole_segment`` says the coding covered its whole segment.
    """
    old, new = edit.old, edit.new
    span = old[start:end]
    new_start, new_end = edit.carry(start, end)
    if new[new_start:new_end] == span:
        how = "kept" if (new_start, new_end) == (start, end) else "offsets"
        return Anchor(how, new_start, new_end, 1.0)
    if neighbourhood is None:
        neighbourhood = (max(0, new_start - DEFAULT_REACH), min(len(new), new_end + DEFAULT_REACH))
    low, high = neighbourhood
    low, high = min(low, new_start), max(high, new_end)
    if span.strip():
        found = _nearest(new, span, low, high, new_start)
        if found is not None:
            return Anchor("exact", found, found + len(span), 1.0)
    candidates: list[tuple[float, int, int]] = []
    if whole_segment and segments:  # a coded turn stays a coded turn: only whole segments
        for s, e in segments:
            if s < max(new_end, new_start + 1) and new_start < e:
                candidates.append((similarity(span, new[s:e]), s, e))
    if not candidates and new_end > new_start:
        candidates.append((similarity(span, new[new_start:new_end]), new_start, new_end))
    if span.strip() and high > low and not (whole_segment and candidates):
        from rapidfuzz import fuzz

        aligned = fuzz.partial_ratio_alignment(span, new[low:high])
        if aligned is not None and aligned.dest_end > aligned.dest_start:
            s, e = strip_span(new, low + aligned.dest_start, low + aligned.dest_end)
            if e > s:
                candidates.append((similarity(span, new[s:e]), s, e))
    if not candidates:
        return Anchor("stale", None, None, 0.0)
    best = max(candidates, key=lambda c: (c[0], -abs(c[1] - new_start)))
    score, s, e = best
    return Anchor("fuzzy" if score >= MIN_SIMILARITY else "stale", s, e, round(score, 3))


def _nearest(text: str, span: str, low: int, high: int, near: int) -> int | None:
    """The start of the occurrence of ``span`` inside ``text[low:high]`` nearest ``near``."""
    best = None
    at = text.find(span, low, high)
    while at >= 0:
        if best is None or abs(at - near) < abs(best - near):
            best = at
        at = text.find(span, at + 1, high)
    return best


def best_candidate(text: str, span: str) -> tuple[int, int, float] | None:
    """The passage of ``text`` most like ``span`` anywhere in it: (start, end, similarity),
    None for an empty text or span. Used when a stale coding's document changed again."""
    from rapidfuzz import fuzz

    if not span.strip() or not text:
        return None
    exact = text.find(span)
    if exact >= 0:
        return exact, exact + len(span), 1.0
    aligned = fuzz.partial_ratio_alignment(span, text)
    if aligned is None or aligned.dest_end <= aligned.dest_start:
        return None
    s, e = aligned.dest_start, aligned.dest_end
    return s, e, round(similarity(span, text[s:e]), 3)
