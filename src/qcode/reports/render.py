"""Writing reports out: Markdown, CSV, XLSX, HTML (and Word for quotes).

Every file is written atomically through :mod:`qcode.writers` (CSV/XLSX cells escaped against
formulas) and is deterministic: the same report frame gives the same bytes, including XLSX and
DOCX, whose zip times and core-property dates are fixed.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ..writers import (
    atomic_path,
    escape_frame,
    frame_to_markdown,
    infer_format,
    markdown_escape,
    write_table,
    write_text_atomic,
    xml_safe,
)
from ._common import TOTAL, normalise_zip
from .i18n import Presentation, subcode_label

TABLE_FORMATS = ("md", "csv", "xlsx", "html")
QUOTE_FORMATS = ("md", "docx", "csv", "html")
MATRIX_FORMATS = ("xlsx", "docx", "md", "html", "csv")
PERCENT = "0%"
#: Word proofing language per output language (every run of text carries it).
DOCX_LANGUAGE = {"sv": "sv-SE", "en": "en-GB"}


# Swedish sorts å, ä/æ, ö/ø after z: mapped to the three characters that follow "z" in ASCII
_SV_LATE: dict[str, str | int | None] = {"å": "{", "ä": "|", "æ": "|", "ö": "}", "ø": "}"}


# -- helpers ----------------------------------------------------------------------------------
def _style(style: Presentation | None) -> Presentation:
    return style if style is not None else Presentation()


def group_label(
    key: tuple[Any, ...], by: Iterable[str] = (), style: Presentation | None = None
) -> str:
    """A column key such as ("2010", "polis") as "2010 / Polismyndigheten" (display labels of
    each ``by`` key); totals as "Totalt"/"Total"."""
    style = _style(style)
    if all(k == TOTAL for k in key):
        return style.text("total")
    names: list[str | None] = list(by) or [None] * len(key)
    return " / ".join(style.label(b, k) for b, k in zip(names, key))


def display_order(
    keys: list[tuple[Any, ...]], by: Iterable[str], style: Presentation
) -> list[tuple[Any, ...]]:
    """Group keys in the alphabetical order of their display labels (Swedish: å, ä, ö after
    z), totals and "(missing)" last: the order a reader looks for a name in."""
    import unicodedata

    names: list[str | None] = list(by) or [None] * (len(keys[0]) if keys else 0)

    def letters(text: str) -> str:
        text = text.casefold()
        if style.lang == "sv":
            text = text.translate(str.maketrans(_SV_LATE))
        return "".join(
            c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
        )

    def sort_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
        if all(k == TOTAL for k in key):
            return (2,)
        labels = tuple(letters(style.label(b, k)) for b, k in zip(names, key))
        return (1 if "(missing)" in key else 0, labels, key)

    return sorted(keys, key=sort_key)


def percent(value: Any) -> str:
    if value is None or pd.isna(value):
        return ""
    return f"{round(float(value) * 100):d} %"


def _decimal(text: str, style: Presentation) -> str:
    """Swedish text writes a decimal comma."""
    return text.replace(".", ",") if style.lang == "sv" else text


def _number(value: Any, decimals: int | None = None, style: Presentation | None = None) -> str:
    """A number for a table cell: integers plain, others with ``decimals`` places or, by
    default, as published (76.9 stays 76.9; 76,9 in Swedish)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, str):
        return value
    if float(value).is_integer() and decimals is None:
        return str(int(value))
    text = f"{round(float(value), 4):g}" if decimals is None else f"{float(value):.{decimals}f}"
    return _decimal(text, _style(style))


def _md_document(title: str, intro: list[str], body: str) -> str:
    return (
        f"# {markdown_escape(title)}\n\n"
        + "".join(f"{markdown_escape(line)}\n\n" for line in intro)
        + body
    )


def _html_document(title: str, intro: list[str], body: str, lang: str = "sv") -> str:
    paragraphs = "".join(f"<p>{html.escape(line)}</p>\n" for line in intro)
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n<h1>{html.escape(title)}</h1>\n"
        f"{paragraphs}{body}</body>\n</html>\n"
    )


def _html_table(frame: pd.DataFrame) -> str:
    return str(frame.to_html(index=False, na_rep="", escape=True, border=0)) + "\n"


def write_xlsx(sheets: dict[str, Any], output: str | Path) -> Path:
    """Write one or more sheets (cells escaped against formulas), byte-for-byte deterministic.

    A sheet is a DataFrame or ``(frame, {column: number format})``: numbers stay numbers
    (shares as ``0%``), the header row (and a first label column) is frozen and every column
    is as wide as its longest cell, within limits.
    """
    output = Path(output)
    with atomic_path(output) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            for name, sheet in sheets.items():
                frame, formats = sheet if isinstance(sheet, tuple) else (sheet, {})
                escape_frame(frame, xml=True).to_excel(writer, sheet_name=name[:31], index=False)
                _format_sheet(writer.sheets[name[:31]], frame, formats)
            writer.book.properties.creator = "qcode"
    return normalise_zip(output)


def _format_sheet(sheet: Any, frame: pd.DataFrame, formats: dict[str, str]) -> None:
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    first_is_label = len(frame.columns) > 1 and not pd.api.types.is_numeric_dtype(frame.iloc[:, 0])
    sheet.freeze_panes = "B2" if first_is_label else "A2"
    wrap = bool(frame.attrs.get("wrap"))
    if wrap:  # long text (quotes): wrapped, top-aligned, in columns of a readable width
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for j, column in enumerate(frame.columns, start=1):
        number_format = formats.get(column)
        if number_format:
            for row in range(2, len(frame) + 2):
                sheet.cell(row=row, column=j).number_format = number_format
        values = frame[column]
        if number_format == PERCENT:
            longest = 5
        elif pd.api.types.is_numeric_dtype(values):
            longest = max((len(_number(v)) for v in values), default=1)
        else:
            longest = max((len(str(v)) for v in values.dropna()), default=1)
        width = min(max(len(str(column)), longest) + 2, 45 if wrap else 60)
        sheet.column_dimensions[get_column_letter(j)].width = max(width, 6)


def _write_table_format(
    frame: pd.DataFrame,
    output: Path,
    fmt: str,
    *,
    title: str,
    intro: list[str],
    pretty: pd.DataFrame,
    sheets: dict[str, Any],
    style: Presentation,
) -> Path:
    """csv gets the frame of ids; xlsx the numeric ``sheets``; md/html a titled document
    around ``pretty``."""
    if fmt == "csv":
        return write_table(frame, output, "csv", dialect=style.csv_dialect)
    if fmt == "xlsx":
        return write_xlsx(sheets, output)
    if fmt == "md":
        return write_text_atomic(output, _md_document(title, intro, frame_to_markdown(pretty)))
    return write_text_atomic(output, _html_document(title, intro, _html_table(pretty), style.lang))


# -- frequencies ------------------------------------------------------------------------------
def frequencies_transposed(frame: pd.DataFrame, style: Presentation | None = None) -> bool:
    """Groups as rows when asked (``--transpose``) or when there are more groups than codes."""
    style = _style(style)
    if style.transpose is not None:
        return style.transpose
    groups = len(dict.fromkeys(col[:-1] for col in frame.columns)) - 1
    return groups > len(frame.index) - 1


def frequencies_table(
    frame: pd.DataFrame,
    *,
    pretty: bool = False,
    measure: str | None = None,
    style: Presentation | None = None,
) -> pd.DataFrame:
    """The frequency frame as one flat table.

    Plain (CSV): code, label, level, then ``<group> (n=N) · documents|share|segments`` per
    group, all ids. Pretty (Markdown/HTML/terminal): display labels, subcodes marked "↳", one
    cell per code and group, ``documents · share · segments``. With ``measure``: that
    measure's numbers in the same layout (the xlsx sheets). Pretty and measure tables have
    groups as rows when :func:`frequencies_transposed`.
    """
    style = _style(style)
    labels, levels = frame.attrs.get("labels", {}), frame.attrs.get("levels", {})
    sizes = frame.attrs.get("group_sizes", {})
    by = frame.attrs.get("by", [])
    keys = list(dict.fromkeys(col[:-1] for col in frame.columns))
    codes = list(frame.index)
    if pretty or measure is not None:
        keys = display_order(keys, by, style)
    if not pretty and measure is None:
        out = pd.DataFrame(
            {
                "code": codes,
                "label": [labels.get(c, c) for c in codes],
                "level": [int(levels.get(c, 0)) for c in codes],
            }
        )
        for key in keys:
            head = f"{' / '.join(str(k) for k in key)} (n={sizes.get(key, 0)})"
            for name in ("documents", "share", "segments"):
                out[f"{head} · {name}"] = frame[key + (name,)].to_numpy()
        return out
    code_names = [
        subcode_label(labels.get(c, c), levels.get(c, 1)) if c != TOTAL else style.text("any_code")
        for c in codes
    ]
    group_names = [f"{group_label(k, by, style)} (n={sizes.get(k, 0)})" for k in keys]
    # Cells are read from plain per-column lists: ``frame.loc`` per cell deep-copies the
    # frame's attrs (labels of every code) each time, which made this most of a report's run.
    bare = frame.copy(deep=False)
    bare.attrs = {}
    cell = {col: dict(zip(codes, bare[col].to_numpy())) for col in bare.columns}
    if measure is not None:
        cells = [[cell[k + (measure,)][c] for k in keys] for c in codes]
    else:
        cells = [
            [
                f"{int(cell[k + ('documents',)][c])} · "
                f"{percent(cell[k + ('share',)][c])} · "
                f"{int(cell[k + ('segments',)][c])}"
                for k in keys
            ]
            for c in codes
        ]
    if frequencies_transposed(frame, style):
        head = style.by_text(by).capitalize() if by else style.text("code")
        out = pd.DataFrame({head: group_names})
        for i, name in enumerate(code_names):
            out[name] = [cells[i][j] for j in range(len(keys))]
        return out
    out = pd.DataFrame({style.text("code"): code_names})
    for j, name in enumerate(group_names):
        out[name] = [cells[i][j] for i in range(len(codes))]
    return out


def render_frequencies(
    frame: pd.DataFrame,
    output: str | Path,
    fmt: str | None = None,
    *,
    style: Presentation | None = None,
) -> Path:
    """Write the frequency report as md, csv, xlsx (a sheet per measure) or html. Interviews
    and survey answers (a frame split by kind) get a section each in md/html, with their own n."""
    style = _style(style)
    fmt = infer_format(output, fmt, TABLE_FORMATS)
    sections = kind_sections(frame, style)
    keys = frame.attrs.get("by", [])
    by = style.by_text(keys[1:] if sections else keys)
    intro = [style.text("freq.intro", by=by)]
    if any(int(v) > 1 for v in frame.attrs.get("levels", {}).values()):
        intro.append(style.text("subcode_note"))
    intro.append(style.source_text(frame.attrs.get("source")))
    if sections:
        intro.append(style.text("freq.kinds_note"))
    title = style.text("freq.title", by=by)
    if not sections or fmt in ("csv", "xlsx"):
        sheets = {}
        for measure in ("share", "documents", "segments"):
            table = frequencies_table(frame, measure=measure, style=style)
            number = PERCENT if measure == "share" else "0"
            sheets[style.text(f"sheet.{measure}")] = (table, {c: number for c in table.columns[1:]})
        return _write_table_format(
            frequencies_table(frame),
            Path(output),
            fmt,
            title=title,
            intro=intro,
            pretty=frequencies_table(frame, pretty=True, style=style),
            sheets=sheets,
            style=style,
        )
    if fmt == "md":
        body = "".join(
            f"## {markdown_escape(heading)}\n\n"
            f"{frame_to_markdown(frequencies_table(part, pretty=True, style=style))}\n"
            for heading, part in sections
        )
        return write_text_atomic(Path(output), _md_document(title, intro, body))
    body = "".join(
        f"<h2>{html.escape(heading)}</h2>\n"
        f"{_html_table(frequencies_table(part, pretty=True, style=style))}"
        for heading, part in sections
    )
    return write_text_atomic(Path(output), _html_document(title, intro, body, style.lang))


def kind_sections(
    frame: pd.DataFrame, style: Presentation | None = None
) -> list[tuple[str, pd.DataFrame]]:
    """A frequency frame split by kind (``attrs["kind_split"]``) as ``(heading, frame)`` per
    kind, each an ordinary frequency frame with its own group sizes; ``[]`` otherwise."""
    if not frame.attrs.get("kind_split"):
        return []
    style = _style(style)
    sizes = frame.attrs.get("group_sizes", {})
    out = []
    for kind in dict.fromkeys(col[0] for col in frame.columns):
        part = frame.xs(kind, axis=1, level=0).copy()
        part.attrs = {
            **frame.attrs,
            "by": frame.attrs["by"][1:],
            "kind_split": False,
            "group_sizes": {k[1:]: n for k, n in sizes.items() if k[0] == kind},
        }
        total = part.attrs["group_sizes"].get((TOTAL,) * len(part.attrs["by"]), 0)
        out.append((f"{style.label('kind', kind).capitalize()} (n={total})", part))
    return out


# -- co-occurrence ----------------------------------------------------------------------------
def cooccurrence_table(
    frame: pd.DataFrame,
    *,
    pretty: bool = False,
    numbers: bool = False,
    style: Presentation | None = None,
) -> pd.DataFrame:
    """The matrix with a leading code column: ids (CSV), or display labels with subcodes
    marked, as text cells (``pretty``) or numbers (``numbers``, the xlsx sheet)."""
    style = _style(style)
    labels, levels = frame.attrs.get("labels", {}), frame.attrs.get("levels", {})
    if pretty or numbers:
        jaccard = frame.attrs.get("measure") == "jaccard"
        names = [subcode_label(labels.get(c, c), levels.get(c, 1)) for c in frame.index]
        cells = {}
        for j, col in enumerate(frame.columns):
            values = frame[col].to_numpy()
            cells[names[j]] = (
                list(values)
                if numbers
                else [
                    _number(v, 2, style) if (jaccard and i != j) else str(int(v))
                    for i, v in enumerate(values)
                ]
            )
        return pd.DataFrame({style.text("code"): names, **cells})
    out = frame.copy()
    out.insert(0, "code", list(frame.index))
    return out.reset_index(drop=True)


def render_cooccurrence(
    frame: pd.DataFrame,
    output: str | Path,
    fmt: str | None = None,
    *,
    style: Presentation | None = None,
) -> Path:
    """Write the co-occurrence matrix as md, csv, xlsx or html."""
    style = _style(style)
    fmt = infer_format(output, fmt, TABLE_FORMATS)
    unit = frame.attrs.get("unit", "segment")
    measure = frame.attrs.get("measure", "count")
    intro = [
        style.text(f"cooc.intro.{measure}.{unit}"),
        style.source_text(frame.attrs.get("source")),
    ]
    table = cooccurrence_table(frame, numbers=True, style=style)
    number = "0.00" if measure == "jaccard" else "0"
    return _write_table_format(
        cooccurrence_table(frame),
        Path(output),
        fmt,
        title=style.text(f"cooc.title.{unit}"),
        intro=intro,
        pretty=cooccurrence_table(frame, pretty=True, style=style),
        sheets={style.text("code"): (table, {c: number for c in table.columns[1:]})},
        style=style,
    )


# -- quotes -----------------------------------------------------------------------------------
def attribution_text(row: Any, style: Presentation | None = None) -> str:
    """Who said it, for a reader: the title as written, or the group's display label."""
    style = _style(style)
    value = str(row.attribution)
    by = getattr(row, "attributed_by", "title")
    if by == "none":
        return style.text("respondent")
    if by == "group":
        shown = style.label("group", value)
        return shown if shown != value else style.label("main_group", value)
    return value


def render_quotes(
    frame: pd.DataFrame,
    output: str | Path,
    fmt: str | None = None,
    *,
    style: Presentation | None = None,
) -> Path:
    """Write quotes as md, docx (Word styles), csv (with document, offsets, code, score) or html.

    Text from transcripts is escaped: in Markdown nothing a respondent said can become a
    link, an image or HTML."""
    style = _style(style)
    fmt = infer_format(output, fmt, QUOTE_FORMATS)
    output = Path(output)
    if fmt == "csv":
        return write_table(frame, output, "csv", dialect=style.csv_dialect)
    sections = _quote_sections(frame, style)
    title = style.text("quotes.title")
    if fmt == "docx":
        return _quotes_docx(sections, output, style)
    if fmt == "md":
        parts = [f"# {markdown_escape(title)}\n"]
        for code, label, rows in sections:
            parts.append(f"\n## {markdown_escape(f'{label} ({code})')}\n")
            if rows.empty:
                parts.append(f"\n*{markdown_escape(style.text('quotes.none'))}*\n")
            for row in rows.itertuples(index=False):
                parts.append(
                    f"\n> {markdown_escape(row.text)}\n\n"
                    f"({markdown_escape(attribution_text(row, style))})\n"
                )
        return write_text_atomic(output, "".join(parts))
    body = []
    for code, label, rows in sections:
        body.append(f"<h2>{html.escape(str(label))} ({html.escape(code)})</h2>\n")
        if rows.empty:
            body.append(f"<p><em>{html.escape(style.text('quotes.none'))}</em></p>\n")
        for row in rows.itertuples(index=False):
            body.append(
                f"<blockquote>{html.escape(row.text)}</blockquote>\n"
                f'<p class="attribution">({html.escape(attribution_text(row, style))})</p>\n'
            )
    return write_text_atomic(output, _html_document(title, [], "".join(body), style.lang))


def _quote_sections(
    frame: pd.DataFrame, style: Presentation
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
                sections.append(
                    (
                        code,
                        f"{labels.get(code, code)} – {style.label('kind', kind)}",
                        rows[rows["kind"] == kind],
                    )
                )
        else:
            sections.append((code, labels.get(code, code), rows))
    return sections


#: Word paragraph styles of the quotes document (the heading is Word's own "Heading 1").
QUOTE_STYLE = "Quote"
ATTRIBUTION_STYLE = "Quote Attribution"


def new_docx(style: Presentation, *, landscape: bool = False) -> Any:
    """A Word document on A4 with 2.5 cm margins, the "Quote Attribution" style added."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    document = Document()
    for section in document.sections:
        section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = (
            (Mm(297), Mm(210)) if landscape else (Mm(210), Mm(297))
        )
        section.left_margin = section.right_margin = Mm(20 if landscape else 25)
        section.top_margin = section.bottom_margin = Mm(20 if landscape else 25)
    styles = document.styles
    attribution = styles.add_style(ATTRIBUTION_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    attribution.base_style = styles["Normal"]
    attribution.font.size = Pt(10)
    attribution.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    attribution.paragraph_format.space_after = Pt(12)
    return document


def save_docx(document: Any, output: Path, style: Presentation, title: str) -> Path:
    """Set the proofing language on the defaults, every style and every run of text, fix the
    core properties and write the file deterministically."""
    language = DOCX_LANGUAGE[style.lang]
    from docx.oxml.ns import qn

    root = document.styles.element
    targets = list(root.iter(qn("w:rPr")))
    for style_element in root.iter(qn("w:style")):
        if style_element.find(qn("w:rPr")) is None:
            targets.append(style_element.get_or_add_rPr())
    targets += [run.get_or_add_rPr() for run in document.element.body.iter(qn("w:r"))]
    for rpr in targets:
        _set_language(rpr, language)
    props = document.core_properties
    fixed = datetime(2000, 1, 1)
    props.author = props.last_modified_by = "qcode"
    props.title, props.comments, props.revision = title, "", 1
    props.language = language
    props.created = props.modified = fixed
    with atomic_path(output) as tmp:
        document.save(str(tmp))
    return normalise_zip(output)


def _set_language(rpr: Any, language: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        # w:lang comes late in a run's properties; before the few elements that may follow it
        following = [rpr.find(qn(t)) for t in ("w:eastAsianLayout", "w:specVanish", "w:oMath")]
        anchor = next((e for e in following if e is not None), None)
        if anchor is not None:
            anchor.addprevious(lang)
        else:
            rpr.append(lang)
    lang.set(qn("w:val"), language)
    lang.set(qn("w:eastAsia"), language)


def _quotes_docx(
    sections: list[tuple[str, str, pd.DataFrame]], output: Path, style: Presentation
) -> Path:
    """A Word document: a Heading 1 per code, each quote in the "Quote" style and its
    attribution in a right-aligned "Quote Attribution" style, ready to paste into a report."""
    document = new_docx(style)
    title = style.text("quotes.title")
    document.add_heading(title, level=0)
    for code, label, rows in sections:
        document.add_heading(xml_safe(f"{label} ({code})"), level=1)
        if rows.empty:
            document.add_paragraph(style.text("quotes.none"))
        for row in rows.itertuples(index=False):
            document.add_paragraph(xml_safe(row.text), style=QUOTE_STYLE)
            document.add_paragraph(
                xml_safe(f"({attribution_text(row, style)})"), style=ATTRIBUTION_STYLE
            )
    return save_docx(document, output, style, title)


# -- crosstab ---------------------------------------------------------------------------------
def indicator_label(result: Any, indicator: str, style: Presentation | None = None) -> str:
    """An indicator as a reader sees it: "Kunskap: andel god eller mycket god"."""
    style = _style(style)
    spec = getattr(result, "indicator_specs", {}).get(indicator)
    if spec is None or spec.kind == "value":
        return spec.question(style.lang) if spec is not None else str(indicator)
    question = spec.question(style.lang)
    if spec.kind == "share":
        answers = style.text("cross.or").join(a.replace("_", " ") for a in spec.answers)
        return style.text("cross.share_of", question=question, answers=answers)
    return style.text("cross.mean_of", question=question, low=1, high=len(spec.answers))


def _theme_label(result: Any, theme: str) -> str:
    theme = theme.removeprefix("survey_theme:")
    labels = getattr(result, "theme_labels", {})
    levels = getattr(result, "theme_levels", {})
    return subcode_label(labels.get(theme, theme), levels.get(theme, 1))


def _crosstab_columns(
    result: Any, style: Presentation
) -> tuple[dict[str, str], set[str], set[str]]:
    """Display name of every group-table column, and which columns are shares or means."""
    by = getattr(result, "by", "group")
    names = {
        by: style.key_name(by).capitalize(),
        "documents": style.text("cross.interviews"),
        "survey_documents": style.text("cross.survey_answers"),
        "respondents": style.text("cross.respondents"),
    }
    shares: set[str] = set()
    means: set[str] = set()
    for column in result.table.columns:
        if str(column).startswith("theme:"):
            theme = str(column).removeprefix("theme:")
            names[column] = style.text("cross.theme_col", theme=_theme_label(result, theme))
            shares.add(column)
        elif str(column).startswith("survey_theme:"):
            names[column] = style.text(
                "cross.survey_theme_col", theme=_theme_label(result, str(column))
            )
            shares.add(column)
        elif column in result.indicators:
            names[column] = indicator_label(result, column, style)
            spec = getattr(result, "indicator_specs", {}).get(column)
            kind = (
                spec.kind
                if spec is not None
                else ("share" if result.survey_kind == "respondents" else "value")
            )
            (shares if kind == "share" else means if kind == "mean" else set()).add(column)
    return names, shares, means


def _crosstab_notes(result: Any, style: Presentation) -> list[str]:
    intro = [
        style.text(
            "cross.intro",
            by=style.key_name(getattr(result, "by", "group")),
            min_groups=_min_groups(),
        )
    ]
    if "survey_documents" in result.table.columns:
        intro.append(style.text("cross.survey_note"))
    if result.tests:
        intro.append(style.text("cross.tests", tests=result.tests))
    for key, fields in getattr(result, "notes", []):
        groups = [style.label(getattr(result, "by", "group"), g) for g in fields.get("groups", [])]
        kinds = "+".join(fields.get("kinds") or ["interview"])
        intro.append(
            style.text(
                key,
                count=len(groups),
                groups=", ".join(groups),
                what=style.text(f"cross.what.{kinds}"),
            )
        )
    return intro


def _min_groups() -> int:
    from .crosstab import MIN_GROUPS

    return MIN_GROUPS


def crosstab_tables(
    result: Any, *, pretty: bool = False, numbers: bool = False, style: Presentation | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(group table, correlation table): ids (CSV), or for people with display labels and
    translated headers, as text (``pretty``: shares as percentages) or numbers (``numbers``)."""
    table, corr = result.table.copy(), result.correlations.copy()
    if not pretty and not numbers:
        return table, corr
    style = _style(style)
    by = getattr(result, "by", "group")
    names, shares, means = _crosstab_columns(result, style)
    table[by] = table[by].map(lambda g: style.label(by, g))
    notes = {
        "too few groups": style.text("cross.too_few", min_groups=_min_groups()),
        "constant values": style.text("cross.constant"),
    }
    corr["theme"] = corr["theme"].map(lambda t: _theme_label(result, t))
    corr["indicator"] = corr["indicator"].map(lambda i: indicator_label(result, i, style))
    corr["note"] = corr["note"].map(lambda n: notes.get(n, n))
    if pretty:
        for column in table.columns:
            if column in shares:
                table[column] = table[column].map(percent)
            elif column in means:
                table[column] = table[column].map(lambda v: _number(v, 2, style))
            elif pd.api.types.is_numeric_dtype(table[column]):
                table[column] = table[column].map(lambda v: _number(v, None, style))
        for column in ("rho", "p_value", "p_adjusted"):
            places = 2 if column == "rho" else 3
            corr[column] = corr[column].map(lambda v, places=places: _number(v, places, style))
    table = table.rename(columns=names)
    corr = corr.rename(
        columns={
            "theme": style.text("cross.theme"),
            "indicator": style.text("cross.indicator"),
            "n": style.text("cross.n"),
            "rho": style.text("cross.rho"),
            "p_value": style.text("cross.p"),
            "p_adjusted": style.text("cross.p_adjusted"),
            "note": style.text("cross.note"),
        }
    )
    return table, corr


def render_crosstab(
    result: Any, output: str | Path, fmt: str | None = None, *, style: Presentation | None = None
) -> list[Path]:
    """Write the crosstab: md/html with both tables and the notes, xlsx with two sheets,
    csv as the group table plus ``<name>.correlations.csv``. Returns the files written."""
    style = _style(style)
    fmt = infer_format(output, fmt, TABLE_FORMATS)
    output = Path(output)
    intro = _crosstab_notes(result, style)
    title = style.text("cross.title", by=style.key_name(getattr(result, "by", "group")))
    if fmt == "csv":
        corr_path = output.with_name(output.stem + ".correlations.csv")
        return [
            write_table(result.table, output, "csv", dialect=style.csv_dialect),
            write_table(result.correlations, corr_path, "csv", dialect=style.csv_dialect),
        ]
    if fmt == "xlsx":
        table, corr = crosstab_tables(result, numbers=True, style=style)
        names, shares, means = _crosstab_columns(result, style)
        formats = {names[c]: PERCENT for c in shares} | {names[c]: "0.00" for c in means}
        corr_formats = {
            style.text("cross.rho"): "0.00",
            style.text("cross.p"): "0.000",
            style.text("cross.p_adjusted"): "0.000",
        }
        return [
            write_xlsx(
                {
                    style.text("cross.sheet_groups"): (table, formats),
                    style.text("cross.sheet_correlations"): (corr, corr_formats),
                },
                output,
            )
        ]
    table, corr = crosstab_tables(result, pretty=True, style=style)
    heading = style.text("cross.corr_title")
    if fmt == "md":
        body = (
            frame_to_markdown(table)
            + f"\n## {markdown_escape(heading)}\n\n"
            + frame_to_markdown(corr)
        )
        return [write_text_atomic(output, _md_document(title, intro, body))]
    body = _html_table(table) + f"<h2>{html.escape(heading)}</h2>\n" + _html_table(corr)
    return [write_text_atomic(output, _html_document(title, intro, body, style.lang))]


# -- keyword in context -----------------------------------------------------------------------
SEARCH_FORMATS = ("md", "csv", "xlsx", "html")


def search_table(frame: pd.DataFrame, *, style: Presentation | None = None) -> pd.DataFrame:
    """The hits for people: left context, match, right context, document, role (labels)."""
    style = _style(style)

    def role(row: Any) -> str:
        if row.is_interviewer:
            return style.text("interviewer")
        if row.role == "respondent":
            return style.text("respondent")
        return style.label("group", row.role) if row.role == row.group else row.role

    return pd.DataFrame(
        {
            style.text("search.left"): frame["left"].to_numpy(),
            style.text("search.match"): frame["match"].to_numpy(),
            style.text("search.right"): frame["right"].to_numpy(),
            style.text("search.document"): frame["document"].to_numpy(),
            style.text("search.role"): [role(r) for r in frame.itertuples(index=False)],
        }
    )


def render_search(
    frame: pd.DataFrame,
    output: str | Path,
    fmt: str | None = None,
    *,
    style: Presentation | None = None,
) -> Path:
    """Write keyword-in-context hits as md, csv (ids and offsets), xlsx or html."""
    style = _style(style)
    fmt = infer_format(output, fmt, SEARCH_FORMATS)
    output = Path(output)
    if fmt == "csv":
        return write_table(frame, output, "csv", dialect=style.csv_dialect)
    table = search_table(frame, style=style)
    if fmt == "xlsx":
        return write_xlsx({style.text("search.sheet"): table}, output)
    title = style.text("search.title", terms=", ".join(frame.attrs.get("terms", [])))
    intro = [
        style.text(
            "search.intro",
            hits=len(frame),
            documents=frame.attrs.get("documents", frame["document"].nunique()),
        )
    ]
    if fmt == "md":
        return write_text_atomic(output, _md_document(title, intro, frame_to_markdown(table)))
    return write_text_atomic(output, _html_document(title, intro, _html_table(table), style.lang))


# -- quote matrix -----------------------------------------------------------------------------
def quote_matrix_table(
    frame: pd.DataFrame, *, style: Presentation | None = None, cell: Any = None
) -> pd.DataFrame:
    """The matrix for people: codes × groups (groups as rows when there are more of them, or
    as ``style.transpose`` says), each cell the quote and its attribution."""
    style = _style(style)
    codes = frame.attrs.get("codes") or list(dict.fromkeys(frame["code"]))
    labels = frame.attrs.get("labels", {})
    by = frame.attrs.get("by", "group")
    values = frame.attrs.get("values") or list(dict.fromkeys(frame["value"]))
    cell = cell or (lambda row: f"{row.text} ({attribution_text(row, style)})")
    cells = {(r.code, r.value): cell(r) for r in frame.itertuples(index=False)}
    code_names = [labels.get(c, c) for c in codes]
    value_names = [style.label(by, v) for v in values]
    turned = style.transpose if style.transpose is not None else len(values) > len(codes)
    if turned:
        out = pd.DataFrame({style.key_name(by).capitalize(): value_names})
        for code, name in zip(codes, code_names):
            out[name] = [cells.get((code, v), "") for v in values]
        return out
    out = pd.DataFrame({style.text("code"): code_names})
    for value, name in zip(values, value_names):
        out[name] = [cells.get((c, value), "") for c in codes]
    return out


def render_quote_matrix(
    frame: pd.DataFrame,
    output: str | Path,
    fmt: str | None = None,
    *,
    style: Presentation | None = None,
) -> Path:
    """Write the quote matrix as xlsx (wrapped cells), docx (an A4 landscape table), md, html
    or csv (one row per cell, ids)."""
    style = _style(style)
    fmt = infer_format(output, fmt, MATRIX_FORMATS)
    output = Path(output)
    if fmt == "csv":
        return write_table(frame, output, "csv", dialect=style.csv_dialect)
    by = style.key_name(frame.attrs.get("by", "group"))
    title = style.text("matrix.title", by=by)
    intro = [style.text("matrix.intro", by=by)]
    if fmt == "docx":
        return _quote_matrix_docx(frame, output, style, title, intro)
    if fmt == "xlsx":
        table = quote_matrix_table(
            frame, style=style, cell=lambda r: f"{r.text}\n({attribution_text(r, style)})"
        )
        table.attrs["wrap"] = True
        return write_xlsx({style.text("matrix.sheet"): table}, output)
    table = quote_matrix_table(frame, style=style)
    if fmt == "md":
        return write_text_atomic(output, _md_document(title, intro, frame_to_markdown(table)))
    return write_text_atomic(output, _html_document(title, intro, _html_table(table), style.lang))


def _quote_matrix_docx(
    frame: pd.DataFrame, output: Path, style: Presentation, title: str, intro: list[str]
) -> Path:
    document = new_docx(style, landscape=True)
    document.add_heading(title, level=1)
    for line in intro:
        document.add_paragraph(line)
    grid = quote_matrix_table(
        frame, style=style, cell=lambda r: (r.text, attribution_text(r, style))
    )
    table = document.add_table(rows=1, cols=len(grid.columns))
    table.style = document.styles["Table Grid"]
    for j, name in enumerate(grid.columns):
        table.rows[0].cells[j].paragraphs[0].add_run(str(name)).bold = True
    for values in grid.itertuples(index=False):
        cells = table.add_row().cells
        cells[0].paragraphs[0].add_run(str(values[0])).bold = True
        for j, value in enumerate(values[1:], start=1):
            if not value:
                continue
            text, who = value
            cells[j].paragraphs[0].add_run(text).italic = True
            cells[j].add_paragraph(f"({who})", style=ATTRIBUTION_STYLE)
    return save_docx(document, output, style, title)
