"""Intercoder agreement against published worked examples, then on a project.

Sources of the reference numbers:

* Krippendorff, K. (2011). *Computing Krippendorff's Alpha-Reliability*. Annenberg School
  for Communication, University of Pennsylvania (Departmental Papers, ASC). Section C,
  "Nominal data, any number of observers, missing data": four observers, twelve units,
  values 1–5 with gaps; the paper gives alpha = 0.743 (nominal) and, for the same data,
  alpha = 0.849 (interval).
* The 2 × 2 worked example of Cohen's kappa in the Wikipedia article "Cohen's kappa"
  (section "Simple example"): 50 grant proposals read by two readers, 20 yes/yes, 5 yes/no,
  10 no/yes, 15 no/no; p_o = 0.70, p_e = 0.50, kappa = 0.40. The same article's pair of
  tables with equal agreement (60 %) but different kappa: 45/15/25/15 gives 0.1304 and
  25/35/5/35 gives 0.2593 (the usual textbook warning that kappa depends on the marginals).
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import krippendorff
import numpy as np
import pytest
from click.testing import CliRunner

from qcode.agreement import agreement, cohen_kappa, krippendorff_alpha, percent_agreement
from qcode.cli import cli
from qcode.errors import ReviewError
from qcode.models import Coding

DATA = Path(__file__).parent / "data" / "review"
_spec = importlib.util.spec_from_file_location("review_fixture", DATA / "fixture.py")
fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixture)

NA = np.nan
#: Krippendorff (2011), section C: rows are observers A–D, columns units 1–12.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NA, NA, NA],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NA, 3],
    [NA, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NA],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NA],
]


def two_by_two(yes_yes: int, yes_no: int, no_yes: int, no_no: int) -> tuple[list[int], list[int]]:
    """Two readers' labels reproducing a 2 × 2 agreement table."""
    a = [1] * yes_yes + [1] * yes_no + [0] * no_yes + [0] * no_no
    b = [1] * yes_yes + [0] * yes_no + [1] * no_yes + [0] * no_no
    return a, b


def test_krippendorff_package_reproduces_the_published_example():
    assert krippendorff.alpha(
        reliability_data=KRIPPENDORFF_2011, level_of_measurement="nominal"
    ) == pytest.approx(0.743, abs=5e-4)
    assert krippendorff.alpha(
        reliability_data=KRIPPENDORFF_2011, level_of_measurement="interval"
    ) == pytest.approx(0.849, abs=5e-4)


def test_our_alpha_wrapper_gives_the_published_values():
    assert krippendorff_alpha(KRIPPENDORFF_2011) == pytest.approx(0.743, abs=5e-4)
    assert krippendorff_alpha(KRIPPENDORFF_2011, "interval") == pytest.approx(0.849, abs=5e-4)
    assert math.isnan(krippendorff_alpha([[1, 1, 1], [1, 1, 1]]))  # no variation: undefined


@pytest.mark.parametrize(
    "table, p_o, kappa",
    [
        ((20, 5, 10, 15), 0.70, 0.40),
        ((45, 15, 25, 15), 0.60, 0.1304),
        ((25, 35, 5, 35), 0.60, 0.2593),
    ],
)
def test_cohen_kappa_reproduces_the_worked_tables(table, p_o, kappa):
    a, b = two_by_two(*table)
    assert cohen_kappa(a, b) == pytest.approx(kappa, abs=5e-5)
    assert percent_agreement(np.array([a, b])) == pytest.approx(p_o)


def test_kappa_undefined_when_both_coders_say_no_everywhere():
    assert math.isnan(cohen_kappa([0, 0, 0], [0, 0, 0]))


@pytest.fixture
def store(tmp_path):
    """The review project with anna's and bob's decisions on every respondent turn."""
    with fixture.build_review_store(tmp_path / "p.db") as s:
        spans = s.segment_spans()
        respondent = [(d, i) for (d, i) in sorted(spans) if i > 0]
        anna = {
            ("polis-01", 1): {"beredskap/saknas"},
            ("polis-01", 2): {"samverkan"},
            ("kommun-02", 1): {"samverkan"},
            ("kommun-02", 2): {"beredskap"},
        }
        bob = {
            ("polis-01", 1): {"beredskap"},
            ("polis-01", 2): {"samverkan"},
            ("kommun-02", 1): set(),
            ("kommun-02", 2): {"beredskap", "samverkan"},
        }
        for coder, chosen in (("anna", anna), ("bob", bob)):
            decisions = {
                key: {
                    code: code in chosen.get(key, set())
                    for code in ("beredskap", "beredskap/saknas", "samverkan")
                }
                for key in respondent
            }
            s.replace_human_decisions(coder, decisions)
        yield s


def test_agreement_per_code_on_segments(store):
    table = agreement(store, ["anna", "bob"]).set_index("code")
    assert table.index.tolist() == ["beredskap", "samverkan", "nattbuss", "pooled"]
    # 7 respondent turns; beredskap (subcodes rolled up): both say yes on polis-01#1 and
    # kommun-02#2, both no on the other five -> perfect agreement
    assert table.loc["beredskap", "units"] == 7
    assert table.loc["beredskap", "agreement"] == 1.0 and table.loc["beredskap", "kappa"] == 1.0
    # samverkan: yes/yes on polis-01#2, anna-only on kommun-02#1, bob-only on kommun-02#2
    a = [0, 0, 1, 0, 1, 0, 0]
    b = [0, 0, 0, 1, 1, 0, 0]
    row = table.loc["samverkan"]
    assert row["agreement"] == pytest.approx(5 / 7)
    assert row["kappa"] == pytest.approx(cohen_kappa(a, b))
    assert row["alpha"] == pytest.approx(
        krippendorff.alpha(reliability_data=[a, b], level_of_measurement="nominal")
    )
    assert row["positives"] == 3 and bool(row["rare"])  # fewer than 5 positive units
    assert math.isnan(table.loc["nattbuss", "kappa"])  # nobody used it
    assert table.loc["pooled", "units"] == 21  # 3 codes x 7 units


def test_agreement_with_auto_and_by_document(store):
    table = agreement(store, ["anna", "auto"], unit="document").set_index("code")
    assert table.loc["beredskap", "units"] == 3
    # rules: beredskap in polis-01 and kommun-02, anna too -> all three documents agree
    assert table.loc["beredskap", "agreement"] == 1.0
    three = agreement(store, ["anna", "bob", "auto"], codes=["samverkan"]).set_index("code")
    assert three.loc["samverkan", "units"] == 7 and not math.isnan(three.loc["samverkan", "alpha"])


def test_agreement_needs_two_known_coders(store):
    with pytest.raises(ReviewError, match="at least two coders"):
        agreement(store, ["anna"])
    with pytest.raises(ReviewError, match="no human codings by carl"):
        agreement(store, ["anna", "carl"])


def test_units_are_the_documents_every_coder_reviewed(store):
    # carl codes one segment of hotell-03 only: the units shrink to that document's turns
    start, end = store.segment_spans()[("hotell-03", 1)]
    store.add_codings([Coding("hotell-03", 1, start, end, "samverkan", "human", 1.0, "carl")])
    table = agreement(store, ["anna", "carl"]).set_index("code")
    assert table.loc["samverkan", "units"] == 2


def test_cli_agreement(store, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(
        cli,
        [
            "agreement",
            "--db",
            str(tmp_path / "p.db"),
            "--coder",
            "anna",
            "--coder",
            "bob",
            "-o",
            "agreement.csv",
        ],
    )
    assert out.exit_code == 0, out.output
    assert out.output.splitlines()[0].split() == [
        "code",
        "units",
        "positives",
        "prevalence",
        "agreement",
        "kappa",
        "alpha",
        "rare",
    ]
    assert "too rare for a stable figure" in out.output and "samverkan" in out.output
    written = (tmp_path / "agreement.csv").read_text(encoding="utf-8").splitlines()
    assert written[0] == "code,units,positives,prevalence,agreement,kappa,alpha,rare"
    assert written[-1].startswith("pooled,21,")
