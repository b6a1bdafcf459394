"""The one table reader (issue 13) and its hardening (issue 19, item 5 and the xlsx limits).

Swedish Excel saves CSV with ``;`` and Windows-1252; every command that takes a table must read
that: `tag` (survey tables and the metadata sidecar), `crosstab --survey`, `import review`,
`import codings` and `evaluate --gold`. Hostile tables fail with one line naming the file.
"""

from __future__ import annotations

import csv
import io
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from samples import SMALL_CODEBOOK, SMALL_INTERVIEW

from qcode.cli import cli
from qcode.errors import QcodeError, ReviewError, TranscriptError
from qcode.ingest import read_path
from qcode.store import Store
from qcode.tables import read_table_file, sniff_separator, unique_header

LONG_A = "Vi samverkar med polisen och socialtjänsten i kommunen"
LONG_B = "Vi har ingen handlingsplan för det här än så länge"
LONG_C = "Vi vet inte riktigt vart vi ska vända oss om något händer"


def excel_csv(path: Path, rows: list[list[object]]) -> Path:
    """Write rows the way Swedish Excel saves "CSV (semikolonavgränsad)": `;`, cp1252, CRLF."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode("cp1252"))
    return path


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


# -- the reader ---------------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_every_encoding_and_separator_reads_the_same(
    tmp_path: Path, encoding: str, separator: str
) -> None:
    rows = [["id", "grupp", "svar"], ["1", "åklagare", "Ja, vi har; en plan"], ["2", "kör", "Nej"]]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=separator, lineterminator="\r\n").writerows(rows)
    path = tmp_path / "t.csv"
    path.write_bytes(buffer.getvalue().encode(encoding))
    table = read_table_file(path)
    assert table.header == ("id", "grupp", "svar")
    assert table.rows == ((2, ("1", "åklagare", "Ja, vi har; en plan")), (3, ("2", "kör", "Nej")))
    assert table.separator == separator
    assert bool(table.warnings) == (encoding == "cp1252")
    if table.warnings:
        assert str(path) in table.warnings[0] and "cp1252" in table.warnings[0]


def test_sep_line_and_row_numbers_of_multi_line_cells(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text('sep=;\nid;svar\n1;"två\nrader"\n\n2;tre\n', encoding="utf-8")
    table = read_table_file(path)
    assert table.header == ("id", "svar")
    # the row starting on line 3 keeps that number; the blank line is skipped
    assert table.rows == ((3, ("1", "två\nrader")), (6, ("2", "tre")))


def test_separator_sniffing_prefers_the_consistent_split() -> None:
    assert sniff_separator("id;namn, ort;svar\n1;a, b;c\n") == ";"
    assert sniff_separator("id,svar\n1,ja; nej\n") == ","
    assert sniff_separator("bara en kolumn\nrad\n") == ","


def test_short_rows_are_padded_with_none_long_rows_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,b,c\n1,2\n1,2,3,4\n", encoding="utf-8")
    with pytest.raises(TranscriptError) as info:
        read_table_file(path)
    assert str(info.value).startswith(f"{path}:3: row has 4 cells but the header has 3")
    path.write_text("a,b,c\n1,2\n", encoding="utf-8")
    assert read_table_file(path).rows == ((2, ("1", "2", None)),)


# -- issue 19: stray quotes, many columns, hostile workbooks --------------------------------------
def survey_lines(*answers: str) -> str:
    return "id;grupp;svar\n" + "".join(f"{i};polis;{a}\n" for i, a in enumerate(answers, 1))


@pytest.mark.parametrize(
    "text, line",
    [
        # the quote is never closed: every later row would become part of respondent 2's answer
        (survey_lines(LONG_A, '"' + LONG_B, LONG_C, LONG_A), 3),
        # closed by a quote further down: the rows in between are swallowed
        (survey_lines(LONG_A, '"' + LONG_B, LONG_C, 'Vi "vet" inte', LONG_A), 3),
    ],
)
def test_a_stray_quote_is_an_error_naming_file_and_line(
    tmp_path: Path, text: str, line: int
) -> None:
    path = tmp_path / "enkat.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TranscriptError) as info:
        read_path(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: ") and "stray" in message
    assert "\n" not in message


def test_a_stray_quote_in_a_two_column_table_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "enkat.csv"
    path.write_text(f'id,svar\n1,{LONG_A}\n2,"{LONG_B}\n3,{LONG_C}\n', encoding="utf-8")
    with pytest.raises(TranscriptError, match=r"enkat\.csv:3: a quote opened .* never closed"):
        read_path(path)


def test_quoted_multi_line_answers_are_still_fine(tmp_path: Path) -> None:
    path = tmp_path / "enkat.csv"
    path.write_text(
        f'id;grupp;svar\n1;polis;"{LONG_A};\noch sedan, på en ny rad"\n'
        f'2;taxi;"Hon sa ""nej"" till oss, {LONG_B}"\n',
        encoding="utf-8",
    )
    docs = read_path(path)
    assert [d.text for d in docs] == [
        f"{LONG_A};\noch sedan, på en ny rad",
        f'Hon sa "nej" till oss, {LONG_B}',
    ]


def test_a_multi_line_list_answer_in_a_comma_table_is_not_a_stray_quote(tmp_path: Path) -> None:
    path = tmp_path / "enkat.csv"
    path.write_text(
        f'id,grupp,svar\n1,polis,"Vi samverkar med:\nPolisen, kommunen, soc"\n2,taxi,{LONG_B}\n',
        encoding="utf-8",
    )
    assert [d.text for d in read_path(path)] == [
        "Vi samverkar med:\nPolisen, kommunen, soc",
        LONG_B,
    ]


def test_five_thousand_same_named_columns_are_named_in_linear_time(tmp_path: Path) -> None:
    started = time.perf_counter()
    names = unique_header(["q"] * 5000 + ["q (3)"])
    assert names[:3] == ("q", "q (2)", "q (3)") and len(set(names)) == 5001
    assert names[-1] == "q (3) (2)"
    path = tmp_path / "wide.csv"
    path.write_text(
        ",".join(["svar"] * 5000) + "\n" + ",".join([LONG_A] * 5000) + "\n", encoding="utf-8"
    )
    docs = read_path(path)
    assert len(docs) == 1 and len(docs[0].turns) == 5000
    assert time.perf_counter() - started < 10  # was 288 s (O(n³) renaming)


def test_xlsx_with_a_cell_at_xfd1048576_is_refused_without_walking_the_sheet(
    tmp_path: Path,
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "svar"])
    sheet.append([1, LONG_A])
    sheet["XFD1048576"] = "x"
    path = tmp_path / "far.xlsx"
    book.save(path)
    assert path.stat().st_size < 10_000
    started = time.perf_counter()
    with pytest.raises(TranscriptError) as info:
        read_path(path)
    assert time.perf_counter() - started < 5
    assert str(info.value).startswith(f"{path}:1048576: ") and "column 16384" in str(info.value)


def test_xlsx_far_empty_dimension_is_ignored(tmp_path: Path) -> None:
    """A <dimension> that claims A1:XFD1048576 for a small table reads just the table."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "svar"])
    sheet.append([1, LONG_A])
    path = tmp_path / "dim.xlsx"
    book.save(path)
    with zipfile.ZipFile(path) as source:
        members = {i.filename: source.read(i.filename) for i in source.infolist()}
    name = "xl/worksheets/sheet1.xml"
    members[name] = members[name].replace(
        b'<dimension ref="A1:B2"/>', b'<dimension ref="A1:XFD1048576"/>'
    )
    assert b"XFD1048576" in members[name]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for member, data in members.items():
            target.writestr(member, data)
    started = time.perf_counter()
    assert [d.text for d in read_path(path)] == [LONG_A]
    assert time.perf_counter() - started < 5


def test_xlsx_zip_bomb_member_is_refused_before_reading(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(["id", "svar"])
    path = tmp_path / "bomb.xlsx"
    book.save(path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/filler.xml", b"\0" * (20 * 1024 * 1024))
    assert path.stat().st_size < 1024 * 1024
    with pytest.raises(TranscriptError, match="zip bomb") as info:
        read_path(path)
    assert str(info.value).startswith(f"{path}: refused")


def _mutations(data: bytes, count: int) -> list[bytes]:
    """Deterministic damage to the sheet and shared-string XML inside a valid workbook."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        members = {i.filename: source.read(i.filename) for i in source.infolist()}
    targets = [m for m in members if m.endswith(".xml")]
    out = []
    for n in range(count):
        name = targets[n % len(targets)]
        body = bytearray(members[name])
        position = (n * 7919) % len(body)
        if n % 3 == 0:
            del body[position : position + 1 + n % 17]
        elif n % 3 == 1:
            body[position] = b'<>"&/x\0'[n % 7]
        else:
            body[position:position] = b'<c r="ZZZ0" t="s"><v>99999</v></c>'
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
            for member, content in members.items():
                target.writestr(member, bytes(body) if member == name else content)
        out.append(buffer.getvalue())
    return out


def test_damaged_xlsx_xml_is_a_one_line_error_naming_the_file(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "grupp", "svar"])
    for i in range(5):
        sheet.append([i, "polis", f"{LONG_A} {i}"])
    source = tmp_path / "ok.xlsx"
    book.save(source)
    failures = 0
    for n, data in enumerate(_mutations(source.read_bytes(), 60)):
        path = tmp_path / f"m{n}.xlsx"
        path.write_bytes(data)
        for reader in (
            read_path,
            lambda p: read_table_file(p, error=ReviewError, keep_formulas=True),
        ):
            try:
                reader(path)
            except QcodeError as err:
                failures += 1
                assert str(err).startswith(str(path)) and "\n" not in str(err)
    assert failures > 0  # the mutations do break files, and every break is a QcodeError


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.binary(max_size=400)
    | st.text(alphabet=';,\t"\n\r ab1åé', max_size=200).map(lambda t: t.encode("utf-8"))
)
def test_any_bytes_as_a_table_raise_only_qcode_errors(tmp_path: Path, data: bytes) -> None:
    for name in ("t.csv", "t.xlsx"):
        path = tmp_path / name
        path.write_bytes(data)
        try:
            table = read_table_file(path)
        except QcodeError as err:
            assert "\n" not in str(err) and str(err).startswith(str(path))
        else:
            assert all(len(row) == len(table.header) for _n, row in table.rows)


# -- survey tables: Swedish headers and names --------------------------------------------------
def test_swedish_headers_and_a_name_column_that_is_never_the_id(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Namn", "Grupp", "Huvudgrupp", "Beskriv er beredskap"])
    sheet.append(["Helena Strand", "polis", "myndigheter", LONG_A])
    sheet.append(["Karl Berg", "taxi", "näringsliv", LONG_B])
    path = tmp_path / "enkat.xlsx"
    book.save(path)
    docs = read_path(path)
    assert [d.id for d in docs] == ["enkat-2", "enkat-3"]
    assert dict(docs[0].metadata) == {
        "namn": "Helena Strand",
        "group": "polis",
        "main_group": "myndigheter",
    }
    assert {d.kind for d in docs} == {"survey"}
    warnings = " ".join(docs[0].warnings)
    assert "no id column" in warnings and "enkat-<line>" in warnings
    assert "'Namn' holds personal names" in warnings


def test_names_found_by_their_values_under_another_header(tmp_path: Path) -> None:
    path = excel_csv(
        tmp_path / "enkat.csv",
        [
            ["respondent", "aktörsgrupp", "löpnummer", "svar"],
            ["Anna Lindqvist", "kyrkor", "7", LONG_A],
            ["Lars Nilsson", "kyrkor", "8", LONG_B],
            ["Eva Johansson", "kommuner", "9", LONG_C],
        ],
    )
    docs = read_path(path)
    assert [d.id for d in docs] == ["7", "8", "9"]  # löpnummer, not the names
    assert dict(docs[0].metadata) == {"namn": "Anna Lindqvist", "group": "kyrkor"}
    assert all("Anna" not in d.id for d in docs)


# -- every command that takes a table, fed Swedish Excel's CSV ---------------------------------
@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cb.yaml").write_text(SMALL_CODEBOOK, encoding="utf-8")
    (tmp_path / "qcode.yaml").write_text("codebook: cb.yaml\ndatabase: p.db\n", encoding="utf-8")
    folder = tmp_path / "t"
    folder.mkdir()
    for doc_id in ("polis-01", "polis-02"):
        text = SMALL_INTERVIEW.format(id=doc_id).replace("group: polis\n", "")
        (folder / f"{doc_id}.md").write_text(text, encoding="utf-8")
    excel_csv(
        folder / "metadata.csv",
        [["ID", "Grupp", "Ort"], ["polis-01", "polis", "Växjö"], ["polis-02", "polis", "Ljungby"]],
    )
    excel_csv(
        folder / "enkät.csv",
        [
            ["Löpnummer", "Aktörsgrupp", "Vad behöver ni för beredskap?"],
            ["1", "taxi", "Vi behöver en handlingsplan och bättre beredskap"],
            ["2", "hotell", "Vi samverkar redan med socialtjänsten i kommunen"],
        ],
    )
    return tmp_path


def test_tag_reads_excel_survey_and_sidecar(project: Path) -> None:
    result = invoke("tag", "t")
    assert result.exit_code == 0, result.output
    with Store(project / "p.db") as store:
        docs = store.documents_frame().set_index("document")
    assert docs.loc["polis-01", "group"] == "polis" and docs.loc["polis-02", "Ort"] == "Ljungby"
    assert docs.loc["1", "group"] == "taxi" and docs.loc["2", "group"] == "hotell"
    assert set(docs["kind"]) == {"interview", "survey"} and docs.loc["1", "kind"] == "survey"
    assert "cp1252" in result.output  # the encoding fallback is reported


def test_tag_says_when_a_survey_has_no_id_column(project: Path) -> None:
    excel_csv(
        project / "t" / "enkät.csv",
        [["Namn", "Grupp", "Vad behöver ni?"], ["Helena Strand", "taxi", LONG_A]],
    )
    result = invoke("tag", "t")
    assert result.exit_code == 0, result.output
    assert "no id column" in result.output and "enkät-<line>" in result.output
    with Store(project / "p.db") as store:
        docs = store.documents_frame().set_index("document")
    assert docs.loc["enkät-2", "namn"] == "Helena Strand"  # kept, as private name metadata
    assert "Helena Strand" not in set(docs.index)


def test_crosstab_reads_an_excel_survey_with_decimal_commas(project: Path) -> None:
    invoke("tag", "t")
    excel_csv(
        project / "survey.csv",
        [["Grupp", "Andel med plan"], ["polis", "0,25"], ["taxi", "0,5"], ["hotell", "1 000,75"]],
    )
    result = invoke("crosstab", "--survey", "survey.csv", "-o", "x.csv")
    assert result.exit_code == 0, result.output
    text = (project / "x.csv").read_text(encoding="utf-8")
    assert "Andel med plan" in text and "0.25" in text and "1000.75" in text


def test_import_review_reads_a_sheet_saved_by_swedish_excel(project: Path) -> None:
    invoke("tag", "t")
    assert invoke("export", "review", "-o", "r.csv").exit_code == 0
    with open(project / "r.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    rows = [row for row in rows]
    column = rows[0].index("samverkan")
    first = next(i for i, row in enumerate(rows) if row[0] == "polis-01#1")
    rows[first][column] = "x"
    excel_csv(project / "r-excel.csv", rows)
    result = invoke("import", "review", "r-excel.csv", "--coder", "AB")
    assert result.exit_code == 0, result.output
    assert "r-excel.csv: not UTF-8; read as Windows-1252" in result.output
    with Store(project / "p.db") as store:
        human = store.codings_frame(source="human")
    assert ("polis-01", 1, "samverkan") in set(
        zip(human["document"], human["segment"], human["code"])
    )


def test_import_codings_reads_a_swedish_excel_csv(project: Path) -> None:
    invoke("tag", "t")
    excel_csv(
        project / "c.csv",
        [
            ["document", "segment", "code", "anteckning"],
            ["polis-01", "2", "beredskap", "självklart"],
            ["2", "0", "samverkan", "båda"],
        ],
    )
    result = invoke("import", "codings", "c.csv", "--coder", "AB")
    assert result.exit_code == 0, result.output
    assert "codings added: 2" in result.output and "rows skipped: 0" in result.output
    assert "c.csv: not UTF-8; read as Windows-1252" in result.output


def test_evaluate_reads_a_swedish_excel_gold_file(project: Path) -> None:
    invoke("tag", "t")
    excel_csv(
        project / "gold.csv",
        [
            ["document", "code", "kommentar"],
            ["polis-01", "beredskap", "självklart"],
            ["polis-02", "samverkan", "åtgärd"],
        ],
    )
    result = invoke("evaluate", "--gold", "gold.csv")
    assert result.exit_code == 0, result.output
    assert "beredskap" in result.output and "gold.csv: not UTF-8" in result.output


def test_a_broken_table_is_one_line_in_every_command(project: Path) -> None:
    invoke("tag", "t")
    bad = project / "bad.csv"
    bad.write_text('document;code\n"polis-01;beredskap\npolis-02;samverkan\n', encoding="utf-8")
    for args in (
        ["import", "codings", "bad.csv", "--coder", "AB"],
        ["import", "review", "bad.csv", "--coder", "AB"],
        ["evaluate", "--gold", "bad.csv"],
        ["crosstab", "--survey", "bad.csv"],
    ):
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "bad.csv:2: a quote opened" in result.output, (args, result.output)
        assert "Traceback" not in result.output
