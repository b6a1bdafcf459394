"""Generate varied Swedish interview-like text for speed measurements.

The sentences were written for qcode's benchmarks (no external corpus). Sampling them with
made-up compounds, numbers and the occasional line-break hyphenation gives a vocabulary that
keeps growing, so the tokenizer's cache does not make the text unrealistically cheap.
"""
from __future__ import annotations

import random

SENTENCES = [
    "Vi har ingen handlingsplan för det här, men vi har pratat om det på arbetsplatsträffarna.",
    "Jag tror inte att det händer här hos oss, det är mer i storstäderna.",
    "Polisen hörde av sig förra året om en misstänkt lägenhet i centrum.",
    "Det är svårt att veta vem man ska ringa när man blir orolig för någon.",
    "Vi samverkar med socialtjänsten och ibland med Migrationsverket.",
    "Personalen har inte fått någon utbildning om människohandel.",
    "Hon var mycket yngre än mannen och pratade ingen svenska alls.",
    "Man har ju tystnadsplikt, så det är inte självklart att man anmäler.",
    "Om vi misstänkte något skulle vi nog kontakta polisen direkt.",
    "Det finns en rutin för våld i nära relationer men inte för det här.",
    "Jag har jobbat som taxichaufför i tolv år och aldrig stött på något sådant.",
    "Ibland kör vi kvinnor till adresser där det känns konstigt.",
    "Vi skulle behöva mer kunskap om vilka tecken man ska titta efter.",
    "Kommunen har en samverkansgrupp men den har inte tagit upp frågan.",
    "Det var en flicka på ungdomsmottagningen som berättade om sin situation.",
    "Sjuksköterskan blev osäker och pratade med sin chef om det.",
    "Anmälningarna tas inte alltid på allvar, det är min erfarenhet.",
    "Hotellpersonalen reagerade på att samma män kom tillbaka varje helg.",
    "Vi har diskuterat det internt men inte gjort någon plan.",
    "Det är en dubbel roll att vara både förtroendeperson och den som anmäler.",
    "Asylsökande kvinnor är särskilt utsatta, tror jag.",
    "Kyrkan har kontakt med många nyanlända familjer i området.",
    "Jag vet faktiskt inte hur stort problemet är i Kronoberg.",
    "Vi fick en fråga från en hyresgäst om lägenheten på tredje våningen.",
    "Det saknas resurser för att följa upp sådana ärenden.",
    "Åklagaren sa att bevisningen måste vara stark för att det ska bli åtal.",
    "Man vill ju inte anklaga någon i onödan.",
    "På vårdcentralen träffar vi många som inte vill berätta något.",
    "Vi behöver ett nätverk där myndigheterna och frivilligorganisationerna möts.",
    "Röda korset har volontärer som kanske ser mer än vi gör.",
    "Det är inte så att vi har haft några konkreta fall, nej.",
    "Hon verkade övervakad och fick inte gå någonstans själv.",
    "Kan du berätta mer om hur ni arbetar med de här frågorna?",
    "Ja, alltså, vi har väl inte riktigt kommit så långt än.",
    "Ett par gånger om året har vi haft utbildningsdagar om hedersrelaterat våld.",
    "Restaurangägaren anställde folk svart, det visste alla.",
    "Jag skulle vilja veta vart man vänder sig, helt enkelt.",
    "Polis- och socialtjänst borde ha en gemensam kontaktperson.",
    "Vi har ingen beredskap för det, det måste jag erkänna.",
    "Det fanns en misstanke men ingen ville gå vidare med den.",
    "Läkaren hänvisade till sekretessen och ville inte säga mer.",
    "Sedan 2009 har vi haft ungefär 14 ärenden som rör unga kvinnor.",
    "Jag har hört talas om det via media, t.ex. i lokaltidningen.",
    "Det här är ju något som man aldrig riktigt tänkt på tidigare.",
    "Familjehemmet ringde oss sent en fredagskväll och var väldigt oroliga.",
    "Vi på jouren försöker alltid lyssna först och döma sen.",
]

FIRST = ["kommun", "polis", "samverkans", "kunskaps", "utbildnings", "hotell", "taxi", "vård",
         "läns", "familje", "ungdoms", "kvinno", "flykting", "arbets", "region", "skol", "hyres",
         "stöd", "rätts", "säkerhets", "trygghets", "integrations", "förebyggande", "migrations"]
HEADS = ["plan", "planen", "planerna", "gruppen", "grupper", "frågor", "frågan", "insatser",
         "arbetet", "ärenden", "personal", "personalen", "rutiner", "nätverket", "mötet",
         "möten", "samtalen", "kontakten", "ansvaret", "chefen", "verksamheten", "dagen"]


def make_segments(n_words: int, seed: int = 7) -> list[str]:
    """Turn-sized chunks (1–6 sentences) adding up to about ``n_words`` words."""
    rng = random.Random(seed)
    segments: list[str] = []
    words = 0
    while words < n_words:
        parts = []
        for _ in range(rng.randint(1, 6)):
            sentence = rng.choice(SENTENCES)
            if rng.random() < 0.5:
                compound = rng.choice(FIRST) + rng.choice(HEADS)
                if rng.random() < 0.1:
                    cut = rng.randint(3, len(compound) - 3)
                    compound = compound[:cut] + "-\n" + compound[cut:]  # line-break hyphenation
                sentence = sentence[:-1] + f", sa hon om {compound} {rng.randint(1, 3000)}."
            parts.append(sentence)
        segment = " ".join(parts)
        words += segment.count(" ") + 1
        segments.append(segment)
    return segments
