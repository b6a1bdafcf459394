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
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from . import config as config_mod
from .codebook import Codebook, load_codebook
from .config import ProjectConfig, load_config
from .errors import ConfigError, DuplicateDocument, QcodeError, TranscriptError
from .models import Document, Segment
from .store import CODING_COLUMNS, Store
from .tagrun import (  # the engine; names kept here for callers and tests that patch them
    PreparedDocument,
    _merge_unchanged,
    _path_clash,
    _run_tag_job,
    _TagJob,
    _unchanged_files,
    _UnchangedFile,
    private_ids,
    store_metadata,
    text_sha256,
)

#: the codebook that ships with qcode (a copy of codebooks/kronoberg.yaml inside the package).
BUNDLED_CODEBOOK = Path(__file__).parent / "data" / "kronoberg.yaml"

#: columns of exported tables that hold free text, redacted by default (ids are checked at
#: ingest instead: a review sheet is matched back by them).
REDACTED_COLUMNS = (
    "text",
    "speaker",
    "title",
    "group",
    "main_group",
    "evidence",
    "note",
    "notes",
    "organisation",
    "comment",
    "attribution",
    "interviewer",
    "name",
    "namn",
    "respondent",
    "stale",
)

NO_CODEBOOK_HELP = (
    "no codebook given: pass --codebook FILE (for example --codebook codebooks/kronoberg.yaml), "
    "or run `qcode init` to write a qcode.yaml that names one"
)


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

    def __init__(
        self,
        path: str | Path = ".",
        *,
        db: str | Path | None = None,
        codebook: str | Path | None = None,
        **overrides: Any,
    ):
        self.root = Path(path)
        self.config: ProjectConfig = load_config(self.root).with_overrides(
            database=db, codebook=codebook, **overrides
        )
        self._store: Store | None = None
        self._codebook: Codebook | None = None
        self._explain_parts: tuple[Any, Any, Any] | None = None  # tagger, companion, model

    # -- set-up -------------------------------------------------------------------------------
    @staticmethod
    def init(folder: str | Path = ".", *, codebook: str | Path | None = None) -> Path:
        """Write ``qcode.yaml``, the ``transcripts/`` and ``codebooks/`` folders and a copy of
        the bundled Kronoberg codebook (unless ``codebook`` names another). Returns the file.

        >>> Project.init("studie")  # doctest: +SKIP
        PosixPath('studie/qcode.yaml')
        """
        root = Path(folder)
        root.mkdir(parents=True, exist_ok=True)
        target = root / config_mod.CONFIG_FILE
        if target.exists():
            raise ConfigError(
                "a project file already exists here; edit it instead", path=str(target)
            )
        (root / "transcripts").mkdir(exist_ok=True)
        (root / "codebooks").mkdir(exist_ok=True)
        if codebook is None:
            shutil.copyfile(BUNDLED_CODEBOOK, root / "codebooks" / "kronoberg.yaml")
            bundled_model = BUNDLED_CODEBOOK.with_suffix(".model")
            if bundled_model.exists():  # the companion model travels with its codebook
                shutil.copyfile(bundled_model, root / "codebooks" / "kronoberg.model")
            groups = BUNDLED_CODEBOOK.with_name("groups.yaml")  # the study's display labels
            if groups.exists():
                shutil.copyfile(groups, root / "codebooks" / "groups.yaml")
            codebook_ref = "codebooks/kronoberg.yaml"
        else:
            codebook_ref = str(codebook)
        target.write_text(config_mod.config_template(codebook_ref), encoding="utf-8")
        return target

    # -- resources ----------------------------------------------------------------------------
    @property
    def store(self) -> Store:
        """The project database, created on first use (writers such as ``tag`` need it)."""
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
        """The project's codebook, loaded and validated once; a ConfigError when none is named."""
        if self._codebook is None:
            if self.config.codebook is None:
                raise ConfigError(NO_CODEBOOK_HELP)
            self._codebook = load_codebook(self.config.codebook)
        return self._codebook

    def close(self) -> None:
        """Close the database (``with Project(...) as project:`` does it for you)."""
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the main job -------------------------------------------------------------------------
    def tag_key(self, model: Any = None, companion_sha256: str | None = None) -> str:
        """What besides the text decides a document's codings; a change re-tags it.
        The companion model counts by its file's hash, so an unchanged corpus is recognised
        without loading scikit-learn and the model."""
        parts = [self.codebook.sha256, self.config.unit, str(self.config.code_interviewer)]
        if model is not None:
            parts.append("model=" + model.data_sha256)
        if companion_sha256 is not None:
            parts.append("companion=" + companion_sha256)
        return ":".join(parts)

    def model_setting(self) -> str | None:
        """The trained model switched on for this project: ``model:`` in qcode.yaml, else
        the switch kept in the database (projects without a qcode.yaml), else None.

        >>> Project("demo").model_setting()  # doctest: +SKIP
        'default'
        """
        if self.config.model:
            return self.config.model
        if not Path(self.config.database).exists():
            return None
        return self.open_existing_store().get_meta("model") or None

    def use_model(self, name: str | None) -> None:
        """Switch the project's trained model ``name`` on for every later ``tag`` (None:
        off). Written to qcode.yaml (``model: NAME``) when the project has one, and always to
        the database, so a project run with ``--db`` alone remembers it too.

        >>> Project("demo").use_model("default")  # doctest: +SKIP
        """
        from .config import set_model_setting

        if name is not None:
            self.load_model(name)  # refuses a missing or stale model now, not at the next tag
        source = self.config.source_file
        if source is not None and Path(source).exists():
            set_model_setting(source, name)
        self.config = replace(self.config, model=name)
        self.store.set_meta("model", name or "")

    def _voters(
        self, model: bool | None, companion: bool | None, warnings: list[str]
    ) -> tuple[Any, Path | None]:
        """What votes with the rules in a tag run (and so in ``explain``): the project's
        trained model if switched on, else the companion file beside the codebook if this
        project uses it and it was trained for this codebook. Problems go to ``warnings``."""
        trained = self._switched_on_model(model, warnings)
        shipped = (
            self._companion_file(model=trained is not None) if companion is not False else None
        )
        if shipped is not None and not self._companion_matches(shipped):
            warnings.append(
                f"{shipped}: the companion model was trained for another version of the "
                "codebook; coding with rules"
                + (" and the project model" if trained else "")
                + " only (`qcode companion train` retrains it on this project's human codings; "
                "`--no-companion` silences this)"
            )
            shipped = None
        return trained, shipped

    def _switched_on_model(self, model: bool | None, warnings: list[str]) -> Any:
        """The trained model this tag run applies (see :meth:`tag`), or None."""
        from .errors import ModelError

        if model is False:
            return None
        name = self.model_setting()
        if model:
            name = name or "default"
            trained = self.load_model(name)
            if self.model_setting() != name:
                self.use_model(name)
            return trained
        if name is None:
            return None
        try:
            return self.load_model(name)
        except ModelError as err:
            warnings.append(
                f"the project model {name!r} is switched on but cannot be "
                f"used ({err}); coding without it (`qcode train --off` "
                "switches it off)"
            )
            return None

    def _companion_matches(self, path: Path) -> bool:
        """Whether the companion file was trained for this codebook (its header only; a
        file that is no companion at all is reported when it is loaded)."""
        from .model import companion_codebook_sha256

        found = companion_codebook_sha256(path)
        return found is None or found == self.codebook.sha256

    def _companion_file(self, *, model: bool = False) -> Path | None:
        """The companion model file this run would use (see :meth:`companion`), unloaded."""
        from .model import companion_path

        if model or not self.config.companion or not self.codebook.path:
            return None
        path = companion_path(self.codebook.path)
        return path if path.exists() else None

    def companion(self, *, model: bool = False) -> Any:
        """The model shipped beside the codebook, if any and if this project uses it: not
        with ``companion: false`` in qcode.yaml / ``--no-companion``, and not when tagging
        with the project's own trained model (``model``), which takes its place.

        >>> Project("demo").companion() is not None  # doctest: +SKIP
        True
        """
        from .model import load_companion

        if model or not self.config.companion:
            return None
        return load_companion(self.codebook)

    def tag(
        self,
        paths: Sequence[str | Path] | None = None,
        *,
        keep_going: bool = False,
        jobs: int = 1,
        progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
        model: bool | None = None,
        companion: bool | None = None,
        strict: bool = False,
        replace_existing: bool = False,
    ) -> TagResult:
        """Ingest, segment, code and store every document under ``paths``.

        Unchanged documents (same text, same codebook and settings) are skipped before they
        are segmented; changed ones have their automatic codings replaced; human codings are
        never deleted. Each document is written in its own transaction, so an interrupted run
        can simply be re-run. ``jobs`` > 1 reads and codes files in that many worker
        processes while this process writes the database (SQLite has one writer).
        Without ``keep_going`` the first unreadable file raises; with it, failures are listed
        in the result and the rest is coded.

        The project's trained model (see :meth:`train`) adds ``source="model"`` codings on
        every run once it is switched on (:meth:`use_model`, ``qcode train --use``);
        ``model=True`` applies it and switches it on, ``model=False`` leaves it out of this
        run only. A switched-on model that is stale or gone is left out with a warning in
        the result (an explicit ``model=True`` raises instead). Without the project model, a
        companion model shipped beside the codebook (see :meth:`companion`) votes with the
        rules; ``companion=False`` switches it off for this run, and a companion trained for
        another version of the codebook is left out with one warning.
        Files in a folder that qcode cannot read (other formats, pipes, undecodable names) are
        skipped with one warning, or refused with ``strict``; a folder with nothing to read is
        an error. A document id already stored from another file that still exists is an
        error unless ``replace_existing`` (two folders holding ``polis-01.md`` must not
        overwrite each other silently).

        >>> Project("demo").tag(["transcripts/"], keep_going=True).summary  # doctest: +SKIP
        """
        paths = self._input_paths(
            paths, "nothing to tag: give a folder or file, e.g. `qcode tag transcripts/`"
        )
        result = TagResult(summary=pd.DataFrame())
        files = self._discover(paths, result, strict)
        codebook = self.codebook
        store = self.store
        store.save_codes(codebook.walk(), codebook.sha256)
        trained, shipped = self._voters(model, companion, result.warnings)
        shipped_sha = hashlib.sha256(shipped.read_bytes()).hexdigest() if shipped else None
        job = _TagJob(
            codebook,
            self.config.unit,
            self.config.code_interviewer,
            self._ingest_config(),
            self.tag_key(trained, shipped_sha),
            store.document_states(),
        )
        job.model = trained
        job.use_companion = shipped is not None
        job.id_check = self._id_redactor()
        known_paths = {} if replace_existing else store.document_paths()
        fingerprints, unchanged = _unchanged_files(files, job, store.file_states())
        running = _run_tag_job(job, [f for f in files if f not in unchanged], jobs)
        try:
            self._store_outcomes(
                _merge_unchanged(files, unchanged, running),
                job,
                fingerprints,
                result,
                keep_going,
                progress,
                known_paths,
            )
        finally:
            running.close()  # stops the worker pool now, also when a file failed
        result.summary = self.summary()
        # a warning may quote a speaker label or a line of a transcript: no name leaves in one
        from .privacy import scrub_message

        result.warnings = [scrub_message(w) for w in result.warnings]
        result.failures = [FileFailure(f.path, scrub_message(f.message)) for f in result.failures]
        return result

    def _store_outcomes(
        self,
        outcomes: Iterable[tuple[Path, Any]],
        job: _TagJob,
        fingerprints: dict[Path, str | None],
        result: TagResult,
        keep_going: bool,
        progress: Callable[..., Any] | None,
        known_paths: dict[str, str | None],
    ) -> None:
        """Write each file's prepared documents as they arrive, in file order;
        ``known_paths`` are the stored documents' paths (empty: replace whatever is stored)."""
        store = self.store
        if progress is not None:
            outcomes = progress(outcomes)
        seen: dict[str, str] = {}
        for path, outcome in outcomes:
            if isinstance(outcome, QcodeError):
                self._fail(result, path, outcome, keep_going)
                continue
            ids = (
                [d[0] for d in outcome]
                if isinstance(outcome, _UnchangedFile)
                else [p.document.id for p in outcome]
            )
            duplicate = next((i for i in ids if i in seen), None)
            if duplicate is not None:
                error = DuplicateDocument(
                    f"document id {duplicate!r} is already used by {seen[duplicate]}; "
                    "give one of them another `id:` in its front matter",
                    path=str(path),
                )
                self._fail(result, path, error, keep_going)
                continue
            clash = (
                None if isinstance(outcome, _UnchangedFile) else _path_clash(path, ids, known_paths)
            )
            if clash is not None:
                self._fail(result, path, clash, keep_going)
                continue
            seen.update((i, str(path)) for i in ids)
            if isinstance(outcome, _UnchangedFile):
                result.warnings.extend(w for d in outcome for w in d[2])
                result.documents_unchanged += len(outcome)
                continue
            for prepared in outcome:
                self._store_prepared(prepared, job.tag_key, store, result)
            fingerprint = fingerprints.get(path)
            if fingerprint:
                store.save_file_state(
                    str(path),
                    fingerprint,
                    [(p.document.id, p.sha256, p.document.warnings) for p in outcome],
                )

    def _discover(self, paths: Sequence[str | Path], result: TagResult, strict: bool) -> list[Path]:
        """The files to read; skipped ones become one warning each (errors with ``strict``)."""
        from .ingest import discover_inputs, no_transcripts_message

        found = discover_inputs(paths)
        skipped = found.warnings()
        if strict and skipped:
            raise TranscriptError(skipped[0] + "; remove them or run without --strict")
        result.warnings.extend(skipped)
        if not found.files:
            raise TranscriptError(
                no_transcripts_message(found.empty_folders or [Path(p) for p in paths])
            )
        return found.files

    @staticmethod
    def _fail(result: TagResult, path: Path, error: QcodeError, keep_going: bool) -> None:
        if not keep_going:
            raise error
        result.failures.append(FileFailure(str(path), str(error)))

    def _store_prepared(
        self, prepared: PreparedDocument, tag_key: str, store: Store, result: TagResult
    ) -> None:
        document = prepared.document
        result.warnings.extend(document.warnings)
        if prepared.unchanged:
            state = store.document_state(document.id)
            if state is not None and state.metadata != store_metadata(document):
                store.update_metadata(document.id, dict(document.metadata))
            result.documents_unchanged += 1
            return
        saved = store.save_document(
            document, prepared.sha256, prepared.segments, prepared.codings, tag_key=tag_key
        )
        for doc_id, start, end, code in saved.human_stale:
            result.warnings.append(
                f"{document.path}: human coding {code} at {start}-{end} of {doc_id} could not be "
                "re-anchored to the changed text; marked stale (see `qcode stale`)"
            )
        result.documents_tagged += 1
        result.segments += len(prepared.segments)

    def inspect(self, paths: Sequence[str | Path] | None = None) -> Any:
        """How each file under ``paths`` is read, storing nothing: a list of
        :class:`~qcode.ingest.inspection.FileInspection` and the folder-level warnings.
        ``qcode inspect`` prints them with :func:`~qcode.ingest.inspection.format_inspection`.

        >>> results, warnings = Project("demo").inspect(["transcripts/polis-01.md"])  # doctest: +SKIP
        >>> results[0].documents[0].reading.reason                                   # doctest: +SKIP
        'label'
        """
        from .ingest import discover_inputs, no_transcripts_message
        from .ingest.inspection import inspect_paths

        paths = self._input_paths(paths, "nothing to inspect: give a folder or file")
        results, warnings = inspect_paths(paths, self._ingest_config())
        if not results:
            raise TranscriptError(
                no_transcripts_message(
                    discover_inputs(paths).empty_folders or [Path(p) for p in paths]
                )
            )
        return results, warnings

    def ingest(self, paths: Sequence[str | Path] | None = None) -> pd.DataFrame:
        """Read, segment and store the documents under ``paths`` without coding them.

        For a first look at the material, or texts to be coded by hand; a later ``tag``
        codes them. Unchanged documents are left alone; a changed one loses its automatic
        codings (human ones are kept or marked stale). Returns the documents frame.

        >>> Project("demo").ingest(["transcripts/"])[["document", "title"]]  # doctest: +SKIP
        """
        from .ingest import iter_documents
        from .segment import segment_document

        paths = self._input_paths(
            paths, "nothing to ingest: give a folder or file, e.g. transcripts/"
        )
        store = self.store
        id_check = self._id_redactor()
        for path, outcome in iter_documents(paths, self._ingest_config()):
            if isinstance(outcome, QcodeError):
                raise outcome
            for document in private_ids(outcome, path, id_check):
                sha = text_sha256(document.text)
                state = store.document_state(document.id)
                if state is not None and state.sha256 == sha:
                    if state.metadata != store_metadata(document):
                        store.update_metadata(document.id, dict(document.metadata))
                    continue
                store.save_document(
                    document, sha, segment_document(document, self.config.unit), [], tag_key=None
                )
        return store.documents_frame()

    def _input_paths(self, paths: Sequence[str | Path] | None, nothing: str) -> list[str | Path]:
        """The files and folders to read: ``paths``, else qcode.yaml's ``transcripts``; every
        one must exist (``nothing`` is the error when there are none)."""
        paths = list(paths or ([self.config.transcripts] if self.config.transcripts else []))
        if not paths:
            raise ConfigError(nothing)
        for path in paths:
            if not Path(path).exists():
                raise TranscriptError("no such file or folder", path=str(path))
        return paths

    def _id_redactor(self) -> Any:
        """The detector that checks document ids at ingest: the private list and the name
        lexicons (no database needed, so workers can run it)."""
        from .privacy import Redactor, private_names

        return Redactor(private_names(self.config))

    def _ingest_config(self) -> Any:
        from .ingest import IngestConfig

        return IngestConfig(
            interviewer_labels=self.config.interviewer_labels,
            id_column=self.config.id_column,
            text_columns=self.config.text_columns,
            max_file_mb=self.config.max_file_mb,
        )

    # -- readers ------------------------------------------------------------------------------
    def documents(self) -> pd.DataFrame:
        """One row per document with its metadata columns.

        >>> Project("demo").documents().groupby("group").size()  # doctest: +SKIP
        """
        return self.open_existing_store().documents_frame()

    def segments(self, document: str | None = None) -> pd.DataFrame:
        """One row per segment (all documents, or one) with its offsets, speaker and text.

        >>> Project("demo").segments("polis-01")[["segment", "speaker", "text"]]  # doctest: +SKIP
        """
        return self.open_existing_store().segments_frame(document=document)

    def codings(
        self, *, source: str | Sequence[str] | None = None, coder: str | Sequence[str] | None = None
    ) -> pd.DataFrame:
        """All codings with the columns of the CSV export plus coder/created/stale.

        >>> Project("demo").codings(source="rule").groupby("code")["document"].nunique()  # doctest: +SKIP
        """
        return self.open_existing_store().codings_frame(source=source, coder=coder)

    def final_codings(
        self, *, source: str | Sequence[str] | None = "all", coders: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """The codings every report counts: a human's decision (coded, or rejected on a review
        sheet) replaces the automatic coding of that segment and code; where two humans
        disagree the passage is left out (``frame.attrs["conflicts"]`` counts them; see
        :meth:`conflicts`). ``coders`` chooses whose decisions count, ``"auto"`` naming the
        automatic codings. Same columns as :meth:`codings`. See :mod:`qcode.final`.

        >>> Project("demo").final_codings(coders=["eva", "auto"])  # doctest: +SKIP
        """
        from .final import final_codings

        return final_codings(
            self.open_existing_store(), source=source, coders=coders, with_text=True
        )

    def conflicts(self, coders: Sequence[str] | None = None) -> pd.DataFrame:
        """Segments where one human coded a code that another rejected: ``document, segment,
        code, accepted_by, rejected_by, title, group, speaker, text`` (names redacted).

        >>> Project("demo").conflicts()[["document", "segment", "code", "accepted_by"]]  # doctest: +SKIP
        """
        from .final import conflicts
        from .privacy import redact_frame

        frame = conflicts(self.open_existing_store(), coders)
        if not frame.empty:
            redactor = self.redactor()
            frame = redact_frame(frame, redactor, REDACTED_COLUMNS)
            self._remember(redactor)
        return frame

    def summary(self) -> pd.DataFrame:
        """Segments and documents coded per top-level code (children rolled up), in codebook
        order, with a total row of documents and segments in the project.

        >>> Project("demo").summary()  # doctest: +SKIP
        """
        store = self.open_existing_store()
        codes = store.codes_frame()
        counts = store.code_summary()  # SQL: no codings frame for a summary line per code
        rows = [
            {
                "code": path,
                "segments": counts.get(path, (0, 0))[0],
                "documents": counts.get(path, (0, 0))[1],
            }
            for path in codes.loc[codes["level"] == 1, "path"]
        ]
        return pd.DataFrame(rows, columns=["code", "segments", "documents"])

    def explain(self, document: str, segment: int | None = None) -> str:
        """The document's (or one segment's) text with the matches marked and, per code, the
        verdict ``tag`` reaches on it — ``stored``, ``dropped (companion p=0.09 < 0.35)`` or
        ``not matched`` — with the patterns that fired, from the current codebook and models
        against the stored text (see :mod:`qcode.explain`).

        >>> print(Project("demo").explain("polis-01", 3))  # doctest: +SKIP
        """
        from .explain import format_report

        return "\n\n".join(
            f"[{r.segment.document_id} #{r.segment.index}] {r.segment.speaker}\n" + format_report(r)
            for r in self.explain_segments(document, segment)
        )

    def explain_segments(self, document: str, segment: int | None = None) -> list[Any]:
        """One :class:`~qcode.explain.SegmentReport` per segment of ``document`` (or just
        ``segment``): what the rules matched and the verdict on each code, decided by
        :func:`qcode.vote.decide` exactly as ``tag`` decides. Only that document's segments
        are read; the tagger and models are loaded once per Project.

        >>> Project("demo").explain_segments("polis-01", 3)[0].decisions()  # doctest: +SKIP
        """
        from .explain import SegmentReport
        from .vote import decide

        store = self.open_existing_store()
        text = store.document_text(document)
        frame = store.segments_frame(document=document, with_text=False)
        if segment is not None:
            frame = frame[frame["segment"] == segment]
            if frame.empty:
                raise ConfigError(f"document {document!r} has no segment {segment}")
        tagger, companion, trained = self._explainer()
        themes = tuple(c.path for c in self.codebook.codes)
        reports = []
        for row in frame.itertuples(index=False):
            seg = Segment(
                document,
                int(row.segment),
                int(row.start),
                int(row.end),
                row.speaker,
                bool(row.is_interviewer),
                text[row.start : row.end],
            )
            explanation = tagger.explain(seg)
            codable = [seg] if self.config.code_interviewer or not seg.is_interviewer else []
            verdicts = decide(codable, explanation.codings, companion, trained)
            votes, thresholds = {}, ""
            if companion is not None and codable:
                votes = {k: float(v) for k, v in companion.probabilities(codable).iloc[0].items()}
                best = (
                    f", the segment's best rule theme from {companion.keep_best}"
                    if companion.keep_best is not None
                    else ""
                )
                thresholds = (
                    f"a rule coding stays from {companion.confirm}{best}; the "
                    f"companion alone codes from {companion.add}"
                )
            reports.append(SegmentReport(explanation, tuple(verdicts), themes, votes, thresholds))
        return reports

    def decisions(self, document: str, segment: int | None = None) -> pd.DataFrame:
        """The verdict per segment and code, as ``explain`` prints it: document, segment,
        code, source, verdict (stored / dropped / not stored / not matched), reason.

        >>> Project("demo").decisions("polis-01", 13)  # doctest: +SKIP
        """
        rows = [
            {
                "document": r.segment.document_id,
                "segment": r.segment.index,
                "code": code,
                "source": source,
                "verdict": verdict,
                "reason": reason,
            }
            for r in self.explain_segments(document, segment)
            for code, source, verdict, reason in r.decisions()
        ]
        return pd.DataFrame(
            rows, columns=["document", "segment", "code", "source", "verdict", "reason"]
        )

    def _explainer(self) -> tuple[Any, Any, Any]:
        """The tagger, companion and project model a tag run would use now, loaded once."""
        if self._explain_parts is None:
            from .model import load_companion
            from .tag import Tagger

            warnings: list[str] = []
            trained, shipped = self._voters(None, None, warnings)
            companion = load_companion(self.codebook) if shipped is not None else None
            tagger = Tagger(self.codebook, code_interviewer=self.config.code_interviewer)
            self._explain_parts = (tagger, companion, trained)
        return self._explain_parts

    def evaluate(
        self, gold: str | Path, *, source: str | Sequence[str] | None = "all", level: int = 1
    ) -> EvaluationReport:
        """Precision, recall, F1 and Cohen's kappa per code against a hand-coded gold CSV.

        >>> Project("demo").evaluate("data/gold/demo-handcoded.csv").table  # doctest: +SKIP
        """
        from . import evaluate as ev

        store = self.open_existing_store()
        gold_frame = ev.read_gold(gold)
        codes = store.codes_frame()
        code_list = codes.loc[codes["level"] <= level, "path"].tolist()
        predicted = store.codings_frame(source=source, with_text=False)
        documents = store.document_ids()
        missing = sorted(set(gold_frame["document"]) - set(documents))
        segments = store.segments_frame(with_text=False) if "start" in gold_frame else None
        table = ev.evaluate_codings(
            predicted, gold_frame, documents, codes=code_list, level=level, segments=segments
        )
        notes = [f"warning: {w}" for w in gold_frame.attrs.get("warnings", ())]
        if missing:
            notes.append(
                f"warning: {len(missing)} gold document(s) not in the project: "
                + ", ".join(missing[:10])
            )
        if "main" in gold_frame.columns:
            rate = ev.main_theme_hit_rate(predicted, gold_frame, level=level)
            notes.append(f"main theme found: {rate:.1%} of passages")
            background = ev.background_false_positive_rate(
                predicted, gold_frame, documents, level=level
            )
            if len(background):
                worst = background.max()
                notes.append(
                    f"background passages: {len(set(documents) - set(gold_frame['document']))}; "
                    f"highest share coded with one theme: {worst:.1%}"
                )
        return EvaluationReport(table, notes)

    def export_codings(
        self,
        output: str | Path,
        fmt: str | None = None,
        *,
        source: str | Sequence[str] | None = None,
        redact: bool = True,
        kind: str = "all",
        where: Sequence[str] = (),
        coders: Sequence[str] | None = None,
        final: bool = False,
        excel: bool | None = None,
    ) -> Path:
        """Write every coding (one row per segment × code × coder) as csv, jsonl or xlsx.

        ``coders`` keeps those coders' rows (``"auto"``: the automatic codings); ``final``
        writes the final coding the reports count instead (see :meth:`final_codings`).
        With ``redact`` (the default) names and identifiers in every text column (text,
        speaker, title, evidence, …) are replaced by placeholders; offsets still point into
        the stored, unredacted text. ``kind`` (interview/survey/all) and ``where``
        (``KEY=VALUE``) choose the documents; the ``kind`` column tells interviews from
        survey answers.

        >>> Project("demo").export_codings("out/codings.xlsx")  # doctest: +SKIP
        PosixPath('out/codings.xlsx')
        """
        from .final import AUTO, choose, final_codings
        from .writers import write_table

        store = self.open_existing_store()
        if final:
            frame = final_codings(store, source=source or "all", coders=coders, with_text=True)
        else:
            frame = self.codings(source=source)
            if coders:
                choose(store, source or "all", coders)  # unknown names are an error
                machine = (frame["source"] != "human") & (AUTO in coders)
                people = (frame["source"] == "human") & frame["coder"].isin(coders)
                frame = frame[machine | people]
        frame = frame[CODING_COLUMNS].copy()
        if kind != "all" or where:
            from .reports._common import select_documents

            chosen = select_documents(store, kind, where)
            frame = frame[frame["document"].isin(set(chosen["document"]))].reset_index(drop=True)
        if redact and not frame.empty:
            from .privacy import redact_frame

            redactor = self.redactor()
            frame = redact_frame(frame, redactor, REDACTED_COLUMNS)
            self._remember(redactor)
        dialect = "excel-sv" if excel else self.config.csv_dialect
        return write_table(frame, output, fmt, dialect=dialect)

    # -- reports (qcode.reports does the work; see docs/api.md) --------------------------------
    def presentation(
        self, *, lang: str | None = None, transpose: bool | None = None, excel: bool | None = None
    ) -> Any:
        """How reports are shown: language, display labels, orientation and CSV dialect
        (a :class:`~qcode.reports.Presentation`); arguments override ``qcode.yaml``.

        >>> Project("demo").presentation(lang="en").text("quotes.title")  # doctest: +SKIP
        'Quotes'
        """
        from .reports.i18n import presentation_for

        return presentation_for(self.config, lang=lang, transpose=transpose, excel=excel)

    def frequencies(
        self,
        by: str | Sequence[str] = ("group",),
        *,
        level: int | None = None,
        source: str = "all",
        coders: Sequence[str] | None = None,
        kind: str = "all",
        where: Sequence[str] = (),
    ) -> pd.DataFrame:
        """Respondents (documents) per code and group, their share and segments coded.
        Every report counts the final coding (see :meth:`final_codings`); ``coders`` chooses
        whose decisions count (``"auto"``: the automatic codings). Interviews and survey
        answers are kept apart (``kind``); ``where`` filters on metadata (``KEY=VALUE``).

        >>> Project(".").frequencies(by=["study", "group"], level=1)  # doctest: +SKIP
        """
        from .reports import frequencies

        return frequencies(
            self.open_existing_store(),
            by,
            level=level,
            source=source,
            config=self.config,
            coders=coders,
            kind=kind,
            where=where,
        )

    def cooccurrence(
        self,
        *,
        unit: str = "segment",
        measure: str = "count",
        level: int | None = 1,
        source: str = "all",
        coders: Sequence[str] | None = None,
        kind: str = "all",
        where: Sequence[str] = (),
    ) -> pd.DataFrame:
        """Code × code matrix of segments (or documents) coded with both; diagonal = totals.

        >>> Project("demo").cooccurrence(unit="document").loc["beredskap", "samverkan"]  # doctest: +SKIP
        """
        from .reports import cooccurrence

        return cooccurrence(
            self.open_existing_store(),
            unit=unit,
            measure=measure,
            level=level,
            source=source,
            coders=coders,
            kind=kind,
            where=where,
        )

    def quotes(
        self,
        code: str | Sequence[str] | None = None,
        *,
        groups: Sequence[str] = (),
        max_quotes: int = 5,
        min_words: int = 8,
        max_words: int = 60,
        source: str = "all",
        coders: Sequence[str] | None = None,
        kind: str = "all",
        where: Sequence[str] = (),
    ) -> pd.DataFrame:
        """Ranked, redacted quotes per code (default: every theme), attributed by role.

        >>> Project("demo").quotes(code="dubbla_roller", max_quotes=3)[["attribution", "text"]]  # doctest: +SKIP
        """
        from .reports import quotes

        return quotes(
            self.open_existing_store(),
            code,
            groups=groups,
            max_quotes=max_quotes,
            min_words=min_words,
            max_words=max_words,
            source=source,
            config=self.config,
            coders=coders,
            kind=kind,
            where=where,
        )

    def quote_matrix(
        self,
        code: str | Sequence[str] | None = None,
        *,
        by: str = "group",
        groups: Sequence[str] = (),
        min_words: int = 8,
        max_words: int = 60,
        source: str = "all",
        coders: Sequence[str] | None = None,
        kind: str = "all",
        where: Sequence[str] = (),
    ) -> pd.DataFrame:
        """The best quote per code and group (``by``), redacted and attributed by role: one
        row per filled cell of the code × group matrix.

        >>> Project("demo").quote_matrix(by="main_group")  # doctest: +SKIP
        """
        from .reports import quote_matrix

        return quote_matrix(
            self.open_existing_store(),
            code,
            by=by,
            groups=groups,
            min_words=min_words,
            max_words=max_words,
            source=source,
            config=self.config,
            coders=coders,
            kind=kind,
            where=where,
        )

    def crosstab(
        self,
        survey: str | Path | pd.DataFrame,
        *,
        by: str = "group",
        themes: Sequence[str] = (),
        level: int | None = 1,
        source: str = "all",
        coders: Sequence[str] | None = None,
        kind: str = "all",
        where: Sequence[str] = (),
        indicators: Sequence[str] = (),
    ) -> Any:
        """Theme shares beside survey indicators per group, with Spearman correlations
        (a :class:`~qcode.reports.CrosstabResult`).

        >>> Project("demo").crosstab(survey="data/survey/kronoberg-2010-aggregates.csv").correlations  # doctest: +SKIP
        """
        from .reports import crosstab

        return crosstab(
            self.open_existing_store(),
            survey,
            by=by,
            themes=themes,
            level=level,
            source=source,
            config=self.config,
            coders=coders,
            kind=kind,
            where=where,
            indicators=indicators,
        )

    def search(
        self,
        terms: str | Sequence[str],
        *,
        lemma: bool = False,
        codes: Sequence[str] = (),
        where: Sequence[str] = (),
        context: int = 50,
    ) -> pd.DataFrame:
        """Keyword in context: every occurrence of ``terms`` (``lemma``: inflections and
        compounds too, with the codebook's matcher), with redacted left and right context,
        document and role. ``codes``/``where`` narrow the passages searched.

        >>> Project("demo").search("handlingsplan", lemma=True)[["left", "match", "right", "role"]]  # doctest: +SKIP
        """
        from .reports import search

        return search(
            self.open_existing_store(),
            [terms] if isinstance(terms, str) else terms,
            lemma=lemma,
            codes=codes,
            where=where,
            context=context,
            config=self.config,
        )

    def code_hits(self, hits: pd.DataFrame, code: str, coder: str) -> int:
        """Code the passages of :meth:`search` hits with ``code`` as ``coder``'s human codings
        (whole passages, no duplicates); returns how many were added.

        >>> project.code_hits(project.search("handlingsplan", lemma=True), "beredskap/handlingsplan", "eva")  # doctest: +SKIP
        """
        from .reports import code_hits

        return code_hits(self.store, hits, code, coder)

    # -- exchange with other QDA tools (REFI-QDA) ----------------------------------------------
    def export_qdpx(
        self, path: str | Path, human_only: bool = False, *, redact: bool = True
    ) -> Path:
        """Write the project as a REFI-QDA ``.qdpx`` for NVivo, ATLAS.ti, MAXQDA or QualCoder.

        With ``redact`` (the default) names and identifiers in the source texts, titles and
        metadata are placeholders and every selection is moved onto the redacted text;
        ``redact=False`` (``--no-redact``) writes the texts as stored, for the team's own
        QDA tool. Automatic codings are the users "qcode rule"/"qcode model" unless
        ``human_only``.

        >>> Project("demo").export_qdpx("out/demo.qdpx")  # doctest: +SKIP
        PosixPath('out/demo.qdpx')
        """
        from .exchange.qdpx import write_qdpx

        codebook = None
        if self.config.codebook is not None and Path(self.config.codebook).exists():
            codebook = self.codebook  # richer descriptions (criteria, examples) than the table
        redactor = self.redactor() if redact else None
        written = write_qdpx(
            self.open_existing_store(),
            path,
            human_only=human_only,
            codebook=codebook,
            redactor=redactor,
        )
        if redactor is not None:
            self._remember(redactor)
        return written

    def import_qdpx(self, path: str | Path, coder_prefix: str | None = None) -> Any:
        """Bring a ``.qdpx`` from another tool in: its texts become documents (segmented with
        the project's unit, not coded), its codes are merged by path, its selections become
        human codings by their user (``coder_prefix`` + user name). Returns a
        :class:`~qcode.exchange.qdpx.QdpxImportResult` (``documents`` frame and ``notes``).

        >>> Project("demo").import_qdpx("nvivo-export.qdpx", coder_prefix="nvivo:").documents  # doctest: +SKIP
        """
        from .exchange.qdpx import import_qdpx

        return import_qdpx(
            path, self.store, coder_prefix=coder_prefix, prepare=self._segment_imported
        )

    def _segment_imported(self, document: Document) -> tuple[Document, list[Segment]]:
        """Speaker turns and segments for a text that came from another tool."""
        from dataclasses import replace

        from .ingest.turns import parse_turns
        from .segment import segment_document

        turned = replace(document, turns=parse_turns(document.text, self.config.interviewer_labels))
        return turned, segment_document(turned, self.config.unit)

    # -- human coding in the loop (qcode.review, qcode.agreement, qcode.model) -----------------
    def export_review(
        self,
        output: str | Path,
        *,
        codes: Sequence[str] = (),
        groups: Sequence[str] = (),
        fmt: str | None = None,
        blank: bool = False,
        sample: int | None = None,
        seed: int = 0,
        redact: bool = True,
    ) -> Path:
        """Write a review sheet (xlsx or csv): one row per segment, one column per code with
        the automatic suggestion, a note column. ``blank`` leaves out every suggestion and
        score (blind coding); ``sample`` keeps that many segments drawn with ``seed``,
        stratified by group. With ``redact`` (the default) names and identifiers in the text
        columns (text, speaker, title, note, …) are placeholders; the sheet still imports (a
        placeholder matches what it hides). See :mod:`qcode.review`.

        >>> Project("demo").export_review("blind.xlsx", blank=True, sample=40, seed=7)  # doctest: +SKIP
        """
        from .review import review_frame, write_review

        frame = review_frame(
            self.open_existing_store(), codes, groups, blank=blank, sample=sample, seed=seed
        )
        if redact and not frame.empty:
            from .privacy import redact_frame

            redactor = self.redactor()
            frame = redact_frame(frame, redactor, REDACTED_COLUMNS)
            self._remember(redactor)
        return write_review(frame, output, fmt)

    def import_review(self, path: str | Path, coder: str) -> Any:
        """Apply a filled-in review sheet as ``coder``'s human codings; returns a
        :class:`~qcode.review.ImportResult` (added, removed, problems).

        >>> Project("demo").import_review("review.xlsx", coder="eva").problems  # doctest: +SKIP
        """
        from .review import import_review

        return import_review(path, self.open_existing_store(), coder)

    def import_codings(self, path: str | Path, coder: str, *, snap: bool = False) -> Any:
        """Import hand-made codings (document,start,end,code or document,segment,code).

        >>> Project("demo").import_codings("codings.csv", coder="eva", snap=True).added  # doctest: +SKIP
        """
        from .review import import_codings

        return import_codings(path, self.open_existing_store(), coder, snap=snap)

    def stale(self) -> pd.DataFrame:
        """Human codings whose text changed beyond re-anchoring: one row per coding with its
        ``id``, document, code, coder, ``old_text`` and the best ``candidate_text`` (with
        ``candidate_start``/``candidate_end`` and ``similarity``). See :mod:`qcode.anchor`.

        >>> Project("demo").stale()[["id", "code", "old_text", "candidate_text"]]  # doctest: +SKIP
        """
        return self.open_existing_store().stale_codings_frame()

    def resolve_stale(self, coding_id: int, *, accept: bool, coder: str | None = None) -> Any:
        """Re-attach stale coding ``coding_id`` at its best candidate (``accept``) or delete
        it; logged under ``coder`` (default: the coding's coder). Returns the new
        (document, start, end, code) when accepted, None when dropped.

        >>> Project("demo").resolve_stale(12, accept=True)  # doctest: +SKIP
        ('polis-01', 812, 870, 'samverkan')
        """
        return self.open_existing_store().resolve_stale(coding_id, accept=accept, coder=coder)

    def coders(self) -> pd.DataFrame:
        """One row per human coder with their coding counts.

        >>> Project("demo").coders()[["coder", "codings", "documents"]]  # doctest: +SKIP
        """
        return self.open_existing_store().coders_frame()

    def agreement(
        self, coders: Sequence[str], *, unit: str = "segment", codes: Sequence[str] = ()
    ) -> pd.DataFrame:
        """Percent agreement, Cohen's kappa and Krippendorff's alpha per code and pooled;
        ``auto`` names the automatic codings. See :mod:`qcode.agreement`.

        >>> Project("demo").agreement(["anna", "auto"])  # doctest: +SKIP
        """
        from .agreement import agreement

        return agreement(self.open_existing_store(), coders, unit=unit, codes=codes)

    def train(
        self,
        coders: Sequence[str] = (),
        *,
        min_examples: int = 8,
        codes: Sequence[str] = (),
        name: str = "default",
    ) -> Any:
        """Train per-code classifiers on human codings and the codebook's examples, save them
        in the project database and return the :class:`~qcode.model.TrainedModel` (its
        ``metrics`` hold cross-validated precision/recall/F1, ``refused`` the codes left out).

        >>> Project("demo").train(["eva"]).metrics  # doctest: +SKIP
        """
        import re

        from .model import save_model, train

        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name):
            raise ConfigError(f"model name {name!r}: use letters, digits, _ . - (at most 64)")
        store = self.open_existing_store()
        model = train(store, self.codebook, coders, min_examples=min_examples, codes=codes)
        save_model(store, model, name)
        return self.load_model(name)

    def train_companion(self, coders: Sequence[str] = (), *, min_examples: int = 8) -> Any:
        """Retrain the companion model beside the project's codebook (``kronoberg.yaml`` ->
        ``kronoberg.model``) from this project's human codings (``coders``, default all) and
        the codebook's examples, for the codebook as it is now; returns a
        :class:`~qcode.companion.CompanionTraining` (``.examples`` per theme, cross-validated
        figures). The next ``tag`` re-codes every document with it.

        >>> Project("demo").train_companion(["eva"]).examples  # doctest: +SKIP
        """
        from .companion import train_companion
        from .model import companion_path, save_companion

        if not self.codebook.path:
            raise ConfigError(
                "the companion is saved beside the codebook file; name one with "
                "--codebook or in qcode.yaml"
            )
        store = self.open_existing_store()
        result = train_companion(
            store,
            self.codebook,
            coders,
            min_examples=min_examples,
            trained_on=f"{Path(self.config.database).name}: human codings "
            f"of {', '.join(coders) or 'every coder'}",
        )
        save_companion(result.companion, companion_path(self.codebook.path))
        return result

    def load_model(self, name: str = "default") -> Any:
        """The saved model ``name``; :class:`~qcode.errors.ModelError` when missing or stale.

        >>> Project("demo").load_model().codes  # doctest: +SKIP
        """
        from .model import load_model

        return load_model(self.open_existing_store(), self.codebook, name)

    # -- privacy ------------------------------------------------------------------------------
    def redactor(self) -> Any:
        """The project's :class:`~qcode.privacy.Redactor` (private list, metadata names,
        speaker labels, stored placeholders): the one detector behind every output route,
        ``redact`` and ``check-privacy``.

        >>> Project("demo").redactor().find("Ring Anna på 070-123 45 67.")  # doctest: +SKIP
        """
        from .privacy import Redactor, private_names, project_redactor

        if Path(self.config.database).exists():
            return project_redactor(self.open_existing_store(), self.config)
        return Redactor(private_names(self.config))

    def _remember(self, redactor: Any) -> None:
        """Save the placeholders ``redactor`` assigned, so later outputs reuse them."""
        from .privacy import remember

        if Path(self.config.database).exists():
            remember(redactor, self.open_existing_store())

    def redact(self, text: str, *, reveal: bool = False) -> str:
        """Redact ``text`` with stable placeholders, or with ``reveal`` put names back as
        first written.

        >>> Project("demo").redact("Ring 070-123 45 67.")  # doctest: +SKIP
        'Ring [TELEFON].'
        """
        redactor = self.redactor()
        if reveal:
            revealed: str = redactor.reveal(text)
            return revealed
        result: str = redactor.redact(text)
        self._remember(redactor)
        return result

    def check_privacy(self, paths: Sequence[str | Path]) -> pd.DataFrame:
        """Personal data in output files: one row per finding (path, where, kind, hint).

        Uses the same detector as :meth:`redact` (so a file ``redact`` would change never
        passes); values are masked in the result so the check itself leaks nothing. A file
        it could not read in full is a row of kind ``could not check`` (``hint``: why). The
        project database is left out.

        >>> Project("demo").check_privacy(["out/"]).empty  # doctest: +SKIP
        True
        """
        from .privacy import check_files

        for path in paths:
            if not Path(path).exists():
                raise ConfigError("no such file or folder to check", path=str(path))
        findings = check_files(paths, self.redactor(), skip=[self.config.database])
        return pd.DataFrame([vars(f) for f in findings], columns=["path", "where", "kind", "hint"])
