"""discover, metadata.csv sidecars and iter_documents (duplicate ids across files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qcode.errors import DuplicateDocument, TranscriptError, UnsupportedFormat
from qcode.ingest import (
    IngestConfig,
    apply_sidecar,
    discover,
    discover_inputs,
    iter_documents,
    load_sidecar_metadata,
    read_path,
)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding=encoding)
    return path


def test_discover_expands_folders_sorted_and_skips_clutter(tmp_path: Path) -> None:
    for name in [
        "b.txt",
        "a.md",
        "sub/c.docx",
        "sub/d.vtt",
        "e.srt",
        "f.csv",
        "g.xlsx",
        ".hidden.txt",
        ".git/x.txt",
        "README.md",
        "readme.txt",
        "metadata.csv",
        "~$lock.docx",
        "notes.doc",
        "sub/Metadata.CSV",
        "sub/Thumbs.db",
        "h.odt",
        "i.pdf",
        "sub/bild.png",
    ]:
        write(tmp_path / name, "x")
    found = discover_inputs([tmp_path])
    assert [p.relative_to(tmp_path).as_posix() for p in found.files] == [
        "a.md",
        "b.txt",
        "e.srt",
        "f.csv",
        "g.xlsx",
        "h.odt",
        "i.pdf",
        "sub/c.docx",
        "sub/d.vtt",
    ]
    # files of other types are set aside and named together in one warning, not silently lost
    assert [p.name for p in found.unsupported] == ["notes.doc", "bild.png"]
    [warning] = found.warnings()
    assert "notes.doc" in warning and "bild.png" in warning and "skipped 2 file(s)" in warning


def test_discover_keeps_explicit_files_in_order_once(tmp_path: Path) -> None:
    doc = write(tmp_path / "notes.doc", "x")
    txt = write(tmp_path / "z.txt", "x")
    assert discover([doc, txt, str(txt), tmp_path]) == [doc, txt]
    with pytest.raises(UnsupportedFormat, match="save it as .docx"):
        read_path(doc)


def test_sidecar_fills_missing_metadata_and_front_matter_wins(tmp_path: Path) -> None:
    write(tmp_path / "polis-1.txt", "---\ngroup: polis\n---\nI: Fråga?\nR: Svar.\n")
    write(
        tmp_path / "metadata.csv",
        "id;group;main_group;organisation\npolis-1;aklagare;myndigheter;Polisen\n"
        "kommun-1;kommuner;myndigheter;\n",
        encoding="utf-8-sig",
    )
    sidecar = load_sidecar_metadata(tmp_path)
    assert sidecar == {
        "polis-1": {"group": "aklagare", "main_group": "myndigheter", "organisation": "Polisen"},
        "kommun-1": {"group": "kommuner", "main_group": "myndigheter"},
    }
    [doc] = read_path(tmp_path / "polis-1.txt")
    merged = apply_sidecar(doc, sidecar)
    assert dict(merged.metadata) == {
        "group": "polis",
        "main_group": "myndigheter",
        "organisation": "Polisen",
    }
    assert len(merged.warnings) == 1
    assert "group" in merged.warnings[0] and "'aklagare'" in merged.warnings[0]
    assert "polis-1.txt" in merged.warnings[0]
    assert apply_sidecar(doc, {}) is doc


def test_sidecar_missing_or_malformed(tmp_path: Path) -> None:
    assert load_sidecar_metadata(tmp_path) == {}
    write(tmp_path / "metadata.csv", "id,group\na,x\na,y\n")
    with pytest.raises(TranscriptError, match="appears twice") as info:
        load_sidecar_metadata(tmp_path)
    assert info.value.line == 3


def test_iter_documents_applies_sidecars_per_folder(tmp_path: Path) -> None:
    write(tmp_path / "taxi/t1.txt", "R: Vi kör mest på natten.")
    write(tmp_path / "taxi/metadata.csv", "id,group\nt1,taxi\n")
    write(tmp_path / "hotell/h1.txt", "R: Vi har en rutin.")
    results = list(iter_documents([tmp_path], IngestConfig()))
    assert [(p.name, [(d.id, dict(d.metadata)) for d in docs]) for p, docs in results] == [
        ("h1.txt", [("h1", {})]),
        ("t1.txt", [("t1", {"group": "taxi"})]),
    ]


def test_iter_documents_yields_errors_and_duplicate_ids(tmp_path: Path) -> None:
    write(tmp_path / "a/intervju.txt", "R: Första.")
    write(tmp_path / "b/annan.txt", "---\nid: intervju\n---\nR: Andra.")
    write(tmp_path / "c/tom.txt", "")
    write(tmp_path / "d/ok.txt", "R: Tredje.")
    results = list(iter_documents([tmp_path], IngestConfig()))
    assert [p.name for p, _ in results] == ["intervju.txt", "annan.txt", "tom.txt", "ok.txt"]
    assert [d.id for d in results[0][1]] == ["intervju"]
    duplicate = results[1][1]
    assert isinstance(duplicate, DuplicateDocument)
    assert "'intervju'" in str(duplicate) and "annan.txt" in str(duplicate)
    assert isinstance(results[2][1], TranscriptError) and "empty" in str(results[2][1])
    assert [d.id for d in results[3][1]] == ["ok"]
