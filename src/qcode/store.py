"""The project database: one SQLite file holding documents, segments, codes and codings.

This is the only module with SQL. Every write runs inside a transaction (``BEGIN IMMEDIATE``)
so an interrupted run leaves the database as it was before the document being written; a
second process waiting on the write lock gets :class:`~qcode.errors.ProjectBusy` after the
timeout instead of a corrupt file. Human codings are never deleted by automatic re-tagging:
when a document's text changes they are moved with their text or marked stale.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import ProjectBusy, StoreError
from .models import AUTOMATIC_SOURCES, Coding, Document, Segment

SCHEMA_VERSION = 9  # 2: the files table (whole unchanged files skipped on re-runs)
# 3: source 'companion' (codings table rebuilt, see Store._allow_companion_source)
# 4: the stale_codings table (old text and best candidate of codings that went stale)
# 5: memos (qcode serve)
# 6: the rejections table (a human's "this code does not apply here")
# 7: documents.kind ('interview' or 'survey', see Store._add_document_kind)
# 8: codes.codable (REFI isCodable) and codes.origin (codes imported from a .qdpx survive `tag`)
# 9: redactions.spelling (a name as first written, for `redact --reveal`)

#: column order of the codings CSV export (issue contract); reports rely on these names.
CODING_COLUMNS = [
    "document",
    "segment",
    "start",
    "end",
    "speaker",
    "title",
    "group",
    "main_group",
    "kind",
    "code",
    "source",
    "coder",
    "score",
    "evidence",
    "text",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT
);
CREATE TABLE IF NOT EXISTS documents (
    id          TEXT PRIMARY KEY,
    path        TEXT,
    sha256      TEXT NOT NULL,
    text        TEXT NOT NULL,
    metadata    TEXT NOT NULL DEFAULT '{}',
    tag_key     TEXT,
    ingested_at TEXT,
    tagged_at   TEXT,
    kind        TEXT NOT NULL DEFAULT 'interview'
);
CREATE TABLE IF NOT EXISTS segments (
    document_id    TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    idx            INTEGER NOT NULL,
    start_offset   INTEGER NOT NULL,
    end_offset     INTEGER NOT NULL,
    speaker        TEXT,
    is_interviewer INTEGER NOT NULL DEFAULT 0,
    metadata       TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (document_id, idx)
);
CREATE TABLE IF NOT EXISTS codes (
    path        TEXT PRIMARY KEY,
    id          TEXT NOT NULL,
    parent      TEXT,
    label       TEXT,
    level       INTEGER NOT NULL,
    ord         INTEGER NOT NULL,
    color       TEXT,
    description TEXT,
    codable     INTEGER NOT NULL DEFAULT 1,
    origin      TEXT
);
CREATE TABLE IF NOT EXISTS codings (
    id           INTEGER PRIMARY KEY,
    document_id  TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    segment_idx  INTEGER,
    start_offset INTEGER NOT NULL,
    end_offset   INTEGER NOT NULL,
    code         TEXT NOT NULL,
    source       TEXT NOT NULL CHECK (source IN ('rule', 'companion', 'model', 'human')),
    coder        TEXT,
    score        REAL,
    evidence     TEXT NOT NULL DEFAULT '[]',
    stale        INTEGER NOT NULL DEFAULT 0,
    created      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS codings_by_document ON codings(document_id, segment_idx);
CREATE INDEX IF NOT EXISTS codings_by_code ON codings(code);
CREATE INDEX IF NOT EXISTS codings_by_source ON codings(source, coder);
CREATE TABLE IF NOT EXISTS redactions (
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    placeholder TEXT NOT NULL,
    spelling    TEXT,
    PRIMARY KEY (kind, value)
);
CREATE TABLE IF NOT EXISTS files (
    path        TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    documents   TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS coding_log (
    id         INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    coder      TEXT,
    action     TEXT NOT NULL,
    document_id TEXT,
    segment_idx INTEGER,
    code       TEXT,
    detail     TEXT
);
-- a human coding whose text is gone from its document: the text it was made on (no longer in
-- the document, so no second copy that could disagree with it) and the best candidate span
CREATE TABLE IF NOT EXISTS stale_codings (
    coding_id       INTEGER PRIMARY KEY,
    old_start       INTEGER NOT NULL,
    old_end         INTEGER NOT NULL,
    old_text        TEXT NOT NULL,
    candidate_start INTEGER,
    candidate_end   INTEGER,
    similarity      REAL,
    text_sha256     TEXT,
    at              TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rejections (
    id           INTEGER PRIMARY KEY,
    document_id  TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    segment_idx  INTEGER,
    start_offset INTEGER NOT NULL,
    end_offset   INTEGER NOT NULL,
    code         TEXT NOT NULL,
    coder        TEXT NOT NULL,
    stale        INTEGER NOT NULL DEFAULT 0,
    created      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS rejections_by_document ON rejections(document_id, segment_idx);
CREATE TABLE IF NOT EXISTS models (
    name            TEXT PRIMARY KEY,
    created         TEXT NOT NULL,
    codebook_sha256 TEXT NOT NULL,
    data_sha256     TEXT NOT NULL,
    info            TEXT NOT NULL DEFAULT '{}',
    blob            BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS memos (
    id           INTEGER PRIMARY KEY,
    at           TEXT NOT NULL,
    coder        TEXT,
    kind         TEXT NOT NULL CHECK (kind IN ('document', 'code', 'coding')),
    document_id  TEXT,
    code         TEXT,
    start_offset INTEGER,
    end_offset   INTEGER,
    text         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS memos_by_document ON memos(document_id);
"""


def now_iso() -> str:
    """UTC time stamp used for ``created``/``tagged_at`` columns."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class DocumentState:
    """What the store knows about a document, enough to decide whether to re-tag it."""

    sha256: str
    tag_key: str | None
    metadata: str


@dataclass(frozen=True)
class SaveResult:
    """What saving one document did: how many automatic codings were written, and which
    human codings moved with their text or became stale because their text is gone."""

    codings_written: int
    human_moved: int
    human_stale: list[tuple[str, int, int, str]]  # (document, start, end, code)


def _is_locked(err: sqlite3.OperationalError) -> bool:
    text = str(err).lower()
    return "locked" in text or "busy" in text


class Store:
    """An open project database.

    >>> store = Store(":memory:")
    >>> store.documents_frame().empty
    True
    """

    def __init__(self, path: str | Path, *, timeout: float | None = None, create: bool = True):
        self.path = str(path)
        if timeout is None:
            # how long a writer waits for another process's lock before "project is busy"
            timeout = float(os.environ.get("QCODE_BUSY_TIMEOUT", "30"))
        if self.path != ":memory:" and not create and not Path(self.path).exists():
            raise StoreError(
                "no project database here; run `qcode tag PATH` first or pass --db FILE",
                path=self.path,
            )
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.timeout = timeout
        try:
            self.conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
            self.conn.execute("PRAGMA foreign_keys = ON")
            self._refuse_foreign_database()
            if self.path != ":memory:":
                self.conn.execute("PRAGMA journal_mode = WAL")
                self.conn.execute("PRAGMA synchronous = NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as err:
            if isinstance(err, sqlite3.OperationalError) and _is_locked(err):
                raise ProjectBusy(
                    f"project is busy: another qcode process is writing it (waited {timeout:.0f} s)",
                    path=self.path,
                ) from None
            raise StoreError(f"not a qcode database ({err})", path=self.path) from None

    # -- life cycle ---------------------------------------------------------------------------
    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _refuse_foreign_database(self) -> None:
        """Stop before touching an SQLite file that another program made (``--db`` pointing at
        the wrong file): no qcode tables would be added to it, no journal mode changed."""
        tables = sorted(
            r[0]
            for r in self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        )
        if tables and not {"documents", "segments", "codings"} <= set(tables):
            self.conn.close()
            shown = ", ".join(tables[:5]) + (" …" if len(tables) > 5 else "")
            raise StoreError(
                f"not a qcode database (an SQLite file with other tables: {shown}); "
                "pass the project's database with --db",
                path=self.path,
            )

    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"database schema {version} is newer than this qcode ({SCHEMA_VERSION}); upgrade qcode",
                path=self.path,
            )
        if version < SCHEMA_VERSION:
            with self.transaction():
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self.conn.execute(statement)
                self._allow_companion_source()
                if version < 6:
                    self._rejections_from_log()
                self._add_document_kind()
                self._add_code_columns()
                self._add_columns()
                self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _add_code_columns(self) -> None:
        """Schema 8: ``codes.codable`` (1 unless a REFI ``isCodable="false"`` category) and
        ``codes.origin`` (NULL for the codebook's codes, ``import`` for codes a .qdpx brought)."""
        have = {r[1] for r in self.conn.execute("PRAGMA table_info(codes)")}
        if "codable" not in have:
            self.conn.execute("ALTER TABLE codes ADD COLUMN codable INTEGER NOT NULL DEFAULT 1")
        if "origin" not in have:
            self.conn.execute("ALTER TABLE codes ADD COLUMN origin TEXT")

    def _rejections_from_log(self) -> None:
        """Schema 6: the workbench's rejections, kept until then only as ``reject``/``unreject``
        lines of the coding log, become rows of the rejections table."""
        latest: dict[tuple[str, str, int, str], str] = {}
        for coder, doc, idx, code, action in self.conn.execute(
            "SELECT coder, document_id, segment_idx, code, action FROM coding_log "
            "WHERE action IN ('reject', 'unreject') AND coder IS NOT NULL ORDER BY id"
        ):
            latest[(coder, doc, idx, code)] = action
        for (coder, doc, idx, code), action in latest.items():
            if action == "reject":
                self._set_rejection(coder, doc, idx, code, True)

    def _add_document_kind(self) -> None:
        """Schema 7: a ``kind`` per document. Before it, survey rows were told apart only by
        their file, so documents read from a table (.csv/.tsv/.xlsx) become ``survey``."""
        columns = [r[1] for r in self.conn.execute("PRAGMA table_info(documents)")]
        if "kind" in columns:
            return
        self.conn.execute("ALTER TABLE documents ADD COLUMN kind TEXT NOT NULL DEFAULT 'interview'")
        self.conn.execute(
            "UPDATE documents SET kind = 'survey' WHERE lower(path) LIKE '%.csv' "
            "OR lower(path) LIKE '%.tsv' OR lower(path) LIKE '%.xlsx'"
        )

    def _allow_companion_source(self) -> None:
        """Schema 3: rebuild a codings table whose CHECK does not know ``companion``, keeping
        every row and every column (SQLite cannot change a CHECK in place).

        Before schema 3 the companion model (shipped beside the codebook) and the project's
        trained model (``tag --model``) both wrote ``source='model'``. A tag run used one or
        the other, never both, and wrote that choice into the document's tag key
        (``...:companion=SHA`` or ``...:model=SHA``); so a document's ``model`` rows become
        ``companion`` when its tag key names the companion, and stay ``model`` otherwise. A
        ``model`` row of a document tagged with the saved ``default`` model (same data hash)
        gets ``default@TRAINED`` as its coder, as new model codings have."""
        row = self.conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'codings'"
        ).fetchone()
        if row is None or "'companion'" in row[0]:
            return
        create = next(s for s in _SCHEMA.split(";") if "TABLE IF NOT EXISTS codings" in s)
        self.conn.execute(create.replace("TABLE IF NOT EXISTS codings", "TABLE codings_rebuilt"))
        new_columns = [r[1] for r in self.conn.execute("PRAGMA table_info(codings_rebuilt)")]
        for _cid, name, kind, _notnull, default, _pk in self.conn.execute(
            "PRAGMA table_info(codings)"
        ).fetchall():
            if name not in new_columns:  # a column this qcode does not know: keep it
                extra = f" DEFAULT {default}" if default is not None else ""
                self.conn.execute(f'ALTER TABLE codings_rebuilt ADD COLUMN "{name}" {kind}{extra}')
                new_columns.append(name)
        old_columns = {r[1] for r in self.conn.execute("PRAGMA table_info(codings)")}
        columns = ", ".join(f'"{c}"' for c in new_columns if c in old_columns)
        self.conn.execute(f"INSERT INTO codings_rebuilt ({columns}) SELECT {columns} FROM codings")
        self.conn.execute(
            "UPDATE codings_rebuilt SET source = 'companion' WHERE source = 'model' AND "
            "document_id IN (SELECT id FROM documents WHERE tag_key LIKE '%:companion=%')"
        )
        has_models = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'models'"
        ).fetchone()
        if has_models:
            self.conn.execute(
                "UPDATE codings_rebuilt SET coder = (SELECT 'default@' || created FROM models "
                "WHERE name = 'default') WHERE source = 'model' AND coder IS NULL AND "
                "document_id IN (SELECT d.id FROM documents d, models m WHERE m.name = 'default' "
                "AND d.tag_key LIKE '%:model=' || m.data_sha256 || '%')"
            )
        self.conn.execute("DROP TABLE codings")
        self.conn.execute("ALTER TABLE codings_rebuilt RENAME TO codings")
        for statement in _SCHEMA.split(";"):
            if "INDEX IF NOT EXISTS" in statement and " ON codings(" in statement:
                self.conn.execute(statement)

    #: columns added after a table was first created: (table, column, declaration).
    _ADDED_COLUMNS = (("redactions", "spelling", "TEXT"),)

    def _add_columns(self) -> None:
        """Add the columns a database made by an older qcode lacks (additive, idempotent)."""
        for table, column, declaration in self._ADDED_COLUMNS:
            have = {row[1] for row in self.conn.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                self.conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; waits for the lock up to ``timeout`` then raises ProjectBusy.

        Inside a transaction already held, it joins that one: a caller can check what it read
        and write its result under one lock (``import review`` does), and a failure anywhere
        rolls back the whole."""
        if self.conn.in_transaction:
            yield self.conn
            return
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as err:
                if not _is_locked(err):
                    raise
                if time.monotonic() >= deadline:
                    raise ProjectBusy(
                        "project is busy: another qcode process is writing it "
                        f"(waited {self.timeout:.0f} s); try again when it has finished",
                        path=self.path,
                    ) from None
                time.sleep(0.05)
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    # -- meta ---------------------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # -- codes --------------------------------------------------------------------------------
    def save_codes(self, codes: Iterable[Any], codebook_sha256: str) -> None:
        """Replace the codebook's codes in the table with ``codes`` (``Code`` objects, in
        order). Codes an import brought in (``origin`` set) and the codebook does not name are
        kept after them: their codings must keep a code to point at."""
        rows = [_code_row(c, i, None) for i, c in enumerate(codes)]
        paths = {row[0] for row in rows}
        with self.transaction():
            kept = [
                r
                for r in self.conn.execute(
                    f"SELECT {_CODE_FIELDS} FROM codes WHERE origin IS NOT NULL ORDER BY ord"
                )
                if r[0] not in paths
            ]
            kept = [(*r[:5], len(rows) + i, *r[6:]) for i, r in enumerate(kept)]
            self.conn.execute("DELETE FROM codes")
            self.conn.executemany(
                f"INSERT INTO codes ({_CODE_FIELDS}) VALUES ({', '.join('?' * 10)})", rows + kept
            )
            self.conn.execute(
                "INSERT INTO meta(key, value) VALUES ('codebook_sha256', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (codebook_sha256,),
            )

    def add_codes(self, codes: Iterable[Any], origin: str = "import") -> None:
        """Add codes not yet in the table (imports merge codes by path), keeping order; they
        are marked with ``origin`` so a later ``tag`` keeps them beside the codebook's."""
        with self.transaction():
            next_ord = self.conn.execute("SELECT COALESCE(MAX(ord), -1) + 1 FROM codes").fetchone()[
                0
            ]
            for c in codes:
                exists = self.conn.execute(
                    "SELECT 1 FROM codes WHERE path = ?", (c.path,)
                ).fetchone()
                if exists:
                    continue
                self.conn.execute(
                    f"INSERT INTO codes ({_CODE_FIELDS}) VALUES ({', '.join('?' * 10)})",
                    _code_row(c, next_ord, origin),
                )
                next_ord += 1

    def codes_frame(self) -> pd.DataFrame:
        """Codes in codebook order: path, id, label, parent, level, ord, color, description,
        codable (bool), origin (None for the codebook's, ``import`` for imported ones)."""
        frame = pd.read_sql_query(
            "SELECT path, id, label, parent, level, ord, color, description, codable, origin "
            "FROM codes ORDER BY ord",
            self.conn,
        )
        frame["codable"] = frame["codable"].astype(bool)
        return frame

    # -- documents ----------------------------------------------------------------------------
    def document_state(self, document_id: str) -> DocumentState | None:
        row = self.conn.execute(
            "SELECT sha256, tag_key, metadata FROM documents WHERE id = ?", (document_id,)
        ).fetchone()
        return DocumentState(*row) if row else None

    def document_states(self) -> dict[str, tuple[str, str | None]]:
        """Every stored document's (text sha256, tag key): what a tag run compares against."""
        return {
            row[0]: (row[1], row[2])
            for row in self.conn.execute("SELECT id, sha256, tag_key FROM documents")
        }

    def file_states(self) -> dict[str, tuple[str, list[tuple[str, str, tuple[str, ...]]]]]:
        """Every tagged input file: path -> (fingerprint, [(document id, text sha256,
        reading warnings), ...]).

        A tag run compares a file's fingerprint (its bytes and the settings that decide its
        codings) with this before reading it, so an unchanged file costs a hash, not a parse;
        the warnings are kept so a re-run still reports them."""
        return {
            path: (fingerprint, [(d[0], d[1], tuple(d[2])) for d in json.loads(documents)])
            for path, fingerprint, documents in self.conn.execute(
                "SELECT path, fingerprint, documents FROM files"
            )
        }

    def save_file_state(
        self, path: str, fingerprint: str, documents: Sequence[tuple[str, str, Sequence[str]]]
    ) -> None:
        """Remember that every document of ``path`` was stored from this version of it."""
        with self.transaction():
            self.conn.execute(
                "INSERT INTO files(path, fingerprint, documents) VALUES (?, ?, ?) "
                "ON CONFLICT(path) DO UPDATE SET fingerprint = excluded.fingerprint, "
                "documents = excluded.documents",
                (
                    path,
                    fingerprint,
                    json.dumps([[i, sha, list(w)] for i, sha, w in documents], ensure_ascii=False),
                ),
            )

    def code_summary(self) -> dict[str, tuple[int, int]]:
        """Top-level code -> (segments, documents) with a current coding of it or a subcode,
        any source, stale codings left out. Counted by SQLite, not in Python, so it stays
        quick on millions of codings."""
        rows = self.conn.execute(
            "SELECT top, COUNT(*), COUNT(DISTINCT document_id) FROM ("
            "  SELECT DISTINCT CASE WHEN instr(code, '/') > 0"
            "    THEN substr(code, 1, instr(code, '/') - 1) ELSE code END AS top,"
            "    document_id, segment_idx FROM codings WHERE stale = 0) GROUP BY top"
        )
        return {top: (segments, documents) for top, segments, documents in rows}

    def document_ids(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT id FROM documents ORDER BY id")]

    def document_paths(self) -> dict[str, str | None]:
        """Every stored document's id -> the path it was read from (None if unknown)."""
        return {row[0]: row[1] for row in self.conn.execute("SELECT id, path FROM documents")}

    def document_text(self, document_id: str) -> str:
        row = self.conn.execute(
            "SELECT text FROM documents WHERE id = ?", (document_id,)
        ).fetchone()
        if row is None:
            raise StoreError(f"no document with id {document_id!r} in the project", path=self.path)
        return str(row[0])

    def document_metadata(self, document_id: str) -> dict[str, Any]:
        row = self.conn.execute(
            "SELECT metadata FROM documents WHERE id = ?", (document_id,)
        ).fetchone()
        if row is None:
            raise StoreError(f"no document with id {document_id!r} in the project", path=self.path)
        metadata: dict[str, Any] = json.loads(row[0])
        return metadata

    def update_metadata(self, document_id: str, metadata: dict[str, Any]) -> None:
        with self.transaction():
            self.conn.execute(
                "UPDATE documents SET metadata = ? WHERE id = ?",
                (encode_metadata(metadata), document_id),
            )

    def save_document(
        self,
        document: Document,
        sha256: str,
        segments: Sequence[Segment],
        codings: Sequence[Coding],
        *,
        tag_key: str | None,
        replace_sources: Sequence[str] = AUTOMATIC_SOURCES,
    ) -> SaveResult:
        """Store one document with its segments and automatic codings, in one transaction.

        Automatic codings of ``replace_sources`` for the document are replaced; human codings
        are kept: moved with their text if it changed place, marked stale if it is gone.
        """
        with self.transaction():
            old = self.conn.execute(
                "SELECT text FROM documents WHERE id = ?", (document.id,)
            ).fetchone()
            moved = 0
            stale: list[tuple[str, int, int, str]] = []
            if old is not None and old[0] != document.text:
                moved, stale = self._relocate_human_codings(
                    document.id, old[0], document.text, segments
                )
                self._relocate_rejections(document.id, old[0], document.text, segments)
            self.conn.execute(
                "INSERT INTO documents(id, path, sha256, text, metadata, tag_key, ingested_at, "
                "tagged_at, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET path = excluded.path, sha256 = excluded.sha256, "
                "text = excluded.text, metadata = excluded.metadata, tag_key = excluded.tag_key, "
                "ingested_at = excluded.ingested_at, tagged_at = excluded.tagged_at, "
                "kind = excluded.kind",
                (
                    document.id,
                    document.path,
                    sha256,
                    document.text,
                    encode_metadata(dict(document.metadata)),
                    tag_key,
                    now_iso(),
                    now_iso(),
                    getattr(document, "kind", "interview"),
                ),
            )
            self.conn.execute("DELETE FROM segments WHERE document_id = ?", (document.id,))
            self.conn.executemany(
                "INSERT INTO segments VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        s.document_id,
                        s.index,
                        s.start,
                        s.end,
                        s.speaker,
                        int(s.is_interviewer),
                        encode_metadata(dict(s.metadata)),
                    )
                    for s in segments
                ],
            )
            placeholders = ",".join("?" for _ in replace_sources)
            self.conn.execute(
                f"DELETE FROM codings WHERE document_id = ? AND source IN ({placeholders})",
                (document.id, *replace_sources),
            )
            self._insert_codings(codings)
            self._resegment_human_codings(document.id)
            self._resegment_rejections(document.id)
        return SaveResult(len(codings), moved, stale)

    def _insert_codings(self, codings: Sequence[Coding]) -> None:
        created = now_iso()
        self.conn.executemany(
            "INSERT INTO codings(document_id, segment_idx, start_offset, end_offset, code, source, "
            "coder, score, evidence, stale, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
            [
                (
                    c.document_id,
                    c.segment_index,
                    c.start,
                    c.end,
                    c.code_path,
                    c.source,
                    c.coder,
                    c.score,
                    encode_evidence(c),
                    created,
                )
                for c in codings
            ],
        )

    def _relocate_human_codings(
        self, document_id: str, old_text: str, new_text: str, segments: Sequence[Segment] = ()
    ) -> tuple[int, list[tuple[str, int, int, str]]]:
        """Re-anchor every current human coding of the document to the new text (see
        :mod:`qcode.anchor`): moved by the edit's offsets, to its exact text nearby, or to a
        passage at least 90 % alike in the same segment neighbourhood, each move logged;
        what cannot be re-anchored is marked stale with its old text and best candidate
        (``qcode stale``). Call inside the transaction that stores the new text, before the
        old segments are replaced."""
        from .anchor import TextEdit, reanchor

        rows = self.conn.execute(
            "SELECT id, segment_idx, start_offset, end_offset, code, coder FROM codings "
            "WHERE document_id = ? AND source = 'human' AND stale = 0 ORDER BY id",
            (document_id,),
        ).fetchall()
        if not rows:
            return 0, []
        old_segments = {
            idx: (s, e)
            for idx, s, e in self.conn.execute(
                "SELECT idx, start_offset, end_offset FROM segments WHERE document_id = ?",
                (document_id,),
            )
        }
        new_spans = [(s.start, s.end) for s in segments]
        edit = TextEdit(old_text, new_text)
        new_sha = _sha256(new_text)
        moved, stale = 0, []
        for coding_id, idx, start, end, code, coder in rows:
            near, whole = None, False
            if idx is not None and idx in old_segments:
                whole = old_segments[idx] == (start, end)
                low = old_segments.get(idx - 1, old_segments[idx])[0]
                high = old_segments.get(idx + 1, old_segments[idx])[1]
                near = (edit.carry_start(low), edit.carry_end(high))
            anchor = reanchor(edit, start, end, near, new_spans, whole)
            if anchor.how == "kept":
                continue
            if anchor.moved:
                self.conn.execute(
                    "UPDATE codings SET start_offset = ?, end_offset = ? WHERE id = ?",
                    (anchor.start, anchor.end, coding_id),
                )
                self.log(
                    "move",
                    coder=coder,
                    document_id=document_id,
                    segment_idx=idx,
                    code=code,
                    detail=f"coding {coding_id} {start}-{end} -> {anchor.start}-{anchor.end}: "
                    f"{_MOVE_TEXT[anchor.how]}"
                    + (f" {anchor.similarity:.3f}" if anchor.how == "fuzzy" else ""),
                )
                moved += 1
                continue
            self.conn.execute("UPDATE codings SET stale = 1 WHERE id = ?", (coding_id,))
            self.conn.execute(
                "INSERT INTO stale_codings(coding_id, old_start, old_end, old_text, "
                "candidate_start, candidate_end, similarity, text_sha256, at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(coding_id) DO UPDATE SET "
                "old_start = excluded.old_start, old_end = excluded.old_end, "
                "old_text = excluded.old_text, candidate_start = excluded.candidate_start, "
                "candidate_end = excluded.candidate_end, similarity = excluded.similarity, "
                "text_sha256 = excluded.text_sha256, at = excluded.at",
                (
                    coding_id,
                    start,
                    end,
                    old_text[start:end],
                    anchor.start,
                    anchor.end,
                    anchor.similarity,
                    new_sha,
                    now_iso(),
                ),
            )
            self.log(
                "stale",
                coder=coder,
                document_id=document_id,
                segment_idx=idx,
                code=code,
                detail=f"coding {coding_id} {start}-{end}: text changed, best candidate "
                + (
                    f"{anchor.start}-{anchor.end} ({anchor.similarity:.2f})"
                    if anchor.start is not None
                    else "none"
                ),
            )
            stale.append((document_id, start, end, code))
        return moved, stale

    def _resegment_human_codings(self, document_id: str) -> None:
        """Point each human coding at the segment that now contains its start."""
        self.conn.execute(
            "UPDATE codings SET segment_idx = ("
            "  SELECT s.idx FROM segments s WHERE s.document_id = codings.document_id"
            "  AND s.start_offset <= codings.start_offset AND codings.start_offset < s.end_offset"
            "  ORDER BY s.idx LIMIT 1) "
            "WHERE document_id = ? AND source = 'human'",
            (document_id,),
        )

    def _relocate_rejections(
        self, document_id: str, old_text: str, new_text: str, segments: Sequence[Segment] = ()
    ) -> None:
        """Re-anchor each human rejection to the new text the way human codings are (see
        :mod:`qcode.anchor`); one whose words are gone is marked stale, never deleted (and no
        longer overrides the automatic coding). Call before the old segments are replaced."""
        from .anchor import TextEdit, reanchor

        rows = self.conn.execute(
            "SELECT id, segment_idx, start_offset, end_offset FROM rejections "
            "WHERE document_id = ? AND stale = 0",
            (document_id,),
        ).fetchall()
        if not rows:
            return
        old_segments = {
            idx: (s, e)
            for idx, s, e in self.conn.execute(
                "SELECT idx, start_offset, end_offset FROM segments WHERE document_id = ?",
                (document_id,),
            )
        }
        new_spans = [(s.start, s.end) for s in segments]
        edit = TextEdit(old_text, new_text)
        for rejection_id, idx, start, end in rows:
            near, whole = None, False
            if idx is not None and idx in old_segments:
                whole = old_segments[idx] == (start, end)
                low = old_segments.get(idx - 1, old_segments[idx])[0]
                high = old_segments.get(idx + 1, old_segments[idx])[1]
                near = (edit.carry_start(low), edit.carry_end(high))
            anchor = reanchor(edit, start, end, near, new_spans, whole)
            if anchor.how == "kept":
                continue
            if anchor.moved:
                self.conn.execute(
                    "UPDATE rejections SET start_offset = ?, end_offset = ? WHERE id = ?",
                    (anchor.start, anchor.end, rejection_id),
                )
            else:
                self.conn.execute("UPDATE rejections SET stale = 1 WHERE id = ?", (rejection_id,))

    def _resegment_rejections(self, document_id: str) -> None:
        """Point each rejection at the segment that now contains its start."""
        self.conn.execute(
            "UPDATE rejections SET segment_idx = ("
            "  SELECT s.idx FROM segments s WHERE s.document_id = rejections.document_id"
            "  AND s.start_offset <= rejections.start_offset AND rejections.start_offset < s.end_offset"
            "  ORDER BY s.idx LIMIT 1) "
            "WHERE document_id = ?",
            (document_id,),
        )

    def add_codings(self, codings: Sequence[Coding]) -> int:
        """Insert codings (e.g. human ones from an import) in one transaction."""
        with self.transaction():
            self._insert_codings(codings)
        return len(codings)

    def log(
        self,
        action: str,
        *,
        coder: str | None = None,
        document_id: str | None = None,
        segment_idx: int | None = None,
        code: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Append to the coding log (call inside a transaction you already hold)."""
        self.conn.execute(
            "INSERT INTO coding_log(at, coder, action, document_id, segment_idx, code, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (now_iso(), coder, action, document_id, segment_idx, code, detail),
        )

    def stale_human_codings(self) -> pd.DataFrame:
        return pd.read_sql_query(
            "SELECT document_id AS document, start_offset AS start, end_offset AS end, code, coder "
            "FROM codings WHERE source = 'human' AND stale = 1 ORDER BY document_id, start_offset",
            self.conn,
        )

    def stale_codings_frame(self) -> pd.DataFrame:
        """One row per stale human coding: id, document, segment (its old one), code, coder,
        old_start, old_end, old_text, candidate_start, candidate_end, candidate_text,
        similarity. The candidate is the passage of the current text most like the old one
        (recomputed when the document changed again since the coding went stale); old_text is
        empty for codings that went stale before qcode kept it."""
        from .anchor import best_candidate

        rows = self.conn.execute(
            "SELECT c.id, c.document_id, c.segment_idx, c.code, c.coder, "
            "COALESCE(s.old_start, c.start_offset), COALESCE(s.old_end, c.end_offset), "
            "s.old_text, s.candidate_start, s.candidate_end, s.similarity, s.text_sha256, "
            "d.sha256, d.text "
            "FROM codings c JOIN documents d ON d.id = c.document_id "
            "LEFT JOIN stale_codings s ON s.coding_id = c.id "
            "WHERE c.source = 'human' AND c.stale = 1 ORDER BY c.document_id, c.id"
        ).fetchall()
        records = []
        for (
            coding_id,
            doc,
            idx,
            code,
            coder,
            old_start,
            old_end,
            old_text,
            cand_start,
            cand_end,
            score,
            text_sha,
            _doc_sha,
            text,
        ) in rows:
            if old_text is not None and text_sha != _sha256(text):
                found = best_candidate(text, old_text)
                cand_start, cand_end, score = found if found else (None, None, None)
            candidate = text[cand_start:cand_end] if cand_start is not None else None
            records.append(
                {
                    "id": coding_id,
                    "document": doc,
                    "segment": idx,
                    "code": code,
                    "coder": coder,
                    "old_start": old_start,
                    "old_end": old_end,
                    "old_text": old_text or "",
                    "candidate_start": cand_start,
                    "candidate_end": cand_end,
                    "candidate_text": candidate,
                    "similarity": score,
                }
            )
        columns = [
            "id",
            "document",
            "segment",
            "code",
            "coder",
            "old_start",
            "old_end",
            "old_text",
            "candidate_start",
            "candidate_end",
            "candidate_text",
            "similarity",
        ]
        frame = pd.DataFrame.from_records(records, columns=columns)
        for column in ("segment", "candidate_start", "candidate_end"):
            frame[column] = frame[column].astype("Int64")
        return frame

    def resolve_stale(
        self, coding_id: int, *, accept: bool, coder: str | None = None
    ) -> tuple[str, int, int, str] | None:
        """Accept a stale coding at its best candidate (it becomes a current coding of the
        segment holding that span) or drop it (deleted), in one transaction, logged.
        Returns (document, start, end, code) — the new span when accepted — or raises
        StoreError when ``coding_id`` is not a stale human coding or has no candidate."""
        stale = self.stale_codings_frame()
        match = stale[stale["id"] == coding_id]
        if match.empty:
            raise StoreError(
                f"no stale human coding with id {coding_id}; `qcode stale` lists them",
                path=self.path,
            )
        row = match.iloc[0]
        who = coder or row["coder"]
        with self.transaction():
            if accept:
                if pd.isna(row["candidate_start"]):
                    raise StoreError(
                        f"stale coding {coding_id} has no candidate passage; "
                        f"drop it (--drop {coding_id}) and code the passage again",
                        path=self.path,
                    )
                start, end = int(row["candidate_start"]), int(row["candidate_end"])
                self.conn.execute(
                    "UPDATE codings SET start_offset = ?, end_offset = ?, stale = 0 WHERE id = ?",
                    (start, end, coding_id),
                )
                self.conn.execute("DELETE FROM stale_codings WHERE coding_id = ?", (coding_id,))
                self._resegment_human_codings(row["document"])
                self.log(
                    "accept stale",
                    coder=who,
                    document_id=row["document"],
                    code=row["code"],
                    detail=f"coding {coding_id} re-attached at {start}-{end}",
                )
                return row["document"], start, end, row["code"]
            self.conn.execute("DELETE FROM codings WHERE id = ?", (coding_id,))
            self.conn.execute("DELETE FROM stale_codings WHERE coding_id = ?", (coding_id,))
            self.log(
                "drop stale",
                coder=who,
                document_id=row["document"],
                code=row["code"],
                detail=f"coding {coding_id} dropped",
            )
            return None

    # -- redaction mapping (never exported) ----------------------------------------------------
    def redaction_mapping(self) -> dict[tuple[str, str], str]:
        """(kind, normalised value) -> placeholder, as assigned so far in this project."""
        return {
            (k, v): p
            for k, v, p in self.conn.execute("SELECT kind, value, placeholder FROM redactions")
        }

    def redaction_spellings(self) -> dict[str, str]:
        """placeholder -> the name as first written (for ``redact --reveal``)."""
        return {
            p: s
            for p, s in self.conn.execute(
                "SELECT placeholder, spelling FROM redactions WHERE spelling IS NOT NULL"
            )
        }

    def save_redactions(self, entries: Iterable[tuple[str, ...]]) -> None:
        """Remember new placeholders so every later output uses the same ones: entries are
        (kind, normalised value, placeholder[, spelling as first written])."""
        rows = [(*e[:3], e[3] if len(e) > 3 else None) for e in entries]
        if not rows:
            return
        with self.transaction():
            self.conn.executemany(
                "INSERT OR IGNORE INTO redactions(kind, value, placeholder, spelling) "
                "VALUES (?, ?, ?, ?)",
                rows,
            )

    def speaker_labels(self) -> list[str]:
        """Every distinct speaker label in the project (the redactor hides those that are
        personal names)."""
        return [
            row[0]
            for row in self.conn.execute(
                "SELECT DISTINCT speaker FROM segments WHERE speaker IS NOT NULL"
            )
        ]

    # -- readers ------------------------------------------------------------------------------
    def documents_frame(self) -> pd.DataFrame:
        """One row per document: document, kind (interview/survey), path, n_segments, then
        every metadata key as a column (title, organisation, group, main_group, date,
        interviewer, …)."""
        rows = self.conn.execute(
            "SELECT d.id, d.kind, d.path, d.metadata, "
            "(SELECT COUNT(*) FROM segments s WHERE s.document_id = d.id) "
            "FROM documents d ORDER BY d.id"
        ).fetchall()
        records = []
        for doc_id, kind, path, metadata, n_segments in rows:
            record = {"document": doc_id, "kind": kind, "path": path, "n_segments": n_segments}
            for key, value in json.loads(metadata).items():
                if key not in record:
                    record[key] = value
            records.append(record)
        frame = pd.DataFrame.from_records(
            records, columns=None if records else ["document", "kind", "path", "n_segments"]
        )
        for key in ("title", "organisation", "group", "main_group", "date", "interviewer"):
            if key not in frame.columns:
                frame[key] = None
        return frame

    def segments_frame(
        self, *, with_text: bool = True, document: str | None = None
    ) -> pd.DataFrame:
        """One row per segment: document, segment, start, end, speaker, is_interviewer[, text]."""
        text_col = (
            ", substr(d.text, s.start_offset + 1, s.end_offset - s.start_offset) AS text"
            if with_text
            else ""
        )
        where = "WHERE s.document_id = ?" if document else ""
        params = (document,) if document else ()
        frame = pd.read_sql_query(
            "SELECT s.document_id AS document, s.idx AS segment, s.start_offset AS start, "
            f"s.end_offset AS end, s.speaker, s.is_interviewer, s.metadata{text_col} "
            "FROM segments s JOIN documents d ON d.id = s.document_id "
            f"{where} ORDER BY s.document_id, s.idx",
            self.conn,
            params=params,
        )
        frame["is_interviewer"] = frame["is_interviewer"].astype(bool)
        return frame

    def codings_frame(
        self,
        *,
        source: str | Sequence[str] | None = None,
        coder: str | Sequence[str] | None = None,
        with_text: bool = True,
        include_stale: bool = False,
        extra: Sequence[str] = (),
    ) -> pd.DataFrame:
        """Codings joined with their segment and document: the columns of the CSV export
        (:data:`CODING_COLUMNS`, ``coder`` among them) plus ``created``, ``stale`` and any
        metadata keys named in ``extra``. ``source`` is one of rule/companion/model/human, a
        list, or None/"all".
        ``text`` is the coded span, cut from the stored text by SQLite (code points)."""
        where, params = ["1 = 1"], []
        sources = _as_list(source)
        if sources and "all" not in sources:
            where.append(f"c.source IN ({','.join('?' for _ in sources)})")
            params += sources
        coders = _as_list(coder)
        if coders:
            where.append(f"c.coder IN ({','.join('?' for _ in coders)})")
            params += coders
        if not include_stale:
            where.append("c.stale = 0")
        meta_cols = "".join(
            f', json_extract(d.metadata, \'$."{_json_key(key)}"\') AS "{_json_key(key)}"'
            for key in dict.fromkeys(("title", "group", "main_group", *extra))
            if key != "kind"
        )
        text_col = (
            ", substr(d.text, c.start_offset + 1, c.end_offset - c.start_offset) AS text"
            if with_text
            else ""
        )
        query = (
            "SELECT c.document_id AS document, c.segment_idx AS segment, c.start_offset AS start, "
            "c.end_offset AS end, s.speaker AS speaker"
            f"{meta_cols}, d.kind AS kind, c.code, c.source, c.coder, c.score, "
            f"c.evidence{text_col}, c.created, c.stale "
            "FROM codings c JOIN documents d ON d.id = c.document_id "
            "LEFT JOIN segments s ON s.document_id = c.document_id AND s.idx = c.segment_idx "
            f"WHERE {' AND '.join(where)} "
            "ORDER BY c.document_id, c.start_offset, c.end_offset, "
            "(SELECT ord FROM codes WHERE path = c.code), c.code, c.source, c.coder"
        )
        frame = pd.read_sql_query(query, self.conn, params=params)
        frame["segment"] = frame["segment"].astype("Int64")
        frame["stale"] = frame["stale"].astype(bool)
        return frame

    def counts(self) -> dict[str, int]:
        """Totals for summaries: documents, segments, codings by source."""
        out = {
            "documents": self.conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0],
            "segments": self.conn.execute("SELECT COUNT(*) FROM segments").fetchone()[0],
        }
        for src, n in self.conn.execute("SELECT source, COUNT(*) FROM codings GROUP BY source"):
            out[f"codings_{src}"] = n
        return out

    # -- human coding in the loop (qcode.review, qcode.agreement, qcode.model) ----------------
    def segment_spans(self) -> dict[tuple[str, int], tuple[int, int]]:
        """(document, segment index) -> (start, end) of every stored segment."""
        return {
            (d, i): (s, e)
            for d, i, s, e in self.conn.execute(
                "SELECT document_id, idx, start_offset, end_offset FROM segments"
            )
        }

    def replace_human_decisions(
        self,
        coder: str,
        decisions: dict[tuple[str, int], dict[str, bool]],
        notes: dict[tuple[str, int], str] | None = None,
    ) -> tuple[int, int]:
        """Make ``coder``'s codings on each listed segment match the decisions, in ONE
        transaction: ``{(document, idx): {code: present}}``. Codes not named for a segment and
        other coders' codings are untouched; each addition/removal is logged, so re-applying
        the same decisions writes nothing. A code decided absent is kept as the coder's
        rejection of it there (see :meth:`rejections_frame`): it overrides the automatic coding
        in the final view. Notes are logged when they differ from the last note this coder
        left on the segment. Returns (added, removed).

        This is the one function that writes a human's decisions on segments; a caller that
        checked the decisions against the store should call it inside the same
        :meth:`transaction`, so nothing can re-segment a document in between."""
        added = removed = 0
        with self.transaction():
            spans = self.segment_spans()  # read under the write lock: no re-segmenting between
            for (doc, idx), wanted in decisions.items():
                start, end = spans[(doc, idx)]
                have = {
                    code
                    for (code,) in self.conn.execute(
                        "SELECT DISTINCT code FROM codings WHERE document_id = ? AND segment_idx = ? "
                        "AND source = 'human' AND coder = ? AND stale = 0",
                        (doc, idx, coder),
                    )
                }
                rejected = {
                    code
                    for (code,) in self.conn.execute(
                        "SELECT DISTINCT code FROM rejections WHERE document_id = ? AND segment_idx = ? "
                        "AND coder = ? AND stale = 0",
                        (doc, idx, coder),
                    )
                }
                for code, present in wanted.items():
                    if present and code not in have:
                        self._insert_codings(
                            [Coding(doc, idx, start, end, code, "human", 1.0, coder)]
                        )
                        self.log(
                            "add",
                            coder=coder,
                            document_id=doc,
                            segment_idx=idx,
                            code=code,
                            detail="review",
                        )
                        added += 1
                    elif not present and code in have:
                        self.conn.execute(
                            "DELETE FROM codings WHERE document_id = ? AND segment_idx = ? AND "
                            "source = 'human' AND coder = ? AND code = ? AND stale = 0",
                            (doc, idx, coder, code),
                        )
                        self.log(
                            "remove",
                            coder=coder,
                            document_id=doc,
                            segment_idx=idx,
                            code=code,
                            detail="review",
                        )
                        removed += 1
                    # the "no" is a decision too: it overrides the automatic coding (qcode.final)
                    if present and code in rejected:
                        self.conn.execute(
                            "DELETE FROM rejections WHERE document_id = ? AND segment_idx = ? AND "
                            "coder = ? AND code = ? AND stale = 0",
                            (doc, idx, coder, code),
                        )
                    elif not present and code not in rejected:
                        self.conn.execute(
                            "INSERT INTO rejections(document_id, segment_idx, start_offset, "
                            "end_offset, code, coder, stale, created) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                            (doc, idx, start, end, code, coder, now_iso()),
                        )
            for (doc, idx), note in (notes or {}).items():
                last = self.conn.execute(
                    "SELECT detail FROM coding_log WHERE coder = ? AND action = 'note' AND "
                    "document_id = ? AND segment_idx = ? ORDER BY id DESC LIMIT 1",
                    (coder, doc, idx),
                ).fetchone()
                if (last[0] if last else "") != note:
                    self.log("note", coder=coder, document_id=doc, segment_idx=idx, detail=note)
            for doc in sorted({doc for doc, _idx in decisions}):
                seen = self.conn.execute(
                    "SELECT 1 FROM coding_log WHERE coder = ? AND action = 'reviewed' AND "
                    "document_id = ?",
                    (coder, doc),
                ).fetchone()
                if not seen:
                    self.log("reviewed", coder=coder, document_id=doc)
        return added, removed

    def rejections_frame(
        self, coder: str | Sequence[str] | None = None, *, include_stale: bool = False
    ) -> pd.DataFrame:
        """Human rejections (a coder said a code does NOT apply to a segment, e.g. by leaving
        its cell empty on a review sheet): document, segment, start, end, code, coder,
        created, stale."""
        where, params = ["1 = 1"], []
        coders = _as_list(coder)
        if coders:
            where.append(f"coder IN ({','.join('?' for _ in coders)})")
            params += coders
        if not include_stale:
            where.append("stale = 0")
        frame = pd.read_sql_query(
            "SELECT document_id AS document, segment_idx AS segment, start_offset AS start, "
            "end_offset AS end, code, coder, created, stale FROM rejections "
            f"WHERE {' AND '.join(where)} ORDER BY document_id, segment_idx, code, coder",
            self.conn,
            params=params,
        )
        frame["segment"] = frame["segment"].astype("Int64")
        frame["stale"] = frame["stale"].astype(bool)
        return frame

    def add_human_codings(self, codings: Sequence[Coding]) -> int:
        """Insert human codings that are not already stored (same document, span, code and
        coder), logging each, in one transaction: re-importing a file adds nothing."""
        added = 0
        with self.transaction():
            for c in codings:
                exists = self.conn.execute(
                    "SELECT 1 FROM codings WHERE document_id = ? AND start_offset = ? AND "
                    "end_offset = ? AND code = ? AND source = 'human' AND coder IS ? AND stale = 0",
                    (c.document_id, c.start, c.end, c.code_path, c.coder),
                ).fetchone()
                if exists:
                    continue
                self._insert_codings([c])
                self.log(
                    "add",
                    coder=c.coder,
                    document_id=c.document_id,
                    segment_idx=c.segment_index,
                    code=c.code_path,
                    detail="import codings",
                )
                added += 1
        return added

    def coding_log_frame(self, coder: str | None = None) -> pd.DataFrame:
        """The coding log, oldest first: at, coder, action, document, segment, code, detail."""
        where, params = ("WHERE coder = ?", (coder,)) if coder else ("", ())
        return pd.read_sql_query(
            "SELECT at, coder, action, document_id AS document, segment_idx AS segment, code, "
            f"detail FROM coding_log {where} ORDER BY id",
            self.conn,
            params=params,
        )

    def coders_frame(self) -> pd.DataFrame:
        """One row per human coder: codings, segments and documents coded, stale codings,
        documents reviewed (coded or marked reviewed), first and last coding time."""
        # a coder who only said "no" (a blind sheet with nothing ticked) is a coder too
        frame = pd.read_sql_query(
            "SELECT n.coder, COUNT(c.id) AS codings, "
            "COUNT(DISTINCT c.document_id || '#' || c.segment_idx) AS segments, "
            "COUNT(DISTINCT c.document_id) AS documents, COALESCE(SUM(c.stale), 0) AS stale, "
            "(SELECT COUNT(DISTINCT l.document_id) FROM coding_log l WHERE l.coder = n.coder "
            " AND l.action = 'reviewed') AS reviewed, "
            "MIN(c.created) AS first, MAX(c.created) AS last "
            "FROM (SELECT coder FROM codings WHERE source = 'human' AND coder IS NOT NULL "
            "      UNION SELECT coder FROM rejections) n "
            "LEFT JOIN codings c ON c.coder = n.coder AND c.source = 'human' "
            "GROUP BY n.coder ORDER BY n.coder",
            self.conn,
        )
        frame["stale"] = frame["stale"].astype(int)
        return frame

    def reviewed_documents(self, coder: str) -> set[str]:
        """Documents a human coder has coded in or marked reviewed (their agreement units)."""
        rows = self.conn.execute(
            "SELECT document_id FROM codings WHERE source = 'human' AND coder = ? UNION "
            "SELECT document_id FROM rejections WHERE coder = ? UNION "
            "SELECT document_id FROM coding_log WHERE coder = ? AND action = 'reviewed' "
            "AND document_id IS NOT NULL",
            (coder, coder, coder),
        )
        return {r[0] for r in rows}

    def _ensure_models_table(self) -> None:
        # databases made before the models table existed get it on first use (same schema)
        statement = _SCHEMA[_SCHEMA.index("CREATE TABLE IF NOT EXISTS models") :]
        self.conn.execute(statement.split(";")[0])

    def save_model(
        self,
        blob: bytes,
        *,
        codebook_sha256: str,
        data_sha256: str,
        info: dict[str, Any],
        name: str = "default",
    ) -> None:
        """Store a trained model (``.npz`` bytes, see qcode.model.files) with the hashes that
        make it current."""
        with self.transaction():
            self._ensure_models_table()
            self.conn.execute(
                "INSERT INTO models(name, created, codebook_sha256, data_sha256, info, blob) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
                "created = excluded.created, codebook_sha256 = excluded.codebook_sha256, "
                "data_sha256 = excluded.data_sha256, info = excluded.info, blob = excluded.blob",
                (
                    name,
                    now_iso(),
                    codebook_sha256,
                    data_sha256,
                    json.dumps(info, ensure_ascii=False, sort_keys=True),
                    blob,
                ),
            )
            self.log("train", detail=f"model {name}: data {data_sha256[:12]}")

    def load_model(self, name: str = "default") -> dict[str, Any] | None:
        """The stored model row (created, codebook_sha256, data_sha256, info, blob) or None."""
        exists = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'models'"
        ).fetchone()
        if not exists:
            return None
        row = self.conn.execute(
            "SELECT created, codebook_sha256, data_sha256, info, blob FROM models WHERE name = ?",
            (name,),
        ).fetchone()
        if row is None:
            return None
        return {
            "created": row[0],
            "codebook_sha256": row[1],
            "data_sha256": row[2],
            "info": json.loads(row[3]),
            "blob": bytes(row[4]),
        }

    # -- the browser workbench (qcode.serve): single decisions, undo, memos --------------------
    def document_codings(self, document_id: str) -> list[dict[str, Any]]:
        """Every current coding of one document, by position: id, segment, start, end, code,
        source, coder, score, evidence (decoded). Read by SQL for one document only, so a
        long transcript opens quickly in a large project."""
        rows = self.conn.execute(
            "SELECT id, segment_idx, start_offset, end_offset, code, source, coder, score, "
            "evidence FROM codings WHERE document_id = ? AND stale = 0 "
            "ORDER BY start_offset, end_offset, code, source, coder",
            (document_id,),
        )
        return [
            {
                "id": i,
                "segment": seg,
                "start": s,
                "end": e,
                "code": code,
                "source": source,
                "coder": coder,
                "score": score,
                "evidence": json.loads(evidence or "[]"),
            }
            for i, seg, s, e, code, source, coder, score, evidence in rows
        ]

    def remove_human_coding(
        self,
        document_id: str,
        start: int,
        end: int,
        code: str,
        coder: str,
        *,
        detail: str = "serve",
    ) -> int:
        """Delete one coder's human coding of ``code`` on exactly ``[start, end)`` (logged);
        returns how many rows went (0 when it was not there)."""
        with self.transaction():
            rows = self.conn.execute(
                "SELECT segment_idx FROM codings WHERE document_id = ? AND start_offset = ? AND "
                "end_offset = ? AND code = ? AND source = 'human' AND coder = ? AND stale = 0",
                (document_id, start, end, code, coder),
            ).fetchall()
            self.conn.execute(
                "DELETE FROM codings WHERE document_id = ? AND start_offset = ? AND "
                "end_offset = ? AND code = ? AND source = 'human' AND coder = ? AND stale = 0",
                (document_id, start, end, code, coder),
            )
            for (segment_idx,) in rows:
                self.log(
                    "remove",
                    coder=coder,
                    document_id=document_id,
                    segment_idx=segment_idx,
                    code=code,
                    detail=detail,
                )
        return len(rows)

    def log_rejection(
        self, coder: str, document_id: str, segment_idx: int, code: str, *, withdrawn: bool = False
    ) -> None:
        """Remember that ``coder`` rejected the automatic ``code`` on a segment (``reject``
        in the coding log and a row of the rejections table, as a blank cell of an imported
        review sheet leaves), or took that back (``unreject``). The final coding
        (:mod:`qcode.final`) reads the rejections table."""
        with self.transaction():
            self.log(
                "unreject" if withdrawn else "reject",
                coder=coder,
                document_id=document_id,
                segment_idx=segment_idx,
                code=code,
                detail="serve",
            )
            self._set_rejection(coder, document_id, segment_idx, code, not withdrawn)

    def _set_rejection(
        self, coder: str, document_id: str, segment_idx: int, code: str, rejected: bool
    ) -> None:
        """Add (or remove) ``coder``'s current rejection of ``code`` on a segment (call inside
        a transaction)."""
        if not rejected:
            self.conn.execute(
                "DELETE FROM rejections WHERE document_id = ? AND segment_idx = ? AND coder = ? "
                "AND code = ? AND stale = 0",
                (document_id, segment_idx, coder, code),
            )
            return
        exists = self.conn.execute(
            "SELECT 1 FROM rejections WHERE document_id = ? AND segment_idx = ? AND coder = ? "
            "AND code = ? AND stale = 0",
            (document_id, segment_idx, coder, code),
        ).fetchone()
        span = self.conn.execute(
            "SELECT start_offset, end_offset FROM segments WHERE document_id = ? AND idx = ?",
            (document_id, segment_idx),
        ).fetchone()
        if exists or span is None:
            return
        self.conn.execute(
            "INSERT INTO rejections(document_id, segment_idx, start_offset, end_offset, code, "
            "coder, stale, created) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
            (document_id, segment_idx, span[0], span[1], code, coder, now_iso()),
        )

    def rejections(self, coder: str, document_id: str | None = None) -> set[tuple[str, int, str]]:
        """(document, segment, code) whose automatic coding ``coder`` rejected and has not
        taken back since (a review sheet's blank cells included)."""
        where, params = "", [coder]
        if document_id is not None:
            where, params = " AND document_id = ?", [coder, document_id]
        return {
            (doc, idx, code)
            for doc, idx, code in self.conn.execute(
                "SELECT document_id, segment_idx, code FROM rejections WHERE coder = ? AND stale = 0"
                f"{where}",
                params,
            )
        }

    def add_memo(
        self,
        kind: str,
        text: str,
        *,
        coder: str | None,
        document_id: str | None = None,
        code: str | None = None,
        start: int | None = None,
        end: int | None = None,
    ) -> int:
        """Store a memo on a document, a code or a coding (document + span + code); its id."""
        with self.transaction():
            cursor = self.conn.execute(
                "INSERT INTO memos(at, coder, kind, document_id, code, start_offset, end_offset, "
                "text) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (now_iso(), coder, kind, document_id, code, start, end, text),
            )
            self.log("memo", coder=coder, document_id=document_id, code=code, detail=kind)
            return int(cursor.lastrowid or 0)

    def delete_memo(self, memo_id: int) -> int:
        """Remove a memo (the workbench's undo of writing one); rows deleted."""
        with self.transaction():
            return self.conn.execute("DELETE FROM memos WHERE id = ?", (memo_id,)).rowcount

    def memos_frame(self, *, document: str | None = None, code: str | None = None) -> pd.DataFrame:
        """Memos, oldest first: id, at, coder, kind, document, code, start, end, text."""
        where, params = ["1 = 1"], []
        if document is not None:
            where.append("document_id = ?")
            params.append(document)
        if code is not None:
            where.append("code = ?")
            params.append(code)
        frame = pd.read_sql_query(
            "SELECT id, at, coder, kind, document_id AS document, code, start_offset AS start, "
            f"end_offset AS end, text FROM memos WHERE {' AND '.join(where)} ORDER BY id",
            self.conn,
            params=params,
        )
        for column in ("start", "end"):
            frame[column] = frame[column].astype("Int64")
        return frame


_MOVE_TEXT = {
    "offsets": "moved by the edit's offsets",
    "exact": "same text nearby",
    "fuzzy": "fuzzy alignment",
}


def _sha256(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_CODE_FIELDS = "path, id, parent, label, level, ord, color, description, codable, origin"


def _code_row(code: Any, ord_: int, origin: str | None) -> tuple[Any, ...]:
    """A ``codes`` row (columns as in :data:`_CODE_FIELDS`) for a ``Code``."""
    return (
        code.path,
        code.id,
        code.parent_path,
        code.label,
        code.level,
        ord_,
        code.color,
        code.description,
        int(getattr(code, "codable", True)),
        origin,
    )


def _as_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def _json_key(key: str) -> str:
    """Metadata keys go into a JSON path and a column alias: keep them to safe characters."""
    return "".join(ch for ch in key if ch.isalnum() or ch in "_-")


def encode_metadata(metadata: dict[str, Any]) -> str:
    return json.dumps(metadata, ensure_ascii=False, sort_keys=True, default=str)


def encode_evidence(coding: Coding) -> str:
    return json.dumps(
        [e.as_dict() for e in coding.evidence], ensure_ascii=False, separators=(",", ":")
    )
