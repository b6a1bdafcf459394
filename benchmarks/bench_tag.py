"""Tagging speed against spaCy's own Swedish pipeline on the same text.

Run: ``.venv/bin/python benchmarks/bench_tag.py [--words 300000] [--codebook codebooks/kronoberg.yaml]``
(or ``make bench``). The two are timed alternately and the best round of each is kept, since
other work on the machine makes single runs noisy.

Reference: ``spacy.blank("sv")`` + ``sentencizer`` + lookup ``lemmatizer`` over ``nlp.pipe``
(needs the dev extra spacy-lookups-data). The requirement is that qcode's tagger, with a
Kronoberg-sized codebook, runs at >= 0.6 x the reference's words/s. Text comes from
``swedish_text.make_segments`` (sentences written for this benchmark plus generated compounds).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from swedish_text import make_segments  # noqa: E402

from qcode.codebook import Code, Codebook, Patterns, Term  # noqa: E402
from qcode.models import Segment  # noqa: E402


def _terms(*words: str) -> tuple[Term, ...]:
    return tuple(Term(w.rstrip("*"), prefix=w.endswith("*")) for w in words)


def _phrases(*phrases: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(p.split()) for p in phrases)


def kronoberg_like_codebook() -> Codebook:
    """Six themes with subcodes, about 120 terms, 25 phrases and a few regexes."""
    def code(path, terms=(), phrases=(), regex=(), not_=(), children=(), min_matches=1):
        return Code(path.rsplit("/", 1)[-1], path, path,
                    patterns=Patterns(terms=_terms(*terms), phrases=_phrases(*phrases),
                                      regex=tuple(regex), not_terms=_terms(*not_),
                                      min_matches=min_matches),
                    children=tuple(children))
    return Codebook("bench", "1", "sv", (
        code("erfarenhet", ["erfarenhet", "misstanke", "misstänka", "fall", "offer", "storstad",
                            "uppfattning", "problem", "händelse", "utnyttja", "prostitution"],
             ["stöta på", "aldrig sett", "hända här", "inte här"],
             children=[code("erfarenhet/mott_offer", ["offret", "kvinna", "flicka", "övervaka*"],
                            ["träffat någon", "verkade rädd"])]),
        code("beredskap", ["beredskap", "handlingsplan", "rutin", "plan", "resurs", "kapacitet",
                           "åtgärd", "skyddat", "boende", "ansvar"],
             ["veta vad man ska göra", "vem man ska ringa"],
             children=[code("beredskap/saknas", [], ["ingen beredskap", "saknar plan",
                                                     "inte gjort någon plan", "ingen handlingsplan"],
                            regex=[r"\bsaknas\b"])]),
        code("samverkan", ["samverkan", "samverka", "samarbete", "samarbeta", "nätverk",
                           "samverkansgrupp", "kontaktperson", "kontakt*", "myndighet",
                           "socialtjänst", "migrationsverket", "frivilligorganisation"],
             ["gå vidare", "höra av sig", "vända sig till"], not_=["fotboll"],
             children=[code("samverkan/polis", ["polis", "polisen", "åklagare"]),
                       code("samverkan/onskan", ["önska", "önskemål"], ["vilja samverka"])]),
        code("kunskap", ["kunskap", "utbild*", "kompetens*", "tecken", "signal", "kurs",
                         "information", "föreläsning", "lära"],
             ["titta efter", "känna igen", "mer kunskap"],
             children=[code("kunskap/behov", ["behov", "behöva"], ["skulle behöva"])]),
        code("dubbla_roller", ["tystnadsplikt", "sekretess", "förtroende", "anklaga",
                               "lojalitet", "integritet"],
             ["dubbla roller", "dubbel roll", "i onödan"], min_matches=1),
        code("rapportering", ["anmälan", "anmäla", "rapportera", "bevisning", "bevis",
                              "åtal", "polisanmälan", "tips*"],
             ["ta på allvar", "gå vidare med"], regex=[r"\b\d+\s+ärenden\b"]),
    ))


def reference_words_per_second(texts: list[str], n_words: int) -> float:
    import spacy

    nlp = spacy.blank("sv")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    start = time.perf_counter()
    for doc in nlp.pipe(texts, batch_size=256):
        pass
    return n_words / (time.perf_counter() - start)


def load_codebook(name: str) -> Codebook:
    """``builtin`` (the codebook above) or a YAML path such as codebooks/kronoberg.yaml."""
    if name == "builtin":
        return kronoberg_like_codebook()
    from qcode.codebook import load_codebook as load

    return load(name)


def tagger_words_per_second(texts: list[str], n_words: int, codebook: Codebook
                            ) -> tuple[float, int]:
    """Words/s of ``Tagger.tag_segments`` with cold caches: a fresh tokenizer (no vocabulary
    warmed by the reference) and empty lemma and word caches. Building the Tagger (which loads
    simplemma's dictionary, about a second) is not timed, as the reference's ``initialize``
    is not."""
    from qcode import nlp as qnlp
    from qcode.tag import Tagger

    qnlp.get_nlp.cache_clear()
    qnlp.lemma_candidates.cache_clear()
    tagger = Tagger(codebook)
    start = time.perf_counter()
    segments = []
    pos = 0
    for i, text in enumerate(texts):
        segments.append(Segment("bench", i, pos, pos + len(text), "IP", False, text))
        pos += len(text) + 1
    codings = sum(len(found) for _seg, found in tagger.tag_segments(segments))
    return n_words / (time.perf_counter() - start), codings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--codebook", default="builtin",
                        help="builtin, or a codebook YAML (e.g. codebooks/kronoberg.yaml)")
    args = parser.parse_args()
    codebook = load_codebook(args.codebook)
    texts = make_segments(args.words)
    n_words = sum(len(t.split()) for t in texts)
    patterns = sum(c.patterns.count for c in codebook.walk())
    print(f"{n_words:,} words in {len(texts):,} segments; codebook {args.codebook}: "
          f"{len(codebook.paths)} codes, {patterns} patterns")
    best_ref = best_tag = 0.0
    for _ in range(args.rounds):
        best_ref = max(best_ref, reference_words_per_second(texts, n_words))
        speed, codings = tagger_words_per_second(texts, n_words, codebook)
        best_tag = max(best_tag, speed)
    print(f"reference spaCy sv tokenizer+sentencizer+lookup lemmatizer: {best_ref:10,.0f} words/s")
    print(f"qcode Tagger.tag_segments (cold caches, {codings:,} codings): {best_tag:10,.0f} words/s")
    print(f"ratio: {best_tag / best_ref:.2f} (required >= 0.60)")


if __name__ == "__main__":
    main()
