"""Small projects for the review, agreement and model tests, written through the Store API.

``build_review_store``: three interviews (one interviewer turn each) with rule codings on a
few respondent turns, so a review sheet has suggestions to confirm, clear and add.
``planted_corpus``: generated passages where the code ``nattbuss`` is present exactly when a
passage talks about the night bus in one of several inflected or compound forms; the rule
pattern (the bare word "buss", no compounds) sees only a few of them and also fires on
ordinary bus talk, so a model that learns from human codes should beat it.
"""

from __future__ import annotations

import random
from pathlib import Path

from qcode.codebook import load_codebook
from qcode.models import Coding, Document, Segment, Turn, frozen_mapping
from qcode.store import Store

HERE = Path(__file__).parent
CODEBOOK = HERE / "codebook.yaml"

INTERVIEWS = {
    "polis-01": (
        "Polis i Kronobergs län",
        "polis",
        [
            ("I", True, "Hur ser beredskapen ut hos er?"),
            ("IP", False, "Vi har ingen beredskap alls här, det är helt oklart vem som gör vad."),
            ("IP", False, "Samarbetet med socialtjänsten fungerar bra, vi ringer varandra."),
            ("IP", False, "Det händer att vi ser flickor på stationen sent på kvällen."),
        ],
    ),
    "kommun-02": (
        "Socialsekreterare i Ljungby",
        "kommun",
        [
            ("I", True, "Har ni samverkan med andra?"),
            ("IP", False, "Samverkan finns på papperet men inte i vardagen."),
            ("IP", False, "Vår handlingsplan är från 2008 och ingen har läst den."),
        ],
    ),
    "hotell-03": (
        "Hotellchef i Växjö",
        "hotell",
        [
            ("I", True, "Vad gör ni om ni misstänker något?"),
            ("IP", False, "Då pratar vi med receptionen och skriver ner det i loggboken."),
            ("IP", False, "Ärligt talat vet jag inte vart jag ska vända mig. Det är väl polisen?"),
        ],
    ),
}

#: (document, segment index, code) of the rule codings stored with the review project.
RULE_CODINGS = [
    ("polis-01", 1, "beredskap/saknas"),
    ("polis-01", 2, "samverkan"),
    ("kommun-02", 1, "samverkan"),
    ("kommun-02", 2, "beredskap"),
]


def make_document(
    doc_id: str, title: str | None, group: str | None, turns: list[tuple[str, bool, str]]
) -> tuple[Document, list[Segment]]:
    """A document written as 'LABEL: text' lines, with one segment per turn."""
    text, spans = "", []
    for speaker, interviewer, said in turns:
        start = len(text) + len(speaker) + 2
        text += f"{speaker}: {said}\n"
        spans.append(Turn(start, start + len(said), speaker, interviewer))
    metadata = {k: v for k, v in (("title", title), ("group", group)) if v is not None}
    document = Document(doc_id, text, f"{doc_id}.txt", tuple(spans), frozen_mapping(metadata))
    segments = [
        Segment(doc_id, i, t.start, t.end, t.speaker, t.is_interviewer, text[t.start : t.end])
        for i, t in enumerate(spans)
    ]
    return document, segments


def build_review_store(path: Path) -> Store:
    """The three-interview project with its rule codings (codes from the test codebook)."""
    store = Store(path)
    codebook = load_codebook(CODEBOOK)
    store.save_codes(codebook.walk(), codebook.sha256)
    for doc_id, (title, group, turns) in INTERVIEWS.items():
        document, segments = make_document(doc_id, title, group, turns)
        codings = [
            Coding(doc_id, idx, segments[idx].start, segments[idx].end, code, "rule", 0.75)
            for d, idx, code in RULE_CODINGS
            if d == doc_id
        ]
        store.save_document(document, f"sha-{doc_id}", segments, codings, tag_key="k")
    return store


_SIGNAL = [
    "nattbussen",
    "nattbussarna",
    "nattbuss",
    "sista nattbussen",
    "nattbussens",
    "nattbussar",
]
_DECOY = ["bussen till jobbet", "en buss", "skolbussen", "bussen", "buss"]
_FILLER = [
    "vi pratade länge om det",
    "det var en vanlig vecka",
    "ingen visste riktigt vad man skulle göra",
    "kollegorna tyckte att det var konstigt",
    "hon verkade ung och rädd",
    "vi ringde till chefen",
    "det hände i höstas",
    "man ser sådant ibland",
    "jag minns inte exakt när",
    "socialtjänsten fick veta det senare",
    "vi skrev en rapport efteråt",
    "det regnade hela kvällen",
]


def planted_passage(rng: random.Random, positive: bool) -> str:
    """One passage: filler sentences, plus a night-bus mention when positive and now and
    then an ordinary bus (the rule's false positives)."""
    parts = rng.sample(_FILLER, 3)
    if positive:
        parts.insert(rng.randrange(3), f"det gäller {rng.choice(_SIGNAL)}")
    if rng.random() < 0.35:
        parts.insert(rng.randrange(3), f"jag tog {rng.choice(_DECOY)}")
    sentence = ". ".join(parts) + "."
    return sentence[0].upper() + sentence[1:]


def planted_corpus(
    seed: int = 7, documents: int = 12, per_document: int = 8
) -> list[tuple[Document, list[Segment], set[int]]]:
    """Generated documents with the indices of their truly ``nattbuss`` segments."""
    rng = random.Random(seed)
    out = []
    for d in range(documents):
        truth = {i for i in range(per_document) if rng.random() < 0.3}
        turns = [("IP", False, planted_passage(rng, i in truth)) for i in range(per_document)]
        document, segments = make_document(f"doc-{d:02d}", f"Intervju {d}", "grupp", turns)
        out.append((document, segments, truth))
    return out
