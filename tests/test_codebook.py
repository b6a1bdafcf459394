"""Codebook loading and validation: every problem with its line, unsafe YAML refused,
round-trips, and the value objects' walk order and lookups."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from qcode.codebook import (
    Codebook,
    Term,
    codebook_from_yaml_text,
    codebook_to_yaml_text,
    format_codebook_tree,
    load_codebook,
    validate_codebook,
    validate_codebook_text,
)
from qcode.errors import CodebookError, InvalidCodebook

DATA = Path(__file__).parent / "data" / "codebook"
SMALL = DATA / "small.yaml"


def problems_of(text: str) -> list:
    return validate_codebook_text(textwrap.dedent(text).lstrip("\n"), "cb.yaml")


def one_problem(text: str):
    problems = problems_of(text)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


# ---------------------------------------------------------------------------------- loading


def test_small_codebook_loads_into_value_objects() -> None:
    cb = load_codebook(SMALL)
    assert isinstance(cb, Codebook)
    assert (cb.name, cb.version, cb.language) == ("Liten testkodbok", "2", "sv")
    assert cb.path == str(SMALL)
    assert len(cb.sha256) == 64
    assert cb.paths == ["beredskap", "beredskap/handlingsplan", "beredskap/saknas", "samverkan"]
    plan = cb.get("beredskap/handlingsplan")
    assert plan.level == 2 and plan.parent_path == "beredskap"
    assert plan.patterns.terms == (Term("handlingsplan"), Term("plan", compound=False))
    assert plan.patterns.phrases == (("skriftlig", "rutin"),)
    assert plan.patterns.not_terms == (Term("brandövning"),)
    assert plan.patterns.not_phrases == (("plan", "för", "lunch"),)
    top = cb.get("beredskap")
    assert top.patterns.terms == (Term("beredskap"), Term("rutin", prefix=True))
    assert top.color == "#1f77b4"
    assert top.description == "Planer, rutiner och vem som tar hand om ett ärende."
    assert top.examples == ("Vi har ingen handlingsplan.",)
    saknas = cb.get("beredskap/saknas")
    assert saknas.patterns.min_matches == 2
    assert saknas.patterns.regex == (r"\binte\s+förberedd",)
    with pytest.raises(KeyError):
        cb.get("beredskap/nope")


def test_walk_is_depth_first_in_file_order() -> None:
    cb = load_codebook(SMALL)
    assert [c.id for c in cb.walk()] == ["beredskap", "handlingsplan", "saknas", "samverkan"]
    assert [c.path for c in cb.get("beredskap").walk()] == [
        "beredskap",
        "beredskap/handlingsplan",
        "beredskap/saknas",
    ]


def test_text_is_nfc_and_terms_lower_case() -> None:
    decomposed = "Sa\u0308kerhet"  # "Säkerhet" with a combining diaeresis
    cb = codebook_from_yaml_text(
        textwrap.dedent(f"""
        name: x
        codes:
          - id: a
            label: {decomposed}
            patterns:
              terms: [{decomposed.upper()}]
              phrases: [TAS PÅ Allvar]
        """)
    )
    code = cb.get("a")
    assert code.label == "Säkerhet"
    assert code.patterns.terms == (Term("säkerhet"),)
    assert code.patterns.phrases == (("tas", "på", "allvar"),)


def test_sha256_ignores_line_endings_but_not_content() -> None:
    text = SMALL.read_text(encoding="utf-8")
    a = codebook_from_yaml_text(text)
    b = codebook_from_yaml_text(text.replace("\n", "\r\n"))
    c = codebook_from_yaml_text(text.replace("Brandövningar", "Brandlarm"))
    assert a.sha256 == b.sha256 != c.sha256


def test_round_trip_yaml_codebook_yaml_codebook() -> None:
    first = load_codebook(SMALL)
    text = codebook_to_yaml_text(first)
    second = codebook_from_yaml_text(text)
    assert second.codes == first.codes
    assert (second.name, second.version, second.language) == (
        first.name,
        first.version,
        first.language,
    )
    assert codebook_to_yaml_text(second) == text
    assert "å" in text or "ä" in text  # written as UTF-8, not \u escapes


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(CodebookError, match="nope.yaml: codebook file not found"):
        load_codebook(tmp_path / "nope.yaml")


def test_non_utf8_file_is_refused_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(
        "name: x\ncodes:\n  - id: a\n    label: Beredskap för nödläge\n".encode("latin-1")
    )
    with pytest.raises(CodebookError) as info:
        load_codebook(path)
    assert str(info.value).startswith(f"{path}:4: not UTF-8")


def test_invalid_codebook_lists_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\ncodes:\n  - id: Bad-Id\n  - label: no id\n", encoding="utf-8")
    with pytest.raises(InvalidCodebook) as info:
        load_codebook(path)
    err = info.value
    assert len(err.problems) == 5  # bad id, no label, no patterns; no id, no patterns
    assert str(err).startswith(f"{path}: 5 problem(s) in codebook; first: line 3")


# ------------------------------------------------------------------------- unsafe YAML


def test_python_object_tag_is_refused_naming_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text(
        "name: x\ncodes:\n  - id: a\n    label: !!python/object/apply:os.system ['echo hi']\n",
        encoding="utf-8",
    )
    with pytest.raises(CodebookError) as info:
        load_codebook(path)
    message = str(info.value)
    assert message.startswith(
        f"{path}:4: YAML tag 'tag:yaml.org,2002:python/object/apply:os.system'"
    )
    assert "\n" not in message
    assert "not allowed" in message


def test_custom_tag_is_refused() -> None:
    with pytest.raises(CodebookError, match=r"cb.yaml:1: YAML tag '!env'"):
        codebook_from_yaml_text("name: !env HOME\ncodes: []\n", "cb.yaml")


def test_deep_nesting_is_refused() -> None:
    text = "name: x\ncodes: " + "[" * 200 + "]" * 200 + "\n"
    with pytest.raises(CodebookError) as info:
        codebook_from_yaml_text(text, "deep.yaml")
    assert str(info.value) == "deep.yaml:2: YAML nested deeper than 50 levels; refused"


def test_billion_laughs_is_refused_quickly() -> None:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 9)}]")
    text = "\n".join(lines) + "\nname: x\ncodes: *a9\n"
    with pytest.raises(CodebookError, match=r"alias bomb\?\); refused"):
        codebook_from_yaml_text(text, "lol.yaml")


def test_yaml_syntax_error_has_line() -> None:
    with pytest.raises(CodebookError, match=r"^cb.yaml:4: invalid YAML: expected .,. or .\]."):
        codebook_from_yaml_text("name: x\ncodes:\n  - id: [a\n  - b: c\n", "cb.yaml")


def test_validate_reports_unsafe_yaml_as_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text("name: !!python/name:os.system\ncodes: []\n", encoding="utf-8")
    problems = validate_codebook(path)
    assert len(problems) == 1
    assert problems[0].line == 1 and "not allowed" in problems[0].message


# ------------------------------------------------------------------- schema problems


def test_unknown_key_at_top_level() -> None:
    p = one_problem("""
        name: x
        colour: red
        codes:
          - {id: a, label: A, patterns: {terms: [a]}}
        """)
    assert (p.line, p.column, p.where) == (2, 1, "colour")
    assert "unknown key 'colour'" in p.message


def test_unknown_key_in_code_suggests_the_right_one() -> None:
    p = one_problem("""
        name: x
        codes:
          - id: a
            label: A
            lable: A
            patterns: {terms: [a]}
        """)
    assert (p.line, p.where) == (5, "codes -> 0 -> lable")
    assert "did you mean 'label'?" in p.message


def test_unknown_key_inside_patterns_and_terms() -> None:
    problems = problems_of("""
        name: x
        codes:
          - id: a
            label: A
            patterns:
              terms: [a, {term: b, compund: false}]
              phrase: [x y]
        """)
    found = {(p.line, p.where) for p in problems}
    assert (6, "codes -> 0 -> patterns -> terms[1] -> compund") in found
    assert (7, "codes -> 0 -> patterns -> phrase") in found


def test_missing_id_and_label() -> None:
    problems = problems_of("""
        name: x
        codes:
          - patterns: {terms: [a]}
        """)
    assert [(p.line, p.where) for p in problems] == [
        (3, "codes -> 0 -> id"),
        (3, "codes -> 0 -> label"),
    ]
    assert "missing" in problems[0].message


def test_bad_id_syntax() -> None:
    p = one_problem("""
        name: x
        codes:
          - id: Tas på allvar
            label: A
            patterns: {terms: [a]}
        """)
    assert (p.line, p.column, p.where) == (3, 9, "codes -> 0 -> id")
    assert "bad id 'Tas på allvar'" in p.message


def test_duplicate_sibling_ids_nested_location() -> None:
    p = one_problem("""
        name: x
        codes:
          - id: a
            label: A
            codes:
              - {id: b, label: B, patterns: {terms: [b]}}
              - {id: b, label: B2, patterns: {terms: [c]}}
        """)
    assert (p.line, p.where) == (7, "codes -> 0 -> codes -> 1 -> id")
    assert "duplicate id 'b'" in p.message


def test_same_id_in_different_branches_is_fine() -> None:
    assert (
        problems_of("""
        name: x
        codes:
          - id: a
            label: A
            codes: [{id: polis, label: P, patterns: {terms: [polis]}}]
          - id: b
            label: B
            codes: [{id: polis, label: P, patterns: {terms: [polis]}}]
        """)
        == []
    )


def test_child_with_parents_id() -> None:
    p = one_problem("""
        name: x
        codes:
          - id: a
            label: A
            codes:
              - {id: a, label: A2, patterns: {terms: [b]}}
        """)
    assert (p.line, p.where) == (6, "codes -> 0 -> codes -> 0 -> id")
    assert "same as its parent" in p.message


def test_bad_colour() -> None:
    p = one_problem("""
        name: x
        codes:
          - id: a
            label: A
            color: blue
            patterns: {terms: [a]}
        """)
    assert (p.line, p.where) == (5, "codes -> 0 -> color")
    assert "#RRGGBB" in p.message


def test_regex_that_does_not_compile() -> None:
    p = one_problem("""
        name: x
        codes:
          - id: a
            label: A
            patterns:
              regex:
                - 'ok\\b'
                - '(unclosed'
        """)
    assert (p.line, p.where) == (8, "codes -> 0 -> patterns -> regex[1]")
    assert "does not compile" in p.message


@pytest.mark.parametrize(
    "regex", [r"(a+)+", r"(\w*)*", r"(a|aa)+", r"(?:\d+\s?)+$", r"(soc|socialen)*"]
)
def test_catastrophic_regex_is_rejected(regex: str) -> None:
    p = one_problem(f"""
        name: x
        codes:
          - id: a
            label: A
            patterns:
              regex: ['{regex}']
        """)
    assert p.line == 6 and p.where == "codes -> 0 -> patterns -> regex[0]"
    assert "catastrophically" in p.message


@pytest.mark.parametrize(
    "regex",
    [r"\bpolis\w*", r"(polis|politi)+", r"(?:\w+\s){0,3}allvar", r"(?>a+)+", r"\b(soc|bup)\b"],
)
def test_ordinary_regex_is_accepted(regex: str) -> None:
    assert (
        problems_of(f"""
        name: x
        codes:
          - id: a
            label: A
            patterns:
              regex: ['{regex}']
        """)
        == []
    )


def test_leaf_without_patterns_but_parent_may_have_none() -> None:
    p = one_problem("""
        name: x
        codes:
          - id: parent
            label: P
            codes:
              - id: leaf
                label: L
                patterns: {not: [brand]}
        """)
    assert (p.line, p.where) == (8, "codes -> 0 -> codes -> 0 -> patterns")
    assert "needs patterns" in p.message


def test_leaf_with_no_patterns_key_at_all() -> None:
    p = one_problem("""
        name: x
        codes:
          - id: leaf
            label: L
        """)
    assert p.where == "codes -> 0 -> patterns" and p.line == 3


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "two", "true"])
def test_min_matches_must_be_positive_int(value: str) -> None:
    p = one_problem(f"""
        name: x
        codes:
          - id: a
            label: A
            patterns:
              terms: [a]
              min_matches: {value}
        """)
    assert (p.line, p.where) == (7, "codes -> 0 -> patterns -> min_matches")


def test_wrong_types() -> None:
    problems = problems_of("""
        name: x
        codes:
          - id: a
            label: A
            examples: Ett exempel
            patterns:
              terms: polis
              phrases: [[ta, på, allvar]]
        """)
    by_where = {p.where: p for p in problems}
    assert by_where["codes -> 0 -> examples"].line == 5
    assert "must be a list" in by_where["codes -> 0 -> patterns -> terms"].message
    assert by_where["codes -> 0 -> patterns -> phrases[0]"].line == 8
    assert len(problems) == 3


def test_term_with_space_and_one_word_phrase() -> None:
    problems = problems_of("""
        name: x
        codes:
          - id: a
            label: A
            patterns:
              terms: [a, tas på allvar]
              phrases: [allvar]
        """)
    assert [(p.where, p.line) for p in problems] == [
        ("codes -> 0 -> patterns -> terms[1]", 6),
        ("codes -> 0 -> patterns -> phrases[0]", 7),
    ]


def test_empty_not_entries_each_reported() -> None:
    problems = problems_of("""
        name: x
        codes:
          - id: a
            label: A
            patterns:
              terms: [a]
              not: [brand, "", ~]
        """)
    assert [(p.where, p.line) for p in problems] == [
        ("codes -> 0 -> patterns -> not[1]", 7),
        ("codes -> 0 -> patterns -> not[2]", 7),
    ]
    assert all("empty" in p.message for p in problems)


def test_boolean_label_must_be_quoted() -> None:
    p = one_problem("""
        name: x
        codes:
          - id: a
            label: yes
            patterns: {terms: [a]}
        """)
    assert p.where == "codes -> 0 -> label" and "quotes" in p.message


def test_missing_name_and_codes() -> None:
    problems = problems_of("version: 1\n")
    assert [p.where for p in problems] == ["name", "codes"]


def test_problem_str_has_line_column_and_location() -> None:
    p = one_problem("""
        name: x
        codes:
          - id: a
            label: A
            color: '#12345'
            patterns: {terms: [a]}
        """)
    assert str(p).startswith("line 5, column 12: codes -> 0 -> color: bad colour '#12345'")


# ---------------------------------------------------------------------------- show


def test_format_codebook_tree() -> None:
    out = format_codebook_tree(load_codebook(SMALL))
    lines = out.splitlines()
    assert lines[0] == "Liten testkodbok (version 2, language sv): 2 themes, 4 codes"
    assert lines[1] == "beredskap  Beredskap  [terms 2, phrases 0, regex 0, not 0]"
    assert lines[2] == "    Planer, rutiner och vem som tar hand om ett ärende."
    assert lines[3] == (
        "  beredskap/handlingsplan  Handlingsplan  [terms 2, phrases 1, regex 0, not 2]"
    )
    assert lines[4] == (
        "  beredskap/saknas  Beredskap saknas  [terms 0, phrases 2, regex 1, not 0, min_matches 2]"
    )


# ------------------------------------------------------------------ the default codebook

KRONOBERG = Path(__file__).resolve().parents[1] / "codebooks" / "kronoberg.yaml"


def test_kronoberg_validates_with_zero_problems() -> None:
    assert validate_codebook(KRONOBERG) == []


def test_kronoberg_themes_and_subcodes() -> None:
    cb = load_codebook(KRONOBERG)
    assert [c.id for c in cb.codes] == [
        "erfarenhet",
        "beredskap",
        "samverkan",
        "kunskap",
        "dubbla_roller",
        "rapportering",
    ]
    for path in [
        "beredskap/handlingsplan",
        "beredskap/samverkansplan",
        "beredskap/utbildning",
        "beredskap/diskuterat",
        "beredskap/saknas",
        "samverkan/befintlig",
        "samverkan/onskad",
        "samverkan/partner/polis",
        "samverkan/partner/socialtjanst",
        "samverkan/partner/migrationsverket",
        "samverkan/partner/sjukvard",
        "kunskap/niva",
        "kunskap/kannetecken",
        "kunskap/utbildningsbehov",
        "rapportering/anmalan",
        "rapportering/bevis",
        "rapportering/tas_pa_allvar",
        "erfarenhet/misstanke",
        "erfarenhet/omfattning",
        "dubbla_roller/sekretess_tystnadsplikt",
        "dubbla_roller/fortroende",
    ]:
        assert cb.get(path).label


def test_kronoberg_every_code_is_documented_like_a_real_codebook() -> None:
    for code in load_codebook(KRONOBERG).walk():
        assert code.label and code.description and code.include and code.exclude, code.path
        assert 1 <= len(code.examples) <= 4, code.path
        assert code.color, code.path
        if not code.children:
            assert not code.patterns.is_empty, code.path


def test_kronoberg_round_trips() -> None:
    cb = load_codebook(KRONOBERG)
    assert codebook_from_yaml_text(codebook_to_yaml_text(cb)).codes == cb.codes
