"""The project file ``qcode.yaml``: where the codebook, transcripts and database are.

Every command reads ``qcode.yaml`` from the current folder when it is there; command-line
flags override it. Paths in the file are relative to the folder holding it.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError

CONFIG_FILE = "qcode.yaml"
DEFAULT_DATABASE = "qcode.db"
DEFAULT_INTERVIEWER_LABELS = ("I", "Int", "Intervjuare", "Interviewer", "F")
UNITS = ("turn", "paragraph", "sentence")
#: input files larger than this are refused before reading (``max_file_mb``, ``--max-file-mb``):
#: a long interview is well under 1 MB, and one 20 MB line of text already takes ~2 GB to tag.
DEFAULT_MAX_FILE_MB = 20.0

_KNOWN_KEYS = {
    "codebook", "transcripts", "database", "interviewer_labels", "unit", "code_interviewer",
    "private", "survey", "output", "companion", "max_file_mb",
}
_SURVEY_KEYS = {"id_column", "text_columns"}


@dataclass(frozen=True)
class ProjectConfig:
    """Settings of one project; ``root`` is the folder paths are relative to."""

    root: Path
    codebook: Path | None = None
    transcripts: Path | None = None
    database: Path = Path(DEFAULT_DATABASE)
    interviewer_labels: tuple[str, ...] = DEFAULT_INTERVIEWER_LABELS
    unit: str = "turn"
    code_interviewer: bool = False
    private: tuple[str, ...] = ()
    id_column: str | None = None
    text_columns: tuple[str, ...] | None = None
    output: Path = Path("out")
    max_file_mb: float = DEFAULT_MAX_FILE_MB
    companion: bool = True
    source_file: Path | None = field(default=None, compare=False)

    def with_overrides(self, **overrides: Any) -> "ProjectConfig":
        """A copy with every override that is not None applied (command-line flags)."""
        given = {k: v for k, v in overrides.items() if v is not None}
        for key in ("codebook", "transcripts", "database", "output"):
            if key in given:
                given[key] = Path(given[key])
        if "unit" in given and given["unit"] not in UNITS:
            raise ConfigError(f"unknown coding unit {given['unit']!r}; use one of {', '.join(UNITS)}")
        return replace(self, **given)


def load_config(folder: str | Path = ".") -> ProjectConfig:
    """Read ``qcode.yaml`` in ``folder`` if present, else return the defaults rooted there."""
    root = Path(folder)
    path = root / CONFIG_FILE
    if not path.exists():
        return ProjectConfig(root=root)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.MarkedYAMLError as err:
        line = err.problem_mark.line + 1 if err.problem_mark else None
        raise ConfigError(f"not valid YAML: {err.problem}", path=str(path), line=line) from None
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read project file: {err}", path=str(path)) from None
    except RecursionError:  # thousands of nested [ or mappings: PyYAML composes recursively
        raise ConfigError("YAML nested too deeply; settings are at most a few levels deep",
                          path=str(path)) from None
    if not isinstance(data, dict):
        raise ConfigError("the project file must be a mapping of settings", path=str(path))
    return _config_from_mapping(root, data, path)


def _config_from_mapping(root: Path, data: dict[str, Any], path: Path) -> ProjectConfig:
    unknown = sorted(set(map(str, data)) - _KNOWN_KEYS)
    if unknown:
        raise ConfigError(
            f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(_KNOWN_KEYS))}",
            path=str(path),
        )
    unit = data.get("unit", "turn")
    if unit not in UNITS:
        raise ConfigError(f"unit: {unit!r} is not one of {', '.join(UNITS)}", path=str(path))
    survey = data.get("survey") or {}
    if not isinstance(survey, dict) or set(survey) - _SURVEY_KEYS:
        raise ConfigError("survey: expects id_column and text_columns", path=str(path))
    labels = data.get("interviewer_labels", DEFAULT_INTERVIEWER_LABELS)
    private = data.get("private") or []
    if not isinstance(labels, list | tuple) or not isinstance(private, list | tuple):
        raise ConfigError("interviewer_labels and private must be lists", path=str(path))
    text_columns = survey.get("text_columns")
    max_file_mb = data.get("max_file_mb", DEFAULT_MAX_FILE_MB)
    if isinstance(max_file_mb, bool) or not isinstance(max_file_mb, int | float) or max_file_mb < 0:
        raise ConfigError(f"max_file_mb: {max_file_mb!r} is not a size in MB (0: no limit)",
                          path=str(path))

    def rel(value: Any) -> Path | None:
        return None if value in (None, "") else root / str(value)

    return ProjectConfig(
        root=root,
        codebook=rel(data.get("codebook")),
        transcripts=rel(data.get("transcripts")),
        database=rel(data.get("database")) or root / DEFAULT_DATABASE,
        interviewer_labels=tuple(str(x) for x in labels),
        unit=unit,
        code_interviewer=bool(data.get("code_interviewer", False)),
        private=tuple(str(x) for x in private),
        id_column=survey.get("id_column"),
        text_columns=tuple(text_columns) if text_columns else None,
        output=rel(data.get("output")) or root / "out",
        companion=bool(data.get("companion", True)),
        max_file_mb=float(max_file_mb),
        source_file=path,
    )


def config_template(codebook: str = "codebooks/kronoberg.yaml") -> str:
    """The ``qcode.yaml`` that ``qcode init`` writes, with a comment per setting."""
    labels = ", ".join(DEFAULT_INTERVIEWER_LABELS)
    return f"""# qcode project file: paths are relative to this folder.
codebook: {codebook}      # the YAML codebook of themes
transcripts: transcripts            # folder `qcode tag` reads when given no path
database: qcode.db                  # the project's SQLite database
unit: turn                          # coding unit: turn, paragraph or sentence
interviewer_labels: [{labels}]   # speaker labels of the interviewer
code_interviewer: false             # also code what the interviewer says
output: out                         # where reports are written
companion: true                     # use the model shipped beside the codebook, if any
max_file_mb: 20                     # refuse larger input files (0: no limit)
# Names and places that must never appear in an output (respondents, interviewers,
# colleagues, small places). They are redacted in quotes and exports.
private: []
# survey:                           # survey free-text tables (.csv/.xlsx)
#   id_column: respondent_id
#   text_columns: [q5, q7]
"""
