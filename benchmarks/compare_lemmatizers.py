"""Compare lemma resources for Swedish on hand-made inflected forms from the study's domain.

Run: ``.venv/bin/python benchmarks/compare_lemmatizers.py [--failures]``

Candidates: spaCy's lookup table (``sv_lemma_lookup`` from spacy-lookups-data), simplemma
(plain and greedy), their union, qcode's own ``lemma_candidates`` and the Snowball Swedish
stemmer. A lemmatizer counts as right when the expected lemma (or one of the accepted
alternatives after ``|``) is among its outputs; the stemmer counts as right when the word and
its lemma get the same stem ("same group as lemma"). The list was written for this benchmark:
nouns in definite/plural forms, compounds with and without a linking -s-, verbs in present,
past, supine and passive, adjectives with comparison, participles and a few spoken forms.
The results are recorded in docs/lemmas.md.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterable

# form  expected-lemma[|accepted alternative...]
GOLD_TEXT = """
beredskapen beredskap
handlingsplan handlingsplan
handlingsplanen handlingsplan
handlingsplaner handlingsplan
handlingsplanerna handlingsplan
samverkan samverkan
rutinen rutin
rutiner rutin
rutinerna rutin
utbildningen utbildning
utbildningar utbildning
utbildningarna utbildning
kunskapen kunskap
kunskaper kunskap
kunskaperna kunskap
polisen polis
poliser polis
poliserna polis
åklagaren åklagare
åklagarna åklagare
kommunen kommun
kommuner kommun
kommunerna kommun
socialtjänsten socialtjänst
socialsekreteraren socialsekreterare
socialsekreterarna socialsekreterare
anmälan anmälan
anmälningar anmälan
anmälningarna anmälan
misstanken misstanke
misstankar misstanke
misstankarna misstanke
offret offer
offren offer
kvinnan kvinna
kvinnor kvinna
kvinnorna kvinna
flickorna flicka
barnen barn
ärendet ärende
ärenden ärende
ärendena ärende
människohandeln människohandel
tystnadsplikten tystnadsplikt
sekretessen sekretess
förtroendet förtroende
rollen roll
roller roll
rollerna roll
erfarenheten erfarenhet
erfarenheter erfarenhet
erfarenheterna erfarenhet
uppfattningen uppfattning
myndigheten myndighet
myndigheter myndighet
myndigheterna myndighet
länsstyrelsen länsstyrelse
nätverket nätverk
nätverken nätverk
kontakten kontakt
kontakterna kontakt
samarbetet samarbete
samarbeten samarbete
hotellen hotell
restaurangerna restaurang
chauffören chaufför
boendet boende
våldet våld
tecknen tecken
signaler signal
frågan fråga
frågorna fråga
problemet problem
kollegorna kollega
chefen chef
resurserna resurs
vårdcentralen vårdcentral
bevisen bevis
verksamheten verksamhet
städer stad
länderna land
språket språk
personerna person
männen man
män man
händelser händelse
fallen fall
samverkansplanen samverkansplan
samverkansplaner samverkansplan
människohandelsärenden människohandelsärende
människohandelsärendet människohandelsärende
tystnadspliktsbrottet tystnadspliktsbrott
kunskapsnivån kunskapsnivå
utbildningsinsatserna utbildningsinsats
polisanmälan polisanmälan
polisanmälningar polisanmälan
taxichaufförerna taxichaufför
ungdomsmottagningarna ungdomsmottagning
kvinnojourerna kvinnojour
storstäderna storstad
flyktingboendena flyktingboende
arbetsplatsen arbetsplats
hotellägaren hotellägare
samverkar samverka
samverkade samverka
samverkat samverka
samverkas samverka
anmäler anmäla
anmälde anmäla
anmält anmäla
anmäldes anmäla
anmäls anmäla
misstänker misstänka
misstänkte misstänka
finns finnas
fanns finnas
funnits finnas
tog ta
tagit ta
tas ta
togs ta
stötte stöta
stött stöta
känner känna
kände känna
visste veta
gjorde göra
gjort göra
görs göra
gick gå
gått gå
kom komma
kommit komma
såg se
sett se
sade säga
sagt säga
fick få
fått få
hjälpte hjälpa
kontaktade kontakta
kontaktas kontakta
utbildas utbilda
rapporterar rapportera
rapporterade rapportera
rapporterats rapportera
upptäckte upptäcka
uppmärksammat uppmärksamma
pratade prata
diskuterat diskutera
blev bli
blivit bli
hade ha
haft ha
varit vara
kunde kunna
skulle skola
ville vilja
behövde behöva
saknas sakna
saknade sakna
trodde tro
tyckte tycka
förstod förstå
ringde ringa
skyddas skydda
dubbla dubbel
dubbelt dubbel
svåra svår
svårare svår
svårast svår
vanliga vanlig
vanligare vanlig
större stor
störst stor
små liten
mindre liten
bättre bra
bäst bra
yngre ung
rädda rädd
allvarligt allvarlig
osäkra osäker
gamla gammal
äldre gammal
goda god
säkert säker
egna egen
utsatta utsatt|utsätta
misstänkta misstänkt|misstänka
utbildad utbildad|utbilda
anmälda anmäld|anmäla
drabbade drabbad|drabba
utnyttjade utnyttjad|utnyttja
utnyttjats utnyttja
kontrollerad kontrollerad|kontrollera
övervakade övervakad|övervaka
inblandade inblandad|inblanda
berörda berörd|beröra
tvingade tvingad|tvinga
tvingats tvinga
nån någon
nåt någon|något
sånt sådan
dom de|dem
"""


def load_gold(text: str = GOLD_TEXT) -> list[tuple[str, frozenset[str]]]:
    """Parse the inline list into (form, accepted lemmas)."""
    pairs = []
    for line in text.strip().splitlines():
        form, lemmas = line.split()
        pairs.append((form, frozenset(lemmas.split("|"))))
    return pairs


def lemmatizers() -> dict[str, Callable[[str], Iterable[str]]]:
    """Each candidate as a function word -> iterable of lemma guesses."""
    import simplemma
    from spacy.lookups import load_lookups

    table = load_lookups("sv", ["lemma_lookup"]).get_table("lemma_lookup")

    def spacy_lookup(w: str) -> tuple[str, ...]:
        return (table.get(w, w),)

    def simplemma_plain(w: str) -> tuple[str, ...]:
        return (simplemma.lemmatize(w, lang="sv"),)

    def simplemma_greedy(w: str) -> tuple[str, ...]:
        return (simplemma.lemmatize(w, lang="sv", greedy=True),)

    def union(w: str) -> tuple[str, ...]:
        return spacy_lookup(w) + simplemma_plain(w) + simplemma_greedy(w)

    from qcode.nlp import lemma_candidates

    def qcode_candidates(w: str) -> frozenset[str]:
        lemma_candidates.cache_clear()  # measure the work, not the cache
        return lemma_candidates(w)

    return {
        "spacy sv_lemma_lookup": spacy_lookup,
        "simplemma": simplemma_plain,
        "simplemma greedy": simplemma_greedy,
        "union spacy+simplemma": union,
        "qcode.nlp.lemma_candidates": qcode_candidates,
    }


def words_per_second(fn: Callable[[str], object], words: list[str], repeat: int = 20) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        for w in words:
            fn(w)
    return repeat * len(words) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--failures", action="store_true", help="list every failure")
    args = parser.parse_args()
    gold = load_gold()
    words = [w for w, _ in gold]
    print(f"{len(gold)} forms\n")
    print(f"{'candidate':30} {'accuracy':>9} {'extra':>6} {'words/s':>10}")
    failures: dict[str, list[str]] = {}
    for name, fn in lemmatizers().items():
        right, extra, fails = 0, 0, []
        for word, expected in gold:
            guesses = set(fn(word))
            if guesses & expected:
                right += 1
            else:
                fails.append(
                    f"{word} -> {'/'.join(sorted(guesses))} (want {'|'.join(sorted(expected))})"
                )
            # guesses that are neither the word nor an accepted lemma: possible false hits
            extra += len(guesses - expected - {word})
        speed = words_per_second(fn, words)
        print(f"{name:30} {right / len(gold):9.1%} {extra:6d} {speed:10,.0f}")
        failures[name] = fails

    import snowballstemmer

    stemmer = snowballstemmer.stemmer("swedish")
    same, fails = 0, []
    for word, expected in gold:
        stem = stemmer.stemWord(word)
        if any(stemmer.stemWord(lemma) == stem for lemma in expected):
            same += 1
        else:
            lemma_stems = "/".join(stemmer.stemWord(lemma) for lemma in sorted(expected))
            fails.append(f"{word} -> {stem} (lemma stem {lemma_stems})")
    speed = words_per_second(stemmer.stemWord, words)
    print(f"{'snowball swedish (same group)':30} {same / len(gold):9.1%} {'':6} {speed:10,.0f}")
    failures["snowball swedish"] = fails
    print("\n'extra' = outputs that are neither the word itself nor an accepted lemma.")

    for name, fails in failures.items():
        print(f"\n## {name}: {len(fails)} failures")
        shown = fails if args.failures else fails[:12]
        for line in shown:
            print("  " + line)
        if len(shown) < len(fails):
            print(f"  ... ({len(fails) - len(shown)} more; --failures lists all)")


if __name__ == "__main__":
    main()
