"""qcode.yaml: defaults, overrides from flags, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from qcode.config import ProjectConfig, load_config
from qcode.errors import ConfigError


def test_defaults_without_a_project_file(tmp_path):
    config = load_config(tmp_path)
    assert config.codebook is None
    assert config.database == Path("qcode.db")
    assert config.unit == "turn"
    assert "Intervjuare" in config.interviewer_labels


def test_paths_in_the_file_are_relative_to_its_folder(tmp_path):
    (tmp_path / "qcode.yaml").write_text(
        "codebook: cb/k.yaml\ndatabase: data/p.db\nunit: sentence\nprivate: [Anna Svensson]\n"
        "survey:\n  id_column: rid\n  text_columns: [q5, q7]\n",
        encoding="utf-8",
    )
    config = load_config(tmp_path)
    assert config.codebook == tmp_path / "cb" / "k.yaml"
    assert config.database == tmp_path / "data" / "p.db"
    assert config.unit == "sentence"
    assert config.private == ("Anna Svensson",)
    assert (config.id_column, config.text_columns) == ("rid", ("q5", "q7"))


def test_flags_override_the_file(tmp_path):
    (tmp_path / "qcode.yaml").write_text("codebook: a.yaml\nunit: turn\n", encoding="utf-8")
    config = load_config(tmp_path).with_overrides(
        codebook="b.yaml", unit="paragraph", database=None
    )
    assert config.codebook == Path("b.yaml")
    assert config.unit == "paragraph"


@pytest.mark.parametrize(
    "content, message",
    [
        ("codebok: a.yaml\n", "codebok: unknown setting; known: codebook,"),
        ("unit: word\n", "unit: 'word' is not one of"),
        ("codebook: [a\n", "not valid YAML"),
        ("- a\n- b\n", "must be a mapping"),
    ],
)
def test_bad_project_file_is_a_one_line_error_naming_the_file(tmp_path, content, message):
    (tmp_path / "qcode.yaml").write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert message in str(err.value)
    assert "qcode.yaml" in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "content, where",
    [
        (
            'unit: turn\ncode_interviewer: "false"\n',
            ":2: column 19: code_interviewer: 'false' is not true or false",
        ),
        ("companion: yes please\n", ":1: column 12: companion: 'yes please' is not true"),
        (
            "private:\n  - Anna Svensson\n  - 0701234567\n",
            ":3: column 5: private -> 1: 0701234567 is not text (put it in quotes)",
        ),
        (
            "survey:\n  id_column: rid\n  text_colums: [q5]\n",
            ":3: column 3: survey -> text_colums: unknown setting; known: id_column, text_columns",
        ),
        ("max_file_mb: -1\n", ":1: column 14: max_file_mb: -1 is not a size in MB"),
        ("max_file_mb: true\n", ":1: column 14: max_file_mb: true is not a size in MB"),
    ],
)
def test_wrong_types_are_refused_at_their_line_and_column(tmp_path, content, where):
    (tmp_path / "qcode.yaml").write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert f"qcode.yaml{where}" in str(err.value)


def test_quoted_false_is_never_true_and_one_text_column_stays_whole(tmp_path):
    (tmp_path / "qcode.yaml").write_text(
        "code_interviewer: false\nsurvey:\n  text_columns: q5\n", encoding="utf-8"
    )
    config = load_config(tmp_path)
    assert config.code_interviewer is False
    assert config.text_columns == ("q5",)


def test_every_problem_is_counted(tmp_path):
    (tmp_path / "qcode.yaml").write_text("unit: word\ncompanion: 1\nfoo: 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\(and 2 more problem\(s\)\)"):
        load_config(tmp_path)


def test_unknown_unit_flag_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="unknown coding unit"):
        ProjectConfig(root=tmp_path).with_overrides(unit="word")


def test_model_setting_is_written_and_removed_keeping_the_other_lines(tmp_path):
    from qcode.config import load_config, set_model_setting

    (tmp_path / "qcode.yaml").write_text(
        "# my project\ncodebook: cb.yaml   # ours\n", encoding="utf-8"
    )
    set_model_setting(tmp_path / "qcode.yaml", "default")
    assert load_config(tmp_path).model == "default"
    assert (
        (tmp_path / "qcode.yaml")
        .read_text(encoding="utf-8")
        .startswith("# my project\ncodebook: cb.yaml   # ours\nmodel: default")
    )
    set_model_setting(tmp_path / "qcode.yaml", None)
    assert load_config(tmp_path).model is None
    assert (tmp_path / "qcode.yaml").read_text(
        encoding="utf-8"
    ) == "# my project\ncodebook: cb.yaml   # ours\n"
