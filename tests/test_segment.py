"""Segmentation units and the offset invariant, with property tests over arbitrary Unicode."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qcode.errors import ConfigError
from qcode.ingest.common import normalise_text
from qcode.ingest.text import parse_text
from qcode.ingest.turns import parse_turns
from qcode.models import Document, Turn, frozen_mapping
from qcode.segment import UNITS, segment_document, sentence_pipeline

TRANSCRIPT = """[00:00:05] I: Hur ser beredskapen ut? Finns det en plan?

R: Nej. Vi har pratat om det.

Men ingen plan än, tyvärr.
"""


def doc_of(text: str) -> Document:
    return parse_text(text, Path("polis.txt"))


def test_turn_unit_keeps_interviewer_turns_and_metadata() -> None:
    segments = segment_document(doc_of(TRANSCRIPT), "turn")
    assert [(s.index, s.speaker, s.is_interviewer, s.text, dict(s.metadata)) for s in segments] == [
        (0, "I", True, "Hur ser beredskapen ut? Finns det en plan?", {"timestamp": "00:00:05"}),
        (1, "R", False, "Nej. Vi har pratat om det.\n\nMen ingen plan än, tyvärr.", {}),
    ]
    assert all(s.document_id == "polis" for s in segments)


def test_paragraph_unit_splits_turns_at_blank_lines() -> None:
    segments = segment_document(doc_of(TRANSCRIPT), "paragraph")
    assert [(s.index, s.speaker, s.text) for s in segments] == [
        (0, "I", "Hur ser beredskapen ut? Finns det en plan?"),
        (1, "R", "Nej. Vi har pratat om det."),
        (2, "R", "Men ingen plan än, tyvärr."),
    ]


def test_sentence_unit_uses_the_sentencizer() -> None:
    segments = segment_document(doc_of(TRANSCRIPT), "sentence")
    assert [(s.index, s.speaker, s.text, dict(s.metadata)) for s in segments] == [
        (0, "I", "Hur ser beredskapen ut?", {"timestamp": "00:00:05"}),
        (1, "I", "Finns det en plan?", {"timestamp": "00:00:05"}),
        (2, "R", "Nej.", {}),
        (3, "R", "Vi har pratat om det.", {}),
        (4, "R", "Men ingen plan än, tyvärr.", {}),
    ]


def test_pipeline_is_built_once_and_blank() -> None:
    nlp = sentence_pipeline()
    assert nlp is sentence_pipeline()
    assert nlp.lang == "sv" and nlp.pipe_names == ["sentencizer"]


def test_unknown_unit() -> None:
    with pytest.raises(ConfigError, match="unknown coding unit 'word'"):
        segment_document(doc_of("R: hej"), "word")


def test_whitespace_only_turns_give_no_segments() -> None:
    text = "a  \n\n  \n b"
    doc = Document("d", text, "d.txt", (Turn(1, 3, "x"), Turn(0, 4, "y"), Turn(4, 10, "z")))
    assert [(s.index, s.text, s.speaker) for s in segment_document(doc, "paragraph")] == [
        (0, "a", "y"),
        (1, "b", "z"),
    ]


def test_long_paragraph_is_sentence_split_in_pieces() -> None:
    text = "R: " + "Det här är en mening om samverkan. " * 8000  # ~280k chars, over one chunk
    segments = segment_document(doc_of(text), "sentence")
    assert len(segments) == 8000
    assert {s.text for s in segments} == {"Det här är en mening om samverkan."}


# -- property tests ------------------------------------------------------------------------------

# Arbitrary Unicode without surrogates or NUL (NUL makes a file binary), mixed with the
# characters that matter here: line ends, combining marks, emoji, labels, timestamps.
_pieces = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20),
    st.sampled_from(
        [
            "\n",
            "\r\n",
            "\r",
            "\n\n",
            " ",
            "\t",
            "I: ",
            "R: ",
            "Anna Svensson: ",
            "**Int:** ",
            "[00:12:34] ",
            "(12:34)",
            ". ",
            "? ",
            "e\u0301",
            "\u0308",
            "👩‍👩‍👧",
            "\u2028",
            "\x0b",
            "\x1c",
            "\x85",
            "\ufeff",
            "å",
            "Ä",
        ]
    ),
)
arbitrary_text = st.lists(_pieces, max_size=30).map("".join)


def check_turns(text: str, turns: tuple[Turn, ...]) -> None:
    previous_end = 0
    for turn in turns:
        span = text[turn.start : turn.end]
        assert 0 <= turn.start < turn.end <= len(text)
        assert span == span.strip() and span
        assert turn.start >= previous_end
        previous_end = turn.end


@settings(max_examples=300, deadline=None)
@given(arbitrary_text)
def test_turn_parser_spans_are_exact(text: str) -> None:
    check_turns(text, parse_turns(text))
    normalised = normalise_text(text)
    check_turns(normalised, parse_turns(normalised))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arbitrary_text, st.sampled_from(UNITS))
def test_segment_text_is_always_the_document_span(text: str, unit: str) -> None:
    text = normalise_text(text)
    doc = Document("d", text, "d.txt", parse_turns(text))
    segments = segment_document(doc, unit)
    for index, segment in enumerate(segments):
        assert segment.index == index
        assert doc.text[segment.start : segment.end] == segment.text
        assert segment.text and segment.text == segment.text.strip()
    # nothing said is lost: the segments hold every non-space character of the turns
    said = "".join("".join(doc.text[t.start : t.end].split()) for t in doc.turns)
    assert "".join("".join(s.text.split()) for s in segments) == said


@settings(max_examples=60, deadline=None)
@given(arbitrary_text, st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), max_size=6))
def test_segments_of_arbitrary_turn_spans(text: str, spans: list[tuple[int, int]]) -> None:
    """Turns from any reader (not only the text parser) keep the invariant too."""
    turns = tuple(Turn(min(a, b, len(text)), min(max(a, b), len(text)), "x") for a, b in spans)
    doc = Document("d", text, "d.txt", turns, frozen_mapping({}))
    for unit in UNITS:
        for segment in segment_document(doc, unit):
            assert doc.text[segment.start : segment.end] == segment.text
            assert segment.text == segment.text.strip() and segment.text


@settings(max_examples=100, deadline=None)
@given(arbitrary_text)
def test_read_text_file_offsets(text: str) -> None:
    """Through the full text reader: NFC, line ends, front matter and turns."""
    normalised = normalise_text(text)
    if not normalised.strip() or normalised.startswith("---"):
        return
    doc = parse_text(normalised, Path("x.txt"))
    check_turns(doc.text, doc.turns)
    assert "\r" not in doc.text


def test_documents_and_segments_pickle_for_worker_processes() -> None:
    import pickle

    doc = doc_of(TRANSCRIPT)
    segments = segment_document(doc, "sentence")
    assert pickle.loads(pickle.dumps(doc)) == doc
    copy = pickle.loads(pickle.dumps(segments))
    assert copy == segments and dict(copy[0].metadata) == {"timestamp": "00:00:05"}
