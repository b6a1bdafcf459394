"""REFI-QDA codebooks (.qdc): YAML -> QDC -> YAML round-trip, stable GUIDs, foreign codebooks,
schema validity and hostile XML."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from qcode.cli import cli
from qcode.codebook import codebook_from_yaml_text, load_codebook
from qcode.errors import ExchangeError
from qcode.exchange.qdc import (
    codebook_to_qdc_bytes,
    describe_code,
    import_qdc,
    parse_description,
    read_qdc,
    write_qdc,
)
from qcode.exchange.xmlutil import slug_id

REPO = Path(__file__).resolve().parents[1]

CODEBOOK_YAML = """\
name: Prov
version: "2"
language: sv
codes:
  - id: beredskap
    label: Beredskap
    description: |
      Hur verksamheten är förberedd på att möta ett misstänkt fall.
      Rutiner, planer och vem som ansvarar.
    include: Handlingsplaner, rutiner, utsedd ansvarig.
    exclude: Samarbete med andra myndigheter (samverkan).
    color: "#1F77B4"
    codes:
      - id: handlingsplan
        label: Handlingsplan
        description: En skriven plan för hur ett fall hanteras.
        examples:
          - Vi har en handlingsplan sedan i fjol.
          - "Planen ligger i pärmen: alla vet var."
        patterns:
          terms: [handlingsplan]
      - id: saknas
        label: Saknas
        patterns:
          phrases: ["ingen beredskap"]
  - id: dubbla_roller
    label: Dubbla roller
    description: Förtroende och tystnadsplikt mot viljan att anmäla.
    color: "#ff7f0e"
    patterns:
      terms: [tystnadsplikt, sekretess]
"""


def refi_dir() -> Path | None:
    """The shared REFI-QDA folder: ``<repo>/../shared/refi`` (CI) or ``/work/shared/refi``."""
    for candidate in (REPO.parent / "shared" / "refi", Path("/work/shared/refi")):
        if (candidate / "Codebook.xsd").exists():
            return candidate
    return None


needs_refi = pytest.mark.skipif(
    refi_dir() is None,
    reason="REFI-QDA schemas not found (../shared/refi next to the repo, or /work/shared/refi)",
)


@pytest.fixture
def codebook_file(tmp_path: Path) -> Path:
    path = tmp_path / "prov.yaml"
    path.write_text(CODEBOOK_YAML, encoding="utf-8")
    return path


def _fields(codebook) -> dict[str, tuple]:
    return {
        c.path: (
            c.id,
            c.label,
            c.description.strip(),
            c.include.strip(),
            c.exclude.strip(),
            tuple(e.strip() for e in c.examples),
            c.color,
            tuple(ch.path for ch in c.children),
        )
        for c in codebook.walk()
    }


def test_yaml_qdc_yaml_round_trip_keeps_ids_labels_definitions_hierarchy_colours(
    codebook_file: Path, tmp_path: Path
) -> None:
    original = load_codebook(codebook_file)
    qdc = write_qdc(original, tmp_path / "prov.qdc")
    back = import_qdc(qdc, tmp_path / "back.yaml")
    assert back.codes == 4
    imported = (tmp_path / "back.yaml").read_text(encoding="utf-8")
    # the imported YAML has no patterns (REFI has none): parse it without validation of those
    reread = read_qdc(qdc)
    assert _fields(type(original)("x", "1", "sv", tuple(reread.codes))) == _fields(original)
    assert "pärmen" in imported and "beredskap/handlingsplan" in " ".join(back.notes)


def test_patterns_stay_in_the_yaml_when_importing_over_it(
    codebook_file: Path, tmp_path: Path
) -> None:
    qdc = write_qdc(load_codebook(codebook_file), tmp_path / "prov.qdc")
    result = import_qdc(qdc, codebook_file)
    reloaded = load_codebook(codebook_file)  # valid: every leaf got its patterns back
    assert _fields(reloaded) == _fields(codebook_from_yaml_text(CODEBOOK_YAML))
    assert reloaded.get("beredskap/handlingsplan").patterns.terms[0].text == "handlingsplan"
    assert reloaded.get("dubbla_roller").patterns.count == 2
    assert (reloaded.name, reloaded.version) == ("Prov", "2")
    assert any("kept the patterns of 3 code(s)" in note for note in result.notes)


def test_guids_are_deterministic_and_follow_the_code_path(codebook_file: Path) -> None:
    codebook = load_codebook(codebook_file)
    first, second = codebook_to_qdc_bytes(codebook), codebook_to_qdc_bytes(codebook)
    assert first == second
    guids = [c.get("guid") for c in _codes(first)]
    assert len(set(guids)) == 4
    assert all(uuid.UUID(g).version == 5 for g in guids)


def _codes(data: bytes):
    from xml.etree import ElementTree as ET

    return [e for e in ET.fromstring(data).iter() if e.tag.endswith("}Code")]


def test_criteria_and_examples_are_readable_in_the_description(codebook_file: Path) -> None:
    code = load_codebook(codebook_file).get("beredskap/handlingsplan")
    text = describe_code(code, "sv")
    assert text.splitlines()[0] == "En skriven plan för hur ett fall hanteras."
    assert "Exempel:\n- Vi har en handlingsplan sedan i fjol.\n" in text
    assert text.endswith("qcode-id: handlingsplan")
    parsed = parse_description(text)
    assert parsed["examples"] == [
        "Vi har en handlingsplan sedan i fjol.",
        "Planen ligger i pärmen: alla vet var.",
    ]


def test_a_description_from_another_tool_is_kept_whole() -> None:
    text = "Definition.\nExempel: något som liknar vår rubrik."
    assert parse_description(text) == {"description": text}


FOREIGN_QDC = """<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="Another tool 3.1">
  <Codes>
    <Code guid="11111111-2222-3333-4444-555555555555" name="Första kontakt" isCodable="true">
      <Description>När man först möter en möjlig utsatt.</Description>
      <Code guid="11111111-2222-3333-4444-555555555556" name="polis" isCodable="true" color="#0A0"/>
      <Code guid="11111111-2222-3333-4444-555555555557" name="Polis!" isCodable="true"/>
    </Code>
    <Code guid="11111111-2222-3333-4444-555555555558" name="rapportering" isCodable="true" color="red"/>
  </Codes>
</CodeBook>
"""


def test_codes_from_other_tools_get_slug_ids_and_keep_their_names_as_labels(tmp_path: Path) -> None:
    qdc = tmp_path / "foreign.qdc"
    qdc.write_text(FOREIGN_QDC, encoding="utf-8")
    imported = read_qdc(qdc)
    by_path = {c.path: c for c in imported.walk()}
    assert list(by_path) == [
        "forsta_kontakt",
        "forsta_kontakt/polis",
        "forsta_kontakt/polis_2",
        "rapportering",
    ]
    assert by_path["forsta_kontakt"].label == "Första kontakt"
    assert by_path["forsta_kontakt"].description == "När man först möter en möjlig utsatt."
    assert by_path["forsta_kontakt/polis"].color == "#00aa00"
    assert by_path["forsta_kontakt/polis_2"].label == "Polis!"
    assert by_path["rapportering"].color is None
    assert any("'Första kontakt' -> forsta_kontakt" in n for n in imported.notes)
    assert any("colour 'red'" in n for n in imported.notes)


def test_slug_ids() -> None:
    assert slug_id("Tas på allvar?") == "tas_pa_allvar"
    assert slug_id("2010 års enkät") == "k_2010_ars_enkat"
    assert slug_id("—") == "kod"


@needs_refi
def test_written_qdc_is_valid_against_the_refi_schema(codebook_file: Path, tmp_path: Path) -> None:
    xmlschema = pytest.importorskip("xmlschema")
    schema_text = (refi_dir() / "Codebook.xsd").read_text(encoding="utf-8")
    # Some published copies of Codebook.xsd spell the hyphens in its GUID/colour patterns as
    # U+2010 (typographic hyphen), which rejects every real GUID; Project.xsd has ASCII
    # hyphens. Validate against the schema as intended, whichever copy is beside us.
    schema = xmlschema.XMLSchema(schema_text.replace("\u2010", "-"))
    qdc = write_qdc(load_codebook(codebook_file), tmp_path / "prov.qdc")
    schema.validate(str(qdc))


def test_xml_entities_and_dtds_are_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.qdc"
    bomb.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>\n'
        '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
        '<Code guid="11111111-2222-3333-4444-555555555555" name="&lol2;" isCodable="true"/>'
        "</Codes></CodeBook>",
        encoding="utf-8",
    )
    with pytest.raises(ExchangeError, match="refused: the XML declares a DTD or entities"):
        read_qdc(bomb)
    external = tmp_path / "xxe.qdc"
    external.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
        '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
        '<Code guid="11111111-2222-3333-4444-555555555555" name="&secret;" isCodable="true"/>'
        "</Codes></CodeBook>",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli, ["codebook", "import", str(external), "-o", str(tmp_path / "x.yaml")]
    )
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "xxe.qdc: refused" in result.output
    assert not (tmp_path / "x.yaml").exists()


def test_malformed_and_wrong_files_give_one_line_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.qdc"
    broken.write_text("<CodeBook><Codes>", encoding="utf-8")
    with pytest.raises(ExchangeError, match="not well-formed XML"):
        read_qdc(broken)
    other = tmp_path / "other.qdc"
    other.write_text('<Project xmlns="urn:QDA-XML:project:1.0" name="p"/>', encoding="utf-8")
    with pytest.raises(ExchangeError, match="expected 'CodeBook'"):
        read_qdc(other)


def test_cli_export_and_import(codebook_file: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "prov.qdc"
    result = runner.invoke(
        cli, ["codebook", "export", str(codebook_file), "--format", "qdc", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote {out}\n"
    assert b'name="Dubbla roller"' in out.read_bytes()
    target = tmp_path / "ny.yaml"
    result = runner.invoke(cli, ["codebook", "import", str(out), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert f"wrote {target} (4 codes)" in result.output
    assert "warning: 3 code(s) have no patterns" in result.output
    text = target.read_text(encoding="utf-8")
    assert "id: dubbla_roller" in text and "label: Dubbla roller" in text and "'#ff7f0e'" in text


def test_sets_are_reported_with_their_members_and_not_codable_is_kept(tmp_path: Path) -> None:
    g = "00000000-0000-4000-8000-0000000000{:02d}".format
    qdc = tmp_path / "sets.qdc"
    qdc.write_text(
        f"""<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="Taguette">
  <Codes><Code guid="{g(1)}" name="Teman" isCodable="false">
      <Code guid="{g(2)}" name="Polisen" isCodable="true"/></Code>
    <Code guid="{g(3)}" name="Skolan" isCodable="true"/></Codes>
  <Sets><Set guid="{g(9)}" name="Myndigheter"><MemberCode targetGUID="{g(2)}"/>
    <MemberCode targetGUID="{g(3)}"/></Set></Sets>
</CodeBook>""",
        encoding="utf-8",
    )
    result = import_qdc(qdc, tmp_path / "out.yaml")
    assert (
        "set 'Myndigheter' not kept (qcode has no code groups); its 2 member(s): "
        "teman/polisen, skolan" in result.notes
    )
    text = (tmp_path / "out.yaml").read_text(encoding="utf-8")
    assert "codable: false" in text
    book = codebook_from_yaml_text(
        text.replace("codes:\n  - id: polisen", "codes:\n  - id: polisen")
        .replace("label: Polisen", "label: Polisen\n    patterns: {terms: [polis]}")
        .replace("label: Skolan", "label: Skolan\n  patterns: {terms: [skola]}")
    )
    assert [c.codable for c in book.walk()] == [False, True, True]
    assert b'name="Teman" isCodable="false"' in codebook_to_qdc_bytes(book)


def test_a_not_codable_code_takes_no_patterns() -> None:
    from qcode.codebook import validate_codebook_text

    problems = validate_codebook_text(
        "name: x\ncodes:\n  - id: a\n    label: A\n    codable: false\n    patterns: {terms: [a]}\n"
    )
    assert any("codable: false" in str(p) and "takes no patterns" in str(p) for p in problems)
    assert (
        validate_codebook_text("name: x\ncodes:\n  - id: a\n    label: A\n    codable: false\n")
        == []
    )


def test_importing_over_an_existing_yaml_keeps_a_backup_with_its_comments(
    codebook_file: Path, tmp_path: Path
) -> None:
    qdc = write_qdc(load_codebook(codebook_file), tmp_path / "prov.qdc")
    codebook_file.write_text("# våra anteckningar om koderna\n" + CODEBOOK_YAML, encoding="utf-8")
    result = CliRunner().invoke(cli, ["codebook", "import", str(qdc), "-o", str(codebook_file)])
    assert result.exit_code == 0, result.output
    backup = codebook_file.with_name("prov.yaml.bak")
    assert backup.read_text(encoding="utf-8").startswith("# våra anteckningar")
    assert f"the old prov.yaml is kept as {backup}" in result.output
    codebook_file.write_text("# andra anteckningar\n" + CODEBOOK_YAML, encoding="utf-8")
    import_qdc(qdc, codebook_file)
    assert backup.read_text(encoding="utf-8").startswith("# våra anteckningar")  # never overwritten
    assert (
        codebook_file.with_name("prov.yaml.1.bak").read_text(encoding="utf-8").startswith("# andra")
    )
