"""Segmentation: a document's turns -> coding units with exact offsets.

Units: ``turn`` (one segment per turn), ``paragraph`` (a turn split at blank lines) and
``sentence`` (each paragraph split by spaCy's rule-based sentencizer on a blank Swedish
pipeline: no model, nothing downloaded). Segment ``index`` counts all segments of the document
from 0, interviewer turns included. Segment text is stripped, empty segments are dropped, and
``doc.text[s.start:s.end] == s.text`` always holds. Turn metadata (timestamp, cue times) is
copied onto every segment of the turn.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from .errors import ConfigError
from .models import UNITS, Document, Segment, frozen_mapping, strip_span

_BLANK_LINES = re.compile(r"\n[^\S\n]*\n")
#: spaCy refuses texts over ``nlp.max_length``; long paragraphs are fed in pieces this size,
#: cut at white space, which also keeps the tokenizer's memory in check.
_CHUNK = 100_000


@lru_cache(maxsize=1)
def sentence_pipeline() -> Any:
    """The cached ``spacy.blank("sv")`` + ``sentencizer`` pipeline (built once per process)."""
    import spacy

    nlp = spacy.blank("sv")
    nlp.add_pipe("sentencizer")
    return nlp


def _paragraphs(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Non-empty, stripped ``(start, end)`` pieces of ``text[start:end]`` between blank lines."""
    pos = start
    for gap in _BLANK_LINES.finditer(text, start, end):
        piece = strip_span(text, pos, gap.start())
        if piece[0] < piece[1]:
            yield piece
        pos = gap.end()
    piece = strip_span(text, pos, end)
    if piece[0] < piece[1]:
        yield piece


def _chunks(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """``[start, end)`` cut into pieces of at most :data:`_CHUNK` characters: after a sentence
    end (". ", "? ", "! ", a line break) in the second half of the piece if there is one, else
    at a space, else anywhere."""
    while end - start > _CHUNK:
        cut = start + _CHUNK
        half = start + _CHUNK // 2
        boundary = max(text.rfind(mark, half, cut) for mark in (". ", "? ", "! ", "\n"))
        if boundary < 0:
            boundary = text.rfind(" ", half, cut)
        if boundary > start:
            cut = boundary + 1
        yield start, cut
        start = cut
    yield start, end


def _sentences(text: str, pieces: list[tuple[int, int, int]]) -> Iterator[tuple[int, int, int]]:
    """Sentences of ``(turn number, start, end)`` pieces, in order, from one ``nlp.pipe`` run
    over the whole document (one pipeline call per document, not per paragraph)."""
    chunks = [
        (owner, c_start, c_end)
        for owner, start, end in pieces
        for c_start, c_end in _chunks(text, start, end)
    ]
    nlp = sentence_pipeline()
    for (owner, start, _end), doc in zip(chunks, nlp.pipe(text[s:e] for _o, s, e in chunks)):
        for sent in doc.sents:
            piece = strip_span(text, start + sent.start_char, start + sent.end_char)
            if piece[0] < piece[1]:
                yield owner, piece[0], piece[1]


def _spans(doc: Document, unit: str) -> Iterator[tuple[int, int, int]]:
    """``(turn number, start, end)`` of every segment, in document order."""
    text = doc.text
    if unit == "turn":
        for number, turn in enumerate(doc.turns):
            start, end = strip_span(text, turn.start, turn.end)
            if start < end:
                yield number, start, end
        return
    paragraphs = [
        (number, start, end)
        for number, turn in enumerate(doc.turns)
        for start, end in _paragraphs(text, turn.start, turn.end)
    ]
    if unit == "paragraph":
        yield from paragraphs
    else:
        yield from _sentences(text, paragraphs)


def segment_document(doc: Document, unit: str = "turn") -> list[Segment]:
    """Split ``doc`` into segments of ``unit`` (``turn``, ``paragraph`` or ``sentence``).

    >>> from qcode.ingest.text import parse_text
    >>> from pathlib import Path
    >>> doc = parse_text("I: Hur?\\nR: Bra. Mycket bra.", Path("x.txt"))
    >>> [s.text for s in segment_document(doc, "sentence")]
    ['Hur?', 'Bra.', 'Mycket bra.']
    """
    if unit not in UNITS:
        raise ConfigError(f"unknown coding unit {unit!r}; use one of {', '.join(UNITS)}")
    segments: list[Segment] = []
    for number, start, end in _spans(doc, unit):
        turn = doc.turns[number]
        segments.append(
            Segment(
                doc.id,
                len(segments),
                start,
                end,
                turn.speaker,
                turn.is_interviewer,
                doc.text[start:end],
                frozen_mapping(turn.metadata),
            )
        )
    return segments
