"""Keyword in context: every place a word occurs, with the words around it, the document and the
speaker's role (NVivo's and MAXQDA's text search).

With ``lemma=True`` the terms go through the codebook's own matcher (:class:`qcode.tag.Tagger`),
so ``handlingsplan`` also finds ``handlingsplanerna`` and ``krishandlingsplan``, exactly as a
codebook term would; without it a term matches as written (case-insensitive, whole words,
``stem*`` for a prefix). Context is cut at whole words inside the passage and passes through
the project's redaction: a search never shows a name.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Any

import pandas as pd

from ..errors import ConfigError
from ..store import Store
from ._common import parse_where, redaction_hook

SEARCH_COLUMNS = [
    "document",
    "segment",
    "start",
    "end",
    "left",
    "match",
    "right",
    "role",
    "group",
    "is_interviewer",
]
#: characters of context on each side, extended to whole words.
CONTEXT = 50
_TERM = re.compile(r"^[^\W\d_][\w-]*\*?$")


def _check_terms(terms: Sequence[str]) -> list[str]:
    cleaned = [" ".join(str(t).split()).lower() for t in terms if str(t).strip()]
    if not cleaned:
        raise ConfigError("give at least one search term")
    for term in cleaned:
        for word in term.split():
            if not _TERM.match(word):
                raise ConfigError(
                    f"search term {term!r}: words of letters, a trailing * for a prefix"
                )
    return cleaned


def _literal_pattern(terms: list[str]) -> re.Pattern[str]:
    parts = []
    for term in terms:
        words = []
        for word in term.split():
            prefix = word.endswith("*")
            body = re.escape(word.rstrip("*"))
            words.append(body + (r"\w*" if prefix else ""))
        parts.append(r"\s+".join(words))
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


def _lemma_tagger(terms: list[str]) -> Any:
    from ..codebook import Code, Codebook, Patterns, Term
    from ..tag import Tagger

    words = tuple(Term(t.rstrip("*"), prefix=t.endswith("*")) for t in terms if " " not in t)
    phrases = tuple(tuple(t.split()) for t in terms if " " in t)
    code = Code(
        id="search", path="search", label="search", patterns=Patterns(terms=words, phrases=phrases)
    )
    return Tagger(Codebook("search", "1", "sv", (code,)), code_interviewer=True)


def search(
    store: Store,
    terms: Sequence[str],
    *,
    lemma: bool = False,
    codes: Sequence[str] = (),
    where: Sequence[str] | dict[str, Collection[str]] = (),
    context: int = CONTEXT,
    respondents_only: bool = False,
    config: Any = None,
) -> pd.DataFrame:
    """Every occurrence of ``terms`` as a keyword-in-context table (:data:`SEARCH_COLUMNS`):
    ``left``/``match``/``right`` (redacted), ``start``/``end`` into the stored text, the
    segment, and ``role`` (``interviewer``, else the document's title, else its group).

    ``codes`` keeps passages coded with one of the codes or a subcode (any source); ``where``
    keeps documents whose metadata matches every ``KEY=VALUE``.

    >>> search(store, ["handlingsplan"], lemma=True)[["left", "match", "right"]]  # doctest: +SKIP
    """
    terms = _check_terms(terms)
    filters = where if isinstance(where, dict) else parse_where(where)
    documents = store.documents_frame()
    for key, values in filters.items():
        if key not in documents.columns:
            known = sorted(c for c in documents.columns if c not in ("path", "n_segments"))
            raise ConfigError(
                f"{key}: no document has this metadata key; known keys: {', '.join(known)}",
                param="where",
            )
        documents = documents[documents[key].astype(str).isin(values)]
    segments = store.segments_frame(with_text=True)
    segments = segments[segments["document"].isin(set(documents["document"]))]
    if respondents_only:
        segments = segments[~segments["is_interviewer"]]
    if codes:
        code_paths = set(store.codes_frame()["path"])
        for code in codes:
            if code not in code_paths:
                raise ConfigError(f"{code}: no such code in the project's codebook", param="code")
        coded = store.codings_frame(with_text=False)
        chosen = coded["code"].map(lambda c: any(c == k or c.startswith(k + "/") for k in codes))
        keys = set(zip(coded.loc[chosen, "document"], coded.loc[chosen, "segment"].astype("Int64")))
        segments = segments[
            [(d, s) in keys for d, s in zip(segments["document"], segments["segment"])]
        ]
    meta = documents.set_index("document")
    hook = redaction_hook(store, config)
    rows = []
    tagger = _lemma_tagger(terms) if lemma else None
    pattern = None if lemma else _literal_pattern(terms)
    for seg in segments.itertuples(index=False):
        text = seg.text or ""
        if tagger is not None:
            from ..models import Segment

            segment = Segment(
                seg.document,
                int(seg.segment),
                int(seg.start),
                int(seg.end),
                seg.speaker,
                bool(seg.is_interviewer),
                text,
            )
            spans = sorted(
                {
                    (m.start - seg.start, m.end - seg.start)
                    for m in tagger.explain(segment).matches
                    if not m.veto
                }
            )
        else:
            assert pattern is not None  # no lemma tagger: the literal pattern was compiled
            spans = [(m.start(), m.end()) for m in pattern.finditer(text)]
        for start, end in _without_overlaps(spans):
            rows.append(_row(seg, meta, text, start, end, context, hook))
    frame = pd.DataFrame(rows, columns=SEARCH_COLUMNS)
    frame.attrs.update(terms=terms, lemma=lemma, documents=int(frame["document"].nunique()))
    return frame


def _without_overlaps(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    kept: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if kept and start < kept[-1][1]:
            continue
        kept.append((start, end))
    return kept


def _row(
    seg: Any, meta: pd.DataFrame, text: str, start: int, end: int, context: int, hook: Any
) -> dict[str, Any]:
    left_at = max(0, start - context)
    while left_at > 0 and not text[left_at - 1].isspace():
        left_at -= 1  # whole words only: a name is never cut in two
    right_at = min(len(text), end + context)
    while right_at < len(text) and not text[right_at].isspace():
        right_at += 1
    left = ("… " if left_at > 0 else "") + " ".join(text[left_at:start].split())
    right = " ".join(text[end:right_at].split()) + (" …" if right_at < len(text) else "")
    info = meta.loc[seg.document] if seg.document in meta.index else {}
    title, group = _text(info.get("title")), _text(info.get("group"))
    role = (
        "interviewer" if seg.is_interviewer else (hook(title) if title else group or "respondent")
    )
    return {
        "document": seg.document,
        "segment": int(seg.segment),
        "start": int(seg.start) + start,
        "end": int(seg.start) + end,
        "left": hook(left),
        "match": hook(text[start:end]),
        "right": hook(right),
        "role": role,
        "group": group,
        "is_interviewer": bool(seg.is_interviewer),
    }


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def code_hits(store: Store, hits: pd.DataFrame, code: str, coder: str) -> int:
    """Code every passage holding a hit with ``code`` as ``coder``'s human coding (NVivo's
    "code the results"): one coding per passage, the whole segment, never a duplicate of one
    already stored. Returns how many were added."""
    from ..models import Coding
    from ..review import _check_coder as check_coder

    coder = check_coder(coder)
    if code not in set(store.codes_frame()["path"]):
        raise ConfigError(f"{code}: no such code in the project's codebook", param="code_as")
    spans = store.segment_spans()
    codings = []
    for document, segment in dict.fromkeys(zip(hits["document"], hits["segment"])):
        start, end = spans[(document, int(segment))]
        codings.append(Coding(document, int(segment), start, end, code, "human", 1.0, coder))
    return store.add_human_codings(codings)
