"""qcode: code Swedish qualitative interview material against a YAML codebook of themes.

>>> import qcode
>>> project = qcode.Project(".", codebook="codebooks/kronoberg.yaml")  # doctest: +SKIP
>>> project.tag(["transcripts/"]).summary                               # doctest: +SKIP

The public names are imported on first use (PEP 562), so ``qcode --help`` and
``import qcode.errors`` stay fast: pandas and spaCy load only when a project is opened.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Project", "Codebook", "load_codebook", "QcodeError"]
__version__ = "0.1.0"

_EXPORTS = {
    "Project": "qcode.project",
    "Codebook": "qcode.codebook",
    "load_codebook": "qcode.codebook",
    "QcodeError": "qcode.errors",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'qcode' has no attribute {name!r}")
