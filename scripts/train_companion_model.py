"""Train the companion model that ships beside a codebook (codebooks/kronoberg.model).

The companion learns the six themes from a hand-coded corpus (by default the fictional demo
transcripts and their hand coding, data/gold/demo-handcoded.csv) plus the codebook's examples,
and votes with the rules when `qcode tag` runs (see qcode.model.CompanionModel).

The model vectorises each turn once for all themes (one shared TF-IDF feature extractor,
fitted without labels on every turn and example; one logistic regression per theme).
Its thresholds are chosen here by cross-validation on the training corpus, never on the
evaluation set: every respondent turn gets an out-of-fold probability per theme, the rules'
codings for the same turns are taken from a rules-only run, and the pair (confirm, add) with
the best macro-F1 over the themes (unit: one turn, as in the held-out evaluation) wins among
those that find at least as much as the rules alone (macro-recall not below the rules'): the
companion is there to confirm and to hear paraphrase, not to trade recall for precision.

    .venv/bin/python scripts/train_companion_model.py            # writes codebooks/kronoberg.model

Re-run it whenever the codebook changes: a companion trained for another version of the
codebook is left out at tag time with a warning (tests/test_companion.py checks the shipped
one is current). Inside a project, `qcode companion train` does the same from the project's
own human codings (qcode.companion holds the training for both).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from qcode import Project  # noqa: E402
from qcode.companion import train_companion  # noqa: E402
from qcode.model import companion_path, save_companion  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--codebook", default=str(REPO / "codebooks" / "kronoberg.yaml"))
    parser.add_argument("--transcripts", default=str(REPO / "transcripts"))
    parser.add_argument("--coding", default=str(REPO / "data" / "gold" / "demo-handcoded.csv"))
    parser.add_argument("--id-column", default="respondent_id")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        project = Project(
            folder, codebook=args.codebook, db=Path(folder) / "train.db", id_column=args.id_column
        )
        project.tag([args.transcripts], companion=False)
        project.import_codings(args.coding, "hand")
        result = train_companion(
            project.store,
            project.codebook,
            ["hand"],
            trained_on=f"{Path(args.transcripts).name}/ + {Path(args.coding).name}",
        )

    companion = result.companion
    target = companion_path(args.codebook)
    save_companion(companion, target)
    table = result.examples
    print(
        "positives per theme: "
        + ", ".join(f"{c} {n}" for c, n in zip(table["code"], table["passages"]))
    )
    print(
        f"cross-validated macro-F1 per turn: rules {result.rules_f1:.3f} (recall "
        f"{result.rules_recall:.3f}), combined {result.combined_f1:.3f} (confirm >= "
        f"{companion.confirm}, add >= {companion.add}, keep_best {companion.keep_best})"
    )
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
