"""Theme frequencies by group: how many respondents in each group touched each code.

A respondent (document) touches a code when at least one of its respondent segments is coded
with the code or one of its subcodes. Counts are distinct documents, never matches; the share
is of the group's documents; ``segments`` counts distinct coded passages.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..errors import ConfigError
from ..store import Store
from ._common import (
    MISSING,
    TOTAL,
    check_by_keys,
    check_kind,
    check_level,
    code_rows,
    document_kinds,
    redaction_hook,
    respondent_codings,
    roll_up,
    select_documents,
    share,
)

MEASURES = ("documents", "share", "segments")


def membership(
    store: Store, by: Sequence[str], config: Any = None, documents: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Which group(s) each document belongs to: columns document[, speaker] and one column per
    ``by`` key holding the group value as text (``(missing)`` where a document has none).

    ``speaker`` makes a document belong to every (respondent) speaker who has a turn in it.
    ``documents`` (default: all) is the documents frame to group, already filtered.
    """
    documents = store.documents_frame() if documents is None else documents
    meta_keys = [k for k in by if k not in ("document", "speaker")]
    for key in meta_keys:
        if key not in documents.columns:
            known = sorted(c for c in documents.columns if c not in ("path", "n_segments"))
            raise ConfigError(
                f"{key}: no document has this metadata key; known keys: {', '.join(known)}",
                param="by",
            )
    frame = documents[["document"]].copy()
    for key in meta_keys:
        frame[key] = documents[key]
    if "document" in by:
        frame["_document_key"] = documents["document"]
    if "speaker" in by:
        segments = store.segments_frame(with_text=False)
        speakers = segments.loc[
            ~segments["is_interviewer"], ["document", "speaker"]
        ].drop_duplicates()
        frame = frame.merge(speakers, on="document", how="inner")
        hook = redaction_hook(store, config)
        names = {s: hook(s) for s in frame["speaker"].dropna().unique()}
        frame["_speaker_key"] = frame["speaker"].map(names)
    columns = {
        key: ("_document_key" if key == "document" else "_speaker_key" if key == "speaker" else key)
        for key in by
    }
    out = frame[["document"] + (["speaker"] if "speaker" in by else [])].copy()
    for i, key in enumerate(by):
        out[f"_k{i}"] = frame[columns[key]].map(_as_label)
    return out


def _as_label(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value == "":
        return MISSING
    return str(value)


def _order(values: Sequence[Any]) -> list[Any]:
    """Group values sorted, with ``(missing)`` last (deterministic whatever the locale)."""
    return sorted(set(values), key=lambda v: (v == MISSING, v))


def frequencies(
    store: Store,
    by: Sequence[str] | str = ("group",),
    *,
    level: int | None = None,
    source: str = "all",
    config: Any = None,
    coders: Sequence[str] | None = None,
    kind: str = "all",
    where: Sequence[str] = (),
) -> pd.DataFrame:
    """Documents, share and segments per code and group.

    Rows are codes in codebook order (children rolled up into parents, ``level`` caps the
    depth) and a ``total`` row (documents touching any code); columns are a MultiIndex
    ``(*by values, measure)`` with a ``total`` group last. ``frame.attrs`` holds
    ``group_sizes`` (column key -> documents in the group), ``labels`` and ``levels`` per code.

    ``kind`` (interview/survey/all) and ``where`` (``KEY=VALUE`` metadata filters) choose the
    documents. Interviews and survey answers are never divided by one n: when both kinds are
    counted, ``kind`` becomes the outer column level, each kind with its own groups and total.

    >>> frequencies(store, by=["group"], level=1).loc["beredskap", ("polis", "documents")]  # doctest: +SKIP
    3
    """
    keys = check_by_keys([by] if isinstance(by, str) else list(by) or ["group"], config)
    level = check_level(level)
    kind = check_kind(kind)
    documents = select_documents(store, kind, where)
    for key in keys:
        if key in ("document", "speaker"):
            continue
        if key not in documents.columns or documents[key].isna().all():
            known = sorted(c for c in documents.columns if c not in ("path", "n_segments"))
            raise ConfigError(
                f"{key}: no document has this metadata key; known keys: {', '.join(known)}",
                param="by",
            )
    codings = respondent_codings(store, source, coders=coders, documents=documents)
    conflicts = codings.attrs["conflicts"]
    kinds = document_kinds(documents)
    if kind == "all" and len(kinds) > 1 and "kind" not in keys:
        parts = {
            k: _frequencies(store, keys, documents[documents["kind"] == k], codings, level, config)
            for k in kinds
        }
        result = _by_kind(parts, keys)
    else:
        result = _frequencies(store, keys, documents, codings, level, config)
    result.attrs["source"] = source
    result.attrs["coders"] = list(coders or [])
    result.attrs["conflicts"] = conflicts
    result.attrs["kind"] = kind
    result.attrs["where"] = list(where)
    return result


def _by_kind(parts: dict[str, pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    """Per-kind frequency frames side by side under an outer ``kind`` column level."""
    first = next(iter(parts.values()))
    rows = list(dict.fromkeys(c for frame in parts.values() for c in frame.index if c != TOTAL))
    index = pd.Index(rows + [TOTAL], name="code")
    frames, sizes, labels, levels = [], {}, {}, {}
    for kind, frame in parts.items():
        frame = frame.reindex(index, fill_value=0)
        frame.columns = pd.MultiIndex.from_tuples(
            [(kind, *col) for col in frame.columns], names=["kind", *keys, "measure"]
        )
        frames.append(frame)
        sizes.update({(kind, *key): n for key, n in parts[kind].attrs["group_sizes"].items()})
        labels.update(parts[kind].attrs["labels"])
        levels.update(parts[kind].attrs["levels"])
    result = pd.concat(frames, axis=1)
    result.attrs.update(first.attrs)
    result.attrs.update(
        by=["kind", *keys], group_sizes=sizes, labels=labels, levels=levels, kind_split=True
    )
    return result


def _frequencies(
    store: Store,
    keys: list[str],
    documents: pd.DataFrame,
    codings: pd.DataFrame,
    level: int | None,
    config: Any,
) -> pd.DataFrame:
    """The frequency frame of one set of documents (see :func:`frequencies`)."""
    groups = membership(store, keys, config, documents)
    gcols = [f"_k{i}" for i in range(len(keys))]
    join_on = ["document"] + (["speaker"] if "speaker" in keys else [])

    codings = codings[codings["document"].isin(set(documents["document"]))]
    codings = codings[["document", "speaker", "code", "unit"]]
    rolled = roll_up(codings, level)
    rows = code_rows(store, level, rolled["code"].unique() if not rolled.empty else ())
    rolled = rolled[rolled["code"].isin(set(rows["path"]))]
    coded = rolled.merge(groups, on=join_on, how="inner")[gcols + ["document", "unit", "code"]]
    # categories make the duplicate checks below compare integers, not strings (10x faster)
    coded = coded.astype({c: "category" for c in gcols + ["document", "code"]})

    group_keys = _order(list(groups[gcols].itertuples(index=False, name=None)))
    sizes = groups.groupby(gcols)["document"].nunique()
    sizes.index = _as_tuples(sizes.index)
    total_key = (TOTAL,) * len(keys)

    def counts(frame: pd.DataFrame, by_cols: list[str]) -> tuple[pd.Series, pd.Series]:
        docs = frame.drop_duplicates(by_cols + ["document"]).groupby(by_cols, observed=True).size()
        segs = (
            frame.drop_duplicates(by_cols + ["document", "unit"])
            .groupby(by_cols, observed=True)
            .size()
        )
        return _plain(docs), _plain(segs)

    per_code_docs, per_code_segs = counts(coded, gcols + ["code"])
    any_docs, any_segs = counts(coded.assign(code=TOTAL), gcols + ["code"])
    tot_docs, tot_segs = counts(coded.assign(**{c: TOTAL for c in gcols}), gcols + ["code"])
    all_docs, all_segs = counts(
        coded.assign(code=TOTAL, **{c: TOTAL for c in gcols}), gcols + ["code"]
    )
    docs = pd.concat([per_code_docs, any_docs, tot_docs, all_docs])
    segs = pd.concat([per_code_segs, any_segs, tot_segs, all_segs])

    index = list(rows["path"]) + [TOTAL]
    all_keys: list[tuple[Any, ...]] = [*group_keys, total_key]
    n_docs: dict[tuple[Any, ...], int] = {
        **{k: int(sizes.get(k, 0)) for k in group_keys},
        total_key: int(groups["document"].nunique()),
    }
    data: dict[tuple[Any, ...], list[Any]] = {}
    for key in all_keys:
        d = _column(docs, key, index)
        data[key + ("documents",)] = d
        data[key + ("share",)] = share(d, n_docs[key])
        data[key + ("segments",)] = _column(segs, key, index)
    result = pd.DataFrame(data, index=pd.Index(index, name="code"))
    result.columns = pd.MultiIndex.from_tuples(result.columns, names=[*keys, "measure"])
    result.attrs["by"] = keys
    result.attrs["group_sizes"] = n_docs
    result.attrs["labels"] = dict(zip(rows["path"], rows["label"])) | {TOTAL: "Total"}
    result.attrs["levels"] = dict(zip(rows["path"], rows["level"].astype(int))) | {TOTAL: 0}
    return result


def _plain(counts: pd.Series) -> pd.Series:
    """Counts with a plain (string) index, whatever the dtype of the grouping columns."""
    if isinstance(counts.index, pd.MultiIndex):
        counts.index = pd.MultiIndex.from_tuples(
            [tuple(str(v) for v in key) for key in counts.index], names=counts.index.names
        )
    return counts


def _as_tuples(index: pd.Index) -> list[tuple[Any, ...]]:
    return [k if isinstance(k, tuple) else (k,) for k in index]


def _column(counts: pd.Series, key: tuple[Any, ...], index: list[str]) -> list[int]:
    """The counts of one group, one value per code (0 where none)."""
    if counts.empty:
        return [0] * len(index)
    try:
        part = counts.xs(key, level=list(range(len(key))), drop_level=True)
    except KeyError:
        return [0] * len(index)
    return [int(v) for v in part.reindex(index, fill_value=0)]
