"""Rubric files in and out: Stint's JSON format and Canvas's rubric CSV.

Reading a file never stores anything until every problem is gone (`RubricFileInvalid` lists
them all, each with its place in the file); `import_rubric` then stores it as a new rubric.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Final, Literal

from flask_babel import gettext as _

from lti_app.models import Rubric as RubricRow
from lti_app.services.rubrics.access import definition
from lti_app.services.rubrics.builder import describe_path
from lti_app.services.rubrics.editing import create_rubric
from lti_app.services.rubrics.problems import problem_text
from rubrics import io as rubric_io
from rubrics.model import Rubric
from rubrics.validation import RubricInvalid

FileFormat = Literal["json", "csv"]


FILE_FORMATS: Final[tuple[FileFormat, ...]] = ("json", "csv")


MAX_FILE_BYTES: Final = 1024 * 1024


@dataclass(frozen=True)
class FileProblem:
    """One problem in an uploaded file, worded in the reader's language: ``location`` is the
    place in the file (a criterion and level with its JSON path, or "row R, column 'C'"),
    ``message`` what is wrong there (``problems.problem_text``)."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class RubricFileInvalid(Exception):  # noqa: N818 -- pairs with rubrics.validation.RubricInvalid
    """The file cannot become a rubric; ``problems`` lists everything wrong with it."""

    def __init__(self, problems: Sequence[FileProblem]) -> None:
        self.problems: tuple[FileProblem, ...] = tuple(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))


def detect_format(filename: str, data: bytes) -> FileFormat:
    """By extension when it says, else by content (a JSON object starts with "{")."""
    suffix = PurePath(filename or "").suffix.lower()
    if suffix == ".json":
        return "json"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return "json" if head in (b"{", b"[") else "csv"


def _json_place(path: str) -> str:
    """Where in a JSON file: in words for everyone, with the path for whoever edits the file
    ("Criterion 1, level 3, points (criteria[0].levels[2].points)")."""
    if not path:
        return str(_("(file)"))
    return str(_("%(place)s (%(path)s)", place=describe_path(path), path=path))


def _csv_place(problem: rubric_io.CsvProblem) -> str:
    """Where in a CSV file; a column without a header is named by its number."""
    values = dict(problem.values)
    if problem.code == "value_without_header":
        return str(_("row %(row)s, column %(number)s", row=problem.row, number=values["number"]))
    if problem.column:
        return str(_("row %(row)s, column '%(column)s'", row=problem.row, column=problem.column))
    return str(_("row %(row)s", row=problem.row))


def read_rubric_files(filename: str, data: bytes) -> tuple[Rubric, ...]:
    """Every rubric in a Stint JSON file or Canvas CSV; RubricFileInvalid lists all problems."""
    if len(data) > MAX_FILE_BYTES:
        raise RubricFileInvalid(
            [
                FileProblem(
                    _("(file)"),
                    _("is larger than %(size)s KB", size=MAX_FILE_BYTES // 1024),
                )
            ]
        )
    if not data.strip():
        raise RubricFileInvalid([FileProblem(_("(file)"), _("is empty"))])
    if detect_format(filename, data) == "json":
        try:
            return (rubric_io.loads(data),)
        except RubricInvalid as error:
            raise RubricFileInvalid(
                [FileProblem(_json_place(p.path), problem_text(p)) for p in error.problems]
            ) from None
    try:
        return rubric_io.rubrics_from_canvas_csv(rubric_io.decode_csv_bytes(data))
    except rubric_io.ImportProblems as error:
        raise RubricFileInvalid(
            [FileProblem(_csv_place(p), problem_text(p, canvas=True)) for p in error.problems]
        ) from None


def read_rubric_file(filename: str, data: bytes) -> Rubric:
    """The one rubric in an uploaded file (a Canvas CSV may hold several: one at a time)."""
    found = read_rubric_files(filename, data)
    if len(found) > 1:
        names = ", ".join(repr(rubric.title) for rubric in found)
        raise RubricFileInvalid(
            [
                FileProblem(
                    _("column '%(column)s'", column=rubric_io.RUBRIC_NAME),
                    _(
                        "the file holds %(count)s rubrics (%(names)s); import one at a time",
                        count=len(found),
                        names=names,
                    ),
                )
            ]
        )
    return found[0]


def import_rubric(course_id: int, filename: str, data: bytes) -> RubricRow:
    """Create a rubric from an uploaded file, or raise RubricFileInvalid and store nothing."""
    return create_rubric(course_id, read_rubric_file(filename, data))


@dataclass(frozen=True)
class ExportedFile:
    filename: str
    mimetype: str
    content: bytes


def export_rubric(row: RubricRow, file_format: FileFormat) -> ExportedFile:
    rubric = definition(row)
    stem = re.sub(r"[^A-Za-z0-9]+", "-", rubric.title).strip("-").lower()[:60] or "rubric"
    stem = f"{stem}-v{row.version}"
    if file_format == "csv":
        return ExportedFile(
            f"{stem}.csv", "text/csv", rubric_io.to_canvas_csv(rubric).encode("utf-8")
        )
    return ExportedFile(f"{stem}.json", "application/json", rubric_io.dumps(rubric).encode())
