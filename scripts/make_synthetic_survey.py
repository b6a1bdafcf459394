"""Write data/survey/synthetic-respondents.csv: an invented per-respondent survey for the demo.

SYNTHETIC DATA. No row is a real answer. The 2010 Kronoberg survey's per-respondent answers
were never published; only group figures were (data/survey/kronoberg-2010-aggregates.csv).
This script makes a table of the same *shape* so the crosstab can be shown and tested:

* one row per respondent; group sizes follow the published response rates
  (recipients × rate, rounded), 386 rows in all;
* answer columns on the instrument's scales: q1 (met probable victims), q8 (knowledge),
  q11 (feel affected), q12 (likelihood of reporting), q13 (likelihood a report is taken
  seriously); a blank cell is "no answer";
* overall shares near the published totals (knowledge: none or little ~74 %, good or very good
  ~12 %, don't know ~9 %, no answer ~5 %; taken seriously: likely ~70 %, less or not ~10 %,
  don't know ~16 %), with made-up differences between groups: groups that feel more affected
  are made less sure that reports are taken seriously, as the study's authors observed;
* a ``note`` column saying ``synthetic`` on every row.

Seeded, so every run writes the same bytes: ``python scripts/make_synthetic_survey.py``.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

SEED = 2010
ROOT = Path(__file__).resolve().parents[1]
AGGREGATES = ROOT / "data" / "survey" / "kronoberg-2010-aggregates.csv"
OUTPUT = ROOT / "data" / "survey" / "synthetic-respondents.csv"

# (answer value, overall probability); "" is no answer.
Q1 = [("ja", 0.12), ("nej", 0.78), ("vet_ej", 0.07), ("", 0.03)]
Q8 = [
    ("ingen", 0.30),
    ("liten", 0.438),
    ("god", 0.10),
    ("mycket_god", 0.021),
    ("vet_ej", 0.091),
    ("", 0.05),
]
Q11 = [
    ("inte_alls", 0.35),
    ("i_viss_mån", 0.36),
    ("i_stor_mån", 0.12),
    ("i_högsta_grad", 0.05),
    ("vet_ej", 0.08),
    ("", 0.04),
]
LIKELY = ["mycket_sannolikt", "sannolikt", "mindre_sannolikt", "inte_sannolikt", "vet_ej", ""]
Q12 = list(zip(LIKELY, [0.22, 0.38, 0.17, 0.08, 0.11, 0.04]))
Q13 = list(zip(LIKELY, [0.25, 0.45, 0.07, 0.03, 0.16, 0.04]))

#: how strongly a group's (invented) concern shifts its answers.
SHIFT = 0.7


def read_groups(path: Path = AGGREGATES) -> list[tuple[str, str, int]]:
    """(group, main_group, respondents) for every actor group, respondents = recipients × rate."""
    with path.open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["level"] == "group"]
    return [
        (
            r["group"],
            r["main_group"],
            int(round(int(r["recipients"]) * float(r["response_rate_pct"]) / 100)),
        )
        for r in rows
    ]


def _draw(
    rng: np.random.Generator, scale: list[tuple[str, float]], n: int, weights: np.ndarray
) -> list[str]:
    values = [v for v, _ in scale]
    p = np.array([p for _, p in scale]) * weights
    return list(rng.choice(values, size=n, p=p / p.sum()))


def make_rows(seed: int = SEED) -> list[dict[str, str]]:
    """Every synthetic respondent as a dict of CSV cells."""
    rng = np.random.default_rng(seed)
    rows, number = [], 0
    for group, main_group, n in read_groups():
        concern = rng.normal(0.0, 1.0)  # invented: how affected the group feels
        informed = 0.8 if main_group == "myndigheter" else rng.normal(0.0, 0.4)
        answers = {
            "q1_met_victims": _draw(
                rng, Q1, n, np.exp(SHIFT * concern * np.array([1, -0.3, 0, 0]))
            ),
            "q8_knowledge": _draw(
                rng, Q8, n, np.exp(informed * np.array([-1, -0.3, 1, 1.2, -0.5, 0]))
            ),
            "q11_affected": _draw(
                rng, Q11, n, np.exp(SHIFT * concern * np.array([-1, 0, 1, 1.3, 0, 0]))
            ),
            "q12_would_report": _draw(
                rng, Q12, n, np.exp(informed * np.array([0.8, 0.4, -0.4, -0.8, -0.5, 0]))
            ),
            "q13_taken_seriously": _draw(
                rng, Q13, n, np.exp(-SHIFT * concern * np.array([1, 0.5, -0.8, -1, 0, 0]))
            ),
        }
        for i in range(n):
            number += 1
            row = {"respondent_id": f"S{number:04d}", "group": group, "main_group": main_group}
            row.update({column: values[i] for column, values in answers.items()})
            row["note"] = "synthetic"
            rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    rows = make_rows(args.seed)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {args.output} ({len(rows)} synthetic respondents)")


if __name__ == "__main__":
    main()
