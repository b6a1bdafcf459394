"""Word transcripts (``.docx``) via python-docx.

Each non-empty paragraph becomes a paragraph of ``Document.text`` (paragraphs are separated by
a blank line, so the ``paragraph`` unit follows Word's paragraphs). A speaker label is either
plain ``LABEL:`` text or a bold run at the start of a paragraph (``**Intervjuare**: …`` or
``**Intervjuare:** …``); bold labels are written into the text as ``LABEL: `` so the stored
text reads like a plain transcript. Tables are read row by row. A document may start with
YAML front matter typed as paragraphs between two ``---`` paragraphs.
"""
from __future__ import annotations

import io
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from ..errors import TranscriptError
from ..models import Document, frozen_mapping
from .common import IngestConfig, normalise_text, parse_front_matter, read_bytes, split_metadata
from .turns import (SENTENCE_OPENERS, is_known_label, label_shape_ok, normalise_label,
                    parse_turns)


@dataclass(frozen=True)
class _Block:
    """One paragraph of output text; ``label`` is a bold label found in its runs."""

    text: str
    label: str | None = None
    has_colon: bool = False


def _open(path: Path) -> Any:
    import docx  # python-docx; imported lazily so plain-text ingest stays light

    data = read_bytes(path)
    if not data:
        raise TranscriptError("empty file: 0 bytes", path=str(path))
    try:
        return docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise TranscriptError(
            "not a readable Word .docx file (an old .doc or a damaged file? open it in Word "
            f"and save as .docx): {error}", path=str(path)) from None
    except Exception as error:  # python-docx raises its own PackageNotFoundError and lxml errors
        if type(error).__name__ in ("PackageNotFoundError", "XMLSyntaxError",
                                    "InvalidXmlError"):
            raise TranscriptError(f"not a readable Word .docx file: {error}",
                                  path=str(path)) from None
        raise


def _is_bold(run: Any) -> bool:
    if run.bold:
        return True
    style = getattr(run, "style", None)
    return bool(style is not None and style.font is not None and style.font.bold)


def _paragraph_block(paragraph: Any) -> _Block | None:
    full = normalise_text(paragraph.text)
    if not full.strip():
        return None
    prefix = ""
    for item in paragraph.iter_inner_content():
        text = getattr(item, "text", "")
        if not text:
            continue
        if not hasattr(item, "bold") or not _is_bold(item):
            break
        prefix += normalise_text(text)
    candidate = prefix.strip()
    if not candidate or not full.startswith(prefix):
        return _Block(full)
    rest = full[len(prefix):]
    has_colon = candidate.endswith(":")
    if has_colon:
        candidate = candidate[:-1].strip()
    elif rest.lstrip().startswith(":"):
        has_colon, rest = True, rest.lstrip()[1:]
    label = normalise_label(candidate)
    if not label_shape_ok(label) or (not has_colon and not rest.strip()):
        return _Block(full)
    return _Block(rest.strip(), label, has_colon)


def _table_blocks(table: Any) -> Iterator[_Block]:
    rows = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:  # merged cells repeat: keep each text once per row
            text = normalise_text(cell.text).strip()
            if text and (not cells or cells[-1] != text):
                cells.append(text)
        if cells:
            rows.append(cells)
    heads = [normalise_label(cells[0].rstrip(":")) for cells in rows if len(cells) > 1]
    # A speaker column: every multi-cell row starts with a label-shaped cell and some speaker
    # comes back (a table of facts rarely repeats its first column).
    speaker_column = (bool(heads) and all(label_shape_ok(h) for h in heads)
                      and max(Counter(heads).values()) >= 2)
    for cells in rows:
        if speaker_column and len(cells) > 1:
            yield _Block(" ".join(cells[1:]), normalise_label(cells[0].rstrip(":")), True)
        else:
            yield from (_Block(text) for text in cells)


def _blocks(document: Any) -> Iterator[_Block]:
    for item in document.iter_inner_content():
        if hasattr(item, "rows"):
            yield from _table_blocks(item)
        else:
            block = _paragraph_block(item)
            if block is not None:
                yield block


def _front_matter(blocks: list[_Block], path: Path) -> tuple[dict[str, Any], list[_Block]]:
    if not blocks or blocks[0].label is not None or blocks[0].text.strip() != "---":
        return {}, blocks
    for index in range(1, len(blocks)):
        if blocks[index].text.strip() in ("---", "..."):
            lines = [b.text if b.label is None else f"{b.label}: {b.text}"
                     for b in blocks[1:index]]
            return parse_front_matter("\n".join(lines), path, first_line=2), blocks[index + 1:]
    raise TranscriptError("front matter opened with a `---` paragraph is never closed",
                          path=str(path), line=1)


def _accepted_bold(blocks: list[_Block], interviewer_labels: tuple[str, ...]) -> set[str]:
    """Bold labels with a colon are labels; bold words without one only when they are known
    labels or open two or more paragraphs (a bold first word may just be emphasis)."""
    counts = Counter(b.label for b in blocks if b.label is not None)
    accepted = set()
    for block in blocks:
        label = block.label
        if label is None:
            continue
        if block.has_colon or is_known_label(label, interviewer_labels) or (
                counts[label] >= 2 and label.split()[0].casefold() not in SENTENCE_OPENERS):
            accepted.add(label)
    return accepted


def read_docx(path: Path, config: IngestConfig) -> list[Document]:
    """Read one Word transcript as a single Document (see the module docstring)."""
    blocks = list(_blocks(_open(path)))
    raw_metadata, blocks = _front_matter(blocks, path)
    labels = _accepted_bold(blocks, config.interviewer_labels)
    parts = []
    for block in blocks:
        if block.label is not None and block.label in labels:
            parts.append(f"{block.label}: {block.text}".rstrip())
        elif block.label is not None:
            parts.append(f"{block.label} {block.text}".rstrip())
        else:
            parts.append(block.text.strip())
    text = "\n\n".join(part for part in parts if part)
    if not text.strip():
        raise TranscriptError("empty file: the Word document has no text", path=str(path))
    doc_id, metadata = split_metadata(raw_metadata, path.stem, path)
    turns = parse_turns(text, config.interviewer_labels, extra_labels=labels)
    return [Document(id=doc_id, text=text, path=str(path), turns=turns,
                     metadata=frozen_mapping(metadata))]
