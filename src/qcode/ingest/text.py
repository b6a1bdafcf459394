"""Plain-text and Markdown transcripts (``.txt``, ``.md``) with optional YAML front matter,
and :func:`transcript_document`, which every transcript reader (docx, odt, pdf) ends in."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..errors import TranscriptError
from ..models import Document, Reading, frozen_mapping
from .common import (
    IngestConfig,
    decode_text,
    read_bytes,
    replace_control_characters,
    split_front_matter,
    split_metadata,
)
from .turns import read_turns, settle_interviewer, split_names


def read_text(path: Path, config: IngestConfig) -> list[Document]:
    """Read one ``.txt``/``.md`` transcript as a single Document.

    ``Document.text`` is the body after the front matter; turns come from speaker labels
    (see :mod:`qcode.ingest.turns`).
    """
    text, warnings = decode_text(read_bytes(path), path)
    return [parse_text(text, path, config, warnings)]


def parse_text(
    text: str, path: Path, config: IngestConfig = IngestConfig(), warnings: tuple[str, ...] = ()
) -> Document:
    """A Document from already decoded, normalised text (front matter, body, turns)."""
    if not text.strip():
        raise TranscriptError("empty file: there is no text to code", path=str(path))
    front = split_front_matter(text, path)
    if not front.body.strip():
        raise TranscriptError(
            "the file has front matter but no text after it",
            path=str(path),
            line=front.body_line + 1,
        )
    return transcript_document(front.body, path, front.metadata, config, warnings)


def transcript_document(
    text: str,
    path: Path,
    raw_metadata: Mapping[str, Any],
    config: IngestConfig,
    warnings: tuple[str, ...] = (),
    extra_labels: Iterable[str] = (),
) -> Document:
    """A transcript Document from its body text and raw metadata: id and metadata, turns, the
    preamble, and the interviewer settled from the metadata's ``interviewer`` (names), the
    configured labels, or a guess (see :mod:`qcode.ingest.turns`)."""
    text, cleaned = replace_control_characters(text, path)
    warnings = tuple(warnings) + cleaned
    doc_id, metadata = split_metadata(raw_metadata, path.stem, path)
    names = split_names(metadata.get("interviewer"))
    reading = read_turns(text, config.interviewer_labels, extra_labels, names)
    settled = settle_interviewer(
        text, reading.turns, config.interviewer_labels, names + reading.header_interviewers
    )
    return Document(
        id=doc_id,
        text=text,
        path=str(path),
        turns=settled.turns,
        metadata=frozen_mapping(metadata),
        warnings=warnings,
        reading=Reading(reading.preamble, settled.speakers, settled.reason, reading.labelled),
    )
