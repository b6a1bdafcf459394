"""Writing tables and files safely: atomic renames, spreadsheet-formula escaping, formats.

Every output qcode writes goes through :func:`atomic_path`, so a crash or a full disk never
leaves a half-written file under the real name. Cells that a spreadsheet would run as a formula
(starting with ``=``, ``+``, ``-``, ``@``, tab or CR) are prefixed with an apostrophe in CSV and
XLSX output, so text from transcripts can never become a formula on someone's machine.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from .errors import ConfigError

TABLE_FORMATS = ("csv", "jsonl", "xlsx", "md", "html")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: characters XML 1.0 cannot hold, so neither can an xlsx or docx: the C0 controls other than
#: tab, LF and CR (ESC, NUL, VT, FF… from pasted or converted text) and U+FFFE/U+FFFF.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
#: Word writes a manual line break as VT and a page break as FF: both read as a line break
_XML_BREAKS = str.maketrans({"\x0b": "\n", "\x0c": "\n"})


@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it is renamed onto ``target``."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp makes the file owner-only; an output gets the permissions any new file would
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text_atomic(target: str | Path, text: str) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")
    return Path(target)


def escape_formula(value: object) -> object:
    """Neutralise a cell that a spreadsheet would evaluate as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def xml_safe(value: object) -> object:
    """``value`` with the characters an xlsx/docx (XML) cannot hold removed; VT and FF (Word's
    line and page breaks) become line breaks. Anything but a string is returned as it is.

    >>> xml_safe("rad\\x0bett\\x1b[0m")
    'rad\\nett[0m'
    """
    if isinstance(value, str) and _XML_ILLEGAL.search(value):
        return _XML_ILLEGAL.sub("", value.translate(_XML_BREAKS))
    return value


def escape_frame(frame: pd.DataFrame, *, xml: bool = False) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell passed through :func:`escape_formula` (and,
    with ``xml``, for xlsx output, :func:`xml_safe`)."""
    out = frame.copy()
    clean = (lambda v: escape_formula(xml_safe(v))) if xml else escape_formula
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(clean)
    out.columns = [clean(str(c)) for c in out.columns]
    return out


def infer_format(
    path: str | Path, fmt: str | None, allowed: tuple[str, ...] = TABLE_FORMATS
) -> str:
    """The output format: explicit ``fmt``, else the file's suffix; an unknown one is an error."""
    chosen = (fmt or Path(path).suffix.lstrip(".")).lower()
    if chosen == "markdown":
        chosen = "md"
    if chosen not in allowed:
        raise ConfigError(
            f"cannot write format {chosen or '(none)'!r} for {path}; use one of {', '.join(allowed)}"
        )
    return chosen


#: characters that Markdown (CommonMark, GitHub) could read as markup: links, images, HTML,
#: emphasis, code; a backslash makes each one a literal character.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*\[\]<>|~&!]|(?<!\w)_|_(?!\w))")
_LINE_START = re.compile(r"^(\s*)([#+=-]|\d+[.)])", re.MULTILINE)


def markdown_escape(text: object, *, block: bool = True) -> str:
    """``text`` as literal Markdown: nothing a transcript says can become a link, an image,
    raw HTML (``<script>``) or a heading; it renders as the same characters.

    >>> markdown_escape("<script>x</script> [a](javascript:b) ![i](http://c/d.png)")
    '\\\\<script\\\\>x\\\\</script\\\\> \\\\[a\\\\](javascript:b) \\\\!\\\\[i\\\\](http://c/d.png)'
    """
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))
    if block:  # a paragraph or quote could start a heading or list; a table cell cannot
        escaped = _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)
    return escaped.replace("\n", " ")


def frame_to_markdown(frame: pd.DataFrame) -> str:
    """A GitHub-style Markdown table, every cell escaped as literal text, deterministic."""

    def cell(value: object) -> str:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return ""
        return markdown_escape(value, block=False)

    header = "| " + " | ".join(cell(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows]) + "\n"


def write_table(
    frame: pd.DataFrame, output: str | Path, fmt: str | None = None, *, dialect: str = "rfc4180"
) -> Path:
    """Write ``frame`` atomically as csv, jsonl, xlsx, md or html (chosen by ``fmt`` or suffix).

    CSV is RFC 4180 UTF-8 by default; ``dialect="excel-sv"`` writes what Excel with Swedish
    settings opens as columns: UTF-8 with a byte-order mark, ``;`` between fields, decimal comma.
    """
    chosen = infer_format(output, fmt)
    output = Path(output)
    with atomic_path(output) as tmp:
        if chosen == "csv" and dialect == "excel-sv":
            escape_frame(frame).to_csv(
                tmp, index=False, encoding="utf-8-sig", sep=";", decimal=",", lineterminator="\r\n"
            )
        elif chosen == "csv":
            escape_frame(frame).to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
        elif chosen == "jsonl":
            frame.to_json(tmp, orient="records", lines=True, force_ascii=False)
        elif chosen == "xlsx":
            escape_frame(frame, xml=True).to_excel(tmp, index=False, engine="openpyxl")
        elif chosen == "md":
            tmp.write_text(frame_to_markdown(frame), encoding="utf-8", newline="\n")
        elif chosen == "html":
            tmp.write_text(frame.to_html(index=False, na_rep=""), encoding="utf-8", newline="\n")
    return output
