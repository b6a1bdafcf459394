"""How files were read, for ``qcode inspect`` and the warnings ``qcode tag`` prints.

:func:`reading_warnings` lists what a researcher should check in one transcript (no interviewer
turn found, an interviewer only guessed, a speaker label seen only once, no ``title``/``group``);
:func:`inspect_paths` reads files without storing anything and :func:`format_inspection` shows,
per file, the speakers with their turn counts, who the interviewer is and why, the preamble,
the first line of each kind of turn, the metadata found and missing, and the warnings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import TranscriptError
from ..models import Document
from .common import IngestConfig
from .turns import DEFAULT_SPEAKER, GUESSED_INTERVIEWER

#: metadata every document should have: quotes are attributed by title, reports grouped by group.
EXPECTED_METADATA = ("title", "group")
_REASONS = {
    "front matter": "named by `interviewer:` in the metadata",
    "label": "an interviewer label",
    "guess": "a guess: mostly short questions",
}
_LINE_CHARS = 72


def reading_warnings(doc: Document) -> list[str]:
    """What to check in how a transcript was read, as one line naming the file (an empty list
    when all is well): no interviewer turn found, an interviewer only guessed, a speaker label
    seen only once, no ``title``/``group``.

    >>> reading_warnings(doc)  # doctest: +SKIP
    ['t/otter.txt: interviewer guessed: Helena Strand (mostly short questions); no title or …']
    """
    if doc.reading is None:  # a survey row: its speakers are the questions
        return []
    where = f"{doc.path} ({doc.id})" if Path(doc.path).stem != doc.id else doc.path
    found = []
    if not any(t.is_interviewer for t in doc.turns):
        found.append(
            "no interviewer turn found, everything will be coded as the respondent's "
            "(name the interviewer with `interviewer:` in the front matter or "
            "`interviewer_labels` in qcode.yaml)"
        )
    elif doc.reading.reason == "guess":
        found.append(
            f"interviewer guessed: {', '.join(doc.reading.interviewer)} (mostly short "
            "questions; confirm with `interviewer: NAME` in the front matter)"
        )
    counts = Counter(t.speaker for t in doc.turns)
    once = [
        s
        for s, n in counts.items()
        if n == 1 and s not in (DEFAULT_SPEAKER, GUESSED_INTERVIEWER) and len(counts) > 2
    ]
    if once:
        found.append(
            f"speaker label(s) seen only once: {', '.join(once)} (a typo of another "
            "label, or a line that is not a speaker?)"
        )
    missing = missing_metadata(doc)
    if missing:
        found.append(
            f"no {' or '.join(missing)} in the metadata (quotes are attributed by "
            "title, reports grouped by group)"
        )
    return [f"{where}: " + "; ".join(found)] if found else []


def missing_metadata(doc: Document) -> list[str]:
    return [key for key in EXPECTED_METADATA if not doc.metadata.get(key)]


def with_reading_warnings(doc: Document) -> Document:
    """``doc`` with :func:`reading_warnings` added to its warnings (stored with the file, so an
    unchanged file repeats them on the next run)."""
    extra = tuple(w for w in reading_warnings(doc) if w not in doc.warnings)
    return replace(doc, warnings=doc.warnings + extra) if extra else doc


@dataclass
class FileInspection:
    """One file as read: its documents, or the error that stopped it."""

    path: Path
    documents: list[Document] = field(default_factory=list)
    error: str | None = None


def inspect_paths(
    paths: Iterable[str | Path], config: IngestConfig = IngestConfig()
) -> tuple[list[FileInspection], list[str]]:
    """Read every file under ``paths`` as ``tag`` would (sidecar metadata included), store
    nothing; returns the per-file results and the folder-level warnings (skipped files)."""
    from . import apply_sidecar, discover_inputs, load_sidecar_metadata, printable_path, read_path

    found = discover_inputs(paths)
    results = []
    sidecars: dict[Path, dict[str, dict[str, Any]]] = {}
    for path in found.files:
        try:
            if path.parent not in sidecars:
                sidecars[path.parent] = load_sidecar_metadata(path.parent)
            documents = [
                apply_sidecar(d, sidecars[path.parent], config.interviewer_labels)
                for d in read_path(path, config)
            ]
        except TranscriptError as error:
            results.append(FileInspection(Path(printable_path(path)), error=str(error)))
            continue
        results.append(FileInspection(path, [with_reading_warnings(d) for d in documents]))
    return results, found.warnings()


def _line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _LINE_CHARS else text[: _LINE_CHARS - 1] + "…"


def _format_transcript(doc: Document) -> list[str]:
    assert doc.reading is not None
    reading = doc.reading
    counts = Counter(t.speaker for t in doc.turns)
    stamped = any("timestamp" in t.metadata or "cue_start" in t.metadata for t in doc.turns)
    lines = [
        f"  read as: transcript, {len(doc.turns)} turns, {len(counts)} speaker(s)"
        + ("" if reading.labelled else ", no speaker labels")
        + (", timestamps" if stamped else "")
    ]
    width = max(len(s) for s in counts) if counts else 0
    lines.append("  speakers:")
    for speaker, n in counts.items():
        role = "interviewer" if speaker in reading.interviewer else "respondent"
        lines.append(f"    {speaker:<{width}}  {n:>3} turn(s)  {role}")
    if reading.interviewer:
        lines.append(
            f"  interviewer: {', '.join(reading.interviewer)} "
            f"({_REASONS.get(reading.reason or '', reading.reason)})"
        )
    else:
        lines.append("  interviewer: none found")
    if reading.preamble is not None:
        start, end = reading.preamble
        preamble = [line for line in doc.text[start:end].split("\n") if line.strip()]
        lines.append(f"  preamble ({len(preamble)} line(s), not coded): {_line(preamble[0])}")
    else:
        lines.append("  preamble: none")
    lines.append("  first lines:")
    for kind, wanted in (("interviewer", True), ("respondent", False)):
        turn = next((t for t in doc.turns if t.is_interviewer is wanted), None)
        if turn is not None:
            said = doc.text[turn.start : turn.end]
            lines.append(f"    {kind:<11}  {turn.speaker}: {_line(said)}")
    return lines


def _format_metadata(doc: Document) -> str:
    found = [f"{k}={v}" for k, v in doc.metadata.items() if v not in (None, "")]
    missing = missing_metadata(doc)
    return (
        f"  metadata: id={doc.id}"
        + (f"; {'; '.join(found)}" if found else "")
        + (f"; missing: {', '.join(missing)}" if missing else "")
    )


def format_inspection(results: list[FileInspection], folder_warnings: Sequence[str] = ()) -> str:
    """The plain-text report ``qcode inspect`` prints (see the module docstring)."""
    out: list[str] = []
    for result in results:
        out.append(f"{result.path}")
        if result.error is not None:
            out.append(f"  error: {result.error}")
            out.append("")
            continue
        documents = result.documents
        if len(documents) == 1 and documents[0].reading is not None:
            doc = documents[0]
            out.extend(_format_transcript(doc))
            out.append(_format_metadata(doc))
        else:
            out.append(f"  read as: table, {len(documents)} document(s), one per row")
            columns = Counter(t.speaker for d in documents for t in d.turns)
            for column, n in columns.items():
                out.append(f"    {_line(column)}: {n} answer(s)")
            for doc in documents[:3]:
                out.append(_format_metadata(doc))
            if len(documents) > 3:
                out.append(f"  … and {len(documents) - 3} more")
        warnings = [w for d in documents for w in d.warnings]
        out.append("  warnings:" + (" none" if not warnings else ""))
        out.extend(f"    - {w}" for w in warnings)
        out.append("")
    for warning in folder_warnings:
        out.append(f"warning: {warning}")
    n_warn = sum(len(d.warnings) for r in results for d in r.documents) + len(folder_warnings)
    failed = sum(1 for r in results if r.error is not None)
    out.append(
        f"{len(results)} file(s) read, {failed} with errors, {n_warn} warning(s); "
        "nothing was stored"
    )
    return "\n".join(out) + "\n"
