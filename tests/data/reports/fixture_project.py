"""A small fixed project for the report tests, written straight through the Store API.

Six interviews in four groups (hotell has no codings), an interviewer segment that is coded
(and must never count), rule, model and human codings, parent and child codes on one segment,
one document without a title and an interviewer name in the metadata that must never appear.
The expected numbers in tests/test_reports.py are counted by hand from this file.
"""

from __future__ import annotations

from pathlib import Path

from qcode.codebook import Code
from qcode.models import Coding, Document, Evidence, Segment, frozen_mapping
from qcode.store import Store

INTERVIEWER_NAME = "Karin Lindqvist"
RESPONDENT_NAME = "Birgitta Holmqvist"

CODES = [
    ("erfarenhet", "Erfarenheter"),
    ("beredskap", "Beredskap"),
    ("beredskap/handlingsplan", "Handlingsplan"),
    ("beredskap/saknas", "Beredskap saknas"),
    ("dubbla_roller", "Dubbla roller"),
    ("rapportering", "Rapportering och anmälan"),
    ("rapportering/tas_pa_allvar", "Tas på allvar"),
]

# document id -> (metadata, [(speaker, is_interviewer, text)])
DOCUMENTS = {
    "polis_01": (
        {
            "title": "Polis i Kronobergs län",
            "group": "polis",
            "main_group": "myndigheter",
            "study": "2010",
            "interviewer": INTERVIEWER_NAME,
            "name": RESPONDENT_NAME,
        },
        [
            ("I", True, "Hur ser beredskapen ut hos er när det gäller människohandel?"),
            (
                "R",
                False,
                "Vi har en handlingsplan sedan förra året. Den beskriver vem som tar "
                "ärendet och hur vi kontaktar åklagaren. Alla i gruppen har läst den. "
                "Men den har aldrig prövats på riktigt.",
            ),
            (
                "R",
                False,
                "Det svåra är när någon berättar något i förtroende. Vi måste ändå "
                "anmäla det vi får veta, och det vet de som berättar. Då blir det tyst.",
            ),
            ("I", True, "Så beredskapen finns men är oprövad?"),
        ],
    ),
    "polis_02": (
        {
            "title": "Kriminalinspektör, länskriminalpolisen",
            "group": "polis",
            "main_group": "myndigheter",
            "study": "2010",
            "interviewer": INTERVIEWER_NAME,
        },
        [
            ("I", True, "Finns det rutiner?"),
            (
                "R",
                False,
                "Nej, någon särskild beredskap för de här fallen finns inte hos oss. "
                "Vi tar det när det kommer.",
            ),
            (
                "R",
                False,
                "När en anmälan kommer in tas den på stort allvar här. Vi prioriterar "
                "den före annat. Sekretessen gör att vi inte alltid får veta allt.",
            ),
        ],
    ),
    "kommun_01": (
        {
            "title": "Enhetschef, individ- och familjeomsorgen",
            "group": "kommuner",
            "main_group": "myndigheter",
            "study": "2010",
        },
        [
            ("I", True, "Hur ser ni på anmälningsplikten?"),
            (
                "R",
                False,
                "Som socialsekreterare har man två roller samtidigt. Man ska vara den "
                "som klienten litar på och samtidigt anmäla. Det skaver ibland.",
            ),
            (
                "R",
                False,
                "Jag har träffat två kvinnor som jag tror var utsatta, båda för några år sedan.",
            ),
        ],
    ),
    "kommun_02": (
        {"group": "kommuner", "main_group": "myndigheter", "study": "2012"},
        [
            ("I", True, "Har ni en plan?"),
            (
                "R",
                False,
                "Vi har skrivit en handlingsplan för hela förvaltningen i år. Den "
                "säger vem man ringer först och vad man dokumenterar.",
            ),
        ],
    ),
    "taxi_01": (
        {"title": "Taxiförare", "group": "taxi", "main_group": "naringsbranscher", "study": "2012"},
        [
            ("I", True, "Skulle du ringa polisen?"),
            (
                "R",
                False,
                "Jag skulle nog inte ringa polisen om jag inte var helt säker på vad "
                "jag hade sett i bilen.",
            ),
            (
                "R",
                False,
                "Man vill ju inte anmäla en kund för ingenting, som Lena på växeln "
                "brukar säga. Det kostar körningar och rykte i den här branschen.",
            ),
        ],
    ),
    "hotell_01": (
        {
            "title": "Receptionist",
            "group": "hotell",
            "main_group": "naringsbranscher",
            "study": "2012",
        },
        [
            ("I", True, "Har ni märkt något?"),
            ("R", False, "Nej, inget som jag kan komma på just nu i alla fall."),
        ],
    ),
}

# (document, segment, code, source, score, evidence word or None)
CODINGS = [
    ("polis_01", 1, "beredskap/handlingsplan", "rule", 0.9, "handlingsplan"),
    ("polis_01", 2, "rapportering", "rule", 0.8, "anmäla"),
    ("polis_01", 2, "dubbla_roller", "rule", 0.7, "förtroende"),
    ("polis_01", 3, "beredskap", "rule", 0.9, "beredskapen"),  # interviewer: never counts
    ("polis_02", 1, "beredskap/saknas", "rule", 0.6, "beredskap"),
    ("polis_02", 2, "rapportering/tas_pa_allvar", "human", 1.0, None),
    ("polis_02", 2, "dubbla_roller", "model", 0.55, None),
    ("kommun_01", 1, "dubbla_roller", "rule", 0.95, "två roller"),
    ("kommun_01", 1, "rapportering", "rule", 0.9, "anmäla"),
    ("kommun_01", 2, "erfarenhet", "rule", 0.5, "träffat"),
    ("kommun_02", 1, "beredskap", "rule", 0.85, "handlingsplan"),
    ("kommun_02", 1, "beredskap/handlingsplan", "rule", 0.85, "handlingsplan"),
    ("taxi_01", 1, "rapportering", "rule", 0.75, "ringa polisen"),
    ("taxi_01", 2, "rapportering", "rule", 0.7, "anmäla"),
]


def build_documents() -> dict[str, tuple[Document, list[Segment]]]:
    out = {}
    for doc_id, (metadata, turns) in DOCUMENTS.items():
        text, spans = "", []
        for speaker, _is_int, words in turns:
            prefix = f"{speaker}: "
            start = len(text) + len(prefix)
            text += prefix + words + "\n\n"
            spans.append((start, start + len(words)))
        document = Document(doc_id, text, f"{doc_id}.txt", (), frozen_mapping(metadata))
        segments = [
            Segment(doc_id, i, s, e, speaker, is_int, text[s:e])
            for i, ((s, e), (speaker, is_int, _w)) in enumerate(zip(spans, turns))
        ]
        out[doc_id] = (document, segments)
    return out


def build_store(path: str | Path) -> Path:
    """Write the fixture project into a new database at ``path``."""
    docs = build_documents()
    store = Store(path)
    store.save_codes(
        [Code(id=p.rsplit("/", 1)[-1], path=p, label=label) for p, label in CODES], "fixture"
    )
    for doc_id, (document, segments) in docs.items():
        codings = []
        for d, index, code, source, score, word in CODINGS:
            if d != doc_id:
                continue
            segment = segments[index]
            evidence = ()
            if word is not None:
                at = document.text.index(word, segment.start)
                evidence = (Evidence(at, at + len(word), word, word, "term"),)
            codings.append(
                Coding(
                    doc_id,
                    index,
                    segment.start,
                    segment.end,
                    code,
                    source,
                    score,
                    "anna" if source == "human" else None,
                    evidence,
                )
            )
        store.save_document(document, "sha-" + doc_id, segments, codings, tag_key="fixture")
    store.close()
    return Path(path)
