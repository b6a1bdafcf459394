"""The Python API (``import qcode``) on a tiny project, and the promise that it is documented.

Three transcripts and a four-code codebook are written into ``tmp_path``; every number below
was counted by hand from them:

* polis-01: interviewer turn (never coded); #1 handlingsplan -> beredskap; #2 samverkar ->
  samverkan.
* polis-02: #0 Sekretessen -> dubbla_roller; #1 rutin -> beredskap/rutin and tystnadsplikten
  -> dubbla_roller (one segment, two themes).
* taxi-01 (no title): #0 samverka -> samverkan; #1 about coffee, no code.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import click
import pandas as pd
import pytest

import qcode
from qcode.project import Project

REPO = Path(__file__).resolve().parents[1]
API_DOC = REPO / "docs" / "api.md"

CODEBOOK = """\
name: api-test
version: "1"
language: sv
codes:
  - id: beredskap
    label: Beredskap
    patterns:
      terms: [handlingsplan]
    codes:
      - id: rutin
        label: Rutiner
        patterns:
          terms: [rutin]
  - id: samverkan
    label: Samverkan
    patterns:
      terms: [samverka, samverkan]
  - id: dubbla_roller
    label: Dubbla roller
    patterns:
      terms: [sekretess, tystnadsplikt]
"""

TRANSCRIPTS = {
    "polis-01.md": """\
---
id: polis-01
title: Polis i Kronobergs län
group: polis
main_group: myndigheter
---
I: Hur ser beredskapen ut?

IP: Vi har ingen handlingsplan för det här, och det borde vi ta fram under året.

IP: Vi samverkar med socialtjänsten varje vecka och det fungerar bra för oss.
""",
    "polis-02.md": """\
---
id: polis-02
title: Kommissarie, Polismyndigheten i Kronobergs län
group: polis
main_group: myndigheter
---
IP: Sekretessen gör det svårt för oss att få veta vad vården ser hos sina patienter.

IP: Vi har en rutin för misstankar, men tystnadsplikten gör att vården sällan ringer oss.
""",
    "taxi-01.md": """\
---
id: taxi-01
group: taxi
main_group: naringsbranscher
---
IP: Vi skulle gärna samverka med polisen om vi bara visste vem vi skulle ringa.

IP: Kaffet här är gott.
""",
}

# group-level survey figures with a main-group and a total row, as the published table has
SURVEY = """\
level,group,main_group,respondents,strong_suspicion
group,polis,myndigheter,5,2
group,taxi,naringsbranscher,118,6
group,hotell,naringsbranscher,33,1
main_group,myndigheter,myndigheter,17,7
total,total,,558,12
"""

THEMES = ["beredskap", "samverkan", "dubbla_roller"]

# the documented columns (docs/api.md)
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
    "created",
    "stale",
]
QUOTE_COLUMNS = [
    "code",
    "label",
    "kind",
    "document",
    "segment",
    "start",
    "end",
    "score",
    "group",
    "attribution",
    "attributed_by",
    "words",
    "text",
]
CORRELATION_COLUMNS = ["theme", "indicator", "n", "rho", "p_value", "p_adjusted", "note"]


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("api")
    (root / "codebook.yaml").write_text(CODEBOOK, encoding="utf-8")
    (root / "survey.csv").write_text(SURVEY, encoding="utf-8")
    transcripts = root / "transcripts"
    transcripts.mkdir()
    for name, text in TRANSCRIPTS.items():
        (transcripts / name).write_text(text, encoding="utf-8")
    with qcode.Project(root, codebook=root / "codebook.yaml", db=root / "api.db") as project:
        result = project.tag([transcripts])
    assert (result.documents_tagged, result.segments, result.failures) == (3, 7, [])
    return root


@pytest.fixture
def project(project_dir: Path):
    with qcode.Project(
        project_dir, codebook=project_dir / "codebook.yaml", db=project_dir / "api.db"
    ) as opened:
        yield opened


# -- the package ------------------------------------------------------------------------------
def test_the_package_exports_the_api() -> None:
    assert qcode.Project is Project
    assert callable(qcode.load_codebook)
    assert {"Project", "load_codebook"} <= set(qcode.__all__)
    codebook = qcode.load_codebook(REPO / "codebooks" / "kronoberg.yaml")
    assert codebook.paths[0] == "erfarenhet"
    assert {"beredskap", "dubbla_roller"} <= set(codebook.paths)
    with pytest.raises(AttributeError, match="no attribute 'Store'"):
        qcode.Store  # noqa: B018 - only the public names are exported


# -- tag and the readers ----------------------------------------------------------------------
def test_tag_result_and_summary(project: Project) -> None:
    summary = project.summary()
    assert list(summary.columns) == ["code", "segments", "documents"]
    assert summary.set_index("code").to_dict("index") == {
        "beredskap": {"segments": 2, "documents": 2},
        "samverkan": {"segments": 2, "documents": 2},
        "dubbla_roller": {"segments": 2, "documents": 1},
    }


def test_tagging_again_changes_nothing(project: Project, project_dir: Path) -> None:
    before = project.codings()[["document", "segment", "code"]]
    result = project.tag([project_dir / "transcripts"])
    assert (result.documents_tagged, result.documents_unchanged) == (0, 3)
    pd.testing.assert_frame_equal(project.codings()[["document", "segment", "code"]], before)


def test_codings_have_the_documented_columns_and_exact_spans(project: Project) -> None:
    codings = project.codings()
    assert list(codings.columns) == CODING_COLUMNS
    assert sorted(zip(codings["document"], codings["segment"], codings["code"])) == [
        ("polis-01", 1, "beredskap"),
        ("polis-01", 2, "samverkan"),
        ("polis-02", 0, "dubbla_roller"),
        ("polis-02", 1, "beredskap/rutin"),
        ("polis-02", 1, "dubbla_roller"),
        ("taxi-01", 0, "samverkan"),
    ]
    assert set(codings["source"]) == {"rule"}
    segments = project.segments()
    assert list(segments.columns) == [
        "document",
        "segment",
        "start",
        "end",
        "speaker",
        "is_interviewer",
        "metadata",
        "text",
    ]
    assert segments.loc[segments["is_interviewer"], "text"].tolist() == ["Hur ser beredskapen ut?"]
    for row in codings.itertuples():
        text = project.store.document_text(row.document)
        assert text[row.start : row.end] == row.text
    assert project.codings(source="human").empty


def test_documents_frame(project: Project) -> None:
    documents = project.documents()
    assert list(documents.columns[:4]) == ["document", "kind", "path", "n_segments"]
    assert {"title", "organisation", "group", "main_group", "date", "interviewer"} <= set(
        documents.columns
    )
    assert dict(zip(documents["document"], documents["n_segments"])) == {
        "polis-01": 3,
        "polis-02": 2,
        "taxi-01": 2,
    }
    assert documents.set_index("document").loc["polis-01", "title"] == "Polis i Kronobergs län"


def test_ingest_returns_the_documents_frame(project_dir: Path, tmp_path: Path) -> None:
    with qcode.Project(
        project_dir, codebook=project_dir / "codebook.yaml", db=tmp_path / "ingest.db"
    ) as fresh:
        documents = fresh.ingest([project_dir / "transcripts"])
        assert sorted(documents["document"]) == ["polis-01", "polis-02", "taxi-01"]
        assert fresh.codings().empty  # read and segmented, not coded


# -- reports ----------------------------------------------------------------------------------
def test_frequencies_by_group(project: Project) -> None:
    freq = project.frequencies(by=["group"], level=1)
    assert list(freq.index) == THEMES + ["total"]
    assert freq.columns.names == ["group", "measure"]
    assert list(dict.fromkeys(c[0] for c in freq.columns)) == ["polis", "taxi", "total"]
    assert list(dict.fromkeys(c[1] for c in freq.columns)) == ["documents", "share", "segments"]
    assert freq[("polis", "documents")].to_dict() == {
        "beredskap": 2,
        "samverkan": 1,
        "dubbla_roller": 1,
        "total": 2,
    }
    # polis-02 has two dubbla_roller segments: one respondent, two segments
    assert freq[("polis", "segments")].to_dict() == {
        "beredskap": 2,
        "samverkan": 1,
        "dubbla_roller": 2,
        "total": 4,
    }
    assert freq.loc["samverkan", ("polis", "share")] == 0.5
    assert freq.loc["samverkan", ("total", "share")] == round(2 / 3, 4)
    assert freq.attrs["group_sizes"] == {("polis",): 2, ("taxi",): 1, ("total",): 3}
    every_code = project.frequencies(by="group")
    assert every_code.loc["beredskap/rutin", ("polis", "documents")] == 1


def test_cooccurrence_matrix(project: Project) -> None:
    matrix = project.cooccurrence()
    assert list(matrix.index) == list(matrix.columns) == THEMES
    assert [int(matrix.loc[t, t]) for t in THEMES] == [2, 2, 2]
    assert matrix.loc["beredskap", "dubbla_roller"] == matrix.loc["dubbla_roller", "beredskap"] == 1
    assert matrix.loc["beredskap", "samverkan"] == 0
    by_document = project.cooccurrence(unit="document", measure="jaccard")
    # documents: beredskap {polis-01, polis-02}, dubbla_roller {polis-02}
    assert by_document.loc["beredskap", "dubbla_roller"] == 0.5


def test_quotes_are_attributed_by_role(project: Project) -> None:
    quotes = project.quotes(code="samverkan", max_quotes=3)
    assert list(quotes.columns) == QUOTE_COLUMNS
    assert sorted(zip(quotes["document"], quotes["attribution"], quotes["attributed_by"])) == [
        ("polis-01", "Polis i Kronobergs län", "title"),
        ("taxi-01", "taxi", "group"),
    ]
    assert set(quotes["code"]) == {"samverkan"}
    for row in quotes.itertuples():
        assert row.text == project.store.document_text(row.document)[row.start : row.end]
    every_theme = project.quotes(max_quotes=1)
    assert list(every_theme["code"]) == THEMES


def test_crosstab_uses_the_group_rows_of_the_survey(project: Project, project_dir: Path) -> None:
    result = project.crosstab(
        survey=project_dir / "survey.csv", indicators=["respondents", "strong_suspicion"]
    )
    table = result.table
    assert list(table.columns[:5]) == [
        "group",
        "documents",
        "theme:beredskap",
        "theme:samverkan",
        "theme:dubbla_roller",
    ]
    assert list(table["group"]) == ["polis", "taxi", "hotell"]  # no main-group or total row
    polis = table.set_index("group").loc["polis"]
    assert (polis["documents"], polis["theme:samverkan"], polis["respondents"]) == (2, 0.5, 5)
    assert pd.isna(table.set_index("group").loc["hotell", "documents"])
    assert any("hotell" in w for w in result.warnings)
    assert list(result.correlations.columns) == CORRELATION_COLUMNS
    assert set(result.correlations["indicator"]) == {"respondents", "strong_suspicion"}
    assert set(result.correlations["note"]) == {"too few groups"}
    same = project.crosstab(
        survey=pd.read_csv(project_dir / "survey.csv"),
        indicators=["respondents", "strong_suspicion"],
    )
    pd.testing.assert_frame_equal(same.table, table)


# -- documented and discoverable ----------------------------------------------------------------
def public_members() -> dict[str, object]:
    """Project's public methods and properties, as the class defines them."""
    members = {}
    for name, member in vars(Project).items():
        if name.startswith("_"):
            continue
        if isinstance(member, property):
            members[name] = member.fget
        elif isinstance(member, (staticmethod, classmethod)):
            members[name] = member.__func__
        elif inspect.isfunction(member):
            members[name] = member
    return members


#: plumbing that needs no example of its own (no project data in, nothing a reader computes)
NO_EXAMPLE_NEEDED = {"store", "codebook", "open_existing_store", "close", "tag_key"}


def test_every_public_project_method_has_a_docstring_with_an_example() -> None:
    members = public_members()
    assert {
        "tag",
        "ingest",
        "codings",
        "frequencies",
        "cooccurrence",
        "quotes",
        "crosstab",
        "agreement",
        "export_qdpx",
    } <= set(members)
    missing = [name for name, f in members.items() if not (f.__doc__ or "").strip()]
    assert not missing, f"Project members without a docstring: {missing}"
    without_example = [
        name
        for name, f in members.items()
        if name not in NO_EXAMPLE_NEEDED and ">>>" not in (f.__doc__ or "")
    ]
    assert not without_example, f"Project methods whose docstring has no example: {without_example}"


def test_every_public_project_method_is_on_the_api_page() -> None:
    page = API_DOC.read_text(encoding="utf-8")
    for name in public_members():
        if isinstance(vars(Project)[name], property):
            assert f"project.{name}`" in page, f"docs/api.md does not mention project.{name}"
        else:
            assert re.search(rf"[`.]{name}\(", page), f"docs/api.md has no entry for Project.{name}"


def test_the_api_page_names_only_methods_that_exist() -> None:
    page = API_DOC.read_text(encoding="utf-8")
    named = set(re.findall(r"\bproject\.(\w+)", page)) | set(re.findall(r"\bProject\.(\w+)", page))
    assert named, "the API page names no methods"
    assert not named - set(public_members()), (
        f"docs/api.md names what Project lacks: {named - set(public_members())}"
    )
    import qcode.reports

    section = page.split("## `qcode.reports`", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`(\w+)\(", section))
    reports_functions = {n for n in qcode.reports.__all__ if n[0].islower()}
    assert listed <= reports_functions | {"plot_frequencies", "render_quotes"}
    assert not reports_functions - listed, (
        f"qcode.reports functions not on the API page: {reports_functions - listed}"
    )


def cli_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[str]:
    names = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            names += cli_commands(command, prefix + (name,))
        else:
            names.append(" ".join(prefix + (name,)))
    return names


def test_every_cli_command_appears_in_the_readme_or_the_api_page() -> None:
    from qcode.cli import cli

    commands = cli_commands(cli)
    assert len(commands) > 15 and "report frequencies" in commands
    text = (REPO / "README.md").read_text(encoding="utf-8") + API_DOC.read_text(encoding="utf-8")
    missing = [c for c in commands if not re.search(rf"qcode {re.escape(c)}(?![\w-])", text)]
    assert not missing, f"commands documented neither in README.md nor docs/api.md: {missing}"
