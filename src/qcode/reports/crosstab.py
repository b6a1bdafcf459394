"""Interviews beside the survey: per group, the share of interviews touching each theme next to
the survey's indicators, and Spearman's rank correlation between them across groups.

The survey is either a per-respondent table (one row per respondent, a group column and answer
columns: qcode computes each answer category's share per group) or a group-level table of
published figures (one row per group, a column per indicator). Groups found on one side only
are kept with empty cells and reported in ``warnings``.
"""
from __future__ import annotations

import warnings as _warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..store import Store
from ._common import (MISSING, TOTAL, check_kind, check_level, conflict_note, document_kinds,
                      select_documents)
from .frequencies import frequencies

#: fewer groups than this make a rank correlation a hint at most.
MIN_GROUPS = 5
#: columns of a survey table that describe the respondent or the file, never an answer.
NON_ANSWER_COLUMNS = {"id", "respondent", "respondent_id", "group", "main_group", "note", "comment",
                      "synthetic", "title", "level", "source"}
#: an answer column has at most this many distinct values (more is free text or an id).
MAX_CATEGORIES = 20
NO_ANSWER = "no_answer"
CORRELATION_COLUMNS = ["theme", "indicator", "n", "rho", "p_value", "note"]


@dataclass
class CrosstabResult:
    """``table``: one row per group; ``correlations``: theme × indicator with n, rho, p;
    ``warnings``: one-line remarks (one-sided groups) for stderr."""

    table: pd.DataFrame
    correlations: pd.DataFrame
    themes: list[str] = field(default_factory=list)
    indicators: list[str] = field(default_factory=list)
    survey_kind: str = "groups"
    warnings: list[str] = field(default_factory=list)


def read_survey(path: str | Path) -> pd.DataFrame:
    """A survey table from CSV/TSV (any separator and encoding Excel writes) or XLSX, read by
    the one table reader; Swedish headers (``Grupp``, ``aktörsgrupp``, ``löpnummer`` …) are
    renamed to the known keys and numbers written with a decimal comma become numbers. A
    missing or unreadable file is a ConfigError naming it."""
    from ..ingest.table import canonical_header
    from ..tables import TABLE_SUFFIXES, read_table_file

    path = Path(path)
    if not path.exists():
        raise ConfigError("no such survey file", path=str(path))
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise ConfigError(f"survey must be a .csv, .tsv or .xlsx file (got {suffix or 'no suffix'})",
                          path=str(path))
    table = read_table_file(path, what="survey", error=ConfigError)
    names, taken = [], set(table.header)
    for column in table.header:
        canonical = canonical_header(column)
        if canonical and canonical != column and canonical not in taken:
            taken.add(canonical)
            column = canonical
        names.append(column)
    frame = pd.DataFrame([list(row) for _line, row in table.rows], columns=names, dtype=object)
    for column in frame.columns:
        frame[column] = _typed(frame[column])
    frame.attrs["warnings"] = list(table.warnings)
    return frame


_DECIMAL_COMMA = r"^\s*[-+]?\d+(?:[ \u00a0]\d{3})*(?:,\d+)?\s*$"


def _typed(values: pd.Series) -> pd.Series:
    """A column as numbers when every non-empty cell is one (``0,25`` too), else text with
    blanks as missing."""
    blank = values.map(lambda v: v is None or (isinstance(v, str) and not v.strip()))
    values = values.mask(blank, None)
    present = values[~blank]
    if present.empty:
        return values
    numbers = pd.to_numeric(present, errors="coerce")
    if numbers.isna().any():
        texts = present.astype(str)
        if texts.str.match(_DECIMAL_COMMA).all():
            numbers = pd.to_numeric(texts.str.replace(r"[ \u00a0]", "", regex=True)
                                    .str.replace(",", ".", regex=False), errors="coerce")
    if numbers.isna().any():
        return values.map(lambda v: v.strip() if isinstance(v, str) else v)
    return pd.to_numeric(values.mask(blank, np.nan).where(blank, numbers), errors="coerce")


def survey_by_group(survey: pd.DataFrame, by: str = "group", *, id_column: str | None = None,
                    path: str | Path | None = None) -> tuple[pd.DataFrame, list[str], str]:
    """The survey as one row per group: (frame indexed by group, indicator columns, kind).

    A table where each group appears once is read as published group-level figures (rows whose
    ``level`` column is present and differs from ``by`` are left out, e.g. totals); otherwise
    it is per respondent and each answer category becomes a ``column=value`` share column,
    plus ``respondents`` per group.
    """
    where = str(path) if path is not None else None
    if by not in survey.columns:
        raise ConfigError(f"the survey has no {by!r} column (columns: {', '.join(map(str, survey.columns))})",
                          path=where)
    frame = survey.copy()
    if "level" in frame.columns and (frame["level"] == by).any():
        frame = frame[frame["level"] == by]
    frame = frame[frame[by].notna()]
    frame[by] = frame[by].astype(str).str.strip()
    if not frame[by].duplicated().any():
        table = frame.set_index(by)
        table = table.drop(columns=[c for c in ("level",) if c in table.columns])
        table = table.dropna(axis=1, how="all")
        # "_text"/"_note" columns keep published wording ("≥2", "6–8"); never an indicator
        indicators = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])
                      and not str(c).endswith(("_text", "_note"))]
        return table, indicators, "groups"
    skip = {c.casefold() for c in NON_ANSWER_COLUMNS} | {by.casefold()}
    if id_column:
        skip.add(id_column.casefold())
    answers = []
    for column in frame.columns:
        values = frame[column].dropna()
        if str(column).casefold() in skip or values.nunique() <= 1:
            continue
        if values.nunique() > MAX_CATEGORIES or (len(values) > 1 and values.is_unique):
            continue
        answers.append(column)
    order = list(dict.fromkeys(frame[by]))
    sizes = frame.groupby(by, sort=False).size().reindex(order)
    parts = [sizes.rename("respondents")]
    indicators = []
    for column in answers:
        values = frame[column].map(_category).fillna(NO_ANSWER)
        shares = pd.crosstab(frame[by], values, normalize="index").reindex(order).round(4)
        categories = sorted(shares.columns, key=lambda v: (v == NO_ANSWER, _sort_key(v)))
        for value in categories:
            name = f"{column}={value}"
            parts.append(shares[value].rename(name))
            indicators.append(name)
    table = pd.concat(parts, axis=1)
    table.index.name = by
    return table, indicators, "respondents"


def _category(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip() or None


def _sort_key(value: str) -> tuple:
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


def crosstab(store: Store, survey: str | Path | pd.DataFrame, *, by: str = "group",
             themes: Sequence[str] = (), level: int | None = 1, source: str = "all",
             id_column: str | None = None, config: Any = None,
             coders: Sequence[str] | None = None, kind: str = "all",
             where: Sequence[str] = ()) -> CrosstabResult:
    """Interview theme shares and survey indicators per group, with rank correlations.

    ``documents`` and ``theme:…`` count interviews only. The project's own survey answers
    (documents of kind ``survey``, free text read from a table) go beside them as
    ``survey_documents`` and ``survey_theme:…``, never in the interview counts. ``kind``
    (interview/survey/all) picks which of the two sets of columns to show and ``where``
    (``KEY=VALUE``) filters the documents of both. Correlations use the interview themes, or
    the survey-answer themes when there are no interviews.

    >>> result = crosstab(store, "data/survey/synthetic-respondents.csv")  # doctest: +SKIP
    >>> result.correlations.query("theme == 'rapportering'")                # doctest: +SKIP
    """
    level = check_level(level)
    kind = check_kind(kind)
    path = None
    if not isinstance(survey, pd.DataFrame):
        path = survey
        survey = read_survey(survey)
    codes = store.codes_frame()
    if themes:
        unknown = [t for t in themes if t not in set(codes["path"])]
        if unknown:
            raise ConfigError(f"{unknown[0]}: no such code in the project's codebook",
                              param="theme")
        chosen = list(themes)
        depth = max(t.count("/") + 1 for t in chosen)
    else:
        chosen = list(codes.loc[codes["level"] <= (level or 1), "path"])
        depth = level or 1
    present = document_kinds(select_documents(store, "all", where))
    wanted = [k for k in ("interview", "survey") if kind in (k, "all") and k in present]
    if not wanted:
        wanted = ["interview"] if kind in ("interview", "all") else ["survey"]
    parts = []
    for doc_kind in wanted:
        prefix = "" if doc_kind == "interview" else "survey_"
        parts.append(_theme_shares(store, by, chosen, depth, source, config, doc_kind, where,
                                   prefix, coders))
    conflicts = max(part.attrs.get("conflicts", 0) for part in parts)
    interviews = parts[0].join(parts[1], how="outer") if len(parts) > 1 else parts[0]
    text_groups = list(interviews.index)
    theme_columns = [c for c in interviews.columns
                     if c.startswith(("theme:" if "interview" in wanted else "survey_theme:"))]

    survey_table, indicators, survey_kind = survey_by_group(
        survey, by, id_column=id_column or getattr(config, "id_column", None), path=path)
    survey_table = survey_table.drop(columns=[c for c in survey_table.columns
                                              if c in interviews.columns], errors="ignore")
    order = list(survey_table.index) + sorted(set(text_groups) - set(survey_table.index),
                                              key=lambda v: (v == MISSING, v))
    table = interviews.join(survey_table, how="outer").reindex(order)
    table.index.name = by
    for column in ("documents", "survey_documents", "respondents"):
        if column in table.columns:
            table[column] = table[column].astype("Int64")

    notes = list(survey.attrs.get("warnings", ()))
    if conflicts:
        notes.append(conflict_note(conflicts))
    what, cells = {("interview",): ("interviews", "interview"),
                   ("survey",): ("survey answers", "survey-answer")}.get(
        tuple(wanted), ("interviews and survey answers", "interview and survey-answer"))
    only_interviews = [g for g in text_groups if g not in survey_table.index]
    only_survey = [g for g in survey_table.index if g not in set(text_groups)]
    if only_interviews:
        notes.append(f"{len(only_interviews)} group(s) only in the {what}, kept with empty "
                     f"survey cells: {', '.join(only_interviews)}")
    if only_survey:
        notes.append(f"{len(only_survey)} group(s) only in the survey, kept with empty "
                     f"{cells} cells: {', '.join(only_survey)}")
    correlations = _correlations(table, theme_columns, indicators)
    return CrosstabResult(table.reset_index(), correlations, chosen, indicators, survey_kind,
                          notes)


def _theme_shares(store: Store, by: str, chosen: list[str], depth: int, source: str,
                  config: Any, kind: str, where: Sequence[str], prefix: str,
                  coders: Sequence[str] | None = None) -> pd.DataFrame:
    """Per group: ``<prefix>documents`` of ``kind`` and the share touching each theme
    (``<prefix>theme:…``); no rows when the project has no such documents."""
    columns = [f"{prefix}documents"] + [f"{prefix}theme:{t}" for t in chosen]
    if select_documents(store, kind, where).empty:
        return pd.DataFrame(columns=columns, index=pd.Index([], name=by))
    freq = frequencies(store, [by], level=depth, source=source, config=config, kind=kind,
                       where=where, coders=coders)
    sizes = freq.attrs["group_sizes"]
    groups = [k[0] for k in sizes if k[0] != TOTAL]
    frame = pd.DataFrame(index=pd.Index(groups, name=by))
    frame[f"{prefix}documents"] = [sizes[(g,)] for g in groups]
    for theme in chosen:
        frame[f"{prefix}theme:{theme}"] = [float(freq.loc[theme, (g, "share")]) for g in groups]
    frame.attrs["conflicts"] = freq.attrs.get("conflicts", 0)
    return frame


def _correlations(table: pd.DataFrame, themes: list[str], indicators: list[str]) -> pd.DataFrame:
    """Spearman's rho between each theme share and each indicator over groups with both."""
    from scipy.stats import spearmanr

    rows = []
    for theme in themes:
        for indicator in indicators:
            pair = table[[theme, indicator]].apply(pd.to_numeric, errors="coerce").dropna()
            n = len(pair)
            rho = p_value = float("nan")
            note = "too few groups" if n < MIN_GROUPS else ""
            if n >= 3 and pair[theme].nunique() > 1 and pair[indicator].nunique() > 1:
                with _warnings.catch_warnings():
                    _warnings.simplefilter("ignore")
                    result = spearmanr(pair[theme], pair[indicator])
                rho, p_value = round(float(result.statistic), 4), round(float(result.pvalue), 4)
            elif n >= 3:
                note = "; ".join(filter(None, [note, "constant values"]))
            rows.append({"theme": theme.removeprefix("theme:"), "indicator": indicator, "n": n,
                         "rho": rho, "p_value": p_value, "note": note})
    return pd.DataFrame(rows, columns=CORRELATION_COLUMNS)
