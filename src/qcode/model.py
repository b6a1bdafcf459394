"""A model that learns from human codes: shared text features, one classifier per code.

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

**Where the model lives:** inside the project database (table ``models``), as a pickled blob
with the codebook's sha256 and a sha256 of the training data, so the model travels with the
project and cannot silently outlive the codebook it was trained for: a changed codebook makes
it stale and :func:`load_model` refuses it. Pickles run code when loaded; only load models from
project databases you trust (your own).
"""
from __future__ import annotations

import hashlib
import io
import pickle
import re
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .errors import ModelError
from .models import Coding, Segment
from .store import Store

MIN_EXAMPLES = 8
MAX_FOLDS = 5
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def lemma_tokens(text: str) -> list[str]:
    """The word lemmas of ``text``, lower case: every lemma candidate of each word (the word
    itself only when nothing else is known). A module-level function so the fitted features pickle.

    >>> lemma_tokens("Handlingsplanerna saknas")
    ['handlingsplan', 'sakna']
    """
    from .nlp import lemma_candidates

    tokens: list[str] = []
    for word in _WORD.findall(text):
        lower = word.lower()
        candidates = lemma_candidates(lower) - {lower}
        tokens.extend(sorted(candidates) if candidates else [lower])
    return tokens


def build_features() -> Any:
    """The unfitted feature extractor shared by all codes: lemma TF-IDF + char_wb 3–5 TF-IDF."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    return FeatureUnion([
        ("lemmas", TfidfVectorizer(analyzer=lemma_tokens, sublinear_tf=True)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), lowercase=True,
                                  sublinear_tf=True, min_df=1)),
    ])


def build_classifier(seed: int = 0) -> Any:
    """The untrained per-code classifier: balanced logistic regression on the shared features."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(class_weight="balanced", max_iter=2000, C=4.0,
                              solver="liblinear", random_state=seed)


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
        lines = sorted(f"{t}\t{','.join(sorted(l))}" for t, l in zip(self.texts, self.labels))
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
        raise ModelError(f"no human codings by {', '.join(missing)}; coders in this project: "
                         + (", ".join(known) or "(none; import a review sheet first)"))
    if not chosen:
        raise ModelError("no human codings to learn from; code by hand first "
                         "(`qcode export review`, then `qcode import review --coder NAME`)")
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
    for doc, seg, text, interviewer in zip(segments["document"], segments["segment"],
                                           segments["text"], segments["is_interviewer"]):
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


@dataclass
class TrainedModel:
    """One fitted feature extractor, per-code classifiers on its output with their
    thresholds, and what they were trained on."""

    features: Any
    classifiers: dict[str, Any]
    thresholds: dict[str, float]
    metrics: pd.DataFrame
    codebook_sha256: str
    data_sha256: str
    coders: list[str]
    refused: dict[str, str] = field(default_factory=dict)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Read models pickled before the features were shared (one whole pipeline per code,
        ``features`` None): they keep working until retrained."""
        if "pipelines" in state:
            state = dict(state)
            state["classifiers"] = state.pop("pipelines")
            state["features"] = None
        self.__dict__.update(state)

    @property
    def codes(self) -> list[str]:
        return list(self.classifiers)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_linear", None)  # rebuilt from the fitted objects when needed
        state.pop("name", None)  # name and training time come from the models table
        state.pop("trained_at", None)
        return state

    def linear(self) -> "LinearTextModel | None":
        """This model as a :class:`LinearTextModel` (None for models pickled before the
        features were shared), made once."""
        if "_linear" not in self.__dict__:
            self.__dict__["_linear"] = (
                None if self.features is None else LinearTextModel.from_sklearn(
                    self.features, self.classifiers, codebook_sha256=self.codebook_sha256,
                    data_sha256=self.data_sha256, thresholds=self.thresholds))
        return self.__dict__["_linear"]

    def predict_proba(self, texts: Sequence[str]) -> pd.DataFrame:
        """Probability per text (rows) and code (columns); each text is vectorised once
        (by :class:`LinearTextModel` when the features allow it: the same figures, faster)."""
        texts = list(texts)
        linear = self.linear()
        if linear is not None:
            return linear.predict_proba(texts)
        inputs = texts if self.features is None else self.features.transform(texts)
        return pd.DataFrame({code: classifier.predict_proba(inputs)[:, 1]
                             for code, classifier in self.classifiers.items()},
                            index=range(len(texts)))

    @property
    def identity(self) -> str | None:
        """``NAME@TRAINED`` (e.g. ``default@2026-12-02T10:15:00+00:00``) for a model loaded
        from a project, stored as the coder of its codings so every coding says which model
        and which training made it; None for a model not saved yet."""
        name, trained = self.__dict__.get("name"), self.__dict__.get("trained_at")
        return f"{name}@{trained}" if name and trained else None

    def codings(self, segments: Sequence[Segment]) -> list[Coding]:
        """``source="model"`` codings for the segments whose probability reaches the code's
        threshold, with :attr:`identity` as their coder; a parent is left out where one of its
        subcodes was predicted (see :func:`qcode.vote.model_verdicts`)."""
        from .vote import model_verdicts

        return [v.coding for v in model_verdicts(self, segments)]


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


def cross_validate_code(matrix: Any, y: np.ndarray, examples: Any, *,
                        folds: int = MAX_FOLDS, seed: int = 0) -> np.ndarray:
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
        classifier.fit(sparse.vstack([matrix[train_rows], examples], format="csr"),
                       np.concatenate([y[train_rows], np.ones(examples.shape[0], dtype=int)]))
        out[test_rows] = classifier.predict_proba(matrix[test_rows])[:, 1]
    return out


METRIC_COLUMNS = ["code", "positives", "examples", "units", "precision", "recall", "f1",
                  "threshold"]


def train(store: Store, codebook: Any, coders: Sequence[str] = (), *,
          min_examples: int = MIN_EXAMPLES, codes: Sequence[str] = (), seed: int = 0,
          out_of_fold: dict[str, np.ndarray] | None = None, data: TrainingData | None = None
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
            refused[code] = (f"{positives} coded passage(s) + {len(examples)} example(s) < "
                             f"{min_examples}")
            continue
        if positives < 2 or len(y) - positives < 2:
            refused[code] = (f"{positives} coded and {len(y) - positives} uncoded passage(s); "
                             "cross-validation needs at least 2 of each")
            continue
        example_matrix = matrices.examples_of(code)
        predicted = cross_validate_code(matrices.passages, y, example_matrix, seed=seed)
        if out_of_fold is not None:
            out_of_fold[code] = predicted
        threshold, precision, recall, f1 = _best_threshold(y, predicted)
        classifier = build_classifier(seed)
        classifier.fit(sparse.vstack([matrices.passages, example_matrix], format="csr"),
                       np.concatenate([y, np.ones(len(examples), dtype=int)]))
        classifiers[code] = classifier
        thresholds[code] = threshold
        rows.append({"code": code, "positives": positives, "examples": len(examples),
                     "units": len(y), "precision": precision, "recall": recall, "f1": f1,
                     "threshold": threshold})
    if not classifiers:
        raise ModelError("no code has enough examples to train on (need "
                         f"{min_examples}; see --min-examples): "
                         + "; ".join(f"{c}: {why}" for c, why in refused.items()))
    used = list(coders) or store.coders_frame()["coder"].tolist()
    return TrainedModel(matrices.features, classifiers, thresholds,
                        pd.DataFrame(rows, columns=METRIC_COLUMNS), codebook.sha256,
                        data.sha256(), used, refused)


def save_model(store: Store, model: TrainedModel, name: str = "default") -> None:
    """Store the model in the project database as ``name``, with its codebook and data
    hashes (a model of the same name is replaced)."""
    import sklearn

    buffer = io.BytesIO()
    pickle.dump(model, buffer, protocol=pickle.HIGHEST_PROTOCOL)
    info = {"codes": model.codes, "thresholds": model.thresholds, "coders": model.coders,
            "refused": model.refused, "sklearn": sklearn.__version__,
            "metrics": model.metrics.to_dict(orient="records")}
    store.save_model(buffer.getvalue(), codebook_sha256=model.codebook_sha256,
                     data_sha256=model.data_sha256, info=info, name=name)


def load_model(store: Store, codebook: Any, name: str = "default") -> TrainedModel:
    """The project's trained model ``name``; refuses a missing one and a stale one (trained
    for another version of the codebook) with a message saying what to do. The loaded model
    knows its name and training time (:attr:`TrainedModel.identity`)."""
    row = store.load_model(name)
    if row is None:
        which = "" if name == "default" else f" named {name!r}"
        raise ModelError(f"no trained model{which} in this project; run `qcode train` first",
                         path=store.path)
    if row["codebook_sha256"] != codebook.sha256:
        raise ModelError(
            "the trained model is stale: codebook hash differs (model trained with codebook "
            f"{row['codebook_sha256'][:12]}, the codebook is now {codebook.sha256[:12]}); "
            "run `qcode train` again", path=store.path)
    try:
        model = pickle.loads(row["blob"])
    except Exception as err:  # an unpickling failure is a version mismatch, not a user bug
        raise ModelError(f"the stored model cannot be read by this qcode/scikit-learn ({err}); "
                         "run `qcode train` again", path=store.path) from None
    if not isinstance(model, TrainedModel):
        raise ModelError("the stored model is not a qcode model; run `qcode train` again",
                         path=store.path)
    model.__dict__["name"] = name
    model.__dict__["trained_at"] = row["created"]
    return model


def metrics_table(model: TrainedModel) -> pd.DataFrame:
    """Cross-validated figures rounded for printing, refused codes listed with NaN figures."""
    table = model.metrics.copy()
    refused = pd.DataFrame([{"code": code, "refused": why} for code, why in model.refused.items()])
    if not refused.empty:
        table = pd.concat([table, refused], ignore_index=True)
    return table.round(3)


# -- prediction without scikit-learn -----------------------------------------------------------
#: distinct whitespace tokens whose features are remembered; cleared when full, so memory stays
#: flat however large the corpus (a token's features are cheap to recompute)
TOKEN_CACHE_SIZE = 50_000
#: texts scored at once: the count table is this many rows x the features they use
ROWS_PER_BATCH = 16


class LinearTextModel:
    """The prediction half of a :class:`TrainedModel`, as plain arrays: the two TF-IDF
    vocabularies with their idf weights, and every code's logistic-regression weights in one
    matrix (features x codes).

    Why: scikit-learn's ``transform`` analyses every text from scratch (lemma lookups and
    character n-grams of every word) and its import alone takes about a second. Here each
    distinct whitespace token is analysed once and remembered, a batch of texts becomes one
    sparse product in numpy, and the arrays are saved without pickle (``np.savez``), so a
    companion model from someone else's codebook folder cannot run code when it is loaded.
    The probabilities are those of the scikit-learn model it was made from, to floating-point
    rounding (``tests/test_model.py`` compares them).

    Exactness rests on two facts of the fitted vectorisers: the char_wb analyser lower-cases
    the text and cuts n-grams inside whitespace-separated tokens, and :func:`lemma_tokens`
    only ever matches letters, which never span whitespace. So a text's features are the sum
    of its whitespace tokens' features.
    """

    def __init__(self, codes: Sequence[str], lemma_terms: Sequence[str], lemma_idf: np.ndarray,
                 char_terms: Sequence[str], char_idf: np.ndarray, weights: np.ndarray,
                 intercepts: np.ndarray, ngram_range: tuple[int, int], *,
                 codebook_sha256: str = "", data_sha256: str = "",
                 thresholds: dict[str, float] | None = None):
        self.codes = list(codes)
        self.lemma_terms, self.char_terms = list(lemma_terms), list(char_terms)
        self._lemma_index = {term: i for i, term in enumerate(self.lemma_terms)}
        self._char_index = {term: i for i, term in enumerate(self.char_terms)}
        self.lemma_idf = np.asarray(lemma_idf, dtype=np.float64)
        self.char_idf = np.asarray(char_idf, dtype=np.float64)
        self.weights = np.asarray(weights, dtype=np.float64)
        self.intercepts = np.asarray(intercepts, dtype=np.float64)
        self.ngram_range = (int(ngram_range[0]), int(ngram_range[1]))
        self.codebook_sha256, self.data_sha256 = codebook_sha256, data_sha256
        self.thresholds = dict(thresholds or {})
        n_lemma, n_char = len(self.lemma_terms), len(self.char_terms)
        if (self.weights.shape != (n_lemma + n_char, len(self.codes))
                or self.intercepts.shape != (len(self.codes),)
                or self.lemma_idf.shape != (n_lemma,) or self.char_idf.shape != (n_char,)):
            raise ModelError("the model's weights do not fit its vocabularies")
        self._idf = np.concatenate([self.lemma_idf, self.char_idf])
        self._reset_tokens()

    @classmethod
    def from_sklearn(cls, features: Any, classifiers: dict[str, Any], **info: Any
                     ) -> "LinearTextModel | None":
        """The same model as plain arrays, or None when ``features`` is not the extractor
        :func:`build_features` makes (then scikit-learn has to predict)."""
        try:
            (lemma_name, lemmas), (char_name, chars) = features.transformer_list
        except (AttributeError, TypeError, ValueError):
            return None
        plain = (lemma_name == "lemmas" and char_name == "chars"
                 and features.transformer_weights is None
                 and lemmas.analyzer is lemma_tokens and chars.analyzer == "char_wb"
                 and chars.lowercase and chars.preprocessor is None and chars.strip_accents is None
                 and all(v.use_idf and v.sublinear_tf and v.norm == "l2" and not v.binary
                         for v in (lemmas, chars)))
        if not plain or not classifiers:
            return None
        for classifier in classifiers.values():
            if list(classifier.classes_) != [0, 1] or classifier.coef_.shape[0] != 1:
                return None
        lemma_terms = sorted(lemmas.vocabulary_, key=lemmas.vocabulary_.get)
        char_terms = sorted(chars.vocabulary_, key=chars.vocabulary_.get)
        weights = np.column_stack([c.coef_[0] for c in classifiers.values()])
        intercepts = np.array([float(c.intercept_[0]) for c in classifiers.values()])
        return cls(list(classifiers), lemma_terms, lemmas.idf_, char_terms, chars.idf_, weights,
                   intercepts, chars.ngram_range, **info)

    # -- features ----------------------------------------------------------------------------
    def _token_features(self, token: str) -> tuple[list[int], list[int]]:
        """Vocabulary columns of one whitespace token's lemma and character n-gram features
        (repeated as often as they occur)."""
        lemma_index, char_index = self._lemma_index, self._char_index
        lemmas = [lemma_index[t] for t in lemma_tokens(token) if t in lemma_index]
        padded = f" {token.lower()} "
        size = len(padded)
        chars = []
        low, high = self.ngram_range
        for n in range(low, high + 1):
            # every n-gram of the padded token; a token shorter than n gives itself, once
            # (the char_wb analyser's rule)
            for offset in range(max(size - n, 0) + 1):
                column = char_index.get(padded[offset:offset + n])
                if column is not None:
                    chars.append(column)
            if size <= n:
                break
        return lemmas, chars

    def _reset_tokens(self) -> None:
        """Forget every token's features: ``_token_ids`` maps a whitespace token to its id,
        and token ``i``'s feature columns (lemma columns, then char columns shifted past the
        lemma vocabulary) are ``_flat[_starts[i]:_starts[i] + _lengths[i]]``. Id 0 is an empty
        token, so an id is never falsy."""
        self._token_ids: dict[str, int] = {}
        self._flat = np.empty(1 << 16, dtype=np.int64)
        self._starts = np.zeros(1 << 12, dtype=np.int64)
        self._lengths = np.zeros(1 << 12, dtype=np.int64)
        self._used = 0
        self._next_id = 1

    def _add_token(self, token: str) -> int:
        lemmas, chars = self._token_features(token)
        shift = len(self.lemma_terms)
        columns = lemmas + [c + shift for c in chars]
        while self._used + len(columns) > len(self._flat):
            self._flat = np.concatenate([self._flat, np.empty_like(self._flat)])
        if self._next_id >= len(self._starts):
            self._starts = np.concatenate([self._starts, np.zeros_like(self._starts)])
            self._lengths = np.concatenate([self._lengths, np.zeros_like(self._lengths)])
        token_id = self._next_id
        self._flat[self._used:self._used + len(columns)] = columns
        self._starts[token_id], self._lengths[token_id] = self._used, len(columns)
        self._used += len(columns)
        self._next_id += 1
        self._token_ids[token] = token_id
        return token_id

    def _features(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of every feature occurrence in ``texts``; columns of the char
        n-grams come after the lemma vocabulary's. One dict lookup per token in Python; the
        expansion of tokens into their features is a numpy gather."""
        if len(self._token_ids) >= TOKEN_CACHE_SIZE:
            self._reset_tokens()  # between batches only: ids stay valid within one
        get, add = self._token_ids.get, self._add_token
        token_ids: list[int] = []
        sizes: list[int] = []
        for text in texts:
            ids = [get(token) or add(token) for token in text.split()]
            token_ids += ids
            sizes.append(len(ids))
        ids_array = np.asarray(token_ids, dtype=np.int64)
        lengths = self._lengths[ids_array]
        rows = np.repeat(np.repeat(np.arange(len(texts)), sizes), lengths)
        firsts = np.cumsum(lengths) - lengths
        within = np.arange(int(lengths.sum())) - np.repeat(firsts, lengths)
        return rows, self._flat[np.repeat(self._starts[ids_array], lengths) + within]

    def decision_function(self, texts: Sequence[str]) -> np.ndarray:
        """Per text (rows) and code (columns), the logistic regressions' log-odds: sublinear
        TF-IDF, L2-normalised per text and per vocabulary (as each vectoriser does), times the
        weights."""
        n = len(texts)
        if n > ROWS_PER_BATCH:  # bounds the count table below to ROWS_PER_BATCH x vocabulary
            return np.vstack([self.decision_function(texts[i:i + ROWS_PER_BATCH])
                              for i in range(0, n, ROWS_PER_BATCH)])
        scores = np.tile(self.intercepts, (n, 1))
        rows, cols = self._features(texts)
        if not len(rows):
            return scores
        # count occurrences per (text, feature) in a dense table over only the features this
        # batch uses (numbered by a pass over the vocabulary): cheaper than sorting them
        present = np.zeros(len(self._idf), dtype=bool)
        present[cols] = True
        used = np.flatnonzero(present)
        number = np.cumsum(present) - 1
        width = len(used)
        counts = np.bincount(rows * width + number[cols], minlength=n * width)
        keys = np.flatnonzero(counts)
        counts = counts[keys]
        rows, cols = keys // width, used[keys % width]
        values = (np.log(counts) + 1.0) * self._idf[cols]
        is_char = cols >= len(self.lemma_terms)
        squares = values * values
        lemma_norms = np.sqrt(np.bincount(rows, weights=np.where(is_char, 0.0, squares), minlength=n))
        char_norms = np.sqrt(np.bincount(rows, weights=np.where(is_char, squares, 0.0), minlength=n))
        values /= np.where(is_char, char_norms[rows], lemma_norms[rows])
        contributions = values[:, None] * self.weights[cols]
        for k in range(len(self.codes)):
            scores[:, k] += np.bincount(rows, weights=contributions[:, k], minlength=n)
        return scores

    def predict_proba(self, texts: Sequence[str]) -> pd.DataFrame:
        """Probability per text (rows) and code (columns), as :meth:`TrainedModel.predict_proba`."""
        texts = list(texts)
        probabilities = 1.0 / (1.0 + np.exp(-self.decision_function(texts)))
        return pd.DataFrame(probabilities, columns=self.codes, index=range(len(texts)))

    # -- files -------------------------------------------------------------------------------
    def arrays(self) -> dict[str, np.ndarray]:
        """Everything needed to rebuild the model, as arrays ``np.savez`` stores without pickle."""
        return {"codes": np.array(self.codes, dtype=str),
                "lemma_terms": np.array(self.lemma_terms, dtype=str), "lemma_idf": self.lemma_idf,
                "char_terms": np.array(self.char_terms, dtype=str), "char_idf": self.char_idf,
                "weights": self.weights, "intercepts": self.intercepts,
                "ngram_range": np.array(self.ngram_range, dtype=np.int64)}

    @classmethod
    def from_arrays(cls, arrays: Any, **info: Any) -> "LinearTextModel":
        return cls([str(c) for c in arrays["codes"]], arrays["lemma_terms"].tolist(),
                   arrays["lemma_idf"], arrays["char_terms"].tolist(), arrays["char_idf"],
                   arrays["weights"], arrays["intercepts"],
                   tuple(int(v) for v in arrays["ngram_range"]), **info)


# -- the companion model shipped beside a codebook ---------------------------------------------
COMPANION_SUFFIX = ".model"


@dataclass
class CompanionModel:
    """A model trained on hand-coded material that ships beside a codebook and is loaded with
    it (``codebooks/kronoberg.yaml`` -> ``codebooks/kronoberg.model``).

    Rules and model vote together on each respondent segment, per top-level theme:
    a rule coding is kept when the model gives its theme at least ``confirm``; the model alone
    codes a theme (``source="companion"``) when it is at least ``add`` sure. Rules are precise on
    the words they know and blind to paraphrase; the model hears paraphrase but is noisy on
    small training sets, so each guards the other. Both thresholds are chosen by
    cross-validation on the training material (see ``scripts/train_companion_model.py``).
    """

    model: "TrainedModel | LinearTextModel"
    confirm: float
    add: float
    trained_on: str = ""
    #: the rule-coded theme the model ranks highest in a segment is kept at this lower
    #: probability: the model prunes a segment's weaker themes more readily than its best one.
    keep_best: float | None = None

    @property
    def codebook_sha256(self) -> str:
        return self.model.codebook_sha256

    def probabilities(self, segments: Sequence[Segment]) -> pd.DataFrame:
        """Per segment (rows, in order) and theme (columns), the model's probability."""
        return self.model.predict_proba([s.text for s in segments])

    def combine(self, segments: Sequence[Segment], rule_codings: Sequence[Coding]) -> list[Coding]:
        """The codings to store for ``segments``: confirmed rule codings plus confident
        model codings (see the class docstring and :func:`qcode.vote.decide`, which says
        why for each). Segments must be the codable ones."""
        from .vote import companion_verdicts

        return [v.coding for v in companion_verdicts(self, segments, rule_codings) if v.stored]


def companion_path(codebook_path: str | Any) -> Any:
    """Where a codebook's companion model lives: beside it, same name, ``.model``."""
    from pathlib import Path

    path = Path(codebook_path)
    return path.with_suffix(COMPANION_SUFFIX)


COMPANION_FORMAT = "qcode-companion/2"


def save_companion(companion: CompanionModel, path: Any) -> None:
    """Write ``companion`` as a NumPy ``.npz`` archive of plain arrays plus a JSON header (no
    pickle: loading it runs no code, and tagging with it needs no scikit-learn)."""
    import json
    from pathlib import Path

    from .writers import atomic_path

    model = companion.model
    linear = model if isinstance(model, LinearTextModel) else model.linear()
    if linear is None:
        raise ModelError("this model's features cannot be saved as a companion; retrain it")
    header = {"format": COMPANION_FORMAT, "confirm": companion.confirm, "add": companion.add,
              "keep_best": companion.keep_best, "trained_on": companion.trained_on,
              "codebook_sha256": model.codebook_sha256, "data_sha256": model.data_sha256,
              "thresholds": dict(model.thresholds)}
    with atomic_path(Path(path)) as tmp:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, header=np.array(json.dumps(header, ensure_ascii=False)),
                                **linear.arrays())


#: the largest companion member qcode will unpack (the shipped one is ~1 MB unpacked)
MAX_COMPANION_MEMBER_MB = 256


def _check_companion_members(path: Any) -> None:
    """Refuse a companion archive that would unpack to something huge (a zip bomb)."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        for member in archive.infolist():
            if member.file_size > MAX_COMPANION_MEMBER_MB * 2**20:
                raise ValueError(f"member {member.filename} would unpack to "
                                 f"{member.file_size / 2**20:.0f} MB")


def _probability(value: Any) -> float:
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"threshold {value!r} is not a probability")
    return number


def _read_companion(path: Any) -> CompanionModel:
    """The companion in ``path``; ModelError for anything that is not one (never unpickles)."""
    import json

    try:
        _check_companion_members(path)
        with np.load(path, allow_pickle=False) as archive:
            header = json.loads(str(archive["header"]))
            if not isinstance(header, dict) or header.get("format") != COMPANION_FORMAT:
                raise ValueError("not the qcode companion format")
            linear = LinearTextModel.from_arrays(
                archive, codebook_sha256=str(header["codebook_sha256"]),
                data_sha256=str(header.get("data_sha256", "")),
                thresholds={str(k): float(v) for k, v in dict(header.get("thresholds") or {}).items()})
        keep_best = header.get("keep_best")
        return CompanionModel(linear, confirm=_probability(header["confirm"]),
                              add=_probability(header["add"]),
                              trained_on=str(header.get("trained_on", "")),
                              keep_best=None if keep_best is None else _probability(keep_best))
    except Exception as err:  # a file from another tool or an older qcode, not a user bug
        raise ModelError(f"not a qcode companion model ({type(err).__name__}: {err}); retrain it "
                         "with scripts/train_companion_model.py, copy it again from the qcode "
                         "package, or pass --no-companion", path=str(path)) from None


def companion_codebook_sha256(path: Any) -> str | None:
    """The codebook hash a companion file was trained for, read from its header alone
    (cheap: the weights stay packed); None when the file is not a readable companion."""
    import json

    try:
        _check_companion_members(path)
        with np.load(path, allow_pickle=False) as archive:
            return str(json.loads(str(archive["header"]))["codebook_sha256"])
    except Exception:  # reported with the reason when the companion is loaded
        return None


def load_companion(codebook: Any) -> CompanionModel | None:
    """The companion model beside ``codebook`` (None when there is none).

    A companion trained for another version of the codebook is refused with a
    :class:`~qcode.errors.ModelError` saying how to retrain, never used silently. The file
    holds arrays only (see :func:`save_companion`), so loading one from a codebook folder
    someone sent you runs no code.
    """
    if not getattr(codebook, "path", None):
        return None
    path = companion_path(codebook.path)
    if not path.exists():
        return None
    companion = _read_companion(path)
    if companion.codebook_sha256 != codebook.sha256:
        raise ModelError("the companion model was trained for another version of the codebook; "
                         "retrain it (scripts/train_companion_model.py) or pass --no-companion",
                         path=str(path))
    return companion
