"""Models that learn from human codes: training, prediction from plain arrays, the file format.

* :mod:`qcode.model.training` — training with scikit-learn (shared TF-IDF features, one
  logistic regression per code, cross-validated figures and thresholds); the only module that
  imports scikit-learn.
* :mod:`qcode.model.linear` — :class:`LinearTextModel`, the numpy inference engine that scores
  texts at tag time without scikit-learn.
* :mod:`qcode.model.trained` — the two models tagging applies: the project's
  :class:`TrainedModel` (``qcode train``) and the :class:`CompanionModel` beside a codebook.
* :mod:`qcode.model.files` — both stored as ``.npz`` arrays plus a JSON header, never a
  pickle, read through :class:`~qcode.exchange.xmlutil.SafeZip`.

**Where the project model lives:** inside the project database (table ``models``), as the
``.npz`` bytes with the codebook's sha256 and a sha256 of the training data, so the model
travels with the project and cannot silently outlive the codebook it was trained for: a changed
codebook makes it stale and :func:`load_model` refuses it.

The names below are the public API (``from qcode.model import train``).
"""

from __future__ import annotations

from .files import (
    COMPANION_FORMAT,
    MODEL_FORMAT,
    companion_codebook_sha256,
    load_companion,
    load_model,
    read_arrays,
    save_companion,
    save_model,
    write_arrays,
)
from .linear import ROWS_PER_BATCH, TOKEN_CACHE_SIZE, LinearTextModel, lemma_tokens
from .trained import (
    COMPANION_SUFFIX,
    METRIC_COLUMNS,
    CompanionModel,
    TrainedModel,
    companion_path,
    metrics_table,
)
from .training import (
    MAX_FOLDS,
    MIN_EXAMPLES,
    FeatureMatrices,
    TrainingData,
    build_classifier,
    build_features,
    cross_validate_code,
    fit_features,
    train,
    training_data,
)

__all__ = [
    "COMPANION_FORMAT",
    "COMPANION_SUFFIX",
    "MAX_FOLDS",
    "METRIC_COLUMNS",
    "MIN_EXAMPLES",
    "MODEL_FORMAT",
    "ROWS_PER_BATCH",
    "TOKEN_CACHE_SIZE",
    "CompanionModel",
    "FeatureMatrices",
    "LinearTextModel",
    "TrainedModel",
    "TrainingData",
    "build_classifier",
    "build_features",
    "companion_codebook_sha256",
    "companion_path",
    "cross_validate_code",
    "fit_features",
    "lemma_tokens",
    "load_companion",
    "load_model",
    "metrics_table",
    "read_arrays",
    "save_companion",
    "save_model",
    "train",
    "training_data",
    "write_arrays",
]
