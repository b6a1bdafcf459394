"""Everything qcode does with regular expressions beyond ``re.compile``: the only module that
reads the standard library's private regex parser (``re._parser``, ``re._constants``,
``re._casefix``; Python 3.11+), so a change there is fixed in one place.

* validation (``codebook.py``): :func:`regex_problem` refuses patterns that do not compile or
  may backtrack catastrophically (nested quantifiers, ambiguous alternatives under a repeat);
* speed (``tag.py``): :func:`leading_literals` and :func:`required_parts` say which words a
  match needs, so the tagger runs a regex only where it can match, and
  :func:`finditer_from` tries only the positions where a match can start;
* the run-time guard (``tag.py``): :class:`time_limit` stops a regex scan that runs too long.
"""

from __future__ import annotations

import re
import re._casefix as _casefix
import re._constants as _constants
import re._parser as _parser
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# -- validation ----------------------------------------------------------------------------

#: repeats with an upper bound above this count as unbounded for backtracking
MAX_BOUNDED_REPEAT = 10

NESTED_QUANTIFIERS = (
    "nested quantifiers (like (a+)+ or (\\w*)*) can backtrack "
    "catastrophically; use a single quantifier, e.g. (a+) or \\w*"
)
AMBIGUOUS_REPEAT = (
    "a repeated group whose alternatives can match the same text "
    "(like (a|aa)+) can backtrack catastrophically; make the "
    "alternatives start differently or drop the repeat"
)


def regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` is unusable (does not compile, or may backtrack catastrophically), or
    None when it is fine.

    >>> regex_problem(r"\\bsamverk\\w*") is None
    True
    >>> regex_problem(r"(a+)+b") == NESTED_QUANTIFIERS
    True
    """
    try:
        re.compile(pattern, re.IGNORECASE)
        parsed = _parser.parse(pattern, re.IGNORECASE)
    except re.error as err:
        return f"regex does not compile: {err}"
    return _catastrophe(list(parsed))


def _is_unbounded_repeat(op: Any, av: Any) -> bool:
    c = _constants
    return op in (c.MAX_REPEAT, c.MIN_REPEAT) and (
        av[1] == c.MAXREPEAT or av[1] > MAX_BOUNDED_REPEAT
    )


def _children(op: Any, av: Any) -> list[list[Any]]:
    """The item sequences nested in one parsed regex item."""
    c = _constants
    if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
        return [list(av[2])]
    if op == c.SUBPATTERN:
        return [list(av[3])]
    if op == c.BRANCH:
        return [list(item) for item in av[1]]
    if op in (c.ASSERT, c.ASSERT_NOT):
        return [list(av[1])]
    if op == c.GROUPREF_EXISTS:
        return [list(x) for x in av[1:] if x is not None]
    return []


def _nested(items: list[Any]) -> list[list[Any]]:
    """Every sequence nested one level in ``items`` that can backtrack: atomic groups are left
    out, since the engine never backtracks into them."""
    return [sub for op, av in items if op != _constants.ATOMIC_GROUP for sub in _children(op, av)]


def _has_unbounded(items: list[Any]) -> bool:
    if any(_is_unbounded_repeat(op, av) for op, av in items):
        return True
    return any(_has_unbounded(sub) for sub in _nested(items))


def _ambiguous_branch(items: list[Any]) -> bool:
    """Whether some alternation in ``items`` has an empty alternative or two alternatives
    that can start with the same character."""
    for op, av in items:
        if op == _constants.BRANCH:
            firsts = [_first_set(list(alt)) for alt in av[1]]
            if any(f is not None and not f for f in firsts):
                return True  # an empty alternative: (a|)+ , (a|aa)+ after prefix folding
            if any(
                _sets_overlap(firsts[i], firsts[j])
                for i in range(len(firsts))
                for j in range(i + 1, len(firsts))
            ):
                return True
    return any(_ambiguous_branch(sub) for sub in _nested(items))


def _catastrophe(items: list[Any]) -> str | None:
    """The first unbounded repeat in ``items`` whose body can backtrack catastrophically,
    explained; None when there is none."""
    for op, av in items:
        if _is_unbounded_repeat(op, av):
            body = list(av[2])
            if _has_unbounded(body):
                return NESTED_QUANTIFIERS
            if _ambiguous_branch(body):
                return AMBIGUOUS_REPEAT
    for sub in _nested(items):
        found = _catastrophe(sub)
        if found:
            return found
    return None


def _first_set(items: list[Any]) -> set[Any] | None:
    """Characters an item sequence can start with: a set of ('lit', ch) / ('cat', name), or
    None for "anything" (., negated classes, lookarounds: assume the worst). An empty set means
    the sequence can match the empty string."""
    c = _constants
    for op, av in items:
        if op == c.LITERAL:
            return {("lit", chr(av).lower())}
        if op == c.IN:
            out: set[Any] = set()
            for sop, sav in av:
                if sop == c.LITERAL:
                    out.add(("lit", chr(sav).lower()))
                elif sop == c.CATEGORY:
                    out.add(("cat", str(sav)))
                elif sop == c.RANGE:
                    lo, hi = sav
                    if hi - lo > 200:
                        return None
                    out.update(("lit", chr(x).lower()) for x in range(lo, hi + 1))
                else:  # NEGATE and anything unusual
                    return None
            return out
        if op == c.SUBPATTERN:
            inner = _first_set(list(av[3]))
            if inner is None or inner:
                return inner
            continue
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            inner = _first_set(list(av[2]))
            if inner is None:
                return None
            if av[0] == 0:
                rest = _first_set(items[items.index((op, av)) + 1 :])
                return None if rest is None else inner | rest
            return inner
        if op == c.BRANCH:
            out = set()
            for alt in av[1]:
                f = _first_set(list(alt))
                if f is None:
                    return None
                out |= f
            return out
        if op == c.AT:
            continue  # anchors (\b, ^) consume nothing
        return None
    return set()


_CATEGORY_SAMPLES = {
    "CATEGORY_WORD": re.compile(r"\w"),
    "CATEGORY_NOT_WORD": re.compile(r"\W"),
    "CATEGORY_DIGIT": re.compile(r"\d"),
    "CATEGORY_NOT_DIGIT": re.compile(r"\D"),
    "CATEGORY_SPACE": re.compile(r"\s"),
    "CATEGORY_NOT_SPACE": re.compile(r"\S"),
}


def _sets_overlap(a: set[Any] | None, b: set[Any] | None) -> bool:
    if a is None or b is None:
        return True
    if a & b:
        return True
    for kind_a, val_a in a:
        for kind_b, val_b in b:
            if kind_a == "cat" and kind_b == "cat":
                return True  # two classes (\w and \d, \S and \w, ...): assume they overlap
            if kind_a == "cat" and kind_b == "lit":
                if _CATEGORY_SAMPLES.get(val_a, re.compile(".")).match(val_b):
                    return True
            if kind_a == "lit" and kind_b == "cat":
                if _CATEGORY_SAMPLES.get(val_b, re.compile(".")).match(val_a):
                    return True
    return False


# -- the tagger's shortcuts and run-time guard ---------------------------------------------

# characters re.IGNORECASE folds beyond str.lower() (long s, dotless i, micro sign, Greek and
# Cyrillic variants), except plain i and s; a text with one of them is scanned plainly
_ODD_CHARS = (
    {chr(c) for c in _casefix._EXTRA_CASES}
    | {chr(v) for folds in _casefix._EXTRA_CASES.values() for v in folds}
) - {"i", "s"}
ODD_CASE = re.compile("[" + re.escape("".join(sorted(_ODD_CHARS))) + "]")


class RegexTimeout(Exception):
    """Raised by the SIGALRM handler inside a regex scan that ran out of time."""


def _on_alarm(signum: int, frame: object) -> None:
    raise RegexTimeout


def _can_time_out() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


_handler_installed = False  # True inside alarm_handler(): time_limit need not install it


@contextmanager
def alarm_handler() -> Iterator[None]:
    """Keep the SIGALRM handler of :class:`time_limit` installed for a block (installing it
    costs more than a regex scan of a short segment); the previous handler is put back."""
    global _handler_installed
    if _handler_installed or not _can_time_out():
        yield
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    _handler_installed = True
    try:
        yield
    finally:
        _handler_installed = False
        signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)


class time_limit:
    """``with time_limit(seconds):`` interrupts the block with ``RegexTimeout`` after
    ``seconds`` of wall-clock time.

    Python's ``re`` engine checks for signals while it backtracks, so SIGALRM stops even a
    runaway match. Signals reach only the main thread and Windows has no SIGALRM: there the
    block runs without a limit (validation still rejects the known catastrophic shapes). A
    timer the caller had armed is put back afterwards. A class, not a generator, because it
    wraps every segment's regex scan and must cost about a microsecond.
    """

    __slots__ = ("seconds", "active", "outer", "started", "handler")

    def __init__(self, seconds: float):
        self.seconds = seconds

    def __enter__(self) -> None:
        self.active = _can_time_out()
        if not self.active:
            return
        self.handler = None if _handler_installed else alarm_handler()
        if self.handler is not None:
            self.handler.__enter__()
        self.outer = signal.setitimer(signal.ITIMER_REAL, self.seconds)[0]
        self.started = time.monotonic() if self.outer else 0.0

    def __exit__(self, *exc: object) -> None:
        if not self.active:
            return
        signal.setitimer(signal.ITIMER_REAL, 0)
        if self.handler is not None:
            self.handler.__exit__(None, None, None)
        if self.outer:
            signal.setitimer(
                signal.ITIMER_REAL, max(self.outer - (time.monotonic() - self.started), 1e-3)
            )


def finditer_from(
    regex: re.Pattern[str], text: str, lowered: str | None, leads: frozenset[str] | None
) -> Iterator[re.Match[str]]:
    """``regex.finditer(text)``, but trying only the positions where a match can start.

    When every match must start with one of ``leads`` (lower-cased literals), the leftmost
    non-overlapping matches are found by ``regex.match`` at each occurrence of a lead in the
    lower-cased text, in order, skipping positions inside the previous match. Python's ``re``
    cannot skip ahead itself for patterns like ``\\b(?:samverk\\w*|samarbet\\w*)…``, and
    scanning every position of the segment with them was half of the tagging time.
    """
    if not leads or lowered is None:
        yield from regex.finditer(text)
        return
    starts: set[int] = set()
    for lead in leads:
        at = lowered.find(lead)
        while at >= 0:
            starts.add(at)
            at = lowered.find(lead, at + 1)
    done = 0
    for at in sorted(starts):
        if at < done:
            continue
        m = regex.match(text, at)
        if m is not None and m.end() > m.start():
            yield m
            done = m.end()


def leading_literals(pattern: str) -> frozenset[str] | None:
    """Lower-cased literals one of which every match of ``pattern`` starts with, or None.

    Zero-width items at the start (``\\b``, look-arounds) are passed over.

    >>> sorted(leading_literals(r"\\b(?:polis\\w*|kripo)\\s+ringde"))
    ['kripo', 'polis']
    >>> leading_literals(r"(?:vi\\s+)?ringer") is None  # the optional group may be missing
    True
    """
    try:
        parsed = _parser.parse(pattern, re.IGNORECASE)
    except Exception:
        return None
    found = _leading(list(parsed))
    if not found or any(ODD_CASE.search(x) or not x for x in found):
        return None
    return frozenset(x.lower() for x in found)


def _leading(items: list[Any]) -> set[str] | None:
    c = _constants
    zero_width = (c.AT, c.ASSERT, c.ASSERT_NOT)
    position = 0
    while position < len(items) and items[position][0] in zero_width:
        position += 1
    if position == len(items):
        return None
    op, av = items[position]
    if op is c.LITERAL:
        run = ""
        while position < len(items) and items[position][0] is c.LITERAL:
            run += chr(items[position][1])
            position += 1
        return {run}
    if op is c.SUBPATTERN:
        return _leading(list(av[3]))
    if op is c.BRANCH:
        return _union([_leading(list(alt)) for alt in av[1]])
    if op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[0] >= 1:
        return _leading(list(av[2]))
    return None


def required_parts(pattern: str, min_length: int = 3) -> list[frozenset[str]]:
    """Parts every match of ``pattern`` must contain: each part is a set of lower-cased strings
    one of which occurs in the match. Parts shorter than ``min_length`` are left out, so an
    empty list means "no shortcut".

    The tagger runs a regex only on segments that have a word for every letters-only part:
    most regexes in a codebook look for rare words, often two of them near each other
    (``\\b(?:ingen|saknar)\\b[^.]{0,25}\\b(?:plan\\w*|rutin\\w*)``), and this test is done
    once per distinct word, which is far cheaper than a regex scan of every segment.

    >>> [sorted(p) for p in required_parts(r"\\bdet\\s+(?:har\\s+)?(?:ökat|minskat)\\b")]
    [['det'], ['minskat', 'ökat']]
    >>> required_parts(r"\\b\\d+\\s+st\\b")  # nothing of 3+ letters is required
    []
    """
    try:
        parsed = _parser.parse(pattern, re.IGNORECASE)
    except Exception:  # unusual syntax or a parser change: no shortcut, the regex still runs
        return []
    return [
        frozenset(x.lower() for x in part)
        for part in _sequence_parts(list(parsed))
        if min(len(x) for x in part) >= min_length
    ]


def _sequence_parts(items: list[Any]) -> list[set[str]]:
    """The required parts of a regex sequence: runs of literals and required groups."""
    c = _constants
    parts: list[set[str]] = []
    run = ""
    for op, av in items:
        if op is c.LITERAL:
            run += chr(av)
            continue
        if run:
            parts.append({run})
            run = ""
        found = _item_literals(op, av)
        if found:
            parts.append(found)
    if run:
        parts.append({run})
    return parts


def _item_literals(op: Any, av: Any) -> set[str] | None:
    """Strings one of which a match of this regex item contains, or None if unknown."""
    c = _constants
    if op is c.SUBPATTERN:
        return _best(_sequence_parts(list(av[3])))
    if op is c.BRANCH:
        return _union([_best(_sequence_parts(list(alt))) for alt in av[1]])
    if op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[0] >= 1:
        return _best(_sequence_parts(list(av[2])))
    return None


def _union(alternatives: list[set[str] | None]) -> set[str] | None:
    """What one of several alternatives contains: unknown when any one of them is unknown."""
    known = [a for a in alternatives if a is not None]
    return None if len(known) < len(alternatives) else set().union(*known)


def _best(parts: list[set[str]]) -> set[str] | None:
    """The most selective of several required parts: longest shortest string, fewest strings."""
    if not parts:
        return None
    return max(parts, key=lambda o: (min(len(x) for x in o), -len(o)))
