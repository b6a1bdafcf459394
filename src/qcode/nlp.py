"""The one place that builds the spaCy pipeline and looks up Swedish lemmas.

Everything here works offline: ``spacy.blank("sv")`` needs no model download, and the lemma
data comes from simplemma, which bundles its dictionaries. Why simplemma (greedy mode) and not
spaCy's lookup table or a stemmer is measured in ``benchmarks/compare_lemmatizers.py`` and
written up in ``docs/lemmas.md``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

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


def fresh_nlp(sentences: bool = False) -> Language:
    """A new blank pipeline in place of the shared one, whose vocabulary has grown with every
    word type it has seen (spaCy never forgets a string); callers holding the old one keep it
    until they let go."""
    get_nlp.cache_clear()
    return get_nlp(sentences)


# -- simplemma, with its Swedish dictionary kept as a table in the user's cache folder ------
def cache_dir() -> Path:
    """Where the dictionary table is kept: ``$QCODE_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/qcode``, else ``~/.cache/qcode``. Public dictionary data only, never
    project material."""
    if os.environ.get("QCODE_CACHE_DIR"):
        return Path(os.environ["QCODE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "qcode"


TABLE_PREFIX = "simplemma-"
TABLE_SUFFIX = ".table"


def table_path(lang: str) -> Path:
    """Where the table for this simplemma's ``lang`` dictionary lives in the cache folder.

    The name carries simplemma's version and a hash of the dictionary file's bytes, never its
    path or modification time: two installs of the same simplemma (two projects' virtual
    environments, a clone beside an install) share one table instead of each rebuilding it,
    and an upgrade that changes the data gets a file of its own.
    """
    import hashlib

    from simplemma.strategies.dictionaries import dictionary_factory as factory

    digest = hashlib.sha256((factory.DATA_FOLDER / f"{lang}.plzma").read_bytes()).hexdigest()
    version = getattr(simplemma, "__version__", "0")
    return cache_dir() / f"{TABLE_PREFIX}{version}-{lang}-{digest[:16]}{TABLE_SUFFIX}"


def _cached_dictionary(lang: str) -> Any:
    """simplemma's dictionary for ``lang`` as a :class:`~qcode.lemma_table.LemmaTable` in the
    cache folder, written on first use; simplemma's own decoded dict when it cannot be.

    Decoding simplemma's data file takes ~0.75 s and ~180 MB per process; the table opens in
    milliseconds and is shared between processes and installs (see :func:`table_path` and
    :mod:`qcode.lemma_table`). Other copies in the folder are left alone: another install may
    use them. ``qcode cache clean`` removes them.
    """
    from simplemma.strategies.dictionaries import dictionary_factory as factory

    from .lemma_table import LemmaTable, LemmaTableError

    path = table_path(lang)
    try:
        return LemmaTable(path)
    except (OSError, LemmaTableError):
        pass
    decoded = factory._load_dictionary_from_disk(lang)
    if _write_table(path, decoded):
        try:
            return LemmaTable(path)
        except (OSError, LemmaTableError):
            pass
    return factory.MappingStrToByteString(decoded)


def _write_table(path: Path, decoded: dict[bytes, bytes]) -> bool:
    """Write the table for ``decoded`` to ``path`` (atomically); False when it cannot be
    written (read-only home, full disk: simplemma's dict still works)."""
    from .lemma_table import LemmaTableError, build_table
    from .writers import atomic_path  # a temporary file renamed into place, removed on failure

    try:
        with atomic_path(path) as tmp:  # fails first when the folder is not writable
            tmp.write_bytes(build_table(decoded))
    except (OSError, LemmaTableError):
        return False
    return True


def cached_tables() -> list[Path]:
    """Every lemma table in the cache folder, this install's and other installs' alike."""
    folder = cache_dir()
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(f"{TABLE_PREFIX}*") if p.suffix in (TABLE_SUFFIX, ".bin"))


def clean_cache() -> list[Path]:
    """Remove the lemma tables this install does not use (older simplemma versions, other
    data) and return them. Another install that still needs one writes it again on its next
    run, which costs it a couple of seconds once."""
    keep = table_path(LANG)
    removed = []
    for path in cached_tables():
        if path != keep:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


@lru_cache(maxsize=1)
def _simplemma() -> tuple[Callable[[str], str], Callable[[str], str], Callable[[str], bool]]:
    """(plain lemmatize, greedy lemmatize, is_known) for Swedish, sharing one dictionary:
    what ``simplemma.lemmatize(..., greedy=...)`` and ``simplemma.is_known`` do, with the
    dictionary loaded by :func:`_cached_dictionary`. Falls back to those functions when this
    simplemma's internals are not the ones this was written for (2.x)."""
    try:
        from simplemma.strategies import DefaultStrategy
        from simplemma.strategies.dictionaries.dictionary_factory import CachingDictionaryFactory
        from simplemma.strategies.dictionary_lookup import DictionaryLookupStrategy
        from simplemma.utils import normalize_token

        class CachedFactory(CachingDictionaryFactory):
            __slots__ = ()

            def _get_dictionary_uncached(self, lang: str) -> Any:
                try:
                    return _cached_dictionary(lang)
                except (AttributeError, ImportError, OSError, ValueError):
                    from simplemma.strategies.dictionaries import dictionary_factory

                    return dictionary_factory.DEFAULT_DICTIONARY_FACTORY.get_dictionary(lang)

        shared = CachedFactory()
        plain = simplemma.Lemmatizer(
            lemmatization_strategy=DefaultStrategy(greedy=False, dictionary_factory=shared)
        )
        greedy = simplemma.Lemmatizer(
            lemmatization_strategy=DefaultStrategy(greedy=True, dictionary_factory=shared)
        )
        lookup = DictionaryLookupStrategy(shared)
    except (ImportError, AttributeError, TypeError):
        return (
            lambda w: simplemma.lemmatize(w, lang=LANG),
            lambda w: simplemma.lemmatize(w, lang=LANG, greedy=True),
            lambda w: simplemma.is_known(w, lang=LANG),
        )
    return (
        lambda w: plain.lemmatize(w, LANG),
        lambda w: greedy.lemmatize(w, LANG),
        lambda w: lookup.get_lemma(normalize_token(w), LANG) is not None,
    )


@lru_cache(maxsize=50_000)
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
    plain, greedy, is_known = _simplemma()
    found.add(plain(word).lower())
    found.add(greedy(word).lower())
    if word.endswith("s") and len(word) >= 4:
        # s-passive and genitive of forms simplemma only knows without the -s:
        # "togs" -> "tog" -> "ta" (simplemma alone says "toga"), "sågs" -> "såg" -> "se"
        bare = word[:-1]
        lemma = plain(bare).lower()
        if lemma != bare:
            found.add(lemma)
    for lemma in list(found):
        if lemma.endswith("ning") and len(lemma) > 7:
            # anmälning -> anmälan, ansökning -> ansökan; only when simplemma knows the -an
            # word, so "utbildning" does not grow a non-word "utbildan"
            an_form = lemma[:-4] + "an"
            if is_known(an_form):
                found.add(an_form)
    return frozenset(found)


#: a word as the matcher sees it: (lower-cased text, start, end), local offsets into the doc.
#: The text may differ from the characters it covers: a word hyphenated over a line break is
#: joined ("samverkans-\\nplanen" -> "samverkansplanen") and the first half of a coordinated
#: compound loses its hyphen ("polis- och socialtjänst" -> "polis", covering "polis").
Word = tuple[str, int, int]

_ATTRS: list[int | str] = [LOWER, IDX, LENGTH, IS_SPACE]


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
    rows = [
        (strings[h], idx, idx + length)
        for h, idx, length, space in doc.to_array(_ATTRS).tolist()
        if not space
    ]
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
