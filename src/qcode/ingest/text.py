"""Plain-text and Markdown transcripts (``.txt``, ``.md``) with optional YAML front matter."""
from __future__ import annotations

from pathlib import Path

from ..errors import TranscriptError
from ..models import Document, frozen_mapping
from .common import IngestConfig, decode_text, read_bytes, split_front_matter, split_metadata
from .turns import parse_turns


def read_text(path: Path, config: IngestConfig) -> list[Document]:
    """Read one ``.txt``/``.md`` transcript as a single Document.

    ``Document.text`` is the body after the front matter; turns come from speaker labels
    (see :mod:`qcode.ingest.turns`).
    """
    text, warnings = decode_text(read_bytes(path), path)
    return [parse_text(text, path, config, warnings)]


def parse_text(text: str, path: Path, config: IngestConfig = IngestConfig(),
               warnings: tuple[str, ...] = ()) -> Document:
    """A Document from already decoded, normalised text (front matter, body, turns)."""
    if not text.strip():
        raise TranscriptError("empty file: there is no text to code", path=str(path))
    front = split_front_matter(text, path)
    if not front.body.strip():
        raise TranscriptError("the file has front matter but no text after it", path=str(path),
                              line=front.body_line + 1)
    doc_id, metadata = split_metadata(front.metadata, path.stem, path)
    turns = parse_turns(front.body, config.interviewer_labels)
    return Document(id=doc_id, text=front.body, path=str(path), turns=turns,
                    metadata=frozen_mapping(metadata), warnings=warnings)
