"""Small frozen value objects that flow between the stages: files -> ingest -> segment -> tag -> store.

Offsets are always code points into ``Document.text`` (NFC-normalised, ``\\n`` line ends), so
``document.text[start:end]`` is the exact span of a turn, segment or coding.
"""

from __future__ import annotations

import copyreg
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

#: metadata keys with a fixed meaning; any other key is kept as a case attribute.
KNOWN_METADATA_KEYS = ("id", "title", "organisation", "group", "main_group", "date", "interviewer")


class DocumentKind(StrEnum):
    """What a document is: an interview transcript, or one respondent's row of a survey
    table. Reports keep the kinds apart (a one-line answer is not an interview)."""

    INTERVIEW = "interview"
    SURVEY = "survey"


class CodingSource(StrEnum):
    """Who made a coding, in the order reports list them: ``rule`` (the codebook's patterns),
    ``companion`` (the model shipped beside the codebook, voting with the rules), ``model``
    (the project's own model from ``qcode train``; its coder column names it and its training
    time) and ``human``. Members are strings, so they compare equal to the stored values."""

    RULE = "rule"
    COMPANION = "companion"
    MODEL = "model"
    HUMAN = "human"


class Unit(StrEnum):
    """The coding unit a document is segmented into (``unit:`` in qcode.yaml, ``--unit``)."""

    TURN = "turn"
    PARAGRAPH = "paragraph"
    SENTENCE = "sentence"


DOCUMENT_KINDS: tuple[str, ...] = tuple(DocumentKind)
SOURCES: tuple[str, ...] = tuple(CodingSource)
#: the sources a tag run writes (and replaces on a re-run); everything but ``human``.
AUTOMATIC_SOURCES: tuple[str, ...] = tuple(s for s in CodingSource if s != CodingSource.HUMAN)
UNITS: tuple[str, ...] = tuple(Unit)


def frozen_mapping(data: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """A read-only view of a copy of ``data`` so value objects stay immutable."""
    return MappingProxyType(dict(data or {}))


def strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """``[start, end)`` narrowed so that it has no white space at either end: turns and
    segments keep offsets into the document text but never cover surrounding blanks."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


# Value objects cross process boundaries (`qcode tag --jobs`); a mappingproxy cannot be pickled
# by itself, so pickle it as "frozen_mapping(plain dict)".
def _reduce_mapping(proxy: MappingProxyType[Any, Any]) -> tuple[Any, tuple[dict[Any, Any]]]:
    return frozen_mapping, (dict(proxy),)


copyreg.pickle(MappingProxyType, _reduce_mapping)


@dataclass(frozen=True)
class Turn:
    """One speaker turn: ``text[start:end]`` is what the speaker said (without the label)."""

    start: int
    end: int
    speaker: str
    is_interviewer: bool = False
    metadata: Mapping[str, Any] = field(default_factory=lambda: frozen_mapping({}))


@dataclass(frozen=True)
class Reading:
    """How a transcript was read, for ``qcode inspect`` and warnings: the preamble span
    (title and header lines before the first turn: kept in the text, never a turn), the
    speakers taken as the interviewer and why (``"front matter"``, ``"label"``, ``"guess"`` or
    None when no interviewer was found), and whether the text had speaker labels at all."""

    preamble: tuple[int, int] | None = None
    interviewer: tuple[str, ...] = ()
    reason: str | None = None
    labelled: bool = True


@dataclass(frozen=True)
class Document:
    """An ingested source: normalised text, its turns and its case metadata.

    ``metadata`` holds the known keys (title, organisation, group, main_group, date,
    interviewer) and any other case attribute; ``warnings`` are non-fatal remarks from ingest
    (encoding fallback, metadata conflicts) that the CLI prints to stderr. ``kind`` is
    ``interview`` (a transcript) or ``survey`` (a row of a survey table); ``reading`` says how a
    transcript's speakers were found (see :class:`Reading`).
    """

    id: str
    text: str
    path: str
    turns: tuple[Turn, ...]
    metadata: Mapping[str, Any] = field(default_factory=lambda: frozen_mapping({}))
    warnings: tuple[str, ...] = ()
    kind: str = "interview"
    reading: Reading | None = None  # transcripts only; None for survey rows and imports

    @property
    def title(self) -> str | None:
        return self.metadata.get("title")

    @property
    def group(self) -> str | None:
        return self.metadata.get("group")


@dataclass(frozen=True)
class Segment:
    """A coding unit (turn, paragraph or sentence) of one document, with exact offsets."""

    document_id: str
    index: int
    start: int
    end: int
    speaker: str
    is_interviewer: bool
    text: str
    metadata: Mapping[str, Any] = field(default_factory=lambda: frozen_mapping({}))


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence behind a coding: a matched span and the pattern that fired."""

    start: int
    end: int
    matched: str
    pattern: str
    kind: str  # term | phrase | regex | model

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "matched": self.matched,
            "pattern": self.pattern,
            "kind": self.kind,
        }


@dataclass(frozen=True)
class Coding:
    """A code applied to a span of a document (normally a whole segment)."""

    document_id: str
    segment_index: int | None
    start: int
    end: int
    code_path: str
    source: str  # rule | companion | model | human
    score: float = 1.0
    coder: str | None = None
    evidence: tuple[Evidence, ...] = ()
