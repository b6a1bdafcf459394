"""Quotes for the write-up: a respondent's own words per code, attributed by role only.

Each quote comes from one respondent segment (never the interviewer), trimmed to whole
sentences around the evidence that made the coding, with "…" where it was cut. Candidates are
ranked by the strength of the coding (passages with rule or human codings before passages
only the model coded), then spread: every respondent with a coding gets one
quote before anyone gets a second, and within a round the groups take turns. Near-duplicates
(token Jaccard above 0.8) are dropped. The text passes through the project's redaction.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import pandas as pd

from ..errors import ConfigError
from ..store import Store
from ._common import (
    MISSING,
    check_kind,
    document_kinds,
    redaction_hook,
    respondent_codings,
    select_documents,
)

QUOTE_COLUMNS = [
    "code",
    "label",
    "kind",
    "document",
    "segment",
    "start",
    "end",
    "score",
    "group",
    "attribution",
    "attributed_by",
    "words",
    "text",
]

#: quotes more alike than this (shared words over all words) count as the same quote.
DUPLICATE_JACCARD = 0.8
ELLIPSIS = "…"

# A sentence ends at . ! ? or … (maybe followed by a closing quote or bracket) and white space
# before a capital letter, digit or opening quote, or at a line break. Lower case after the
# full stop ("t.ex. när") does not end a sentence, which covers the common abbreviations.
_BOUNDARY = re.compile(
    r"(?:(?<=[.!?…])|(?<=[.!?…][\"”»’)]))[^\S\n]+(?=[A-ZÅÄÖÉ0-9\"“”«»(–-])|[^\S\n]*\n\s*"
)
_WORD = re.compile(r"\w+")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``text``, surrounding white space excluded."""
    spans, start = [], 0
    for match in _BOUNDARY.finditer(text):
        if text[start : match.start()].strip():
            spans.append((start, match.start()))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans


def _words(text: str) -> int:
    return len(text.split())


def trim_quote(
    text: str, evidence: Iterable[tuple[int, int]], *, min_words: int = 8, max_words: int = 60
) -> tuple[str, int, int] | None:
    """Whole sentences of ``text`` around the ``evidence`` spans (offsets into ``text``).

    Returns (quote, start, end) with "…" where sentences were left out, or None when even the
    whole text is shorter than ``min_words``.
    """
    spans = sentence_spans(text)
    if not spans:
        return None
    hits = [i for i, (s, e) in enumerate(spans) if any(a < e and b > s for a, b in evidence)]
    lo, hi = (min(hits), max(hits)) if hits else (0, 0)
    counts = [_words(text[s:e]) for s, e in spans]
    while hi > lo and sum(counts[lo : hi + 1]) > max_words:
        hi -= 1
    while sum(counts[lo : hi + 1]) < min_words and (lo > 0 or hi < len(spans) - 1):
        if hi < len(spans) - 1 and sum(counts[lo : hi + 2]) <= max_words:
            hi += 1
        elif lo > 0 and sum(counts[lo - 1 : hi + 1]) <= max_words:
            lo -= 1
        else:
            break
    start, end = spans[lo][0], spans[hi][1]
    body = " ".join(text[start:end].split())
    cut_before, cut_after = lo > 0, hi < len(spans) - 1
    if _words(body) > max_words:  # one sentence longer than the limit: cut inside it
        words = body.split()
        first = max(start, min((a for a, _ in evidence), default=start))
        # start a third of the window before the first evidence word
        at = max(0, min(_words(text[start:first]) - max_words // 3, len(words) - max_words))
        body = " ".join(words[at : at + max_words])
        cut_before, cut_after = cut_before or at > 0, cut_after or at + max_words < len(words)
    if _words(body) < min_words:
        return None
    return (
        (ELLIPSIS + " " if cut_before else "") + body + (" " + ELLIPSIS if cut_after else ""),
        start,
        end,
    )


def _tokens(text: str) -> frozenset[str]:
    return frozenset(w.casefold() for w in _WORD.findall(text))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 1.0


def quotes(
    store: Store,
    code: str | Sequence[str] | None = None,
    *,
    groups: Sequence[str] = (),
    max_quotes: int = 5,
    min_words: int = 8,
    max_words: int = 60,
    source: str = "all",
    config: Any = None,
    coders: Sequence[str] | None = None,
    kind: str = "all",
    where: Sequence[str] = (),
) -> pd.DataFrame:
    """Up to ``max_quotes`` quotes per code (default: every top-level code), best first.

    Columns: code, label, kind (interview | survey), document, segment, start, end (document
    offsets of the quoted sentences), score, group, attribution (the document's title, else
    its group), attributed_by (title | group | none), words, text. ``kind`` and ``where``
    (``KEY=VALUE`` metadata filters) choose the documents; interview quotes and survey answers
    never compete: each kind gets its own ``max_quotes`` per code, interviews first.

    >>> quotes(store, "dubbla_roller", max_quotes=3)[["attribution", "text"]]  # doctest: +SKIP
    """
    if max_quotes < 1 or min_words < 1 or max_words < min_words:
        raise ConfigError(
            "need --max >= 1 and 1 <= --min-words <= --max-words "
            f"(got {max_quotes}, {min_words}, {max_words})"
        )
    codes = store.codes_frame()
    paths = _chosen_codes(codes, code)
    labels = dict(zip(codes["path"], codes["label"].fillna(codes["path"])))
    documents = select_documents(store, check_kind(kind), where)
    kinds = document_kinds(documents)
    kind_of = dict(zip(documents["document"], documents["kind"]))
    codings = respondent_codings(store, source, coders=coders, documents=documents)
    conflicts = codings.attrs["conflicts"]
    codings = codings.assign(_kind=codings["document"].map(kind_of))
    if groups:
        codings = codings[codings["group"].isin(set(groups))]
    redact = redaction_hook(store, config)
    texts: dict[str, str] = {}
    segments = store.segments_frame(with_text=False)[["document", "segment", "start", "end"]]
    segments = segments.rename(columns={"start": "seg_start", "end": "seg_end"})
    out = []
    for path, doc_kind in ((p, k) for p in paths for k in kinds):
        chosen = codings[
            ((codings["code"] == path) | codings["code"].str.startswith(path + "/"))
            & (codings["_kind"] == doc_kind)
        ]
        picked: list[dict[str, Any]] = []
        seen: list[frozenset[str]] = []
        for cand in _ranked(chosen, segments):
            if len(picked) >= max_quotes:
                break
            if cand["document"] not in texts:
                texts[cand["document"]] = store.document_text(cand["document"])
            text = texts[cand["document"]]
            s0, s1 = int(cand["seg_start"]), int(cand["seg_end"])
            evidence = [(a - s0, b - s0) for a, b in cand["evidence"]]
            trimmed = trim_quote(text[s0:s1], evidence, min_words=min_words, max_words=max_words)
            if trimmed is None:
                continue
            body, qs, qe = trimmed
            tokens = _tokens(body)
            if any(_jaccard(tokens, other) > DUPLICATE_JACCARD for other in seen):
                continue
            seen.append(tokens)
            attribution, by = _attribution(cand)
            picked.append(
                {
                    "code": path,
                    "label": labels.get(path, path),
                    "kind": doc_kind,
                    "document": cand["document"],
                    "segment": cand["segment"],
                    "start": s0 + qs,
                    "end": s0 + qe,
                    "score": round(float(cand["score"]), 4),
                    "group": cand["group"],
                    "attribution": redact(attribution),
                    "attributed_by": by,
                    "words": _words(body),
                    "text": redact(body),
                }
            )
        out.extend(picked)
    frame = pd.DataFrame(out, columns=QUOTE_COLUMNS)
    frame["segment"] = frame["segment"].astype("Int64")
    frame.attrs["codes"] = paths
    frame.attrs["labels"] = {p: labels.get(p, p) for p in paths}
    frame.attrs["conflicts"] = conflicts
    frame.attrs["kinds"] = kinds
    return frame


def _chosen_codes(codes: pd.DataFrame, code: str | Sequence[str] | None) -> list[str]:
    if code is None or (not isinstance(code, str) and not list(code)):
        return list(codes.loc[codes["level"] == 1, "path"])
    wanted = [code] if isinstance(code, str) else list(code)
    known = set(codes["path"])
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise ConfigError(
            f"{unknown[0]}: no such code in the project's codebook; see `qcode codebook show`",
            param="code",
        )
    return wanted


def _ranked(codings: pd.DataFrame, segments: pd.DataFrame) -> Iterator[dict[str, Any]]:
    """Candidate passages, lazily, in the order quotes are taken from them.

    One candidate per coded segment (its best score, the evidence of all its codings). Order:
    each respondent's best passage first (round 1), then second-best (round 2), …; within a
    round the best of each group, then the second-best respondent of each group, …; ties by
    score, group, document and position. Ranking is vectorised; only the candidates actually
    visited are turned into dicts and have their evidence parsed.
    """
    if codings.empty:
        return
    keyed = codings.reset_index(drop=True)
    # a passage a rule or a person coded has words to trim around; one only the model coded
    # has none, and its probability is not on the rules' score scale: it comes after
    keyed["_grounded"] = keyed["source"].isin(["rule", "human"]) if "source" in keyed else True
    cands = (
        keyed.groupby(["document", "unit"], sort=False)
        .agg(
            segment=("segment", "first"),
            start=("start", "min"),
            end=("end", "max"),
            score=("score", "max"),
            group=("group", "first"),
            title=("title", "first"),
            main_group=("main_group", "first"),
            _grounded=("_grounded", "max"),
        )
        .reset_index()
    )
    cands = cands.merge(segments, on=["document", "segment"], how="left")
    cands["seg_start"] = cands["seg_start"].fillna(cands["start"])
    cands["seg_end"] = cands["seg_end"].fillna(cands["end"])
    cands["score"] = cands["score"].fillna(0.0)
    cands["_group"] = cands["group"].fillna(MISSING).astype(str)
    cands = cands.sort_values(
        ["_grounded", "score", "document", "seg_start"],
        ascending=[False, False, True, True],
        kind="mergesort",
    )
    cands["_round"] = cands.groupby("document").cumcount()
    cands["_turn"] = cands.groupby(["_round", "_group"]).cumcount()
    cands = cands.sort_values(
        ["_round", "_turn", "_grounded", "score", "_group", "document", "seg_start"],
        ascending=[True, True, False, False, True, True, True],
        kind="mergesort",
    )
    rows_of = keyed.groupby(["document", "unit"], sort=False).indices
    evidence = keyed["evidence"].to_numpy()
    columns = list(cands.columns)
    for values in cands.itertuples(index=False, name=None):
        cand = dict(zip(columns, values))
        cand["evidence"] = _evidence_spans(evidence[rows_of[(cand["document"], cand["unit"])]])
        yield cand


def _evidence_spans(values: Iterable[str]) -> list[tuple[int, int]]:
    spans = set()
    for value in values:
        try:
            items = json.loads(value or "[]")
        except (TypeError, ValueError):
            continue
        for item in items:
            if isinstance(item, dict) and "start" in item and "end" in item:
                spans.add((int(item["start"]), int(item["end"])))
    return sorted(spans)


def _attribution(cand: dict[str, Any]) -> tuple[str, str]:
    """The role a quote is attributed to: the title, else the group, never a name."""
    for key in ("title", "group", "main_group"):
        value = cand.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip(), "title" if key == "title" else "group"
    return "respondent", "none"


#: the quote matrix keeps this many quotes per code to choose each cell's best from.
MATRIX_CANDIDATES = 500


def quote_matrix(
    store: Store,
    code: str | Sequence[str] | None = None,
    *,
    by: str = "group",
    groups: Sequence[str] = (),
    min_words: int = 8,
    max_words: int = 60,
    source: str = "all",
    config: Any = None,
    coders: Sequence[str] | None = None,
    kind: str = "all",
    where: Sequence[str] = (),
) -> pd.DataFrame:
    """The best quote per code and ``by`` value (a code × group "quote matrix"), one row per
    filled cell: the columns of :func:`quotes` plus ``by`` and ``value``. The best is the
    first the quote ranking gives for that group (strongest coding, then spread over
    respondents); empty cells have no row. ``frame.attrs`` holds the codes, labels and the
    ``by`` values in order.

    >>> quote_matrix(store, by="main_group")[["code", "value", "attribution", "text"]]  # doctest: +SKIP
    """
    from ._common import check_by_keys

    (by,) = check_by_keys([by], config)
    documents = store.documents_frame()
    if by not in documents.columns or documents[by].isna().all():
        known = sorted(c for c in documents.columns if c not in ("path", "n_segments"))
        raise ConfigError(
            f"{by}: no document has this metadata key; known keys: {', '.join(known)}",
            param="by",
        )
    frame = quotes(
        store,
        code,
        groups=groups,
        max_quotes=MATRIX_CANDIDATES,
        min_words=min_words,
        max_words=max_words,
        source=source,
        config=config,
        coders=coders,
        kind=kind,
        where=where,
    )
    value_of = {
        d: (MISSING if v is None or (isinstance(v, float) and pd.isna(v)) or v == "" else str(v))
        for d, v in zip(documents["document"], documents[by])
    }
    frame = frame.assign(by=by, value=frame["document"].map(value_of))
    best = frame.drop_duplicates(["code", "value"], keep="first").reset_index(drop=True)
    values = sorted(set(value_of.values()), key=lambda v: (v == MISSING, v))
    if groups and by == "group":
        values = [v for v in values if v in set(groups)]
    best.attrs.update(
        codes=frame.attrs["codes"], labels=frame.attrs["labels"], by=by, values=values
    )
    return best
