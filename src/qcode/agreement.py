"""Intercoder agreement per code: percent agreement, Cohen's kappa and Krippendorff's alpha.

Each code is a yes/no judgement per unit (a segment, or a whole document): a coder "says yes"
when they applied the code or one of its subcodes there. ``auto`` stands for the automatic
codings (rules and model together) as one more coder.

The units are the ones every compared coder has looked at. A coder who filled in review
sheets has looked at exactly the segments on their sheets (each row leaves a decision: codes
ticked, codes rejected), so a blind sample (``qcode export review --blank --sample N``) is
compared on its own segments. For a coder without sheet decisions in a document (hand-made
codings files, imports), the units are all respondent segments of the documents they coded
in. Segments left blank by a coder count as "no", which is what makes agreement on absence
measurable. By document, the units are the documents every human coder worked in.

Statistics come from well-kept packages rather than hand-written formulas: Cohen's kappa from
scikit-learn (``cohen_kappa_score``), Krippendorff's alpha from ``krippendorff`` (nominal
level); both are checked against published worked examples in ``tests/test_agreement.py``.
With more than two coders the kappa column holds Light's kappa (the mean of the pairwise
Cohen's kappas); alpha takes any number of coders.

>>> round(cohen_kappa([1, 1, 0, 0], [1, 0, 0, 0]), 3)
0.5
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import combinations
from typing import Any, Literal

import numpy as np
import pandas as pd

from .errors import ReviewError
from .models import AUTOMATIC_SOURCES
from .store import Store

AUTO = "auto"
AUTO_SOURCES = AUTOMATIC_SOURCES
COLUMNS = ["code", "units", "positives", "prevalence", "agreement", "kappa", "alpha", "rare"]
#: a code is flagged ``rare`` (its kappa/alpha swing with a single unit) below either limit.
RARE_POSITIVES = 5
RARE_PREVALENCE = 0.05


def cohen_kappa(a: Sequence[int], b: Sequence[int]) -> float:
    """Cohen's kappa of two coders' labels; NaN when chance agreement is already perfect
    (both coders gave one and the same label to every unit)."""
    from sklearn.metrics import cohen_kappa_score

    if len(a) == 0 or len(set(a) | set(b)) < 2:
        return math.nan
    return float(cohen_kappa_score(list(a), list(b)))


def krippendorff_alpha(
    data: Sequence[Sequence[float]] | np.ndarray,
    level: Literal["nominal", "ordinal", "interval", "ratio"] = "nominal",
) -> float:
    """Krippendorff's alpha of a coders × units table (NaN marks a missing value).
    NaN when every pairable value is the same (alpha is undefined without variation)."""
    import krippendorff

    array = np.asarray(data, dtype=float)
    values = array[~np.isnan(array)]
    if values.size == 0 or np.unique(values).size < 2:
        return math.nan
    return float(krippendorff.alpha(reliability_data=array, level_of_measurement=level))


def percent_agreement(table: np.ndarray) -> float:
    """Share of units (columns) on which every coder (row) gave the same label."""
    if table.shape[1] == 0:
        return math.nan
    return float(np.mean(np.all(table == table[0], axis=0)))


def light_kappa(table: np.ndarray) -> float:
    """Cohen's kappa for two coders; the mean pairwise kappa (Light's) for more."""
    kappas = [cohen_kappa(table[i], table[j]) for i, j in combinations(range(table.shape[0]), 2)]
    kappas = [k for k in kappas if not math.isnan(k)]
    return float(np.mean(kappas)) if kappas else math.nan


def _stats(code: str, table: np.ndarray) -> dict[str, object]:
    units = table.shape[1]
    positives = int(np.any(table == 1, axis=0).sum())
    prevalence = float(table.mean()) if units else math.nan
    return {
        "code": code,
        "units": units,
        "positives": positives,
        "prevalence": prevalence,
        "agreement": percent_agreement(table),
        "kappa": light_kappa(table),
        "alpha": krippendorff_alpha(table),
        "rare": bool(positives < RARE_POSITIVES or (units and prevalence < RARE_PREVALENCE)),
    }


def agreement_tables(
    store: Store, coders: Sequence[str], *, unit: str = "segment", codes: Sequence[str] = ()
) -> tuple[list[tuple[str, int | None]], dict[str, np.ndarray]]:
    """The units compared and, per code, a coders × units 0/1 table (rows in ``coders`` order)."""
    if unit not in ("segment", "document"):
        raise ReviewError(f"unit must be segment or document, not {unit!r}")
    coders = list(dict.fromkeys(coders))
    if len(coders) < 2:
        raise ReviewError("name at least two coders, e.g. --coder anna --coder auto")
    known_coders = set(store.coders_frame()["coder"])
    missing = [c for c in coders if c != AUTO and c not in known_coders]
    if missing:
        raise ReviewError(
            f"no human codings by {', '.join(missing)}; coders in this project: "
            + (", ".join(sorted(known_coders)) or "(none)")
            + " and auto"
        )
    code_frame = store.codes_frame()
    chosen = list(codes) or code_frame.loc[code_frame["level"] == 1, "path"].tolist()
    unknown = [c for c in chosen if c not in set(code_frame["path"])]
    if unknown:
        raise ReviewError(f"unknown code(s): {', '.join(unknown)}")
    documents = set(store.document_ids())
    for coder in coders:
        if coder != AUTO:
            documents &= store.reviewed_documents(coder)
    frames = {
        coder: store.codings_frame(
            source=list(AUTO_SOURCES) if coder == AUTO else "human",
            coder=None if coder == AUTO else coder,
            with_text=False,
        )
        for coder in coders
    }
    if unit == "document":
        units: list[tuple[str, int | None]] = [(d, None) for d in sorted(documents)]
    else:
        segments = store.segments_frame(with_text=False)
        segments = segments[segments["document"].isin(documents)]
        coded = set()
        for frame in frames.values():
            coded |= {
                (d, int(s))
                for d, s in zip(frame["document"], frame["segment"])
                if not pd.isna(s) and d in documents
            }
        units = [
            (d, int(s))
            for d, s, i in zip(
                segments["document"], segments["segment"], segments["is_interviewer"]
            )
            if not i or (d, int(s)) in coded
        ]
        for coder in coders:
            if coder != AUTO:
                seen = _sheet_segments(store, coder, frames[coder])
                units = [u for u in units if u[0] not in seen or u in seen[u[0]]]
    position = {u: k for k, u in enumerate(units)}
    tables = {code: np.zeros((len(coders), len(units)), dtype=int) for code in chosen}
    for row, coder in enumerate(coders):
        frame = frames[coder]
        for doc, seg, path in zip(frame["document"], frame["segment"], frame["code"]):
            key: tuple[Any, int | None]
            if unit == "document":
                key = (doc, None)
            else:
                if pd.isna(seg):
                    continue
                key = (doc, int(seg))
            k = position.get(key)
            if k is None:
                continue
            for code in chosen:
                if path == code or path.startswith(code + "/"):
                    tables[code][row, k] = 1
    return units, tables


def _sheet_segments(
    store: Store, coder: str, codings: pd.DataFrame
) -> dict[str, set[tuple[str, int]]]:
    """Per document where ``coder`` left sheet decisions (rejections), the segments they
    decided on: those are the only units they looked at there."""
    rejections = store.rejections_frame(coder)
    out: dict[str, set[tuple[str, int]]] = {}
    for doc, seg in zip(rejections["document"], rejections["segment"]):
        if not pd.isna(seg):
            out.setdefault(doc, set()).add((doc, int(seg)))
    for doc, seg in zip(codings["document"], codings["segment"]):
        if doc in out and not pd.isna(seg):
            out[doc].add((doc, int(seg)))
    return out


def agreement(
    store: Store, coders: Sequence[str], *, unit: str = "segment", codes: Sequence[str] = ()
) -> pd.DataFrame:
    """One row per code (default: the top-level themes, subcodes rolled up) plus ``pooled``:
    units, positives (units any coder marked), prevalence (share of yes judgements),
    percent agreement, kappa, alpha and ``rare`` (fewer than 5 positive units or prevalence
    under 5 %: the figures are unstable).

    >>> agreement(store, ["anna", "auto"])  # doctest: +SKIP
    """
    _units, tables = agreement_tables(store, coders, unit=unit, codes=codes)
    rows = [_stats(code, table) for code, table in tables.items()]
    if tables:
        pooled = np.concatenate(list(tables.values()), axis=1)
        rows.append(_stats("pooled", pooled))
    return pd.DataFrame(rows, columns=COLUMNS)
