"""PDF transcripts with a text layer (``.pdf``) via pypdf.

The text of every page, in order, read line by line like a plain-text transcript (labels at
line starts). Lines that only number the page ("3", "Sida 3 av 12", "Page 3") are left out. A
PDF without any text (a scanned image) is refused with a one-line error: qcode does no OCR.
"""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

from ..errors import TranscriptError
from ..models import Document
from .common import IngestConfig, normalise_text, read_bytes
from .text import parse_text

_PAGE_NUMBER = re.compile(
    r"[ \t]*(?:(?:sida|page|s\.)[ \t]*)?\d{1,4}(?:[ \t]*(?:av|of|/)[ \t]*"
    r"\d{1,4})?[ \t]*",
    re.IGNORECASE,
)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text[:200] or type(error).__name__


def read_pdf(path: Path, config: IngestConfig) -> list[Document]:
    """Read one PDF transcript as a single Document (see the module docstring)."""
    from pypdf import PdfReader

    data = read_bytes(path)
    if not data:
        raise TranscriptError("empty file: 0 bytes", path=str(path))
    # pypdf logs every oddity of a damaged file as a warning; the one-line error is enough
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise TranscriptError(
                "the PDF is password-protected; save an unprotected copy or "
                "export the transcript as .docx or .txt",
                path=str(path),
            )
        pages = [page.extract_text() or "" for page in reader.pages]
    except TranscriptError:
        raise
    except Exception as error:  # pypdf raises many kinds on damaged files
        raise TranscriptError(
            f"not a readable PDF file: {_one_line(error)}", path=str(path)
        ) from None
    lines = [
        line
        for page in pages
        for line in normalise_text(page).split("\n")
        if not _PAGE_NUMBER.fullmatch(line)
    ]
    text = "\n".join(lines).strip("\n")
    if not text.strip():
        raise TranscriptError(
            "the PDF has no text layer (a scanned image?); qcode does no "
            "OCR: export the transcript as .docx or .txt, or run OCR first",
            path=str(path),
        )
    return [parse_text(text + "\n", path, config)]
