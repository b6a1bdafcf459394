"""OpenDocument text transcripts (``.odt``, LibreOffice/OpenOffice) via odfpy.

Read like a ``.docx``: each paragraph and heading is a paragraph of ``Document.text``, list items
are paragraphs, tables are read row by row (a speaker column becomes labels, see
:func:`qcode.ingest.docx.table_blocks`), and front matter may be typed as paragraphs between two
``---`` paragraphs. Speaker labels are plain ``LABEL:`` text (bold runs are not looked at).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import TranscriptError
from ..models import Document
from .common import IngestConfig, check_office_zip, normalise_text, read_bytes
from .docx import _Block, _one_line, blocks_document, table_blocks

_TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"


def _text_of(element: Any) -> str:
    from odf import teletype

    return normalise_text(teletype.extractText(element))


def _table_rows(table: Any) -> list[list[str]]:
    rows = []
    for row in _descendants(table, _TABLE_NS, "table-row"):
        cells = [
            " ".join(
                _text_of(p) for p in cell.childNodes if getattr(p, "qname", None) == (_TEXT_NS, "p")
            )
            for cell in row.childNodes
            if getattr(cell, "qname", None) == (_TABLE_NS, "table-cell")
        ]
        rows.append(cells)
    return rows


def _descendants(element: Any, namespace: str, name: str) -> Iterator[Any]:
    for node in element.childNodes:
        if getattr(node, "qname", None) == (namespace, name):
            yield node
        elif getattr(node, "childNodes", None):
            yield from _descendants(node, namespace, name)


def _blocks(element: Any) -> Iterator[_Block]:
    for node in element.childNodes:
        qname = getattr(node, "qname", None)
        if qname in ((_TEXT_NS, "p"), (_TEXT_NS, "h")):
            text = _text_of(node).strip()
            if text:
                yield _Block(text)
        elif qname == (_TABLE_NS, "table"):
            yield from table_blocks(_table_rows(node))
        elif getattr(node, "childNodes", None):  # sections, lists, list items, frames
            yield from _blocks(node)


def read_odt(path: Path, config: IngestConfig) -> list[Document]:
    """Read one OpenDocument transcript as a single Document (see the module docstring)."""
    from odf.opendocument import load

    data = read_bytes(path)
    if not data:
        raise TranscriptError("empty file: 0 bytes", path=str(path))
    check_office_zip(data, path, "OpenDocument .odt")
    try:
        document = load(io.BytesIO(data))
        blocks = list(_blocks(document.text))
    except Exception as error:  # odfpy lets zipfile, expat and KeyError escape on damaged files
        raise TranscriptError(
            f"not a readable OpenDocument .odt file (damaged? open it and "
            f"save it again): {_one_line(error)}",
            path=str(path),
        ) from None
    return [blocks_document(blocks, path, config, "the document")]
