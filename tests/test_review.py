"""Review round-trip: export a sheet, edit it as a coder would (openpyxl), import it back.

The rules under test (issue 5): decisions become human codings by the coder; importing the
same file again changes nothing (no rows, no log entries); a later file from the same coder
replaces that coder's decisions on those segments and logs what changed; another coder's
codings are never touched; rows whose segment is gone are reported, not dropped silently;
formulas in the workbook are never evaluated.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from qcode.cli import cli
from qcode.errors import ReviewError
from qcode.models import Coding
from qcode.review import import_codings, import_review, review_frame, write_review

DATA = Path(__file__).parent / "data" / "review"
_spec = importlib.util.spec_from_file_location("review_fixture", DATA / "fixture.py")
fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixture)

CODES = ["beredskap", "beredskap/saknas", "samverkan", "nattbuss"]


@pytest.fixture
def store(tmp_path):
    with fixture.build_review_store(tmp_path / "p.db") as s:
        yield s


def export_xlsx(store, path: Path) -> Path:
    return write_review(review_frame(store), path)


def edit(path: Path, changes: dict[tuple[str, str], object], save_as: Path | None = None) -> Path:
    """Set cells by (segment id, column name), as a coder would in Excel."""
    book = load_workbook(path)
    sheet = book["review"]
    header = [c.value for c in sheet[1]]
    rows = {sheet.cell(row=r, column=1).value: r for r in range(2, sheet.max_row + 1)}
    for (segment, column), value in changes.items():
        # (sheet.cell(..., value=None) would leave the cell as it is)
        sheet.cell(row=rows[segment], column=header.index(column) + 1).value = value
    target = save_as or path
    book.save(target)
    return target


def human(store, coder=None):
    frame = store.codings_frame(source="human", coder=coder, with_text=False)
    return sorted(
        zip(frame["document"], frame["segment"].astype(int), frame["code"], frame["coder"])
    )


def test_sheet_layout_one_row_per_respondent_segment_with_suggestions(store, tmp_path):
    path = export_xlsx(store, tmp_path / "review.xlsx")
    sheet = load_workbook(path)["review"]
    header = [c.value for c in sheet[1]]
    assert header == ["segment", "document", "title", "group", "speaker", "text", *CODES, "note"]
    # 7 respondent turns (the three interviewer questions are left out) + header
    assert sheet.max_row == 8
    assert sheet.freeze_panes == "A2"
    rows = {sheet.cell(row=r, column=1).value: r for r in range(2, sheet.max_row + 1)}
    r = rows["polis-01#1"]
    saknas = sheet.cell(row=r, column=header.index("beredskap/saknas") + 1)
    assert saknas.value == 1
    assert "0.75" in saknas.comment.text
    assert sheet.cell(row=r, column=header.index("samverkan") + 1).value is None
    text = sheet.cell(row=r, column=header.index("text") + 1)
    assert text.value == "Vi har ingen beredskap alls här, det är helt oklart vem som gör vad."
    assert text.alignment.wrap_text
    assert sheet.column_dimensions["F"].width >= 60
    validations = sheet.data_validations.dataValidation
    assert len(validations) == 1 and validations[0].formula1 == '"1"'
    assert str(validations[0].sqref) == "G2:J8"
    assert sheet.cell(row=rows["hotell-03#2"], column=3).value == "Hotellchef i Växjö"


def test_round_trip_idempotence_and_replacement(store, tmp_path):
    path = export_xlsx(store, tmp_path / "review.xlsx")
    # another coder's codings must survive everything below
    bob = Coding(
        "polis-01", 1, *store.segment_spans()[("polis-01", 1)], "samverkan", "human", 1.0, "bob"
    )
    store.add_codings([bob])
    edit(
        path,
        {
            ("polis-01#1", "beredskap/saknas"): 1,  # confirm the suggestion
            ("polis-01#2", "samverkan"): None,  # clear a suggestion
            ("hotell-03#2", "beredskap"): "1",  # add a code
            ("hotell-03#2", "note"): "Vet inte vart hon ska vända sig.",
        },
    )
    first = import_review(path, store, "anna")
    assert (first.added, first.removed, first.segments, first.problems) == (4, 0, 7, [])
    anna = [
        ("hotell-03", 2, "beredskap", "anna"),
        ("kommun-02", 1, "samverkan", "anna"),
        ("kommun-02", 2, "beredskap", "anna"),
        ("polis-01", 1, "beredskap/saknas", "anna"),
    ]
    assert human(store, "anna") == sorted(anna)
    codings = store.codings_frame(source="human", coder="anna")
    assert set(codings["source"]) == {"human"} and codings["created"].notna().all()
    log_before = store.coding_log_frame()

    again = import_review(path, store, "anna")
    assert (again.added, again.removed) == (0, 0)
    assert human(store, "anna") == sorted(anna)
    assert len(store.coding_log_frame()) == len(log_before)

    # a later sheet from anna: she changes her mind on two segments
    edit(
        path,
        {("kommun-02#2", "beredskap"): None, ("kommun-02#2", "samverkan"): 1},
        save_as=tmp_path / "review-2.xlsx",
    )
    later = import_review(tmp_path / "review-2.xlsx", store, "anna")
    assert (later.added, later.removed) == (1, 1)
    assert ("kommun-02", 2, "samverkan", "anna") in human(store, "anna")
    assert ("kommun-02", 2, "beredskap", "anna") not in human(store, "anna")
    log = store.coding_log_frame("anna")
    changes = log.iloc[len(log_before[log_before["coder"] == "anna"]) :]
    assert sorted(
        zip(changes["action"], changes["document"], changes["segment"], changes["code"])
    ) == [("add", "kommun-02", 2, "samverkan"), ("remove", "kommun-02", 2, "beredskap")]
    assert human(store, "bob") == [("polis-01", 1, "samverkan", "bob")]
    notes = log[log["action"] == "note"]
    assert notes["detail"].tolist() == ["Vet inte vart hon ska vända sig."]


def test_rows_for_missing_or_changed_segments_are_reported(store, tmp_path):
    path = export_xlsx(store, tmp_path / "review.xlsx")
    book = load_workbook(path)
    sheet = book["review"]
    sheet.append(["borta-09#4", "borta-09", None, None, "IP", "Text som inte finns.", 1])
    for r in range(2, sheet.max_row + 1):
        if sheet.cell(row=r, column=1).value == "hotell-03#1":
            sheet.cell(row=r, column=6, value="En helt annan text än den som finns lagrad.")
            sheet.cell(row=r, column=7, value=1)
    book.save(path)
    result = import_review(path, store, "anna")
    assert len(result.problems) == 2
    assert "borta-09#4 no longer exists" in result.problems[1]
    assert "review.xlsx:9:" in result.problems[1]
    assert "text of segment hotell-03#1 has changed" in result.problems[0]
    assert ("hotell-03", 1, "beredskap", "anna") not in human(store, "anna")
    assert result.segments == 6  # the other rows were applied


def test_formulas_are_never_evaluated(store, tmp_path):
    path = export_xlsx(store, tmp_path / "review.xlsx")
    edit(path, {("hotell-03#1", "note"): '=HYPERLINK("http://example.org","klicka")'})
    import_review(path, store, "anna")
    note = store.coding_log_frame("anna").query("action == 'note'")["detail"].iloc[0]
    assert note.startswith("'=HYPERLINK")  # kept as inert text
    edit(path, {("hotell-03#1", "beredskap"): "=1+0"})
    with pytest.raises(
        ReviewError, match=r"review.xlsx:\d+: column beredskap: '=1\+0' is not a decision"
    ):
        import_review(path, store, "anna")


def test_csv_sheet_round_trip(store, tmp_path):
    path = write_review(
        review_frame(store, codes=["samverkan"], groups=["polis"]), tmp_path / "r.csv"
    )
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "segment,document,title,group,speaker,text,samverkan,score:samverkan,note"
    assert lines[2].startswith("polis-01#2,") and lines[2].endswith(",1,0.75,")
    path.write_text(
        "\n".join(lines[:2] + [lines[2].replace(",1,0.75,", ",,0.75,")] + lines[3:]) + "\n",
        encoding="utf-8",
    )
    result = import_review(path, store, "anna")
    assert (result.added, result.removed, result.segments) == (0, 0, 3)
    path.write_text(
        path.read_text(encoding="utf-8").replace(",,0.75,", ",x,0.75,"), encoding="utf-8"
    )
    assert import_review(path, store, "anna").added == 1


def test_coder_names_are_checked(store, tmp_path):
    path = export_xlsx(store, tmp_path / "review.xlsx")
    with pytest.raises(ReviewError, match="'auto' names the automatic codings"):
        import_review(path, store, "auto")


def test_import_codings_by_span_and_segment(store, tmp_path):
    start, end = store.segment_spans()[("kommun-02", 2)]
    text = store.document_text("kommun-02")
    word = text.index("handlingsplan")
    csv_path = tmp_path / "codings.csv"
    csv_path.write_text(
        "document,start,end,code\n"
        f"kommun-02,{word},{word + 13},beredskap\n"
        f"kommun-02,{word},{word + 13},okänd_kod\n"
        "saknas-99,0,4,beredskap\n"
        f"kommun-02,{len(text) - 2},{len(text) + 5},beredskap\n",
        encoding="utf-8",
    )
    result = import_codings(csv_path, store, "cecilia")
    assert result.added == 1
    assert [p.split(": ", 1)[1] for p in result.problems] == [
        "unknown code 'okänd_kod'; row skipped",
        "document 'saknas-99' is not in the project; row skipped",
        f"span {len(text) - 2}-{len(text) + 5} runs past the end of kommun-02 ({len(text)} "
        "characters); row skipped",
    ]
    row = store.codings_frame(source="human", coder="cecilia").iloc[0]
    assert (row["start"], row["end"], row["segment"], row["text"]) == (
        word,
        word + 13,
        2,
        "handlingsplan",
    )
    assert import_codings(csv_path, store, "cecilia").added == 0  # idempotent

    snapped = import_codings(csv_path, store, "david", snap=True)
    row = store.codings_frame(source="human", coder="david").iloc[0]
    assert snapped.added == 1 and (row["start"], row["end"]) == (start, end)

    by_segment = tmp_path / "segments.csv"
    by_segment.write_text(
        "document,segment,code\nhotell-03,2,samverkan\nhotell-03,hotell-03#1,nattbuss\n"
        "hotell-03,7,samverkan\n",
        encoding="utf-8",
    )
    result = import_codings(by_segment, store, "erik")
    assert result.added == 2 and "segment hotell-03#7 does not exist" in result.problems[0]


def test_cli_export_import_and_coders(store, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    db = str(tmp_path / "p.db")
    out = runner.invoke(
        cli, ["export", "review", "--db", db, "--code", "samverkan", "-o", "r.xlsx"]
    )
    assert out.exit_code == 0, out.output
    assert out.output.strip() == "wrote r.xlsx"
    edit(tmp_path / "r.xlsx", {("hotell-03#1", "samverkan"): 1})
    out = runner.invoke(cli, ["import", "review", "r.xlsx", "--coder", "anna", "--db", db])
    assert out.exit_code == 0, out.output
    assert "codings added: 3; removed: 0; rows skipped: 0" in out.output
    out = runner.invoke(cli, ["coders", "--db", db])
    assert out.exit_code == 0
    lines = out.output.splitlines()
    assert lines[0].split()[:4] == ["coder", "codings", "segments", "documents"]
    assert lines[1].split()[:4] == ["anna", "3", "3", "3"]
    bad = runner.invoke(
        cli, ["export", "review", "--db", db, "--code", "finns_inte", "-o", "x.xlsx"]
    )
    assert bad.exit_code == 2 and "unknown code(s) finns_inte" in bad.output
