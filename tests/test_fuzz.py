"""Fuzz tests (hypothesis): the transcript parser and the codebook loader never fail with
anything but their documented errors.

* transcript text (front-matter-like prefixes, speaker labels, timestamps, control
  characters, CRLF, any non-surrogate Unicode) -> a Document whose turns and segments satisfy
  the offset contract, or a :class:`~qcode.errors.TranscriptError`;
* codebook YAML (fragments of real codebooks, mutated; arbitrary nested data dumped with
  ``yaml.safe_dump``) -> a :class:`~qcode.codebook.Codebook` or a
  :class:`~qcode.errors.CodebookError` (``InvalidCodebook`` included), and
  ``validate_codebook_text`` returns problems instead of raising.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy  # noqa: F401  (see below)
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from qcode.codebook import (
    CODE_KEYS,
    PATTERN_KEYS,
    TOP_KEYS,
    Codebook,
    codebook_from_yaml_text,
    validate_codebook_text,
)
from qcode.errors import CodebookError, TranscriptError
from qcode.ingest.common import decode_text
from qcode.ingest.text import parse_text
from qcode.segment import segment_document

# spaCy is imported at collection, before pytest-socket blocks sockets: urllib3 (which it
# pulls in through requests) creates a socket at import time to probe for IPv6. It never
# connects; importing it inside a test would only print a blocked-socket warning.
REPO = Path(__file__).resolve().parents[1]
FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# -- transcripts -------------------------------------------------------------------------------

LABELS = [
    "I",
    "IP",
    "Intervjuare",
    "Respondent 2",
    "Anna Svensson",
    "Fråga",
    "Svar",
    "**I**",
    "Det var så här",
    "R (kvinna, 45 år)",
    "Polis 1",
    "F",
    "ÅÄÖ",
    "x" * 45,
]
PIECES = [
    "---\n",
    "---",
    "...\n",
    "id: ",
    "title: Polis\n",
    "group: [a, b]\n",
    "date: 2010-01-12\n",
    "id: 007\n",
    "{",
    "}",
    "[",
    "]",
    ": ",
    ":",
    "\n",
    "\r\n",
    "\r",
    "\n\n",
    " ",
    "\t",
    "[00:12:34] ",
    "(12:34)",
    "00:01:02 ",
    "**",
    "&a ",
    "*a",
    "!!python/object:os.system ",
    "\x00",
    "\x0b",
    "\x0c",
    "\x1c",
    "\u2028",
    "\u2029",
    "\ufeff",
    "\u0085",
    "e\u0301",
    "Å",
    "Vi har ingen handlingsplan.",
    "Jag vet inte: kanske.",
    "beredskap",
    "🙂",
]
text_piece = st.one_of(
    st.sampled_from(PIECES),
    st.sampled_from(LABELS).map(lambda label: label + ": "),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=12),
)
transcript_text = st.lists(text_piece, max_size=40).map("".join)


def check_document_offsets(doc) -> None:
    text = doc.text
    previous_end = 0
    for turn in doc.turns:
        assert 0 <= previous_end <= turn.start < turn.end <= len(text)
        span = text[turn.start : turn.end]
        assert span == span.strip() and span
        previous_end = turn.end
    for unit in ("turn", "paragraph", "sentence"):
        for segment in segment_document(doc, unit):
            assert 0 <= segment.start < segment.end <= len(text)
            assert segment.text == text[segment.start : segment.end]
            assert segment.text == segment.text.strip()


@FUZZ
@given(transcript_text)
@example("---\nid: x\nmeta: " + "[" * 500 + "]" * 500 + "\n---\nIP: hej\n")
@example("---\na: &a [*a]\n---\nIP: hej\n")
@example("---\nid: \n---\nIP: hej\n")
@example("---\n- a\n---\nIP: hej\n")
@example("IP: \r\nI: \r\n\x00")
def test_transcript_parser_gives_documents_or_transcript_errors(text):
    path = Path("fuzz.md")
    try:
        decoded, _warnings = decode_text(text.encode("utf-8"), path)
        doc = parse_text(decoded, path)
    except TranscriptError as error:
        assert str(error).startswith("fuzz.md")
        assert "\n" not in error.message
        return
    assert doc.id and doc.text.strip()
    check_document_offsets(doc)


# -- codebooks ---------------------------------------------------------------------------------


def codebook_lines() -> list[str]:
    lines: list[str] = []
    for path in (
        REPO / "codebooks" / "kronoberg.yaml",
        REPO / "tests" / "data" / "codebook" / "small.yaml",
    ):
        if path.exists():
            lines.extend(path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line.strip()] or ["name: x", "codes:", "  - id: a"]


LINES = codebook_lines()
YAML_NOISE = [
    "-",
    ":",
    " ",
    "  ",
    "'",
    '"',
    "[",
    "]",
    "{",
    "}",
    "&a",
    "*a",
    "!!str",
    "!!int",
    "!!python/name:os.system",
    "|",
    ">",
    "#",
    "?",
    ",",
    "\t",
    "\n",
    "\x00",
    "\ufeff",
    "~",
    "null",
    "yes",
    "0x1F",
    "1e9",
    "2010-01-12",
    "<<: *a",
    "%YAML 1.1",
    "(a+)+",
    "[",
    "\\",
]


@st.composite
def mutated_codebook(draw) -> str:
    """A run of real codebook lines, then a few insertions, deletions and re-indentations."""
    start = draw(st.integers(0, len(LINES) - 1))
    length = draw(st.integers(1, 30))
    lines = LINES[start : start + length]
    if draw(st.booleans()):
        lines = ["name: fuzz", "codes:"] + lines
    for _ in range(draw(st.integers(0, 6))):
        index = draw(st.integers(0, len(lines) - 1))
        line = lines[index]
        action = draw(st.sampled_from(["insert", "delete", "indent", "dedent", "drop", "dup"]))
        at = draw(st.integers(0, len(line)))
        if action == "insert":
            noise = draw(
                st.one_of(
                    st.sampled_from(YAML_NOISE),
                    st.text(st.characters(exclude_categories=("Cs",)), max_size=4),
                )
            )
            lines[index] = line[:at] + noise + line[at:]
        elif action == "delete":
            lines[index] = line[:at] + line[at + draw(st.integers(1, 5)) :]
        elif action == "indent":
            lines[index] = "  " + line
        elif action == "dedent":
            lines[index] = line[2:] if line.startswith("  ") else line
        elif action == "drop" and len(lines) > 1:
            del lines[index]
        elif action == "dup":
            lines.insert(index, line)
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\r\n"]))


KEYS = list(TOP_KEYS + CODE_KEYS + PATTERN_KEYS) + ["term", "compound", "x", "<<"]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=10),
    st.sampled_from(
        ["beredskap", "stöd*", "ta på allvar", r"\bpolis\w*", "(a+)+$", "#1f77b4", "sv", "a_b", ""]
    ),
)
nested = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), scalars), children, max_size=5),
    ),
    max_leaves=30,
)
top_level = st.one_of(
    nested,
    st.fixed_dictionaries(
        {"name": scalars, "codes": st.lists(nested, max_size=3)},
        optional={k: nested for k in ("version", "language", "description")},
    ),
    st.fixed_dictionaries(
        {
            "name": st.just("fuzz"),
            "codes": st.lists(
                st.fixed_dictionaries(
                    {"id": scalars, "label": scalars},
                    optional={
                        k: nested for k in ("patterns", "codes", "examples", "color", "description")
                    },
                ),
                max_size=3,
            ),
        }
    ),
)


def check_loader(text: str) -> None:
    try:
        codebook = codebook_from_yaml_text(text, "fuzz.yaml")
    except CodebookError as error:
        assert str(error).startswith("fuzz.yaml")
    else:
        assert isinstance(codebook, Codebook) and codebook.codes
        assert len(set(codebook.paths)) == len(codebook.paths)
    problems = validate_codebook_text(text, "fuzz.yaml")
    assert all(str(problem) for problem in problems)


@FUZZ
@given(mutated_codebook())
@example("name: x\ncodes: " + "[" * 10_000 + "]" * 10_000)
@example("a: &a [*a, *a]\nb: *a\n")
@example("name: x\ncodes:\n  - id: a\n    label: A\n    patterns:\n      regex: ['(']\n")
@example("\ufeff\x00")
@example("name: x\ncodes:\n  - !!python/name:os.system\n")
def test_codebook_loader_on_mutated_real_codebooks(text):
    check_loader(text)


@FUZZ
@given(top_level)
def test_codebook_loader_on_arbitrary_yaml_data(data):
    check_loader(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


@pytest.mark.parametrize(
    "anchor_text",
    [
        # "billion laughs": nine aliases per level, nine levels
        "a0: &a0 [x]\n"
        + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10)),
    ],
)
def test_codebook_loader_refuses_alias_bombs(anchor_text):
    with pytest.raises(CodebookError, match="alias bomb"):
        codebook_from_yaml_text(anchor_text, "fuzz.yaml")
