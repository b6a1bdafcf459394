"""`qcode serve` at the HTTP level (Starlette's test client, no sockets).

The rules under test (issue 17): every request needs the run's token; a write needs the
page's origin and CSRF token; a Host header other than the bound address is refused (DNS
rebinding); nothing outside the static folder is ever served; each decision is stored at once
as the coder's human decision, in the same rows `qcode import review` / `import codings`
write; a write waits for another qcode process's lock instead of getting lost.
"""

from __future__ import annotations

import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from qcode import Project
from qcode.cli import cli
from qcode.serve import make_app

REPO = Path(__file__).resolve().parents[1]
CODEBOOK = REPO / "codebooks" / "kronoberg.yaml"
HOST = "testserver"
ORIGIN = f"http://{HOST}"

#: a transcript with an emoji and Swedish letters before the words the tests code.
EMOJI_TRANSCRIPT = """---
id: emoji-01
title: Samordnare, Testkommun
group: kommuner
main_group: myndigheter
---
I: Hur ser samverkan ut hos er?

IP: Vi har ingen handlingsplan alls 😊 tröttsamt nog, och samverkan med polisen fungerar dåligt. Det är svårt att få höra något om människohandel.

I: Och beredskapen?

IP: Vår beredskap är låg, vi har inte diskuterat frågan i ledningsgruppen.
"""


@pytest.fixture(scope="module")
def tagged_db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("serve")
    transcripts = folder / "transcripts"
    transcripts.mkdir()
    (transcripts / "emoji.md").write_text(EMOJI_TRANSCRIPT, encoding="utf-8")
    shutil.copy(REPO / "transcripts" / "polis-operativ.md", transcripts)
    db = folder / "tagged.db"
    result = CliRunner().invoke(
        cli, ["tag", str(transcripts), "--db", str(db), "--codebook", str(CODEBOOK), "-j", "1"]
    )
    assert result.exit_code == 0, result.output
    return db


@pytest.fixture
def db(tagged_db, tmp_path) -> Path:
    copy = tmp_path / "project.db"
    shutil.copy(tagged_db, copy)
    return copy


def open_app(db: Path, **kwargs):
    project = Project(db.parent, db=db, codebook=CODEBOOK)
    app, settings = make_app(project, coder="eva", host=HOST, **kwargs)
    return app, settings


@pytest.fixture
def served(db):
    app, settings = open_app(db)
    with TestClient(app, base_url=ORIGIN) as client:
        assert client.get(f"/?token={settings.token}").status_code == 200  # sets the cookie
        yield client, settings, db
    app.database.shutdown(wait=True)


def write(client, settings, action, body, **headers):
    return client.post(
        f"/api/{action}",
        json=body,
        headers={"origin": ORIGIN, "x-csrf-token": settings.csrf, **headers},
    )


def human(db: Path, coder: str = "eva") -> list[tuple]:
    with Project(db.parent, db=db) as project:
        frame = project.codings(source="human", coder=coder)
        return sorted(
            zip(
                frame["document"],
                frame["segment"].astype(int),
                frame["start"],
                frame["end"],
                frame["code"],
            )
        )


def segment_of(db: Path, document: str, word: str) -> tuple[int, int, int]:
    with Project(db.parent, db=db) as project:
        segments = project.segments(document)
    row = segments[segments["text"].str.contains(word)].iloc[0]
    return int(row["segment"]), int(row["start"]), int(row["end"])


# -- safety -----------------------------------------------------------------------------------
def test_every_request_needs_the_token(db):
    app, settings = open_app(db)
    with TestClient(app, base_url=ORIGIN) as client:
        requests_need_the_token(client, settings)
    app.database.shutdown(wait=True)


def requests_need_the_token(client, settings):
    for path in (
        "/",
        "/doc/emoji-01",
        "/codes",
        "/static/app.js",
        "/api/explain?document=x&segment=1",
    ):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "token" in response.text
    assert client.get("/?token=wrong").status_code == 403
    assert write(client, settings, "undo", {}).status_code == 403
    # the token in the address is moved into a same-site cookie and out of the address bar
    first = client.get(f"/doc/emoji-01?token={settings.token}", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/doc/emoji-01"
    assert (
        "HttpOnly" in first.headers["set-cookie"]
        and "SameSite=Strict" in first.headers["set-cookie"]
    )
    assert client.get("/doc/emoji-01").status_code == 200
    assert client.get("/", headers={"x-qcode-token": settings.token}).status_code == 200


def test_writes_need_the_pages_origin_and_csrf_token(served):
    client, settings, db = served
    _seg, start, _end = segment_of(db, "emoji-01", "tröttsamt")
    body = {"document": "emoji-01", "start": start, "end": start + 2, "code": "beredskap"}
    assert write(client, settings, "code", body, origin="http://evil.example").status_code == 403
    assert write(client, settings, "code", body, origin="null").status_code == 403
    bare = client.post("/api/code", json=body, headers={"x-csrf-token": settings.csrf})
    assert bare.status_code == 403  # no Origin at all
    assert write(client, settings, "code", body, **{"x-csrf-token": "guess"}).status_code == 403
    no_csrf = client.post("/api/code", json=body, headers={"origin": ORIGIN})
    assert no_csrf.status_code == 403
    assert human(db) == []
    # a form post (what a foreign page could send without CORS) is refused too
    form = client.post(
        "/api/code", data=body, headers={"origin": ORIGIN, "x-csrf-token": settings.csrf}
    )
    assert form.status_code == 415
    assert write(client, settings, "code", body).status_code == 200
    assert len(human(db)) == 1


def test_foreign_host_header_is_refused(served):
    client, settings, _db = served
    for host in ("evil.example", "evil.example:8765", "127.0.0.1.evil.example", ""):
        response = client.get(f"/?token={settings.token}", headers={"host": host})
        assert response.status_code == 400, host
    assert write(client, settings, "undo", {}, host="attacker.example").status_code == 400


def test_host_header_must_name_the_bound_port(db):
    project = Project(db.parent, db=db, codebook=CODEBOOK)
    app, settings = make_app(project, coder="eva", port=8765)
    client = TestClient(app, base_url="http://127.0.0.1:8765")
    assert client.get(f"/?token={settings.token}").status_code == 200
    assert (
        client.get(f"/?token={settings.token}", headers={"host": "localhost:8765"}).status_code
        == 200
    )
    assert (
        client.get(f"/?token={settings.token}", headers={"host": "127.0.0.1:9999"}).status_code
        == 400
    )
    assert client.get(f"/?token={settings.token}", headers={"host": "127.0.0.1"}).status_code == 400
    app.database.shutdown(wait=True)


TRAVERSALS = [
    "/static/../pyproject.toml",
    "/static/..%2F..%2F..%2Fpyproject.toml",
    "/static/%2e%2e/app.py",
    "/static/%2e%2e%2fapp.py",
    "/static/app.py",
    "/static/",
    "/static/..%5Capp.py",
    "/static/templates/base.html",
    "/static//etc/passwd",
    "/static/%2Fetc%2Fpasswd",
    "/static/app.js%00.css",
    "/static/nothing.css",
]


def test_nothing_outside_the_static_folder_is_served(served):
    client, _settings, _db = served
    for path in TRAVERSALS:
        response = client.get(path)
        assert response.status_code == 404, (path, response.status_code)
        assert "import" not in response.text and "root:" not in response.text


def test_static_files_and_security_headers(served):
    client, _settings, _db = served
    script = client.get("/static/app.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith(
        "text/javascript"
    )
    page = client.get("/")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "http://" not in page.text.replace(ORIGIN, "") and "https://" not in page.text


# -- decisions ---------------------------------------------------------------------------------
def suggestion(db: Path, document: str) -> tuple[int, str]:
    with Project(db.parent, db=db) as project:
        auto = project.codings(source=["rule", "companion", "model"])
    row = auto[auto["document"] == document].iloc[0]
    return int(row["segment"]), row["code"]


def test_accept_reject_change_and_undo_are_stored_as_review_decisions(served):
    client, settings, db = served
    segment, code = suggestion(db, "emoji-01")
    start, end = segment_of(db, "emoji-01", "tröttsamt")[1:]
    assert (
        write(
            client,
            settings,
            "decide",
            {"document": "emoji-01", "segment": segment, "code": code, "decision": "accept"},
        ).status_code
        == 200
    )
    assert human(db) == [("emoji-01", segment, start, end, code)]
    with Project(db.parent, db=db) as project:
        log = project.open_existing_store().coding_log_frame("eva")
        assert set(log["action"]) >= {"add", "reviewed"}  # the rows `import review` writes
        assert "emoji-01" in project.open_existing_store().reviewed_documents("eva")
    # reject: the coder's coding goes, the rejection is remembered, the page shows it
    assert (
        write(
            client,
            settings,
            "decide",
            {"document": "emoji-01", "segment": segment, "code": code, "decision": "reject"},
        ).status_code
        == 200
    )
    assert human(db) == []
    page = client.get("/doc/emoji-01").text
    assert "✗ rejected" in page
    # undo brings the acceptance back, a second undo the state before it
    assert "undone" in write(client, settings, "undo", {}).json()["message"]
    assert human(db) == [("emoji-01", segment, start, end, code)]
    write(client, settings, "undo", {})
    assert human(db) == []
    # change: the suggestion rejected, another code coded on the segment
    assert (
        write(
            client,
            settings,
            "change",
            {"document": "emoji-01", "segment": segment, "code": code, "to": "kunskap"},
        ).status_code
        == 200
    )
    assert human(db) == [("emoji-01", segment, start, end, "kunskap")]
    assert write(client, settings, "undo", {}).status_code == 200
    assert human(db) == []


def test_a_decision_on_a_turn_that_changed_since_the_page_was_drawn_is_refused(served):
    client, settings, db = served
    segment, code = suggestion(db, "emoji-01")
    with Project(db.parent, db=db) as project:
        segments = project.segments("emoji-01")
    shown = segments.loc[segments["segment"] == segment, "text"].iloc[0]
    body = {"document": "emoji-01", "segment": segment, "code": code, "decision": "accept"}
    stale = write(client, settings, "decide", {**body, "text": shown + " och mer"})
    assert stale.status_code == 400 and "reload the page" in stale.json()["error"]
    changed = write(client, settings, "change", {**body, "to": "kunskap", "text": "annat"})
    assert changed.status_code == 400
    assert human(db) == []
    assert write(client, settings, "undo", {}).json()["message"] == "nothing to undo"
    assert write(client, settings, "decide", {**body, "text": shown}).status_code == 200
    assert len(human(db)) == 1


def test_a_selected_span_is_stored_with_code_point_offsets(served):
    client, settings, db = served
    with Project(db.parent, db=db) as project:
        text = project.open_existing_store().document_text("emoji-01")
    start = text.index("tröttsamt")  # after an emoji: one code point, two UTF-16 units
    end = start + len("tröttsamt")
    response = write(
        client,
        settings,
        "code",
        {"document": "emoji-01", "start": start, "end": end, "code": "beredskap/saknas"},
    )
    assert response.status_code == 200, response.text
    [(doc, _seg, s, e, code)] = human(db)
    assert (doc, text[s:e], code) == ("emoji-01", "tröttsamt", "beredskap/saknas")
    # the same again adds nothing; out-of-range spans and unknown codes are refused
    write(
        client,
        settings,
        "code",
        {"document": "emoji-01", "start": start, "end": end, "code": "beredskap/saknas"},
    )
    assert len(human(db)) == 1
    bad = write(
        client,
        settings,
        "code",
        {"document": "emoji-01", "start": 5, "end": 10**6, "code": "beredskap"},
    )
    assert bad.status_code == 400 and "outside" in bad.json()["error"]
    assert (
        write(
            client,
            settings,
            "code",
            {"document": "emoji-01", "start": start, "end": end, "code": "nattbuss"},
        ).status_code
        == 400
    )
    assert (
        write(
            client,
            settings,
            "code",
            {"document": "nobody", "start": 0, "end": 1, "code": "beredskap"},
        ).status_code
        == 404
    )
    assert (
        write(
            client,
            settings,
            "code",
            {"document": "emoji-01", "start": "0", "end": 1, "code": "beredskap"},
        ).status_code
        == 400
    )
    # remove, then undo the removal
    write(
        client,
        settings,
        "remove",
        {"document": "emoji-01", "start": start, "end": end, "code": "beredskap/saknas"},
    )
    assert human(db) == []
    write(client, settings, "undo", {})
    assert [text[s:e] for _d, _i, s, e, _c in human(db)] == ["tröttsamt"]


def test_memos_are_stored_shown_and_exported_as_notes(served, tmp_path):
    client, settings, db = served
    segment, code = suggestion(db, "emoji-01")
    _seg, start, end = segment_of(db, "emoji-01", "tröttsamt")
    for body in (
        {"kind": "document", "document": "emoji-01", "text": "Läs om – åäö 😊"},
        {"kind": "code", "code": "beredskap", "text": "Gränsfall: diskuterat?"},
        {
            "kind": "coding",
            "document": "emoji-01",
            "code": code,
            "start": start,
            "end": end,
            "text": "Stämmer",
        },
    ):
        assert write(client, settings, "memo", body).status_code == 200
    assert (
        write(
            client, settings, "memo", {"kind": "document", "document": "emoji-01", "text": "   "}
        ).status_code
        == 400
    )
    assert "Läs om – åäö 😊" in client.get("/doc/emoji-01").text
    assert "Gränsfall: diskuterat?" in client.get("/codes/beredskap").text
    with Project(db.parent, db=db, codebook=CODEBOOK) as project:
        memos = project.open_existing_store().memos_frame()
        assert list(memos["kind"]) == ["document", "code", "coding"]
        assert list(memos["coder"]) == ["eva"] * 3
        target = project.export_qdpx(tmp_path / "p.qdpx")
    import zipfile

    xml = zipfile.ZipFile(target).read("project.qde").decode("utf-8")
    assert xml.count("<Note ") == 3 and "Läs om – åäö 😊" in xml
    assert xml.count("<NoteRef ") == 2  # the document's source and the coding's selection
    import xmlschema

    xmlschema.XMLSchema(str(REPO.parent / "shared" / "refi" / "Project.xsd")).validate(
        xml.encode("utf-8")
    )


# -- views -------------------------------------------------------------------------------------
def test_documents_list_filters(served):
    client, _settings, _db = served
    page = client.get("/").text
    assert "emoji-01" in page and "polis-02" in page
    only = client.get("/?group=kommuner").text
    assert "emoji-01" in only and 'data-document="polis-02"' not in only
    coded = client.get("/?code=beredskap").text
    assert 'data-document="emoji-01"' in coded
    assert 'data-document="emoji-01"' not in client.get("/?coder=eva").text
    assert 'data-document="emoji-01"' in client.get("/?unreviewed=1").text


def test_document_view_pieces_carry_code_point_offsets(served):
    client, _settings, db = served
    page = client.get("/doc/emoji-01").text
    with Project(db.parent, db=db) as project:
        text = project.open_existing_store().document_text("emoji-01")
    import re

    pieces = re.findall(r'<span class="t[^"]*" data-s="(\d+)"[^>]*>([^<]*)</span>', page)
    assert pieces
    import html

    for start, shown in pieces:
        assert text[int(start) : int(start) + len(html.unescape(shown))] == html.unescape(shown)
    assert 'class="seg iv"' in page  # interviewer turns are marked (greyed by the CSS)


def test_blind_mode_hides_automatic_codings(db):
    app, settings = open_app(db, blind=True)
    with TestClient(app, base_url=ORIGIN) as client:
        client.get(f"/?token={settings.token}")
        page = client.get("/doc/emoji-01").text
        assert "cd suggestion" not in page and "blind (--blind)" in page
    app.database.shutdown(wait=True)
    app, settings = open_app(db)
    with TestClient(app, base_url=ORIGIN) as client:
        client.get(f"/?token={settings.token}")
        assert "cd suggestion" in client.get("/doc/emoji-01").text
        client.cookies.set("qcode_blind", "1")
        assert "cd suggestion" not in client.get("/doc/emoji-01").text
    app.database.shutdown(wait=True)


def test_redacted_view_prints_text_like_the_reports(served):
    client, _settings, db = served
    with Project(db.parent, db=db) as project:
        text = project.open_existing_store().document_text("polis-02")
    client.cookies.set("qcode_redacted", "1")
    page = client.get("/doc/polis-02").text
    with Project(db.parent, db=db, codebook=CODEBOOK) as project:
        redactor = project.redactor()
        hits = [h.value for h in redactor.find(text)]
    assert hits, "the demo transcript should name someone"
    for value in hits:
        assert f">{value}<" not in page
    assert "[NAMN" in page or "[TELEFON]" in page or "[E-POST]" in page


def test_explain_gives_the_same_text_as_qcode_explain(served):
    client, _settings, db = served
    segment, _code = suggestion(db, "emoji-01")
    response = client.get(f"/api/explain?document=emoji-01&segment={segment}")
    result = CliRunner().invoke(
        cli, ["explain", "emoji-01", str(segment), "--db", str(db), "--codebook", str(CODEBOOK)]
    )
    assert response.json()["text"] == result.output.rstrip("\n")


def test_code_view_lists_passages_in_context(served):
    client, _settings, _db = served
    page = client.get("/codes").text
    assert "beredskap/saknas" in page and "Include:" in page
    passages = client.get("/codes/beredskap").text
    assert 'class="kw"' in passages and "emoji-01" in passages
    assert client.get("/codes/nattbuss").status_code == 404
    assert 'class="kw"' not in client.get("/codes/beredskap?source=human").text


# -- concurrency ------------------------------------------------------------------------------
def test_a_write_waits_for_another_writer_and_lands(served):
    client, settings, db = served
    other = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another qcode process in the middle of a write
    release = threading.Timer(0.8, lambda: other.execute("COMMIT"))
    release.start()
    started = time.monotonic()
    _seg, start, _end = segment_of(db, "emoji-01", "tröttsamt")
    response = write(
        client,
        settings,
        "code",
        {"document": "emoji-01", "start": start, "end": start + 2, "code": "beredskap"},
    )
    release.join()
    other.close()
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.7
    assert len(human(db)) == 1


def test_busy_past_the_timeout_answers_503_and_writes_nothing(db, monkeypatch):
    monkeypatch.setenv("QCODE_BUSY_TIMEOUT", "0.3")
    app, settings = open_app(db)
    other = sqlite3.connect(db, isolation_level=None)
    with TestClient(app, base_url=ORIGIN) as client:
        client.get(f"/?token={settings.token}")
        other.execute("BEGIN IMMEDIATE")
        response = write(
            client,
            settings,
            "code",
            {"document": "emoji-01", "start": 40, "end": 42, "code": "beredskap"},
        )
        other.execute("ROLLBACK")
        assert response.status_code == 503 and "busy" in response.json()["error"]
    other.close()
    app.database.shutdown(wait=True)
    assert human(db) == []


@pytest.mark.slow
def test_writes_land_while_qcode_tag_runs_on_the_same_database(served, tmp_path):
    client, settings, db = served
    with Project(db.parent, db=db) as project:
        text = project.open_existing_store().document_text("emoji-01")
    words = [w for w in dict.fromkeys(text.split()) if w.isalpha()][:40]
    folder = tmp_path / "more"
    folder.mkdir()
    for name in sorted((REPO / "transcripts").glob("[a-z]*.md"))[:6]:
        shutil.copy(name, folder)
    tag = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "qcode",
            "tag",
            str(folder),
            "--db",
            str(db),
            "--codebook",
            str(CODEBOOK),
            "-j",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    written = []
    try:
        for word in words:
            start = text.index(word)
            response = write(
                client,
                settings,
                "code",
                {
                    "document": "emoji-01",
                    "start": start,
                    "end": start + len(word),
                    "code": "kunskap",
                },
            )
            assert response.status_code == 200, response.text
            written.append((start, start + len(word)))
            if tag.poll() is not None and len(written) > 5:
                break
            time.sleep(0.05)
        out, err = tag.communicate(timeout=120)
    finally:
        if tag.poll() is None:
            tag.kill()
    assert tag.returncode == 0, err
    stored = {(s, e) for _d, _i, s, e, _c in human(db)}
    assert set(written) <= stored and len(written) > 5


@pytest.mark.slow
def test_the_command_prints_a_loopback_address_with_a_token_and_ctrl_c_stops_it(db):
    # the server runs in a child process: this test itself opens no socket
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "qcode",
            "serve",
            "--db",
            str(db),
            "--codebook",
            str(CODEBOOK),
            "--port",
            "0",
            "--no-browser",
            "--coder",
            "eva",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().startswith("qcode workbench for ")
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and "/?token=" in url
        assert len(url.split("token=")[1]) >= 40
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "Traceback" not in err and "qcode serve stopped" in err
