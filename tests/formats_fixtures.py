"""Binary transcript fixtures (.docx, .odt, .pdf) for tests/test_formats.py, built at test
time so that no office file is committed. Every text is fictional."""

from __future__ import annotations

from pathlib import Path


def docx_paragraphs(
    path: Path, paragraphs: list[list[tuple[str, bool]]], heading: str | None = None
) -> Path:
    """A .docx with an optional heading and paragraphs of (run text, bold) pairs."""
    import docx

    document = docx.Document()
    if heading:
        document.add_heading(heading, level=1)
    for runs in paragraphs:
        paragraph = document.add_paragraph()
        for text, bold in runs:
            paragraph.add_run(text).bold = bold
    document.save(str(path))
    return path


def docx_table(path: Path, rows: list[tuple[str, ...]], heading: str | None = None) -> Path:
    import docx

    document = docx.Document()
    if heading:
        document.add_paragraph(heading)
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    for row, cells in zip(table.rows, rows):
        for cell, text in zip(row.cells, cells):
            cell.text = text
    document.save(str(path))
    return path


def odt(path: Path, paragraphs: list[str], heading: str | None = None) -> Path:
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    document = OpenDocumentText()
    if heading:
        document.text.addElement(H(outlinelevel=1, text=heading))
    for text in paragraphs:
        document.text.addElement(P(text=text))
    document.save(str(path))
    return path


def _pdf_string(text: str) -> bytes:
    data = text.encode("cp1252")
    return b"(" + data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def pdf(path: Path, pages: list[list[str]]) -> Path:
    """A PDF with a real text layer: one Helvetica line per string, WinAnsi encoded."""
    objects: list[bytes] = []
    page_ids = []
    font_id = 3
    objects.append(b"")  # 1: catalog, filled in below
    objects.append(b"")  # 2: pages
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    for lines in pages:
        stream = (
            b"BT /F1 11 Tf 14 TL 50 780 Td "
            + b" ".join(_pdf_string(line) + b" Tj T*" for line in lines)
            + b" ET"
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        content_id = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>" % (font_id, content_id)
        )
        page_ids.append(len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = (
        b"<< /Type /Pages /Kids ["
        + b" ".join(b"%d 0 R" % i for i in page_ids)
        + b"] /Count %d >>" % len(page_ids)
    )
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(bytes(out))
    return path


def scanned_pdf(path: Path) -> Path:
    """A PDF whose page has no text at all (what a scanner produces, minus the image)."""
    return pdf(path, [[]])
