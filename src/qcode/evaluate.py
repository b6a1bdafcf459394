"""Compare codings with a hand-coded gold standard: precision, recall, F1 and Cohen's kappa.

Gold files are CSV with one row per (document, code), or per coded span with ``start`` and
``end`` (code points into the stored document text). Document-level gold is evaluated per
document; span gold per segment, a gold span marking every segment it overlaps.

A code counts as present in a unit when the unit has that code or any of its subcodes (codes
are first rolled up to ``level``), matching how reports roll subcodes into their parents.

>>> import pandas as pd
>>> gold = pd.DataFrame({"document": ["a", "b"], "code": ["beredskap", "samverkan"]})
>>> predicted = pd.DataFrame({"document": ["a", "c"], "code": ["beredskap/saknas", "samverkan"]})
>>> table = evaluate_codings(predicted, gold, ["a", "b", "c"], codes=["beredskap", "samverkan"])
>>> table[["code", "tp", "fp", "fn"]].values.tolist()
[['beredskap', 1, 0, 0], ['samverkan', 0, 1, 1], ['macro', 1, 1, 1]]
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import ReviewError
from .tables import read_table_file

COLUMNS = ["code", "support", "predicted", "tp", "fp", "fn", "precision", "recall", "f1", "kappa"]

#: values of a gold file's ``main`` column read as "this row is the passage's main theme"
_TRUE = {"1", "true", "yes", "ja", "x", "main", "huvud"}
_FALSE = {"", "0", "false", "no", "nej"}


# -- reading gold -------------------------------------------------------------------------
def read_gold(path: str | Path) -> pd.DataFrame:
    """Read a gold CSV: columns ``document, code`` or ``document, start, end, code``.

    Other columns (e.g. ``main``) are kept as text. Column names are case-insensitive; the
    delimiter may be ``,``, ``;`` (Swedish Excel) or a tab. In a span file a row with empty
    ``start`` and ``end`` codes the whole document. Bad rows raise :class:`ReviewError` naming
    the file and line, e.g. ``gold.csv:4: start 'tolv' is not a whole number``.
    """
    path = Path(path)
    if not path.exists():
        raise ReviewError("gold file not found", path=str(path))
    table = read_table_file(
        path, what="gold file", expected="a header `document,code`", error=ReviewError
    )
    header = [h.strip().lower() for h in table.header]
    body = [(line, [str(v) for v in row if v is not None]) for line, row in table.rows]
    missing = [c for c in ("document", "code") if c not in header]
    if missing:
        raise ReviewError(
            f"gold file lacks column(s) {', '.join(missing)}; found {', '.join(header)}"
            " (expected document,code or document,start,end,code)",
            path=str(path),
            line=1,
        )
    spans = "start" in header or "end" in header
    if spans and not ("start" in header and "end" in header):
        raise ReviewError(
            "gold file needs both `start` and `end` columns, or neither", path=str(path), line=1
        )
    if len(set(header)) != len(header):
        raise ReviewError(
            f"gold file repeats a column name: {', '.join(header)}", path=str(path), line=1
        )
    rows = []
    for line, row in body:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise ReviewError(
                f"row has {len(row)} fields, the header {len(header)}", path=str(path), line=line
            )
        record: dict[str, Any] = {name: cell.strip() for name, cell in zip(header, row)}
        for name in ("document", "code"):
            if not record[name]:
                raise ReviewError(f"empty `{name}`", path=str(path), line=line)
        if spans:
            record["start"], record["end"] = _span(record["start"], record["end"], path, line)
        rows.append(record)
    frame = pd.DataFrame(rows, columns=header)
    if spans:
        frame["start"] = frame["start"].astype("Int64")
        frame["end"] = frame["end"].astype("Int64")
    front = ["document", "start", "end", "code"] if spans else ["document", "code"]
    frame = frame[front + [c for c in header if c not in front]]
    frame.attrs["warnings"] = list(table.warnings)  # e.g. read as cp1252
    return frame


def _span(start: str, end: str, path: Path, line: int) -> tuple[int | None, int | None]:
    if not start and not end:
        return None, None
    values = []
    for name, value in (("start", start), ("end", end)):
        try:
            number = int(value)
        except ValueError:
            raise ReviewError(
                f"{name} {value!r} is not a whole number", path=str(path), line=line
            ) from None
        if number < 0:
            raise ReviewError(f"{name} {number} is negative", path=str(path), line=line)
        values.append(number)
    if values[1] <= values[0]:
        raise ReviewError(
            f"end {values[1]} must be greater than start {values[0]}", path=str(path), line=line
        )
    return values[0], values[1]


# -- units --------------------------------------------------------------------------------
def roll_up(path: str, level: int) -> str:
    """``beredskap/saknas/helt`` at level 1 is ``beredskap``; shorter paths stay as they are."""
    return "/".join(path.split("/")[:level])


def _has(unit_codes: Iterable[str], code: str) -> bool:
    prefix = code + "/"
    return any(c == code or c.startswith(prefix) for c in unit_codes)


def _document_units(frame: pd.DataFrame, documents: set[str], level: int) -> dict[str, set[str]]:
    units: dict[str, set[str]] = {}
    for document, code in zip(frame["document"], frame["code"]):
        if document in documents:
            units.setdefault(document, set()).add(roll_up(str(code), level))
    return units


def _segment_units(
    frame: pd.DataFrame, segments: pd.DataFrame, documents: set[str], level: int
) -> dict[tuple[str, int], set[str]]:
    """Map rows to the segments they mark: by ``segment`` when given, else by overlap of
    ``start``/``end`` with the segment spans, else (no span) every segment of the document."""
    by_doc: dict[str, list[tuple[int, int, int]]] = {}
    for doc, seg, start, end in zip(
        segments["document"], segments["segment"], segments["start"], segments["end"]
    ):
        by_doc.setdefault(doc, []).append((int(seg), int(start), int(end)))
    units: dict[tuple[str, int], set[str]] = {}
    has_segment = "segment" in frame.columns
    has_span = "start" in frame.columns and "end" in frame.columns
    for row in frame.to_dict("records"):
        document = row["document"]
        if document not in documents:
            continue
        code = roll_up(str(row["code"]), level)
        if has_segment and not _missing(row["segment"]):
            marked = [int(row["segment"])]
        elif has_span and not _missing(row["start"]) and not _missing(row["end"]):
            start, end = int(row["start"]), int(row["end"])
            marked = [seg for seg, s, e in by_doc.get(document, ()) if s < end and start < e]
        else:
            marked = [seg for seg, _s, _e in by_doc.get(document, ())]
        for seg in marked:
            units.setdefault((document, seg), set()).add(code)
    return units


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


# -- scores -------------------------------------------------------------------------------
def _ratio(num: float, den: float) -> float:
    return num / den if den else math.nan


def cohen_kappa_2x2(tp: int, fp: int, fn: int, tn: int) -> float:
    """Cohen's kappa of two binary raters from their 2x2 table (NaN when chance agreement is 1,
    i.e. both raters put every unit in the same class).

    Computed with scikit-learn from the four cells as weighted samples, so the formula is the
    well-tested one: ``(p_o - p_e) / (1 - p_e)``.
    """
    n = tp + fp + fn + tn
    if n == 0:
        return math.nan
    p_e = ((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn)) / (n * n)
    if p_e >= 1.0:
        return math.nan
    from sklearn.metrics import cohen_kappa_score

    return float(
        cohen_kappa_score([1, 1, 0, 0], [1, 0, 1, 0], labels=[0, 1], sample_weight=[tp, fp, fn, tn])
    )


def evaluate_codings(
    predicted: pd.DataFrame,
    gold: pd.DataFrame,
    documents: list[str],
    *,
    codes: list[str],
    level: int = 1,
    segments: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per code in ``codes`` (in that order) and a final ``macro`` row.

    Columns: code, support (gold positives), predicted, tp, fp, fn, precision, recall, f1,
    kappa. Units are ``documents`` when gold has no ``start``/``end`` columns, else the
    segments of those documents (``segments`` frame: document, segment, start, end). A unit is
    positive for a code when any row gives it that code or a subcode. Precision, recall, F1 and
    kappa are NaN when undefined (nothing predicted, nothing in gold, one class only); the macro
    row averages the defined values and sums the counts.
    """
    deeper = [c for c in codes if c.count("/") + 1 > level]
    if deeper:
        raise ValueError(f"codes deeper than level {level}: {', '.join(deeper)}")
    documents_set = set(documents)
    gold_units: dict[Any, set[str]]
    pred_units: dict[Any, set[str]]
    if "start" in gold.columns:
        if segments is None:
            raise ValueError("span gold (start/end) needs the segments frame")
        segments = segments[segments["document"].isin(documents_set)]
        universe: list[Any] = list(zip(segments["document"], segments["segment"].astype(int)))
        gold_units = _segment_units(gold, segments, documents_set, level)
        pred_units = _segment_units(predicted, segments, documents_set, level)
    else:
        universe = list(dict.fromkeys(documents))
        gold_units = _document_units(gold, documents_set, level)
        pred_units = _document_units(predicted, documents_set, level)
    n = len(universe)
    rows = []
    for code in codes:
        in_gold = {u for u, found in gold_units.items() if _has(found, code)}
        in_pred = {u for u, found in pred_units.items() if _has(found, code)}
        tp = len(in_gold & in_pred)
        fp = len(in_pred - in_gold)
        fn = len(in_gold - in_pred)
        tn = n - tp - fp - fn
        rows.append(
            {
                "code": code,
                "support": tp + fn,
                "predicted": tp + fp,
                "tp": tp,
                "fp": fp,
                "fn": fn,
                "precision": _ratio(tp, tp + fp),
                "recall": _ratio(tp, tp + fn),
                "f1": _ratio(2 * tp, 2 * tp + fp + fn),
                "kappa": cohen_kappa_2x2(tp, fp, fn, tn),
            }
        )
    table = pd.DataFrame(rows, columns=COLUMNS)
    macro: dict[str, Any] = {"code": "macro"}
    for column in ("support", "predicted", "tp", "fp", "fn"):
        macro[column] = int(table[column].sum())
    for column in ("precision", "recall", "f1", "kappa"):
        values = table[column].dropna()
        macro[column] = float(values.mean()) if len(values) else math.nan
    table = pd.concat([table, pd.DataFrame([macro], columns=COLUMNS)], ignore_index=True)
    for column in ("support", "predicted", "tp", "fp", "fn"):
        table[column] = table[column].astype(int)
    for column in ("precision", "recall", "f1", "kappa"):
        table[column] = table[column].astype(float)
    return table


# -- main theme and background ------------------------------------------------------------
def main_themes(gold: pd.DataFrame, *, level: int = 1) -> dict[str, str]:
    """Each gold document's main theme, from the ``main`` column.

    ``main`` either flags the row whose code is the main theme (1/true/yes/ja/x) or holds the
    main theme's code itself; a document's first such value wins.
    """
    if "main" not in gold.columns:
        return {}
    themes: dict[str, str] = {}
    for document, code, main in zip(gold["document"], gold["code"], gold["main"]):
        value = "" if _missing(main) else str(main).strip()
        if value.lower() in _FALSE:
            continue
        theme = code if value.lower() in _TRUE else value
        themes.setdefault(document, roll_up(str(theme), level))
    return themes


def main_theme_hit_rate(predicted: pd.DataFrame, gold: pd.DataFrame, *, level: int = 1) -> float:
    """Share of gold passages (documents with a main theme) whose main theme was predicted,
    as the theme or one of its subcodes. NaN when gold names no main theme."""
    themes = main_themes(gold, level=level)
    if not themes:
        return math.nan
    found = _document_units(predicted, set(themes), level)
    hits = sum(_has(found.get(doc, ()), theme) for doc, theme in themes.items())
    return hits / len(themes)


def background_false_positive_rate(
    predicted: pd.DataFrame,
    gold: pd.DataFrame,
    documents: list[str],
    *,
    level: int = 1,
    codes: list[str] | None = None,
) -> pd.Series:
    """Per theme, the share of background documents (those without any gold row) that were
    coded with it. Index: ``codes`` if given, else every predicted theme at ``level``, sorted.
    Empty when there are no background documents."""
    background = [d for d in dict.fromkeys(documents) if d not in set(gold["document"])]
    found = _document_units(predicted, set(background), level)
    if codes is None:
        codes = sorted({c for unit in found.values() for c in unit})
    if not background:
        return pd.Series(
            [], index=pd.Index([], name="code"), dtype=float, name="background_false_positive_rate"
        )
    rates = [
        sum(_has(found.get(d, ()), code) for d in background) / len(background) for code in codes
    ]
    return pd.Series(
        rates,
        index=pd.Index(codes, name="code"),
        dtype=float,
        name="background_false_positive_rate",
    )
