"""Co-occurrence of codes: how often two codes meet in one passage (or one interview).

The matrix is computed from a 0/1 incidence matrix (units × codes) with one matrix product,
so it stays fast however many codings there are.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..store import Store
from ._common import check_level, code_rows, respondent_codings, roll_up, select_documents

UNITS = ("segment", "document")
MEASURES = ("count", "jaccard")


def cooccurrence(
    store: Store,
    *,
    unit: str = "segment",
    measure: str = "count",
    level: int | None = 1,
    source: str = "all",
    coders: Sequence[str] | None = None,
    kind: str = "all",
    where: Sequence[str] = (),
) -> pd.DataFrame:
    """A code × code matrix in codebook order.

    Off the diagonal: the number of units (segments or documents) coded with both codes, or
    with ``measure="jaccard"`` that number over the units coded with either. The diagonal is
    always the code's own total of units. Codes are rolled up to ``level`` (default 1, the
    themes). ``kind`` (interview/survey/all) and ``where`` (``KEY=VALUE`` metadata filters)
    choose the documents.

    >>> cooccurrence(store).loc["dubbla_roller", "rapportering"]  # doctest: +SKIP
    4
    """
    if unit not in UNITS:
        raise ConfigError(f"unknown unit {unit!r}; use one of {', '.join(UNITS)}")
    if measure not in MEASURES:
        raise ConfigError(f"unknown measure {measure!r}; use one of {', '.join(MEASURES)}")
    level = check_level(level)
    documents = select_documents(store, kind, where)
    codings = respondent_codings(store, source, coders=coders, documents=documents)
    conflicts = codings.attrs["conflicts"]
    codings = codings[["document", "code", "unit"]]
    rolled = roll_up(codings, level)
    rows = code_rows(store, level, rolled["code"].unique() if not rolled.empty else ())
    paths = list(rows["path"])
    keys = ["document"] if unit == "document" else ["document", "unit"]
    pairs = rolled[rolled["code"].isin(set(paths))].drop_duplicates(keys + ["code"])
    unit_ids = (
        pd.MultiIndex.from_frame(pairs[keys]).factorize()[0] if len(pairs) else np.array([], int)
    )
    code_ids = pd.Categorical(pairs["code"], categories=paths).codes
    n_units = int(unit_ids.max()) + 1 if len(unit_ids) else 0
    incidence = np.zeros((n_units, len(paths)), dtype=np.int64)
    incidence[unit_ids, code_ids] = 1
    counts = incidence.T @ incidence
    totals = np.diag(counts).astype("float64")
    if measure == "jaccard":
        union = totals[:, None] + totals[None, :] - counts
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.where(union > 0, counts / np.where(union > 0, union, 1), 0.0)
        values = np.round(values, 4)
        np.fill_diagonal(values, totals)
    else:
        values = counts
    frame = pd.DataFrame(
        values, index=pd.Index(paths, name="code"), columns=pd.Index(paths, name="code")
    )
    frame.attrs.update(
        unit=unit,
        measure=measure,
        source=source,
        coders=list(coders or []),
        conflicts=conflicts,
        kind=kind,
        where=list(where),
        labels=dict(zip(rows["path"], rows["label"])),
        levels=dict(zip(rows["path"], rows["level"].astype(int))),
    )
    return frame
