"""The project database: storing documents, replacing automatic codings, keeping human ones."""

from __future__ import annotations

import sqlite3

import pytest

from qcode.codebook import Code
from qcode.errors import ProjectBusy, StoreError
from qcode.models import Coding, Document, Evidence, Segment, Turn, frozen_mapping
from qcode.store import CODING_COLUMNS, Store

TEXT = "I: Hur ser det ut?\nIP: Vi har ingen beredskap alls här.\nIP: Vi ringer socialen."


def make_document(text: str = TEXT, doc_id: str = "polis-01") -> Document:
    turns = []
    offset = 0
    for line in text.split("\n"):
        label, _, rest = line.partition(": ")
        start = offset + len(label) + 2
        turns.append(Turn(start, start + len(rest), label, label == "I"))
        offset += len(line) + 1
    return Document(
        doc_id,
        text,
        f"{doc_id}.md",
        tuple(turns),
        frozen_mapping(
            {
                "title": "Polis i Kronobergs län",
                "group": "polis",
                "main_group": "myndigheter",
                "interviewer": "Anna Svensson",
            }
        ),
    )


def segments_of(doc: Document) -> list[Segment]:
    return [
        Segment(doc.id, i, t.start, t.end, t.speaker, t.is_interviewer, doc.text[t.start : t.end])
        for i, t in enumerate(doc.turns)
    ]


def rule_coding(doc: Document, seg: Segment, code: str) -> Coding:
    word = "beredskap"
    at = doc.text.find(word, seg.start)
    return Coding(
        doc.id,
        seg.index,
        seg.start,
        seg.end,
        code,
        "rule",
        0.8,
        evidence=(Evidence(at, at + len(word), word, "term:beredskap", "term"),),
    )


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "p.db") as s:
        s.save_codes(
            [
                Code("beredskap", "beredskap", "Beredskap"),
                Code("saknas", "beredskap/saknas", "Saknas"),
            ],
            "cb1",
        )
        yield s


def test_saved_codings_read_back_with_export_columns_and_exact_text(store):
    doc = make_document()
    segs = segments_of(doc)
    store.save_document(
        doc, "sha1", segs, [rule_coding(doc, segs[1], "beredskap/saknas")], tag_key="k"
    )
    frame = store.codings_frame()
    assert list(frame.columns[: len(CODING_COLUMNS)]) == CODING_COLUMNS
    row = frame.iloc[0]
    assert row["text"] == "Vi har ingen beredskap alls här."
    assert row["text"] == doc.text[row["start"] : row["end"]]
    assert (row["title"], row["group"], row["main_group"]) == (
        "Polis i Kronobergs län",
        "polis",
        "myndigheter",
    )
    assert row["speaker"] == "IP" and row["segment"] == 1 and row["source"] == "rule"
    assert '"matched":"beredskap"' in row["evidence"]


def test_retagging_replaces_automatic_codings_but_keeps_human_ones(store):
    doc = make_document()
    segs = segments_of(doc)
    store.save_document(doc, "sha1", segs, [rule_coding(doc, segs[1], "beredskap")], tag_key="k")
    store.add_codings(
        [Coding(doc.id, 2, segs[2].start, segs[2].end, "beredskap", "human", coder="eva")]
    )
    store.save_document(doc, "sha1", segs, [], tag_key="k2")
    frame = store.codings_frame()
    assert frame["source"].tolist() == ["human"]
    assert frame["coder"].tolist() == ["eva"]


def test_human_coding_moves_with_its_text_when_the_document_changes(store):
    doc = make_document()
    segs = segments_of(doc)
    store.save_document(doc, "sha1", segs, [], tag_key="k")
    store.add_codings(
        [Coding(doc.id, 2, segs[2].start, segs[2].end, "beredskap", "human", coder="eva")]
    )
    changed = make_document(TEXT.replace("Hur ser det ut?", "Hur ser det ut hos er i dag?"))
    result = store.save_document(changed, "sha2", segments_of(changed), [], tag_key="k")
    assert result.human_moved == 1 and result.human_stale == []
    row = store.codings_frame().iloc[0]
    assert row["text"] == "Vi ringer socialen." and row["segment"] == 2


def test_human_coding_whose_text_is_gone_is_marked_stale_not_deleted(store):
    doc = make_document()
    segs = segments_of(doc)
    store.save_document(doc, "sha1", segs, [], tag_key="k")
    store.add_codings(
        [Coding(doc.id, 2, segs[2].start, segs[2].end, "beredskap", "human", coder="eva")]
    )
    changed = make_document(TEXT.replace("Vi ringer socialen.", "Vi hör av oss till polisen."))
    result = store.save_document(changed, "sha2", segments_of(changed), [], tag_key="k")
    assert len(result.human_stale) == 1
    assert store.codings_frame().empty
    stale = store.stale_human_codings()
    assert stale[["document", "code", "coder"]].values.tolist() == [
        ["polis-01", "beredskap", "eva"]
    ]


def test_failed_write_leaves_the_previous_state(store):
    doc = make_document()
    segs = segments_of(doc)
    store.save_document(doc, "sha1", segs, [rule_coding(doc, segs[1], "beredskap")], tag_key="k")
    bad = Coding(doc.id, 1, 0, 1, "beredskap", "robot")  # violates the source CHECK constraint
    with pytest.raises(sqlite3.IntegrityError):
        store.save_document(doc, "sha2", segs, [bad], tag_key="k2")
    assert store.document_state(doc.id).sha256 == "sha1"
    assert store.codings_frame()["source"].tolist() == ["rule"]


def test_second_writer_gets_project_busy_after_timeout(tmp_path):
    path = tmp_path / "p.db"
    first = Store(path)
    second = Store(path, timeout=0.2)
    with first.transaction():
        with pytest.raises(ProjectBusy, match="project is busy"):
            second.set_meta("x", "1")
    second.set_meta("x", "1")
    assert first.get_meta("x") == "1"


def test_reader_on_missing_database_says_how_to_create_one(tmp_path):
    with pytest.raises(StoreError, match="run `qcode tag PATH` first"):
        Store(tmp_path / "none.db", create=False)


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("hej hej, det här är ingen databas\n" * 100, encoding="utf-8")
    with pytest.raises(StoreError, match="not a qcode database"):
        Store(path)


def test_metadata_columns_and_segment_counts(store):
    doc = make_document()
    store.save_document(doc, "sha1", segments_of(doc), [], tag_key="k")
    docs = store.documents_frame()
    assert docs.loc[0, "document"] == "polis-01"
    assert docs.loc[0, "n_segments"] == 3
    assert docs.loc[0, "group"] == "polis"
    segs = store.segments_frame()
    assert segs["is_interviewer"].tolist() == [True, False, False]
    assert segs.loc[1, "text"] == "Vi har ingen beredskap alls här."


def _schema_2_database(path) -> None:
    """A database as qcode wrote it before the companion had its own source: one document
    tagged with the companion, one with the trained model ``default``, one extra column."""
    from qcode import store as store_mod

    old = store_mod._SCHEMA.replace(
        "'rule', 'companion', 'model', 'human'", "'rule', 'model', 'human'"
    )
    conn = sqlite3.connect(path)
    conn.executescript(old)
    conn.execute("ALTER TABLE codings ADD COLUMN note TEXT")
    conn.execute(
        "INSERT INTO models VALUES ('default', '2026-11-30T09:00:00+00:00', 'cb', 'data1', '{}', x'00')"
    )
    for doc, key in (
        ("a", "cb:turn:False:companion=c0ffee"),
        ("b", "cb:turn:False:model=data1"),
        ("c", None),
    ):
        conn.execute(
            "INSERT INTO documents(id, sha256, text, tag_key) VALUES (?, 's', 'Vi har ingen plan.', ?)",
            (doc, key),
        )
        for source, coder in (("rule", None), ("model", None), ("human", "eva")):
            conn.execute(
                "INSERT INTO codings(document_id, segment_idx, start_offset, end_offset, code, "
                "source, coder, created, note) VALUES (?, 0, 0, 18, 'beredskap', ?, ?, 'now', ?)",
                (doc, source, coder, f"{doc}-{source}"),
            )
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()


def test_schema_2_codings_get_the_companion_source_and_keep_every_row(tmp_path):
    _schema_2_database(tmp_path / "old.db")
    with Store(tmp_path / "old.db") as store:
        rows = store.conn.execute(
            "SELECT document_id, source, coder, note FROM codings ORDER BY document_id, source"
        ).fetchall()
        assert rows == [
            ("a", "companion", None, "a-model"),
            ("a", "human", "eva", "a-human"),
            ("a", "rule", None, "a-rule"),
            ("b", "human", "eva", "b-human"),
            ("b", "model", "default@2026-11-30T09:00:00+00:00", "b-model"),
            ("b", "rule", None, "b-rule"),
            ("c", "human", "eva", "c-human"),
            ("c", "model", None, "c-model"),
            ("c", "rule", None, "c-rule"),
        ]
        store.add_codings([Coding("a", 0, 0, 18, "kunskap", "companion", 0.7)])
        with pytest.raises(sqlite3.IntegrityError):
            store.add_codings([Coding("a", 0, 0, 18, "kunskap", "robot", 0.7)])
        indexes = {
            r[0]
            for r in store.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'codings'"
            )
        }
        assert {"codings_by_document", "codings_by_code", "codings_by_source"} <= indexes
    with Store(tmp_path / "old.db") as again:  # opening again changes nothing
        assert again.conn.execute("SELECT COUNT(*) FROM codings").fetchone()[0] == 10
