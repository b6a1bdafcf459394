"""Training the companion model (the model beside a codebook) from a project's human codings.

``qcode companion train`` (and ``scripts/train_companion_model.py`` for the shipped one) learns
the codebook's top-level themes from the segments human coders have coded or reviewed, plus
the codebook's examples, and chooses the voting thresholds of
:class:`~qcode.model.CompanionModel` by cross-validation on that material:

every training segment gets an out-of-fold probability per theme, the rules' codings of the
same segments come from the current codebook (rules alone), and the (confirm, add, keep_best)
with the best macro-F1 over the themes (unit: one segment) wins among those that find at least
as much as the rules alone (macro-recall not below the rules'): the companion is there to
confirm and to hear paraphrase, not to trade recall for precision.

A theme with too few coded passages (fewer than ``min_examples`` passages + examples, or
fewer than two coded and two uncoded passages for cross-validation) is left out of the
companion; its rule codings are then stored without a vote.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .errors import ModelError
from .model import MIN_EXAMPLES, CompanionModel, train, training_data
from .models import Segment
from .store import Store

CONFIRM_GRID = [round(x, 2) for x in np.arange(0.0, 0.41, 0.05)]
ADD_GRID = [round(x, 2) for x in np.arange(0.5, 0.96, 0.05)]
KEEP_BEST_GRID: list[float | None] = [None, 0.0, 0.05, 0.1, 0.15]


@dataclass
class CompanionTraining:
    """A trained companion and what it learnt from: ``examples`` has one row per theme
    (``code, passages, examples, used``, and ``why`` when not used); the macro-F1 and
    macro-recall per segment of the rules alone and of rules and companion together
    (cross-validated on the training material, so slightly optimistic)."""

    companion: CompanionModel
    examples: pd.DataFrame
    rules_f1: float
    rules_recall: float
    combined_f1: float


def macro_scores(predicted: Any, gold: Any) -> tuple[float, float]:
    """Macro-F1 and macro-recall over themes (columns), units = rows (segments); boolean
    frames or arrays of the same shape and column order."""
    predicted, gold = np.asarray(predicted, dtype=bool), np.asarray(gold, dtype=bool)
    tp = (predicted & gold).sum(axis=0)
    fp = (predicted & ~gold).sum(axis=0)
    fn = (~predicted & gold).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 1.0)
        recall = np.where(tp + fn > 0, tp / (tp + fn), 1.0)
    return float(np.mean(f1)), float(np.mean(recall))


def _rule_hits(store: Store, codebook: Any, keys: pd.MultiIndex, themes: list[str]) -> pd.DataFrame:
    """Which themes the codebook's rules alone give each training segment (rows = keys)."""
    from .tag import Tagger

    tagger = Tagger(codebook)
    wanted = set(keys)
    segments = store.segments_frame()
    found = pd.DataFrame(False, index=keys, columns=themes)
    todo = [
        Segment(d, int(i), int(s), int(e), sp, bool(iv), t)
        for d, i, s, e, sp, iv, t in zip(
            segments["document"],
            segments["segment"],
            segments["start"],
            segments["end"],
            segments["speaker"],
            segments["is_interviewer"],
            segments["text"],
        )
        if (d, int(i)) in wanted
    ]
    for segment, codings in tagger.tag_segments(todo):
        for coding in codings:
            theme = coding.code_path.split("/")[0]
            if theme in found.columns:
                found.at[(segment.document_id, segment.index), theme] = True
    return found


def train_companion(
    store: Store,
    codebook: Any,
    coders: Sequence[str] = (),
    *,
    min_examples: int = MIN_EXAMPLES,
    trained_on: str = "",
) -> CompanionTraining:
    """Train a companion for ``codebook`` on the human codings of ``coders`` (default: every
    human coder) in ``store``; does not save it (see :func:`qcode.model.save_companion`).

    >>> result = train_companion(store, codebook, ["eva"])   # doctest: +SKIP
    >>> result.examples                                       # doctest: +SKIP
    """
    data = training_data(store, codebook, coders)
    themes = [code.path for code in codebook.codes]
    rows, used = [], []
    for theme in themes:
        positives = sum(1 for labels in data.labels if theme in labels)
        examples = len(data.examples.get(theme, []))
        negatives = len(data.labels) - positives
        why = ""
        if positives + examples < min_examples:
            why = f"{positives} coded passage(s) + {examples} example(s) < {min_examples}"
        elif positives < 2 or negatives < 2:
            why = (
                f"{positives} coded and {negatives} uncoded passage(s); cross-validation "
                "needs at least 2 of each"
            )
        rows.append(
            {
                "code": theme,
                "passages": positives,
                "examples": examples,
                "used": not why,
                "why": why,
            }
        )
        if not why:
            used.append(theme)
    table = pd.DataFrame(rows, columns=["code", "passages", "examples", "used", "why"])
    if not used:
        raise ModelError(
            "no theme has enough coded passages to train the companion on (need "
            f"{min_examples} passages + examples each, see --min-examples): "
            + "; ".join(f"{r['code']}: {r['why']}" for r in rows)
        )
    keys = pd.MultiIndex.from_tuples(data.keys, names=["document", "segment"])
    gold = pd.DataFrame({t: [t in labels for labels in data.labels] for t in used}, index=keys)
    # one fit: the classifiers and, from their cross-validation, the out-of-fold probabilities
    predicted: dict[str, np.ndarray] = {}
    model = train(
        store,
        codebook,
        coders,
        codes=used,
        min_examples=min_examples,
        out_of_fold=predicted,
        data=data,
    )
    out_of_fold = pd.DataFrame({t: predicted[t] for t in used}, index=keys)
    rule_hits = _rule_hits(store, codebook, keys, used)
    rules_f1, rules_recall = macro_scores(rule_hits, gold)
    ruled = out_of_fold.where(rule_hits)
    is_best = (ruled.eq(ruled.max(axis=1), axis=0) & rule_hits).to_numpy()
    # plain arrays in the grid search: 450 threshold triples, each scored over every theme
    p, hits, truth = out_of_fold.to_numpy(), rule_hits.to_numpy(), gold.to_numpy()
    results = []
    for keep_best in KEEP_BEST_GRID:
        protected = is_best & (p >= keep_best) if keep_best is not None else np.zeros_like(hits)
        for confirm in CONFIRM_GRID:
            kept = (hits & (p >= confirm)) | protected
            for add in ADD_GRID:
                f1, recall = macro_scores(kept | (p >= add), truth)
                if recall >= rules_recall:
                    results.append(
                        (round(f1, 4), add, confirm, -1 if keep_best is None else keep_best)
                    )
    if not results:  # nothing keeps the rules' recall: the companion may only confirm
        results = [(rules_f1, 1.0, 0.0, -1)]
    best_f1, add, confirm, keep_best = max(results)
    companion = CompanionModel(
        model,
        confirm=confirm,
        add=add,
        keep_best=None if keep_best == -1 else keep_best,
        trained_on=trained_on,
    )
    return CompanionTraining(companion, table, rules_f1, rules_recall, best_f1)
