"""qcode.nlp: the blank Swedish pipeline, lemma candidates and hyphenation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qcode.nlp import doc_words, get_nlp, lemma_candidates


def test_get_nlp_is_cached_and_blank():
    nlp = get_nlp()
    assert nlp is get_nlp()
    assert nlp.lang == "sv"
    assert nlp.pipe_names == []
    with_sentences = get_nlp(sentences=True)
    assert with_sentences.pipe_names == ["sentencizer"]
    doc = with_sentences("Vi har ingen plan. Polisen ringde.")
    assert [s.text for s in doc.sents] == ["Vi har ingen plan.", "Polisen ringde."]


@pytest.mark.parametrize(
    "word, lemma",
    [
        ("beredskapen", "beredskap"),
        ("handlingsplanerna", "handlingsplan"),
        ("samverkar", "samverka"),
        ("samverkade", "samverka"),
        ("rollerna", "roll"),
        ("dubbla", "dubbel"),
        ("tog", "ta"),
        ("stött", "stöta"),
        ("finns", "finnas"),
        ("samverkansplanen", "samverkansplan"),  # greedy simplemma: unknown compound
        ("anmälningar", "anmälan"),  # -ning plural of an -an noun
        ("människohandeln", "människohandel"),
    ],
)
def test_lemma_candidates_contain_the_lemma(word, lemma):
    found = lemma_candidates(word)
    assert lemma in found
    assert word in found  # the word itself is always a candidate


def test_lemma_candidates_lower_case_and_keep_swedish_letters():
    assert lemma_candidates("Förtroendet") == lemma_candidates("förtroendet")
    assert "förtroende" in lemma_candidates("FÖRTROENDET")
    assert all(w == w.lower() for w in lemma_candidates("Åklagaren"))
    assert "åklagare" in lemma_candidates("Åklagaren")


def test_lemma_candidates_do_not_invent_an_forms():
    # the -ning -> -an rule only adds words simplemma knows
    assert "utbildan" not in lemma_candidates("utbildningarna")


def test_non_words_are_only_themselves():
    assert lemma_candidates("2010-talet") == frozenset({"2010-talet"})


def _words(text):
    return [(w[0], text[w[1] : w[2]]) for w in doc_words(get_nlp()(text))]


def test_line_break_hyphenation_is_joined_with_original_offsets():
    text = "Vi har en samverkans-\nplan nu."
    words = _words(text)
    assert ("samverkansplan", "samverkans-\nplan") in words
    assert ("nu", "nu") in words


def test_coordinated_compound_first_part_loses_its_hyphen():
    text = "Polis- och socialtjänst samarbetar."
    assert _words(text)[:3] == [
        ("polis", "Polis"),
        ("och", "och"),
        ("socialtjänst", "socialtjänst"),
    ]


def test_hyphen_before_capital_after_line_break_is_not_joined():
    # "Polis-\nSocialtjänst" is a list, not a word broken over a line
    words = _words("Polis-\nSocialtjänst")
    assert [w for w, _ in words] == ["polis", "socialtjänst"]


def test_space_tokens_are_dropped_and_punctuation_kept():
    assert [w for w, _ in _words("Ja.\n\n  Nej!")] == ["ja", ".", "nej", "!"]


def test_the_dictionary_kept_in_the_cache_folder_is_simplemmas_own(tmp_path, monkeypatch):
    from simplemma.strategies.dictionaries import dictionary_factory

    from qcode import nlp
    from qcode.lemma_table import MAGIC, LemmaTable

    monkeypatch.setenv("QCODE_CACHE_DIR", str(tmp_path / "cache"))
    original = dictionary_factory._load_dictionary_from_disk("sv")
    first = nlp._cached_dictionary("sv")  # decodes and writes the table
    [kept] = (tmp_path / "cache").iterdir()
    assert kept.name.startswith("simplemma-") and kept.read_bytes().startswith(MAGIC)
    again = nlp._cached_dictionary("sv")  # opens the table
    assert isinstance(first, LemmaTable) and isinstance(again, LemmaTable)
    assert len(again) == len(original)
    # every entry answers as in simplemma's own dict; words it lacks are misses
    sample = list(original.items())[::97]
    assert all(again.get(k.decode()) == v.decode() for k, v in sample)
    assert all(again.get(k.decode() + "qx") is None for k, _v in sample[:2000])
    assert again.get("handlingsplanerna") == original_lemma(original, "handlingsplanerna")
    assert again.get("människohandeln") == original_lemma(original, "människohandeln")


SMALL = {
    b"polisen": b"polis",
    "ärendet".encode(): "ärende".encode(),
    b"samverkansplanen": b"samverkansplan",
}


@pytest.mark.parametrize("damage", ["truncated", "flipped byte", "empty", "foreign", "padded"])
def test_a_damaged_table_is_refused(tmp_path, damage):
    from qcode.lemma_table import LemmaTable, LemmaTableError, build_table

    data = build_table(SMALL)
    spoiled = {
        "truncated": data[: len(data) // 2],
        "flipped byte": data[:-3] + bytes([data[-3] ^ 0xFF]) + data[-2:],
        "empty": b"",
        "foreign": b"PK\x03\x04" + data[4:],
        "padded": data + b"\0" * 8,
    }[damage]
    (tmp_path / "t.table").write_bytes(spoiled)
    with pytest.raises(LemmaTableError):
        LemmaTable(tmp_path / "t.table")
    (tmp_path / "t.table").write_bytes(data)
    assert LemmaTable(tmp_path / "t.table").get("ärendet") == "ärende"


def test_a_damaged_cached_table_is_written_again(fake_install):
    from qcode import nlp
    from qcode.lemma_table import LemmaTable

    fake_install("one")
    nlp._cached_dictionary("sv")
    [kept] = nlp.cached_tables()
    data = kept.read_bytes()
    kept.write_bytes(data[:60] + bytes([data[60] ^ 0xFF]) + data[61:])
    table = nlp._cached_dictionary("sv")
    assert isinstance(table, LemmaTable) and table.get("polisen") == "polis"
    assert kept.read_bytes() == data  # rebuilt


def test_an_entry_pointing_outside_the_table_is_refused(tmp_path):
    import struct
    import zlib

    from qcode.lemma_table import _HEADER, LemmaTable, LemmaTableError, build_table

    blob = bytearray(build_table(SMALL))
    slots_at = _HEADER.size
    used = next(i for i in range(slots_at, slots_at + 64, 4) if blob[i : i + 4] != bytes(4))
    blob[used : used + 4] = struct.pack("<I", 10_000)  # past the end, checksum made to match
    magic, entries, n_slots, length, _crc = _HEADER.unpack_from(blob)
    blob[: _HEADER.size] = _HEADER.pack(
        magic, entries, n_slots, length, zlib.crc32(bytes(blob[_HEADER.size :]))
    )
    (tmp_path / "t.table").write_bytes(bytes(blob))
    with pytest.raises(LemmaTableError, match="outside the table"):
        LemmaTable(tmp_path / "t.table")


@pytest.fixture
def fake_install(tmp_path, monkeypatch):
    """Point simplemma at a data folder of our own ("an install"), whose dictionary file has
    the given bytes and decodes to SMALL: the cache mechanics without the real 964k-entry
    dictionary. Returns a function that switches to the install named ``name``."""
    from simplemma.strategies.dictionaries import dictionary_factory

    monkeypatch.setenv("QCODE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(dictionary_factory, "_load_dictionary_from_disk", lambda lang: dict(SMALL))

    def switch(name: str, data: bytes = b"the same dictionary bytes", mtime: int = 0) -> Path:
        folder = tmp_path / "installs" / name
        folder.mkdir(parents=True, exist_ok=True)
        source = folder / "sv.plzma"
        source.write_bytes(data)
        os.utime(source, (mtime or 1_600_000_000 + len(name), mtime or 1_600_000_000 + len(name)))
        monkeypatch.setattr(dictionary_factory, "DATA_FOLDER", folder)
        return folder

    return switch


def test_two_installs_of_the_same_simplemma_share_one_table(fake_install, monkeypatch):
    from qcode import nlp

    fake_install("project-a", mtime=1_700_000_000)
    nlp._cached_dictionary("sv")  # the first install writes the table
    [table] = nlp.cached_tables()
    written = table.stat().st_mtime_ns

    def never(decoded):
        raise AssertionError("the table was rebuilt")

    monkeypatch.setattr("qcode.lemma_table.build_table", never)
    for name, mtime in [
        ("project-b", 1_750_000_000),
        ("project-a", 1_700_000_000),
        ("project-b", 1_750_000_000),
    ]:  # other path, other time, same bytes
        fake_install(name, mtime=mtime)
        assert nlp._cached_dictionary("sv").get("ärendet") == "ärende"
    assert nlp.cached_tables() == [table] and table.stat().st_mtime_ns == written


def test_another_simplemma_gets_its_own_table_and_deletes_none(fake_install):
    from qcode import nlp

    fake_install("old", data=b"dictionary of version one")
    nlp._cached_dictionary("sv")
    fake_install("new", data=b"dictionary of version two")
    nlp._cached_dictionary("sv")
    old_table, new_table = nlp.cached_tables()
    assert old_table.exists() and new_table.exists()  # the old install may still run


def test_cache_clean_removes_only_what_this_install_does_not_use(fake_install, tmp_path):
    from click.testing import CliRunner

    from qcode import nlp
    from qcode.cli import cli

    cache = tmp_path / "cache"
    fake_install("old", data=b"dictionary of version one")
    nlp._cached_dictionary("sv")
    fake_install("new", data=b"dictionary of version two")
    nlp._cached_dictionary("sv")
    (cache / "simplemma-1.9.0-sv-1-2.bin").write_bytes(b"a format of an older qcode")
    (cache / "notes.txt").write_text("mine", encoding="utf-8")
    current = nlp.table_path("sv")

    listed = CliRunner().invoke(cli, ["cache", "info"])
    assert listed.exit_code == 0, listed.output
    assert str(cache) in listed.output and "3 lemma tables" in listed.output
    assert f"{current.name} (used by this install)" in listed.output

    result = CliRunner().invoke(cli, ["cache", "clean"])
    assert result.exit_code == 0, result.output
    assert "removed 2 lemma tables" in result.output
    assert sorted(p.name for p in cache.iterdir()) == sorted(["notes.txt", current.name])


def original_lemma(decoded: dict[bytes, bytes], word: str) -> str | None:
    value = decoded.get(word.encode())
    return value.decode() if value is not None else None


def test_an_unwritable_cache_folder_changes_nothing(fake_install, tmp_path, monkeypatch):
    from qcode import nlp

    fake_install("one")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("QCODE_CACHE_DIR", str(blocker / "cache"))

    def never(decoded):
        raise AssertionError("a table was built that could not be kept")

    monkeypatch.setattr("qcode.lemma_table.build_table", never)  # no work wasted on each start
    assert nlp._cached_dictionary("sv").get("polisen") == "polis"


def test_a_failed_write_leaves_no_half_file_behind(fake_install, tmp_path, monkeypatch):
    from qcode import nlp

    fake_install("one")

    def disk_full(self, data):
        with open(self, "wb") as handle:
            handle.write(data[:10])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", disk_full)
    assert nlp._cached_dictionary("sv").get("polisen") == "polis"
    assert list((tmp_path / "cache").iterdir()) == []


def test_lemmas_through_the_cached_dictionary_equal_simplemmas_functions():
    import simplemma

    from qcode.nlp import _simplemma

    plain, greedy, is_known = _simplemma()
    words = [
        "handlingsplanerna",
        "samverkansplanen",
        "togs",
        "anmälningar",
        "polisen",
        "socialtjänsten",
        "människohandeln",
        "utbildningarna",
        "kvinnojouren",
        "ärendena",
    ]
    for word in words:
        assert plain(word) == simplemma.lemmatize(word, lang="sv")
        assert greedy(word) == simplemma.lemmatize(word, lang="sv", greedy=True)
        assert is_known(word) == simplemma.is_known(word, lang="sv")
