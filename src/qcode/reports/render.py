"""Writing reports out: Markdown, CSV, XLSX, HTML (and Word for quotes).

Every file is written atomically through :mod:`qcode.writers` (CSV/XLSX cells escaped against
formulas) and is deterministic: the same report frame gives the same bytes, including XLSX and
DOCX, whose zip times and core-property dates are fixed.
"""
from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ..writers import atomic_path, escape_frame, frame_to_markdown, infer_format, write_table, \
    write_text_atomic, xml_safe
from ._common import TOTAL, normalise_zip

TABLE_FORMATS = ("md", "csv", "xlsx", "html")
QUOTE_FORMATS = ("md", "docx", "csv", "html")
SOURCE_TEXT = {"all": "all codings", "rule": "rule codings", "companion": "companion codings",
               "model": "model codings",
               "human": "human codings"}
_INDENT = "\u2003"  # an em space survives Markdown and HTML table cells, unlike plain spaces


# -- helpers ----------------------------------------------------------------------------------
def group_label(key: tuple) -> str:
    """A column key such as ("2010", "polis") as "2010 / polis"; totals as "total"."""
    if all(k == TOTAL for k in key):
        return TOTAL
    return " / ".join(str(k) for k in key)


def percent(value: Any) -> str:
    if value is None or pd.isna(value):
        return ""
    return f"{round(float(value) * 100):d} %"


def _number(value: Any, decimals: int | None = None) -> str:
    """A number for a table cell: integers plain, others with ``decimals`` places or, by
    default, as published (76.9 stays 76.9)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, str):
        return value
    if float(value).is_integer():
        return str(int(value))
    if decimals is None:
        return f"{round(float(value), 4):g}"
    return f"{float(value):.{decimals}f}"


def _md_document(title: str, intro: list[str], body: str) -> str:
    return f"# {title}\n\n" + "".join(f"{line}\n\n" for line in intro) + body


def _html_document(title: str, intro: list[str], body: str) -> str:
    paragraphs = "".join(f"<p>{html.escape(line)}</p>\n" for line in intro)
    return ("<!DOCTYPE html>\n<html lang=\"sv\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n</head>\n<body>\n<h1>{html.escape(title)}</h1>\n"
            f"{paragraphs}{body}</body>\n</html>\n")


def _html_table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, na_rep="", escape=True, border=0) + "\n"


def write_xlsx(sheets: dict[str, pd.DataFrame], output: str | Path) -> Path:
    """Write one or more sheets (cells escaped against formulas), byte-for-byte deterministic."""
    output = Path(output)
    with atomic_path(output) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            for name, frame in sheets.items():
                escape_frame(frame, xml=True).to_excel(writer, sheet_name=name[:31], index=False)
            writer.book.properties.creator = "qcode"
    return normalise_zip(output)


def _write_table_format(frame: pd.DataFrame, output: Path, fmt: str, *, title: str,
                        intro: list[str], pretty: pd.DataFrame | None = None) -> Path:
    """csv/xlsx get the raw frame; md/html a titled document around ``pretty``."""
    pretty = frame if pretty is None else pretty
    if fmt == "csv":
        return write_table(frame, output, "csv")
    if fmt == "xlsx":
        return write_xlsx({"report": frame}, output)
    if fmt == "md":
        return write_text_atomic(output, _md_document(title, intro, frame_to_markdown(pretty)))
    return write_text_atomic(output, _html_document(title, intro, _html_table(pretty)))


# -- frequencies ------------------------------------------------------------------------------
def frequencies_table(frame: pd.DataFrame, *, pretty: bool = False) -> pd.DataFrame:
    """The frequency frame flattened to one header row.

    Plain: code, label, level, then ``<group> (n=N) · documents|share|segments`` per group.
    Pretty (Markdown/HTML/terminal): the label indented by level and one cell per group,
    ``documents · share · segments``.
    """
    labels, levels = frame.attrs.get("labels", {}), frame.attrs.get("levels", {})
    sizes = frame.attrs.get("group_sizes", {})
    keys = list(dict.fromkeys(col[:-1] for col in frame.columns))
    codes = list(frame.index)
    if pretty:
        out = pd.DataFrame({"code": [
            (_INDENT * max(int(levels.get(c, 1)) - 1, 0) + str(labels.get(c, c))) if c != TOTAL
            else "Any code" for c in codes]})
        for key in keys:
            cells = [f"{int(frame.loc[c, key + ('documents',)])} · "
                     f"{percent(frame.loc[c, key + ('share',)])} · "
                     f"{int(frame.loc[c, key + ('segments',)])}" for c in codes]
            out[f"{group_label(key)} (n={sizes.get(key, 0)})"] = cells
        return out
    out = pd.DataFrame({"code": codes,
                        "label": [labels.get(c, c) for c in codes],
                        "level": [int(levels.get(c, 0)) for c in codes]})
    for key in keys:
        head = f"{group_label(key)} (n={sizes.get(key, 0)})"
        for measure in ("documents", "share", "segments"):
            out[f"{head} · {measure}"] = frame[key + (measure,)].to_numpy()
    return out


def render_frequencies(frame: pd.DataFrame, output: str | Path, fmt: str | None = None) -> Path:
    """Write the frequency report as md, csv, xlsx or html. Interviews and survey answers
    (a frame split by kind) get a section each in md/html, with their own n."""
    fmt = infer_format(output, fmt, TABLE_FORMATS)
    sections = kind_sections(frame)
    keys = frame.attrs.get("by", [])
    by = " × ".join(keys[1:] if sections else keys)
    intro = [
        f"Documents (respondents) touching each code, per {by}. Each cell: documents · share "
        "of the group's documents · segments coded. Subcodes count for their parents; n is the "
        f"number of documents in the group. Source: {SOURCE_TEXT.get(frame.attrs.get('source'), 'all codings')}.",
    ]
    if sections:
        intro.append("Interviews and survey answers are counted apart, each kind with its own "
                     "groups and n: a one-line answer is never divided by the same n as an "
                     "interview.")
    if not sections or fmt in ("csv", "xlsx"):
        return _write_table_format(frequencies_table(frame), Path(output), fmt,
                                   title=f"Theme frequencies by {by}", intro=intro,
                                   pretty=frequencies_table(frame, pretty=True))
    title = f"Theme frequencies by {by}"
    if fmt == "md":
        body = "".join(f"## {heading}\n\n{frame_to_markdown(frequencies_table(part, pretty=True))}\n"
                       for heading, part in sections)
        return write_text_atomic(Path(output), _md_document(title, intro, body))
    body = "".join(f"<h2>{html.escape(heading)}</h2>\n"
                   f"{_html_table(frequencies_table(part, pretty=True))}"
                   for heading, part in sections)
    return write_text_atomic(Path(output), _html_document(title, intro, body))


#: section headings of the document kinds in reports.
KIND_TITLES = {"interview": "Interviews", "survey": "Survey answers"}


def kind_sections(frame: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """A frequency frame split by kind (``attrs["kind_split"]``) as ``(heading, frame)`` per
    kind, each an ordinary frequency frame with its own group sizes; ``[]`` otherwise."""
    if not frame.attrs.get("kind_split"):
        return []
    sizes = frame.attrs.get("group_sizes", {})
    out = []
    for kind in dict.fromkeys(col[0] for col in frame.columns):
        part = frame.xs(kind, axis=1, level=0).copy()
        part.attrs = {**frame.attrs, "by": frame.attrs["by"][1:], "kind_split": False,
                      "group_sizes": {k[1:]: n for k, n in sizes.items() if k[0] == kind}}
        total = part.attrs["group_sizes"].get((TOTAL,) * len(part.attrs["by"]), 0)
        out.append((f"{KIND_TITLES.get(kind, kind)} (n={total})", part))
    return out


# -- co-occurrence ----------------------------------------------------------------------------
def cooccurrence_table(frame: pd.DataFrame, *, pretty: bool = False) -> pd.DataFrame:
    """The matrix with a leading ``code`` column (labels when pretty)."""
    labels = frame.attrs.get("labels", {})
    out = frame.copy()
    if pretty:
        jaccard = frame.attrs.get("measure") == "jaccard"
        names = [str(labels.get(c, c)) for c in frame.index]
        cells = {}
        for j, col in enumerate(frame.columns):
            cells[names[j]] = [
                _number(v, 2) if (jaccard and i != j) else str(int(v))
                for i, v in enumerate(frame[col].to_numpy())]
        return pd.DataFrame({"code": names, **cells})
    out.insert(0, "code", list(frame.index))
    return out.reset_index(drop=True)


def render_cooccurrence(frame: pd.DataFrame, output: str | Path, fmt: str | None = None) -> Path:
    """Write the co-occurrence matrix as md, csv, xlsx or html."""
    fmt = infer_format(output, fmt, TABLE_FORMATS)
    unit = frame.attrs.get("unit", "segment")
    measure = frame.attrs.get("measure", "count")
    what = ("the number of {u}s coded with both codes" if measure == "count"
            else "Jaccard: {u}s with both codes over {u}s with either").format(u=unit)
    intro = [f"Off the diagonal: {what}. Diagonal: the {unit}s coded with the code. "
             f"Source: {SOURCE_TEXT.get(frame.attrs.get('source'), 'all codings')}."]
    return _write_table_format(cooccurrence_table(frame), Path(output), fmt,
                               title=f"Co-occurrence of codes by {unit}", intro=intro,
                               pretty=cooccurrence_table(frame, pretty=True))


# -- quotes -----------------------------------------------------------------------------------
def render_quotes(frame: pd.DataFrame, output: str | Path, fmt: str | None = None) -> Path:
    """Write quotes as md, docx (Word styles), csv (with document, offsets, code, score) or html."""
    fmt = infer_format(output, fmt, QUOTE_FORMATS)
    output = Path(output)
    if fmt == "csv":
        return write_table(frame, output, "csv")
    if fmt == "docx":
        return _quotes_docx(_quote_sections(frame, KIND_HEADINGS_SV), output)
    sections = _quote_sections(frame, KIND_HEADINGS)
    if fmt == "md":
        parts = ["# Quotes\n"]
        for code, label, rows in sections:
            parts.append(f"\n## {label} ({code})\n")
            if rows.empty:
                parts.append("\n*No quotes.*\n")
            for row in rows.itertuples(index=False):
                parts.append(f"\n> {row.text}\n\n({row.attribution})\n")
        return write_text_atomic(output, "".join(parts))
    body = []
    for code, label, rows in sections:
        body.append(f"<h2>{html.escape(str(label))} ({html.escape(code)})</h2>\n")
        if rows.empty:
            body.append("<p><em>No quotes.</em></p>\n")
        for row in rows.itertuples(index=False):
            body.append(f"<blockquote>{html.escape(row.text)}</blockquote>\n"
                        f"<p class=\"attribution\">({html.escape(row.attribution)})</p>\n")
    return write_text_atomic(output, _html_document("Quotes", [], "".join(body)))


#: section headings of the kinds when a quotes report holds both (interviews first).
KIND_HEADINGS = {"interview": "interviews", "survey": "survey answers"}
KIND_HEADINGS_SV = {"interview": "intervjuer", "survey": "enkätsvar"}


def _quote_sections(frame: pd.DataFrame, headings: dict[str, str]
                    ) -> list[tuple[str, str, pd.DataFrame]]:
    """(code, heading label, quotes) per code; with interviews and survey answers both present,
    one section per code and kind, so a one-line answer never stands among interview quotes."""
    codes = frame.attrs.get("codes") or list(dict.fromkeys(frame["code"]))
    labels = frame.attrs.get("labels", {})
    kinds = frame.attrs.get("kinds") or []
    sections = []
    for code in codes:
        rows = frame[frame["code"] == code]
        if len(kinds) > 1 and "kind" in frame.columns:
            for kind in kinds:
                sections.append((code, f"{labels.get(code, code)} – {headings.get(kind, kind)}",
                                 rows[rows["kind"] == kind]))
        else:
            sections.append((code, labels.get(code, code), rows))
    return sections


#: Word paragraph styles of the quotes document (the heading is Word's own "Heading 1").
QUOTE_STYLE = "Quote"
ATTRIBUTION_STYLE = "Quote Attribution"


def _quotes_docx(sections: list[tuple[str, str, pd.DataFrame]], output: Path) -> Path:
    """A Word document: a Heading 1 per code, each quote in the "Quote" style and its
    attribution in a right-aligned "Quote Attribution" style, ready to paste into a report."""
    from docx import Document
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    document = Document()
    styles = document.styles
    attribution = styles.add_style(ATTRIBUTION_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    attribution.base_style = styles["Normal"]
    attribution.font.size = Pt(10)
    attribution.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    attribution.paragraph_format.space_after = Pt(12)
    document.add_heading("Citat", level=0)
    for code, label, rows in sections:
        document.add_heading(xml_safe(f"{label} ({code})"), level=1)
        if rows.empty:
            document.add_paragraph("Inga citat.")
        for row in rows.itertuples(index=False):
            document.add_paragraph(xml_safe(row.text), style=QUOTE_STYLE)
            document.add_paragraph(xml_safe(f"({row.attribution})"), style=ATTRIBUTION_STYLE)
    props = document.core_properties
    fixed = datetime(2000, 1, 1)
    props.author = props.last_modified_by = "qcode"
    props.title, props.comments, props.revision = "Citat", "", 1
    props.created = props.modified = fixed
    with atomic_path(output) as tmp:
        document.save(str(tmp))
    return normalise_zip(output)


# -- crosstab ---------------------------------------------------------------------------------
def crosstab_tables(result: Any, *, pretty: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(group table, correlation table); pretty formats shares as percentages."""
    table, corr = result.table.copy(), result.correlations.copy()
    if pretty:
        share_columns = [c for c in table.columns
                         if str(c).startswith(("theme:", "survey_theme:"))]
        if result.survey_kind == "respondents":
            share_columns += [c for c in result.indicators if c in table.columns]
        for column in table.columns:
            if column in share_columns:
                table[column] = table[column].map(percent)
            elif pd.api.types.is_numeric_dtype(table[column]):
                table[column] = table[column].map(_number)
        for column in ("rho", "p_value"):
            corr[column] = corr[column].map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
    return table, corr


def render_crosstab(result: Any, output: str | Path, fmt: str | None = None) -> list[Path]:
    """Write the crosstab: md/html with both tables and the warnings, xlsx with two sheets,
    csv as the group table plus ``<name>.correlations.csv``. Returns the files written."""
    fmt = infer_format(output, fmt, TABLE_FORMATS)
    output = Path(output)
    intro = ["One row per group: documents (interviews), the share of them touching each theme "
             "(theme:…) and the survey's figures. Below, Spearman's rank correlation between "
             "each theme's share and each indicator across the groups that have both; with "
             "fewer than 5 groups it is flagged \"too few groups\"."]
    if "survey_documents" in result.table.columns:
        intro.append("The project's own survey answers (free text from a survey table) are "
                     "counted apart from the interviews: survey_documents, and the share of "
                     "them touching each theme (survey_theme:…).")
    intro += [f"Note: {w}." for w in result.warnings]
    if fmt == "csv":
        corr_path = output.with_name(output.stem + ".correlations.csv")
        return [write_table(result.table, output, "csv"),
                write_table(result.correlations, corr_path, "csv")]
    if fmt == "xlsx":
        return [write_xlsx({"groups": result.table, "correlations": result.correlations}, output)]
    table, corr = crosstab_tables(result, pretty=True)
    if fmt == "md":
        body = (frame_to_markdown(table) + "\n## Rank correlations (Spearman)\n\n"
                + frame_to_markdown(corr))
        return [write_text_atomic(output, _md_document("Interviews and survey by group", intro, body))]
    body = _html_table(table) + "<h2>Rank correlations (Spearman)</h2>\n" + _html_table(corr)
    return [write_text_atomic(output, _html_document("Interviews and survey by group", intro, body))]
