"""The one place that builds the spaCy pipeline and looks up Swedish lemmas.

Everything here works offline: ``spacy.blank("sv")`` needs no model download, and the lemma
data comes from simplemma, which bundles its dictionaries. Why simplemma (greedy mode) and not
spaCy's lookup table or a stemmer is measured in ``benchmarks/compare_lemmatizers.py`` and
written up in ``docs/lemmas.md``.
"""
from __future__ import annotations

from functools import lru_cache

import simplemma
from spacy.attrs import IDX, IS_SPACE, LENGTH, LOWER
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


#: a word as the matcher sees it: (lower-cased text, start, end), local offsets into the doc.
#: The text may differ from the characters it covers: a word hyphenated over a line break is
#: joined ("samverkans-\\nplanen" -> "samverkansplanen") and the first half of a coordinated
#: compound loses its hyphen ("polis- och socialtjänst" -> "polis", covering "polis").
Word = tuple[str, int, int]

_ATTRS = (LOWER, IDX, LENGTH, IS_SPACE)


def doc_words(doc: Doc, text: str | None = None) -> list[Word]:
    r"""The word tokens of ``doc`` as ``(lower, start, end)``, white space dropped, hyphenation
    resolved. Punctuation stays a word of its own so phrase matching can see sentence ends.

    ``text`` is ``doc.text`` when the caller has it (rebuilding it from the tokens is slow).
    Reading token attributes as one array rather than through Token objects keeps this at a
    fraction of the tokenizer's own cost.

    >>> doc_words(get_nlp()("Polis- och social-\ntjänst"))
    [('polis', 0, 5), ('och', 7, 10), ('socialtjänst', 11, 25)]
    """
    strings = doc.vocab.strings
    rows = [(strings[h], idx, idx + length)
            for h, idx, length, space in doc.to_array(_ATTRS).tolist() if not space]
    if not any(w[-1] in HYPHENS for w, _s, _e in rows if len(w) > 1):
        return rows
    if text is None:
        text = doc.text
    words: list[Word] = []
    i, n = 0, len(rows)
    while i < n:
        lower, start, end = rows[i]
        if len(lower) > 1 and lower[-1] in HYPHENS and lower[:-1].isalpha():
            if i + 1 < n:
                nxt, nxt_start, nxt_end = rows[i + 1]
                between = text[end:nxt_start]
                original = text[nxt_start:nxt_end]
                if "\n" in between and not between.strip() and original[:1].islower():
                    words.append((lower[:-1] + nxt, start, nxt_end))
                    i += 2
                    continue
            words.append((lower[:-1], start, end - 1))
        else:
            words.append(rows[i])
        i += 1
    return words
