"""The qcode exception family.

The library raises these for anything a user can fix (bad input, wrong option, busy project);
``cli.py`` turns them into one-line messages with an exit code. Anything else is a bug and keeps
its traceback.
"""

from __future__ import annotations


class QcodeError(Exception):
    """Base class: a problem the user can act on. ``str(err)`` is the one-line message."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        param: str | None = None,
    ):
        self.message = message
        self.path = path
        self.line = line
        #: the name of the function parameter that was wrong (``code``, ``by``), so a Python
        #: caller reads ``code 'x': …`` while the command line names its flag ``--code``
        self.param = param
        super().__init__(self._format())

    def _format(self) -> str:
        where = ""
        if self.path is not None:
            where = str(self.path)
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        return where + self.message


class ConfigError(QcodeError):
    """qcode.yaml or a command-line option is missing or wrong."""


class CodebookError(QcodeError):
    """A codebook could not be read."""


class InvalidCodebook(CodebookError):
    """A codebook was read but breaks the schema; ``problems`` lists every one found."""

    def __init__(self, problems: list[CodebookProblem], *, path: str | None = None):
        self.problems = problems
        first = problems[0] if problems else None
        summary = (
            f"{len(problems)} problem(s) in codebook; first: {first}"
            if first
            else "invalid codebook"
        )
        super().__init__(summary, path=path)


class CodebookProblem:
    """One validation problem with its YAML location (1-based line and column)."""

    def __init__(
        self, where: str, message: str, line: int | None = None, column: int | None = None
    ):
        self.where = where
        self.message = message
        self.line = line
        self.column = column

    def __str__(self) -> str:
        loc = ""
        if self.line is not None:
            loc = (
                f"line {self.line}, column {self.column}: "
                if self.column is not None
                else f"line {self.line}: "
            )
        return f"{loc}{self.where}: {self.message}" if self.where else f"{loc}{self.message}"

    def __repr__(self) -> str:
        return f"CodebookProblem({str(self)!r})"


class TranscriptError(QcodeError):
    """An input file could not be read as a transcript or survey table."""


class UnsupportedFormat(TranscriptError):
    """The file's extension is not one qcode reads."""


class DuplicateDocument(TranscriptError):
    """Two input files claim the same document id."""


class StoreError(QcodeError):
    """The project database is missing, of another version, or cannot be written."""


class ProjectBusy(StoreError):
    """Another qcode process holds the project's write lock longer than the timeout."""


class ExchangeError(QcodeError):
    """A REFI-QDA file (qdc/qdpx) is malformed or unsafe."""


class ReviewError(QcodeError):
    """A review sheet or codings file could not be imported."""


class ModelError(QcodeError):
    """A trained model is missing, stale or cannot be trained."""


class PrivacyHit(QcodeError):
    """check-privacy found personal data in an output (exit code 1: something was found)."""

    exit_code = 1
