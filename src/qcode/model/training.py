"""Training a model on human codes: shared text features, one classifier per code.

One feature extractor serves every code: a ``FeatureUnion`` of TF-IDF over word lemmas (from
:func:`qcode.nlp.lemma_candidates`, so "planen", "planer" and "plan" are one feature) and
TF-IDF over character n-grams (``char_wb``, 3–5, which catches compounds and spelling
variants the lemma table does not know). Each code gets only a
``LogisticRegression(class_weight="balanced")`` on that matrix, because most codes are rare
among segments. Vectorising is the expensive part (lemma lookup, char n-grams), so a text is
vectorised once however many codes the model has, in training and in prediction.

Training data are the respondents' segments of the documents the chosen human coders have
coded or reviewed: a segment is a positive for a code when a coder applied it or a subcode;
the codebook's ``examples`` are added as extra positives (in every training fold, never in a
validation fold, since they are not passages from the material). Precision, recall and F1
are cross-validated with ``StratifiedKFold``; the per-code probability threshold is the one
with the best F1 on the out-of-fold predictions (the printed figures are therefore slightly
optimistic — they are measured on the folds the threshold was chosen on).

The TF-IDF vocabulary and weights are fitted once, on all passages plus all examples, before
cross-validation. That fit is unsupervised (it reads no labels), so it leaks no label into the
validation folds; a validation passage only contributes to the document frequencies, and a
word seen only in validation passages gets no weight from the classifiers trained without it.

The trained model is kept as plain arrays (:class:`~qcode.model.linear.LinearTextModel`) and
stored without pickle (:mod:`qcode.model.files`). This is the only module that imports
scikit-learn (inside the functions that train), so tagging never loads it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ModelError
from ..store import Store
from .linear import LinearTextModel, lemma_tokens
from .trained import METRIC_COLUMNS, TrainedModel

MIN_EXAMPLES = 8
MAX_FOLDS = 5


def build_features() -> Any:
    """The unfitted feature extractor shared by all codes: lemma TF-IDF + char_wb 3–5 TF-IDF."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    return FeatureUnion(
        [
            ("lemmas", TfidfVectorizer(analyzer=lemma_tokens, sublinear_tf=True)),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(3, 5),
                    lowercase=True,
                    sublinear_tf=True,
                    min_df=1,
                ),
            ),
        ]
    )


def build_classifier(seed: int = 0) -> Any:
    """The untrained per-code classifier: balanced logistic regression on the shared features."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(
        class_weight="balanced", max_iter=2000, C=4.0, solver="liblinear", random_state=seed
    )


@dataclass
class TrainingData:
    """Corpus passages with their codes (``texts``, ``labels``: a set of code paths each,
    subcodes rolled up into their ancestors) and the codebook's examples per code."""

    texts: list[str]
    labels: list[set[str]]
    examples: dict[str, list[str]]
    keys: list[tuple[str, int]] = field(default_factory=list)

    def sha256(self) -> str:
        """A hash of exactly what the model learns from (order-independent)."""
        lines = sorted(
            f"{t}\t{','.join(sorted(codes))}" for t, codes in zip(self.texts, self.labels)
        )
        lines += sorted(f"example\t{code}\t{t}" for code, ts in self.examples.items() for t in ts)
        return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()

    def example_rows(self) -> tuple[list[str], dict[str, list[int]]]:
        """Every distinct example text once (in codebook order), and per code the indices of
        its examples in that list: an example listed under a code and its parent is
        vectorised once."""
        texts: list[str] = []
        index: dict[str, int] = {}
        rows: dict[str, list[int]] = {}
        for code, examples in self.examples.items():
            for example in examples:
                if example not in index:
                    index[example] = len(texts)
                    texts.append(example)
                rows.setdefault(code, []).append(index[example])
        return texts, rows


@dataclass
class FeatureMatrices:
    """The fitted shared feature extractor with the passages' and the examples' rows."""

    features: Any
    passages: Any
    examples: Any
    example_rows: dict[str, list[int]]

    def examples_of(self, code: str) -> Any:
        """The feature rows of ``code``'s examples (possibly none)."""
        return self.examples[self.example_rows.get(code, [])]


def fit_features(data: TrainingData) -> FeatureMatrices:
    """Fit the shared feature extractor once on all passages plus all examples and transform
    both. Unsupervised (no labels are read), so fitting it before cross-validation leaks no
    label into the validation folds."""
    example_texts, rows = data.example_rows()
    features = build_features()
    matrix = features.fit_transform(list(data.texts) + example_texts).tocsr()
    n = len(data.texts)
    return FeatureMatrices(features, matrix[:n], matrix[n:], rows)


def _ancestors(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def training_data(store: Store, codebook: Any, coders: Sequence[str] = ()) -> TrainingData:
    """The passages the human ``coders`` (default: all) have coded or reviewed, labelled with
    their codes, plus the codebook's examples."""
    known = store.coders_frame()["coder"].tolist()
    chosen = list(coders) or known
    missing = [c for c in chosen if c not in known]
    if missing:
        raise ModelError(
            f"no human codings by {', '.join(missing)}; coders in this project: "
            + (", ".join(known) or "(none; import a review sheet first)")
        )
    if not chosen:
        raise ModelError(
            "no human codings to learn from; code by hand first "
            "(`qcode export review`, then `qcode import review --coder NAME`)"
        )
    documents: set[str] = set()
    for coder in chosen:
        documents |= store.reviewed_documents(coder)
    codings = store.codings_frame(source="human", coder=chosen, with_text=False)
    labels: dict[tuple[str, int], set[str]] = {}
    for doc, seg, code in zip(codings["document"], codings["segment"], codings["code"]):
        if not pd.isna(seg):
            labels.setdefault((doc, int(seg)), set()).update(_ancestors(code))
    segments = store.segments_frame()
    segments = segments[segments["document"].isin(documents)]
    texts, label_sets, keys = [], [], []
    for doc, seg, text, interviewer in zip(
        segments["document"], segments["segment"], segments["text"], segments["is_interviewer"]
    ):
        key = (doc, int(seg))
        if interviewer and key not in labels:
            continue
        texts.append(text)
        label_sets.append(labels.get(key, set()))
        keys.append(key)
    examples: dict[str, list[str]] = {}
    for code in codebook.walk():
        for example in code.examples:
            for path in _ancestors(code.path):
                examples.setdefault(path, []).append(example)
    return TrainingData(texts, label_sets, examples, keys)


def _best_threshold(y: np.ndarray, p: np.ndarray) -> tuple[float, float, float, float]:
    """The probability cut with the best F1 on out-of-fold predictions: (threshold,
    precision, recall, f1)."""
    from sklearn.metrics import precision_recall_curve

    precision, recall, thresholds = precision_recall_curve(y, p)
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    best = int(np.argmax(f1[:-1])) if len(thresholds) else 0
    if not len(thresholds):
        return 0.5, 0.0, 0.0, 0.0
    return float(thresholds[best]), float(precision[best]), float(recall[best]), float(f1[best])


def cross_validate_code(
    matrix: Any, y: np.ndarray, examples: Any, *, folds: int = MAX_FOLDS, seed: int = 0
) -> np.ndarray:
    """Out-of-fold probabilities for one code: each fold's classifier is trained on the other
    folds' rows plus the code's example rows and predicts its own passages' rows.

    ``matrix`` holds the passages' feature rows and ``examples`` the code's example rows,
    both from :func:`fit_features` (vectorised once, shared by every code and fold)."""
    import scipy.sparse as sparse
    from sklearn.model_selection import StratifiedKFold

    n_splits = int(min(folds, y.sum(), len(y) - y.sum()))
    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    out = np.zeros(len(y))
    for train_rows, test_rows in splitter.split(np.zeros(len(y)), y):
        classifier = build_classifier(seed)
        classifier.fit(
            sparse.vstack([matrix[train_rows], examples], format="csr"),
            np.concatenate([y[train_rows], np.ones(examples.shape[0], dtype=int)]),
        )
        out[test_rows] = classifier.predict_proba(matrix[test_rows])[:, 1]
    return out


def train(
    store: Store,
    codebook: Any,
    coders: Sequence[str] = (),
    *,
    min_examples: int = MIN_EXAMPLES,
    codes: Sequence[str] = (),
    seed: int = 0,
    out_of_fold: dict[str, np.ndarray] | None = None,
    data: TrainingData | None = None,
) -> TrainedModel:
    """Train one classifier per code with at least ``min_examples`` positives (human codings
    plus codebook examples) and report cross-validated precision/recall/F1 per code; codes
    with fewer are listed in ``refused`` with the reason. The feature extractor is fitted once
    for all codes (see :func:`fit_features`). Does not save (see :func:`save_model`).
    ``out_of_fold``, when given, receives each trained code's out-of-fold probabilities (in
    the order of ``data``, the :func:`training_data` used, which may be passed in).

    >>> model = train(store, codebook, ["anna"])   # doctest: +SKIP
    >>> model.metrics[["code", "f1"]]               # doctest: +SKIP
    """
    import scipy.sparse as sparse

    data = data if data is not None else training_data(store, codebook, coders)
    matrices = fit_features(data)
    chosen = list(codes) or codebook.paths
    classifiers: dict[str, Any] = {}
    thresholds: dict[str, float] = {}
    rows, refused = [], {}
    for code in chosen:
        y = np.array([1 if code in labels else 0 for labels in data.labels], dtype=int)
        examples = data.examples.get(code, [])
        positives = int(y.sum())
        if positives + len(examples) < min_examples:
            refused[code] = (
                f"{positives} coded passage(s) + {len(examples)} example(s) < {min_examples}"
            )
            continue
        if positives < 2 or len(y) - positives < 2:
            refused[code] = (
                f"{positives} coded and {len(y) - positives} uncoded passage(s); "
                "cross-validation needs at least 2 of each"
            )
            continue
        example_matrix = matrices.examples_of(code)
        predicted = cross_validate_code(matrices.passages, y, example_matrix, seed=seed)
        if out_of_fold is not None:
            out_of_fold[code] = predicted
        threshold, precision, recall, f1 = _best_threshold(y, predicted)
        classifier = build_classifier(seed)
        classifier.fit(
            sparse.vstack([matrices.passages, example_matrix], format="csr"),
            np.concatenate([y, np.ones(len(examples), dtype=int)]),
        )
        classifiers[code] = classifier
        thresholds[code] = threshold
        rows.append(
            {
                "code": code,
                "positives": positives,
                "examples": len(examples),
                "units": len(y),
                "precision": precision,
                "recall": recall,
                "f1": f1,
                "threshold": threshold,
            }
        )
    if not classifiers:
        raise ModelError(
            "no code has enough examples to train on (need "
            f"{min_examples}; see --min-examples): "
            + "; ".join(f"{c}: {why}" for c, why in refused.items())
        )
    used = list(coders) or store.coders_frame()["coder"].tolist()
    linear = LinearTextModel.from_sklearn(
        matrices.features,
        classifiers,
        codebook_sha256=codebook.sha256,
        data_sha256=data.sha256(),
        thresholds=thresholds,
    )
    if linear is None:  # build_features always makes the plain extractor LinearTextModel reads
        raise ModelError("the trained features cannot be stored as arrays")
    return TrainedModel(
        linear,
        pd.DataFrame(rows, columns=METRIC_COLUMNS),
        used,
        refused,
        features=matrices.features,
        classifiers=classifiers,
    )
