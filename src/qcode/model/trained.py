"""The two models tagging applies: the project's trained model and the companion.

* :class:`TrainedModel` is what ``qcode train`` makes and stores in the project database
  (``qcode tag --model`` applies it): per-code probabilities with per-code thresholds, plus the
  cross-validated figures and what it was trained on.
* :class:`CompanionModel` ships beside a codebook and votes with the rules on every tag run.

Both predict with a :class:`~qcode.model.linear.LinearTextModel` (plain arrays, no
scikit-learn) and are stored as such (:mod:`qcode.model.files`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..models import Coding, Segment
from .linear import LinearTextModel

METRIC_COLUMNS = [
    "code",
    "positives",
    "examples",
    "units",
    "precision",
    "recall",
    "f1",
    "threshold",
]


@dataclass
class TrainedModel:
    """Per-code classifiers as one :class:`LinearTextModel` (with each code's threshold and
    the codebook and data hashes), their cross-validated ``metrics`` (:data:`METRIC_COLUMNS`),
    the human ``coders`` they learnt from and the codes ``refused`` with the reason.

    ``features`` and ``classifiers`` are the fitted scikit-learn objects, present only in a
    model just trained (:func:`qcode.model.training.train`), never in a stored one; ``name``
    and ``trained_at`` are set when the model is loaded from a project."""

    linear: LinearTextModel
    metrics: pd.DataFrame
    coders: list[str]
    refused: dict[str, str] = field(default_factory=dict)
    features: Any = None
    classifiers: dict[str, Any] = field(default_factory=dict)
    name: str | None = None
    trained_at: str | None = None

    @property
    def codes(self) -> list[str]:
        return list(self.linear.codes)

    @property
    def thresholds(self) -> dict[str, float]:
        return self.linear.thresholds

    @property
    def codebook_sha256(self) -> str:
        return self.linear.codebook_sha256

    @property
    def data_sha256(self) -> str:
        return self.linear.data_sha256

    def predict_proba(self, texts: Sequence[str]) -> pd.DataFrame:
        """Probability per text (rows) and code (columns); each text is vectorised once."""
        return self.linear.predict_proba(list(texts))

    @property
    def identity(self) -> str | None:
        """``NAME@TRAINED`` (e.g. ``default@2026-12-02T10:15:00+00:00``) for a model loaded
        from a project, stored as the coder of its codings so every coding says which model
        and which training made it; None for a model not saved yet."""
        return f"{self.name}@{self.trained_at}" if self.name and self.trained_at else None

    def codings(self, segments: Sequence[Segment]) -> list[Coding]:
        """``source="model"`` codings for the segments whose probability reaches the code's
        threshold, with :attr:`identity` as their coder; a parent is left out where one of its
        subcodes was predicted (see :func:`qcode.vote.model_verdicts`)."""
        from ..vote import model_verdicts

        return [v.coding for v in model_verdicts(self, segments)]


def metrics_table(model: TrainedModel) -> pd.DataFrame:
    """Cross-validated figures rounded for printing, refused codes listed with NaN figures."""
    table = model.metrics.copy()
    refused = pd.DataFrame([{"code": code, "refused": why} for code, why in model.refused.items()])
    if not refused.empty:
        table = pd.concat([table, refused], ignore_index=True)
    return table.round(3)


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

    model: TrainedModel | LinearTextModel
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
        from ..vote import companion_verdicts

        return [v.coding for v in companion_verdicts(self, segments, rule_codings) if v.stored]


def companion_path(codebook_path: str | Any) -> Any:
    """Where a codebook's companion model lives: beside it, same name, ``.model``."""
    from pathlib import Path

    path = Path(codebook_path)
    return path.with_suffix(COMPANION_SUFFIX)
