"""The final coding: what the reports count once people have coded.

The automatic codings (rules, models) are suggestions; a person's decision replaces them.
Every report (frequencies, cooccurrence, crosstab, quotes) reads its codings through
:func:`final_codings`, per segment and code:

* no chosen human decided about the code on the segment: the automatic coding counts;
* a chosen human decided about it: the humans' decisions count and the automatic coding of
  that code does not. A human *decides about* code P on a segment by coding P, a subcode or
  a parent of it there, or by rejecting P or a parent of it (leaving its cell empty on a
  review sheet, see :meth:`~qcode.store.Store.rejections_frame`);
* a human coding counts unless another chosen human rejected the code there: then the two
  are in **conflict**, the passage counts for neither side, and :func:`conflicts` lists it
  until one of them changes their decision (or the report is run with ``coders`` naming
  only one side).

A rejection counts for a code and its subcodes ("not beredskap" is "not beredskap/saknas"
either); coding a subcode voids the same coder's rejection of its parent (ticking
``beredskap/saknas`` and leaving ``beredskap`` empty still says beredskap applies).

``coders`` chooses whose decisions count: None for every human coder and the automatic
codings; otherwise the named coders, with ``auto`` for the automatic codings. Without
``auto`` only the humans' codings are left; with only ``auto`` only the machine's.

>>> from qcode.store import Store
>>> final_codings(Store(":memory:")).empty
True
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

import pandas as pd

from .errors import ConfigError
from .store import Store

#: the coder name that stands for every automatic coding (rule, model, …), as in agreement.
AUTO = "auto"

CONFLICT_COLUMNS = [
    "document",
    "segment",
    "code",
    "accepted_by",
    "rejected_by",
    "title",
    "group",
    "speaker",
    "text",
]


def _within(code: str, parent: str) -> bool:
    """``code`` is ``parent`` or one of its subcodes."""
    return code == parent or code.startswith(parent + "/")


def _related(a: str, b: str) -> bool:
    return _within(a, b) or _within(b, a)


def choose(
    store: Store, source: str | Sequence[str] | None = "all", coders: Sequence[str] | None = None
) -> tuple[list[str] | None, bool, list[str] | None]:
    """Whose codings a view uses: (human coders or None for all of them, whether automatic
    codings count, automatic sources or None for all). Unknown coder names raise
    :class:`~qcode.errors.ConfigError` naming the known ones."""
    sources = [source] if isinstance(source, str) else list(source or ["all"])
    all_sources = "all" in sources
    use_humans = all_sources or "human" in sources
    auto_sources = None if all_sources else [s for s in sources if s != "human"]
    use_auto = all_sources or bool(auto_sources)
    humans: list[str] | None = None
    names = list(dict.fromkeys(c for c in (coders or ()) if c))
    if names:
        known = set(store.coders_frame()["coder"])
        unknown = [c for c in names if c != AUTO and c not in known]
        if unknown:
            raise ConfigError(
                f"{', '.join(unknown)}: no such coder in this project; "
                "coders: " + (", ".join(sorted(known)) or "(none)") + f" and {AUTO}",
                param="coder",
            )
        humans = [c for c in names if c != AUTO]
        use_auto = use_auto and AUTO in names
        use_humans = use_humans and bool(humans)
        if not use_auto and not use_humans:
            raise ConfigError(
                f"{', '.join(names)} with source {', '.join(sources)} selects no codings",
                param="coder",
            )
    return (humans if use_humans else []), use_auto, auto_sources


class _Decisions:
    """The chosen humans' codes and rejections per (document, segment)."""

    def __init__(self, human: pd.DataFrame, rejections: pd.DataFrame):
        self.coded: dict[tuple[str, int], dict[str, set[str]]] = defaultdict(
            lambda: defaultdict(set)
        )
        self.rejected: dict[tuple[str, int], dict[str, set[str]]] = defaultdict(
            lambda: defaultdict(set)
        )
        for doc, seg, code, coder in zip(
            human["document"], human["segment"], human["code"], human["coder"]
        ):
            if not pd.isna(seg):
                self.coded[(doc, int(seg))][coder].add(code)
        for doc, seg, code, coder in zip(
            rejections["document"], rejections["segment"], rejections["code"], rejections["coder"]
        ):
            if not pd.isna(seg):
                self.rejected[(doc, int(seg))][coder].add(code)

    def segments(self) -> set[tuple[str, int]]:
        return set(self.coded) | set(self.rejected)

    def covers(self, key: tuple[str, int], code: str) -> bool:
        """Some chosen human decided about ``code`` on this segment."""
        return any(
            _related(q, code) for codes in self.coded.get(key, {}).values() for q in codes
        ) or any(_within(code, r) for codes in self.rejected.get(key, {}).values() for r in codes)

    def sides(self, key: tuple[str, int], code: str) -> tuple[list[str], list[str]]:
        """(coders who say ``code`` applies here, coders who say it does not)."""
        coded = self.coded.get(key, {})
        accept = sorted(c for c, codes in coded.items() if any(_within(q, code) for q in codes))
        reject = sorted(
            c
            for c, codes in self.rejected.get(key, {}).items()
            if c not in accept and any(_within(code, r) for r in codes)
        )
        return accept, reject


def _frames(
    store: Store,
    humans: list[str] | None,
    use_auto: bool,
    auto_sources: list[str] | None,
    *,
    with_text: bool,
    extra: Sequence[str],
) -> tuple[pd.DataFrame, pd.Series, pd.Series, pd.DataFrame]:
    """(every current coding, which rows are chosen automatic ones, which are chosen humans',
    the chosen humans' rejections)."""
    frame = store.codings_frame(with_text=with_text, extra=extra)
    is_human = frame["source"] == "human"
    auto = ~is_human & use_auto
    if use_auto and auto_sources is not None:
        auto &= frame["source"].isin(auto_sources)
    human = is_human & (frame["coder"].isin(humans) if humans is not None else True)
    rejections = store.rejections_frame(coder=humans)
    if humans == []:
        rejections = rejections.iloc[0:0]
    return frame, auto, human, rejections


def final_codings(
    store: Store,
    *,
    source: str | Sequence[str] | None = "all",
    coders: Sequence[str] | None = None,
    with_text: bool = False,
    extra: Sequence[str] = (),
) -> pd.DataFrame:
    """The codings that count (see the module docstring), with the columns of
    :meth:`~qcode.store.Store.codings_frame`, in its order. ``frame.attrs["conflicts"]``
    holds how many (segment, code) conflicts between humans were left out,
    ``frame.attrs["conflict_keys"]`` which ones (document, segment, code).

    ``source`` narrows first (``"rule"`` gives the rule codings as they are, ``"human"`` the
    humans' decisions without the machine's); ``coders`` then chooses whose decisions count.

    >>> final_codings(store, coders=["eva", "auto"])  # doctest: +SKIP
    """
    humans, use_auto, auto_sources = choose(store, source, coders)
    frame, auto, human, rejections = _frames(
        store, humans, use_auto, auto_sources, with_text=with_text, extra=extra
    )
    decisions = _Decisions(frame[human], rejections)
    decided = decisions.segments()
    keep = (auto | human).to_numpy().copy()
    in_conflict: set[tuple[str, int, str]] = set()
    # only rows in documents with decisions need a look, the rest stand as they are
    near = (frame["document"].isin({doc for doc, _seg in decided}) & (auto | human)).to_numpy()
    for i in near.nonzero()[0]:
        doc, seg, code = frame["document"].iat[i], frame["segment"].iat[i], frame["code"].iat[i]
        key = None if pd.isna(seg) else (doc, int(seg))
        if key is None or key not in decided:
            continue
        if auto.iat[i]:
            keep[i] = not decisions.covers(key, code)
        elif decisions.sides(key, code)[1]:
            keep[i] = False
            in_conflict.add((doc, int(seg), code))
    out = frame[keep].reset_index(drop=True)
    out.attrs["conflicts"] = len(in_conflict)
    out.attrs["conflict_keys"] = tuple(sorted(in_conflict))
    return out


def conflicts(
    store: Store, coders: Sequence[str] | None = None, *, redact: Callable[[str], str] | None = None
) -> pd.DataFrame:
    """Segments where one human coded a code and another rejected it: one row per segment
    and code with ``accepted_by`` and ``rejected_by`` (coder names, comma-separated), the
    document's title and group, the speaker and the segment text, passed through ``redact``
    when given (the project's redactor: :meth:`qcode.Project.conflicts` does). ``coders``
    limits it to those humans (default: all of them).

    >>> conflicts(store)[["document", "segment", "code", "accepted_by", "rejected_by"]]  # doctest: +SKIP
    """
    humans, _use_auto, _sources = choose(store, "human", [c for c in (coders or ()) if c != AUTO])
    frame, _auto, human, rejections = _frames(store, humans, False, None, with_text=False, extra=())
    decisions = _Decisions(frame[human], rejections)
    rows = []
    coded = frame[human]
    for doc, seg, code in sorted(
        {
            (d, int(s), c)
            for d, s, c in zip(coded["document"], coded["segment"], coded["code"])
            if not pd.isna(s)
        }
    ):
        accept, reject = decisions.sides((doc, seg), code)
        if accept and reject:
            rows.append(
                {
                    "document": doc,
                    "segment": seg,
                    "code": code,
                    "accepted_by": ", ".join(accept),
                    "rejected_by": ", ".join(reject),
                }
            )
    out = pd.DataFrame(rows, columns=CONFLICT_COLUMNS[:5]).astype({"segment": "int64"})
    segments = store.segments_frame()[["document", "segment", "speaker", "text"]]
    documents = store.documents_frame()[["document", "title", "group"]]
    out = (
        out.merge(documents, on="document", how="left").merge(
            segments.astype({"segment": "int64"}), on=["document", "segment"], how="left"
        )
    )[CONFLICT_COLUMNS]
    if redact is not None and not out.empty:
        out["text"] = out["text"].map(lambda t: redact(t) if isinstance(t, str) else t)
        out["speaker"] = out["speaker"].map(lambda s: redact(s) if isinstance(s, str) else s)
    return out.reset_index(drop=True)
