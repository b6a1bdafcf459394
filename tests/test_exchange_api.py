"""The Python API around exchange: ``Project.ingest`` stores texts without coding them, so
material can be looked at, exported to another QDA tool and coded by hand there."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

import qcode
from qcode.errors import TranscriptError

POLIS = """---
id: polis_01
title: Polis i Kronobergs län
group: polis
---
I: Har ni en handlingsplan?
IP: Ja, vi har en handlingsplan sedan i fjol.
"""

KYRKA = """---
id: kyrka_02
title: Präst i Svenska kyrkan
group: kyrkor
---
I: Har ni stött på det?
IP: Nej, aldrig här hos oss.
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "transcripts").mkdir()
    (tmp_path / "transcripts" / "polis_01.txt").write_text(POLIS, encoding="utf-8")
    (tmp_path / "transcripts" / "kyrka_02.md").write_text(KYRKA, encoding="utf-8")
    return tmp_path


def test_ingest_stores_documents_and_segments_without_codings(folder: Path) -> None:
    with qcode.Project(folder, db=folder / "p.db") as project:
        documents = project.ingest([folder / "transcripts"])
        assert list(documents["document"]) == ["kyrka_02", "polis_01"]
        assert list(documents["title"]) == ["Präst i Svenska kyrkan", "Polis i Kronobergs län"]
        assert list(documents["n_segments"]) == [2, 2]
        assert project.codings().empty
        segments = project.segments("polis_01")
        assert segments["text"].tolist() == [
            "Har ni en handlingsplan?",
            "Ja, vi har en handlingsplan sedan i fjol.",
        ]
        written = project.export_qdpx(folder / "out" / "p.qdpx")
    with zipfile.ZipFile(written) as archive:
        assert len([n for n in archive.namelist() if n.startswith("sources/")]) == 2


def test_ingest_again_keeps_unchanged_and_replaces_changed_texts(folder: Path) -> None:
    with qcode.Project(folder, db=folder / "p.db") as project:
        project.ingest([folder / "transcripts"])
        (folder / "transcripts" / "polis_01.txt").write_text(
            POLIS.replace("i fjol", "i år"), encoding="utf-8"
        )
        project.ingest([folder / "transcripts"])
        assert "sedan i år." in project.store.document_text("polis_01")


def test_ingest_names_a_missing_folder(folder: Path) -> None:
    with qcode.Project(folder, db=folder / "p.db") as project:
        with pytest.raises(TranscriptError, match="nosuch: no such file or folder"):
            project.ingest([folder / "nosuch"])
