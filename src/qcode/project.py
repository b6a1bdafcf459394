"""Project: a codebook, a folder of transcripts and a database, and the steps between them.

``Project`` is the public face of the library; every CLI command is a thin call into it and
every method returns a pandas DataFrame (or a small result object holding one).

>>> import qcode
>>> project = qcode.Project("demo", codebook="codebooks/kronoberg.yaml")  # doctest: +SKIP
>>> result = project.tag(["transcripts/"])                                # doctest: +SKIP
>>> result.summary                                                        # doctest: +SKIP
"""
from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import pandas as pd

from . import config as config_mod
from .codebook import Codebook, load_codebook
from .config import ProjectConfig, load_config
from .errors import ConfigError, QcodeError, TranscriptError
from .models import Coding, Document, Segment
from .store import CODING_COLUMNS, Store

#: the codebook that ships with qcode (a copy of codebooks/kronoberg.yaml inside the package).
BUNDLED_CODEBOOK = Path(__file__).parent / "data" / "kronoberg.yaml"

NO_CODEBOOK_HELP = (
    "no codebook given: pass --codebook FILE (for example --codebook codebooks/kronoberg.yaml), "
    "or run `qcode init` to write a qcode.yaml that names one"
)


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class FileFailure:
    """A file that could not be read, with the one-line reason."""

    path: str
    message: str


@dataclass
class TagResult:
    """What a ``tag`` run did. ``summary`` has one row per top-level code."""

    summary: pd.DataFrame
    documents_tagged: int = 0
    documents_unchanged: int = 0
    segments: int = 0
    failures: list[FileFailure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class EvaluationReport:
    """``table``: one row per code plus ``macro``; ``notes``: one-line findings to print."""

    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)


class Project:
    """An open qcode project.

    ``path`` is the project folder (where ``qcode.yaml`` lives, if it exists); keyword
    arguments override the file: ``codebook``, ``db``, ``unit``, ``transcripts``,
    ``interviewer_labels``, ``code_interviewer``, ``id_column``, ``text_columns``.
    """

    def __init__(self, path: str | Path = ".", *, db: str | Path | None = None,
                 codebook: str | Path | None = None, **overrides: Any):
        self.root = Path(path)
        self.config: ProjectConfig = load_config(self.root).with_overrides(
            database=db, codebook=codebook, **overrides
        )
        self._store: Store | None = None
        self._codebook: Codebook | None = None

    # -- set-up -------------------------------------------------------------------------------
    @staticmethod
    def init(folder: str | Path = ".", *, codebook: str | Path | None = None) -> Path:
        """Write ``qcode.yaml``, the ``transcripts/`` and ``codebooks/`` folders and a copy of
        the bundled Kronoberg codebook (unless ``codebook`` names another). Returns the file."""
        root = Path(folder)
        root.mkdir(parents=True, exist_ok=True)
        target = root / config_mod.CONFIG_FILE
        if target.exists():
            raise ConfigError("a project file already exists here; edit it instead", path=str(target))
        (root / "transcripts").mkdir(exist_ok=True)
        (root / "codebooks").mkdir(exist_ok=True)
        if codebook is None:
            shutil.copyfile(BUNDLED_CODEBOOK, root / "codebooks" / "kronoberg.yaml")
            codebook_ref = "codebooks/kronoberg.yaml"
        else:
            codebook_ref = str(codebook)
        target.write_text(config_mod.config_template(codebook_ref), encoding="utf-8")
        return target

    # -- resources ----------------------------------------------------------------------------
    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.config.database)
        return self._store

    def open_existing_store(self) -> Store:
        """The database, which must already exist (readers never create an empty one)."""
        if self._store is None:
            self._store = Store(self.config.database, create=False)
        return self._store

    @property
    def codebook(self) -> Codebook:
        if self._codebook is None:
            if self.config.codebook is None:
                raise ConfigError(NO_CODEBOOK_HELP)
            self._codebook = load_codebook(self.config.codebook)
        return self._codebook

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> "Project":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the main job -------------------------------------------------------------------------
    def tag_key(self) -> str:
        """What besides the text decides a document's codings; a change re-tags it."""
        parts = [self.codebook.sha256, self.config.unit, str(self.config.code_interviewer)]
        return ":".join(parts)

    def tag(
        self,
        paths: Sequence[str | Path] | None = None,
        *,
        keep_going: bool = False,
        progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
    ) -> TagResult:
        """Ingest, segment, code and store every document under ``paths``.

        Unchanged documents (same text, same codebook and settings) are skipped; changed ones
        have their automatic codings replaced; human codings are never deleted. Each document
        is written in its own transaction, so an interrupted run can simply be re-run.
        Without ``keep_going`` the first unreadable file raises; with it, failures are listed
        in the result and the rest is coded.
        """
        from .ingest import iter_documents
        from .segment import segment_document
        from .tag import Tagger

        paths = list(paths or ([self.config.transcripts] if self.config.transcripts else []))
        if not paths:
            raise ConfigError("nothing to tag: give a folder or file, e.g. `qcode tag transcripts/`")
        codebook = self.codebook
        store = self.store
        store.save_codes(codebook.walk(), codebook.sha256)
        tagger = Tagger(codebook, code_interviewer=self.config.code_interviewer)
        tag_key = self.tag_key()
        result = TagResult(summary=pd.DataFrame())
        items: Iterable[Any] = iter_documents(paths, self._ingest_config())
        if progress is not None:
            items = progress(items)
        for path, outcome in items:
            if isinstance(outcome, QcodeError):
                if not keep_going:
                    raise outcome
                result.failures.append(FileFailure(str(path), str(outcome)))
                continue
            for document in outcome:
                result.warnings.extend(document.warnings)
                self._tag_document(document, tag_key, tagger, segment_document, store, result)
        result.summary = self.summary()
        return result

    def _tag_document(self, document: Document, tag_key: str, tagger: Any,
                      segment_document: Callable[..., list[Segment]], store: Store,
                      result: TagResult) -> None:
        sha = text_sha256(document.text)
        state = store.document_state(document.id)
        if state is not None and state.sha256 == sha and state.tag_key == tag_key:
            metadata = store_metadata(document)
            if state.metadata != metadata:
                store.update_metadata(document.id, dict(document.metadata))
            result.documents_unchanged += 1
            return
        segments = segment_document(document, self.config.unit)
        codings: list[Coding] = []
        for _segment, segment_codings in tagger.tag_segments(segments):
            codings.extend(segment_codings)
        saved = store.save_document(document, sha, segments, codings, tag_key=tag_key)
        for doc_id, start, end, code in saved.human_stale:
            result.warnings.append(
                f"{document.path}: human coding {code} at {start}-{end} of {doc_id} no longer "
                "matches the text; marked stale (see `qcode coders`)"
            )
        result.documents_tagged += 1
        result.segments += len(segments)

    def _ingest_config(self) -> Any:
        from .ingest import IngestConfig

        return IngestConfig(
            interviewer_labels=self.config.interviewer_labels,
            id_column=self.config.id_column,
            text_columns=self.config.text_columns,
        )

    # -- readers ------------------------------------------------------------------------------
    def documents(self) -> pd.DataFrame:
        """One row per document with its metadata columns."""
        return self.open_existing_store().documents_frame()

    def segments(self, document: str | None = None) -> pd.DataFrame:
        return self.open_existing_store().segments_frame(document=document)

    def codings(self, *, source: str | Sequence[str] | None = None,
                coder: str | Sequence[str] | None = None) -> pd.DataFrame:
        """All codings with the columns of the CSV export plus coder/created/stale."""
        return self.open_existing_store().codings_frame(source=source, coder=coder)

    def summary(self) -> pd.DataFrame:
        """Segments and documents coded per top-level code (children rolled up), in codebook
        order, with a total row of documents and segments in the project."""
        store = self.open_existing_store()
        codes = store.codes_frame()
        codings = store.codings_frame(with_text=False)
        top = codes[codes["level"] == 1]
        rows = []
        top_of = codings["code"].str.split("/").str[0] if not codings.empty else pd.Series(dtype=str)
        for path in top["path"]:
            mask = top_of == path
            subset = codings[mask]
            rows.append({
                "code": path,
                "segments": int(subset[["document", "segment"]].drop_duplicates().shape[0]),
                "documents": int(subset["document"].nunique()),
            })
        return pd.DataFrame(rows, columns=["code", "segments", "documents"])

    def explain(self, document: str, segment: int | None = None) -> str:
        """The document's (or one segment's) text with the matches marked and, per code, the
        patterns that fired — re-run with the current codebook against the stored text."""
        from .tag import Tagger, format_explanation

        store = self.open_existing_store()
        text = store.document_text(document)
        frame = store.segments_frame(document=document, with_text=False)
        if segment is not None:
            frame = frame[frame["segment"] == segment]
            if frame.empty:
                raise ConfigError(f"document {document!r} has no segment {segment}")
        tagger = Tagger(self.codebook, code_interviewer=True)
        parts = []
        for row in frame.itertuples(index=False):
            seg = Segment(document, int(row.segment), int(row.start), int(row.end), row.speaker,
                          bool(row.is_interviewer), text[row.start:row.end])
            explanation = format_explanation(tagger.explain(seg))
            parts.append(f"[{document} #{row.segment}] {row.speaker}\n{explanation}")
        return "\n\n".join(parts)

    def evaluate(self, gold: str | Path, *, source: str | Sequence[str] | None = "all",
                 level: int = 1) -> "EvaluationReport":
        """Precision, recall, F1 and Cohen's kappa per code against a hand-coded gold CSV."""
        from . import evaluate as ev

        store = self.open_existing_store()
        gold_frame = ev.read_gold(gold)
        codes = store.codes_frame()
        code_list = codes.loc[codes["level"] <= level, "path"].tolist()
        predicted = store.codings_frame(source=source, with_text=False)
        documents = store.document_ids()
        missing = sorted(set(gold_frame["document"]) - set(documents))
        segments = store.segments_frame(with_text=False) if "start" in gold_frame else None
        table = ev.evaluate_codings(predicted, gold_frame, documents, codes=code_list,
                                    level=level, segments=segments)
        notes = []
        if missing:
            notes.append(f"warning: {len(missing)} gold document(s) not in the project: "
                         + ", ".join(missing[:10]))
        if "main" in gold_frame.columns:
            rate = ev.main_theme_hit_rate(predicted, gold_frame, level=level)
            notes.append(f"main theme found: {rate:.1%} of passages")
            background = ev.background_false_positive_rate(predicted, gold_frame, documents, level=level)
            if len(background):
                worst = background.max()
                notes.append(f"background passages: {len(set(documents) - set(gold_frame['document']))}; "
                             f"highest share coded with one theme: {worst:.1%}")
        return EvaluationReport(table, notes)

    def export_codings(self, output: str | Path, fmt: str | None = None, *,
                       source: str | Sequence[str] | None = None) -> Path:
        """Write every coding (one row per segment × code) as csv, jsonl or xlsx."""
        from .writers import write_table

        frame = self.codings(source=source)[CODING_COLUMNS]
        return write_table(frame, output, fmt)


def store_metadata(document: Document) -> str:
    from .store import encode_metadata

    return encode_metadata(dict(document.metadata))
