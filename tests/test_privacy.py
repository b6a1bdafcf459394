"""Pseudonymisation: what is replaced, how placeholders stay stable, and the output check."""

from __future__ import annotations

import zipfile

import docx
import openpyxl
import pytest
from click.testing import CliRunner

from qcode.cli import cli
from qcode.privacy import Redactor, is_personal_number, luhn_ok
from qcode.store import Store


@pytest.mark.parametrize(
    "text",
    [
        "811218-9876",
        "8112189876",
        "19811218-9876",
        "198112189876",
        "811218+9876",
        "811278-9873",  # samordningsnummer: day + 60
    ],
)
def test_checksum_valid_personal_numbers_are_replaced(text):
    assert (
        Redactor().redact(f"Hon har nummer {text} i journalen.")
        == "Hon har nummer [PNR] i journalen."
    )


@pytest.mark.parametrize("text", ["811218-9875", "811318-9876", "2010-02-03", "1 200 000"])
def test_numbers_that_are_not_personal_numbers_stay(text):
    assert Redactor().redact(f"Det var {text} då.") == f"Det var {text} då."


def test_luhn_and_dates():
    assert luhn_ok("8112189876")
    assert not luhn_ok("8112189875")
    assert is_personal_number("811278", "9873")
    assert not is_personal_number("811332", "9876")


@pytest.mark.parametrize(
    "phone", ["070-123 45 67", "0701234567", "+46 70 123 45 67", "0470-123 45"]
)
def test_phone_numbers(phone):
    assert Redactor().redact(f"Ring {phone} efter lunch.") == "Ring [TELEFON] efter lunch."


def test_email_and_street_address():
    text = "Skriv till anna.berg@kommun.example.se eller kom till Storgatan 12, 352 30 Växjö."
    assert Redactor().redact(text) == "Skriv till [E-POST] eller kom till [ADRESS]."


def test_private_names_with_genitive_and_parts_share_one_placeholder():
    redactor = Redactor(["Anna Svensson", "Lessebo"])
    out = redactor.redact("Anna Svensson ringde. Svenssons chef, Anna, var i Lessebo.")
    assert out == "[NAMN-1] ringde. [NAMN-1] chef, [NAMN-1], var i [NAMN-2]."


def test_common_first_names_are_caught_without_a_list_but_ordinary_words_are_not():
    redactor = Redactor()
    assert (
        redactor.redact("Jag pratade med Lena Andersson på soc.")
        == "Jag pratade med [NAMN-1] på soc."
    )
    kept = "Björn sov. Per timme tar de 500 kr. Det händer i Stockholm och Växjö, per vecka."
    assert redactor.redact(kept) == kept


def test_placeholders_are_stable_across_runs_through_the_store(tmp_path):
    store = Store(tmp_path / "p.db")
    first = Redactor(["Anna Svensson"], mapping=store.redaction_mapping())
    first.redact("Kerstin sa att Lena ringde.")
    store.save_redactions(first.new_entries)
    second = Redactor(
        ["Anna Svensson"], mapping=store.redaction_mapping(), spellings=store.redaction_spellings()
    )
    assert second.redact("Lena och Kerstin.") == first.redact("Lena och Kerstin.")
    assert second.reveal("[NAMN-2] och [NAMN-3].") == "Kerstin och Lena."


def _project(tmp_path, private=("Anna Svensson",)):
    (tmp_path / "qcode.yaml").write_text(
        "database: p.db\nprivate: [" + ", ".join(private) + "]\n", encoding="utf-8"
    )
    return tmp_path


def test_check_privacy_reports_file_and_line_and_exits_1(tmp_path, monkeypatch):
    monkeypatch.chdir(_project(tmp_path))
    (tmp_path / "quotes.md").write_text(
        "# Citat\n\nInget namn här.\nAnna Svensson sa det.\n", encoding="utf-8"
    )
    (tmp_path / "codings.csv").write_text(
        "document,text\nd1,ring 070-123 45 67\n", encoding="utf-8"
    )
    result = CliRunner().invoke(cli, ["check-privacy", "quotes.md", "codings.csv"])
    assert result.exit_code == 1
    assert "quotes.md:4: name (A*** S*******)" in result.output
    assert "codings.csv:2: phone" in result.output
    assert "Anna Svensson" not in result.output


def test_check_privacy_reads_docx_xlsx_and_qdpx(tmp_path, monkeypatch):
    monkeypatch.chdir(_project(tmp_path))
    document = docx.Document()
    document.add_paragraph("Ett citat utan namn.")
    document.add_paragraph("Svensson ringde.")
    document.save(tmp_path / "q.docx")
    workbook = openpyxl.Workbook()
    workbook.active["B3"] = "mejla anna@example.se"
    workbook.save(tmp_path / "r.xlsx")
    with zipfile.ZipFile(tmp_path / "p.qdpx", "w") as archive:
        archive.writestr("project.qde", "<Project/>\n")
        archive.writestr("sources/a.txt", "rad ett\nhennes nummer 811218-9876\n")
    result = CliRunner().invoke(cli, ["check-privacy", "q.docx", "r.xlsx", "p.qdpx"])
    assert result.exit_code == 1
    assert "q.docx:word/document.xml:paragraph 2: name" in result.output
    assert "r.xlsx:xl/worksheets/sheet1.xml!B3: email" in result.output
    assert "p.qdpx:sources/a.txt:2: pnr" in result.output


def test_clean_outputs_pass(tmp_path, monkeypatch):
    monkeypatch.chdir(_project(tmp_path))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "f.md").write_text(
        "| kod | polis |\n|---|---|\n| beredskap | 3 |\n", encoding="utf-8"
    )
    result = CliRunner().invoke(cli, ["check-privacy", "out"])
    assert result.exit_code == 0, result.output
    assert "no personal data found" in result.output


def test_redact_command_and_reveal_round_trip(tmp_path, monkeypatch):
    monkeypatch.chdir(_project(tmp_path))
    Store(tmp_path / "p.db").close()
    runner = CliRunner()
    redacted = runner.invoke(cli, ["redact"], input="Anna Svensson, 811218-9876.\n")
    assert redacted.exit_code == 0
    assert redacted.output == "[NAMN-1], [PNR].\n"
    revealed = runner.invoke(cli, ["redact", "--reveal"], input="[NAMN-1] sa nej.\n")
    assert revealed.output == "Anna Svensson sa nej.\n"  # as first written, not lower case


def test_place_names_that_end_like_surnames_are_not_names():
    text = "Hälso- och sjukvårdsdirektör, Landstinget Kronoberg, Falkenberg och Helsingborg."
    assert Redactor().redact(text) == text
    assert Redactor().redact("Vi ringde Karlsson direkt.") == "Vi ringde [NAMN-1] direkt."


def test_role_titles_are_redacted_by_the_one_detector():
    redactor = Redactor(["Lessebo"])
    assert redactor.redact("Diakon, Lessebo församling") == "Diakon, [NAMN-1] församling"
    assert redactor.redact("Kurator Emma") == "Kurator [NAMN-2]"
    assert (
        redactor.redact("Hälso- och sjukvårdsdirektör, Landstinget Kronoberg")
        == "Hälso- och sjukvårdsdirektör, Landstinget Kronoberg"
    )
