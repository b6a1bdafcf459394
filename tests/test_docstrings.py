"""Docstrings and comments name only things that exist: commands, files and Python objects.

A docstring that points at a command, a document or a function that is not there sends the
next engineer looking for nothing; these checks keep every such pointer in ``src/qcode`` true.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import click
import pytest

import qcode
from qcode.cli import cli

REPO = Path(__file__).resolve().parents[1]
SOURCES = sorted((REPO / "src" / "qcode").rglob("*.py"))

#: ``qcode X`` in backticks that are not commands: the REFI-QDA user names qcode gives its
#: automatic codings in a .qdpx (``exchange/qdpx.py``)
NOT_COMMANDS = {"rule", "model", "companion"}

COMMAND = re.compile(r"`{1,2}qcode ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)?)")
PATH = re.compile(
    r"\b((?:docs|benchmarks|scripts|codebooks|tests|data|notebooks)/[\w./-]+\.\w+"
    r"|[A-Z]+\.md)\b"
)
ROLE = re.compile(r":(?:func|class|mod|meth|attr|data):`~?([A-Za-z_][\w.]*)`")


def _modules() -> list[object]:
    names = [m.name for m in pkgutil.walk_packages(qcode.__path__, "qcode.")]
    return [
        importlib.import_module(name) for name in ["qcode", *names] if not name.endswith("__main__")
    ]


MODULES = _modules()


def _mentions(pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    found = []
    for path in SOURCES:
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            found.append((str(path.relative_to(REPO)), match.group(1)))
    return sorted(set(found))


def _command_exists(words: list[str]) -> bool:
    command: click.Command = cli
    for position, word in enumerate(words):
        if not isinstance(command, click.Group):
            return True  # the rest are arguments ("qcode tag transcripts")
        sub = command.commands.get(word)
        if sub is None:
            return position > 0  # "qcode export review" is a command; "qcode nope" is not
        command = sub
    return True


@pytest.mark.parametrize("where, words", _mentions(COMMAND))
def test_every_command_named_in_the_code_exists(where: str, words: str) -> None:
    first = words.split()[0]
    if first in NOT_COMMANDS:
        return
    assert _command_exists(words.split()), f"{where} names `qcode {words}`, which is no command"


@pytest.mark.parametrize("where, path", _mentions(PATH))
def test_every_file_named_in_the_code_exists(where: str, path: str) -> None:
    # a path is from the repository root, or inside the package (its data/ files)
    assert (REPO / path).exists() or (REPO / "src" / "qcode" / path).exists(), (
        f"{where} names {path}, which is not in the repository"
    )


def _resolves(dotted: str, home: object) -> bool:
    """Whether ``dotted`` names an attribute of its own module, of the module path it spells,
    or of some qcode module (short names in cross-references are read loosely)."""
    parts = dotted.split(".")
    if parts[0] != "qcode" and len(parts) == 1 and _importable(parts[0]):
        return True  # another library (:mod:`defusedxml`)
    if parts[0] == "qcode":
        for split in range(len(parts), 0, -1):
            try:
                target: object = importlib.import_module(".".join(parts[:split]))
            except ImportError:
                continue
            return _walk(target, parts[split:])
        return False
    owners = [home, *MODULES]
    classes = [v for m in owners for v in vars(m).values() if isinstance(v, type)]
    return any(_walk(owner, parts) for owner in [*owners, *classes])  # a method of a class


def _importable(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


def _walk(target: object, names: list[str]) -> bool:
    for name in names:
        if not hasattr(target, name):
            return False
        target = getattr(target, name)
    return True


@pytest.mark.parametrize("where, name", _mentions(ROLE))
def test_every_python_object_named_in_a_docstring_exists(where: str, name: str) -> None:
    module_name = where.removeprefix("src/").removesuffix(".py").replace("/", ".")
    module_name = module_name.removesuffix(".__init__")
    home = importlib.import_module(module_name)
    assert _resolves(name, home), f"{where} refers to {name}, which does not exist"


def test_the_checks_see_the_pointers() -> None:
    # guards against a pattern that silently matches nothing
    assert len(_mentions(COMMAND)) > 10 and len(_mentions(PATH)) > 5 and len(_mentions(ROLE)) > 30
