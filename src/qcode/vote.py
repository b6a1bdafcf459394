"""How a segment's automatic codings are decided: the rules, the companion and the project model.

One function, :func:`decide`, turns the rules' codings of some segments into what is stored,
and says why for each code: ``qcode tag`` stores the codings of its ``stored`` verdicts, and
``qcode explain`` prints the verdicts of one segment — the same function, so an explanation
can never claim a coding that was not stored.

* Without a companion, every rule coding is stored.
* With the companion (the model beside the codebook, see :class:`qcode.model.CompanionModel`),
  rules and model vote per top-level theme: a rule coding is stored when the model gives its
  theme at least ``confirm`` (or it is the segment's best rule theme at ``keep_best`` or more),
  and dropped otherwise; the model alone stores a theme (``source="companion"``) at ``add``
  or more.
* The project's trained model (``qcode train``), when switched on, adds ``source="model"``
  codings where a code reaches its threshold (a parent is left out where a subcode is coded).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .models import Coding, Segment


@dataclass(frozen=True)
class Verdict:
    """What became of one code on one segment: ``verdict`` is ``stored`` or ``dropped``,
    ``reason`` says why in words (``companion p=0.09 < 0.35``), ``coding`` is the coding
    that was (or would have been) stored."""

    coding: Coding
    verdict: str
    reason: str

    @property
    def stored(self) -> bool:
        return self.verdict == "stored"

    @property
    def code(self) -> str:
        return self.coding.code_path

    @property
    def source(self) -> str:
        return self.coding.source


def _p(p: float, threshold: float) -> str:
    """A probability shown next to its threshold, with a third decimal when two would make
    them look equal (``p=0.349 < 0.35``)."""
    shown = f"{p:.2f}"
    return f"{p:.3f}" if shown == f"{threshold:.2f}" else shown


def _rule_reason(coding: Coding) -> str:
    return f"rule score {coding.score:.3f}"


def decide(
    segments: Sequence[Segment],
    rule_codings: Sequence[Coding],
    companion: Any = None,
    model: Any = None,
) -> list[Verdict]:
    """The verdict on every rule coding of ``segments`` and every code the models add.

    ``segments`` are the codable ones (respondents, unless interviewers are coded too);
    ``companion`` is a :class:`~qcode.model.CompanionModel` or None, ``model`` the project's
    :class:`~qcode.model.TrainedModel` or None. The codings to store are
    ``[v.coding for v in verdicts if v.stored]``.
    """
    if companion is not None:
        verdicts = companion_verdicts(companion, segments, rule_codings)
    else:
        verdicts = [Verdict(c, "stored", _rule_reason(c)) for c in rule_codings]
    if model is not None:
        verdicts += model_verdicts(model, segments)
    return verdicts


def companion_verdicts(
    companion: Any, segments: Sequence[Segment], rule_codings: Sequence[Coding]
) -> list[Verdict]:
    """Rules and companion voting per theme (see the module docstring)."""
    segments = list(segments)
    if not segments:
        return [Verdict(c, "stored", _rule_reason(c)) for c in rule_codings]
    frame = companion.probabilities(segments)
    # plain lists: a DataFrame lookup per (segment, theme) costs more than the model
    probability = {theme: frame[theme].tolist() for theme in companion.model.codes}
    row_of: dict[tuple[str, int | None], int] = {
        (s.document_id, s.index): i for i, s in enumerate(segments)
    }
    themes = set(companion.model.codes)
    confirm, add, keep_best = companion.confirm, companion.add, companion.keep_best
    best: dict[int, tuple[float, str]] = {}
    for coding in rule_codings:
        theme = coding.code_path.split("/")[0]
        row = row_of.get((coding.document_id, coding.segment_index))
        if row is not None and theme in themes:
            p = probability[theme][row]
            best[row] = max(best.get(row, (-1.0, "")), (p, theme))
    verdicts: list[Verdict] = []
    covered: set[tuple[int, str]] = set()
    for coding in rule_codings:
        theme = coding.code_path.split("/")[0]
        row = row_of.get((coding.document_id, coding.segment_index))
        if row is None or theme not in themes:
            verdicts.append(
                Verdict(
                    coding,
                    "stored",
                    _rule_reason(coding) + f"; the companion does not vote on {theme}",
                )
            )
            continue
        p = probability[theme][row]
        if p >= confirm:
            reason = f"{_rule_reason(coding)}; companion p={_p(p, confirm)} ≥ {confirm}"
        elif keep_best is not None and best[row][1] == theme and p >= keep_best:
            reason = (
                f"{_rule_reason(coding)}; companion p={_p(p, confirm)} < {confirm}, but "
                f"{theme} is the segment's best rule theme (≥ {keep_best})"
            )
        else:
            verdicts.append(Verdict(coding, "dropped", f"companion p={_p(p, confirm)} < {confirm}"))
            continue
        verdicts.append(Verdict(coding, "stored", reason))
        covered.add((row, theme))
    for row, segment in enumerate(segments):
        for theme in companion.model.codes:
            p = probability[theme][row]
            if p >= add and (row, theme) not in covered:
                coding = Coding(
                    segment.document_id,
                    segment.index,
                    segment.start,
                    segment.end,
                    theme,
                    "companion",
                    round(p, 4),
                )
                verdicts.append(Verdict(coding, "stored", f"companion p={_p(p, add)} ≥ {add}"))
    return verdicts


def model_verdicts(model: Any, segments: Sequence[Segment]) -> list[Verdict]:
    """The project model's codings: each code whose probability reaches its threshold,
    except a parent where one of its subcodes was predicted (reports roll subcodes up)."""
    segments = list(segments)
    if not segments or not model.codes:
        return []
    probabilities = model.predict_proba([s.text for s in segments])
    name = model.identity or "the project model"
    verdicts = []
    for row, segment in enumerate(segments):
        hits = {
            code: float(probabilities.at[row, code])
            for code in model.codes
            if probabilities.at[row, code] >= model.thresholds[code]
        }
        for code, p in hits.items():
            if any(other.startswith(code + "/") for other in hits):
                continue
            threshold = model.thresholds[code]
            coding = Coding(
                segment.document_id,
                segment.index,
                segment.start,
                segment.end,
                code,
                "model",
                round(p, 4),
                coder=model.identity,
            )
            verdicts.append(
                Verdict(coding, "stored", f"model {name} p={_p(p, threshold)} ≥ {threshold:.2f}")
            )
    return verdicts
