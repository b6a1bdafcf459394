"""qcode.tag: the matching semantics contract, evidence offsets, explanations."""

from __future__ import annotations

import pytest

from qcode.codebook import Code, Codebook, Patterns, Term
from qcode.explain import format_explanation
from qcode.models import Segment
from qcode.tag import Tagger


def terms(*words: str, compound: bool = True) -> tuple[Term, ...]:
    return tuple(Term(w.rstrip("*"), prefix=w.endswith("*"), compound=compound) for w in words)


def phrases(*texts: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(t.split()) for t in texts)


def code(path: str, *, children=(), **patterns) -> Code:
    return Code(
        path.rsplit("/", 1)[-1],
        path,
        path.title(),
        patterns=Patterns(**patterns),
        children=tuple(children),
    )


def book(*codes: Code) -> Codebook:
    return Codebook("test", "1", "sv", tuple(codes))


def seg(
    text: str, *, start: int = 0, index: int = 0, interviewer: bool = False, document: str = "d1"
) -> Segment:
    return Segment(
        document, index, start, start + len(text), "I" if interviewer else "IP", interviewer, text
    )


def paths(codebook: Codebook, text: str, **kwargs) -> list[str]:
    return [c.code_path for c in Tagger(codebook, **kwargs).tag_segment(seg(text))]


def matched(codebook: Codebook, text: str) -> list[str]:
    """The matched words behind every coding of ``text``."""
    return [e.matched for c in Tagger(codebook).tag_segment(seg(text)) for e in c.evidence]


# -- terms: lemmas, case, Swedish letters ------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "Vi har ingen beredskap.",
        "Beredskapen är dålig.",
        "BEREDSKAPEN är dålig.",
    ],
)
def test_term_matches_every_inflection_case_insensitively(text):
    assert paths(book(code("beredskap", terms=terms("beredskap"))), text) == ["beredskap"]


@pytest.mark.parametrize(
    "text, word",
    [
        ("Vi samverkar med polisen.", "samverkar"),
        ("Vi samverkade förr.", "samverkade"),
        ("Handlingsplanerna finns i en pärm.", "Handlingsplanerna"),
        ("Åklagaren ringde.", "Åklagaren"),
    ],
)
def test_term_lemma_matching_on_verbs_and_nouns(text, word):
    cb = book(code("x", terms=terms("samverka", "handlingsplan", "åklagare")))
    assert matched(cb, text) == [word]


def test_no_match_no_coding():
    assert paths(book(code("beredskap", terms=terms("beredskap"))), "Vi pratade om vädret.") == []


# -- compounds ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "term, word",
    [
        ("anmälan", "polisanmälan"),  # head
        ("plan", "samverkansplanen"),  # inflected head
        ("ärende", "människohandelsärenden"),  # inflected head after a linking -s-
        ("samverkan", "samverkansplan"),  # first part + linking -s-
        ("människohandel", "människohandelsärende"),
        ("tystnadsplikt", "tystnadspliktsbrott"),
        ("polis", "polisanmälan"),  # first part without a linker
    ],
)
def test_compound_parts_match(term, word):
    assert matched(book(code("x", terms=terms(term))), f"Det gällde {word} i fjol.") == [word]


def test_compound_false_switches_compound_matching_off():
    cb = book(code("x", terms=terms("plan", compound=False)))
    assert matched(cb, "Vi har en handlingsplan.") == []
    assert matched(cb, "Planen är klar.") == ["Planen"]


@pytest.mark.parametrize(
    "term, word",
    [
        ("ring", "ringde"),  # rest of the word ("de") shorter than 3 letters
        ("bil", "bilförare"),  # term shorter than 4 letters
    ],
)
def test_compound_guards_against_short_parts(term, word):
    assert matched(book(code("x", terms=terms(term))), f"Hon {word} igår.") == []


# -- prefixes -----------------------------------------------------------------------------
def test_prefix_term_matches_any_ending():
    cb = book(code("kunskap", terms=terms("utbild*")))
    text = "Utbildningen, utbildningarna och en utbildad personal, men inte bildning."
    assert matched(cb, text) == ["Utbildningen", "utbildningarna", "utbildad"]


# -- phrases ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "phrase, text, span",
    [
        ("ta på allvar", "De tog det på allvar.", "tog det på allvar"),
        ("ta på allvar", "Anmälan tas på allvar.", "tas på allvar"),
        ("dubbla roller", "Man har en dubbel roll.", "dubbel roll"),
        ("dubbla roller", "De dubbla rollerna är svåra.", "dubbla rollerna"),
        ("stöta på", "Jag har stött på det.", "stött på"),
        ("stöta på", "Vi stötte aldrig på något.", "stötte aldrig på"),
    ],
)
def test_phrases_allow_inflection_and_gaps(phrase, text, span):
    assert matched(book(code("x", phrases=phrases(phrase))), text) == [span]


@pytest.mark.parametrize(
    "text",
    [
        "De tog det inte riktigt på allvar.",  # three tokens between "tog" and "på"
        "De tog det. På allvar alltså.",  # across a sentence end
        "På allvar tog de det.",  # wrong order
    ],
)
def test_phrase_gaps_are_limited(text):
    assert matched(book(code("x", phrases=phrases("ta på allvar"))), text) == []


# -- vetoes, regex, min_matches -----------------------------------------------------------
def test_not_term_vetoes_the_code_in_that_segment_only():
    cb = book(code("samverkan", terms=terms("samverka"), not_terms=terms("fotboll")))
    tagger = Tagger(cb)
    assert tagger.tag_segment(seg("Vi samverkar i fotbollslaget.")) == []
    assert [c.code_path for c in tagger.tag_segment(seg("Vi samverkar med polisen."))] == [
        "samverkan"
    ]


def test_not_phrase_vetoes_and_parent_veto_covers_subcodes():
    cb = book(
        code(
            "rapportering",
            terms=terms("anmäla"),
            not_phrases=phrases("anmäla intresse"),
            children=[code("rapportering/polis", terms=terms("polis", compound=False))],
        )
    )
    assert paths(cb, "Jag anmälde intresse för kursen hos polisen.") == []
    assert paths(cb, "Jag anmälde det till polisen.") == ["rapportering/polis"]


def test_regex_is_case_insensitive_on_raw_text():
    cb = book(code("x", regex=(r"\b\d+ ärenden\b",)))
    assert matched(cb, "Vi hade 14 ÄRENDEN förra året.") == ["14 ÄRENDEN"]


def test_min_matches_counts_distinct_spans():
    cb = book(code("kunskap", terms=terms("kunskap", "kunskapsnivå"), min_matches=2))
    # one word matched by two terms is still one span
    assert paths(cb, "Kunskapsnivån är låg.") == []
    assert paths(cb, "Kunskapsnivån är låg, vi behöver kunskap.") == ["kunskap"]


# -- the most specific path ---------------------------------------------------------------
BEREDSKAP = book(
    code(
        "beredskap",
        terms=terms("beredskap", "rutin"),
        children=[
            code("beredskap/saknas", phrases=phrases("ingen beredskap", "saknar rutin*")),
            code("beredskap/plan", terms=terms("handlingsplan")),
        ],
    )
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Vi har rutiner för det.", ["beredskap"]),
        ("Vi har ingen beredskap.", ["beredskap/saknas"]),  # negation still codes (as absence)
        ("Handlingsplanen är ny.", ["beredskap/plan"]),
        ("Vi har ingen beredskap men en handlingsplan.", ["beredskap/saknas", "beredskap/plan"]),
    ],
)
def test_child_path_replaces_parent(text, expected):
    assert paths(BEREDSKAP, text) == expected


def test_negation_never_prevents_coding():
    cb = book(code("beredskap", terms=terms("beredskap")))
    assert paths(cb, "Vi har ingen beredskap alls, inte någon.") == ["beredskap"]


# -- codings: offsets, score, fields ------------------------------------------------------
def test_evidence_offsets_are_document_offsets():
    before = "Intervjuare: Hur ser det ut?\nIP: "
    body = "Samverkans-\nplanen togs inte på allvar av polis- och socialtjänst."
    document = before + body
    segment = seg(body, start=len(before), index=3)
    cb = book(code("samverkan", terms=terms("plan", "polis"), phrases=phrases("ta på allvar")))
    (coding,) = Tagger(cb).tag_segment(segment)
    assert (coding.document_id, coding.segment_index, coding.source) == ("d1", 3, "rule")
    assert (coding.start, coding.end) == (segment.start, segment.end)
    for e in coding.evidence:
        assert document[e.start : e.end] == e.matched
    assert [(e.matched, e.pattern, e.kind) for e in coding.evidence] == [
        ("Samverkans-\nplanen", "plan", "term"),
        ("togs inte på allvar", "ta på allvar", "phrase"),
        ("polis", "polis", "term"),
    ]


def test_score_is_in_unit_interval_and_rises_with_evidence():
    cb = book(code("beredskap", terms=terms("beredskap", "rutin", "handlingsplan")))
    tagger = Tagger(cb)
    one = tagger.tag_segment(seg("Beredskap."))[0].score
    three = tagger.tag_segment(seg("Beredskap, rutiner och en handlingsplan."))[0].score
    assert 0 < one < three <= 1
    assert one == 0.5  # one term by its lemma: 1 - 0.5 ** 1


def test_interviewer_segments_skipped_unless_asked():
    cb = book(code("beredskap", terms=terms("beredskap")))
    question = seg("Har ni någon beredskap?", interviewer=True)
    assert Tagger(cb).tag_segment(question) == []
    assert [c.code_path for c in Tagger(cb, code_interviewer=True).tag_segment(question)] == [
        "beredskap"
    ]


def test_tag_segments_streams_in_order_and_agrees_with_tag_segment():
    tagger = Tagger(BEREDSKAP)
    texts = [
        "Vi har ingen beredskap.",
        "Har ni rutiner?",
        "Rutinerna är bra.",
        "Nej.",
        "Handlingsplanen är ny.",
    ] * 3
    segments = [seg(t, index=i, interviewer=(i % 5 == 1)) for i, t in enumerate(texts)]
    out = list(tagger.tag_segments(iter(segments), batch_size=4))
    assert [s for s, _ in out] == segments
    assert [found for _, found in out] == [tagger.tag_segment(s) for s in segments]
    assert [c.code_path for c in out[1][1]] == []  # interviewer
    assert [c.code_path for c in out[2][1]] == ["beredskap"]


# -- explain ------------------------------------------------------------------------------
def test_explain_lists_vetoed_and_below_min_codes():
    cb = book(
        code("samverkan", terms=terms("samverka"), not_terms=terms("fotboll")),
        code("kunskap", terms=terms("kunskap"), min_matches=2),
        code("beredskap", terms=terms("beredskap")),
    )
    explanation = Tagger(cb).explain(seg("Vi samverkar i fotbollen och har kunskap och beredskap."))
    status = {c.code_path: c.status for c in explanation.codes}
    assert status == {"samverkan": "vetoed", "kunskap": "below_min", "beredskap": "coded"}
    assert [c.code_path for c in explanation.codings] == ["beredskap"]


def test_format_explanation_text():
    explanation = Tagger(BEREDSKAP).explain(seg("Vi har ingen beredskap och inga rutiner."))
    assert format_explanation(explanation) == "\n".join(
        [
            "Vi har «ingen beredskap»[beredskap, beredskap/saknas] och inga «rutiner»[beredskap].",
            "beredskap  not stored (the rules chose its subcode beredskap/saknas)  score 0.750, "
            "2 distinct, min 1",
            "  term beredskap: beredskap",
            "  term rutin: rutiner",
            "beredskap/saknas  stored (rule score 0.646)  1 distinct, min 1",
            "  phrase ingen beredskap: ingen beredskap",
        ]
    )


def test_format_explanation_marks_vetoes_and_skipped_interviewer():
    cb = book(code("samverkan", terms=terms("samverka"), not_terms=terms("fotboll")))
    text = format_explanation(Tagger(cb).explain(seg("Samverkar ni i fotboll?", interviewer=True)))
    assert text.splitlines() == [
        "«Samverkar»[samverkan] ni i «fotboll»[not samverkan]?",
        "(interviewer segment (not coded))",
        "samverkan  not matched (vetoed)  score 0.500, 1 distinct, min 1",
        "  term samverka: Samverkar",
        "  vetoed by term fotboll: fotboll (samverkan)",
    ]
    text = format_explanation(Tagger(cb).explain(seg("Samverkar ni?", interviewer=True)))
    assert text.splitlines()[1:3] == [
        "(interviewer segment (not coded))",
        "samverkan  not coded (interviewer segment (not coded))  score 0.500, 1 distinct, min 1",
    ]


@pytest.mark.parametrize(
    "pattern",
    [
        r"\b(?:polis\w*|kripo)\b[^.!?\n]{0,50}\b(?:samarbet\w*|samverk\w*)",
        r"ab|abc",
        r"(?:a|ab)c",
        r"aa",
        r"\bsam\w*",
        r"ÅR\b",
        r"\bt\.ex\.",
    ],
)
def test_regex_shortcut_finds_what_finditer_finds(pattern):
    import re

    from qcode.regexes import ODD_CASE, finditer_from, leading_literals

    regex = re.compile(pattern, re.IGNORECASE)
    for text in [
        "aaaa abc ab abcc",
        "ÅR år År åren",
        "Polisen och kripo samverkar, POLIS samarbete.",
        "ſamverkan samverkan",
        "t.ex. T.EX. tex",
        "İstanbul: polisen samverkar",
    ]:
        lowered = text.lower()
        if len(lowered) != len(text) or ODD_CASE.search(text):
            lowered = None
        expected = [(m.start(), m.end()) for m in regex.finditer(text) if m.end() > m.start()]
        got = [
            (m.start(), m.end())
            for m in finditer_from(regex, text, lowered, leading_literals(pattern))
        ]
        assert got == expected, text


def test_emptied_caches_and_a_renewed_tokenizer_give_the_same_codings(monkeypatch):
    """A long run empties the per-word caches and starts a fresh spaCy vocabulary to keep its
    memory flat; that must never change a coding."""
    from pathlib import Path

    import qcode.tag as tag
    from qcode.codebook import load_codebook
    from qcode.ingest import read_path
    from qcode.segment import segment_document

    codebook = load_codebook(Path(__file__).resolve().parents[1] / "codebooks" / "kronoberg.yaml")
    folder = Path(__file__).resolve().parents[1] / "transcripts"
    segments = [
        s
        for f in sorted(folder.glob("*.md"))[:4]
        for d in read_path(f)
        for s in segment_document(d, "turn")
    ]

    def codings() -> list[tuple]:
        tagger = Tagger(codebook)
        return [
            (c.document_id, c.segment_index, c.code_path, c.score, c.evidence)
            for _s, found in tagger.tag_segments(segments, batch_size=8)
            for c in found
        ]

    expected = codings()
    assert len(expected) > 20
    vocabularies = []
    monkeypatch.setattr(tag, "WORD_CACHE_SIZE", 40)
    monkeypatch.setattr(tag, "VOCAB_LIMIT", 500)
    original = tag.fresh_nlp
    monkeypatch.setattr(tag, "fresh_nlp", lambda: vocabularies.append(1) or original())
    assert codings() == expected
    assert len(vocabularies) >= 2  # the tokenizer really was renewed along the way
