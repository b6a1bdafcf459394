"""Edits keep their codings: human codings re-anchored to a changed text, the rest stale."""

from __future__ import annotations

import pytest

from qcode.anchor import TextEdit, reanchor
from qcode.codebook import Code
from qcode.models import Coding, Document, Segment, Turn, frozen_mapping
from qcode.store import Store

INTERVIEW = """I: Kan du berätta om hur ni arbetar med de här frågorna?
IP: Vi har ingen handlingsplan för människohandel, det har vi inte. Vi har pratat om det på arbetsplatsträffar men inget har blivit skrivet.
I: Hur samarbetar ni med andra?
IP: Vi ringer socialtjänsten när något händer. Ibland kontaktar vi polisen också, men det är sällan.
I: Har ni mött någon som kan ha varit utsatt?
IP: Ja. Det var en kvinna som bodde i en lägenhet där det kom många män. Vi misstänkte att hon inte var där frivilligt.
I: Vad behöver ni?
IP: Utbildning. Vi behöver mer kunskap om tecknen, och någon att fråga.
IP: Ja.
I: Något mer?
IP: Nej, det tror jag inte."""


def make_document(text: str, doc_id: str = "soc-01") -> Document:
    turns, offset = [], 0
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
        frozen_mapping({"title": "Socialtjänst", "group": "socialtjanst"}),
    )


def segments_of(doc: Document) -> list[Segment]:
    return [
        Segment(doc.id, i, t.start, t.end, t.speaker, t.is_interviewer, doc.text[t.start : t.end])
        for i, t in enumerate(doc.turns)
    ]


def span_of(doc: Document, text: str, occurrence: int = 0) -> tuple[int, int]:
    at = -1
    for _ in range(occurrence + 1):
        at = doc.text.index(text, at + 1)
    return at, at + len(text)


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "p.db") as s:
        s.save_codes(
            [Code(c, c, c) for c in ("beredskap", "samverkan", "erfarenhet", "kunskap")], "cb"
        )
        yield s


def code_fixture(store: Store, doc: Document) -> list[tuple[str, str]]:
    """Eight human codings of the interview: whole turns, phrases, one word, a repeated
    "Ja."; returns (code, coded text) for each."""
    segs = segments_of(doc)
    store.save_document(doc, "sha1", segs, [], tag_key="k")
    wanted = [
        ("beredskap", segs[1].text, 0),  # a whole turn
        ("beredskap", "inget har blivit skrivet", 0),  # a phrase inside it
        ("samverkan", segs[3].text, 0),
        ("samverkan", "polisen", 0),  # one word
        ("erfarenhet", "Vi misstänkte att hon inte var där frivilligt.", 0),
        ("kunskap", "Utbildning.", 0),
        ("kunskap", "Ja.", 1),  # the second "Ja." in the text
        ("erfarenhet", "Ja.", 0),  # the first one
    ]
    codings = []
    for code, text, occurrence in wanted:
        start, end = span_of(doc, text, occurrence)
        index = next(s.index for s in segs if s.start <= start < s.end)
        codings.append(Coding(doc.id, index, start, end, code, "human", coder="eva"))
    store.add_human_codings(codings)
    return [(code, text) for code, text, _ in wanted]


def coded_texts(store: Store) -> list[tuple[str, str]]:
    frame = store.codings_frame(source="human")
    return sorted(zip(frame["code"], frame["text"]))


def test_a_typo_edit_keeps_every_human_coding(store):
    doc = make_document(INTERVIEW)
    wanted = code_fixture(store, doc)
    edited = (
        INTERVIEW.replace("Kan du berätta", "Kan du beskriva")  # before every coding
        .replace("handlingsplan för", "handlingsplan kring")  # inside a coded turn
        .replace("socialtjänsten när", "socialtjänsten direkt när")  # a word added in a turn
        .replace("där frivilligt", "där frivillligt")  # a typo in a coded phrase
        .replace("Vad behöver ni?", "Vad skulle ni behöva?")
    )  # before the two "Ja."
    changed = make_document(edited)
    result = store.save_document(changed, "sha2", segments_of(changed), [], tag_key="k")
    assert result.human_stale == []
    assert result.human_moved == len(wanted)
    frame = store.codings_frame(source="human")
    assert len(frame) == len(wanted)  # 100 % kept
    texts = dict(zip(zip(frame["code"], frame["start"]), frame["text"]))
    assert "Vi misstänkte att hon inte var där frivillligt." in texts.values()  # fuzzy, ≥ 0.9
    assert (
        "Vi ringer socialtjänsten direkt när något händer. Ibland kontaktar vi polisen "
        "också, men det är sällan." in texts.values()
    )  # whole turn followed
    # the repeated "Ja." codings stay on their own occurrence
    ja = frame[frame["text"] == "Ja."].set_index("code")["start"]
    assert ja["erfarenhet"] == changed.text.index("Ja.")
    assert ja["kunskap"] == changed.text.index("\nIP: Ja.\n") + 5
    for row in frame.itertuples():  # every coding points at a segment holding its span
        seg = segments_of(changed)[row.segment]
        assert seg.start <= row.start and row.end <= seg.end
    log = store.coding_log_frame()
    moves = log[log["action"] == "move"]
    assert len(moves) == len(wanted)
    # the two turns edited inside and the phrase with the typo are aligned, ≥ 0.9 alike
    assert moves["detail"].str.contains("fuzzy alignment 0.9").sum() == 3


def test_a_rewrite_marks_exactly_the_lost_codings_stale(store):
    doc = make_document(INTERVIEW)
    code_fixture(store, doc)
    rewritten = INTERVIEW.replace(
        "Vi ringer socialtjänsten när något händer. Ibland kontaktar vi polisen "
        "också, men det är sällan.",
        "Det beror på. Oftast löser vi det själva i arbetsgruppen.",
    ).replace("Utbildning. Vi behöver", "Tid. Vi saknar")
    changed = make_document(rewritten)
    result = store.save_document(changed, "sha2", segments_of(changed), [], tag_key="k")
    lost = sorted((code, INTERVIEW[start:end]) for _doc, start, end, code in result.human_stale)
    assert lost == [
        ("kunskap", "Utbildning."),
        (
            "samverkan",
            "Vi ringer socialtjänsten när något händer. Ibland kontaktar "
            "vi polisen också, men det är sällan.",
        ),
        ("samverkan", "polisen"),
    ]
    assert len(store.codings_frame(source="human")) == 5
    stale = store.stale_codings_frame()
    assert sorted(stale["old_text"]) == sorted(text for _code, text in lost)
    whole = stale[stale["old_text"].str.startswith("Vi ringer")].iloc[0]
    assert whole["candidate_text"] == "Det beror på. Oftast löser vi det själva i arbetsgruppen."


def test_duplicate_text_and_one_word_spans_survive_an_earlier_edit(store):
    """Issue 19 (2): text that occurs twice, and a one-word span, must move by the edit."""
    text = "IP: Ja.\nI: Och sen?\nIP: Ja.\nIP: Polisen kom. Polisen gick."
    doc = make_document(text, "dup")
    segs = segments_of(doc)
    store.save_document(doc, "s1", segs, [], tag_key="k")
    second_ja = span_of(doc, "Ja.", 1)
    second_polis = span_of(doc, "Polisen", 1)
    store.add_human_codings(
        [
            Coding("dup", 2, *second_ja, "kunskap", "human", coder="eva"),
            Coding("dup", 3, *second_polis, "samverkan", "human", coder="eva"),
        ]
    )
    edited = make_document(text.replace("Och sen?", "Och vad hände sen, tror du?"), "dup")
    result = store.save_document(edited, "s2", segments_of(edited), [], tag_key="k")
    assert result.human_stale == [] and result.human_moved == 2
    frame = store.codings_frame(source="human").set_index("code")
    assert frame.loc["kunskap", "start"] == span_of(edited, "Ja.", 1)[0]
    assert frame.loc["samverkan", "start"] == span_of(edited, "Polisen", 1)[0]
    assert frame.loc["kunskap", "segment"] == 2


def test_stale_codings_are_accepted_at_their_candidate_or_dropped(store):
    doc = make_document(INTERVIEW)
    code_fixture(store, doc)
    rewritten = INTERVIEW.replace(
        "Vi misstänkte att hon inte var där frivilligt.",
        "Vi trodde att hon kanske inte var där av egen vilja.",
    )
    rewritten = rewritten.replace("Utbildning.", "Tid.")
    changed = make_document(rewritten)
    store.save_document(changed, "sha2", segments_of(changed), [], tag_key="k")
    stale = store.stale_codings_frame().set_index("old_text")
    keep = int(stale.loc["Vi misstänkte att hon inte var där frivilligt.", "id"])
    drop = int(stale.loc["Utbildning.", "id"])
    document, start, end, code = store.resolve_stale(keep, accept=True)
    assert (
        changed.text[start:end]
        == stale.loc["Vi misstänkte att hon inte var där frivilligt.", "candidate_text"]
    )
    assert store.resolve_stale(drop, accept=False) is None
    assert store.stale_codings_frame().empty
    frame = store.codings_frame(source="human")
    assert len(frame) == 7 and "Utbildning." not in set(frame["text"])
    assert {"accept stale", "drop stale"} <= set(store.coding_log_frame()["action"])


def test_text_edit_carries_positions_around_inserts_and_deletes():
    edit = TextEdit("abc def ghi", "abc XX def gh")
    assert edit.carry(4, 7) == (7, 10)  # "def" after an insert
    assert reanchor(edit, 8, 11).how == "stale"  # "ghi" lost a letter: 0.8 < 0.9
    assert reanchor(edit, 0, 3).how == "kept"


def test_cli_tag_edit_retag_then_stale_lists_and_resolves(tmp_path, monkeypatch, repo_root):
    from click.testing import CliRunner

    from qcode.cli import cli

    monkeypatch.chdir(tmp_path)
    (tmp_path / "t").mkdir()
    transcript = tmp_path / "t" / "soc-01.md"
    transcript.write_text(
        "---\nid: soc-01\ngroup: socialtjanst\n---\n" + INTERVIEW + "\n", encoding="utf-8"
    )
    codebook = str(repo_root / "codebooks" / "kronoberg.yaml")
    runner = CliRunner()
    tag = ["tag", "t", "--db", "p.db", "--codebook", codebook, "-j", "1", "--no-companion"]
    assert runner.invoke(cli, tag).exit_code == 0
    codings = tmp_path / "codings.csv"
    codings.write_text(
        "document,segment,code\nsoc-01,3,samverkan\nsoc-01,7,kunskap\nsoc-01,5,erfarenhet\n",
        encoding="utf-8",
    )
    out = runner.invoke(cli, ["import", "codings", str(codings), "--coder", "eva", "--db", "p.db"])
    assert out.exit_code == 0, out.output
    transcript.write_text(
        transcript.read_text(encoding="utf-8")
        .replace("Kan du berätta", "Kan du beskriva")
        .replace(
            "Utbildning. Vi behöver mer kunskap om tecknen, och någon att fråga.",
            "Mest tid, ärligt talat.",
        ),
        encoding="utf-8",
    )
    out = runner.invoke(cli, tag)
    assert out.exit_code == 0
    assert "human coding kunskap" in out.stderr and "marked stale (see `qcode stale`)" in out.stderr
    out = runner.invoke(cli, ["stale", "--db", "p.db"])
    assert out.exit_code == 0
    lines = out.output.splitlines()
    assert lines[0].startswith("#") and lines[0].endswith("soc-01  kunskap  eva")
    assert "«Utbildning. Vi behöver mer kunskap om tecknen, och någon att fråga.»" in lines[1]
    assert "«Mest tid, ärligt talat.»" in lines[2]
    assert lines[-1].startswith("1 stale coding(s)")
    coding_id = lines[0].split()[0][1:]
    out = runner.invoke(cli, ["stale", "--accept", coding_id, "--coder", "anna", "--db", "p.db"])
    assert out.exit_code == 0 and out.output.startswith(f"accepted {coding_id}: kunskap on soc-01")
    assert runner.invoke(cli, ["stale", "--db", "p.db"]).output == "no stale codings\n"
    out = runner.invoke(cli, ["stale", "--drop", coding_id, "--db", "p.db"])
    assert out.exit_code == 2 and f"no stale human coding with id {coding_id}" in out.output
    with Store(tmp_path / "p.db") as store:
        human = store.codings_frame(source="human")
        assert sorted(human["text"]) == [
            "Ja. Det var en kvinna som bodde i en lägenhet där det kom "
            "många män. Vi misstänkte att hon inte var där frivilligt.",
            "Mest tid, ärligt talat.",
            "Vi ringer socialtjänsten när något händer. Ibland "
            "kontaktar vi polisen också, men det är sällan.",
        ]


def test_stale_codings_show_in_review_sheets(store, tmp_path):
    from qcode.review import read_review_decisions, review_frame, write_review

    doc = make_document(INTERVIEW)
    code_fixture(store, doc)
    changed = make_document(INTERVIEW.replace("Utbildning. Vi behöver", "Tid. Vi saknar"))
    store.save_document(changed, "sha2", segments_of(changed), [], tag_key="k")
    stale_id = int(store.stale_codings_frame()["id"].iloc[0])
    frame = review_frame(store)
    row = frame[frame["stale"] != ""].iloc[0]
    assert row["segment"] == "soc-01#7"
    assert (
        row["stale"]
        == f"kunskap (eva, stale #{stale_id}): «Utbildning.» — qcode stale --accept {stale_id}"
    )
    for suffix in ("xlsx", "csv"):
        path = write_review(frame, tmp_path / f"review.{suffix}")
        _decisions, _notes, problems = read_review_decisions(path, store)
        assert problems == []  # the stale column is read-only information, not a code


def test_a_long_single_line_text_is_diffed_in_bounded_time():
    """A 250 kB survey answer or docx without line breaks, edited in three places: the
    diff stays linear-ish (common ends cut off, autojunk on long token lists)."""
    import random
    import time

    rng = random.Random(1)
    words = (
        "och det att som en på är av för med till den har de inte om ett men var jag sig "
        "från vi så kan man när år hon under också efter eller nu där vid mot ska"
    ).split()
    old = " ".join(rng.choice(words) for _ in range(60000))
    new = "Ja. " + old[:100000] + " extra ord " + old[100000:200000] + old[200010:] + " slut"
    started = time.process_time()
    edit = TextEdit(old, new)
    anchor = reanchor(edit, 150000, 150200)
    assert time.process_time() - started < 5.0
    assert anchor.moved and new[anchor.start : anchor.end] == old[150000:150200]
