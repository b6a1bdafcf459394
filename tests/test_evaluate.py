"""qcode.evaluate: reading gold CSVs, per-code precision/recall/F1/kappa, main theme rates."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from qcode.errors import QcodeError
from qcode.evaluate import (
    background_false_positive_rate,
    cohen_kappa_2x2,
    evaluate_codings,
    main_theme_hit_rate,
    read_gold,
)


def write(tmp_path, text, name="gold.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- kappa --------------------------------------------------------------------------------
def test_kappa_textbook_examples():
    # Wikipedia, "Cohen's kappa", worked example: 50 grant proposals read by A and B.
    # Both yes 20, A yes/B no 5, A no/B yes 10, both no 15: p_o = 0.7, p_e = 0.5, kappa = 0.4.
    assert cohen_kappa_2x2(tp=20, fp=5, fn=10, tn=15) == pytest.approx(0.4)
    # Same article, second table: 45 / 15 / 25 / 15 of 100: p_o = 0.60, p_e = 0.54,
    # kappa = 0.06 / 0.46 = 0.1304.
    assert cohen_kappa_2x2(tp=45, fp=15, fn=25, tn=15) == pytest.approx(0.1304, abs=1e-4)
    assert cohen_kappa_2x2(tp=3, fp=0, fn=0, tn=7) == 1.0
    assert math.isnan(cohen_kappa_2x2(tp=0, fp=0, fn=0, tn=10))  # one class only: undefined


def test_kappa_column_matches_the_2x2_table():
    # 50 documents laid out as the Wikipedia example: gold = rater A, predicted = rater B
    documents = [f"d{i:02}" for i in range(50)]
    gold_yes = documents[:25]  # 20 both yes + 5 A-only
    pred_yes = documents[:20] + documents[25:35]  # 20 both yes + 10 B-only
    gold = pd.DataFrame({"document": gold_yes, "code": "kunskap"})
    predicted = pd.DataFrame({"document": pred_yes, "code": "kunskap/behov"})
    table = evaluate_codings(predicted, gold, documents, codes=["kunskap"])
    row = table.iloc[0]
    assert (row.support, row.predicted, row.tp, row.fp, row.fn) == (25, 30, 20, 10, 5)
    assert row.precision == pytest.approx(20 / 30)
    assert row.recall == pytest.approx(20 / 25)
    assert row.f1 == pytest.approx(40 / 55)
    assert row.kappa == pytest.approx(0.4)


# -- document-level evaluation ------------------------------------------------------------
def test_document_level_rolls_up_and_orders_codes():
    gold = pd.DataFrame(
        {
            "document": ["a", "a", "b", "c"],
            "code": ["beredskap/saknas", "samverkan", "beredskap", "kunskap"],
        }
    )
    predicted = pd.DataFrame(
        {
            "document": ["a", "a", "b", "d", "zz"],
            "code": ["beredskap", "beredskap", "samverkan/polis", "kunskap", "kunskap"],
        }
    )
    table = evaluate_codings(
        predicted, gold, ["a", "b", "c", "d"], codes=["samverkan", "beredskap", "kunskap"]
    )
    assert list(table.columns) == [
        "code",
        "support",
        "predicted",
        "tp",
        "fp",
        "fn",
        "precision",
        "recall",
        "f1",
        "kappa",
    ]
    assert table["code"].tolist() == ["samverkan", "beredskap", "kunskap", "macro"]
    counts = table.set_index("code")[["support", "predicted", "tp", "fp", "fn"]]
    assert counts.loc["samverkan"].tolist() == [1, 1, 0, 1, 1]
    assert counts.loc["beredskap"].tolist() == [2, 1, 1, 0, 1]  # duplicate rows count once
    assert counts.loc["kunskap"].tolist() == [1, 1, 0, 1, 1]  # "zz" is not a project document
    macro = table.iloc[-1]
    assert macro.tp == 1 and macro.fp == 2
    # precision: samverkan 0, beredskap 1, kunskap 0 -> mean 1/3
    assert macro.precision == pytest.approx(1 / 3)
    assert macro.f1 == pytest.approx((0 + 2 / 3 + 0) / 3)


def test_level_two_keeps_subcodes_apart():
    gold = pd.DataFrame({"document": ["a", "b"], "code": ["beredskap/saknas", "beredskap"]})
    predicted = pd.DataFrame(
        {"document": ["a", "b"], "code": ["beredskap/saknas/helt", "beredskap/saknas"]}
    )
    table = evaluate_codings(
        predicted, gold, ["a", "b"], codes=["beredskap", "beredskap/saknas"], level=2
    ).set_index("code")
    assert table.loc["beredskap/saknas", ["tp", "fp", "fn"]].tolist() == [1, 1, 0]
    assert table.loc["beredskap", ["tp", "fp", "fn"]].tolist() == [2, 0, 0]


def test_codes_deeper_than_level_are_refused():
    empty = pd.DataFrame({"document": [], "code": []})
    with pytest.raises(ValueError, match="deeper than level 1"):
        evaluate_codings(empty, empty, ["a"], codes=["beredskap/saknas"])


def test_undefined_scores_are_nan_and_skipped_in_macro():
    gold = pd.DataFrame({"document": ["a"], "code": ["beredskap"]})
    predicted = pd.DataFrame({"document": ["a"], "code": ["beredskap"]})
    table = evaluate_codings(predicted, gold, ["a", "b"], codes=["beredskap", "samverkan"])
    samverkan = table.set_index("code").loc["samverkan"]
    assert samverkan.support == 0 and samverkan.predicted == 0
    assert math.isnan(samverkan.precision) and math.isnan(samverkan.kappa)
    assert table.iloc[-1].precision == 1.0


# -- span gold ----------------------------------------------------------------------------
SEGMENTS = pd.DataFrame(
    {
        "document": ["a", "a", "a", "b"],
        "segment": [0, 1, 2, 0],
        "start": [0, 20, 50, 0],
        "end": [19, 49, 80, 30],
    }
)


def test_span_gold_marks_every_overlapping_segment():
    gold = pd.DataFrame(
        {
            "document": ["a", "b"],
            "start": [10, 5],
            "end": [25, 6],
            "code": ["beredskap", "samverkan"],
        }
    )
    predicted = pd.DataFrame(
        {
            "document": ["a", "a", "b"],
            "segment": [1, 2, 0],
            "start": [20, 50, 0],
            "end": [49, 80, 30],
            "code": ["beredskap", "beredskap", "samverkan"],
        }
    )
    table = evaluate_codings(
        predicted, gold, ["a", "b"], codes=["beredskap", "samverkan"], segments=SEGMENTS
    ).set_index("code")
    # gold beredskap covers segments a#0 and a#1; predicted a#1 and a#2
    assert table.loc["beredskap", ["support", "tp", "fp", "fn"]].tolist() == [2, 1, 1, 1]
    assert table.loc["samverkan", ["support", "tp", "fp", "fn"]].tolist() == [1, 1, 0, 0]
    # 4 segments: beredskap table tp=1 fp=1 fn=1 tn=1 -> p_o = .5, p_e = .5, kappa 0
    assert table.loc["beredskap", "kappa"] == pytest.approx(0.0)


def test_span_gold_needs_segments():
    gold = pd.DataFrame({"document": ["a"], "start": [0], "end": [3], "code": ["x"]})
    with pytest.raises(ValueError, match="segments"):
        evaluate_codings(gold, gold, ["a"], codes=["x"])


# -- reading gold -------------------------------------------------------------------------
def test_read_document_gold_keeps_extra_columns(tmp_path):
    path = write(
        tmp_path, "Document,Code,main\nintervju_åsa,beredskap,1\nintervju_åsa,samverkan,\n"
    )
    gold = read_gold(path)
    assert gold.columns.tolist() == ["document", "code", "main"]
    assert gold.values.tolist() == [
        ["intervju_åsa", "beredskap", "1"],
        ["intervju_åsa", "samverkan", ""],
    ]


def test_read_span_gold_with_semicolons_and_bom(tmp_path):
    path = tmp_path / "gold.csv"
    path.write_bytes(
        "\ufeffdocument;start;end;code\nd1;0;12;kunskap\nd1;;;beredskap\n".encode("utf-8")
    )
    gold = read_gold(path)
    assert gold.columns.tolist() == ["document", "start", "end", "code"]
    assert gold["start"].tolist()[0] == 0 and gold["end"].tolist()[0] == 12
    assert gold["start"].isna().tolist() == [False, True]


@pytest.mark.parametrize(
    "text, message",
    [
        ("document,theme\nd1,x\n", "gold.csv:1: gold file lacks column(s) code"),
        ("document,start,code\nd1,3,x\n", "gold.csv:1: gold file needs both `start` and `end`"),
        ("document,code\nd1,x\n,y\n", "gold.csv:3: empty `document`"),
        ("document,code\nd1,x\nd2\n", "gold.csv:3: row has 1 fields, the header 2"),
        (
            "document,start,end,code\nd1,0,5,x\nd1,tolv,20,x\n",
            "gold.csv:3: start 'tolv' is not a whole number",
        ),
        ("document,start,end,code\nd1,9,5,x\n", "gold.csv:2: end 5 must be greater than start 9"),
        ("", "gold.csv:1: gold file is empty"),
    ],
)
def test_read_gold_errors_name_file_and_line(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(QcodeError) as err:
        read_gold(path)
    assert str(err.value).startswith(
        str(tmp_path / message.split(":")[0]) + message[len("gold.csv") :]
    )
    assert "\n" not in str(err.value)


def test_read_gold_missing_file(tmp_path):
    with pytest.raises(QcodeError, match="gold file not found"):
        read_gold(tmp_path / "nope.csv")


# -- main theme and background ------------------------------------------------------------
def test_main_theme_hit_rate_with_flag_column():
    gold = pd.DataFrame(
        {
            "document": ["p1", "p1", "p2", "p3"],
            "code": ["beredskap", "samverkan", "kunskap", "rapportering"],
            "main": ["", "ja", "1", "x"],
        }
    )
    predicted = pd.DataFrame(
        {"document": ["p1", "p2", "p3"], "code": ["samverkan/polis", "beredskap", "rapportering"]}
    )
    assert main_theme_hit_rate(predicted, gold) == pytest.approx(2 / 3)


def test_main_theme_hit_rate_with_code_column():
    gold = pd.DataFrame(
        {
            "document": ["p1", "p2"],
            "code": ["beredskap", "kunskap"],
            "main": ["beredskap", "samverkan"],
        }
    )
    predicted = pd.DataFrame({"document": ["p1", "p2"], "code": ["beredskap/saknas", "kunskap"]})
    assert main_theme_hit_rate(predicted, gold) == pytest.approx(0.5)
    assert math.isnan(main_theme_hit_rate(predicted, gold.drop(columns="main")))


def test_background_false_positive_rate():
    gold = pd.DataFrame({"document": ["p1"], "code": ["beredskap"]})
    predicted = pd.DataFrame(
        {
            "document": ["p1", "b1", "b2", "b2", "b3"],
            "code": ["beredskap", "beredskap", "beredskap/saknas", "kunskap", "samverkan"],
        }
    )
    documents = ["p1", "b1", "b2", "b3", "b4"]
    rates = background_false_positive_rate(predicted, gold, documents)
    assert rates.to_dict() == {"beredskap": 0.5, "kunskap": 0.25, "samverkan": 0.25}
    fixed = background_false_positive_rate(
        predicted, gold, documents, codes=["kunskap", "dubbla_roller"]
    )
    assert fixed.to_dict() == {"kunskap": 0.25, "dubbla_roller": 0.0}
    assert background_false_positive_rate(predicted, gold, ["p1"]).empty
