"""End-to-end speed and memory of ``qcode tag`` against spaCy's Swedish tokenizer, the floor.

Run from the repository root (``make bench`` runs the default size)::

    .venv/bin/python benchmarks/bench_tag.py [--words 1000000] [--jobs N] [--out DIR]

It writes a seeded corpus of about ``--words`` words of interview transcripts to
``DIR/corpus`` (files of 1–3k words with front matter and ``I:``/``IP:`` turns, built by
recombining and varying the sentences of the demo transcripts, so no paragraph repeats), then
measures, each in a fresh Python process so its peak RSS is its own:

* ``floor``: ``spacy.blank("sv")`` over every turn via ``nlp.pipe`` -- the tokenizer qcode runs
  (lemmas come from simplemma, cached per word; the sentencizer only with ``unit: sentence``);
* ``floor+pipes``: the same with ``sentencizer`` and the lookup ``lemmatizer`` (if
  spacy-lookups-data is installed), for comparison with the issue's figures;
* ``tag``: ``Project(...).tag()`` end to end (ingest, segment, match, store) with 1 job and
  with ``--jobs`` (default: every core), each into a new database;
* re-runs on the ``--jobs`` database: unchanged, then after changing 1 % of the documents;
* ``report frequencies`` and ``quotes`` on the result.

Each line gives seconds, words/s, the ratio to the floor (or to the full run, for re-runs
and reports) and peak RSS (``VmHWM`` of the process; with workers, also the largest worker's).
Timings cover the API call only, not Python start-up or imports. ``--repeat N`` runs every
measurement N times (a new database each time; each changed re-run changes another 1 %) and
keeps the fastest, the usual guard against a shared machine's noise; ``--json FILE`` keeps
the figures of every run. Nothing downloads; the corpus is generated from the repository.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CODEBOOK = REPO / "codebooks" / "kronoberg.yaml"

# ---------------------------------------------------------------------------------------------
# corpus
# ---------------------------------------------------------------------------------------------

#: interviewer questions used when the source transcripts have none of their own (written for
#: this benchmark).
QUESTIONS = [
    "Kan du börja med att berätta lite om din roll och vad du arbetar med?",
    "Har du i ditt arbete stött på något som du misstänkt kan vara människohandel?",
    "Hur skulle ni gå till väga om ni fick en sådan misstanke i morgon?",
    "Finns det någon handlingsplan eller rutin hos er för de här frågorna?",
    "Vilka samarbetar ni med när det gäller utsatta kvinnor?",
    "Hur ser du på kunskapsnivån bland dina kollegor?",
    "Har ni fått någon utbildning om människohandel för sexuella ändamål?",
    "Vad skulle du behöva för att känna dig tryggare i de här situationerna?",
    "Hur tänker du kring tystnadsplikten när det gäller att anmäla?",
    "Har ni gjort någon anmälan, och vad hände i så fall sedan?",
    "Hur stort tror du att problemet är här i länet?",
    "Kan du ge ett exempel på en situation som fick dig att reagera?",
    "Vem skulle du ringa först om du blev orolig för någon?",
    "Är det något mer du vill tillägga innan vi avslutar?",
    "Hur fungerar kontakten med polisen i praktiken?",
    "Vad tror du skulle göra mest nytta, mer kunskap eller bättre samverkan?",
]

#: first halves and heads of compounds, so the vocabulary keeps growing as it does in real
#: interviews ("samverkansrutinerna", "hotellpersonalen").
FIRST = [
    "kommun",
    "polis",
    "samverkans",
    "kunskaps",
    "utbildnings",
    "hotell",
    "taxi",
    "vård",
    "läns",
    "familje",
    "ungdoms",
    "kvinno",
    "flykting",
    "arbets",
    "region",
    "skol",
    "hyres",
    "stöd",
    "rätts",
    "trygghets",
    "integrations",
    "migrations",
    "jour",
    "kyrko",
    "förenings",
]
HEADS = [
    "plan",
    "planen",
    "gruppen",
    "grupper",
    "frågor",
    "frågan",
    "insatser",
    "arbetet",
    "ärenden",
    "personalen",
    "rutiner",
    "rutinerna",
    "nätverket",
    "mötet",
    "samtalen",
    "kontakten",
    "ansvaret",
    "chefen",
    "verksamheten",
    "träffarna",
    "uppdraget",
]
#: spoken openings put before a sentence now and then.
FILLERS = ["Alltså", "Eh", "Ja", "Jo", "Nej men", "Ja, alltså", "Men", "Och"]
#: how a made-up compound is worked into a sentence.
TAILS = [", det gäller {c} {n}", ", i {c} sedan {n}", " när det gäller {c}", ", med {c} och allt"]

#: share of long words that get a new first part. Real interviews keep meeting new words
#: (Swedish compounds freely), which costs a tokenizer and a lemmatizer their cache hits;
#: this keeps the corpus at roughly 25-30k distinct words per million, as transcribed speech
#: has, instead of the few thousand that pure recombination would give.
COMPOUNDS = 0.12

_FRONT = re.compile(r"\A---\n(.*?)\n---\n", re.S)
_TURN = re.compile(r"^([A-Za-zÅÄÖåäö][\wÅÄÖåäö .-]{0,30}?):[ \t]+(.*)$", re.M)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÅÄÖ0-9])")
_INTERVIEWER = {"i", "intervjuare", "intervjuaren", "fråga", "f"}


@dataclass
class Sources:
    """What the generator recombines: respondent sentences, questions, document headers."""

    sentences: list[str]
    questions: list[str]
    headers: list[dict[str, str]]
    files: list[str]


def _source_files() -> list[Path]:
    """The demo transcripts and the gold passages (same study, same kind of speech); the
    sentences of ``swedish_text.py`` are added to the pool too."""
    files: list[Path] = []
    for folder in (REPO / "transcripts", REPO / "data" / "gold" / "passages"):
        files += sorted(folder.glob("*.md")) + sorted(folder.glob("*.txt"))
    return files


def load_sources() -> Sources:
    sentences: list[str] = []
    questions: list[str] = []
    headers: list[dict[str, str]] = []
    files = _source_files()
    for path in files:
        text = path.read_text(encoding="utf-8")
        front = _FRONT.match(text)
        if front:
            header = {}
            for line in front.group(1).splitlines():
                key, _, value = line.partition(":")
                if key.strip() in ("title", "group", "main_group", "organisation"):
                    header[key.strip()] = value.strip().strip("'\"")
            if header:
                headers.append(header)
            text = text[front.end() :]
        for label, body in _TURN.findall(text):
            body = body.strip()
            if not body:
                continue
            if label.strip().lower() in _INTERVIEWER:
                questions.append(body)
            else:
                sentences.extend(s for s in _SENTENCE_END.split(body) if len(s.split()) >= 3)
    sys.path.insert(0, str(Path(__file__).parent))
    from swedish_text import SENTENCES

    sentences.extend(SENTENCES)
    questions.extend(QUESTIONS)
    if not headers:
        headers = [{"title": "Intervjuperson", "group": "kommuner", "main_group": "myndigheter"}]
    return Sources(sentences, questions, headers, [str(p.relative_to(REPO)) for p in files])


class SentenceMaker:
    """Varied sentences from the source pool: clauses of two sentences spliced at a comma,
    long words swapped for other words with the same ending (same inflection, mostly), spoken
    fillers and made-up compounds with numbers. The seeded generator makes it reproducible."""

    def __init__(self, sources: Sources, rng: random.Random):
        self.rng = rng
        self.sentences = sources.sentences
        self.questions = sources.questions
        by_ending: dict[str, list[str]] = {}
        for sentence in self.sentences:
            for word in re.findall(r"\b[a-zåäö]{7,}\b", sentence):
                by_ending.setdefault(word[-3:], []).append(word)
        self.by_ending = {k: sorted(set(v)) for k, v in by_ending.items() if len(set(v)) > 1}
        # first parts for new compounds: the source's own words with a plural or definite
        # ending taken off, so "kommunernas" gives "kommun" and "rutinerna" "rutin"
        stems = {
            re.sub(r"(erna|arna|orna|en|et|na|er|ar|or|s)$", "", w)
            for w in re.findall(r"\b[a-zåäö]{5,}\b", " ".join(self.sentences))
        }
        self.stems = sorted({s for s in stems if len(s) >= 4} | set(FIRST))

    def _compound(self, match: re.Match[str]) -> str:
        """Now and then a new compound: a stem before the word, the word's ending kept."""
        word = match.group(0)
        if self.rng.random() < COMPOUNDS:
            stem = self.rng.choice(self.stems)
            return (
                stem
                + ("s" if self.rng.random() < 0.3 and stem[-1] not in "aeiouyåäös" else "")
                + word
            )
        return word

    def _swap(self, match: re.Match[str]) -> str:
        word = match.group(0)
        options = self.by_ending.get(word[-3:])
        if options and self.rng.random() < 0.25:
            return self.rng.choice(options)
        return word

    def sentence(self) -> str:
        rng = self.rng
        text = rng.choice(self.sentences)
        if rng.random() < 0.4 and "," in text:
            other = rng.choice(self.sentences)
            if "," in other:
                text = text.split(",", 1)[0] + "," + other.split(",", 1)[1]
        text = re.sub(r"\b[a-zåäö]{7,}\b", self._swap, text)
        text = re.sub(r"\b[a-zåäö]{6,}\b", self._compound, text)
        if rng.random() < 0.15 and text[1:2].islower():
            text = rng.choice(FILLERS) + ", " + text[:1].lower() + text[1:]
        if rng.random() < 0.2 and text[-1:] in ".!?":
            tail = rng.choice(TAILS).format(
                c=rng.choice(FIRST) + rng.choice(HEADS), n=rng.randint(2, 2010)
            )
            text = text[:-1] + tail + text[-1]
        return text

    def answer(self, words: int) -> str:
        """One respondent turn of about ``words`` words, now and then over several lines."""
        parts: list[str] = []
        count = 0
        while count < words:
            sentence = self.sentence()
            count += len(sentence.split())
            parts.append(sentence)
        lines, line = [], []
        for part in parts:
            line.append(part)
            if self.rng.random() < 0.15:
                lines.append(" ".join(line))
                line = []
        if line:
            lines.append(" ".join(line))
        return "\n".join(lines)


def write_document(maker: SentenceMaker, header: dict[str, str], doc_id: str, words: int) -> str:
    """A transcript with front matter and alternating ``I:``/``IP:`` turns of ~``words`` words."""
    rng = maker.rng
    front = {
        "id": doc_id,
        **header,
        "date": f"2010-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
    }
    out = ["---", *(f"{k}: {v}" for k, v in front.items()), "---", ""]
    count = 0
    while count < words:
        question = rng.choice(maker.questions)
        answer = maker.answer(rng.randint(15, 140))
        count += len(question.split()) + len(answer.split())
        out += [f"I: {question}", "", f"IP: {answer}", ""]
    return "\n".join(out)


@dataclass
class Corpus:
    folder: Path
    files: int
    words: int
    sources: list[str]


def build_corpus(folder: Path, n_words: int, seed: int = 2010) -> Corpus:
    """Write about ``n_words`` words in files of 1–3k words to ``folder``, one file at a time
    (nothing corpus-sized is held in memory). Words are white-space separated tokens of the
    file bodies, front matter excluded, which is also how the throughput figures count them."""
    sources = load_sources()
    rng = random.Random(seed)
    maker = SentenceMaker(sources, rng)
    folder.mkdir(parents=True, exist_ok=True)
    total = files = 0
    while total < n_words:
        files += 1
        size = min(rng.randint(1000, 3000), max(n_words - total, 200))
        text = write_document(maker, rng.choice(sources.headers), f"b{files:06d}", size)
        (folder / f"b{files:06d}.md").write_text(text, encoding="utf-8")
        total += len(_FRONT.sub("", text, count=1).split())
    return Corpus(folder, files, total, sources.files)


def change_documents(corpus: Corpus, share: float = 0.01, seed: int = 99) -> int:
    """Change ``share`` of the documents (at least one): a new respondent sentence in the
    middle of each, so its text, offsets and codings after that point all move."""
    files = sorted(corpus.folder.glob("*.md"))
    rng = random.Random(seed)
    chosen = rng.sample(files, max(1, math.ceil(len(files) * share)))
    for path in chosen:
        text = path.read_text(encoding="utf-8")
        middle = text.find("\nIP: ", len(text) // 2)
        if middle < 0:
            middle = text.find("\nIP: ")
        insert = "\nIP: Vi har sedan dess tagit fram en ny rutin och utsett en kontaktperson."
        path.write_text(text[:middle] + "\n" + insert + text[middle:], encoding="utf-8")
    return len(chosen)


def iter_turn_texts(folder: Path) -> Iterator[str]:
    """Every turn's text in the corpus (both speakers), as a plain reader would cut them."""
    for path in sorted(folder.glob("*.md")):
        body = _FRONT.sub("", path.read_text(encoding="utf-8"), count=1)
        for turn in re.split(r"\n\n(?=[A-Za-z]+: )", body):
            _label, _, text = turn.partition(": ")
            if text.strip():
                yield text.strip()


# ---------------------------------------------------------------------------------------------
# measurements, each run in its own process (``--measure``)
# ---------------------------------------------------------------------------------------------


def _rss() -> dict[str, int]:
    """Peak RSS in MB of this process (VmHWM) and of its largest finished child process."""
    peak = 0
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) // 1024
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    cpu = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    return {"rss_mb": peak, "worker_rss_mb": kids.ru_maxrss // 1024, "cpu_seconds": cpu}


def measure_floor(corpus: Path, pipes: bool) -> dict[str, Any]:
    import spacy

    nlp = spacy.blank("sv")
    if pipes:
        nlp.add_pipe("sentencizer")
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()
    texts = list(iter_turn_texts(corpus))
    start = time.perf_counter()
    tokens = sum(len(doc) for doc in nlp.pipe(texts))
    return {"seconds": time.perf_counter() - start, "tokens": tokens}


def _project(project: Path, codebook: str) -> Any:
    import qcode

    return qcode.Project(project, db=project / "bench.db", codebook=codebook)


def measure_tag(corpus: Path, project: Path, codebook: str, jobs: int) -> dict[str, Any]:
    """``Project.tag`` over the whole corpus folder (a new or an existing database)."""
    import qcode.project  # noqa: F401  (import time is start-up, not tagging)

    start = time.perf_counter()
    with _project(project, codebook) as proj:
        result = proj.tag([corpus], jobs=jobs)
    return {
        "seconds": time.perf_counter() - start,
        "tagged": result.documents_tagged,
        "unchanged": result.documents_unchanged,
        "segments": result.segments,
    }


def measure_report(project: Path, codebook: str, which: str) -> dict[str, Any]:
    """``qcode report frequencies`` / ``qcode quotes`` through the Python API they call."""
    import qcode.project  # noqa: F401
    import qcode.reports  # noqa: F401

    start = time.perf_counter()
    with _project(project, codebook) as proj:
        if which == "frequencies":
            if hasattr(proj, "frequencies"):
                frame = proj.frequencies()
                how = "Project.frequencies()"
            else:
                from qcode.reports import frequencies

                frame = frequencies(proj.open_existing_store(), ["group"])
                how = "qcode.reports.frequencies(store)"
        else:
            if hasattr(proj, "quotes"):
                frame = proj.quotes()
                how = "Project.quotes()"
            else:
                from qcode.reports import quotes

                frame = quotes(proj.open_existing_store())
                how = "qcode.reports.quotes(store)"
    return {"seconds": time.perf_counter() - start, "rows": len(frame), "how": how}


def run_measure(args: argparse.Namespace) -> None:
    kind = args.measure
    corpus, project = Path(args.corpus or "."), Path(args.project or ".")
    if kind in ("floor", "floor+pipes"):
        out = measure_floor(corpus, kind == "floor+pipes")
    elif kind == "tag":
        out = measure_tag(corpus, project, args.codebook, args.jobs)
    elif kind in ("frequencies", "quotes"):
        out = measure_report(project, args.codebook, kind)
    else:
        raise SystemExit(f"unknown measurement {kind!r}")
    out.update(_rss())
    print(json.dumps(out))


def _measure(kind: str, **options: Any) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter and return its figures."""
    command = [sys.executable, str(Path(__file__).resolve()), "--measure", kind]
    for key, value in options.items():
        command += [f"--{key}", str(value)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"measurement {kind} failed (exit {done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def fastest(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the fewest seconds, with every run's seconds kept under ``runs``."""
    best = dict(min(runs, key=lambda r: r["seconds"]))
    best["runs"] = [round(r["seconds"], 3) for r in runs]
    return best


# ---------------------------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next(
                line.split(":", 1)[1].strip() for line in info if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    from importlib.metadata import PackageNotFoundError, version

    packages = []
    for name in ("qcode", "spacy", "simplemma", "pandas", "spacy-lookups-data"):
        try:
            packages.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            packages.append(f"{name} (not installed)")
    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "sqlite": __import__("sqlite3").sqlite_version,
        "packages": ", ".join(packages),
        "platform": platform.platform(),
    }


def _has_lookups() -> bool:
    try:
        import spacy_lookups_data  # noqa: F401
    except ImportError:
        return False
    return True


def _line(name: str, r: dict[str, Any], words: int, ratio: str) -> str:
    rate = f"{words / r['seconds']:>12,.0f}" if words else f"{'-':>12}"
    workers = f" (workers {r['worker_rss_mb']} MB)" if r.get("worker_rss_mb") else ""
    return (
        f"| {name:<28} | {r['seconds']:>9.2f} | {rate} | {ratio:<24} | "
        f"{r['rss_mb']:>5} MB{workers} |"
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="qcode-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    corpus_dir = out / "corpus"
    if corpus_dir.exists():
        shutil.rmtree(corpus_dir)
    start = time.perf_counter()
    corpus = build_corpus(corpus_dir, args.words, args.seed)
    built = time.perf_counter() - start
    jobs = args.jobs or os.cpu_count() or 1
    codebook = str(Path(args.codebook).resolve())
    words = corpus.words
    print(
        f"corpus: {words:,} words in {corpus.files:,} files under {corpus_dir} "
        f"(built in {built:.1f} s from {len(corpus.sources)} source files)",
        flush=True,
    )
    info = machine()
    print(
        f"machine: {info['cpus']} cpus, {info['cpu']}, Python {info['python']}, "
        f"SQLite {info['sqlite']}; {info['packages']}",
        flush=True,
    )
    print(f"command: {' '.join(['benchmarks/bench_tag.py', *sys.argv[1:]])}", flush=True)
    print(
        f"load average before: {os.getloadavg()[0]:.2f} (other work on the machine skews "
        "wall times; cpu_seconds in --json include start-up)",
        flush=True,
    )
    repeat = max(args.repeat, 1)
    if repeat > 1:
        print(f"each figure: the fastest of {repeat} runs (all runs in --json)", flush=True)

    figures: dict[str, dict[str, Any]] = {}
    lines = ["| measurement | seconds | words/s | ratio | peak RSS |", "|---|---:|---:|---|---:|"]

    def record(key: str, name: str, r: dict[str, Any], counted: int, ratio: str) -> None:
        figures[key] = r
        line = _line(name, r, counted, ratio)
        lines.append(line)
        print(line, flush=True)

    print(lines[0] + "\n" + lines[1], flush=True)
    floor = fastest([_measure("floor", corpus=corpus_dir) for _ in range(repeat)])
    record("floor", "floor: blank sv tokenizer", floor, words, "1.00 x floor")
    floor_rate = words / floor["seconds"]
    if _has_lookups():
        piped = fastest([_measure("floor+pipes", corpus=corpus_dir) for _ in range(repeat)])
        record(
            "floor+pipes",
            "sv + sentencizer + lemmatizer",
            piped,
            words,
            f"{words / piped['seconds'] / floor_rate:.2f} x floor",
        )

    def tag(
        key: str, name: str, project: Path, n_jobs: int, vs: str | None = None
    ) -> dict[str, Any]:
        runs = []
        for _ in range(repeat):
            if project.exists():
                shutil.rmtree(project)
            project.mkdir(parents=True)
            runs.append(
                _measure("tag", corpus=corpus_dir, project=project, codebook=codebook, jobs=n_jobs)
            )
        r = fastest(runs)
        rate = words / r["seconds"]
        ratio = f"{rate / floor_rate:.2f} x floor"
        if vs:
            ratio += f", {figures[vs]['seconds'] / r['seconds']:.2f} x 1 job"
        record(key, name, r, words, ratio)
        return r

    one = out / "project-1"
    many = out / f"project-{jobs}"
    tag("tag_1", "qcode tag, 1 job", one, 1)
    full = tag("tag_n", f"qcode tag, {jobs} jobs", many, jobs, vs="tag_1")

    def rerun(key: str, name: str, change: bool = False) -> None:
        runs, changed = [], 0
        for i in range(repeat):
            if change:  # another 1 % each time, so every run re-codes as much
                changed = change_documents(corpus, seed=99 + i)
            runs.append(
                _measure("tag", corpus=corpus_dir, project=many, codebook=codebook, jobs=jobs)
            )
        r = fastest(runs)
        record(
            key,
            name.format(changed=changed),
            r,
            0,
            f"{r['seconds'] / full['seconds']:.1%} of full run",
        )

    rerun("rerun_unchanged", f"re-run unchanged, {jobs} jobs")
    rerun("rerun_changed", "re-run {changed} changed docs (1 %)", change=True)
    for which, name in (("frequencies", "report frequencies"), ("quotes", "quotes")):
        r = fastest([_measure(which, project=many, codebook=codebook) for _ in range(repeat)])
        record(which, f"{name}", r, 0, f"{r['seconds'] / full['seconds']:.1%} of full run")
    print(f"load average after: {os.getloadavg()[0]:.2f}", flush=True)
    print(
        f"reports via {figures['frequencies']['how']}, {figures['quotes']['how']}; "
        f"tag: {full['tagged']} documents, {full['segments']:,} segments",
        flush=True,
    )
    result = {
        "words": words,
        "files": corpus.files,
        "jobs": jobs,
        "machine": info,
        "figures": figures,
        "command": " ".join(sys.argv),
        "table": lines,
    }
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2), encoding="utf-8")
    if not args.out:
        shutil.rmtree(out, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=1_000_000, help="corpus size (default 1M)")
    parser.add_argument(
        "--jobs", type=int, default=0, help="jobs for the parallel run (default: every core)"
    )
    parser.add_argument(
        "--out",
        help="keep corpus and databases here (default: a temporary folder, removed afterwards)",
    )
    parser.add_argument("--codebook", default=str(DEFAULT_CODEBOOK))
    parser.add_argument("--seed", type=int, default=2010)
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run each measurement this many times and keep the fastest",
    )
    parser.add_argument("--json", help="also write the figures to this JSON file")
    # internal: one measurement in this process
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    parser.add_argument("--project", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        run_measure(args)
    else:
        run(args)


if __name__ == "__main__":
    main()
