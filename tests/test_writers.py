"""Outputs are written atomically, with ordinary permissions and formulas neutralised."""

from __future__ import annotations

import os

import openpyxl
import pandas as pd
import pytest

from qcode.writers import atomic_path, write_table


def test_output_files_get_ordinary_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        path = write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def test_a_failed_write_leaves_no_file_under_the_real_name(tmp_path):
    target = tmp_path / "report.md"
    target.write_text("the old report\n", encoding="utf-8")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half a rep", encoding="utf-8")
            raise RuntimeError("disk full")
    assert target.read_text(encoding="utf-8") == "the old report\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_formula_cells_are_escaped_in_csv_and_xlsx(tmp_path):
    frame = pd.DataFrame({"text": ["=1+1", "+46 70", "-2", "@SUM(A1)", "vanlig text"]})
    write_table(frame, tmp_path / "t.csv")
    lines = (tmp_path / "t.csv").read_text(encoding="utf-8").splitlines()
    assert lines[1:] == ["'=1+1", "'+46 70", "'-2", "'@SUM(A1)", "vanlig text"]
    write_table(frame, tmp_path / "t.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "t.xlsx").active
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row]
    assert all(c.data_type != "f" for c in cells)
    assert cells[0].value == "'=1+1"
