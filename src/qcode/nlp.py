"""The one place that builds the spaCy pipeline and looks up Swedish lemmas.

Everything here works offline: ``spacy.blank("sv")`` needs no model download, and the lemma
data comes from simplemma, which bundles its dictionaries. Why simplemma (greedy mode) and not
spaCy's lookup table or a stemmer is measured in ``benchmarks/compare_lemmatizers.py`` and
written up in ``docs/lemmas.md``.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Iterator, NamedTuple

import simplemma
from spacy.language import Language
from spacy.tokens import Doc

LANG = "sv"

#: characters that end the first half of a hyphenated or coordinated word ("polis-", "samverkans-").
HYPHENS = "-\u2010\u2011\u00ad"


@lru_cache(maxsize=2)
def get_nlp(sentences: bool = False) -> Language:
    """The blank Swedish pipeline (tokenizer only), plus a ``sentencizer`` when ``sentences``.

    Cached, so every caller shares one tokenizer and its vocabulary cache. Never downloads.

    >>> [t.text for t in get_nlp()("t.ex. polis- och socialtjänst")]
    ['t.ex.', 'polis-', 'och', 'socialtjänst']
    """
    import spacy

    nlp = spacy.blank(LANG)
    if sentences:
        nlp.add_pipe("sentencizer")
    return nlp


@lru_cache(maxsize=200_000)
def lemma_candidates(word: str) -> frozenset[str]:
    """The lower-cased word itself plus its possible lemmas, cached per lower-cased word.

    simplemma is asked twice: plain (dictionary lookup and light rules) and greedy (which also
    lemmatises the head of a compound it does not know: "samverkansplanen" -> "samverkansplan").
    Two small additions, measured in docs/lemmas.md: a word in -s also gets the lemma of the
    word without it when that is an inflected form (passive "togs" -> "ta"), and nouns in -an
    whose plural is built on -ning ("anmälan", "anmälningar") get their -an lemma too, since
    simplemma returns "anmälning" for those.

    >>> sorted(lemma_candidates("Handlingsplanerna"))
    ['handlingsplan', 'handlingsplanerna']
    """
    lower = word.lower()
    if lower != word:
        return lemma_candidates(lower)
    found = {word}
    if not word.isalpha():
        # numbers, punctuation, "2010-talet": only the inflection of the last part matters
        return frozenset(found)
    for greedy in (False, True):
        lemma = simplemma.lemmatize(word, lang=LANG, greedy=greedy).lower()
        found.add(lemma)
    if word.endswith("s") and len(word) >= 4:
        # s-passive and genitive of forms simplemma only knows without the -s:
        # "togs" -> "tog" -> "ta" (simplemma alone says "toga"), "sågs" -> "såg" -> "se"
        bare = word[:-1]
        lemma = simplemma.lemmatize(bare, lang=LANG).lower()
        if lemma != bare:
            found.add(lemma)
    for lemma in list(found):
        if lemma.endswith("ning") and len(lemma) > 7:
            # anmälning -> anmälan, ansökning -> ansökan; only when simplemma knows the -an
            # word, so "utbildning" does not grow a non-word "utbildan"
            an_form = lemma[:-4] + "an"
            if simplemma.is_known(an_form, lang=LANG):
                found.add(an_form)
    return frozenset(found)


class Word(NamedTuple):
    """A word as the matcher sees it: ``text`` lower-cased, ``start``/``end`` local offsets.

    ``text`` may differ from the characters it covers: a word hyphenated over a line break is
    joined ("samverkans-\\nplanen" -> "samverkansplanen"), and the first half of a coordinated
    compound loses its hyphen ("polis- och socialtjänst" -> "polis").
    """

    text: str
    start: int
    end: int


def iter_words(doc: Doc) -> Iterator[Word]:
    """The word tokens of ``doc`` (white space dropped), with hyphenation resolved.

    Punctuation is kept as its own word so phrase matching can see sentence ends.
    """
    tokens = [t for t in doc if not t.is_space]
    text = doc.text
    i = 0
    n = len(tokens)
    while i < n:
        tok = tokens[i]
        lower = tok.lower_
        start = tok.idx
        end = start + len(tok)
        if len(lower) > 1 and lower[-1] in HYPHENS and lower[:-1].isalpha():
            nxt = tokens[i + 1] if i + 1 < n else None
            between = text[end:nxt.idx] if nxt is not None else ""
            if nxt is not None and "\n" in between and not between.strip() and nxt.text[:1].islower():
                yield Word(lower[:-1] + nxt.lower_, start, nxt.idx + len(nxt))
                i += 2
                continue
            yield Word(lower[:-1], start, end - 1)
            i += 1
            continue
        yield Word(lower, start, end)
        i += 1
