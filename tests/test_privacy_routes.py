"""Every output route is redacted by default and holds the name only with its documented
opt-out; check-privacy reads every format qcode writes and never passes what it did not read."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest
from click.testing import CliRunner

from qcode import Project
from qcode.cli import cli
from qcode.privacy import PNG_LABELS_KEY, Redactor, check_files

CODEBOOK = Path(__file__).resolve().parents[1] / "src" / "qcode" / "data" / "kronoberg.yaml"

#: the planted people: none of them may leave the project unless an opt-out is used.
NAMES = ["Gunnel Sjöberg", "Zara Okafor", "Helmer Bjurling", "Signe Vallgren"]

TRANSCRIPT = """---
id: socialtjanst-01
title: Socialsekreterare, kommun i Kronobergs län (intervjuad av Signe Vallgren)
group: kommun
main_group: myndigheter
interviewer: Signe Vallgren
---
I: Har ni en handlingsplan mot människohandel?

IP: Nej, vi har ingen handlingsplan. Jag ringde Gunnel Sjöberg på länsstyrelsen men hon
visste inte heller. Ring henne på 070-123 45 67 om du vill. Vi saknar rutiner och utbildning.

I: Hur samverkar ni med polisen?

Zara Okafor: Samverkan med polisen fungerar dåligt, vi träffas nästan aldrig och ingen vet vem
som ska ringa vem när det gäller misstänkt människohandel och prostitution här.
"""

NAMED_FILE = """---
title: Kurator, Helmer Bjurling
group: kyrkor
main_group: frivilligsektor
---
I: Har du mött någon som var utsatt?

IP: Ja, en ung kvinna som hade en skuld för resan och inte fick behålla sitt pass. Hon
sov på madrasser i en lägenhet med andra kvinnor och fick inte gå ut själv.
"""


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("routes")
    (root / "transcripts").mkdir()
    (root / "transcripts" / "socialtjanst-01.md").write_text(TRANSCRIPT, encoding="utf-8")
    (root / "transcripts" / "Helmer Bjurling.md").write_text(NAMED_FILE, encoding="utf-8")
    (root / "qcode.yaml").write_text(
        f"codebook: {CODEBOOK}\ndatabase: p.db\ncompanion: false\n", encoding="utf-8"
    )
    with Project(root) as project:
        result = project.tag([root / "transcripts"], jobs=1)
    assert result.documents_tagged == 2
    return root, result


def _contents(path: Path) -> str:
    """Every text inside an output file (zip members unpacked)."""
    if path.suffix in (".xlsx", ".docx", ".qdpx"):
        with zipfile.ZipFile(path) as archive:
            return "\n".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
    return path.read_text(encoding="utf-8")


def _names_in(text: str) -> list[str]:
    found = []
    for name in NAMES:
        for part in [name, *name.split()]:
            if part in text:
                found.append(part)
    return found


def _run(root: Path, args: list[str]):
    import os

    old = os.getcwd()
    os.chdir(root)
    try:
        return CliRunner().invoke(cli, args)
    finally:
        os.chdir(old)


def test_a_document_id_that_is_a_name_is_replaced_with_a_warning_naming_the_file(project_dir):
    root, result = project_dir
    with Project(root) as project:
        ids = set(project.documents()["document"])
    assert "socialtjanst-01" in ids
    assert not any("Bjurling" in i or "Helmer" in i for i in ids)
    assert any(i.startswith("transcripts-") for i in ids)
    warning = next(w for w in result.warnings if "looked like personal names" in w)
    assert "a file named after a person" in warning and "Bjurling" not in warning
    # no warning of the run quotes a planted name (speaker labels, titles, ids)
    assert _names_in(" ".join(result.warnings)) == [], result.warnings


def test_an_id_given_as_a_name_becomes_file_stem_and_number(tmp_path):
    (tmp_path / "intervju-07.md").write_text(
        "---\nid: Karin Lundberg\ngroup: polis\n---\nI: Fråga?\n\nIP: Vi har ingen plan alls.\n",
        encoding="utf-8",
    )
    (tmp_path / "qcode.yaml").write_text(
        f"codebook: {CODEBOOK}\ndatabase: p.db\ncompanion: false\n", encoding="utf-8"
    )
    with Project(tmp_path) as project:
        result = project.tag([tmp_path / "intervju-07.md"], jobs=1)
        ids = sorted(project.documents()["document"])
    assert ids == ["intervju-07-1"]
    warning = " ".join(result.warnings)
    assert "intervju-07.md" in warning and "Lundberg" not in warning and "Karin" not in warning


@pytest.mark.parametrize(
    "route,suffix,opt_out",
    [
        ("codings", "csv", True),
        ("codings", "xlsx", True),
        ("codings", "jsonl", True),
        ("review", "xlsx", True),
        ("review", "csv", True),
        ("qdpx", "qdpx", True),
    ],
)
def test_export_routes_are_redacted_unless_the_opt_out_is_given(
    project_dir, route, suffix, opt_out
):
    root, _ = project_dir
    out = root / f"{route}.{suffix}"
    result = _run(root, ["export", route, "-o", out.name])
    assert result.exit_code == 0, result.output
    assert _names_in(_contents(out)) == [], route
    assert "070-123 45 67" not in _contents(out)
    checked = _run(root, ["check-privacy", out.name])
    assert checked.exit_code == 0, checked.output
    raw = root / f"raw-{route}.{suffix}"
    result = _run(root, ["export", route, "-o", raw.name, "--no-redact"])
    assert result.exit_code == 0, result.output
    assert "NOT redacted" in result.stderr if hasattr(result, "stderr") else True
    assert "Gunnel Sjöberg" in _contents(raw) or "Gunnel" in _contents(raw)
    assert _run(root, ["check-privacy", raw.name]).exit_code == 1


def test_the_opt_out_warns_on_stderr_in_one_line(project_dir):
    root, _ = project_dir
    runner = (
        CliRunner(mix_stderr=False)
        if "mix_stderr" in CliRunner.__init__.__code__.co_varnames
        else CliRunner()
    )
    import os

    old = os.getcwd()
    os.chdir(root)
    try:
        result = runner.invoke(cli, ["export", "qdpx", "-o", "w.qdpx", "--no-redact"])
    finally:
        os.chdir(old)
    assert result.exit_code == 0
    lines = [l for l in result.stderr.splitlines() if "NOT redacted" in l]
    assert len(lines) == 1


def test_the_redacted_qdpx_keeps_selections_on_the_redacted_text(project_dir):
    root, _ = project_dir
    with Project(root) as project:
        project.export_qdpx(root / "sel.qdpx")
        codings = project.codings()
    with zipfile.ZipFile(root / "sel.qdpx") as archive:
        qde = archive.read("project.qde").decode("utf-8")
        sources = {
            n: archive.read(n).decode("utf-8")
            for n in archive.namelist()
            if n.startswith("sources/")
        }
    import re

    assert "[NAMN-" in " ".join(sources.values())
    texts = list(sources.values())
    for start, end in re.findall(r'startPosition="(\d+)" endPosition="(\d+)"', qde):
        assert int(start) <= int(end) <= max(len(t) for t in texts)
    # a coded passage without a name arrives unchanged
    plain = [t for t in codings["text"] if "Sjöberg" not in t and "070" not in t]
    assert plain and any(p.strip() in " ".join(texts) for p in plain)


def test_a_redacted_review_sheet_still_imports(project_dir):
    root, _ = project_dir
    with Project(root) as project:
        project.export_review(root / "back.csv")
        text = (root / "back.csv").read_text(encoding="utf-8")
        assert "[NAMN-" in text and "Sjöberg" not in text
        result = project.import_review(root / "back.csv", coder="eva")
    assert not [p for p in result.problems if "changed" in p], result.problems


def test_quotes_reports_and_plots_hold_no_name(project_dir):
    root, _ = project_dir
    for args in (
        ["quotes", "--min-words", "3", "-o", "q.md"],
        ["quotes", "--min-words", "3", "-o", "q.html"],
        ["quotes", "--min-words", "3", "-o", "q.docx"],
        ["report", "frequencies", "--by", "document", "-o", "f.md", "--plot", "f.png"],
        ["report", "cooccurrence", "-o", "c.html", "--plot", "c.png"],
    ):
        result = _run(root, args)
        assert result.exit_code == 0, (args, result.output)
    for name in ("q.md", "q.html", "q.docx", "f.md", "c.html"):
        assert _names_in(_contents(root / name)) == [], name
    assert (
        _run(
            root, ["check-privacy", "q.md", "q.html", "q.docx", "f.md", "f.png", "c.html", "c.png"]
        ).exit_code
        == 0
    )


def test_plot_labels_are_redacted_and_recorded_for_the_check(tmp_path):
    from qcode.reports.plots import heatmap

    out = heatmap(
        [[0.5]],
        [["1"]],
        ["Lena Holm"],
        ["grupp"],
        tmp_path / "p.png",
        title="Test",
        colorbar="andel",
    )
    data = out.read_bytes()
    assert PNG_LABELS_KEY.encode() in data and b"Holm" not in data
    assert check_files([out], Redactor()) == []


def test_warnings_and_errors_never_show_a_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "qcode.yaml").write_text("database: p.db\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["check-privacy", "Maria Johansson.md"])
    assert result.exit_code == 2
    assert "Johansson" not in result.output and "[NAMN-1]" in result.output
    from qcode.cli import warn

    runner = CliRunner()

    @__import__("click").command()
    def speak():
        warn("segment text 'ring Kerstin Larsson på 0701234567' could not be written")

    printed = runner.invoke(speak)
    assert "Larsson" not in printed.output and "0701234567" not in printed.output


def test_reveal_restores_the_original_spelling(project_dir):
    root, _ = project_dir
    redacted = _run(root, ["redact"] + [])  # stdin empty: nothing to do
    assert redacted.exit_code == 0
    result = CliRunner().invoke(
        cli,
        ["redact", "--db", str(root / "p.db")],
        input="Jag mötte Tove Ekdahl och ÅSA NORDLUND.\n",
    )
    assert result.exit_code == 0
    back = CliRunner().invoke(
        cli, ["redact", "--db", str(root / "p.db"), "--reveal"], input=result.output
    )
    assert back.output == "Jag mötte Tove Ekdahl och ÅSA NORDLUND.\n"


# -- check-privacy reads every format ----------------------------------------------------------
def _check(tmp_path, *files):
    return check_files([tmp_path / f for f in files], Redactor(["Zara Okafor"]))


def test_docx_headers_footers_and_comments_are_read(tmp_path):
    document = docx.Document()
    paragraph = document.add_paragraph("Ett citat utan namn.")
    document.sections[0].header.paragraphs[0].text = "Intervju med Zara Okafor"
    document.sections[0].footer.paragraphs[0].text = "ring 070-123 45 67"
    document.add_comment(paragraph.runs[0], text="fråga Lena Holm", author="qcode")
    document.save(tmp_path / "a.docx")
    kinds = sorted({(f.where.split(":")[0], f.kind) for f in _check(tmp_path, "a.docx")})
    assert ("word/header1.xml", "name") in kinds
    assert ("word/footer1.xml", "phone") in kinds
    assert ("word/comments.xml", "name") in kinds


def test_xlsx_sheet_names_cells_and_comments_are_read(tmp_path):
    from openpyxl.comments import Comment

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Okafor"
    sheet["A1"] = "inget namn"
    sheet["A1"].comment = Comment("se Lena Holm", "qcode")
    sheet["C7"] = "mejla zara@example.se"
    book.save(tmp_path / "b.xlsx")
    findings = _check(tmp_path, "b.xlsx")
    wheres = " ".join(f.where for f in findings)
    assert "workbook.xml" in wheres and "comments" in wheres and "!C7" in wheres


@pytest.mark.parametrize(
    "name,content",
    [
        ("a.json", json.dumps({"text": "Zara Okafor sa nej"}, ensure_ascii=False)),
        ("a.jsonl", json.dumps({"text": "ring 0701234567"}) + "\n"),
        ("a.tsv", "doc\ttext\nd1\tLena Holm\n"),
        ("a.html", '<p title="Lena Holm">citat</p>'),
        ("a.svg", '<svg xmlns="http://www.w3.org/2000/svg"><text>Zara Okafor</text></svg>'),
        ("a.qdc", '<CodeBook><Codes><Code name="Okafor" guid="x"/></Codes></CodeBook>'),
    ],
)
def test_text_formats_are_read(tmp_path, name, content):
    (tmp_path / name).write_text(content, encoding="utf-8")
    assert _check(tmp_path, name), name


def test_qdpx_guids_offsets_and_dates_are_not_flagged(tmp_path):
    qde = (
        '<Project xmlns="urn:QDA-XML:project:1.0" name="p" creationDateTime="2010-03-11T10:00:00Z">'
        '<Sources><TextSource guid="3F2504E0-4F89-11D3-9A0C-0305E82C3301" name="polis-01" '
        'plainTextPath="internal://3F2504E0-4F89-11D3-9A0C-0305E82C3301.txt">'
        '<PlainTextSelection guid="07012345-6789-4567-8901-070123456789" startPosition="0701234567" '
        'endPosition="8112189876"/></TextSource></Sources></Project>'
    )
    with zipfile.ZipFile(tmp_path / "p.qdpx", "w") as archive:
        archive.writestr("project.qde", qde)
        archive.writestr("sources/3F2504E0-4F89-11D3-9A0C-0305E82C3301.txt", "Vi har ingen plan.\n")
    assert _check(tmp_path, "p.qdpx") == []


@pytest.mark.parametrize(
    "name,make",
    [
        ("broken.docx", lambda p: p.write_bytes(b"PK\x03\x04 not really a zip")),
        ("broken.xlsx", lambda p: _zip(p, {"xl/workbook.xml": b"<workbook><sheets><sheet name="})),
        ("photo.png", lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)),
        ("data.bin", lambda p: p.write_bytes(b"\0\1\2")),
        (
            "pic.docx",
            lambda p: _zip(p, {"word/document.xml": b"<d/>", "word/media/image1.png": b"x"}),
        ),
    ],
)
def test_what_cannot_be_read_is_never_passed(tmp_path, monkeypatch, name, make):
    make(tmp_path / name)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "qcode.yaml").write_text("database: p.db\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["check-privacy", name])
    assert result.exit_code == 1
    assert f"could not check {name}" in result.output
    assert (
        "Traceback" not in result.output
        and result.exception is None
        or isinstance(result.exception, SystemExit)
    )


def test_a_zip_member_over_the_limit_is_could_not_check(tmp_path, monkeypatch):
    import qcode.exchange.xmlutil as xmlutil

    _zip(tmp_path / "big.qdpx", {"project.qde": b"<Project/>", "sources/a.txt": b"x" * 5000})
    monkeypatch.setattr(xmlutil, "MAX_MEMBER_BYTES", 1000)
    findings = _check(tmp_path, "big.qdpx")
    assert [f.kind for f in findings] == ["could not check"]
    assert "limit" in findings[0].hint


def _zip(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
