"""Exchange with other QDA tools through the REFI-QDA standard (https://www.qdasoftware.org).

* :mod:`qcode.exchange.qdc` — codebooks (``.qdc``) both ways;
* :mod:`qcode.exchange.qdpx` — whole projects (``.qdpx``): documents, codes, codings, cases;
* :mod:`qcode.exchange.xmlutil` — safe XML/zip reading and deterministic GUIDs.
"""

from __future__ import annotations

from .qdc import export_qdc, import_qdc, read_qdc, write_qdc
from .qdpx import import_qdpx, read_qdpx, write_qdpx

__all__ = [
    "export_qdc",
    "import_qdc",
    "read_qdc",
    "write_qdc",
    "import_qdpx",
    "read_qdpx",
    "write_qdpx",
]
