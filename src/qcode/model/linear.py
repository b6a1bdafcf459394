"""Prediction without scikit-learn: a trained model as plain arrays (:class:`LinearTextModel`).

Both the companion model beside a codebook and the project's trained model (``qcode train``)
are scored here at tag time; neither needs scikit-learn, which only training imports
(:mod:`qcode.model.training`). :func:`lemma_tokens` is the lemma analyser of the features and
lives here because prediction re-computes it for every new token.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ModelError

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def lemma_tokens(text: str) -> list[str]:
    """The word lemmas of ``text``, lower case: every lemma candidate of each word (the word
    itself only when nothing else is known). A module-level function: the fitted features
    name it as their analyser.

    >>> lemma_tokens("Handlingsplanerna saknas")
    ['handlingsplan', 'sakna']
    """
    from ..nlp import lemma_candidates

    tokens: list[str] = []
    for word in _WORD.findall(text):
        lower = word.lower()
        candidates = lemma_candidates(lower) - {lower}
        tokens.extend(sorted(candidates) if candidates else [lower])
    return tokens


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
    rounding (``tests/test_model.py`` compares them). A freshly trained model is turned into
    one at once (:meth:`from_sklearn`) and both the project model and the companion are stored
    as its arrays (:mod:`qcode.model.files`).

    Exactness rests on two facts of the fitted vectorisers: the char_wb analyser lower-cases
    the text and cuts n-grams inside whitespace-separated tokens, and :func:`lemma_tokens`
    only ever matches letters, which never span whitespace. So a text's features are the sum
    of its whitespace tokens' features.
    """

    def __init__(
        self,
        codes: Sequence[str],
        lemma_terms: Sequence[str],
        lemma_idf: np.ndarray,
        char_terms: Sequence[str],
        char_idf: np.ndarray,
        weights: np.ndarray,
        intercepts: np.ndarray,
        ngram_range: tuple[int, int],
        *,
        codebook_sha256: str = "",
        data_sha256: str = "",
        thresholds: dict[str, float] | None = None,
    ):
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
        if (
            self.weights.shape != (n_lemma + n_char, len(self.codes))
            or self.intercepts.shape != (len(self.codes),)
            or self.lemma_idf.shape != (n_lemma,)
            or self.char_idf.shape != (n_char,)
        ):
            raise ModelError("the model's weights do not fit its vocabularies")
        self._idf = np.concatenate([self.lemma_idf, self.char_idf])
        self._reset_tokens()

    @classmethod
    def from_sklearn(
        cls, features: Any, classifiers: dict[str, Any], **info: Any
    ) -> LinearTextModel | None:
        """The same model as plain arrays, or None when ``features`` is not the extractor
        :func:`build_features` makes (then scikit-learn has to predict)."""
        try:
            (lemma_name, lemmas), (char_name, chars) = features.transformer_list
        except (AttributeError, TypeError, ValueError):
            return None
        plain = (
            lemma_name == "lemmas"
            and char_name == "chars"
            and features.transformer_weights is None
            and lemmas.analyzer is lemma_tokens
            and chars.analyzer == "char_wb"
            and chars.lowercase
            and chars.preprocessor is None
            and chars.strip_accents is None
            and all(
                v.use_idf and v.sublinear_tf and v.norm == "l2" and not v.binary
                for v in (lemmas, chars)
            )
        )
        if not plain or not classifiers:
            return None
        for classifier in classifiers.values():
            if list(classifier.classes_) != [0, 1] or classifier.coef_.shape[0] != 1:
                return None
        lemma_terms = sorted(lemmas.vocabulary_, key=lemmas.vocabulary_.get)
        char_terms = sorted(chars.vocabulary_, key=chars.vocabulary_.get)
        weights = np.column_stack([c.coef_[0] for c in classifiers.values()])
        intercepts = np.array([float(c.intercept_[0]) for c in classifiers.values()])
        return cls(
            list(classifiers),
            lemma_terms,
            lemmas.idf_,
            char_terms,
            chars.idf_,
            weights,
            intercepts,
            chars.ngram_range,
            **info,
        )

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
                column = char_index.get(padded[offset : offset + n])
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
        self._flat[self._used : self._used + len(columns)] = columns
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
            return np.vstack(
                [
                    self.decision_function(texts[i : i + ROWS_PER_BATCH])
                    for i in range(0, n, ROWS_PER_BATCH)
                ]
            )
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
        lemma_norms = np.sqrt(
            np.bincount(rows, weights=np.where(is_char, 0.0, squares), minlength=n)
        )
        char_norms = np.sqrt(
            np.bincount(rows, weights=np.where(is_char, squares, 0.0), minlength=n)
        )
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
        return {
            "codes": np.array(self.codes, dtype=str),
            "lemma_terms": np.array(self.lemma_terms, dtype=str),
            "lemma_idf": self.lemma_idf,
            "char_terms": np.array(self.char_terms, dtype=str),
            "char_idf": self.char_idf,
            "weights": self.weights,
            "intercepts": self.intercepts,
            "ngram_range": np.array(self.ngram_range, dtype=np.int64),
        }

    @classmethod
    def from_arrays(cls, arrays: Any, **info: Any) -> LinearTextModel:
        low, high = (int(v) for v in arrays["ngram_range"])
        return cls(
            [str(c) for c in arrays["codes"]],
            arrays["lemma_terms"].tolist(),
            arrays["lemma_idf"],
            arrays["char_terms"].tolist(),
            arrays["char_idf"],
            arrays["weights"],
            arrays["intercepts"],
            (low, high),
            **info,
        )
