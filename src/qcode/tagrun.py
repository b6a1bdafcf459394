"""The tag engine behind :meth:`qcode.project.Project.tag`: which files changed, and the
forked workers that read, segment and code them.

``Project.tag`` fingerprints every file (:func:`_unchanged_files`) and skips the unchanged
ones before reading them; the rest go to :func:`_run_tag_job`, which yields each file's
:class:`PreparedDocument` list in file order from ``--jobs`` processes. The parent stays the
single SQLite writer (``Project._store_outcomes``); workers never touch the database, and may
run at most :data:`IN_FLIGHT_PER_JOB` files ahead of it so memory stays flat.
"""

from __future__ import annotations

import hashlib
import os
import signal
import stat
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .codebook import Codebook
from .errors import DuplicateDocument, QcodeError
from .models import Coding, Document, Segment


@dataclass(frozen=True)
class PreparedDocument:
    """A document read and coded by a worker, ready for the single writer to store."""

    document: Document
    sha256: str
    unchanged: bool
    segments: list[Segment] = field(default_factory=list)
    codings: list[Coding] = field(default_factory=list)


class _TagJob:
    """Everything a worker needs to read and code files without touching the database.

    ``known`` maps document id -> (text sha256, tag key) as stored before the run, so a
    worker can tell an unchanged document from its text alone and skip segmenting it.
    """

    def __init__(
        self,
        codebook: Codebook,
        unit: str,
        code_interviewer: bool,
        ingest_config: Any,
        tag_key: str,
        known: dict[str, tuple[str, str | None]],
    ):
        self.codebook = codebook
        self.unit = unit
        self.code_interviewer = code_interviewer
        self.ingest_config = ingest_config
        self.tag_key = tag_key
        self.known = known
        self._tagger: Any = None
        self._sidecars: dict[Path, dict[str, dict[str, Any]]] = {}
        self.model: Any = None  # a qcode.model.TrainedModel when tagging with --model
        self.use_companion = False  # vote with the model shipped beside the codebook
        self._companion: Any = None
        self.id_check: Any = None  # a Redactor: ids that are names are replaced at ingest

    @property
    def companion(self) -> Any:
        """The companion model, loaded on first need: a run that finds nothing changed never
        imports scikit-learn. A stale one raises ModelError here."""
        if self.use_companion and self._companion is None:
            from .model import load_companion

            self._companion = load_companion(self.codebook)
        return self._companion

    @property
    def tagger(self) -> Any:
        if self._tagger is None:
            from .tag import Tagger

            self._tagger = Tagger(self.codebook, code_interviewer=self.code_interviewer)
        return self._tagger

    def sidecar(self, folder: Path) -> dict[str, dict[str, Any]]:
        from .ingest import load_sidecar_metadata

        if folder not in self._sidecars:
            self._sidecars[folder] = load_sidecar_metadata(folder)
        return self._sidecars[folder]

    def prepare_file(self, path: Path) -> tuple[Path, list[PreparedDocument] | QcodeError]:
        """Read one file and code its changed documents; errors are returned, not raised."""
        from .ingest import apply_sidecar, read_path
        from .ingest.inspection import with_reading_warnings
        from .segment import segment_document
        from .vote import decide

        try:
            documents = read_path(path, self.ingest_config)
            sidecar = self.sidecar(path.parent)
        except QcodeError as error:
            return path, error
        prepared = []
        if sidecar:
            documents = [
                apply_sidecar(document, sidecar, self.ingest_config.interviewer_labels)
                for document in documents
            ]
        if self.id_check is not None:
            documents = private_ids(documents, path, self.id_check)
        for document in documents:
            document = with_reading_warnings(document)
            sha = text_sha256(document.text)
            if self.known.get(document.id) == (sha, self.tag_key):
                prepared.append(PreparedDocument(document, sha, True))
                continue
            segments = segment_document(document, self.unit)
            rule_codings = [c for _seg, found in self.tagger.tag_segments(segments) for c in found]
            codable = [s for s in segments if self.code_interviewer or not s.is_interviewer]
            verdicts = decide(codable, rule_codings, self.companion, self.model)
            codings = [v.coding for v in verdicts if v.stored]
            prepared.append(PreparedDocument(document, sha, False, segments, codings))
        return path, prepared


def _path_clash(
    path: Path, ids: list[str], known_paths: dict[str, str | None]
) -> DuplicateDocument | None:
    """The error for a document id stored from another file that still exists, if any."""
    for doc_id in ids:
        stored = known_paths.get(doc_id)
        if not stored or stored == str(path) or not Path(stored).is_file():
            continue
        try:
            if Path(stored).resolve() == path.resolve():
                continue
        except OSError:
            pass
        return DuplicateDocument(
            f"document id {doc_id!r} is already stored from {stored}; tagging this file would "
            "replace it. Give one of them another `id:` in its front matter, or pass --replace "
            "to replace it",
            path=str(path),
        )
    return None


class _UnchangedFile(list[tuple[str, str, tuple[str, ...]]]):
    """A file whose bytes and settings match its last tag run: ``(id, sha256, warnings)`` of
    its stored documents, which need neither reading nor coding."""


def _fingerprint(path: Path, job: _TagJob, sidecars: dict[Path, str]) -> str | None:
    """Hash of what decides a file's documents and codings: its bytes, its folder's metadata
    sidecar, the reading settings and the tag key. None if the file cannot be read (the
    reader then reports why)."""
    from .ingest import SIDECAR_NAME

    folder = path.parent
    if folder not in sidecars:
        try:
            sidecars[folder] = hashlib.sha256((folder / SIDECAR_NAME).read_bytes()).hexdigest()
        except OSError:
            sidecars[folder] = "-"
    # stat before reading: a pipe would block, a huge file would be read whole only to be
    # refused by the size check
    try:
        info = os.stat(path)
    except OSError:
        return None
    limit = job.ingest_config.max_file_mb
    if not stat.S_ISREG(info.st_mode) or (limit and info.st_size > limit * 1024 * 1024):
        return None
    digest = hashlib.sha256(f"{job.tag_key}\0{job.ingest_config!r}\0{sidecars[folder]}\0".encode())
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def _unchanged_files(
    files: list[Path],
    job: _TagJob,
    states: dict[str, tuple[str, list[tuple[str, str, tuple[str, ...]]]]],
) -> tuple[dict[Path, str | None], dict[Path, _UnchangedFile]]:
    """Fingerprint every file and pick those that need no reading: same fingerprint as when
    their documents were stored, and every one of those documents still stored with that text
    and tag key (a ``qcode tag`` of another path or an import may have replaced one since)."""
    sidecars: dict[Path, str] = {}
    fingerprints: dict[Path, str | None] = {}
    unchanged: dict[Path, _UnchangedFile] = {}
    for path in files:
        fingerprints[path] = fingerprint = _fingerprint(path, job, sidecars)
        state = states.get(str(path))
        if fingerprint is None or state is None or state[0] != fingerprint:
            continue
        if all(job.known.get(doc_id) == (sha, job.tag_key) for doc_id, sha, _w in state[1]):
            unchanged[path] = _UnchangedFile(state[1])
    return fingerprints, unchanged


def _merge_unchanged(
    files: list[Path],
    unchanged: dict[Path, _UnchangedFile],
    outcomes: Iterator[tuple[Path, list[PreparedDocument] | QcodeError]],
) -> Iterator[tuple[Path, Any]]:
    """Every file in order: unchanged ones from ``unchanged``, the rest from ``outcomes``."""
    for path in files:
        yield (path, unchanged[path]) if path in unchanged else next(outcomes)


def available_cores() -> int:
    """The cores this process may run on (a container's or taskset's share, not the host's)."""
    import os

    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


_WORKER_JOB: _TagJob | None = None
#: files handed to a worker at a time, and files per worker that may be coded ahead of the writer
WORKER_CHUNK = 4
IN_FLIGHT_PER_JOB = 4 * WORKER_CHUNK


def _init_worker(job: _TagJob) -> None:
    global _WORKER_JOB
    # Ctrl-C reaches the whole process group; the parent alone decides what happens (it stops
    # the workers), so a worker neither dies mid-task with a traceback nor holds a queue lock.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER_JOB = job


def _prepare_in_worker(path: Path) -> tuple[Path, list[PreparedDocument] | QcodeError]:
    assert _WORKER_JOB is not None
    return _WORKER_JOB.prepare_file(path)


def _warm_up(job: _TagJob) -> None:
    """Load the tagger, spaCy and the lemma tables once in this process before forking, so
    every worker starts with them in shared memory instead of paying the start-up again."""
    probe = Segment("warm-up", 0, 0, 30, "IP", False, "Vi har ingen handlingsplan alls.")
    for _ in job.tagger.tag_segments([probe]):
        pass
    if job.companion is not None:
        job.companion.probabilities([probe])


def _run_tag_job(
    job: _TagJob, files: list[Path], jobs: int
) -> Generator[tuple[Path, list[PreparedDocument] | QcodeError], None, None]:
    """Yield each file's prepared documents in file order, from ``jobs`` processes.

    Workers are forked so they share the loaded codebook and spaCy tables; results stream
    back in order (``imap``) so memory stays flat however large the corpus is.
    """
    jobs = min(jobs, len(files))
    if jobs <= 1:
        for path in files:
            yield job.prepare_file(path)
        return
    import multiprocessing
    import threading

    _warm_up(job)
    # imap hands out tasks as fast as workers take them and keeps their results until they
    # are consumed; when the writer (this process) falls behind, results would pile up here.
    # The window lets at most IN_FLIGHT_PER_JOB files per worker be handed out ahead of it.
    window = threading.Semaphore(max(jobs * IN_FLIGHT_PER_JOB, WORKER_CHUNK))  # >= a chunk
    stopped = False

    def paced() -> Iterator[Path]:
        for path in files:
            # wait for the writer, but never past the end of the run or of the interpreter
            while not window.acquire(timeout=0.5):
                if stopped or not threading.main_thread().is_alive():
                    return
            if stopped:
                return
            yield path

    context = multiprocessing.get_context("fork")
    # workers are forked with SIGINT ignored (a Ctrl-C during the fork would otherwise reach
    # a child before its initializer runs); the parent's own handler is back right after
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main else None
    try:
        pool = context.Pool(jobs, initializer=_init_worker, initargs=(job,))
    finally:
        if in_main:
            signal.signal(signal.SIGINT, previous)
    try:
        for outcome in pool.imap(_prepare_in_worker, paced(), chunksize=WORKER_CHUNK):
            window.release()
            yield outcome
    finally:
        # wake the task feeder if it waits, then stop the workers
        stopped = True
        window.release()
        _stop_pool(pool)


def _stop_pool(pool: Any, timeout: float = 1.0) -> None:
    """Terminate ``pool`` within about ``timeout`` seconds, also after a Ctrl-C.

    ``Pool.terminate`` can block for good when a worker was stopped while holding one of the
    pool's queue locks; it runs in a helper thread, and if it has not finished in time the
    workers are killed and the thread left behind (a daemon: it does not keep the process
    alive). A second Ctrl-C while stopping is ignored, so it cannot leave workers behind."""
    import threading

    previous = (
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if threading.current_thread() is threading.main_thread()
        else None
    )
    try:
        workers = list(getattr(pool, "_pool", []))
        stopper = threading.Thread(target=pool.terminate, name="qcode-pool-stop", daemon=True)
        stopper.start()
        stopper.join(timeout)
        if stopper.is_alive():
            for worker in workers:
                if worker.exitcode is None:
                    worker.kill()
            stopper.join(timeout / 2)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def private_ids(documents: Sequence[Document], path: str | Path, redactor: Any) -> list[Document]:
    """The documents of one file with every id the detector calls a personal name replaced
    (``<file-stem>-<n>``, see :func:`qcode.privacy.pseudonymous_id`), and one warning that
    names the file, never the person."""

    from .privacy import pseudonymous_id

    out, renamed = [], []
    for number, document in enumerate(documents, 1):
        new_id = pseudonymous_id(document.id, path, number, redactor)
        if new_id is None:
            out.append(document)
            continue
        renamed.append(new_id)
        out.append(replace(document, id=new_id))
    if renamed:
        shown = ", ".join(renamed[:3]) + (", …" if len(renamed) > 3 else "")
        where = (
            Path(path).name
            if not redactor.is_name(Path(path).stem)
            else "a file named after a person"
        )
        message = (
            f"{where}: {len(renamed)} document id(s) looked like personal names and were "
            f"replaced ({shown}); give the file an `id:` or the table an id column"
        )
        first = next(i for i, d in enumerate(out) if d.id == renamed[0])
        out[first] = replace(out[first], warnings=(*out[first].warnings, message))
    return out


def store_metadata(document: Document) -> str:
    from .store import encode_metadata

    return encode_metadata(dict(document.metadata))
