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
codebook is refused at tag time (tests/test_companion.py checks the shipped one is current).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from qcode import Project  # noqa: E402
from qcode.model import (CompanionModel, companion_path, cross_validate_code,  # noqa: E402
                         fit_features, save_companion, train, training_data)

CONFIRM_GRID = [round(x, 2) for x in np.arange(0.0, 0.41, 0.05)]
ADD_GRID = [round(x, 2) for x in np.arange(0.5, 0.96, 0.05)]
KEEP_BEST_GRID = [None, 0.0, 0.05, 0.1, 0.15]


def macro_scores(predicted: pd.DataFrame, gold: pd.DataFrame) -> tuple[float, float]:
    """Macro-F1 and macro-recall over themes, units = rows (turns); boolean frames."""
    f1s, recalls = [], []
    for theme in gold.columns:
        tp = int((predicted[theme] & gold[theme]).sum())
        fp = int((predicted[theme] & ~gold[theme]).sum())
        fn = int((~predicted[theme] & gold[theme]).sum())
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0)
        recalls.append(tp / (tp + fn) if tp + fn else 1.0)
    return float(np.mean(f1s)), float(np.mean(recalls))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--codebook", default=str(REPO / "codebooks" / "kronoberg.yaml"))
    parser.add_argument("--transcripts", default=str(REPO / "transcripts"))
    parser.add_argument("--coding", default=str(REPO / "data" / "gold" / "demo-handcoded.csv"))
    parser.add_argument("--id-column", default="respondent_id")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        project = Project(folder, codebook=args.codebook, db=Path(folder) / "train.db",
                          id_column=args.id_column)
        project.tag([args.transcripts], companion=False)
        project.import_codings(args.coding, "hand")
        store = project.store
        codebook = project.codebook
        themes = [code.path for code in codebook.codes]
        data = training_data(store, codebook, ["hand"])
        keys = pd.MultiIndex.from_tuples(data.keys, names=["document", "segment"])
        gold = pd.DataFrame({t: [t in labels for labels in data.labels] for t in themes}, index=keys)
        matrices = fit_features(data)  # vectorised once, shared by every theme and fold
        out_of_fold = pd.DataFrame(
            {t: cross_validate_code(matrices.passages, gold[t].to_numpy(dtype=int),
                                    matrices.examples_of(t)) for t in themes}, index=keys)
        rules = store.codings_frame(source="rule", with_text=False)
        rules["theme"] = rules["code"].str.split("/").str[0]
        rule_hits = (pd.crosstab([rules["document"], rules["segment"].astype(int)], rules["theme"])
                     .reindex(index=keys, columns=themes, fill_value=0) > 0)

        rules_f1, rules_recall = macro_scores(rule_hits, gold)
        ruled = out_of_fold.where(rule_hits)
        is_best = ruled.eq(ruled.max(axis=1), axis=0) & rule_hits
        results = []
        for keep_best in KEEP_BEST_GRID:
            protected = (is_best & (out_of_fold >= keep_best) if keep_best is not None
                         else pd.DataFrame(False, index=keys, columns=themes))
            for confirm in CONFIRM_GRID:
                kept = (rule_hits & (out_of_fold >= confirm)) | protected
                for add in ADD_GRID:
                    f1, recall = macro_scores(kept | (out_of_fold >= add), gold)
                    if recall >= rules_recall:
                        results.append((round(f1, 4), add, confirm, -1 if keep_best is None else keep_best))
        best_f1, add, confirm, keep_best = max(results)
        keep_best = None if keep_best == -1 else keep_best
        model = train(store, codebook, ["hand"], codes=themes)

    companion = CompanionModel(model, confirm=confirm, add=add, keep_best=keep_best,
                               trained_on=f"{Path(args.transcripts).name}/ + {Path(args.coding).name}")
    target = companion_path(args.codebook)
    save_companion(companion, target)
    print(f"turns: {len(gold)}; positives per theme: "
          + ", ".join(f"{t} {int(gold[t].sum())}" for t in themes))
    print(f"cross-validated macro-F1 per turn: rules {rules_f1:.3f} (recall {rules_recall:.3f}), "
          f"model {macro_scores(out_of_fold >= 0.5, gold)[0]:.3f}, combined {best_f1:.3f} "
          f"(confirm >= {confirm}, add >= {add}, keep_best {keep_best})")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
