"""What the browser workbench shows and does, without HTTP: views built from the project
database, and one coder's decisions written back through the same store calls the CLI uses.

A decision on an automatic coding is stored the way ``qcode import review`` stores a review
sheet (:meth:`~qcode.store.Store.replace_human_decisions`): accepting a suggestion gives the
coder a human coding of the whole segment, rejecting it removes the coder's coding there and
is remembered in the coding log. A coding made by selecting text is stored like a row of
``qcode import codings`` (:meth:`~qcode.store.Store.add_human_codings`), with the span's
code-point offsets. Reports, ``qcode agreement`` and ``qcode export qdpx`` see all of it.

>>> from qcode.serve.workbench import pieces
>>> [(p.start, p.end, p.codings) for p in pieces(0, 10, [(2, 5, 7)], [])]
[(0, 2, ()), (2, 5, (7,)), (5, 10, ())]
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ReviewError
from ..models import AUTOMATIC_SOURCES as AUTO_SOURCES
from ..models import Coding
from ..store import Store

#: colours for codes the codebook gives none (a colour-blind-safe set; Okabe & Ito's order).
FALLBACK_COLORS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442")
#: file suffixes of survey tables: their documents are respondents' answers, not interviews.
TABLE_SUFFIXES = (".csv", ".tsv", ".xlsx", ".xls", ".ods")
KWIC_CONTEXT = 70  # characters either side of a passage in the code view
KWIC_LONGEST = 240  # a coded span longer than this is shown from its evidence or start


@dataclass(frozen=True)
class Piece:
    """A run of a segment's text under one set of codings (ids); ``evidence`` marks words
    that made a rule fire."""

    start: int
    end: int
    codings: tuple[int, ...]
    evidence: bool = False


def pieces(
    start: int, end: int, spans: Iterable[tuple[int, int, int]], evidence: Iterable[tuple[int, int]]
) -> list[Piece]:
    """Cut ``[start, end)`` at every coding boundary ``(start, end, id)`` and evidence span,
    so overlapping codings show as one piece with several ids."""
    spans = [(max(s, start), min(e, end), i) for s, e, i in spans if s < end and e > start]
    marks = [(max(s, start), min(e, end)) for s, e in evidence if s < end and e > start]
    cuts = sorted(
        {
            start,
            end,
            *(s for s, _e, _i in spans),
            *(e for _s, e, _i in spans),
            *(s for s, _e in marks),
            *(e for _s, e in marks),
        }
    )
    out = []
    for a, b in zip(cuts, cuts[1:]):
        if a >= b:
            continue
        ids = tuple(i for s, e, i in spans if s <= a and b <= e)
        out.append(Piece(a, b, ids, any(s <= a and b <= e for s, e in marks)))
    return out


def document_kind(path: str | None, metadata: dict[str, Any]) -> str:
    """``kind`` metadata when the document has it, else survey (a table row) or interview."""
    if metadata.get("kind"):
        return str(metadata["kind"])
    return "survey" if path and Path(path).suffix.lower() in TABLE_SUFFIXES else "interview"


def top_code(path: str) -> str:
    return path.split("/", 1)[0]


def covers(code: str, wanted: str) -> bool:
    """True when ``code`` is ``wanted`` or one of its subcodes."""
    return code == wanted or code.startswith(wanted + "/")


@dataclass
class Action:
    """One undoable step: what was done (shown to the coder) and how to take it back."""

    label: str
    undo: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)


class Workbench:
    """One coder's session on a project: views and decisions.

    Every method opens nothing itself; the caller hands in a :class:`Store` (the web app
    keeps one connection in one thread). ``blind`` hides automatic codings and other
    coders' codings, for independent coding.
    """

    def __init__(self, project: Any, coder: str, *, blind: bool = False):
        coder = unicodedata.normalize("NFC", (coder or "").strip())
        if not coder or coder.lower() == "auto":
            raise ReviewError(
                "give the coder's name with --coder NAME ('auto' names the automatic codings)"
            )
        self.project = project
        self.coder = coder
        self.blind = blind
        self.history: list[Action] = []
        self._redactor: Any = None

    # -- shared lookups ---------------------------------------------------------------------
    @property
    def store(self) -> Store:
        store: Store = self.project.open_existing_store()
        return store

    def codebook(self) -> Any:
        """The codebook named by the project, or None (the code table is then all we have)."""
        try:
            return self.project.codebook if self.project.config.codebook else None
        except Exception:  # an unreadable codebook must not take the workbench down
            return None

    def codes(self) -> list[dict[str, Any]]:
        """The project's codes in codebook order with a colour each (a subcode without one
        takes its parent's) and the codebook's definitions where it has them."""
        frame = self.store.codes_frame()
        book = self.codebook()
        known = {c.path: c for c in book.walk()} if book is not None else {}
        colors: dict[str, str] = {}
        out = []
        for i, row in enumerate(frame.itertuples(index=False)):
            color = row.color if isinstance(row.color, str) and row.color else None
            parent = row.parent if isinstance(row.parent, str) else None
            colors[row.path] = (
                color or colors.get(parent or "", "") or FALLBACK_COLORS[i % len(FALLBACK_COLORS)]
            )
            full = known.get(row.path)
            out.append(
                {
                    "path": row.path,
                    "id": row.id,
                    "label": row.label or row.id,
                    "level": int(row.level),
                    "parent": parent,
                    "color": colors[row.path],
                    "description": (full.description if full else row.description) or "",
                    "include": full.include if full else "",
                    "exclude": full.exclude if full else "",
                    "examples": list(full.examples) if full else [],
                }
            )
        return out

    def redactor(self) -> Any:
        if self._redactor is None:
            self._redactor = self.project.redactor()
        return self._redactor

    def redact(self, text: str | None) -> str:
        """Text the way reports print it (the project's placeholders, remembered)."""
        if not text:
            return text or ""
        from ..privacy import remember

        out: str = self.redactor().redact(text)
        if self.redactor().new_entries:
            remember(self.redactor(), self.store)
        return out

    # -- documents list -----------------------------------------------------------------------
    def documents(
        self,
        *,
        group: str = "",
        kind: str = "",
        code: str = "",
        coder: str = "",
        unreviewed: bool = False,
    ) -> pd.DataFrame:
        """One row per document: document, title, group, kind, segments, coded share, counts
        per top-level code, this coder's accepted/rejected/pending suggestions; filtered."""
        store = self.store
        docs = store.documents_frame()
        segments = store.segments_frame(with_text=False)
        respondent = segments[~segments["is_interviewer"]]
        codings = store.codings_frame(with_text=False)
        visible = (
            codings[(codings["source"] == "human") & (codings["coder"] == self.coder)]
            if self.blind
            else codings
        )
        rejected = store.rejections(self.coder)
        auto = codings[codings["source"].isin(AUTO_SOURCES)]
        mine = codings[(codings["source"] == "human") & (codings["coder"] == self.coder)]
        mine_keys = set(zip(mine["document"], mine["segment"], mine["code"]))
        suggestions = set(zip(auto["document"], auto["segment"], auto["code"]))
        progress: dict[str, list[int]] = {}
        for key in suggestions:
            counts = progress.setdefault(key[0], [0, 0, 0])
            counts[0 if key in mine_keys else 1 if key in rejected else 2] += 1
        coded = visible.merge(respondent[["document", "segment"]], on=["document", "segment"])
        coded_segments = coded.groupby("document")["segment"].nunique()
        respondent_segments = respondent.groupby("document")["segment"].nunique()
        theme_counts = (
            {
                (d, t): n
                for (d, t), n in visible.assign(top=visible["code"].map(top_code))
                .drop_duplicates(["document", "segment", "top"])
                .groupby(["document", "top"])
                .size()
                .items()
            }
            if not visible.empty
            else {}
        )
        coders_by_doc: dict[str, set[str]] = {}
        for d, c in zip(
            codings.loc[codings["source"] == "human", "document"],
            codings.loc[codings["source"] == "human", "coder"],
        ):
            coders_by_doc.setdefault(d, set()).add(c)
        codes_by_doc: dict[str, set[str]] = {}
        for d, c in zip(visible["document"], visible["code"]):
            codes_by_doc.setdefault(d, set()).add(c)
        tops = [c["path"] for c in self.codes() if c["level"] == 1]
        rows = []
        for rec in docs.to_dict("records"):
            doc = rec["document"]
            meta = {k: v for k, v in rec.items() if not _missing(v)}
            n_resp = int(respondent_segments.get(doc, 0))
            accepted, rejected_n, pending = progress.get(doc, [0, 0, 0])
            row = {
                "document": doc,
                "title": meta.get("title") or "",
                "group": meta.get("group") or "",
                "kind": document_kind(meta.get("path"), meta),
                "segments": int(rec["n_segments"]),
                "coded_share": (int(coded_segments.get(doc, 0)) / n_resp) if n_resp else 0.0,
                "themes": {t: int(theme_counts.get((doc, t), 0)) for t in tops},
                "accepted": accepted,
                "rejected": rejected_n,
                "pending": pending,
                "coders": sorted(coders_by_doc.get(doc, ())),
            }
            if group and row["group"] != group:
                continue
            if kind and row["kind"] != kind:
                continue
            if code and not any(covers(c, code) for c in codes_by_doc.get(doc, ())):
                continue
            if coder and coder not in row["coders"]:
                continue
            if unreviewed and (
                pending == 0
                or self.blind
                and doc in coders_by_doc
                and self.coder in coders_by_doc[doc]
            ):
                continue
            rows.append(row)
        return pd.DataFrame(
            rows,
            columns=[
                "document",
                "title",
                "group",
                "kind",
                "segments",
                "coded_share",
                "themes",
                "accepted",
                "rejected",
                "pending",
                "coders",
            ],
        )

    def filter_choices(self) -> dict[str, list[str]]:
        """The values the documents filters offer: groups, kinds, coders."""
        store = self.store
        records = store.documents_frame().to_dict("records")
        return {
            "groups": sorted({r["group"] for r in records if isinstance(r["group"], str)}),
            "kinds": sorted(
                {
                    document_kind(r["path"], {k: v for k, v in r.items() if not _missing(v)})
                    for r in records
                }
            ),
            "coders": sorted(store.coders_frame()["coder"].tolist()),
        }

    # -- one document ---------------------------------------------------------------------------
    def document(self, document_id: str, *, redacted: bool = False) -> dict[str, Any]:
        """Everything the document view draws: metadata, and per segment its text pieces and
        the margin entries (suggestions with this coder's decision, own and others' codings)."""
        store = self.store
        text = store.document_text(document_id)
        meta = store.document_metadata(document_id)
        segments = store.segments_frame(document=document_id, with_text=False)
        codes = {c["path"]: c for c in self.codes()}
        codings = store.document_codings(document_id)
        rejected = store.rejections(self.coder, document_id)
        memos = store.memos_frame(document=document_id)
        coding_memos: dict[tuple[int, int, str], list[dict[str, Any]]] = {}
        for memo in memos[memos["kind"] == "coding"].to_dict("records"):
            coding_memos.setdefault(
                (int(memo["start"]), int(memo["end"]), memo["code"]), []
            ).append(memo)
        mine = [c for c in codings if c["source"] == "human" and c["coder"] == self.coder]
        auto = [c for c in codings if c["source"] in AUTO_SOURCES]
        spans = {int(r.segment): (int(r.start), int(r.end)) for r in segments.itertuples()}
        suggested = {(c["segment"], c["code"]) for c in auto}
        # a coder's whole-segment coding of a suggested code is that suggestion accepted
        accepted = {
            (c["segment"], c["code"])
            for c in mine
            if (c["segment"], c["code"]) in suggested
            and spans.get(c["segment"]) == (c["start"], c["end"])
        }
        entries: dict[int, list[dict[str, Any]]] = {}
        seen_auto: set[tuple[int, str]] = set()
        for c in codings:
            seg = c["segment"]
            if c["source"] in AUTO_SOURCES:
                if self.blind:
                    continue
                key = (seg, c["code"])
                if key in seen_auto:  # rule and model on the same code: one suggestion
                    merged = next(
                        e
                        for e in entries[seg]
                        if e["kind"] == "suggestion" and e["code"] == c["code"]
                    )
                    merged["sources"].append(c["source"])
                    merged["score"] = max(merged["score"] or 0, c["score"] or 0)
                    merged["evidence"] += [
                        e for e in _evidence_words(c) if e not in merged["evidence"]
                    ]
                    merged["marks"] += _evidence_marks(c)
                    continue
                seen_auto.add(key)
                status = (
                    "accepted"
                    if key in accepted
                    else "rejected"
                    if (document_id, seg, c["code"]) in rejected
                    else "pending"
                )
                entry = _entry(c, "suggestion", status, codes)
            elif c["coder"] == self.coder:
                if (
                    (seg, c["code"]) in accepted
                    and spans.get(seg) == (c["start"], c["end"])
                    and not self.blind
                ):
                    continue  # shown as its accepted suggestion
                entry = _entry(c, "mine", "human", codes)
            else:
                if self.blind:
                    continue
                entry = _entry(c, "other", "human", codes)
            entry["memos"] = coding_memos.get((c["start"], c["end"], c["code"]), [])
            if entry["kind"] != "suggestion" and spans.get(seg) != (c["start"], c["end"]):
                quote = _short(text[c["start"] : c["end"]], 60)
                entry["quote"] = self.redact(quote) if redacted else quote
            entries.setdefault(seg, []).append(entry)
        out_segments: list[dict[str, Any]] = []
        for row in segments.itertuples(index=False):
            idx, start, end = int(row.segment), int(row.start), int(row.end)
            seg_entries = entries.get(idx, [])
            highlighted = [e for e in seg_entries if e["status"] != "rejected"]
            marks = [m for e in highlighted for m in e["marks"]]
            speaker = row.speaker if isinstance(row.speaker, str) else ""
            seg_text = text[start:end]
            out_segments.append(
                {
                    "index": idx,
                    "start": start,
                    "end": end,
                    "speaker": self.redact(speaker) if redacted else speaker,
                    "interviewer": bool(row.is_interviewer),
                    "text": self.redact(seg_text) if redacted else None,
                    "pieces": []
                    if redacted
                    else [
                        (p, text[p.start : p.end])
                        for p in pieces(
                            start,
                            end,
                            [(e["start"], e["end"], e["id"]) for e in highlighted],
                            marks,
                        )
                    ],
                    "entries": seg_entries,
                }
            )
        title = meta.get("title") or document_id
        return {
            "id": document_id,
            "title": self.redact(title) if redacted else title,
            "meta": meta,
            "kind": document_kind(
                store.documents_frame().set_index("document")["path"].get(document_id), meta
            ),
            "segments": out_segments,
            "codes": codes,
            "memos": memos[memos["kind"] == "document"].to_dict("records"),
            "colors": {e["id"]: e["color"] for s in out_segments for e in s["entries"]},
            "styles": {e["id"]: e["kind"] for s in out_segments for e in s["entries"]},
        }

    def explain(self, document_id: str, segment: int, *, redacted: bool = False) -> str:
        """Why the segment was (not) coded: the text of ``qcode explain DOCUMENT --segment N``."""
        if self.codebook() is None:
            return "no codebook: run `qcode serve --codebook FILE` to see why a segment was coded"
        text = self.project.explain(document_id, segment)
        return self.redact(text) if redacted else text

    # -- codes ----------------------------------------------------------------------------------
    def code_counts(self) -> dict[str, dict[str, int]]:
        """Code path -> segments and documents coded with it or a subcode (visible codings)."""
        codings = self._visible_codings()
        out = {}
        for code in self.codes():
            rows = codings[codings["code"].map(lambda c, p=code["path"]: covers(c, p))]
            out[code["path"]] = {
                "segments": int(rows[["document", "segment"]].drop_duplicates().shape[0]),
                "documents": int(rows["document"].nunique()),
            }
        return out

    def passages(
        self,
        code: str,
        *,
        group: str = "",
        source: str = "",
        coder: str = "",
        redacted: bool = False,
    ) -> list[dict[str, Any]]:
        """Every passage coded with ``code`` (or a subcode), keyword-in-context: ``left``,
        ``keyword`` and ``right`` text around the coded span (around its evidence when the
        span is a long turn)."""
        store = self.store
        frame = self._visible_codings()
        frame = frame[frame["code"].map(lambda c: covers(c, code))]
        if group:
            frame = frame[frame["group"] == group]
        if source:
            frame = frame[frame["source"] == source]
        if coder:
            frame = frame[frame["coder"] == coder]
        texts: dict[str, str] = {}
        spans = store.segment_spans()
        out = []
        for row in frame.itertuples(index=False):
            if row.document not in texts:
                texts[row.document] = store.document_text(row.document)
            text = texts[row.document]
            start, end = int(row.start), int(row.end)
            evidence = _evidence_marks({"evidence": _json_list(row.evidence)})
            if end - start > KWIC_LONGEST and evidence:
                start, end = evidence[0]
            elif end - start > KWIC_LONGEST:
                end = start + KWIC_LONGEST
            # context from the coded turn only: never the next speaker's words or label
            segment = _int(row.segment)
            seg_start, seg_end = (
                spans.get((row.document, segment), (0, len(text)))
                if segment is not None
                else (0, len(text))
            )
            left = text[max(seg_start, start - KWIC_CONTEXT) : start] if start >= seg_start else ""
            right = text[end : min(seg_end, end + KWIC_CONTEXT)] if end <= seg_end else ""
            parts = [" ".join(left.split()), text[start:end], " ".join(right.split())]
            if redacted:
                parts = [self.redact(p) for p in parts]
            title = row.title if isinstance(row.title, str) else row.document
            out.append(
                {
                    "document": row.document,
                    "segment": _int(row.segment),
                    "title": self.redact(title) if redacted else title,
                    "group": row.group if isinstance(row.group, str) else "",
                    "code": row.code,
                    "source": row.source,
                    "coder": row.coder if isinstance(row.coder, str) else "",
                    "score": None if _missing(row.score) else float(row.score),
                    "left": parts[0],
                    "keyword": parts[1],
                    "right": parts[2],
                }
            )
        return out

    def code_memos(self, code: str) -> list[dict[str, Any]]:
        memos = self.store.memos_frame(code=code)
        records: list[dict[str, Any]] = memos[memos["kind"] == "code"].to_dict("records")
        return records

    def _visible_codings(self) -> pd.DataFrame:
        codings = self.store.codings_frame(with_text=False)
        if self.blind:
            codings = codings[(codings["source"] == "human") & (codings["coder"] == self.coder)]
        return codings

    # -- decisions (each stored at once; each undoable) -----------------------------------------
    def _check(
        self, document_id: str, segment: int | None = None, code: str | None = None
    ) -> tuple[int, int] | None:
        store = self.store
        store.document_text(document_id)  # StoreError when unknown
        if code is not None and code not in set(store.codes_frame()["path"]):
            raise ReviewError(f"unknown code {code!r}")
        if segment is None:
            return None
        span = store.segment_spans().get((document_id, int(segment)))
        if span is None:
            raise ReviewError(f"document {document_id!r} has no segment {segment}")
        return span

    def decide(
        self, document_id: str, segment: int, code: str, accept: bool, *, text: str | None = None
    ) -> str:
        """Accept or reject the automatic ``code`` on a segment as this coder's decision,
        through :func:`qcode.review.record_decisions` like an imported review sheet. ``text``
        is the segment as the coder saw it: if a ``qcode tag`` changed it meanwhile, nothing
        is written and the coder is told to reload."""
        from ..review import Decision, record_decisions

        store = self.store
        with store.transaction():  # check, write and undo record under one lock
            self._check(document_id, segment, code)
            before = self._own(document_id, segment, code)
            was_rejected = (document_id, segment, code) in store.rejections(self.coder, document_id)
            result = record_decisions(
                store,
                self.coder,
                [Decision(document_id, segment, {code: accept}, text=text, where="workbench")],
            )
            if result.problems:
                raise ReviewError(
                    result.problems[0].replace(
                        "row skipped (export a new sheet)", "nothing stored; reload the page"
                    )
                )
            action = Action(f"{'accepted' if accept else 'rejected'} {code} on #{segment}")
            if accept:
                if result.added:
                    action.undo.append(("remove_segment", (document_id, segment, code)))
                if was_rejected:
                    action.undo.append(("reject", (document_id, segment, code)))
            else:
                action.undo.extend(("restore", tuple(c)) for c in before)
                if not was_rejected:
                    store.log_rejection(self.coder, document_id, segment, code)  # logged too
                    action.undo.append(("unreject", (document_id, segment, code)))
        self.history.append(action)
        return action.label

    def change(
        self,
        document_id: str,
        segment: int,
        code: str,
        to: str,
        *,
        start: int | None = None,
        end: int | None = None,
        text: str | None = None,
    ) -> str:
        """Replace ``code`` by ``to``: on a suggestion, the old code is rejected and the new
        one coded on the segment; on this coder's own span (``start``/``end``), the span is
        recoded. Both steps in one transaction."""
        mark = len(self.history)
        try:
            with self.store.transaction():
                self._check(document_id, segment, code)
                self._check_code(to)
                if start is not None and end is not None:
                    steps = [
                        self.remove(document_id, start, end, code),
                        self.add(document_id, start, end, to),
                    ]
                else:
                    steps = [
                        self.decide(document_id, segment, code, False, text=text),
                        self.decide(document_id, segment, to, True, text=text),
                    ]
        except BaseException:
            del self.history[mark:]  # rolled back: nothing of it to undo
            raise
        done = self.history[-len(steps) :]
        del self.history[-len(steps) :]
        self.history.append(
            Action(
                f"changed {code} to {to} on #{segment}", [u for a in reversed(done) for u in a.undo]
            )
        )
        return self.history[-1].label

    def add(self, document_id: str, start: int, end: int, code: str) -> str:
        """Code ``text[start:end]`` (code points) as this coder's human coding, stored like a
        row of ``qcode import codings``."""
        store = self.store
        with store.transaction():  # the segment found and the coding stored under one lock
            self._check(document_id, None, code)
            text = store.document_text(document_id)
            if not (0 <= start < end <= len(text)):
                raise ReviewError(
                    f"span {start}-{end} is outside {document_id} ({len(text)} characters)"
                )
            spans = sorted(
                (s, e, i) for (d, i), (s, e) in store.segment_spans().items() if d == document_id
            )
            containing = next((i for s, e, i in spans if s <= start < e), None)
            if containing is None:
                containing = next((i for s, e, i in spans if s < end and start < e), None)
            if containing is None:
                raise ReviewError(f"span {start}-{end} lies outside every segment of {document_id}")
            coding = Coding(document_id, containing, start, end, code, "human", 1.0, self.coder)
            added = store.add_human_codings([coding])
        action = Action(f"coded {code}: “{_short(text[start:end])}”")
        if added:
            action.undo.append(("remove_span", (document_id, start, end, code)))
        self.history.append(action)
        return action.label

    def remove(self, document_id: str, start: int, end: int, code: str) -> str:
        """Delete this coder's coding of ``code`` on exactly that span."""
        self._check(document_id, None, code)
        removed = self.store.remove_human_coding(document_id, start, end, code, self.coder)
        segment = next(
            (
                i
                for (d, i), (s, e) in self.store.segment_spans().items()
                if d == document_id and s <= start < e
            ),
            None,
        )
        action = Action(f"removed {code}")
        if removed:
            action.undo.append(("restore", (document_id, segment, start, end, code)))
        self.history.append(action)
        return action.label

    def memo(
        self,
        kind: str,
        text: str,
        *,
        document_id: str | None = None,
        code: str | None = None,
        start: int | None = None,
        end: int | None = None,
    ) -> str:
        """Write a memo on a document, a code or a coding (document, span and code)."""
        text = unicodedata.normalize("NFC", text or "").strip()
        if not text:
            raise ReviewError("the memo is empty")
        if kind not in ("document", "code", "coding"):
            raise ReviewError(f"a memo belongs to a document, a code or a coding, not {kind!r}")
        if kind in ("document", "coding"):
            if not document_id:
                raise ReviewError("which document is the memo on?")
            self._check(document_id)
        if kind in ("code", "coding"):
            if not code:
                raise ReviewError("which code is the memo on?")
            self._check_code(code)
        if kind == "coding" and (start is None or end is None):
            raise ReviewError("which coding is the memo on? (start and end)")
        memo_id = self.store.add_memo(
            kind, text, coder=self.coder, document_id=document_id, code=code, start=start, end=end
        )
        self.history.append(Action(f"memo on {kind}", [("delete_memo", (memo_id,))]))
        return f"memo on {kind} saved"

    def _check_code(self, code: str) -> None:
        if code not in set(self.store.codes_frame()["path"]):
            raise ReviewError(f"unknown code {code!r}")

    def undo(self) -> str:
        """Take back the last action of this session; a message saying what was undone."""
        if not self.history:
            return "nothing to undo"
        action = self.history[-1]
        store = self.store
        with store.transaction():  # all of an action's steps, or none
            self._undo_steps(store, action)
        self.history.pop()
        return f"undone: {action.label}"

    def _undo_steps(self, store: Store, action: Action) -> None:
        for step, args in action.undo:
            if step == "remove_segment":  # the coding goes; no rejection is left in its place
                doc, seg, code = args
                span = store.segment_spans().get((doc, seg))
                if span is not None:  # gone with a re-tag: nothing left to take back
                    store.remove_human_coding(doc, *span, code, self.coder, detail="serve undo")
            elif step == "remove_span":
                doc, start, end, code = args
                store.remove_human_coding(doc, start, end, code, self.coder, detail="serve undo")
            elif step == "restore":
                doc, seg, start, end, code = args
                store.add_human_codings(
                    [Coding(doc, seg, start, end, code, "human", 1.0, self.coder)]
                )
            elif step == "reject":
                store.log_rejection(self.coder, *args)
            elif step == "unreject":
                store.log_rejection(self.coder, *args, withdrawn=True)
            elif step == "delete_memo":
                store.delete_memo(*args)

    def _own(self, document_id: str, segment: int, code: str) -> list[tuple[Any, ...]]:
        """This coder's codings of ``code`` on a segment as (doc, seg, start, end, code)."""
        return [
            (document_id, c["segment"], c["start"], c["end"], c["code"])
            for c in self.store.document_codings(document_id)
            if c["source"] == "human"
            and c["coder"] == self.coder
            and c["segment"] == segment
            and c["code"] == code
        ]


# -- helpers ----------------------------------------------------------------------------------
def _entry(
    coding: dict[str, Any], kind: str, status: str, codes: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    code = codes.get(coding["code"], {})
    return {
        "id": coding["id"],
        "kind": kind,
        "status": status,
        "code": coding["code"],
        "label": code.get("label", coding["code"]),
        "color": code.get("color", FALLBACK_COLORS[0]),
        "sources": [coding["source"]],
        "coder": coding["coder"] or "",
        "score": coding["score"],
        "segment": coding["segment"],
        "start": coding["start"],
        "end": coding["end"],
        "evidence": _evidence_words(coding),
        "marks": _evidence_marks(coding),
    }


def _evidence_words(coding: dict[str, Any]) -> list[str]:
    words: list[str] = []
    for e in coding.get("evidence") or []:
        word = " ".join(str(e.get("matched", "")).split())
        if word and word not in words:
            words.append(word)
    return words


def _evidence_marks(coding: dict[str, Any]) -> list[tuple[int, int]]:
    return [
        (int(e["start"]), int(e["end"]))
        for e in coding.get("evidence") or []
        if isinstance(e, dict) and "start" in e and "end" in e and e.get("kind") != "model"
    ]


def _json_list(value: Any) -> list[Any]:
    import json

    try:
        out = json.loads(value) if isinstance(value, str) else []
    except ValueError:
        return []
    return out if isinstance(out, list) else []


def _missing(value: Any) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _int(value: Any) -> int | None:
    return None if _missing(value) else int(value)


def _short(text: str, width: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def coder_name(coder: str | None) -> str:
    """The coder for a session: the one given, else the login name of this user."""
    if coder:
        return coder
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no login name (some containers)
        return "coder"
