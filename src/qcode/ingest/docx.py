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
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import TranscriptError
from ..models import Document
from .common import IngestConfig, check_office_zip, normalise_text, parse_front_matter, read_bytes
from .text import transcript_document
from .turns import SENTENCE_OPENERS, is_known_label, label_shape_ok, normalise_label


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
    check_office_zip(data, path, "Word .docx")
    try:
        return docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError) as error:
        raise TranscriptError(
            "not a readable Word .docx file (an old .doc or a damaged file? open it in Word "
            f"and save as .docx): {_one_line(error)}",
            path=str(path),
        ) from None
    except Exception as error:  # noqa: BLE001 - python-docx lets zlib, lxml and its own
        # errors escape on damaged parts; the zip's sizes were checked, so this is damage
        raise TranscriptError(
            f"not a readable Word .docx file (damaged?): {_one_line(error)}", path=str(path)
        ) from None


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return (text[:200] + "…") if len(text) > 200 else (text or type(error).__name__)


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
    rest = full[len(prefix) :]
    has_colon = candidate.endswith(":")
    if has_colon:
        candidate = candidate[:-1].strip()
    elif rest.lstrip().startswith(":"):
        has_colon, rest = True, rest.lstrip()[1:]
    label = normalise_label(candidate)
    if not label_shape_ok(label) or (not has_colon and not rest.strip()):
        return _Block(full)
    return _Block(rest.strip(), label, has_colon)


_TIME_CELL = re.compile(r"[\[(]?[ \t]*(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?[ \t]*[\])]?")
#: header cells of a transcript laid out as a table ("Talare | Text"): not speech.
_TABLE_HEADINGS = frozenset(
    """
talare speaker namn name person vem who roll role tid time tidpunkt timestamp text
transkription transkribering transcript transcription yttrande utsaga tal sagt said
""".split()
)


def table_blocks(rows: list[list[str]]) -> Iterator[_Block]:
    """Blocks of a table given as rows of cell texts (empty cells kept, so columns line up).

    A transcript laid out as a table has a speaker column (label-shaped cells, some speaker
    coming back), maybe a time column, and the speech in the rest; a header row such as
    "Talare | Text" is left out, and a row with an empty speaker cell continues the turn above.
    Any other table is read cell by cell.
    """
    rows = [[normalise_text(c).strip() for c in row] for row in rows]
    rows = [row for row in rows if any(row)]
    wide = [row for row in rows if sum(1 for c in row if c) > 1]
    width = max((len(r) for r in rows), default=0)

    def column(index: int) -> list[str]:
        return [r[index] for r in wide if index < len(r) and r[index]]

    time_columns = {
        i
        for i in range(width)
        if column(i)
        and sum(bool(_TIME_CELL.fullmatch(c)) for c in column(i)) >= 0.8 * len(column(i))
    }
    speaker_index = None
    for index in [i for i in range(min(width, 3)) if i not in time_columns][:1]:
        heads = [normalise_label(c.rstrip(":")) for c in column(index)]
        body = [h for h in heads if h.casefold() not in _TABLE_HEADINGS]
        if (
            body
            and sum(label_shape_ok(h) for h in body) >= 0.9 * len(body)
            and max(Counter(body).values()) >= 2
            and any(i not in time_columns and i != index and column(i) for i in range(width))
        ):
            speaker_index = index
    if speaker_index is None:
        for row in rows:
            yield from (_Block(text) for text in row if text)
        return
    for row in rows:
        cells = row + [""] * (width - len(row))
        speaker = normalise_label(cells[speaker_index].rstrip(":"))
        times = [cells[i].strip("[]() ") for i in sorted(time_columns) if cells[i]]
        said = " ".join(
            c for i, c in enumerate(cells) if c and i != speaker_index and i not in time_columns
        )
        if speaker.casefold() in _TABLE_HEADINGS and (
            not said or said.casefold() in _TABLE_HEADINGS
        ):
            continue  # the header row
        if not said:
            continue
        if not speaker or not label_shape_ok(speaker):
            yield _Block(said)
            continue
        stamp = f"[{times[0]}] " if times else ""
        yield _Block(stamp + said, speaker, True)


def _docx_table_rows(table: Any) -> list[list[str]]:
    rows = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:  # a merged cell repeats: keep it once per row
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(cell.text)
        rows.append(cells)
    return rows


def _blocks(document: Any) -> Iterator[_Block]:
    for item in document.iter_inner_content():
        if hasattr(item, "rows"):
            yield from table_blocks(_docx_table_rows(item))
        else:
            block = _paragraph_block(item)
            if block is not None:
                yield block


def _front_matter(blocks: list[_Block], path: Path) -> tuple[dict[str, Any], list[_Block]]:
    if not blocks or blocks[0].label is not None or blocks[0].text.strip() != "---":
        return {}, blocks
    for index in range(1, len(blocks)):
        if blocks[index].text.strip() in ("---", "..."):
            lines = [b.text if b.label is None else f"{b.label}: {b.text}" for b in blocks[1:index]]
            return parse_front_matter("\n".join(lines), path, first_line=2), blocks[index + 1 :]
    raise TranscriptError(
        "front matter opened with a `---` paragraph is never closed", path=str(path), line=1
    )


def _accepted_bold(blocks: list[_Block], interviewer_labels: tuple[str, ...]) -> set[str]:
    """Bold labels with a colon are labels; bold words without one only when they are known
    labels or open two or more paragraphs (a bold first word may just be emphasis)."""
    counts = Counter(b.label for b in blocks if b.label is not None)
    accepted = set()
    for block in blocks:
        label = block.label
        if label is None:
            continue
        if (
            block.has_colon
            or is_known_label(label, interviewer_labels)
            or (counts[label] >= 2 and label.split()[0].casefold() not in SENTENCE_OPENERS)
        ):
            accepted.add(label)
    return accepted


def read_docx(path: Path, config: IngestConfig) -> list[Document]:
    """Read one Word transcript as a single Document (see the module docstring)."""
    document = _open(path)
    try:
        blocks = list(_blocks(document))
    except Exception as error:  # noqa: BLE001 - a damaged part python-docx did not check
        raise TranscriptError(
            f"damaged Word .docx file: {_one_line(error)}", path=str(path)
        ) from None
    return [blocks_document(blocks, path, config, "the Word document")]


def blocks_document(blocks: list[_Block], path: Path, config: IngestConfig, what: str) -> Document:
    """A transcript Document from the paragraphs of an office file: front matter typed as
    paragraphs, bold labels written as ``LABEL: `` into the text, paragraphs joined by a blank
    line, then turns, preamble and interviewer as for a text file."""
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
        raise TranscriptError(f"empty file: {what} has no text", path=str(path))
    return transcript_document(text, path, raw_metadata, config, extra_labels=labels)
