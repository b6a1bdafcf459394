"""Human review: review sheets out (xlsx/csv) and back in, and hand-made codings files in.

A review sheet has one row per coded segment (``segment`` id ``document#index``, document,
title, group, speaker, text), one column per code holding the automatic suggestion (``1`` or
blank) for the coder to confirm, clear or add, and a ``note`` column. In xlsx the suggestion's
source and score sit in a cell comment; CSV has ``score:<code>`` side columns instead (CSV has
no comments). Importing a sheet turns every row into that coder's decisions on that segment:
the codes ticked become human codings, the codes left blank are removed from the coder's
earlier codings there. The same file imported twice changes nothing.

Nothing in an imported workbook is ever evaluated: cells are read with ``data_only=False``,
so a formula arrives as its text and is refused in a code cell or neutralised in a note.

>>> from qcode.store import Store
>>> frame = review_frame(Store(":memory:"))
>>> list(frame.columns)
['segment', 'document', 'title', 'group', 'speaker', 'text', 'note']
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import ReviewError
from .models import AUTOMATIC_SOURCES, Coding
from .store import Store
from .tables import TABLE_SUFFIXES, read_table_file
from .writers import atomic_path, escape_formula, infer_format, xml_safe

#: the fixed columns of a review sheet, before the code columns.
FIXED_COLUMNS = ["segment", "document", "title", "group", "speaker", "text"]
NOTE_COLUMN = "note"
#: human codings that went stale when their text changed, listed on the row of the segment
#: holding their best candidate passage (read-only: `qcode stale` resolves them).
STALE_COLUMN = "stale"
SCORE_PREFIX = "score:"
#: cell values read as "this code applies" / "it does not" (case-insensitive, Swedish too).
YES = {"1", "1.0", "x", "ja", "yes", "true", "j", "y"}
NO = {"", "0", "0.0", "nej", "no", "false", "n"}
AUTO_SOURCES = AUTOMATIC_SOURCES


@dataclass
class ImportResult:
    """What an import did: codings ``added`` and ``removed``, ``segments`` with decisions,
    and ``problems`` (rows skipped with the reason: unknown segment, changed text, unknown
    code), each a one-line message naming the file and line."""

    added: int = 0
    removed: int = 0
    segments: int = 0
    problems: list[str] = field(default_factory=list)
    #: remarks on the file itself (read as cp1252), printed but not counted as skipped rows.
    warnings: list[str] = field(default_factory=list)


# -- export ---------------------------------------------------------------------------------
def segment_id(document: str, index: int) -> str:
    """The id a review sheet uses for a segment: ``document#index``."""
    return f"{document}#{int(index)}"


def parse_segment_id(value: str) -> tuple[str, int] | None:
    """``'polis-01#3'`` -> ``('polis-01', 3)``; None when the text is not such an id."""
    document, sep, index = value.rpartition("#")
    if not sep or not document or not index.strip().isdigit():
        return None
    return document, int(index)


def _column_for(code: str, columns: Sequence[str]) -> str | None:
    """The deepest sheet column that is ``code`` or one of its ancestors."""
    best = None
    for column in columns:
        if code == column or code.startswith(column + "/"):
            if best is None or len(column) > len(best):
                best = column
    return best


def review_frame(
    store: Store,
    codes: Sequence[str] = (),
    groups: Sequence[str] = (),
    *,
    sources: Sequence[str] = AUTO_SOURCES,
    include_interviewer: bool = False,
    blank: bool = False,
    sample: int | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """The review sheet as a DataFrame: fixed columns, one column per code with ``1`` where
    the automatic codings suggest it, ``score:<code>`` with the best score, and ``note``.

    ``codes`` defaults to every code of the project in codebook order; a coding of a subcode
    counts for its nearest ancestor among the columns. ``groups`` keeps only documents whose
    ``group`` metadata is one of them.

    ``blank`` gives a sheet for blind coding: every code cell empty and no score columns, so
    nothing in it shows what the machine suggested. ``sample`` keeps that many segments drawn
    at random with ``seed``, stratified by group (see :func:`sample_segments`): two coders
    given the same sample code the same units independently.
    """
    known = store.codes_frame()["path"].tolist()
    columns = list(codes) or known
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise ReviewError(
            f"unknown code(s) {', '.join(unknown)}; the project has: "
            + (", ".join(known) or "(no codes yet; run `qcode tag`)")
        )
    segments = store.segments_frame()
    documents = store.documents_frame()[["document", "title", "group"]]
    segments = segments.merge(documents, on="document", how="left")
    if not include_interviewer:
        segments = segments[~segments["is_interviewer"]]
    if groups:
        segments = segments[segments["group"].isin(list(groups))]
    if sample is not None:
        segments = sample_segments(segments, sample, seed)
    frame = pd.DataFrame(
        {
            "segment": [
                segment_id(d, i) for d, i in zip(segments["document"], segments["segment"])
            ],
            "document": segments["document"].tolist(),
            "title": segments["title"].tolist(),
            "group": segments["group"].tolist(),
            "speaker": segments["speaker"].tolist(),
            "text": segments["text"].tolist(),
        }
    )
    if blank:  # blind coding: no suggestion, no score, and no earlier (stale) human coding
        for column in columns:
            frame[column] = pd.Series([None] * len(frame), dtype=object)
        frame[NOTE_COLUMN] = ""
        return frame.reset_index(drop=True)
    suggestions: dict[tuple[str, str], float] = {}
    codings = store.codings_frame(source=list(sources), with_text=False)
    for row in codings.itertuples(index=False):
        if pd.isna(row.segment):
            continue
        column = _column_for(row.code, columns)
        if column is None:
            continue
        key = (segment_id(row.document, row.segment), column)
        score = float(row.score) if row.score is not None and not pd.isna(row.score) else 1.0
        suggestions[key] = max(score, suggestions.get(key, 0.0))
    for column in columns:
        frame[column] = pd.Series(
            [1 if (sid, column) in suggestions else None for sid in frame["segment"]], dtype=object
        )
    for column in columns:
        frame[SCORE_PREFIX + column] = [
            round(suggestions[(sid, column)], 3) if (sid, column) in suggestions else None
            for sid in frame["segment"]
        ]
    frame[NOTE_COLUMN] = ""
    stale = _stale_notes(store)
    if stale:
        frame[STALE_COLUMN] = [stale.get(sid, "") for sid in frame["segment"]]
    return frame.reset_index(drop=True)


def _stale_notes(store: Store) -> dict[str, str]:
    """Segment id -> the stale human codings whose candidate passage lies in it (or, with no
    candidate, that were on it), so they show in the sheet instead of silently vanishing."""
    stale = store.stale_codings_frame()
    if stale.empty:
        return {}
    spans = store.segment_spans()
    notes: dict[str, list[str]] = {}
    for row in stale.itertuples(index=False):
        where = None
        if not pd.isna(row.candidate_start):
            where = next(
                (
                    idx
                    for (doc, idx), (s, e) in spans.items()
                    if doc == row.document and s <= row.candidate_start < e
                ),
                None,
            )
        if where is None and not pd.isna(row.segment):
            where = int(row.segment)
        if where is None:
            continue
        old = " ".join(str(row.old_text).split())
        notes.setdefault(segment_id(row.document, where), []).append(
            f"{row.code} ({row.coder}, stale #{row.id}): «{old}» — qcode stale --accept {row.id}"
        )
    return {sid: "\n".join(lines) for sid, lines in notes.items()}


def sample_segments(segments: pd.DataFrame, size: int, seed: int = 0) -> pd.DataFrame:
    """``size`` rows of ``segments`` drawn at random, stratified by ``group``, in their
    original order; the same rows for the same segments and ``seed`` on any machine.

    Each group gets its share of the sample by largest remainder, and at least one segment
    when ``size`` allows one per group, so a small group is never left out by chance.

    >>> rows = pd.DataFrame({"document": list("aabbbb"), "segment": range(6),
    ...                      "group": ["x", "x", "y", "y", "y", "y"]})
    >>> sample_segments(rows, 3, seed=1)["group"].tolist()
    ['x', 'y', 'y']
    """
    import random

    if size < 1:
        raise ReviewError(f"--sample must be at least 1 (got {size})")
    if size >= len(segments):
        return segments
    groups = segments["group"].fillna("").astype(str)
    members: dict[str, list[int]] = {}
    for position, group in enumerate(groups):
        members.setdefault(group, []).append(position)
    names = sorted(members)
    base = {g: 1 if size >= len(names) else 0 for g in names}
    left = size - sum(base.values())
    pool = sum(len(members[g]) - base[g] for g in names)
    exact = {g: left * (len(members[g]) - base[g]) / pool if pool else 0.0 for g in names}
    quota = {g: base[g] + int(exact[g]) for g in names}
    by_remainder = sorted(names, key=lambda g: (-(exact[g] - int(exact[g])), g))
    for g in by_remainder[: size - sum(quota.values())]:
        quota[g] += 1
    rng = random.Random(seed)
    chosen = sorted(
        p for g in names for p in rng.sample(members[g], min(quota[g], len(members[g])))
    )
    return segments.iloc[chosen]


def write_review(frame: pd.DataFrame, output: str | Path, fmt: str | None = None) -> Path:
    """Write a review frame as xlsx (comments, frozen header, validation) or csv, atomically."""
    chosen = infer_format(output, fmt, ("xlsx", "csv"))
    output = Path(output)
    with atomic_path(output) as tmp:
        if chosen == "csv":
            _write_csv(frame, tmp)
        else:
            _write_xlsx(frame, tmp)
    return output


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            # a list, not Series.map: map would turn the 1/None code cells into 1.0/NaN
            out[column] = pd.Series(
                [escape_formula(v) for v in out[column]], index=out.index, dtype=object
            )
    out.columns = [str(escape_formula(c)) for c in out.columns]
    out.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def _write_xlsx(frame: pd.DataFrame, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    codes = [
        c
        for c in frame.columns
        if c not in FIXED_COLUMNS
        and c not in (NOTE_COLUMN, STALE_COLUMN)
        and not c.startswith(SCORE_PREFIX)
    ]
    columns = (
        FIXED_COLUMNS
        + codes
        + [NOTE_COLUMN]
        + ([STALE_COLUMN] if STALE_COLUMN in frame.columns else [])
    )
    book = Workbook()
    sheet = book.active
    sheet.title = "review"
    sheet.append([escape_formula(c) for c in columns])
    header_font = Font(bold=True)
    for cell in sheet[1]:
        cell.font = header_font
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    suggested = PatternFill("solid", fgColor="FFF2CC")
    for values in frame.itertuples(index=False):
        row = dict(zip(frame.columns, values))
        sheet.append([_cell(row[c]) for c in columns])
        r = sheet.max_row
        for j, code in enumerate(codes, start=len(FIXED_COLUMNS) + 1):
            score = row.get(SCORE_PREFIX + code)
            if row[code] == 1:
                cell = sheet.cell(row=r, column=j)
                cell.fill = suggested
                cell.comment = Comment(
                    f"qcode: suggested, score {score:.2f}", "qcode", width=160, height=40
                )
    widths = {
        "segment": 16,
        "document": 16,
        "title": 24,
        "group": 12,
        "speaker": 10,
        "text": 70,
        NOTE_COLUMN: 30,
        STALE_COLUMN: 40,
    }
    wrap = Alignment(wrap_text=True, vertical="top")
    for j, name in enumerate(columns, start=1):
        letter = get_column_letter(j)
        sheet.column_dimensions[letter].width = widths.get(name, max(8, min(18, len(name) + 2)))
        if name in ("text", "title", NOTE_COLUMN, STALE_COLUMN):
            for cell in sheet[letter][1:]:
                cell.alignment = wrap
    sheet.freeze_panes = "A2"
    if codes and sheet.max_row > 1:
        validation = DataValidation(
            type="list",
            formula1='"1"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="qcode",
            error="Write 1 when the code applies, or leave the cell empty.",
        )
        first = get_column_letter(len(FIXED_COLUMNS) + 1)
        last = get_column_letter(len(FIXED_COLUMNS) + len(codes))
        validation.add(f"{first}2:{last}{sheet.max_row}")
        sheet.add_data_validation(validation)
    book.save(path)


def _cell(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return None
    return escape_formula(xml_safe(value))


# -- reading sheets back ----------------------------------------------------------------------
def _unescape(value: str) -> str:
    """Undo :func:`escape_formula` so ids and notes round-trip."""
    if value.startswith("'") and value[1:2] and value[1] in "=+-@\t\r":
        return value[1:]
    return value


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFC", str(value)).strip()


def read_sheet(
    path: str | Path, *, what: str = "review sheet", warnings: list[str] | None = None
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and rows (with their 1-based line/row number) of a review xlsx or csv/tsv, every
    cell as text, read by the one table reader (:func:`qcode.tables.read_table_file`: Swedish
    Excel's ``;`` and cp1252 too). Formulas are never evaluated: their source text is read."""
    path = Path(path)
    if not path.exists():
        raise ReviewError(f"{what} not found", path=str(path))
    if path.suffix.lower() not in TABLE_SUFFIXES:
        raise ReviewError(f"cannot read this {what}; use .xlsx or .csv", path=str(path))
    table = read_table_file(path, what=what, error=ReviewError, keep_formulas=True, sheet="review")
    if warnings is not None:  # the encoding fallback, for the caller to print
        warnings.extend(table.warnings)
    return (
        [_text(h) for h in table.header],
        [(line, [_text(v) for v in values]) for line, values in table.rows],
    )


def _squash(text: str) -> str:
    """Text compared with white space collapsed: spreadsheets may rewrap line ends."""
    return " ".join(text.split())


def _same_text(sheet: str, stored: str) -> bool:
    """Whether a sheet's text is the stored segment: equal up to white space, where each
    redaction placeholder (``[NAMN-1]``, ``[TELEFON]``) stands for the text it hid."""
    from .privacy import PLACEHOLDER

    sheet, stored = _squash(sheet), _squash(stored)
    if sheet == stored:
        return True
    parts = PLACEHOLDER.split(sheet)
    if len(parts) == 1:
        return False
    pattern = r"\S.*?".join(re.escape(part) for part in parts)
    return re.fullmatch(pattern, stored, flags=re.S) is not None


@dataclass(frozen=True)
class Decision:
    """One coder's decisions on one segment: ``codes`` maps code path -> applies (True) or
    not (False); codes not named are left as they are. ``text`` is the segment text the coder
    saw (checked against the store before anything is written; None skips the check);
    ``where`` names the source of the decision in messages (``review.xlsx:12``)."""

    document: str
    segment: int
    codes: dict[str, bool]
    note: str = ""
    text: str | None = None
    where: str = ""


def read_review_sheet(
    path: str | Path, store: Store, *, warnings: list[str] | None = None
) -> tuple[list[Decision], list[str]]:
    """The decisions of a review sheet and the problems found reading it (unknown columns,
    bad segment ids). A code cell holding anything but ``1``/``x``/``ja`` or blank/``0``
    (a formula, a stray word) stops the import with the file and row, before anything is
    written. Whether each segment still exists with that text is checked by
    :func:`record_decisions`, under the lock that writes them.
    """
    path = Path(path)
    header, rows = read_sheet(path, warnings=warnings)
    lower = [h.lower() for h in header]
    if "segment" not in lower:
        raise ReviewError(
            f"no `segment` column; found {', '.join(header) or '(none)'} "
            "(export one with `qcode export review`)",
            path=str(path),
            line=1,
        )
    known_codes = set(store.codes_frame()["path"])
    position = {name: i for i, name in enumerate(lower)}
    code_columns: list[tuple[int, str]] = []
    problems: list[str] = []
    for i, name in enumerate(header):
        if name.lower() in FIXED_COLUMNS or name.lower() in (NOTE_COLUMN, STALE_COLUMN) or not name:
            continue
        if name.lower().startswith(SCORE_PREFIX):
            continue
        code = _unescape(name)
        if code in known_codes:
            code_columns.append((i, code))
        else:
            problems.append(f"{path}:1: column {code!r} is not a code of this project; ignored")
    if not code_columns:
        raise ReviewError("no code columns match the project's codes", path=str(path), line=1)
    decisions: list[Decision] = []
    seen: dict[tuple[str, int], dict[str, bool]] = {}

    def cell(values: list[str], column: str) -> str:
        i = position.get(column)
        return values[i] if i is not None and i < len(values) else ""

    for line, values in rows:
        if not any(values):
            continue
        raw_id = _unescape(cell(values, "segment"))
        key = parse_segment_id(raw_id)
        if key is None:
            problems.append(
                f"{path}:{line}: segment id {raw_id!r} is not document#index; row skipped"
            )
            continue
        wanted: dict[str, bool] = {}
        for i, code in code_columns:
            value = values[i] if i < len(values) else ""
            marker = _unescape(value).lower()
            if marker in YES:
                wanted[code] = True
            elif marker in NO:
                wanted[code] = False
            else:
                raise ReviewError(
                    f"column {code}: {value!r} is not a decision; write 1 (applies) or leave empty",
                    path=str(path),
                    line=line,
                )
        if key in seen and seen[key] != wanted:
            raise ReviewError(
                f"segment {raw_id} appears twice with different decisions",
                path=str(path),
                line=line,
            )
        seen[key] = wanted
        note = cell(values, NOTE_COLUMN)
        text = _unescape(cell(values, "text")) if "text" in position else ""
        decisions.append(
            Decision(
                key[0],
                key[1],
                wanted,
                str(escape_formula(_unescape(note))) if note else "",
                text or None,
                f"{path}:{line}",
            )
        )
    return decisions, problems


def _segment_texts(store: Store) -> dict[tuple[str, int], str]:
    frame = store.segments_frame()
    return {(d, int(i)): t for d, i, t in zip(frame["document"], frame["segment"], frame["text"])}


def _check_coder(coder: str) -> str:
    coder = unicodedata.normalize("NFC", (coder or "").strip())
    if not coder:
        raise ReviewError("give the coder's name with --coder NAME")
    if coder.lower() == "auto":
        raise ReviewError("'auto' names the automatic codings; choose another coder name")
    return coder


def record_decisions(store: Store, coder: str, decisions: Sequence[Decision]) -> ImportResult:
    """Check ``coder``'s decisions against the project and store them, under ONE write lock.

    A decision whose segment is gone, or whose ``text`` no longer matches the stored
    segment, is reported in ``problems``, not applied; the rest become the coder's human
    codings (code applies) and rejections (it does not), replacing their earlier decisions on
    those codes and segments. Because the check and the write share one transaction, a
    ``qcode tag`` re-segmenting a document cannot slip in between and move a decision onto
    another passage. Every way a person codes segments (review sheets, a workbench) goes
    through here.

    >>> record_decisions(store, "eva", [Decision("polis-01", 3, {"beredskap": True})]).added  # doctest: +SKIP
    1
    """
    coder = _check_coder(coder)
    with store.transaction():
        wanted, notes, problems = _checked(store, decisions)
        added, removed = store.replace_human_decisions(coder, wanted, notes)
    return ImportResult(added=added, removed=removed, segments=len(wanted), problems=problems)


def _checked(
    store: Store, decisions: Sequence[Decision]
) -> tuple[dict[tuple[str, int], dict[str, bool]], dict[tuple[str, int], str], list[str]]:
    """The decisions whose segment exists with the text the coder saw, as
    ``{(document, idx): {code: applies}}``, their notes, and a problem line for each other."""
    problems: list[str] = []
    wanted: dict[tuple[str, int], dict[str, bool]] = {}
    notes: dict[tuple[str, int], str] = {}
    spans = store.segment_spans()
    texts = _segment_texts(store) if any(d.text for d in decisions) else {}
    for decision in decisions:
        key = (decision.document, decision.segment)
        where = f"{decision.where}: " if decision.where else ""
        raw_id = segment_id(*key)
        if key not in spans:
            problems.append(f"{where}segment {raw_id} no longer exists in the project; row skipped")
            continue
        if decision.text and not _same_text(decision.text, texts[key]):
            problems.append(
                f"{where}the text of segment {raw_id} has changed since the "
                "sheet was exported; row skipped (export a new sheet)"
            )
            continue
        if key in wanted and wanted[key] != decision.codes:
            raise ReviewError(f"{where}segment {raw_id} has two different sets of decisions")
        wanted[key] = dict(decision.codes)
        if decision.note:
            notes[key] = decision.note
    return wanted, notes, problems


def read_review_decisions(
    path: str | Path, store: Store
) -> tuple[dict[tuple[str, int], dict[str, bool]], dict[tuple[str, int], str], list[str]]:
    """Decisions, notes and problems of a review sheet, checked against the store as it is
    now: for a look before importing. :func:`import_review` checks again under the lock
    that writes them."""
    decisions, problems = read_review_sheet(path, store)
    wanted, notes, more = _checked(store, decisions)
    return wanted, notes, problems + more


def import_review(path: str | Path, store: Store, coder: str) -> ImportResult:
    """Apply a filled-in review sheet as ``coder``'s decisions (see the module docstring).

    >>> import_review("review.xlsx", store, "anna").added  # doctest: +SKIP
    12
    """
    coder = _check_coder(coder)
    notes: list[str] = []
    decisions, problems = read_review_sheet(path, store, warnings=notes)  # read before the lock
    result = record_decisions(store, coder, decisions)
    result.problems[:0] = problems
    result.warnings[:0] = notes
    return result


# -- codings files ----------------------------------------------------------------------------
def import_codings(
    path: str | Path, store: Store, coder: str, *, snap: bool = False
) -> ImportResult:
    """Import hand-made codings from a CSV with ``document, start, end, code`` (spans, code
    points into the stored text) or ``document, segment, code`` (whole segments; ``segment``
    may be an index or a ``document#index`` id) as ``coder``'s human codings.

    Spans are stored as given; with ``snap`` each becomes the whole segment(s) it overlaps.
    Unknown documents, segments and codes are reported and skipped; rows already stored are
    not added again.
    """
    coder = _check_coder(coder)
    path = Path(path)
    notes: list[str] = []
    header, rows = read_sheet(path, what="codings file", warnings=notes)
    lower = [h.lower() for h in header]
    position = {name: i for i, name in enumerate(lower)}
    by_span = "start" in position and "end" in position
    by_segment = "segment" in position
    if "document" not in position or "code" not in position or not (by_span or by_segment):
        raise ReviewError(
            "expected columns document,start,end,code or document,segment,code; "
            f"found {', '.join(header) or '(none)'}",
            path=str(path),
            line=1,
        )
    known_codes = set(store.codes_frame()["path"])
    spans = store.segment_spans()
    by_document: dict[str, list[tuple[int, int, int]]] = {}
    for (doc, idx), (start, end) in spans.items():
        by_document.setdefault(doc, []).append((idx, start, end))
    for segs in by_document.values():
        segs.sort(key=lambda s: s[1])
    codings: list[Coding] = []
    problems: list[str] = []
    lengths: dict[str, int] = {}

    def cell(values: list[str], column: str) -> str:
        i = position[column]
        return _unescape(values[i]) if i < len(values) else ""

    for line, values in rows:
        if not any(values):
            continue
        doc, code = cell(values, "document"), cell(values, "code")
        if doc not in by_document:
            problems.append(f"{path}:{line}: document {doc!r} is not in the project; row skipped")
            continue
        if code not in known_codes:
            problems.append(f"{path}:{line}: unknown code {code!r}; row skipped")
            continue
        if by_span and (cell(values, "start") or not by_segment):
            if doc not in lengths:
                lengths[doc] = len(store.document_text(doc))
            made = _span_codings(
                doc,
                code,
                coder,
                cell(values, "start"),
                cell(values, "end"),
                by_document[doc],
                lengths[doc],
                snap,
                path,
                line,
                problems,
            )
        else:
            made = _segment_coding(
                doc, code, coder, cell(values, "segment"), spans, path, line, problems
            )
        codings.extend(made)
    added = store.add_human_codings(codings)
    return ImportResult(
        added=added,
        segments=len({(c.document_id, c.segment_index) for c in codings}),
        problems=problems,
        warnings=notes,
    )


def _segment_coding(
    doc: str,
    code: str,
    coder: str,
    value: str,
    spans: dict[tuple[str, int], tuple[int, int]],
    path: Path,
    line: int,
    problems: list[str],
) -> list[Coding]:
    parsed = parse_segment_id(value)
    if parsed is not None:
        if parsed[0] != doc:
            problems.append(
                f"{path}:{line}: segment {value} belongs to another document; row skipped"
            )
            return []
        index = parsed[1]
    elif value.isdigit():
        index = int(value)
    else:
        problems.append(f"{path}:{line}: segment {value!r} is not an index; row skipped")
        return []
    if (doc, index) not in spans:
        problems.append(f"{path}:{line}: segment {doc}#{index} does not exist; row skipped")
        return []
    start, end = spans[(doc, index)]
    return [Coding(doc, index, start, end, code, "human", 1.0, coder)]


def _span_codings(
    doc: str,
    code: str,
    coder: str,
    start_text: str,
    end_text: str,
    segments: list[tuple[int, int, int]],
    length: int,
    snap: bool,
    path: Path,
    line: int,
    problems: list[str],
) -> list[Coding]:
    try:
        start, end = int(start_text), int(end_text)
    except ValueError:
        problems.append(
            f"{path}:{line}: start/end {start_text!r}/{end_text!r} are not whole "
            "numbers; row skipped"
        )
        return []
    if not 0 <= start < end:
        problems.append(f"{path}:{line}: span {start}-{end} is empty or negative; row skipped")
        return []
    if end > length:
        problems.append(
            f"{path}:{line}: span {start}-{end} runs past the end of {doc} "
            f"({length} characters); row skipped"
        )
        return []
    overlapping = [(i, s, e) for i, s, e in segments if s < end and start < e]
    if not overlapping:
        problems.append(
            f"{path}:{line}: span {start}-{end} lies outside every segment of {doc}; row skipped"
        )
        return []
    if snap:
        return [Coding(doc, i, s, e, code, "human", 1.0, coder) for i, s, e in overlapping]
    containing = next((i for i, s, e in segments if s <= start < e), overlapping[0][0])
    return [Coding(doc, containing, start, end, code, "human", 1.0, coder)]
