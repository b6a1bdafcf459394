"""Shared pieces of the reports: rolled-up codings, the privacy rule for dimensions, the
redaction hook and byte-for-byte deterministic zip containers (xlsx, docx).

Every report counts *respondents* (documents), never pattern matches, and only what a
respondent said: codings on interviewer segments are left out.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..models import CodingSource, DocumentKind
from ..store import Store
from ..writers import atomic_path

#: metadata keys that hold a person's name; they are never a report dimension nor printed.
NAME_KEYS = ("name", "interviewer")

#: the label used for documents that have no value for a ``--by`` key.
MISSING = "(missing)"

#: row/column label of totals.
TOTAL = "total"

SOURCES = (*CodingSource, "all")

#: ``--kind`` values: transcripts, survey table rows, or both (kept apart where it matters).
KINDS = (*DocumentKind, "all")

# A fixed time for the "created"/"modified" fields of Office files, so the same database
# gives the same bytes (the real time would make every run differ).
FIXED_ISO = "2000-01-01T00:00:00Z"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def forbidden_keys(config: Any = None) -> set[str]:
    """Metadata keys that may not be used as a dimension: names and the ``private:`` list."""
    keys = set(NAME_KEYS)
    try:
        from ..privacy import NAME_METADATA_KEYS

        keys.update(NAME_METADATA_KEYS)
    except ImportError:  # pragma: no cover - privacy module is part of the package
        pass
    keys.update(str(p) for p in getattr(config, "private", ()) or ())
    return {k.casefold() for k in keys}


def check_by_keys(by: Sequence[str], config: Any = None) -> list[str]:
    """Validate ``--by`` keys: at most two, never a key that holds personal names."""
    keys = list(by)
    if len(keys) > 2:
        raise ConfigError(f"at most two keys (got {len(keys)}: {', '.join(keys)})", param="by")
    if len(set(keys)) != len(keys):
        raise ConfigError(f"keys repeat: {', '.join(keys)}", param="by")
    banned = forbidden_keys(config)
    for key in keys:
        if key.casefold() in banned:
            raise ConfigError(
                f"{key}: this metadata key holds personal names and is never shown in a "
                "report; use a role key such as group, main_group, title or study",
                param="by",
            )
    return keys


def check_source(source: str | None) -> str:
    source = source or "all"
    if source not in SOURCES:
        raise ConfigError(
            f"unknown source {source!r}; use one of {', '.join(SOURCES)}", param="source"
        )
    return source


def check_kind(kind: str | None) -> str:
    kind = kind or "all"
    if kind not in KINDS:
        raise ConfigError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    return kind


def parse_where(where: Iterable[str] | None) -> dict[str, set[str]]:
    """``["group=polis", "group=taxi", "study=2010"]`` -> ``{"group": {"polis", "taxi"},
    "study": {"2010"}}``: a key given twice matches either value, different keys must all
    match."""
    conditions: dict[str, set[str]] = {}
    for item in where or ():
        key, sep, value = str(item).partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise ConfigError(f"{item!r}: expected KEY=VALUE, e.g. group=polis", param="where")
        conditions.setdefault(key, set()).add(value)
    return conditions


def select_documents(
    store: Store, kind: str | None = "all", where: Iterable[str] | None = ()
) -> pd.DataFrame:
    """The documents a report covers: :meth:`Store.documents_frame` narrowed to one ``kind``
    (``interview``/``survey``; ``all`` keeps both) and to every ``--where KEY=VALUE``. This is
    the one place reports filter documents.

    >>> select_documents(store, "interview", ["group=polis"])["document"].tolist()  # doctest: +SKIP
    ['polis-operativ', 'polis-underrattelse']
    """
    kind = check_kind(kind)
    documents = store.documents_frame()
    if kind != "all":
        documents = documents[documents["kind"] == kind]
    for key, values in parse_where(where).items():
        if key not in documents.columns:
            known = sorted(c for c in documents.columns if c not in ("path", "n_segments"))
            raise ConfigError(
                f"--where {key}=…: no document has this metadata key; known keys: "
                f"{', '.join(known)}"
            )
        documents = documents[
            documents[key].map(
                lambda v, wanted=values: (
                    v is not None and not (isinstance(v, float) and pd.isna(v)) and str(v) in wanted
                )
            )
        ]
    return documents.reset_index(drop=True)


def document_kinds(documents: pd.DataFrame) -> list[str]:
    """The kinds among ``documents``, interviews first."""
    present = set(documents["kind"]) if "kind" in documents.columns else set()
    return [k for k in KINDS if k in present]


def check_level(level: int | None) -> int | None:
    if level is not None and level < 1:
        raise ConfigError(f"must be 1 or more (got {level})", param="level")
    return level


def respondent_codings(
    store: Store,
    source: str = "all",
    *,
    extra: Sequence[str] = (),
    with_text: bool = False,
    coders: Sequence[str] | None = None,
    documents: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The final codings (:func:`qcode.final.final_codings`: humans' decisions over the
    automatic codings) of ``source`` and ``coders`` on respondent (non-interviewer) segments,
    with a ``unit`` key that identifies the coded segment within its document (codings
    without a segment use their start offset, so they still count once).
    ``frame.attrs["conflicts"]`` counts the conflicts between coders left out. ``documents``
    (from :func:`select_documents`) keeps only the codings of those documents."""
    from ..final import final_codings

    codings = final_codings(
        store, source=check_source(source), coders=coders, with_text=with_text, extra=extra
    )
    conflicts = codings.attrs.get("conflicts", 0)
    if documents is not None:
        chosen = set(documents["document"])
        conflicts = sum(
            1 for doc, _seg, _code in codings.attrs.get("conflict_keys", ()) if doc in chosen
        )
        codings = codings[codings["document"].isin(chosen)]
    segments = store.segments_frame(with_text=False)[["document", "segment", "is_interviewer"]]
    if not codings.empty:
        merged = codings.merge(
            segments.astype({"segment": "Int64"}), on=["document", "segment"], how="left"
        )
        codings = merged[~merged["is_interviewer"].fillna(False).astype(bool)].drop(
            columns="is_interviewer"
        )
    unit = codings["segment"].astype("float64")
    codings = codings.assign(unit=unit.fillna(-1.0 - codings["start"].astype("float64")))
    codings = codings.reset_index(drop=True)
    codings.attrs["conflicts"] = conflicts
    return codings


def conflict_note(conflicts: int) -> str:
    """The warning a report gives when conflicts between coders were left out of it."""
    return (
        f"{conflicts} passage(s) where coders disagree on a code are left out of the "
        "counts; see `qcode conflicts`"
    )


def truncate_paths(paths: pd.Series, depth: int) -> pd.Series:
    """The first ``depth`` parts of each code path (``a/b/c`` at depth 2 is ``a/b``)."""
    if paths.empty:
        return paths.astype(object)
    return paths.str.extract(rf"^((?:[^/]+)(?:/[^/]+){{0,{depth - 1}}})", expand=False)


def roll_up(codings: pd.DataFrame, level: int | None) -> pd.DataFrame:
    """One row per coding *and each of its ancestors* down to ``level``: a coding of
    ``beredskap/handlingsplan`` counts for ``beredskap`` and for itself."""
    if codings.empty:
        return codings.copy()
    depth = codings["code"].str.count("/") + 1
    deepest = int(depth.max()) if level is None else min(level, int(depth.max()))
    parts = []
    for d in range(1, deepest + 1):
        chosen = codings[depth >= d]
        parts.append(chosen.assign(code=truncate_paths(chosen["code"], d)))
    return pd.concat(parts, ignore_index=True)


def code_rows(store: Store, level: int | None, used: Iterable[str] = ()) -> pd.DataFrame:
    """The codes to show, in codebook order: path, label, level. Codes that are coded but not
    in the code table (e.g. removed from the codebook) follow, sorted."""
    codes = store.codes_frame()[["path", "label", "level"]]
    if level is not None:
        codes = codes[codes["level"] <= level]
    known = set(codes["path"])
    extra = sorted(p for p in set(used) if isinstance(p, str) and p not in known)
    if extra:
        codes = pd.concat(
            [
                codes,
                pd.DataFrame(
                    {"path": extra, "label": extra, "level": [p.count("/") + 1 for p in extra]}
                ),
            ],
            ignore_index=True,
        )
    codes = codes.assign(label=codes["label"].fillna(codes["path"]))
    return codes.reset_index(drop=True)


# -- the redaction hook -----------------------------------------------------------------------
def redaction_hook(store: Store | None, config: Any = None) -> Callable[[Any], Any]:
    """A function that redacts one output text with the project's one redactor (the one
    ``check-privacy`` checks with); every text a report writes goes through it.

    ``hook(text)`` returns non-text values unchanged. New placeholders are saved in the
    project, so the same name gets the same placeholder in every output.
    """
    from .. import privacy

    redactor = (
        privacy.project_redactor(store, config)
        if store is not None
        else privacy.Redactor(getattr(config, "private", ()) or ())
    )

    def hook(text: Any) -> Any:
        if not isinstance(text, str) or not text:
            return text
        return privacy.redact_text(text, store=store, config=config, redactor=redactor)

    return hook


# -- deterministic files ----------------------------------------------------------------------
_CORE_TIMES = re.compile(
    rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)"
)


def normalise_zip(path: str | Path) -> Path:
    """Rewrite an Office zip (xlsx, docx) with fixed entry times and core-property dates, so
    the same content always gives the same bytes."""
    path = Path(path)
    with zipfile.ZipFile(path) as source:
        entries = [(info.filename, source.read(info.filename)) for info in source.infolist()]
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as target:
            for name, data in entries:
                if name == "docProps/core.xml":
                    data = _CORE_TIMES.sub(rb"\g<1>" + FIXED_ISO.encode() + rb"\g<3>", data)
                info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o600 << 16
                target.writestr(info, data)
    return path


def share(numerator: Any, denominator: Any) -> Any:
    """numerator / denominator with 0 where the denominator is 0, rounded to 4 places."""
    num = np.asarray(numerator, dtype="float64")
    den = np.asarray(denominator, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)
    return np.round(out, 4)
