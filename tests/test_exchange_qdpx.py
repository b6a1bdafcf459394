"""REFI-QDA projects (.qdpx): qcode -> qdpx -> qcode round-trip, schema validity, hand-built
exports with the quirks of real tools, the shared sample exports, and hostile archives."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner

from qcode.cli import cli
from qcode.codebook import codebook_from_yaml_text
from qcode.errors import ExchangeError
from qcode.exchange import xmlutil
from qcode.exchange.qdpx import (
    build_project,
    import_qdpx,
    normalise_with_offsets,
    read_qdpx,
    write_qdpx,
)
from qcode.models import Coding, Document, Segment, Turn
from qcode.store import Store

REPO = Path(__file__).resolve().parents[1]
NS = {"q": "urn:QDA-XML:project:1.0"}

CODEBOOK = codebook_from_yaml_text("""\
name: Prov
codes:
  - id: beredskap
    label: Beredskap
    description: Hur man är förberedd.
    include: Rutiner och planer.
    color: "#1f77b4"
    codes:
      - id: handlingsplan
        label: Handlingsplan
        patterns: {terms: [handlingsplan]}
  - id: samverkan
    label: Samverkan
    patterns: {terms: [samverkan]}
""")

TEXTS = {
    "polis_01": "I: Hur ser det ut hos er?\nIP: Vi har en handlingsplan sedan 2009.\n\n"
    "IP: Samverkan med socialtjänsten fungerar – oftast. 🙂 Åsa på länsstyrelsen vet mer.",
    "kyrka_02": "IP: Ingen beredskap här, ärligt talat.\nIP: Men vi pratar om det, på fika.",
}


def refi_dir() -> Path | None:
    """The shared REFI-QDA folder: ``<repo>/../shared/refi`` (CI) or ``/work/shared/refi``."""
    for candidate in (REPO.parent / "shared" / "refi", Path("/work/shared/refi")):
        if (candidate / "Project.xsd").exists():
            return candidate
    return None


needs_refi = pytest.mark.skipif(
    refi_dir() is None,
    reason="REFI-QDA schemas and samples not found (../shared/refi next to the repo, or /work/shared/refi)",
)


def _segments(doc_id: str, text: str) -> list[Segment]:
    segments, pos = [], 0
    for line in text.split("\n"):
        if line:
            segments.append(
                Segment(
                    doc_id,
                    len(segments),
                    pos,
                    pos + len(line),
                    line.split(":")[0],
                    line.startswith("I:"),
                    line,
                )
            )
        pos += len(line) + 1
    return segments


def _span(text: str, words: str) -> tuple[int, int]:
    start = text.index(words)
    return start, start + len(words)


@pytest.fixture
def project_store(tmp_path: Path) -> Store:
    """A small project built through the Store: two documents, rule and human codings."""
    store = Store(tmp_path / "source.db")
    store.save_codes(CODEBOOK.walk(), CODEBOOK.sha256)
    metadata = {
        "polis_01": {"title": "Polis i Kronobergs län", "group": "polis", "interviews": 2},
        "kyrka_02": {"title": "Präst", "group": "kyrkor", "consent": True},
    }
    for doc_id, text in TEXTS.items():
        segments = _segments(doc_id, text)
        doc = Document(
            doc_id,
            text,
            f"transcripts/{doc_id}.txt",
            tuple(Turn(s.start, s.end, s.speaker) for s in segments),
            metadata[doc_id],
        )
        rule = [
            Coding(doc_id, s.index, s.start, s.end, "beredskap/handlingsplan", "rule", 0.9)
            for s in segments
            if "handlingsplan" in s.text
        ]
        store.save_document(
            doc, hashlib.sha256(text.encode()).hexdigest(), segments, rule, tag_key="k"
        )
    a = TEXTS["polis_01"]
    k = TEXTS["kyrka_02"]
    store.add_codings(
        [
            Coding(
                "polis_01",
                2,
                *_span(a, "Samverkan med socialtjänsten fungerar – oftast. 🙂"),
                "samverkan",
                "human",
                coder="anna",
            ),
            Coding(
                "polis_01",
                1,
                *_span(a, "handlingsplan"),
                "beredskap/handlingsplan",
                "human",
                coder="anna",
            ),
            Coding(
                "polis_01",
                1,
                *_span(a, "handlingsplan"),
                "beredskap/handlingsplan",
                "human",
                coder="björn",
            ),
            Coding(
                "kyrka_02", 0, *_span(k, "Ingen beredskap"), "beredskap", "human", coder="björn"
            ),
        ]
    )
    return store


def _codings(store: Store) -> set[tuple]:
    frame = store.codings_frame()
    return {
        (
            r.document,
            int(r.start),
            int(r.end),
            r.code,
            r.source,
            r.coder if isinstance(r.coder, str) else None,
            r.text,
        )
        for r in frame.itertuples(index=False)
    }


def test_round_trip_preserves_documents_codes_and_spans_exactly(
    project_store: Store, tmp_path: Path
) -> None:
    archive = write_qdpx(project_store, tmp_path / "p.qdpx", codebook=CODEBOOK)
    target = Store(tmp_path / "target.db")
    result = import_qdpx(archive, target)
    assert sorted(target.document_ids()) == sorted(TEXTS)
    for doc_id, text in TEXTS.items():
        assert target.document_text(doc_id) == text
    assert set(target.codes_frame()["path"]) == set(project_store.codes_frame()["path"])
    assert _codings(target) == _codings(project_store)
    assert result.codings_added == 5 and result.notes == []  # 1 rule + 4 human
    assert target.document_metadata("polis_01") == {
        "title": "Polis i Kronobergs län",
        "group": "polis",
        "interviews": 2,
    }
    assert target.document_metadata("kyrka_02")["consent"] is True
    # codings point at the segment holding them
    human = target.codings_frame(source="human")
    assert human["segment"].notna().all()


def test_reimporting_the_same_file_changes_nothing(project_store: Store, tmp_path: Path) -> None:
    archive = write_qdpx(project_store, tmp_path / "p.qdpx")
    again = import_qdpx(archive, project_store)
    assert again.codings_added == 0 and again.codes_added == 0
    assert list(again.documents["status"]) == ["existing", "existing"]


def test_export_is_deterministic_and_texts_are_lf_only_utf8(
    project_store: Store, tmp_path: Path
) -> None:
    one = write_qdpx(project_store, tmp_path / "one.qdpx").read_bytes()
    two = write_qdpx(project_store, tmp_path / "one.qdpx").read_bytes()
    assert one == two
    with zipfile.ZipFile(tmp_path / "one.qdpx") as archive:
        names = archive.namelist()
        assert names[0] == "project.qde"
        texts = {n: archive.read(n).decode("utf-8") for n in names if n.startswith("sources/")}
        root = ET.fromstring(archive.read("project.qde"))
    assert set(texts.values()) == set(TEXTS.values())
    assert all("\r" not in t for t in texts.values())
    # every selection indexes exactly its stored file, in code points
    source = root.find("q:Sources/q:TextSource[@name='polis_01']", NS)
    text = texts["sources/" + source.get("plainTextPath").removeprefix("internal://")]
    spans = {
        text[int(s.get("startPosition")) : int(s.get("endPosition"))]
        for s in source.findall("q:PlainTextSelection", NS)
    }
    assert "Samverkan med socialtjänsten fungerar – oftast. 🙂" in spans


def test_users_name_coders_and_automatic_sources(project_store: Store, tmp_path: Path) -> None:
    xml, _ = build_project(project_store)
    root = ET.fromstring(xml)
    users = {u.get("name"): u.get("id") for u in root.findall("q:Users/q:User", NS)}
    assert users == {"anna": "coder:anna", "björn": "coder:björn", "qcode rule": "qcode:rule"}
    xml, _ = build_project(project_store, human_only=True)
    root = ET.fromstring(xml)
    assert {u.get("name") for u in root.findall("q:Users/q:User", NS)} == {"anna", "björn"}
    assert len(root.findall(".//q:PlainTextSelection", NS)) == 4


def test_cases_carry_metadata_as_variables(project_store: Store) -> None:
    root = ET.fromstring(build_project(project_store)[0])
    variables = {
        v.get("name"): v.get("typeOfVariable") for v in root.findall("q:Variables/q:Variable", NS)
    }
    assert variables == {
        "consent": "Boolean",
        "group": "Text",
        "interviews": "Integer",
        "title": "Text",
    }
    case = root.find("q:Cases/q:Case[@name='polis_01']", NS)
    assert [v.text for v in case.findall("q:VariableValue/q:TextValue", NS)] == [
        "polis",
        "Polis i Kronobergs län",
    ]
    assert case.find("q:SourceRef", NS) is not None


@needs_refi
def test_written_qdpx_is_valid_against_the_refi_schema(project_store: Store) -> None:
    xmlschema = pytest.importorskip("xmlschema")
    schema = xmlschema.XMLSchema(str(refi_dir() / "Project.xsd"))
    for human_only in (False, True):
        xml, _ = build_project(project_store, human_only=human_only, codebook=CODEBOOK)
        schema.validate(xml.decode("utf-8"))


# -- hand-built exports with the quirks of real tools -------------------------------------------
G = "00000000-0000-4000-8000-0000000000{:02d}".format


def make_qdpx(path: Path, qde: str, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("project.qde", qde)
        for name, data in files.items():
            archive.writestr(name, data)
    return path


CRLF_TEXT = "IP: Rad ett om polisen.\r\nIP: Rad två om handlingsplanen.\r\nIP: Slut."

QUIRKY_QDE = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Från ett annat verktyg" origin="Another QDA 9">
  <Users><User guid="{G(1)}" name="Karin"/><User guid="{G(2)}" id="LE"/></Users>
  <CodeBook><Codes>
    <Code guid="{G(10)}" name="Beredskap" isCodable="true">
      <Code guid="{G(11)}" name="Handlingsplan" isCodable="true"/>
    </Code>
    <Code guid="{G(12)}" name="Första kontakt" isCodable="true" color="#abc"/>
  </Codes></CodeBook>
  <Variables><Variable guid="{G(40)}" name="grupp" typeOfVariable="Text"/></Variables>
  <Cases><Case guid="{G(41)}" name="fall 1">
    <VariableValue><VariableRef targetGUID="{G(40)}"/><TextValue>polis</TextValue></VariableValue>
    <SourceRef targetGUID="{G(20)}"/>
  </Case></Cases>
  <Sources>
    <TextSource guid="{G(20)}" name="intervju_crlf" plainTextPath="internal://{G(20)}.txt">
      <PlainTextSelection guid="{G(30)}" startPosition="{CRLF_TEXT.index("Rad två")}"
          endPosition="{CRLF_TEXT.index("Rad två") + len("Rad två om handlingsplanen.")}" creatingUser="{G(1)}">
        <Coding guid="{G(31)}" creatingUser="{G(1)}"><CodeRef targetGUID="{G(11)}"/></Coding>
        <Coding guid="{G(32)}" creatingUser="{G(2)}"><CodeRef targetGUID="{G(10)}"/></Coding>
      </PlainTextSelection>
      <PlainTextSelection guid="{G(33)}" startPosition="{CRLF_TEXT.index("Slut")}" endPosition="9999">
        <Coding guid="{G(34)}" creatingUser="{G(1)}"><CodeRef targetGUID="{G(12)}"/></Coding>
      </PlainTextSelection>
      <PlainTextSelection guid="{G(35)}" startPosition="5" endPosition="7">
        <Coding guid="{G(36)}" creatingUser="{G(1)}"><CodeRef targetGUID="{G(99)}"/></Coding>
      </PlainTextSelection>
    </TextSource>
    <TextSource guid="{G(21)}" plainTextPath="relative://texter/enkat.txt">
      <Coding guid="{G(37)}" creatingUser="{G(2)}"><CodeRef targetGUID="{G(12)}"/></Coding>
    </TextSource>
    <TextSource guid="{G(22)}" name="inline">
      <PlainTextContent>Svar: vi ringer alltid socialen först.</PlainTextContent>
      <PlainTextSelection guid="{G(38)}" startPosition="6" endPosition="38">
        <Coding guid="{G(39)}" creatingUser="{G(1)}"><CodeRef targetGUID="{G(12)}"/></Coding>
      </PlainTextSelection>
    </TextSource>
    <TextSource guid="{G(23)}" name="bara_word" richTextPath="internal://{G(23)}.docx"
        plainTextPath="internal://{G(23)}.txt"/>
    <PDFSource guid="{G(24)}" name="rapport.pdf" path="internal://{G(24)}.pdf"/>
  </Sources>
</Project>
"""


@pytest.fixture
def quirky(tmp_path: Path) -> Path:
    return make_qdpx(
        tmp_path / "quirky.qdpx",
        QUIRKY_QDE,
        {
            f"Sources/{G(20)}.txt": CRLF_TEXT.encode("utf-8"),
            "Sources/enkat.txt": "\ufeffEnkätsvar: vi vet inte vem vi ska ringa.\n".encode("utf-8"),
            f"Sources/{G(23)}.docx": b"PK fake docx",
            f"Sources/{G(23)}.txt": b"\n",
        },
    )


def test_import_tolerates_real_world_quirks(quirky: Path, tmp_path: Path) -> None:
    store = Store(tmp_path / "q.db")
    result = import_qdpx(quirky, store, coder_prefix="ext:")
    assert list(result.documents["document"]) == ["intervju_crlf", "enkat", "inline"]
    text = store.document_text("intervju_crlf")
    assert text == CRLF_TEXT.replace("\r\n", "\n")
    codings = store.codings_frame()
    spans = {(r.document, r.code, r.coder, r.text) for r in codings.itertuples(index=False)}
    assert spans == {
        ("intervju_crlf", "beredskap/handlingsplan", "ext:Karin", "Rad två om handlingsplanen."),
        ("intervju_crlf", "beredskap", "ext:LE", "Rad två om handlingsplanen."),
        ("intervju_crlf", "forsta_kontakt", "ext:Karin", "Slut."),  # clipped at the end
        ("enkat", "forsta_kontakt", "ext:LE", "Enkätsvar: vi vet inte vem vi ska ringa.\n"),
        ("inline", "forsta_kontakt", "ext:Karin", "vi ringer alltid socialen först."),
    }
    assert set(codings["source"]) == {"human"}
    assert store.document_text("enkat").startswith("Enkätsvar")  # BOM dropped
    assert store.document_metadata("intervju_crlf") == {"grupp": "polis"}
    codes = store.codes_frame().set_index("path")
    assert codes.loc["forsta_kontakt", "label"] == "Första kontakt"
    assert codes.loc["forsta_kontakt", "color"] == "#aabbcc"
    assert codes.loc["beredskap/handlingsplan", "parent"] == "beredskap"
    notes = "\n".join(result.notes)
    assert "'intervju_crlf': 1 selection(s) ran past the text; clipped" in notes
    assert "1 coding(s) point at no code" in notes
    assert f"'bara_word' has only rich text ({G(23)}.docx), no plain text; skipped" in notes
    assert "1 PDFSource(s) skipped" in notes


def test_crlf_offsets_map_onto_the_lf_text() -> None:
    raw = "a\r\nbå\r\nc"
    text, where = normalise_with_offsets(raw)
    assert text == "a\nbå\nc"
    assert text[where[raw.index("bå")] : where[raw.index("bå") + 2]] == "bå"
    decomposed = "e\u0301\r\nx"  # é as e + combining acute: NFC makes it one code point
    text, where = normalise_with_offsets(decomposed)
    assert text == "\u00e9\nx" and where[2] == where[3] == 1 and where[4] == 2 and where[5] == 3


def test_an_existing_document_id_with_another_text_is_imported_under_a_new_id(
    quirky: Path, tmp_path: Path
) -> None:
    store = Store(tmp_path / "q.db")
    other = Document("inline", "Helt annan text.", "x.txt", ())
    store.save_document(other, "x", [], [], tag_key=None)
    result = import_qdpx(quirky, store)
    assert "inline-2" in set(result.documents["document"])
    assert store.document_text("inline") == "Helt annan text."
    assert any(
        "'inline' already exists with another text; imported as 'inline-2'" in n
        for n in result.notes
    )
    again = import_qdpx(quirky, store)
    assert again.codings_added == 0
    assert (
        dict(zip(again.documents["document"], again.documents["status"]))["inline-2"] == "renamed"
    )


# -- the sample exports of other tools (shared, never copied into the repo) ----------------------
@needs_refi
def test_sample_from_qc_imports_with_exact_line_selections(tmp_path: Path) -> None:
    store = Store(tmp_path / "qc.db")
    result = import_qdpx(refi_dir() / "samples" / "qc-demo.qdpx", store, coder_prefix="qc:")
    assert sorted(store.document_ids()) == ["admin-1", "board_2017"]
    assert result.codings_added == 205
    codings = store.codings_frame()
    assert set(codings["coder"]) == {"qc:cp"}
    first = codings[(codings["document"] == "board_2017") & (codings["start"] == 320)]
    assert first["text"].iloc[0].startswith("This district goal is engage every student")
    assert first["text"].iloc[0].endswith("learning that \n")  # the tool codes whole lines


@needs_refi
def test_sample_from_nvivo_with_docx_only_sources_is_reported_not_guessed(tmp_path: Path) -> None:
    store = Store(tmp_path / "nv.db")
    result = import_qdpx(refi_dir() / "samples" / "nvivo15-mac.qdpx", store)
    assert store.document_ids() == []
    assert result.codes_added == 262
    assert sum("has only rich text" in n for n in result.notes) == 2
    # nested duplicate names ("programming" twice) become distinct paths
    paths = set(store.codes_frame()["path"])
    assert {
        "rq1_definition/competencies/programming",
        "rq1_definition/framings/cs_as_programming/programming",
    } <= paths


# -- hostile archives ------------------------------------------------------------------------------
MINIMAL_QDE = '<Project xmlns="urn:QDA-XML:project:1.0" name="p"/>'


@pytest.mark.parametrize(
    "member",
    [
        "../../evil.txt",
        "/etc/evil.txt",
        "sources/../../x.txt",
        "C:/Windows/x.txt",
        "sources\\..\\..\\x.txt",
    ],
)
def test_zip_slip_members_are_refused(tmp_path: Path, member: str) -> None:
    archive = make_qdpx(tmp_path / "slip.qdpx", MINIMAL_QDE, {member: b"boom"})
    with pytest.raises(ExchangeError, match="outside the project folder"):
        read_qdpx(archive)


def test_xml_entity_attacks_are_refused_with_one_line(tmp_path: Path) -> None:
    qde = (
        '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<Project xmlns="urn:QDA-XML:project:1.0" name="&x;"/>'
    )
    archive = make_qdpx(tmp_path / "xxe.qdpx", qde, {})
    result = CliRunner().invoke(
        cli, ["import", "qdpx", str(archive), "--db", str(tmp_path / "x.db")]
    )
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0
    assert "xxe.qdpx:project.qde: refused: the XML declares a DTD or entities" in result.output


def test_size_limits_and_zip_bombs_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = tmp_path / "bomb.qdpx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", MINIMAL_QDE)
        archive.writestr("sources/zeros.txt", b"0" * (4 * 1024 * 1024))
    with pytest.raises(ExchangeError, match="a zip bomb"):
        read_qdpx(bomb)
    monkeypatch.setattr(xmlutil, "MAX_MEMBER_BYTES", 10)
    plain = make_qdpx(tmp_path / "big.qdpx", MINIMAL_QDE, {})
    with pytest.raises(ExchangeError, match=r"member 'project.qde' is \d+ bytes \(limit 10\)"):
        read_qdpx(plain)
    monkeypatch.setattr(xmlutil, "MAX_MEMBERS", 1)
    monkeypatch.setattr(xmlutil, "MAX_MEMBER_BYTES", 10**6)
    many = make_qdpx(tmp_path / "many.qdpx", MINIMAL_QDE, {"sources/a.txt": b"a"})
    with pytest.raises(ExchangeError, match="2 members"):
        read_qdpx(many)


def test_not_a_qdpx(tmp_path: Path) -> None:
    fake = tmp_path / "fake.qdpx"
    fake.write_text("hej", encoding="utf-8")
    with pytest.raises(ExchangeError, match="not a .qdpx"):
        read_qdpx(fake)
    empty = make_qdpx(tmp_path / "empty.qdpx", "", {})
    with zipfile.ZipFile(tmp_path / "noqde.qdpx", "w") as archive:
        archive.writestr("sources/a.txt", "a")
    with pytest.raises(ExchangeError, match="no project.qde inside"):
        read_qdpx(tmp_path / "noqde.qdpx")
    with pytest.raises(ExchangeError, match="not well-formed"):
        read_qdpx(empty)


# -- command line ----------------------------------------------------------------------------------
def test_cli_export_and_import_qdpx(
    project_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no qcode.yaml here: the command works from --db alone
    runner = CliRunner()
    db = str(project_store.path)
    out = tmp_path / "p.qdpx"
    result = runner.invoke(cli, ["export", "qdpx", "--db", db, "-o", str(out), "--human-only"])
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote {out}\n"
    target = tmp_path / "t.db"
    result = runner.invoke(
        cli, ["import", "qdpx", str(out), "--db", str(target), "--coder-prefix", "p:"]
    )
    assert result.exit_code == 0, result.output
    assert "documents: 2; codes added: 3; codings added: 4" in result.output
    with Store(target) as store:
        assert set(store.codings_frame()["coder"]) == {"p:anna", "p:björn"}


def test_project_api_segments_imported_texts_by_speaker_turn(quirky: Path, tmp_path: Path) -> None:
    from qcode import Project

    with Project(tmp_path, db=tmp_path / "api.db") as project:
        result = project.import_qdpx(quirky, coder_prefix="ext:")
        assert result.codings_added == 5
        segments = project.segments("intervju_crlf")
        assert list(segments["speaker"]) == ["IP", "IP", "IP"]
        codings = project.codings(source="human")
        row = codings[codings["code"] == "beredskap/handlingsplan"].iloc[0]
        assert row["segment"] == 1 and row["speaker"] == "IP"
        written = project.export_qdpx(tmp_path / "again.qdpx", human_only=True)
    assert zipfile.is_zipfile(written)


# -- round trips through other tools (issue 15) and hostile projects (issue 19) ----------------------
def qualcoder_style(archive: Path, target: Path) -> Path:
    """Rewrite a qcode export the way QualCoder exports it again: no ``User/@id``, new source
    GUIDs, ``.txt`` added to source names, texts with a UTF-8 BOM, cases without SourceRef."""
    with zipfile.ZipFile(archive) as z:
        root = ET.fromstring(z.read("project.qde"))
        texts = {n: z.read(n) for n in z.namelist() if n.startswith("sources/")}
    ET.register_namespace("", NS["q"])
    for user in root.iter(f"{{{NS['q']}}}User"):
        user.attrib.pop("id", None)
    for case in root.iter(f"{{{NS['q']}}}Case"):
        for ref in case.findall("q:SourceRef", NS):
            case.remove(ref)
    files = {}
    for n, source in enumerate(root.iter(f"{{{NS['q']}}}TextSource")):
        new_guid = G(60 + n)
        old = "sources/" + source.get("plainTextPath").removeprefix("internal://")
        files[f"sources/{new_guid}.txt"] = b"\xef\xbb\xbf" + texts[old]
        source.set("guid", new_guid)
        source.set("plainTextPath", f"internal://{new_guid}.txt")
        source.set("name", source.get("name") + ".txt")
    return make_qdpx(target, ET.tostring(root, encoding="unicode"), files)


def test_qualcoder_style_round_trip_adds_no_codings_to_the_original_project(
    project_store: Store, tmp_path: Path
) -> None:
    before = _codings(project_store)
    archive = qualcoder_style(write_qdpx(project_store, tmp_path / "p.qdpx"), tmp_path / "qc.qdpx")
    result = import_qdpx(archive, project_store)
    assert result.codings_added == 0 and result.codes_added == 0
    assert list(result.documents["status"]) == ["existing", "existing"]
    assert sorted(project_store.document_ids()) == sorted(TEXTS)
    assert _codings(project_store) == before
    # with a coder prefix the same human codings are still recognised as the project's own
    assert import_qdpx(archive, project_store, coder_prefix="qualcoder:").codings_added == 0


def test_qualcoder_style_file_into_a_new_project_keeps_sources_and_metadata(
    project_store: Store, tmp_path: Path
) -> None:
    archive = qualcoder_style(write_qdpx(project_store, tmp_path / "p.qdpx"), tmp_path / "qc.qdpx")
    target = Store(tmp_path / "new.db")
    import_qdpx(archive, target)
    assert sorted(target.document_ids()) == sorted(TEXTS)  # ".txt" left off the ids
    assert _codings(target) == _codings(project_store)  # rule stays rule, humans by name
    assert set(target.codings_frame(source="human")["coder"]) == {"anna", "björn"}
    # metadata from the cases (matched by name) and the title from TextSource/Description
    assert target.document_metadata("polis_01") == {
        "title": "Polis i Kronobergs län",
        "group": "polis",
        "interviews": 2,
    }


def test_users_named_as_automatic_sources_come_back_as_those_sources(tmp_path: Path) -> None:
    qde = f"""<Project xmlns="urn:QDA-XML:project:1.0" name="p" origin="QualCoder 3.5">
  <Users><User guid="{G(1)}" name="qcode rule"/><User guid="{G(2)}" name="qcode companion"/>
    <User guid="{G(3)}" name="QCODE model"/><User guid="{G(4)}" name="Qcode-fan"/></Users>
  <CodeBook><Codes><Code guid="{G(10)}" name="kod" isCodable="true"/></Codes></CodeBook>
  <Sources><TextSource guid="{G(20)}" name="t"><PlainTextContent>IP: ett två tre</PlainTextContent>
    <PlainTextSelection guid="{G(30)}" startPosition="4" endPosition="7">
      <Coding guid="{G(31)}" creatingUser="{G(1)}"><CodeRef targetGUID="{G(10)}"/></Coding>
      <Coding guid="{G(32)}" creatingUser="{G(2)}"><CodeRef targetGUID="{G(10)}"/></Coding>
      <Coding guid="{G(33)}" creatingUser="{G(3)}"><CodeRef targetGUID="{G(10)}"/></Coding>
      <Coding guid="{G(34)}" creatingUser="{G(4)}"><CodeRef targetGUID="{G(10)}"/></Coding>
    </PlainTextSelection></TextSource></Sources>
</Project>"""
    store = Store(tmp_path / "u.db")
    import_qdpx(make_qdpx(tmp_path / "u.qdpx", qde, {}), store)
    rows = {
        (r.source, r.coder if isinstance(r.coder, str) else None)
        for r in store.codings_frame().itertuples(index=False)
    }
    assert rows == {("rule", None), ("companion", None), ("model", None), ("human", "Qcode-fan")}


def test_duplicate_source_guids_keep_each_sources_own_selections(tmp_path: Path) -> None:
    qde = f"""<Project xmlns="urn:QDA-XML:project:1.0" name="p">
  <Users><User guid="{G(1)}" name="Karin"/></Users>
  <CodeBook><Codes><Code guid="{G(10)}" name="kod" isCodable="true"/></Codes></CodeBook>
  <Sources>
    <TextSource guid="{G(20)}" name="a"><PlainTextContent>Alfa alfa alfa.</PlainTextContent>
      <PlainTextSelection guid="{G(30)}" startPosition="0" endPosition="4">
        <Coding guid="{G(31)}" creatingUser="{G(1)}"><CodeRef targetGUID="{G(10)}"/></Coding>
      </PlainTextSelection></TextSource>
    <TextSource guid="{G(20)}" name="b"><PlainTextContent>Beta, helt annan text här.</PlainTextContent>
      <PlainTextSelection guid="{G(32)}" startPosition="6" endPosition="10">
        <Coding guid="{G(33)}" creatingUser="{G(1)}"><CodeRef targetGUID="{G(10)}"/></Coding>
      </PlainTextSelection></TextSource>
  </Sources>
</Project>"""
    store = Store(tmp_path / "d.db")
    result = import_qdpx(make_qdpx(tmp_path / "d.qdpx", qde, {}), store)
    texts = {(r.document, r.text) for r in store.codings_frame().itertuples(index=False)}
    assert texts == {("a", "Alfa"), ("b", "helt")}
    assert any(f"'b' repeats the GUID {G(20)}" in n for n in result.notes)


def test_atlas_ti_origin_counts_crlf_as_one_and_every_cr_source_is_noted(tmp_path: Path) -> None:
    raw = "IP: Rad ett.\r\nIP: Rad två om planen.\r\nIP: Slut."
    lf = raw.replace("\r\n", "\n")

    def project(origin: str, start: int, end: int) -> Path:
        qde = f"""<Project xmlns="urn:QDA-XML:project:1.0" name="p" origin="{origin}">
  <CodeBook><Codes><Code guid="{G(10)}" name="kod" isCodable="true"/></Codes></CodeBook>
  <Sources><TextSource guid="{G(20)}" name="crlf" plainTextPath="internal://{G(20)}.txt">
    <PlainTextSelection guid="{G(30)}" startPosition="{start}" endPosition="{end}">
      <Coding guid="{G(31)}" creatingUser="{G(1)}"><CodeRef targetGUID="{G(10)}"/></Coding>
    </PlainTextSelection></TextSource></Sources></Project>"""
        return make_qdpx(
            tmp_path / f"{origin[:5]}.qdpx", qde, {f"sources/{G(20)}.txt": raw.encode()}
        )

    atlas = read_qdpx(project("ATLAS.ti 23.1", lf.index("Slut"), lf.index("Slut") + 5))
    sel = atlas.selections[0]
    assert atlas.sources[0].text[sel.start : sel.end] == "Slut."
    assert any(
        "'crlf' has CR line ends; positions read with CRLF counted as one position "
        "(Project/@origin 'ATLAS.ti 23.1' is ATLAS.ti)" in n
        for n in atlas.notes
    )
    other = read_qdpx(project("MAXQDA 2022", raw.index("Slut"), raw.index("Slut") + 5))
    sel = other.selections[0]
    assert other.sources[0].text[sel.start : sel.end] == "Slut."
    assert any(
        "'crlf' has CR line ends; positions read with CRLF counted as two positions" in n
        for n in other.notes
    )


def test_not_codable_categories_are_kept_in_the_store_and_exported(tmp_path: Path) -> None:
    qde = f"""<Project xmlns="urn:QDA-XML:project:1.0" name="p">
  <CodeBook><Codes><Code guid="{G(10)}" name="Teman" isCodable="false">
    <Code guid="{G(11)}" name="tema" isCodable="true"/></Code></Codes></CodeBook></Project>"""
    store = Store(tmp_path / "c.db")
    import_qdpx(make_qdpx(tmp_path / "c.qdpx", qde, {}), store)
    codable = dict(zip(store.codes_frame()["path"], store.codes_frame()["codable"]))
    assert codable == {"teman": False, "teman/tema": True}
    root = ET.fromstring(build_project(store)[0])
    assert {c.get("name"): c.get("isCodable") for c in root.iter(f"{{{NS['q']}}}Code")} == {
        "Teman": "false",
        "tema": "true",
    }


def test_codes_imported_from_a_qdpx_survive_the_next_tag(quirky: Path, tmp_path: Path) -> None:
    store = Store(tmp_path / "k.db")
    import_qdpx(quirky, store)
    imported = set(store.codes_frame()["path"])
    codings = _codings(store)
    store.save_codes(CODEBOOK.walk(), CODEBOOK.sha256)  # what every `qcode tag` does first
    codes = store.codes_frame()
    assert set(codes["path"]) == imported | {c.path for c in CODEBOOK.walk()}
    assert list(codes["path"])[:3] == [c.path for c in CODEBOOK.walk()]  # the codebook first
    assert _codings(store) == codings
    assert build_project(store)[0].count(b"<Code ") == len(codes)


@pytest.mark.parametrize("member", ["project.qde", "codebook.qdc"])
def test_thousands_of_nested_codes_are_one_line_error(tmp_path: Path, member: str) -> None:
    from qcode.exchange.qdc import read_qdc

    nested = "".join(f'<Code guid="{G(i % 90)}" name="k{i}" isCodable="true">' for i in range(3000))
    codes = f"<Codes>{nested}{'</Code>' * 3000}</Codes>"
    if member == "project.qde":
        qde = f'<Project xmlns="urn:QDA-XML:project:1.0" name="p"><CodeBook>{codes}</CodeBook></Project>'
        with pytest.raises(
            ExchangeError, match=r"nested more than 20 levels deep \(at code 'k20'\)"
        ):
            read_qdpx(make_qdpx(tmp_path / "deep.qdpx", qde, {}))
    else:
        path = tmp_path / "deep.qdc"
        path.write_text(
            f'<CodeBook xmlns="urn:QDA-XML:codebook:1.0">{codes}</CodeBook>', encoding="utf-8"
        )
        with pytest.raises(ExchangeError, match="nested more than 20 levels deep"):
            read_qdc(path)


def test_a_damaged_member_is_a_one_line_error(tmp_path: Path) -> None:
    text = " ".join(f"ord{i}" for i in range(400)).encode()
    qde = (
        f'<Project xmlns="urn:QDA-XML:project:1.0" name="p"><Sources><TextSource guid="{G(20)}" '
        f'name="a" plainTextPath="internal://a.txt"/></Sources></Project>'
    )
    archive = make_qdpx(tmp_path / "damaged.qdpx", qde, {})
    with zipfile.ZipFile(archive, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("sources/a.txt", text)
    data = bytearray(archive.read_bytes())
    at = data.index(b"sources/a.txt") + len("sources/a.txt") + 20  # inside its deflated data
    data[at : at + 8] = b"\xff" * 8
    archive.write_bytes(bytes(data))
    with pytest.raises(
        ExchangeError, match=r"member 'sources/a.txt' cannot be read: the archive is damaged"
    ):
        read_qdpx(archive)


def test_project_sets_are_reported_with_their_codes_and_sources(tmp_path: Path) -> None:
    qde = f"""<Project xmlns="urn:QDA-XML:project:1.0" name="p">
  <CodeBook><Codes><Code guid="{G(10)}" name="Polisen" isCodable="true"/></Codes></CodeBook>
  <Sources><TextSource guid="{G(20)}" name="intervju 3"><PlainTextContent>Text.</PlainTextContent>
  </TextSource></Sources>
  <Sets><Set guid="{G(50)}" name="Myndigheter"><MemberCode targetGUID="{G(10)}"/>
    <MemberSource targetGUID="{G(20)}"/></Set></Sets>
</Project>"""
    result = import_qdpx(make_qdpx(tmp_path / "s.qdpx", qde, {}), Store(tmp_path / "s.db"))
    assert (
        "set 'Myndigheter' not kept (qcode has no code groups); its 2 member(s): polisen, "
        "intervju 3" in result.notes
    )
