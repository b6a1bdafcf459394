"""Codebook: the YAML schema, strict validation with line numbers, and frozen value objects.

(Loading/validation is filled in by the codebook work; the value objects below are the contract
the tagger, reports and exchange code rely on.)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator


@dataclass(frozen=True)
class Term:
    """A single-word pattern. ``text`` is the lemma as written in the codebook (lower case);
    ``prefix`` is True for ``stem*`` terms; ``compound`` lets it match inside compounds."""

    text: str
    prefix: bool = False
    compound: bool = True


@dataclass(frozen=True)
class Patterns:
    terms: tuple[Term, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()  # each phrase as its words, lower case
    regex: tuple[str, ...] = ()
    not_terms: tuple[Term, ...] = ()
    not_phrases: tuple[tuple[str, ...], ...] = ()
    min_matches: int = 1

    @property
    def is_empty(self) -> bool:
        return not (self.terms or self.phrases or self.regex)

    @property
    def count(self) -> int:
        return len(self.terms) + len(self.phrases) + len(self.regex)


@dataclass(frozen=True)
class Code:
    id: str
    path: str  # ids joined by "/"
    label: str
    description: str = ""
    include: str = ""
    exclude: str = ""
    examples: tuple[str, ...] = ()
    color: str | None = None
    patterns: Patterns = field(default_factory=Patterns)
    children: tuple["Code", ...] = ()

    @property
    def level(self) -> int:
        return self.path.count("/") + 1

    @property
    def parent_path(self) -> str | None:
        return self.path.rsplit("/", 1)[0] if "/" in self.path else None

    def walk(self) -> Iterator["Code"]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class Codebook:
    name: str
    version: str
    language: str
    codes: tuple[Code, ...]
    path: str | None = None
    sha256: str = ""  # hash of the normalised YAML content: a changed codebook re-tags

    def walk(self) -> Iterator[Code]:
        """Every code, depth first, in codebook order."""
        for code in self.codes:
            yield from code.walk()

    def get(self, path: str) -> Code:
        for code in self.walk():
            if code.path == path:
                return code
        raise KeyError(path)

    @property
    def paths(self) -> list[str]:
        return [c.path for c in self.walk()]
