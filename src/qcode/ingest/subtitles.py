"""Subtitle transcripts (``.vtt`` via webvtt-py, ``.srt`` via srt), e.g. from Teams or Zoom.

Each cue's lines are joined with spaces (subtitle line wrapping carries no meaning). The
speaker is a WebVTT voice tag ``<v Anna>`` or a ``Name:`` prefix on the cue; consecutive cues
of the same speaker merge into one turn. Cues without any speaker merge too, but a pause of
:data:`PAUSE_SECONDS` or more starts a new turn, so an unlabelled recording is not one turn.

In ``Document.text`` each turn is a paragraph ``Speaker: what was said`` (or just what was said
when there is no speaker). Turn metadata ``cue_start``/``cue_end`` are the first cue's start and
the last cue's end as ``"HH:MM:SS.mmm"`` strings: exact (no float rounding), readable in
exports, and they sort correctly as text.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import TranscriptError
from ..models import Document, Reading, Turn, frozen_mapping
from .common import IngestConfig, decode_text, read_bytes, split_front_matter, split_metadata
from .turns import (
    DEFAULT_SPEAKER,
    SENTENCE_OPENERS,
    is_known_label,
    label_shape_ok,
    normalise_label,
    settle_interviewer,
    split_names,
)

#: a gap between speaker-less cues at least this long starts a new turn.
PAUSE_SECONDS = 2.0

_TAG = re.compile(r"<[^>\n]*>|\{\\[^}\n]*\}")
_PREFIX = re.compile(r"[ \t]*-?[ \t]*([^\W\d_][^:\n]{0,40}?)[ \t]*:(?=\s|$)")
_VOICE = re.compile(r"<v(?:\.[^ \t>]*)?[ \t]+([^>]+)>")


@dataclass
class _Cue:
    start: float  # seconds
    end: float
    text: str
    speaker: str | None


def format_time(seconds: float) -> str:
    """``"HH:MM:SS.mmm"`` for a time in seconds (hours may exceed 99)."""
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def _clean(text: str) -> str:
    html_unescaped = (
        text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&nbsp;", " ")
    )
    return unicodedata.normalize("NFC", " ".join(_TAG.sub("", html_unescaped).split()))


def _speaker_and_text(raw: str, voice: str | None) -> tuple[str | None, str]:
    """The cue's speaker from a voice tag (else None) and its cleaned text; a ``Name:``
    prefix is judged later over all cues (see :func:`_prefix_speakers`)."""
    voice_match = _VOICE.search(raw)
    speaker = normalise_label(voice_match.group(1)) if voice_match else voice
    return speaker, _clean(raw)


def _prefix_speakers(cues: list[_Cue], interviewer_labels: tuple[str, ...]) -> None:
    """Take ``Name: …`` at the start of speaker-less cues as the speaker when the name is a
    known label or opens two or more cues and is no sentence opener ("Det var så här: …" is
    speech)."""
    found: list[tuple[_Cue, str, int]] = []
    for cue in cues:
        if cue.speaker is None:
            match = _PREFIX.match(cue.text)
            if match and label_shape_ok(match.group(1)):
                found.append((cue, normalise_label(match.group(1)), match.end()))
    counts = Counter(label for _cue, label, _end in found)
    for cue, label, end in found:
        opener = label.split()[0].casefold() in SENTENCE_OPENERS and not label.isupper()
        if is_known_label(label, interviewer_labels) or (counts[label] >= 2 and not opener):
            cue.speaker, cue.text = label, cue.text[end:].strip()


def _vtt_cues(text: str, path: Path) -> list[_Cue]:
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError

    try:
        captions = webvtt.from_string(text).captions
    except (MalformedFileError, MalformedCaptionError, ValueError, OverflowError) as error:
        raise TranscriptError(f"not a valid WebVTT file: {error}", path=str(path)) from None
    cues = []
    for caption in captions:
        raw = caption.raw_text if hasattr(caption, "raw_text") else "\n".join(caption.lines)
        speaker, cue_text = _speaker_and_text(raw, None)
        cues.append(
            _Cue(
                caption.start_time.in_milliseconds() / 1000,
                caption.end_time.in_milliseconds() / 1000,
                cue_text,
                speaker,
            )
        )
    return cues


def _srt_cues(text: str, path: Path) -> list[_Cue]:
    import srt

    try:
        subtitles = list(srt.parse(text))
    except (srt.SRTParseError, ValueError, OverflowError) as error:  # hours past any clock
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise TranscriptError(f"not a valid SRT file: {message}", path=str(path)) from None
    cues = []
    for sub in subtitles:
        speaker, cue_text = _speaker_and_text(sub.content, None)
        cues.append(
            _Cue(
                sub.start / _dt.timedelta(seconds=1),
                sub.end / _dt.timedelta(seconds=1),
                cue_text,
                speaker,
            )
        )
    return cues


def _merge(cues: list[_Cue]) -> list[_Cue]:
    merged: list[_Cue] = []
    for cue in cues:
        if not cue.text:
            continue
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.speaker == cue.speaker
            and (cue.speaker is not None or cue.start - last.end < PAUSE_SECONDS)
        ):
            last.text = f"{last.text} {cue.text}"
            last.end = max(last.end, cue.end)
        else:
            merged.append(_Cue(cue.start, cue.end, cue.text, cue.speaker))
    return merged


def read_subtitles(path: Path, config: IngestConfig) -> list[Document]:
    """Read one ``.vtt`` or ``.srt`` file as a single Document (see the module docstring).

    A WebVTT file has no front matter; an SRT file may start with YAML front matter like a
    text transcript (it is removed before the cues are parsed).
    """
    text, warnings = decode_text(read_bytes(path), path)
    if not text.strip():
        raise TranscriptError("empty file: there are no subtitles", path=str(path))
    raw_metadata: dict[str, Any] = {}
    if path.suffix.lower() == ".srt":
        front = split_front_matter(text, path)
        raw_metadata, text = front.metadata, front.body
        cues = _srt_cues(text, path)
    else:
        cues = _vtt_cues(text, path)
    _prefix_speakers(cues, tuple(config.interviewer_labels))
    merged = _merge(cues)
    if not merged:
        raise TranscriptError("empty file: no subtitle cue has any text", path=str(path))
    parts: list[str] = []
    turns: list[Turn] = []
    offset = 0
    for cue in merged:
        prefix = f"{cue.speaker}: " if cue.speaker else ""
        start = offset + len(prefix)
        parts.append(prefix + cue.text)
        offset += len(prefix) + len(cue.text)
        cue_times = {"cue_start": format_time(cue.start), "cue_end": format_time(cue.end)}
        turns.append(
            Turn(start, offset, cue.speaker or DEFAULT_SPEAKER, False, frozen_mapping(cue_times))
        )
        offset += 2  # the blank line between turns
    doc_id, metadata = split_metadata(raw_metadata, path.stem, path)
    text = "\n\n".join(parts)
    settled = settle_interviewer(
        text, turns, config.interviewer_labels, split_names(metadata.get("interviewer"))
    )
    return [
        Document(
            id=doc_id,
            text=text,
            path=str(path),
            turns=settled.turns,
            metadata=frozen_mapping(metadata),
            warnings=warnings,
            reading=Reading(None, settled.speakers, settled.reason, any(c.speaker for c in merged)),
        )
    ]
