"""``qcode explain``: why a segment was (not) coded, in words, from the same decision as ``tag``.

An explanation joins two things: what the codebook's patterns matched in the segment
(:meth:`qcode.tag.Tagger.explain`) and the verdict on each code from :func:`qcode.vote.decide`
— the function ``tag`` stores its codings from — so a code is shown ``stored`` exactly when
``tag`` stored it, ``dropped (companion p=0.09 < 0.35)`` when the companion model voted it
down, and ``not matched`` when nothing proposed it.

The text is plain; a ``paint(text, style)`` callback adds colour (``cli.py`` passes one with
ANSI codes for terminals). Styles: ``mark``, ``veto``, ``stored``, ``dropped``, ``dim``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .models import Segment
from .tag import CodeExplanation, Match, SegmentExplanation
from .vote import Verdict

Paint = Callable[[str, str], str]


def _plain(text: str, _style: str) -> str:
    return text


@dataclass(frozen=True)
class SegmentReport:
    """One segment explained: the rules' matches, the verdict on each code, the companion's
    probability per theme (empty without a companion) and the codebook's top-level themes
    (each one without a verdict is ``not matched``)."""

    explanation: SegmentExplanation
    verdicts: tuple[Verdict, ...]
    themes: tuple[str, ...] = ()
    companion: dict[str, float] = field(default_factory=dict)
    companion_thresholds: str = ""

    @property
    def segment(self) -> Segment:
        return self.explanation.segment

    def decisions(self) -> list[tuple[str, str, str, str]]:
        """(code, source, verdict, reason) per code: ``stored``, ``dropped``, ``not stored``
        (a subcode was coded instead), ``not coded`` (an interviewer segment) or ``not
        matched`` (nothing proposed it, or a veto or ``min_matches`` stopped the rules); rule codes first in codebook
        order, then what the models added, then the themes nothing proposed."""
        out: list[tuple[str, str, str, str]] = []
        seen: set[str] = set()
        verdict_of = {(v.code, v.source): v for v in self.verdicts}
        skipped = self.explanation.skipped
        for code in self.explanation.codes:
            seen.add(code.code_path)
            verdict = verdict_of.get((code.code_path, "rule"))
            if verdict is not None:
                out.append((code.code_path, "rule", verdict.verdict, verdict.reason))
            elif skipped and code.status == "coded":
                out.append((code.code_path, "rule", "not coded", skipped))
            else:
                out.append((code.code_path, "rule", *_rule_status(code)))
        for verdict in self.verdicts:
            if verdict.source != "rule":
                seen.add(verdict.code)
                out.append((verdict.code, verdict.source, verdict.verdict, verdict.reason))
        for theme in self.themes:  # a theme with a line for it or a subcode is accounted for
            if not any(code == theme or code.startswith(theme + "/") for code in seen):
                out.append((theme, "", "not matched", ""))
        return out


def _rule_status(code: CodeExplanation) -> tuple[str, str]:
    if code.status == "vetoed":
        return "not matched", "vetoed"
    if code.status == "below_min":
        return "not matched", f"{code.distinct} distinct < min {code.min_matches}"
    if code.status == "subcode":
        return "not stored", "the rules chose its subcode " + ", ".join(code.subcodes)
    return "not matched", code.status


def format_report(report: SegmentReport, *, paint: Paint | None = None) -> str:
    """The segment text with matches marked like ``«beredskapen»[beredskap/saknas]``, then
    one line per code with its verdict, and its patterns and vetoes indented under it.

    >>> print(format_report(report))  # doctest: +SKIP
    Vi har «ingen beredskap»[beredskap/saknas].
    beredskap/saknas  stored (rule score 0.646; companion p=0.87 ≥ 0.35)  1 distinct, min 1
      phrase ingen beredskap: ingen beredskap
    samverkan  not matched
    """
    paint = paint or _plain
    explanation = report.explanation
    segment = explanation.segment
    lines = [_marked_text(segment, explanation.matches, paint)]
    if explanation.skipped:
        lines.append(paint(f"({explanation.skipped})", "dim"))
    if not explanation.codes:
        lines.append(paint("no patterns matched", "dim"))
    rule_codes = {c.code_path: c for c in explanation.codes}
    for code, source, verdict, reason in report.decisions():
        head = f"{code}  {verdict}" + (f" ({reason})" if reason else "")
        rules = rule_codes.get(code) if source == "rule" else None
        if rules is not None and rules.matches:
            score = "" if "rule score" in reason else f"score {rules.score:.3f}, "
            head += f"  {score}{rules.distinct} distinct, min {rules.min_matches}"
        style = {"stored": "stored", "dropped": "dropped"}.get(verdict, "dim")
        lines.append(paint(head, style))
        if rules is not None:
            lines.extend(_pattern_lines(rules, paint))
    if report.companion:
        votes = ", ".join(f"{theme} {p:.2f}" for theme, p in report.companion.items())
        lines.append(paint(f"companion: {votes} ({report.companion_thresholds})", "dim"))
    return "\n".join(lines)


def format_explanation(explanation: SegmentExplanation, *, paint: Paint | None = None) -> str:
    """The rules' view of one segment alone (every rule coding stored): what
    :meth:`Tagger.explain <qcode.tag.Tagger.explain>` found, as text."""
    from .vote import decide

    return format_report(
        SegmentReport(explanation, tuple(decide([], explanation.codings))), paint=paint
    )


def _pattern_lines(code: CodeExplanation, paint: Paint) -> list[str]:
    lines = []
    for kind in ("term", "phrase", "regex"):
        by_pattern: dict[str, list[str]] = {}
        for m in code.matches:
            if m.kind == kind:
                shown = " ".join(m.matched.split())  # a hyphenated line break on one line
                label = shown if m.how in ("lemma", "phrase", "regex") else f"{shown} ({m.how})"
                found = by_pattern.setdefault(m.pattern, [])
                if label not in found:
                    found.append(label)
        for pattern, found in by_pattern.items():
            lines.append(f"  {kind} {pattern}: " + ", ".join(found))
    for v in code.vetoes:
        shown = " ".join(v.matched.split())
        lines.append(paint(f"  vetoed by {v.kind} {v.pattern}: {shown} ({v.code_path})", "veto"))
    return lines


def _marked_text(segment: Segment, matches: Sequence[Match], paint: Paint) -> str:
    """Segment text with each outermost matched span wrapped in «…»[codes]."""
    spans: dict[tuple[int, int], list[str]] = {}
    for m in matches:
        label = f"not {m.code_path}" if m.veto else m.code_path
        found = spans.setdefault((m.start, m.end), [])
        if label not in found:
            found.append(label)
    out = []
    pos = segment.start
    text = segment.text
    for start, end in sorted(spans, key=lambda s: (s[0], -s[1])):
        if start < pos:  # nested in or overlapping an earlier span: its labels join that one
            continue
        labels: list[str] = []
        for (s, e), names in spans.items():
            if s >= start and e <= end:
                labels += [n for n in names if n not in labels]
        labels.sort(key=lambda n: (n.startswith("not "), n))  # parents before their subcodes
        out.append(text[pos - segment.start : start - segment.start])
        style = "veto" if all(n.startswith("not ") for n in labels) else "mark"
        out.append(
            paint(f"«{text[start - segment.start : end - segment.start]}»", style)
            + f"[{', '.join(labels)}]"
        )
        pos = end
    out.append(text[pos - segment.start :])
    return "".join(out)
