"""The project file ``qcode.yaml``: where the codebook, transcripts and database are.

Every command reads ``qcode.yaml`` from the current folder when it is there; command-line
flags override it. Paths in the file are relative to the folder holding it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationError,
)

from .errors import ConfigError
from .models import UNITS

CONFIG_FILE = "qcode.yaml"
DEFAULT_DATABASE = "qcode.db"
DEFAULT_INTERVIEWER_LABELS = ("I", "Int", "Intervjuare", "Interviewer", "F")
#: input files larger than this are refused before reading (``max_file_mb``, ``--max-file-mb``):
#: a long interview is well under 1 MB, and one 20 MB line of text already takes ~2 GB to tag.
DEFAULT_MAX_FILE_MB = 20.0
#: output languages of the reports (their catalogue is qcode.reports.i18n).
LANGS = ("sv", "en")
DEFAULT_LANG = "sv"
#: CSV for people: RFC 4180 (comma, UTF-8) or Swedish Excel (BOM, semicolon, decimal comma).
CSV_DIALECTS = ("rfc4180", "excel-sv")


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
    #: the project's trained model every ``qcode tag`` applies (``qcode train --use``), if any
    model: str | None = None
    #: output language of reports (``sv``/``en``); None: the codebook's ``language``.
    lang: str | None = None
    #: display labels of metadata values, {key: {value: label}} ("*" = any key).
    labels: Any = field(default_factory=dict)
    #: CSV files for people: ``rfc4180`` (comma, UTF-8) or ``excel-sv`` (BOM, ``;``, ``,``).
    csv_dialect: str = "rfc4180"
    #: survey questions the crosstab reports (``survey: questions:``), as read from YAML.
    survey_questions: Any = None
    source_file: Path | None = field(default=None, compare=False)

    def with_overrides(self, **overrides: Any) -> ProjectConfig:
        """A copy with every override that is not None applied (command-line flags)."""
        given = {k: v for k, v in overrides.items() if v is not None}
        for key in ("codebook", "transcripts", "database", "output"):
            if key in given:
                given[key] = Path(given[key])
        if "unit" in given and given["unit"] not in UNITS:
            raise ConfigError(
                f"unknown coding unit {given['unit']!r}; use one of {', '.join(UNITS)}"
            )
        return replace(self, **given)


def load_config(folder: str | Path = ".") -> ProjectConfig:
    """Read ``qcode.yaml`` in ``folder`` if present, else return the defaults rooted there.

    The file is checked against :class:`ProjectFile` (strict types, unknown keys refused);
    the first problem is reported with its line and column, and how many there were.
    """
    root = Path(folder)
    path = root / CONFIG_FILE
    if not path.exists():
        return ProjectConfig(root=root)
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.MarkedYAMLError as err:
        line = err.problem_mark.line + 1 if err.problem_mark else None
        raise ConfigError(f"not valid YAML: {err.problem}", path=str(path), line=line) from None
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read project file: {err}", path=str(path)) from None
    except RecursionError:  # thousands of nested [ or mappings: PyYAML composes recursively
        raise ConfigError(
            "YAML nested too deeply; settings are at most a few levels deep", path=str(path)
        ) from None
    if not isinstance(data, dict):
        raise ConfigError("the project file must be a mapping of settings", path=str(path))
    try:
        settings = ProjectFile.model_validate(data)
    except ValidationError as err:
        raise _config_error(err, node, path) from None
    return _config_from_settings(root, settings, path)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _one_or_many(value: Any) -> Any:
    """``text_columns: q5`` means the one column ``q5``, not the characters q and 5; a YAML
    list becomes the tuple the frozen settings keep."""
    if isinstance(value, str):
        return (value,)
    return tuple(value) if isinstance(value, list) else value


Names = Annotated[tuple[StrictStr, ...], BeforeValidator(_one_or_many)]


class SurveyFile(_Strict):
    """The ``survey:`` section: how to read survey free-text tables."""

    id_column: StrictStr | None = None
    text_columns: Names | None = None
    #: the questions `qcode crosstab` reports, checked by qcode.reports.read_questions
    questions: dict[StrictStr, Any] | None = None


class ProjectFile(_Strict):
    """What ``qcode.yaml`` may hold, with strict types: ``code_interviewer: "false"`` is an
    error (a quoted string), never silently true; a number where a name belongs is an error
    (``private: [0701234567]`` would have lost its leading zero)."""

    codebook: StrictStr | None = None
    transcripts: StrictStr | None = None
    database: StrictStr | None = None
    interviewer_labels: Names = DEFAULT_INTERVIEWER_LABELS
    unit: Literal["turn", "paragraph", "sentence"] = "turn"
    code_interviewer: StrictBool = False
    private: Names | None = None
    survey: SurveyFile | None = None
    output: StrictStr | None = None
    companion: StrictBool = True
    model: StrictStr | None = None
    max_file_mb: Annotated[float, Field(ge=0)] = DEFAULT_MAX_FILE_MB
    lang: Literal["sv", "en"] | None = None
    #: display labels, checked by read_labels: {key: {value: label}} or {value: label}
    labels: dict[StrictStr, Any] | None = None
    csv_dialect: Literal["rfc4180", "excel-sv"] = "rfc4180"


def _config_from_settings(root: Path, settings: ProjectFile, path: Path) -> ProjectConfig:
    def rel(value: str | None) -> Path | None:
        return None if value in (None, "") else root / str(value)

    survey = settings.survey or SurveyFile()
    return ProjectConfig(
        root=root,
        codebook=rel(settings.codebook),
        transcripts=rel(settings.transcripts),
        database=rel(settings.database) or root / DEFAULT_DATABASE,
        interviewer_labels=settings.interviewer_labels,
        unit=settings.unit,
        code_interviewer=settings.code_interviewer,
        private=settings.private or (),
        id_column=survey.id_column,
        text_columns=survey.text_columns or None,
        output=rel(settings.output) or root / "out",
        companion=settings.companion,
        model=settings.model or None,
        max_file_mb=float(settings.max_file_mb),
        lang=settings.lang,
        labels=read_labels(settings.labels, str(path)),
        csv_dialect=settings.csv_dialect,
        survey_questions=survey.questions,
        source_file=path,
    )


def _config_error(err: ValidationError, node: yaml.Node | None, path: Path) -> ConfigError:
    """The first validation problem as a one-line error at its line and column."""
    problems = err.errors()
    first = problems[0]
    where = " -> ".join(str(part) for part in first["loc"])
    at = _node_at(node, first["loc"], key=first["type"] == "extra_forbidden")
    line = at.start_mark.line + 1 if at is not None else None
    column = f"column {at.start_mark.column + 1}: " if at is not None else ""
    # show what the user wrote: YAML has already turned 0701234567 into the octal 117782903
    written = at.value if isinstance(at, yaml.ScalarNode) else first["input"]
    message = f"{column}{where}: {_explain(first, written)}"
    if len(problems) > 1:
        message += f" (and {len(problems) - 1} more problem(s))"
    return ConfigError(message, path=str(path), line=line)


def _explain(problem: Any, written: Any) -> str:
    kind = problem["type"]
    if kind == "extra_forbidden":
        section = SurveyFile if problem["loc"][:1] == ("survey",) else ProjectFile
        return f"unknown setting; known: {', '.join(section.model_fields)}"
    if kind == "bool_type":
        return f"{written!r} is not true or false (write it without quotes)"
    if kind == "string_type":
        return f"{written} is not text (put it in quotes)"
    if kind == "literal_error":
        field = problem["loc"][-1] if problem["loc"] else ""
        choices = {"lang": LANGS, "csv_dialect": CSV_DIALECTS}.get(field, UNITS)
        return f"{written!r} is not one of {', '.join(choices)}"
    if kind == "dict_type" and problem["loc"][:1] == ("labels",):
        return "expects a mapping of value: label (or key: {value: label})"
    if kind in ("float_type", "greater_than_equal"):
        return f"{written} is not a size in MB (0: no limit)"
    return str(problem["msg"])


def _node_at(node: yaml.Node | None, loc: tuple[Any, ...], *, key: bool) -> yaml.Node | None:
    """The YAML node a pydantic error location points at (the key itself for unknown keys),
    or the deepest node found on the way."""
    for depth, part in enumerate(loc):
        if isinstance(node, yaml.MappingNode):
            pairs = [(k, v) for k, v in node.value if k.value == str(part)]
            if not pairs:
                return node
            last = depth == len(loc) - 1
            node = pairs[0][0] if key and last else pairs[0][1]
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
        else:
            return node
    return node


def set_model_setting(path: str | Path, name: str | None) -> None:
    """Write ``model: NAME`` into the project file ``path`` (or remove the setting when
    ``name`` is None), keeping every other line and comment as it was."""
    from .writers import write_text_atomic

    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if not line.startswith("model:")]
    if name is not None:
        kept.append(
            f"model: {name}                      # the trained model every `qcode tag` "
            "applies (`qcode train --off` switches it off)"
        )
    write_text_atomic(path, "\n".join(kept) + "\n")


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
lang: sv                            # language of report headings and notes: sv or en
csv_dialect: rfc4180                # excel-sv: CSV for Swedish Excel (BOM, ';', decimal comma)
# Display labels of metadata values (else groups.yaml beside the codebook), e.g.
# labels:
#   group: {{aklagare: Åklagarmyndigheten}}
# Names and places that must never appear in an output (respondents, interviewers,
# colleagues, small places). They are redacted in quotes and exports.
private: []
# survey:                           # survey free-text tables (.csv/.xlsx)
#   id_column: respondent_id
#   text_columns: [q5, q7]
#   questions:                      # what `qcode crosstab` reports per question
#     q8_knowledge: {{label: Kunskap, scale: [ingen, liten, god, mycket_god]}}
"""


def check_lang(lang: str | None, where: str | None = None) -> str:
    """``lang`` if it is an output language (None: the default, Swedish)."""
    if lang is None:
        return DEFAULT_LANG
    if lang not in LANGS:
        raise ConfigError(f"lang: {lang!r} is not one of {', '.join(LANGS)}", path=where)
    return lang


def read_labels(data: Any, where: str) -> dict[str, dict[str, str]]:
    """``labels:`` as {metadata key: {value: label}}; plain ``value: label`` entries apply to
    every key (stored under ``*``). Anything else is a ConfigError naming ``where``."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            "labels: expects a mapping of value: label (or key: {value: label})", path=where
        )
    out: dict[str, dict[str, str]] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            if not all(_is_label(v) for v in value.values()):
                raise ConfigError(f"labels: {key}: every label must be text", path=where)
            out.setdefault(str(key), {}).update({str(k): str(v) for k, v in value.items()})
        elif _is_label(value):
            out.setdefault("*", {})[str(key)] = str(value)
        else:
            raise ConfigError(f"labels: {key}: expects a label or a mapping of labels", path=where)
    return out


def _is_label(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)
