"""Interviews beside the survey: per group, the share of interviews touching each theme next to
the survey's indicators, and Spearman's rank correlation between them across groups.

The survey is either a per-respondent table (one row per respondent, a group column and answer
columns: qcode computes each answer category's share per group) or a group-level table of
published figures (one row per group, a column per indicator). Groups found on one side only
are kept with empty cells and reported in ``warnings``.
"""

from __future__ import annotations

import re
import warnings as _warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..store import Store
from ._common import (
    MISSING,
    TOTAL,
    check_kind,
    check_level,
    conflict_note,
    document_kinds,
    select_documents,
)
from .frequencies import frequencies

#: fewer groups than this give no rank correlation at all (a blank, not a number to misread).
MIN_GROUPS = 5
#: columns of a survey table that describe the respondent or the file, never an answer.
NON_ANSWER_COLUMNS = {
    "id",
    "respondent",
    "respondent_id",
    "group",
    "main_group",
    "note",
    "comment",
    "synthetic",
    "title",
    "level",
    "source",
    "kind",
    "study",
    "grupp",
    "huvudgrupp",
}
#: names of group-table columns that count people or describe the survey, never an indicator
#: unless chosen with ``--indicator``: counts grow with a group's size.
_COUNT_OR_META = re.compile(
    r"(^|_)(n|id|nr|count|counts|antal|recipients|respondents|mottagare|svarande|sent|"
    r"response_rate|svarsfrekvens|removed|lower|upper)(_|$)",
    re.IGNORECASE,
)
#: names of group-table columns holding a share or percentage: the automatic indicators.
_SHARE_NAME = re.compile(r"(^|_)(pct|percent|procent|share|andel|prop)(_|$)", re.IGNORECASE)
#: an answer column has at most this many distinct values (more is free text or an id).
MAX_CATEGORIES = 20
NO_ANSWER = "no_answer"
CORRELATION_COLUMNS = ["theme", "indicator", "n", "rho", "p_value", "p_adjusted", "note"]
_QUESTION_KEYS = {"label", "scale", "share", "mean"}


@dataclass(frozen=True)
class Indicator:
    """One survey figure per group.

    ``kind`` is ``share`` (the share of the group's respondents giving one of ``answers``),
    ``mean`` (the mean score on the ordinal ``answers``, lowest first, scored 1…k; answers off
    the scale such as "vet ej" are left out) or ``value`` (a published group-level figure).
    ``id`` is the column name in the table and the CSV; ``label`` the question's wording.
    """

    id: str
    column: str
    kind: str
    answers: tuple[str, ...] = ()
    label: Any = None

    def question(self, lang: str) -> str:
        if isinstance(self.label, dict):
            return str(self.label.get(lang) or next(iter(self.label.values())))
        return str(self.label or self.column)


@dataclass(frozen=True)
class Question:
    """A survey question from ``survey: questions:``: its answer ``scale`` (ordinal, lowest
    first) and which ``share`` of answers and whether a ``mean`` score to report."""

    column: str
    label: Any = None
    scale: tuple[str, ...] = ()
    share: tuple[str, ...] = ()
    mean: bool = False

    def indicators(self) -> list[Indicator]:
        out = []
        if self.share:
            out.append(
                Indicator(
                    f"{self.column}={'|'.join(self.share)}",
                    self.column,
                    "share",
                    self.share,
                    self.label,
                )
            )
        if self.mean and self.scale:
            out.append(
                Indicator(f"{self.column}:mean", self.column, "mean", self.scale, self.label)
            )
        return out


def read_questions(data: Any, where: str | None = None) -> dict[str, Question]:
    """``survey: questions:`` as {column: Question}. Ordinal scales (``scale:``) report the
    share of their two highest answers and the mean score unless ``share``/``mean`` say else."""
    if data in (None, {}):
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            "survey: questions: expects a mapping of column: {label, scale, share, mean}",
            path=where,
        )
    out = {}
    for column, spec in data.items():
        spec = spec or {}
        if not isinstance(spec, dict) or set(spec) - _QUESTION_KEYS:
            raise ConfigError(
                f"survey: questions: {column}: expects label, scale, share, mean", path=where
            )
        scale = _answers(spec.get("scale"), f"{column}: scale", where)
        share = _answers(spec.get("share"), f"{column}: share", where)
        if not scale and not share:
            raise ConfigError(
                f"survey: questions: {column}: give the answers to count "
                "(share: [...]) or an ordinal scale (scale: [lowest, ..., highest])",
                path=where,
            )
        if scale and not share and spec.get("share") is None:
            share = scale[-2:]
        off_scale = [a for a in share if scale and a not in scale]
        if off_scale:
            raise ConfigError(
                f"survey: questions: {column}: share answer {off_scale[0]!r} is not on its scale",
                path=where,
            )
        mean = spec.get("mean", bool(scale))
        if mean and not scale:
            raise ConfigError(
                f"survey: questions: {column}: a mean score needs a scale", path=where
            )
        label = spec.get("label")
        if label is not None and not isinstance(label, str | dict):
            raise ConfigError(
                f"survey: questions: {column}: label is text or {{sv:, en:}}", path=where
            )
        out[str(column)] = Question(str(column), label, scale, share, bool(mean))
    return out


def _answers(value: Any, what: str, where: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str | int | float):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ConfigError(f"survey: questions: {what} expects a list of answers", path=where)
    return tuple(_category(v) for v in value)


@dataclass
class CrosstabResult:
    """``table``: one row per group; ``correlations``: theme × indicator with n, rho, raw and
    Benjamini–Hochberg adjusted p; ``warnings``: one-line remarks (one-sided groups) for
    stderr, ``notes`` the same as (message id, fields) for the reports' own language."""

    table: pd.DataFrame
    correlations: pd.DataFrame
    themes: list[str] = field(default_factory=list)
    indicators: list[str] = field(default_factory=list)
    survey_kind: str = "groups"
    warnings: list[str] = field(default_factory=list)
    by: str = "group"
    theme_labels: dict[str, str] = field(default_factory=dict)
    theme_levels: dict[str, int] = field(default_factory=dict)
    indicator_specs: dict[str, Indicator] = field(default_factory=dict)
    notes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def tests(self) -> int:
        """How many correlations were tested (the m of the multiple-testing correction)."""
        return int(self.correlations["p_value"].notna().sum()) if len(self.correlations) else 0


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
        raise ConfigError(
            f"survey must be a .csv, .tsv or .xlsx file (got {suffix or 'no suffix'})",
            path=str(path),
        )
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
            numbers = pd.to_numeric(
                texts.str.replace(r"[ \u00a0]", "", regex=True).str.replace(",", ".", regex=False),
                errors="coerce",
            )
    if numbers.isna().any():
        return values.map(lambda v: v.strip() if isinstance(v, str) else v)
    return pd.to_numeric(values.mask(blank, np.nan).where(blank, numbers), errors="coerce")


def survey_by_group(
    survey: pd.DataFrame,
    by: str = "group",
    *,
    id_column: str | None = None,
    path: str | Path | None = None,
    indicators: Sequence[str] = (),
    questions: dict[str, Question] | None = None,
) -> tuple[pd.DataFrame, list[str], str]:
    """The survey as one row per group: (frame indexed by group, indicator columns, kind).

    A table where each group appears once is read as published group-level figures (rows whose
    ``level`` column is present and differs from ``by`` are left out, e.g. totals); otherwise
    it is per respondent (kind ``respondents``, with ``respondents`` per group). The indicators
    are ``indicators`` (``--indicator``: a column, or ``column=answer|answer``), else the
    configured ``questions``, else every answer's share (respondent tables) or every share or
    percentage column (group tables). A column that only repeats the group, an id, a count
    or a name is never an indicator.
    """
    table, specs, kind = _survey_table(
        survey, by, id_column=id_column, path=path, indicators=indicators, questions=questions or {}
    )
    return table, [s.id for s in specs], kind


def _survey_table(
    survey: pd.DataFrame,
    by: str,
    *,
    id_column: str | None,
    path: Any,
    indicators: Sequence[str],
    questions: dict[str, Question],
) -> tuple[pd.DataFrame, list[Indicator], str]:
    where = str(path) if path is not None else None
    if by not in survey.columns:
        raise ConfigError(
            f"the survey has no {by!r} column (columns: {', '.join(map(str, survey.columns))})",
            path=where,
        )
    frame = survey.copy()
    frame.columns = [str(c) for c in frame.columns]
    if "level" in frame.columns and (frame["level"] == by).any():
        frame = frame[frame["level"] == by]
    frame = frame[frame[by].notna()]
    frame[by] = frame[by].astype(str).str.strip()
    order = list(dict.fromkeys(frame[by]))
    grouped = frame[by].duplicated().any()
    repeats = _repeats_group(frame, by) if grouped else set()
    never = (
        {c.casefold() for c in NON_ANSWER_COLUMNS}
        | {by.casefold()}
        | ({id_column.casefold()} if id_column else set())
        | {c.casefold() for c in repeats}
    )

    def refuse(column: str, what: str = "--indicator") -> None:
        if column not in frame.columns:
            raise ConfigError(
                f"{what} {column}: the survey has no such column (columns: "
                f"{', '.join(frame.columns)})",
                path=where,
            )
        if column in repeats or column.casefold() == by.casefold():
            raise ConfigError(
                f"{what} {column}: this column only repeats the {by}; it is never an indicator",
                path=where,
            )
        if column.casefold() in never:
            raise ConfigError(
                f"{what} {column}: an id or metadata column is never an indicator", path=where
            )

    if not grouped:
        table = frame.set_index(by)
        table = table.drop(columns=[c for c in ("level",) if c in table.columns])
        table = table.dropna(axis=1, how="all")
        specs = []
        if indicators:
            for column in indicators:
                refuse(column)
                if column not in table.columns or not pd.api.types.is_numeric_dtype(table[column]):
                    raise ConfigError(
                        f"--indicator {column}: not a numeric column of this group-level table",
                        path=where,
                    )
                specs.append(Indicator(column, column, "value"))
        else:
            # "_text"/"_note" columns keep published wording ("≥2", "6–8"); counts and
            # response rates describe the survey, not an answer: never automatic indicators
            specs = [
                Indicator(c, c, "value")
                for c in table.columns
                if pd.api.types.is_numeric_dtype(table[c])
                and c.casefold() not in never
                and not c.endswith(("_text", "_note"))
                and _SHARE_NAME.search(c)
                and not _COUNT_OR_META.search(c)
            ]
        return table, specs, "groups"

    specs = []
    if indicators:
        for item in indicators:
            column, _, answers = item.partition("=")
            refuse(column)
            if answers:
                chosen = tuple(a.strip() for a in answers.split("|") if a.strip())
                specs.append(
                    Indicator(
                        f"{column}={'|'.join(chosen)}",
                        column,
                        "share",
                        chosen,
                        questions[column].label if column in questions else None,
                    )
                )
            elif column in questions:
                specs.extend(questions[column].indicators())
            else:
                specs.extend(_every_answer(frame, column))
    elif questions:
        for column, question in questions.items():
            refuse(column, "survey: questions:")
            specs.extend(question.indicators())
    else:
        for column in frame.columns:
            values = frame[column].dropna()
            if column.casefold() in never or values.nunique() <= 1:
                continue
            if values.nunique() > MAX_CATEGORIES or (len(values) > 1 and values.is_unique):
                continue
            specs.extend(_every_answer(frame, column))
    sizes = frame.groupby(by, sort=False).size().reindex(order)
    parts = [sizes.rename("respondents")]
    for spec in specs:
        answers = frame[spec.column].map(_category)
        if spec.kind == "share":
            answers = answers.fillna(NO_ANSWER)
            hit = answers.isin(set(spec.answers)).astype("float64")
            value = hit.groupby(frame[by], sort=False).mean()
        else:
            score = answers.map({a: i + 1 for i, a in enumerate(spec.answers)}).astype("float64")
            value = score.groupby(frame[by], sort=False).mean()
        parts.append(value.reindex(order).round(4).rename(spec.id))
    table = pd.concat(parts, axis=1)
    table.index.name = by
    return table, specs, "respondents"


def _repeats_group(frame: pd.DataFrame, by: str) -> set[str]:
    """Columns whose value is the same for everyone in a group (``grupp``, ``main_group``):
    they describe the group, so any "correlation" with them is the grouping itself."""
    out = set()
    for column in frame.columns:
        if column == by:
            continue
        values = frame[[by, column]].dropna()
        if values.empty:
            continue
        if (values.groupby(by)[column].nunique() <= 1).all():
            out.add(column)
    return out


def _every_answer(frame: pd.DataFrame, column: str) -> list[Indicator]:
    values = frame[column].map(_category).fillna(NO_ANSWER)
    categories = sorted(set(values), key=lambda v: (v == NO_ANSWER, _sort_key(v)))
    return [Indicator(f"{column}={value}", column, "share", (value,)) for value in categories]


def _category(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip() or None


def _sort_key(value: str) -> tuple[Any, ...]:
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


def crosstab(
    store: Store,
    survey: str | Path | pd.DataFrame,
    *,
    by: str = "group",
    themes: Sequence[str] = (),
    level: int | None = 1,
    source: str = "all",
    id_column: str | None = None,
    indicators: Sequence[str] = (),
    config: Any = None,
    coders: Sequence[str] | None = None,
    kind: str = "all",
    where: Sequence[str] = (),
) -> CrosstabResult:
    """Interview theme shares and survey indicators per group, with rank correlations.

    ``documents`` and ``theme:…`` count interviews only. The project's own survey answers
    (documents of kind ``survey``, free text read from a table) go beside them as
    ``survey_documents`` and ``survey_theme:…``, never in the interview counts. ``kind``
    (interview/survey/all) picks which of the two sets of columns to show and ``where``
    (``KEY=VALUE``) filters the documents of both. Correlations use the interview themes, or
    the survey-answer themes when there are no interviews.

    Indicators are ``indicators`` (``--indicator``), else the questions of ``survey:
    questions:`` in ``qcode.yaml``, else chosen automatically (see :func:`survey_by_group`).
    Spearman's rho is computed only where at least :data:`MIN_GROUPS` groups have both values;
    every p-value has a Benjamini–Hochberg adjusted one beside it.

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
            raise ConfigError(
                f"{unknown[0]}: no such code in the project's codebook", param="theme"
            )
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
        parts.append(
            _theme_shares(store, by, chosen, depth, source, config, doc_kind, where, prefix, coders)
        )
    conflicts = max(part.attrs.get("conflicts", 0) for part in parts)
    interviews = parts[0].join(parts[1], how="outer") if len(parts) > 1 else parts[0]
    text_groups = list(interviews.index)
    theme_columns = [
        c
        for c in interviews.columns
        if c.startswith("theme:" if "interview" in wanted else "survey_theme:")
    ]

    config_file = str(getattr(config, "source_file", None) or "qcode.yaml")
    questions = read_questions(getattr(config, "survey_questions", None), config_file)
    survey_table, specs, survey_kind = _survey_table(
        survey,
        by,
        id_column=id_column or getattr(config, "id_column", None),
        path=path,
        indicators=indicators,
        questions=questions,
    )
    survey_table = survey_table.drop(
        columns=[c for c in survey_table.columns if c in interviews.columns], errors="ignore"
    )
    order = list(survey_table.index) + sorted(
        set(text_groups) - set(survey_table.index), key=lambda v: (v == MISSING, v)
    )
    table = interviews.join(survey_table, how="outer").reindex(order)
    table.index.name = by
    for column in ("documents", "survey_documents", "respondents"):
        if column in table.columns:
            table[column] = table[column].astype("Int64")

    warnings, notes = list(survey.attrs.get("warnings", ())), []
    if conflicts:
        warnings.append(conflict_note(conflicts))
    wording: dict[tuple[str, ...], tuple[str, str]] = {
        ("interview",): ("interviews", "interview"),
        ("survey",): ("survey answers", "survey-answer"),
    }
    what, cells = wording.get(
        tuple(wanted), ("interviews and survey answers", "interview and survey-answer")
    )
    only_interviews = [g for g in text_groups if g not in survey_table.index]
    only_survey = [g for g in survey_table.index if g not in set(text_groups)]
    if only_interviews:
        warnings.append(
            f"{len(only_interviews)} group(s) only in the {what}, kept with empty "
            f"survey cells: {', '.join(only_interviews)}"
        )
        notes.append(("cross.only_interviews", {"groups": only_interviews, "kinds": wanted}))
    if only_survey:
        warnings.append(
            f"{len(only_survey)} group(s) only in the survey, kept with empty "
            f"{cells} cells: {', '.join(only_survey)}"
        )
        notes.append(("cross.only_survey", {"groups": only_survey, "kinds": wanted}))
    ids = [s.id for s in specs]
    correlations = _correlations(table, theme_columns, ids)
    labels = dict(zip(codes["path"], codes["label"].fillna(codes["path"])))
    levels = dict(zip(codes["path"], codes["level"].astype(int)))
    return CrosstabResult(
        table.reset_index(),
        correlations,
        chosen,
        ids,
        survey_kind,
        warnings,
        by=by,
        theme_labels={t: labels.get(t, t) for t in chosen},
        theme_levels={t: levels.get(t, t.count("/") + 1) for t in chosen},
        indicator_specs={s.id: s for s in specs},
        notes=notes,
    )


def _theme_shares(
    store: Store,
    by: str,
    chosen: list[str],
    depth: int,
    source: str,
    config: Any,
    kind: str,
    where: Sequence[str],
    prefix: str,
    coders: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per group: ``<prefix>documents`` of ``kind`` and the share touching each theme
    (``<prefix>theme:…``); no rows when the project has no such documents."""
    columns = [f"{prefix}documents"] + [f"{prefix}theme:{t}" for t in chosen]
    if select_documents(store, kind, where).empty:
        return pd.DataFrame(columns=columns, index=pd.Index([], name=by))
    freq = frequencies(
        store,
        [by],
        level=depth,
        source=source,
        config=config,
        kind=kind,
        where=where,
        coders=coders,
    )
    sizes = freq.attrs["group_sizes"]
    groups = [k[0] for k in sizes if k[0] != TOTAL]
    frame = pd.DataFrame(index=pd.Index(groups, name=by))
    frame[f"{prefix}documents"] = [sizes[(g,)] for g in groups]
    for theme in chosen:
        frame[f"{prefix}theme:{theme}"] = [float(freq.loc[theme, (g, "share")]) for g in groups]
    frame.attrs["conflicts"] = freq.attrs.get("conflicts", 0)
    return frame


def benjamini_hochberg(p_values: Sequence[float]) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (false discovery rate), NaN left as NaN and not
    counted among the tests. Same figures as ``scipy.stats.false_discovery_control``.

    >>> benjamini_hochberg([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    p = np.asarray(p_values, dtype="float64")
    out = np.full(p.shape, np.nan)
    valid = ~np.isnan(p)
    m = int(valid.sum())
    if m == 0:
        return out
    values = p[valid]
    order = np.argsort(values, kind="stable")
    scaled = values[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1].clip(max=1.0)
    result = np.empty(m)
    result[order] = adjusted
    out[valid] = result
    return out


def _correlations(table: pd.DataFrame, themes: list[str], indicators: list[str]) -> pd.DataFrame:
    """Spearman's rho between each theme share and each indicator over groups with both,
    only where there are at least MIN_GROUPS such groups; BH-adjusted p beside the raw one."""
    from scipy.stats import spearmanr

    rows = []
    for theme in themes:
        for indicator in indicators:
            pair = table[[theme, indicator]].apply(pd.to_numeric, errors="coerce").dropna()
            n = len(pair)
            rho = p_value = float("nan")
            note = ""
            if n < MIN_GROUPS:
                note = "too few groups"
            elif pair[theme].nunique() > 1 and pair[indicator].nunique() > 1:
                with _warnings.catch_warnings():
                    _warnings.simplefilter("ignore")
                    result = spearmanr(pair[theme], pair[indicator])
                rho, p_value = round(float(result.statistic), 4), float(result.pvalue)
            else:
                note = "constant values"
            rows.append(
                {
                    "theme": theme.removeprefix("theme:"),
                    "indicator": indicator,
                    "n": n,
                    "rho": rho,
                    "p_value": p_value,
                    "p_adjusted": float("nan"),
                    "note": note,
                }
            )
    frame = pd.DataFrame(rows, columns=CORRELATION_COLUMNS)
    if len(frame):
        frame["p_adjusted"] = benjamini_hochberg(frame["p_value"].to_numpy()).round(4)
        frame["p_value"] = frame["p_value"].round(4)
    return frame
