"""The ``qcode`` command line: click commands that parse options, call the Python API, print.

No logic lives here. Library errors (:class:`~qcode.errors.QcodeError`) become one-line
messages on stderr with exit code 2 (bad input or usage) or 1 (something was found, e.g.
privacy hits or failures under ``--keep-going``); results go to stdout, progress and
warnings to stderr.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from .errors import QcodeError

if TYPE_CHECKING:  # imported lazily at run time: start-up stays fast
    import pandas as pd

    from .project import Project

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class QcodeGroup(click.Group):
    """A click group that turns library errors into one-line messages, never tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QcodeError as err:
            if err.param is not None:
                # no ctx: click prints the one line "Invalid value for '--code': …", no usage
                raise click.BadParameter(err.message, param_hint=_flag(err.param)) from None
            raise _cli_error(str(err), err.exit_code) from None
        except KeyboardInterrupt:
            # every write is one transaction: what finished is stored, the rest rolled back
            click.echo(
                "interrupted, nothing lost: finished work is saved; run the same "
                "command again to go on",
                err=True,
            )
            raise click.exceptions.Exit(INTERRUPTED) from None
        except OSError as err:
            # A file the user named or asked for could not be read or written (missing,
            # no permission, a folder, disk full): say which. An OSError about no file is a
            # bug and keeps its traceback.
            if not getattr(err, "filename", None):
                raise
            raise _cli_error(f"{err.filename}: {err.strerror or err}", 2) from None


def _flag(param: str) -> str:
    """The command-line flag of a library parameter: ``by`` -> ``'--by'``."""
    return "'--" + param.replace("_", "-") + "'"


def _cli_error(message: str, exit_code: int) -> click.ClickException:
    from .privacy import scrub_message

    error = click.ClickException(scrub_message(message))
    error.exit_code = exit_code  # type: ignore[misc]  # click reads it per instance
    return error


# -- shared option bundles (every command spells them the same way) ---------------------------
def db_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--db",
        "db",
        type=click.Path(dir_okay=False),
        help="Project database (default: from qcode.yaml, else qcode.db).",
    )(func)


def codebook_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--codebook",
        "codebook",
        type=click.Path(dir_okay=False),
        help="YAML codebook (default: from qcode.yaml).",
    )(func)


def output_option(required: bool = False) -> Callable[..., Any]:
    return click.option(
        "-o",
        "--output",
        "output",
        type=click.Path(dir_okay=False),
        required=required,
        help="File to write (format from its suffix).",
    )


def format_option(choices: tuple[str, ...]) -> Callable[..., Any]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=None,
        help="Output format (default: from the output file's suffix).",
    )


def source_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--source",
        "source",
        type=click.Choice(["rule", "companion", "model", "human", "all"]),
        default="all",
        show_default=True,
        help="Which codings to use.",
    )(func)


def coders_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--coder NAME`` (repeatable) on the reports: whose decisions the final coding uses."""
    return click.option(
        "--coder",
        "coders",
        multiple=True,
        help="Count only this coder's decisions (repeatable; `auto` = the "
        "automatic codings). Default: every coder's decisions over the "
        "automatic codings.",
    )(func)


def filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--kind`` and ``--where``: which documents a report or export covers."""
    kind = click.option(
        "--kind",
        "kind",
        type=click.Choice(["interview", "survey", "all"]),
        default="all",
        show_default=True,
        help="Interviews, survey answers, or both (kept apart).",
    )
    where = click.option(
        "--where",
        "where",
        multiple=True,
        metavar="KEY=VALUE",
        help="Only documents whose metadata KEY is VALUE (repeatable; the "
        "same key twice matches either value).",
    )
    return kind(where(func))


def open_project(db: str | None = None, codebook: str | None = None, **overrides: Any) -> Project:
    """The project in the current folder with command-line overrides applied."""
    from .project import Project

    return Project(".", db=db, codebook=codebook, **overrides)


def echo_frame(frame: pd.DataFrame, *, index: bool = False) -> None:
    """Print a DataFrame as an aligned plain-text table on stdout."""
    if frame.empty:
        click.echo("(nothing)")
        return
    click.echo(frame.to_string(index=index, na_rep=""))


def warn(message: str) -> None:
    """A warning on stderr; a personal name or identifier in it is replaced first (a name
    from a transcript never reaches a terminal or a log)."""
    from .privacy import scrub_message

    click.echo(f"warning: {scrub_message(message)}", err=True)


def error_line(message: str) -> None:
    """An ``error:`` line on stderr, scrubbed like :func:`warn`."""
    from .privacy import scrub_message

    click.echo(f"error: {scrub_message(message)}", err=True)


def no_redact_option(what: str) -> Callable[..., Any]:
    """``--no-redact``: the opt-out of an output route's default redaction (listed in the
    README); using it prints a one-line warning on stderr."""
    return click.option(
        "--no-redact",
        "no_redact",
        is_flag=True,
        help=f"Keep names and identifiers in {what} (team use only; prints a warning).",
    )


def warn_unredacted(no_redact: bool, output: str) -> None:
    if no_redact:
        click.echo(
            f"warning: {output} is NOT redacted: it holds names and identifiers; "
            "keep it inside the team",
            err=True,
        )


@click.group(cls=QcodeGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="qcode")
def cli() -> None:
    """qcode: code Swedish interview transcripts and survey free text against a codebook
    of themes, offline, and report on the result."""


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False), default=".")
@click.option(
    "--codebook",
    type=click.Path(dir_okay=False),
    help="Codebook to name in qcode.yaml (default: a copy of the bundled Kronoberg codebook).",
)
def init(folder: str, codebook: str | None) -> None:
    """Start a project in FOLDER: qcode.yaml, transcripts/ and codebooks/."""
    from .project import Project

    written = Project.init(folder, codebook=codebook)
    click.echo(f"wrote {written}")
    click.echo("next: put transcripts in transcripts/ and run `qcode tag`")


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@codebook_option
@db_option
@click.option(
    "--unit",
    type=click.Choice(["turn", "paragraph", "sentence"]),
    default=None,
    help="Coding unit (default: from qcode.yaml, else turn).",
)
@click.option(
    "--code-interviewer", is_flag=True, default=None, help="Also code what the interviewer says."
)
@click.option("--id-column", default=None, help="Survey tables: the respondent id column.")
@click.option(
    "--text-columns",
    default=None,
    help="Survey tables: comma-separated free-text columns (default: detected).",
)
@click.option("--keep-going", is_flag=True, help="Code the other files when one fails (exit 1).")
@click.option(
    "--strict",
    is_flag=True,
    help="Refuse files in a folder that qcode cannot read instead of skipping them.",
)
@click.option(
    "--replace",
    "replace_existing",
    is_flag=True,
    help="Let a file replace a stored document of the same id read from another path.",
)
@click.option(
    "--model/--no-model",
    "model",
    default=None,
    help="Apply the project's trained model (`qcode train`) and keep it switched on "
    "for later runs / leave it out of this run. Default: as switched on by "
    "`qcode train --use` (qcode.yaml `model:`).",
)
@click.option(
    "--no-companion", is_flag=True, help="Rules only: ignore the model shipped beside the codebook."
)
@click.option(
    "--max-file-mb",
    type=click.FloatRange(min=0),
    default=None,
    help="Refuse input files larger than this many MB (default: from qcode.yaml, "
    "else 20; 0: no limit).",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=0),
    default=0,
    help="Worker processes reading and coding files (default 0: one per available "
    "core; 1: all in this process).",
)
@output_option()
@format_option(("csv", "jsonl", "xlsx"))
def tag(
    paths: tuple[str, ...],
    codebook: str | None,
    db: str | None,
    unit: str | None,
    code_interviewer: bool | None,
    id_column: str | None,
    text_columns: str | None,
    keep_going: bool,
    max_file_mb: float | None,
    jobs: int,
    output: str | None,
    fmt: str | None,
    model: bool | None = None,
    no_companion: bool = False,
    strict: bool = False,
    replace_existing: bool = False,
) -> None:
    """Ingest, segment and code PATHS (files or folders) and store the codings.

    Unchanged documents are skipped on a re-run; human codings are never deleted. When the
    codebook has a companion model beside it (kronoberg.yaml -> kronoberg.model), rules and
    model vote together (see `qcode explain`); --no-companion gives rules only.
    """
    from .tagrun import available_cores

    project = open_project(
        db,
        codebook,
        unit=unit,
        code_interviewer=code_interviewer,
        id_column=id_column,
        text_columns=tuple(c.strip() for c in text_columns.split(",")) if text_columns else None,
        max_file_mb=max_file_mb,
    )
    with project:
        result = project.tag(
            list(paths) or None,
            keep_going=keep_going,
            jobs=jobs or available_cores(),
            progress=_progress_bar,
            model=model,
            companion=False if no_companion else None,
            strict=strict,
            replace_existing=replace_existing,
        )
        for message in result.warnings:
            warn(message)
        if result.warnings:
            click.echo(f"warnings: {len(result.warnings)} (see above)", err=True)
        click.echo(
            f"documents: {result.documents_tagged} tagged, {result.documents_unchanged} unchanged; "
            f"segments: {result.segments}"
        )
        echo_frame(result.summary)
        if output:
            written = project.export_codings(output, fmt)
            click.echo(f"wrote {written}")
    if result.failures:
        for failure in result.failures:
            error_line(failure.message)
        raise _cli_error(f"{len(result.failures)} file(s) could not be read", 1)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--id-column", default=None, help="Survey tables: the respondent id column.")
@click.option(
    "--text-columns",
    default=None,
    help="Survey tables: comma-separated free-text columns (default: detected).",
)
def inspect(paths: tuple[str, ...], id_column: str | None, text_columns: str | None) -> None:
    """Show how PATHS (files or folders) are read, storing nothing: speakers and their turns,
    who the interviewer is and why, the preamble, first lines, metadata found and missing,
    and warnings."""
    from .ingest.inspection import format_inspection

    project = open_project(
        id_column=id_column,
        text_columns=tuple(c.strip() for c in text_columns.split(",")) if text_columns else None,
    )
    with project:
        results, warnings = project.inspect(list(paths) or None)
    click.echo(format_inspection(results, warnings), nl=False)
    failed = [r for r in results if r.error is not None]
    if failed:
        raise _cli_error(f"{len(failed)} file(s) could not be read", 2)


def _progress_bar(items: Any) -> Any:
    """A progress bar on stderr that appears only on a terminal and only after two seconds."""
    from tqdm import tqdm

    return tqdm(
        items,
        desc="tagging",
        unit="file",
        delay=2.0,
        leave=False,
        disable=not sys.stderr.isatty(),
        file=sys.stderr,
    )


@cli.group(cls=QcodeGroup)
def export() -> None:
    """Export codings and review sheets from the project."""


@export.command("codings")
@db_option
@output_option(required=True)
@format_option(("csv", "jsonl", "xlsx"))
@source_option
@filter_options
@click.option(
    "--coder",
    "coders",
    multiple=True,
    help="Only this coder's rows (repeatable; `auto` = the automatic codings).",
)
@click.option(
    "--final",
    is_flag=True,
    help="The final coding the reports count: human decisions over the automatic "
    "codings, conflicts left out.",
)
@no_redact_option("the text columns")
@click.option(
    "--excel",
    "excel",
    is_flag=True,
    default=None,
    help="CSV for Swedish Excel: UTF-8 with BOM, ';' and decimal comma "
    "(default: csv_dialect in qcode.yaml, else RFC 4180).",
)
def export_codings(
    db: str | None,
    output: str,
    fmt: str | None,
    source: str,
    kind: str,
    where: tuple[str, ...],
    coders: tuple[str, ...],
    final: bool,
    no_redact: bool,
    excel: bool | None,
) -> None:
    """Write every coding, one row per segment × code × coder, with its source and coder
    (names redacted unless --no-redact); the kind column tells interviews from survey answers."""
    with open_project(db) as project:
        written = project.export_codings(
            output,
            fmt,
            source=source,
            redact=not no_redact,
            kind=kind,
            where=list(where),
            coders=coders,
            final=final,
            excel=excel,
        )
    warn_unredacted(no_redact, str(written))
    click.echo(f"wrote {written}")


@cli.group(cls=QcodeGroup, name="codebook")
def codebook_group() -> None:
    """Validate, show, import and export codebooks."""


@codebook_group.command("validate")
@click.argument("file", type=click.Path(dir_okay=False))
def codebook_validate(file: str) -> None:
    """Check FILE and report every problem with its line and column."""
    from .codebook import validate_codebook

    problems = validate_codebook(file)
    if problems:
        for problem in problems:
            click.echo(f"{file}:{problem}", err=True)
        raise _cli_error(f"{file}: {len(problems)} problem(s)", 2)
    click.echo(f"{file}: ok")


@codebook_group.command("show")
@click.argument("file", type=click.Path(dir_okay=False))
def codebook_show(file: str) -> None:
    """Print the code tree with definitions and pattern counts."""
    from .codebook import format_codebook_tree, load_codebook

    click.echo(format_codebook_tree(load_codebook(file)))


@codebook_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["qdc"]),
    default="qdc",
    show_default=True,
    help="Exchange format (REFI-QDA codebook).",
)
@output_option(required=True)
def codebook_export(file: str, fmt: str, output: str) -> None:
    """Write the YAML codebook FILE as a REFI-QDA .qdc for NVivo, ATLAS.ti, MAXQDA, QualCoder."""
    from .exchange.qdc import export_qdc

    click.echo(f"wrote {export_qdc(file, output)}")


@codebook_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@output_option(required=True)
def codebook_import(file: str, output: str) -> None:
    """Turn a REFI-QDA .qdc FILE into a YAML codebook (an existing one keeps its patterns)."""
    from .exchange.qdc import import_qdc

    result = import_qdc(file, output)
    for note in result.notes:
        warn(note)
    click.echo(f"wrote {result.path} ({result.codes} codes)")


@export.command("qdpx")
@db_option
@output_option(required=True)
@click.option("--human-only", is_flag=True, help="Leave out the automatic (rule/model) codings.")
@no_redact_option("the source texts and metadata")
def export_qdpx(db: str | None, output: str, human_only: bool, no_redact: bool = False) -> None:
    """Write the project as a REFI-QDA .qdpx: texts, codebook, codings by user, cases
    (names redacted unless --no-redact; selections follow the redacted text)."""
    with open_project(db) as project:
        written = project.export_qdpx(output, human_only=human_only, redact=not no_redact)
    warn_unredacted(no_redact, str(written))
    click.echo(f"wrote {written}")


@cli.group(cls=QcodeGroup, name="import")
def import_group() -> None:
    """Bring work done elsewhere into the project."""


@import_group.command("qdpx")
@click.argument("file", type=click.Path(dir_okay=False))
@db_option
@click.option(
    "--coder-prefix",
    default=None,
    help="Prefix for the coders' names, e.g. 'nvivo:' (default: none).",
)
def import_qdpx(file: str, db: str | None, coder_prefix: str | None) -> None:
    """Import a REFI-QDA .qdpx: sources become documents, codes are merged by path,
    selections become human codings by their user."""
    with open_project(db) as project:
        result = project.import_qdpx(file, coder_prefix=coder_prefix)
    for note in result.notes:
        warn(note)
    echo_frame(result.documents)
    click.echo(
        f"documents: {len(result.documents)}; codes added: {result.codes_added}; "
        f"codings added: {result.codings_added}"
    )


# -- human coding in the loop -------------------------------------------------------------------
def coder_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--coder", "coder", required=True, help="Who made these decisions (a name or initials)."
    )(func)


def _echo_import(result: Any) -> None:
    for message in getattr(result, "warnings", ()):
        warn(message)
    for problem in result.problems:
        warn(problem)
    click.echo(
        f"segments: {result.segments}; codings added: {result.added}; "
        f"removed: {result.removed}; rows skipped: {len(result.problems)}"
    )


@export.command("review")
@click.option(
    "--code", "codes", multiple=True, help="Code path to review (repeatable; default: every code)."
)
@click.option("--group", "groups", multiple=True, help="Only documents of this group (repeatable).")
@click.option(
    "--blank",
    is_flag=True,
    help="Blind coding: no suggestions and no scores anywhere in the sheet.",
)
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    default=None,
    help="Only N segments, drawn at random and stratified by group.",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Random seed of --sample: the same seed gives every coder the same segments.",
)
@db_option
@output_option(required=True)
@format_option(("xlsx", "csv"))
@no_redact_option("the text, speaker, title and note columns")
def export_review(
    codes: tuple[str, ...],
    groups: tuple[str, ...],
    blank: bool,
    sample: int | None,
    seed: int,
    db: str | None,
    output: str,
    fmt: str | None,
    no_redact: bool = False,
) -> None:
    """Write a review sheet: one row per segment, one column per code holding the
    automatic suggestion (1 or blank) to confirm, clear or add, and a note column.
    With --blank the code columns start empty, for coding blind. Names are redacted
    unless --no-redact (the sheet imports either way)."""
    with open_project(db) as project:
        written = project.export_review(
            output,
            codes=codes,
            groups=groups,
            fmt=fmt,
            blank=blank,
            sample=sample,
            seed=seed,
            redact=not no_redact,
        )
    warn_unredacted(no_redact, str(written))
    click.echo(f"wrote {written}")


@import_group.command("review")
@click.argument("file", type=click.Path(dir_okay=False))
@coder_option
@db_option
def import_review(file: str, coder: str, db: str | None) -> None:
    """Import a filled-in review sheet (xlsx or csv) as CODER's human codings; a later
    sheet from the same coder replaces their earlier decisions on those segments."""
    with open_project(db) as project:
        result = project.import_review(file, coder)
    _echo_import(result)


@import_group.command("codings")
@click.argument("file", type=click.Path(dir_okay=False))
@coder_option
@click.option("--snap", is_flag=True, help="Widen each span to the whole segment(s) it touches.")
@db_option
def import_codings(file: str, coder: str, snap: bool, db: str | None) -> None:
    """Import hand-made codings from a CSV (document,start,end,code or
    document,segment,code) as CODER's human codings."""
    with open_project(db) as project:
        result = project.import_codings(file, coder, snap=snap)
    _echo_import(result)


@cli.command("stale")
@click.option(
    "--accept",
    "accept",
    type=int,
    multiple=True,
    metavar="ID",
    help="Re-attach stale coding ID at its best candidate passage (repeatable).",
)
@click.option(
    "--drop",
    "drop",
    type=int,
    multiple=True,
    metavar="ID",
    help="Delete stale coding ID (repeatable).",
)
@click.option(
    "--coder",
    default=None,
    help="Who resolves them, for the coding log (default: the coding's coder).",
)
@db_option
def stale_command(
    accept: tuple[int, ...], drop: tuple[int, ...], coder: str | None, db: str | None
) -> None:
    """List human codings whose text changed too much to re-anchor them (their old text and
    the best candidate passage), or resolve them with --accept ID / --drop ID."""
    with open_project(db) as project:
        for coding_id in accept:
            document, start, end, code = project.resolve_stale(coding_id, accept=True, coder=coder)
            click.echo(f"accepted {coding_id}: {code} on {document} {start}-{end}")
        for coding_id in drop:
            project.resolve_stale(coding_id, accept=False, coder=coder)
            click.echo(f"dropped {coding_id}")
        if accept or drop:
            return
        frame = project.stale()
    if frame.empty:
        click.echo("no stale codings")
        return
    for row in frame.itertuples(index=False):
        click.echo(f"#{row.id}  {row.document}  {row.code}  {row.coder or ''}".rstrip())
        click.echo(
            f"  was:       {_one_line(row.old_text) if row.old_text else '(text not kept)'}"
            f"  [{row.old_start}-{row.old_end} of the old text]"
        )
        if _is_missing(row.candidate_start):
            click.echo("  candidate: none")
        else:
            click.echo(
                f"  candidate: {_one_line(row.candidate_text)}  [{row.candidate_start}-"
                f"{row.candidate_end}, similarity {row.similarity:.2f}]"
            )
    click.echo(
        f"{len(frame)} stale coding(s): `qcode stale --accept ID` re-attaches one at its "
        "candidate, `--drop ID` deletes it"
    )


def _one_line(text: str, width: int = 90) -> str:
    """A passage on one line, shortened in the middle: «start … end»."""
    flat = " ".join(str(text).split())
    if len(flat) > width:
        flat = flat[: width // 2 - 1] + " … " + flat[-(width // 2 - 2) :]
    return f"«{flat}»"


def _is_missing(value: Any) -> bool:
    import pandas as pd

    return value is None or bool(pd.isna(value))


@cli.command("coders")
@db_option
def coders_command(db: str | None) -> None:
    """List the human coders with their coding counts."""
    with open_project(db) as project:
        echo_frame(project.coders())


@cli.command("conflicts")
@click.option(
    "--coder",
    "coders",
    multiple=True,
    help="Only conflicts among these coders (repeatable; default: every coder).",
)
@db_option
@output_option()
def conflicts_command(coders: tuple[str, ...], db: str | None, output: str | None) -> None:
    """Passages where one coder applied a code that another rejected. Reports leave them
    out until the coders agree; exit 1 when there are any."""
    with open_project(db) as project:
        table = project.conflicts(coders)
    if output:
        from .writers import write_table

        click.echo(f"wrote {write_table(table, output)}")
    else:
        shown = table.drop(columns=["title", "group", "speaker"])
        shown["text"] = [t if len(t) <= 60 else t[:59] + "…" for t in shown["text"].fillna("")]
        echo_frame(shown)
    if len(table):
        passages = len(table[["document", "segment"]].drop_duplicates())
        raise _cli_error(f"{len(table)} conflict(s) on {passages} passage(s)", 1)
    click.echo("no conflicts between coders")


@cli.command("agreement")
@click.option(
    "--coder",
    "coders",
    multiple=True,
    required=True,
    help="A coder to compare (repeat: at least two; `auto` = rule and model codings).",
)
@click.option(
    "--unit",
    type=click.Choice(["segment", "document"]),
    default="segment",
    show_default=True,
    help="What one judgement is about.",
)
@click.option(
    "--code",
    "codes",
    multiple=True,
    help="Code path (repeatable; default: every top-level theme, subcodes rolled up).",
)
@db_option
@output_option()
def agreement_command(
    coders: tuple[str, ...], unit: str, codes: tuple[str, ...], db: str | None, output: str | None
) -> None:
    """Intercoder agreement per code: units, percent agreement, Cohen's kappa,
    Krippendorff's alpha (nominal), a pooled row; rare codes are flagged."""
    with open_project(db) as project:
        table = project.agreement(coders, unit=unit, codes=codes)
    echo_frame(table.round(3))
    rare = table.loc[table["rare"] & (table["code"] != "pooled"), "code"].tolist()
    if rare:
        warn(f"too rare for a stable figure (< 5 positive units or < 5 %): {', '.join(rare)}")
    if output:
        from .writers import write_table

        click.echo(f"wrote {write_table(table, output)}")


@cli.command("train")
@click.option(
    "--coder",
    "coders",
    multiple=True,
    help="Learn from this coder's codings (repeatable; default: every human coder).",
)
@click.option(
    "--min-examples",
    type=click.IntRange(min=2),
    default=8,
    show_default=True,
    help="Fewest positives (coded passages + codebook examples) a code needs.",
)
@click.option(
    "--name",
    default="default",
    show_default=True,
    help="Save the model under this name (letters, digits, _ . -).",
)
@click.option(
    "--use",
    is_flag=True,
    help="Switch the model on: every later `qcode tag` applies it (qcode.yaml `model:`).",
)
@click.option(
    "--off",
    is_flag=True,
    help="Switch the project model off (train nothing); `tag` then codes without it.",
)
@codebook_option
@db_option
def train_command(
    coders: tuple[str, ...],
    min_examples: int,
    name: str,
    use: bool,
    off: bool,
    codebook: str | None,
    db: str | None,
) -> None:
    """Train a model per code on human codings and the codebook's examples; print
    cross-validated precision, recall and F1; save it in the project. With --use every later
    `qcode tag` applies it (as does one `qcode tag --model`) until `qcode train --off`."""
    from .model import metrics_table

    with open_project(db, codebook) as project:
        if off:
            was = project.model_setting()
            project.use_model(None)
            click.echo(f"model {was} switched off" if was else "no model was switched on")
            return
        model = project.train(coders, min_examples=min_examples, name=name)
        if use:
            project.use_model(name)
    if model.refused:
        warn(
            "too few examples, not trained: "
            + "; ".join(f"{code} ({why})" for code, why in model.refused.items())
        )
    echo_frame(
        metrics_table(model).drop(columns=["refused"], errors="ignore").dropna(subset=["f1"])
    )
    click.echo(f"trained {len(model.codes)} code(s); saved in the project database as {name!r}")
    if use:
        click.echo(
            f"model {name} switched on: every `qcode tag` applies it "
            "(`qcode train --off` switches it off)"
        )


@cli.group(cls=QcodeGroup, name="companion")
def companion_group() -> None:
    """The companion model beside the codebook, which votes with the rules in `qcode tag`."""


@companion_group.command("train")
@click.option(
    "--coder",
    "coders",
    multiple=True,
    help="Learn from this coder's codings (repeatable; default: every human coder).",
)
@click.option(
    "--min-examples",
    type=click.IntRange(min=2),
    default=8,
    show_default=True,
    help="Fewest coded passages + codebook examples a theme needs to be voted on.",
)
@codebook_option
@db_option
def companion_train(
    coders: tuple[str, ...], min_examples: int, codebook: str | None, db: str | None
) -> None:
    """Retrain the companion from this project's human codings for the codebook as it is now
    (after a codebook edit, for instance); say how many examples each theme had."""
    from .model import companion_path

    with open_project(db, codebook) as project:
        result = project.train_companion(coders, min_examples=min_examples)
        target = companion_path(project.codebook.path)
    table = result.examples.copy()
    table["used"] = table["used"].map({True: "yes", False: "no"})
    if not table["why"].any():
        table = table.drop(columns=["why"])
    click.echo("examples per theme (coded passages from the project, examples from the codebook):")
    echo_frame(table)
    companion = result.companion
    click.echo(
        f"cross-validated macro-F1 per segment: rules {result.rules_f1:.3f} (recall "
        f"{result.rules_recall:.3f}), with the companion {result.combined_f1:.3f} "
        f"(confirm >= {companion.confirm}, add >= {companion.add}, keep_best "
        f"{companion.keep_best})"
    )
    click.echo(f"wrote {target}; the next `qcode tag` re-codes every document with it")


@cli.command()
@click.argument("document")
@click.argument("segment", type=int, required=False)
@click.option(
    "--color/--no-color",
    "color",
    default=None,
    help="Colour the matches and verdicts (default: on a terminal, unless NO_COLOR is set).",
)
@codebook_option
@db_option
def explain(
    document: str, segment: int | None, color: bool | None, codebook: str | None, db: str | None
) -> None:
    """Show why DOCUMENT (or one SEGMENT of it) was coded or not: matches marked, and per
    code the verdict `tag` reached (stored / dropped by the companion / not matched) with
    the patterns that fired."""
    import os

    from .explain import format_report

    if color is None:
        color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    with open_project(db, codebook) as project:
        reports = project.explain_segments(document, segment)
    click.echo(
        "\n\n".join(
            f"[{r.segment.document_id} #{r.segment.index}] {r.segment.speaker}\n"
            + format_report(r, paint=_ansi if color else None)
            for r in reports
        ),
        color=color,
    )


#: terminal colours of `qcode explain` (styles named by qcode.explain)
_ANSI_STYLES = {
    "mark": "\033[1;33m",
    "veto": "\033[1;31m",
    "stored": "\033[1;32m",
    "dropped": "\033[35m",
    "dim": "\033[2m",
}


def _ansi(text: str, style: str) -> str:
    return f"{_ANSI_STYLES[style]}{text}\033[0m"


@cli.command()
@click.option(
    "--gold",
    required=True,
    type=click.Path(dir_okay=False),
    help="Gold CSV: document,code or document,start,end,code.",
)
@db_option
@source_option
@click.option("--level", type=int, default=1, show_default=True, help="Code level to compare at.")
@output_option()
def evaluate(gold: str, db: str | None, source: str, level: int, output: str | None) -> None:
    """Compare the project's codings with a hand-coded gold file."""
    with open_project(db) as project:
        report = project.evaluate(gold, source=source, level=level)
    echo_frame(report.table.round(3))
    for line in report.notes:
        click.echo(line)
    if output:
        from .writers import write_table

        click.echo(f"wrote {write_table(report.table, output)}")


@cli.command()
@click.argument("file", type=click.File("r", encoding="utf-8"), default="-")
@db_option
@output_option()
@click.option(
    "--reveal",
    is_flag=True,
    help="Put the original names back for this project's placeholders (team use only).",
)
def redact(file: Any, db: str | None, output: str | None, reveal: bool) -> None:
    """Replace names, personal identity numbers, phone numbers, e-mail and street addresses
    in FILE (or stdin) with stable placeholders such as [NAMN-1] and [PNR]."""
    with open_project(db) as project:
        text = project.redact(file.read(), reveal=reveal)
    if output:
        from .writers import write_text_atomic

        click.echo(f"wrote {write_text_atomic(output, text)}", err=True)
    else:
        click.echo(text, nl=False)


@cli.command("check-privacy")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@db_option
def check_privacy(paths: tuple[str, ...], db: str | None) -> None:
    """Scan output files (md, csv, tsv, json, html, svg, docx, xlsx, qdpx, qcode's PNG plots,
    …) with the detector `qcode redact` uses: names from the private list, metadata, speaker
    labels and the name lists, personal identity numbers, phone numbers, e-mail, addresses,
    postcodes and car plates. Exit 1 with each hit's file and line, or when a file could not
    be read in full ("could not check …")."""
    with open_project(db) as project:
        findings = project.check_privacy(list(paths))
    unread = findings[findings["kind"] == "could not check"]
    hits = findings[findings["kind"] != "could not check"]
    for row in hits.itertuples(index=False):
        click.echo(f"{row.path}:{row.where}: {row.kind} ({row.hint})")
    for row in unread.itertuples(index=False):
        click.echo(f"could not check {row.path}: {row.hint}")
    if len(findings):
        parts = []
        if len(hits):
            parts.append(f"{len(hits)} privacy hit(s) in {hits['path'].nunique()} file(s)")
        if len(unread):
            parts.append(f"could not check {len(unread)} file(s)")
        raise _cli_error("; ".join(parts), 1)
    click.echo(f"no personal data found in {len(paths)} path(s)")


# -- reports ----------------------------------------------------------------------------------
REPORT_FORMATS = ("md", "csv", "xlsx", "html")


def presentation_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--lang``, ``--transpose`` and ``--excel``: how a report is shown to people."""
    for option in (
        click.option(
            "--excel",
            "excel",
            is_flag=True,
            default=None,
            help="CSV for Swedish Excel: UTF-8 with BOM, ';' and decimal comma "
            "(default: csv_dialect in qcode.yaml, else RFC 4180).",
        ),
        click.option(
            "--transpose/--no-transpose",
            "transpose",
            default=None,
            help="Groups as rows and codes as columns (default: when there are more "
            "groups than codes).",
        ),
        click.option(
            "--lang",
            "lang",
            type=click.Choice(["sv", "en"]),
            default=None,
            help="Language of headings, labels and notes (default: lang in qcode.yaml, "
            "else the codebook's language).",
        ),
    ):
        func = option(func)
    return func


def report_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--source``, ``--coder``, ``--kind``, ``--where``, ``--db``, ``-o``, ``--format``,
    ``--plot``, ``--lang``, ``--transpose`` and ``--excel``: what every table report
    (frequencies, cooccurrence, crosstab) takes."""
    plot = click.option(
        "--plot",
        "plot",
        type=click.Path(dir_okay=False),
        default=None,
        help="Also draw a PNG heatmap to this file.",
    )
    func = presentation_options(func)
    for option in (
        plot,
        format_option(REPORT_FORMATS),
        output_option(),
        db_option,
        filter_options,
        coders_option,
        source_option,
    ):  # innermost first, so --help lists them as above
        func = option(func)
    return func


def level_option(default: int | None) -> Callable[..., Any]:
    return click.option(
        "--level",
        "level",
        type=click.IntRange(min=1),
        default=default,
        show_default=default is not None,
        help="Deepest code level shown; subcodes are rolled up into it.",
    )


@cli.group(cls=QcodeGroup)
def report() -> None:
    """Reports for the write-up: theme frequencies, co-occurrence, quotes and crosstab
    (``qcode quotes`` and ``qcode crosstab`` are the same commands)."""


@report.command("frequencies")
@click.option(
    "--by",
    "by",
    multiple=True,
    help="Group by document, speaker or a metadata key (group, main_group, study, …); "
    "give two for nested columns (default: group).",
)
@level_option(None)
@report_options
def report_frequencies(
    by: tuple[str, ...],
    level: int | None,
    source: str,
    coders: tuple[str, ...],
    kind: str,
    where: tuple[str, ...],
    db: str | None,
    output: str | None,
    fmt: str | None,
    plot: str | None,
    lang: str | None,
    transpose: bool | None,
    excel: bool | None,
) -> None:
    """Respondents per theme and group: documents, share of the group, segments coded.
    Interviews and survey answers are counted apart, each with its own n."""
    from .reports import frequencies_table, plot_frequencies, render_frequencies

    with open_project(db) as project:
        frame = project.frequencies(
            by=list(by) or ["group"],
            level=level,
            source=source,
            coders=coders,
            kind=kind,
            where=list(where),
        )
        style = project.presentation(lang=lang, transpose=transpose, excel=excel)
    _emit_report(
        frame,
        output,
        fmt,
        plot,
        render=render_frequencies,
        table=frequencies_table,
        draw=plot_frequencies,
        style=style,
    )


@report.command("cooccurrence")
@click.option(
    "--unit",
    type=click.Choice(["segment", "document"]),
    default="segment",
    show_default=True,
    help="Count codes meeting in one passage or one interview.",
)
@click.option(
    "--measure",
    type=click.Choice(["count", "jaccard"]),
    default="count",
    show_default=True,
    help="Off-diagonal cells: units with both, or Jaccard.",
)
@level_option(1)
@report_options
def report_cooccurrence(
    unit: str,
    measure: str,
    level: int,
    source: str,
    coders: tuple[str, ...],
    kind: str,
    where: tuple[str, ...],
    db: str | None,
    output: str | None,
    fmt: str | None,
    plot: str | None,
    lang: str | None,
    transpose: bool | None,
    excel: bool | None,
) -> None:
    """Code × code matrix: how often two codes meet; the diagonal holds code totals."""
    from .reports import cooccurrence_table, plot_cooccurrence, render_cooccurrence

    with open_project(db) as project:
        frame = project.cooccurrence(
            unit=unit,
            measure=measure,
            level=level,
            source=source,
            coders=coders,
            kind=kind,
            where=list(where),
        )
        style = project.presentation(lang=lang, transpose=transpose, excel=excel)
    _emit_report(
        frame,
        output,
        fmt,
        plot,
        render=render_cooccurrence,
        table=cooccurrence_table,
        draw=plot_cooccurrence,
        style=style,
    )


def _emit_report(
    frame: pd.DataFrame,
    output: str | None,
    fmt: str | None,
    plot: str | None,
    *,
    render: Callable[..., Any],
    table: Callable[..., Any],
    draw: Callable[..., Any],
    style: Any,
) -> None:
    """Write a report to OUTPUT (or print it as a table) and its plot, saying what was written."""
    from .reports.render import kind_sections

    _warn_conflicts(frame)
    if output:
        click.echo(f"wrote {render(frame, output, fmt, style=style)}")
    elif kind_sections(frame, style):  # interviews and survey answers: one table each, own n
        for number, (heading, part) in enumerate(kind_sections(frame, style)):
            click.echo(("\n" if number else "") + heading)
            echo_frame(table(part, pretty=True, style=style))
    else:
        echo_frame(table(frame, pretty=True, style=style))
    if plot:
        click.echo(f"wrote {draw(frame, plot, style=style)}")


def _warn_conflicts(frame: pd.DataFrame) -> None:
    from .reports._common import conflict_note

    if frame.attrs.get("conflicts"):
        warn(conflict_note(frame.attrs["conflicts"]))


@cli.command("quotes")
@click.option(
    "--code",
    "codes",
    multiple=True,
    help="Code path, e.g. dubbla_roller (repeatable; default: every top-level theme).",
)
@click.option(
    "--group", "groups", multiple=True, help="Only respondents of this group (repeatable)."
)
@click.option(
    "--max",
    "max_quotes",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Quotes per code.",
)
@click.option("--min-words", type=click.IntRange(min=1), default=8, show_default=True)
@click.option(
    "--matrix",
    is_flag=True,
    help="A code × group table with the best quote per cell (xlsx, docx, md, html, csv).",
)
@click.option(
    "--by",
    "by",
    default="group",
    show_default=True,
    help="With --matrix: the metadata key of the columns (group, main_group, …).",
)
@click.option("--max-words", type=click.IntRange(min=1), default=60, show_default=True)
@source_option
@coders_option
@filter_options
@db_option
@output_option()
@format_option(("md", "docx", "csv", "html", "xlsx"))
@presentation_options
def quotes_command(
    codes: tuple[str, ...],
    groups: tuple[str, ...],
    max_quotes: int,
    min_words: int,
    matrix: bool,
    by: str,
    max_words: int,
    source: str,
    coders: tuple[str, ...],
    kind: str,
    where: tuple[str, ...],
    db: str | None,
    output: str | None,
    fmt: str | None,
    lang: str | None,
    transpose: bool | None,
    excel: bool | None,
) -> None:
    """Respondents' own words per code, trimmed to whole sentences, attributed by role
    (the document's title) and never by name; interview quotes and survey answers apart.
    --matrix sets the best quote per code and group side by side."""
    from .reports import quote_matrix_table, render_quote_matrix, render_quotes

    if matrix:
        with open_project(db) as project:
            frame = project.quote_matrix(
                list(codes) or None,
                by=by,
                groups=groups,
                min_words=min_words,
                max_words=max_words,
                source=source,
                coders=coders,
                kind=kind,
                where=list(where),
            )
            style = project.presentation(lang=lang, transpose=transpose, excel=excel)
        if output:
            click.echo(f"wrote {render_quote_matrix(frame, output, fmt, style=style)}")
        else:
            echo_frame(quote_matrix_table(frame, style=style))
        return
    with open_project(db) as project:
        frame = project.quotes(
            list(codes) or None,
            groups=groups,
            max_quotes=max_quotes,
            min_words=min_words,
            max_words=max_words,
            source=source,
            coders=coders,
            kind=kind,
            where=list(where),
        )
        style = project.presentation(lang=lang, transpose=transpose, excel=excel)
    _warn_conflicts(frame)
    untitled = sorted(set(frame.loc[frame["attributed_by"] != "title", "document"]))
    if untitled:
        warn(
            f"{len(untitled)} document(s) have no title; their quotes are attributed by group: "
            + ", ".join(untitled)
        )
    if output:
        click.echo(f"wrote {render_quotes(frame, output, fmt, style=style)}")
        return
    mixed = len(frame.attrs.get("kinds", ())) > 1
    for row in frame.itertuples(index=False):
        tag = f"{row.code} · {row.kind}" if mixed else row.code
        click.echo(f"[{tag}] {row.text}\n({row.attribution})\n")
    if frame.empty:
        click.echo("(nothing)")


@cli.command("crosstab")
@click.option(
    "--survey",
    required=True,
    type=click.Path(dir_okay=False),
    help="Survey CSV/XLSX: one row per respondent, or published figures per group.",
)
@click.option("--by", default="group", show_default=True, help="The group column/metadata key.")
@click.option(
    "--theme",
    "themes",
    multiple=True,
    help="Theme path to set beside the survey (repeatable; default: every theme).",
)
@click.option(
    "--indicator",
    "indicators",
    multiple=True,
    help="Survey column to report (repeatable): a question (its shares, or as set in "
    "survey: questions: in qcode.yaml), COLUMN=ANSWER|ANSWER for the share of "
    "those answers, or a figure of a group-level table (default: the questions "
    "in qcode.yaml, else every answer's share or percentage column).",
)
@level_option(1)
@report_options
def crosstab_command(
    survey: str,
    by: str,
    themes: tuple[str, ...],
    indicators: tuple[str, ...],
    level: int,
    source: str,
    coders: tuple[str, ...],
    kind: str,
    where: tuple[str, ...],
    db: str | None,
    output: str | None,
    fmt: str | None,
    plot: str | None,
    lang: str | None,
    transpose: bool | None,
    excel: bool | None,
) -> None:
    """Interviews beside the survey per group, with Spearman's rank correlations (only where
    at least 5 groups have both figures) and Benjamini–Hochberg adjusted p-values."""
    from .reports import crosstab_tables, plot_crosstab, render_crosstab

    with open_project(db) as project:
        result = project.crosstab(
            survey,
            by=by,
            themes=themes,
            level=level,
            source=source,
            coders=coders,
            kind=kind,
            where=list(where),
            indicators=indicators,
        )
        style = project.presentation(lang=lang, transpose=transpose, excel=excel)
    for message in result.warnings:
        warn(message)
    if output:
        for written in render_crosstab(result, output, fmt, style=style):
            click.echo(f"wrote {written}")
    else:
        table, correlations = crosstab_tables(result, pretty=True, style=style)
        echo_frame(table)
        click.echo()
        echo_frame(correlations)
    if plot:
        click.echo(f"wrote {plot_crosstab(result, plot, style=style)}")


@cli.group(cls=QcodeGroup, name="cache")
def cache_group() -> None:
    """The lemma tables qcode keeps in the user's cache folder (public dictionary data)."""


@cache_group.command("info")
def cache_info() -> None:
    """Show the cache folder and the lemma tables in it."""
    from . import nlp

    tables = nlp.cached_tables()
    current = nlp.table_path(nlp.LANG)
    click.echo(f"{nlp.cache_dir()}: {len(tables)} lemma tables")
    for path in tables:
        size = path.stat().st_size / 1e6
        mark = " (used by this install)" if path == current else ""
        click.echo(f"  {path.name}{mark}  {size:.1f} MB")


@cache_group.command("clean")
def cache_clean() -> None:
    """Remove the lemma tables this install does not use; other installs rebuild theirs once."""
    from . import nlp

    removed = nlp.clean_cache()
    click.echo(f"removed {len(removed)} lemma tables from {nlp.cache_dir()}")


@cli.command("serve")
@db_option
@codebook_option
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@click.option(
    "--host",
    default=None,
    help="Address to listen on (default 127.0.0.1, this machine only). Another "
    "address lets other machines reach the project: think twice.",
)
@click.option(
    "--coder", default=None, help="Whose decisions the browser stores (default: your login name)."
)
@click.option(
    "--blind",
    is_flag=True,
    help="Hide automatic and other coders' codings, for independent coding.",
)
@click.option("--no-browser", is_flag=True, help="Print the address; do not open a browser.")
def serve_command(
    db: str | None,
    codebook: str | None,
    port: int,
    host: str | None,
    coder: str | None,
    blind: bool,
    no_browser: bool,
) -> None:
    """Review and code in the browser: a local workbench over the project database.

    Prints an address with a one-run token; every accept, reject, coding and memo is stored
    at once as --coder's human decision. Ctrl-C stops it.
    """
    from .serve import LOOPBACK, serve

    if host is not None and host not in ("127.0.0.1", "localhost", "::1"):
        warn(
            f"listening on {host}: other machines that reach it and have the token can "
            "read and change the project"
        )
    with open_project(db, codebook) as project:
        serve(
            project,
            coder=coder,
            host=host or LOOPBACK,
            port=port,
            blind=blind,
            open_browser=not no_browser,
            echo=click.echo,
        )


# Every report is also under `qcode report`, so `qcode report -h` lists them all; the short
# top-level names stay, since the README and people's scripts use them.
report.add_command(quotes_command, "quotes")
report.add_command(crosstab_command, "crosstab")


@cli.command("search")
@click.argument("terms", nargs=-1, required=True)
@click.option(
    "--lemma",
    is_flag=True,
    help="Match inflected and compound forms with the codebook's matcher "
    "(handlingsplan finds handlingsplanerna).",
)
@click.option(
    "--code",
    "codes",
    multiple=True,
    help="Only passages coded with this code or a subcode (repeatable).",
)
@click.option(
    "--where",
    "where",
    multiple=True,
    help="Only documents whose metadata KEY=VALUE, e.g. group=polis (repeatable).",
)
@click.option(
    "--context",
    type=click.IntRange(min=5),
    default=50,
    show_default=True,
    help="Characters of context on each side (whole words).",
)
@click.option(
    "--code-as",
    "code_as",
    default=None,
    help="Code every passage with a hit with this code, as --coder's human codings.",
)
@click.option("--coder", default=None, help="Who codes the hits (with --code-as).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before coding with --code-as.")
@db_option
@output_option()
@format_option(("md", "csv", "xlsx", "html"))
@presentation_options
def search_command(
    terms: tuple[str, ...],
    lemma: bool,
    codes: tuple[str, ...],
    where: tuple[str, ...],
    context: int,
    code_as: str | None,
    coder: str | None,
    yes: bool,
    db: str | None,
    output: str | None,
    fmt: str | None,
    lang: str | None,
    transpose: bool | None,
    excel: bool | None,
) -> None:
    """Keyword in context: every place TERMS occur, with the words around them, the document
    and the speaker's role. A quoted "two words" is a phrase, stem* a prefix."""
    from .reports import render_search, search_table

    if code_as and not coder:
        raise _cli_error("--code-as needs --coder NAME (whose human codings they become)", 2)
    with open_project(db) as project:
        if code_as and code_as not in set(project.open_existing_store().codes_frame()["path"]):
            raise _cli_error(f"--code-as {code_as}: no such code in the project's codebook", 2)
        hits = project.search(list(terms), lemma=lemma, codes=codes, where=where, context=context)
        style = project.presentation(lang=lang, transpose=transpose, excel=excel)
        if output:
            click.echo(f"wrote {render_search(hits, output, fmt, style=style)}")
        elif hits.empty:
            click.echo("(nothing)")
        else:
            table = search_table(hits, style=style)
            width = max(len(left) for left in table.iloc[:, 0])
            right_width = max(len(right) for right in table.iloc[:, 2])
            for left, match, right, document, role in table.itertuples(index=False):
                click.echo(f"{left:>{width}} [{match}] {right:<{right_width}}  {document} ({role})")
        passages = len(dict.fromkeys(zip(hits["document"], hits["segment"])))
        click.echo(
            f"{len(hits)} hit(s) in {passages} passage(s) of "
            f"{hits['document'].nunique()} document(s)",
            err=True,
        )
        if code_as and coder and passages:  # --coder is required with --code-as (checked above)
            if not yes:
                click.confirm(
                    f"Code {passages} passage(s) with {code_as} as {coder}'s human codings?",
                    abort=True,
                    err=True,
                )
            added = project.code_hits(hits, code_as, coder)
            click.echo(f"codings added: {added} ({passages - added} already there)")


#: the exit status after Ctrl-C (128 + SIGINT), as shells report it
INTERRUPTED = 130


def main() -> None:
    """Console-script entry point."""
    try:
        cli(prog_name="qcode")
    except SystemExit as done:
        if done.code != INTERRUPTED:
            raise
        # Interrupted: every transaction has been rolled back or committed and the workers
        # are stopped by now; tearing down the loaded language tables can take longer than
        # the user is willing to wait, so leave at once.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(INTERRUPTED)
