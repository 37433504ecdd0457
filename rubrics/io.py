"""Rubrics in and out: Stint's own versioned JSON, and Canvas's rubric CSV.

The JSON format is lossless; a rubric read back from `to_json` equals the one written. The
Canvas CSV is what Canvas's "Import rubric" accepts and its template offers
(`RubricImport.template_file` in canvas-lms): one row per criterion, then a group of
"Rating Name", "Rating Description", "Rating Points" columns per rating. It carries less than
Stint's format, so ids are made up on import (c1, c2, ... and l1, l2, ... per criterion) and
scoring options come back as defaults.

Import never raises anything but RubricInvalid (JSON) or ImportProblems (CSV), each with the
complete list of what is wrong, so a person can fix the file in one go.
"""

from __future__ import annotations

import csv
import io as _io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from rubrics.codec import points_to_text, rubric_to_data
from rubrics.model import Rubric, Selection
from rubrics.validation import (
    SCHEMA_PATH,
    Problem,
    ProblemsError,
    RubricInvalid,
    SelectionsInvalid,
    Values,
    parse_rubric,
)

__all__ = [
    "FORMAT",
    "SCHEMA_PATH",
    "VERSION",
    "CsvProblem",
    "ImportProblems",
    "decode_csv_bytes",
    "dumps",
    "from_canvas_csv",
    "from_json",
    "loads",
    "rubrics_from_canvas_csv",
    "selections_from_json",
    "selections_to_json",
    "to_canvas_csv",
    "to_json",
]

FORMAT: Final = "stint-rubric"
VERSION: Final = 1


# ------------------------------------------------------------------------------ Stint JSON


def to_json(rubric: Rubric) -> dict[str, object]:
    """JSON-ready data (points as decimal strings), fit for a JSON column or a file."""
    return {"format": FORMAT, "version": VERSION, **rubric_to_data(rubric)}


def from_json(data: Mapping[str, object]) -> Rubric:
    """Checks the file envelope, the JSON Schema and the semantic rules; raises RubricInvalid."""
    return parse_rubric(data, require_envelope=True)


def dumps(rubric: Rubric) -> str:
    return json.dumps(to_json(rubric), ensure_ascii=False, indent=2) + "\n"


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number JSON allows")


def loads(text: str | bytes) -> Rubric:
    """Read a file's text; malformed JSON becomes a RubricInvalid like any other problem."""
    try:
        # Decimal for numbers written with a fraction, so "0.1" stays 0.1.
        data = json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise RubricInvalid(
            [
                Problem(
                    "",
                    f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})",
                    "not_json_at",
                    (("line", str(error.lineno)), ("column", str(error.colno))),
                )
            ]
        ) from None
    except (UnicodeDecodeError, ValueError) as error:
        raise RubricInvalid([Problem("", f"not valid JSON: {error}", "not_json")]) from None
    if not isinstance(data, Mapping):
        raise RubricInvalid([Problem("", "a rubric file must hold a JSON object", "not_an_object")])
    return from_json(data)


def selections_to_json(selections: Sequence[Selection]) -> list[dict[str, object]]:
    """Selections as JSON-ready data, so an evaluation can be stored beside its rubric."""
    return [
        {
            "criterion_id": selection.criterion_id,
            "level_id": selection.level_id,
            "points": None if selection.points is None else points_to_text(selection.points),
            "comment": selection.comment,
        }
        for selection in selections
    ]


def selections_from_json(data: object) -> tuple[Selection, ...]:
    """The inverse of `selections_to_json`; checks shape only (see `validate_selections`)."""
    if not isinstance(data, list):
        raise SelectionsInvalid([Problem("selections", "must be a list")])
    problems: list[Problem] = []
    selections: list[Selection] = []
    for index, item in enumerate(data):
        here = f"selections[{index}]"
        if not isinstance(item, Mapping):
            problems.append(Problem(here, "must be an object"))
            continue
        criterion_id, level_id = item.get("criterion_id"), item.get("level_id")
        raw_points, comment = item.get("points"), item.get("comment", "")
        if not isinstance(criterion_id, str):
            problems.append(Problem(f"{here}.criterion_id", "must be text"))
        if level_id is not None and not isinstance(level_id, str):
            problems.append(Problem(f"{here}.level_id", "must be text or null"))
        if not isinstance(comment, str):
            problems.append(Problem(f"{here}.comment", "must be text"))
        points = _selection_points(raw_points, f"{here}.points", problems)
        if isinstance(criterion_id, str) and isinstance(comment, str):
            level = level_id if isinstance(level_id, str) else None
            selections.append(Selection(criterion_id, level, points, comment))
    if problems:
        raise SelectionsInvalid(problems)
    return tuple(selections)


def _selection_points(raw: object, path: str, problems: list[Problem]) -> Decimal | None:
    if raw is None:
        return None
    text = repr(raw) if isinstance(raw, float) else str(raw)
    if isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
        problems.append(Problem(path, "must be a number or null"))
        return None
    try:
        number = Decimal(text.strip())
    except ArithmeticError:
        problems.append(Problem(path, "must be a number or null"))
        return None
    return number


# ------------------------------------------------------------------------------ Canvas CSV


@dataclass(frozen=True)
class CsvProblem:
    """`row` counts as a spreadsheet does (the header is row 1); `column` is its header.

    As with `Problem`, `message` is English for developers and `code` with `values` is what
    ``lti_app`` words for people (in Canvas's words: ratings, not levels)."""

    row: int
    column: str
    message: str
    code: str = ""
    values: Values = ()

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column!r}" if self.column else "")
        return f"{where}: {self.message}"


class ImportProblems(Exception):  # noqa: N818 -- name fixed by the public API
    def __init__(self, problems: Sequence[CsvProblem]) -> None:
        self.problems: tuple[CsvProblem, ...] = tuple(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))


RUBRIC_NAME: Final = "Rubric Name"
CRITERIA_NAME: Final = "Criteria Name"
CRITERIA_DESCRIPTION: Final = "Criteria Description"
CRITERIA_ENABLE_RANGE: Final = "Criteria Enable Range"
RATING_NAME: Final = "Rating Name"
RATING_DESCRIPTION: Final = "Rating Description"
RATING_POINTS: Final = "Rating Points"
CANVAS_HEADER: Final = (RUBRIC_NAME, CRITERIA_NAME, CRITERIA_DESCRIPTION, CRITERIA_ENABLE_RANGE)

_RATING_COLUMNS: Final = (
    ("name", RATING_NAME),
    ("description", RATING_DESCRIPTION),
    ("points_column", RATING_POINTS),
)
_TRUE_WORDS: Final = frozenset({"true", "1", "yes"})
_FALSE_WORDS: Final = frozenset({"false", "0", "no", ""})
_DECIMAL_COMMA: Final = re.compile(r"^\s*\d+,\d+\s*$")


def decode_csv_bytes(data: bytes) -> str:
    """An uploaded file's text: UTF-8 (with or without BOM), else Windows-1252 as Excel saves."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


@dataclass(frozen=True)
class _Columns:
    """Where each field sits, and the label a person sees for it in a problem."""

    labels: tuple[str, ...]
    rubric_name: int
    criteria_name: int
    criteria_description: int | None
    enable_range: int | None
    ratings: tuple[tuple[int, int | None, int], ...]  # name, description, points

    def label(self, index: int | None) -> str:
        return "" if index is None else self.labels[index]


def _label_columns(header: Sequence[str]) -> tuple[str, ...]:
    # Canvas's own template repeats "Rating Points" verbatim; number repeats so a problem
    # report points at one column.
    names = [cell.strip() for cell in header]
    labels: list[str] = []
    for index, name in enumerate(names):
        count = names.count(name)
        occurrence = names[: index + 1].count(name)
        labels.append(f"{name} #{occurrence}" if count > 1 and name else name)
    return tuple(labels)


def _read_header(header: Sequence[str], row: int) -> tuple[_Columns | None, list[CsvProblem]]:
    problems: list[CsvProblem] = []
    normalised = [cell.strip().lower() for cell in header]
    labels = _label_columns(header)

    def find(name: str) -> int | None:
        return normalised.index(name.lower()) if name.lower() in normalised else None

    rubric_name, criteria_name = find(RUBRIC_NAME), find(CRITERIA_NAME)
    expected = ", ".join((*CANVAS_HEADER, RATING_NAME, RATING_DESCRIPTION, RATING_POINTS, "..."))
    for name, index in ((RUBRIC_NAME, rubric_name), (CRITERIA_NAME, criteria_name)):
        if index is None:
            problems.append(
                CsvProblem(
                    row,
                    name,
                    f"column is missing; expected {expected}",
                    "column_missing",
                    (("expected", expected),),
                )
            )
    # Canvas matches rating columns by substring ("Rating Name 2" counts), and so do we.
    names = [i for i, cell in enumerate(normalised) if RATING_NAME.lower() in cell]
    descriptions = [i for i, cell in enumerate(normalised) if RATING_DESCRIPTION.lower() in cell]
    points = [i for i, cell in enumerate(normalised) if RATING_POINTS.lower() in cell]
    if not names or not points:
        problems.append(
            CsvProblem(
                row,
                RATING_NAME if not names else RATING_POINTS,
                f"no rating columns; each rating needs {RATING_NAME}, {RATING_DESCRIPTION} "
                f"and {RATING_POINTS}",
                "no_rating_columns",
                _RATING_COLUMNS,
            )
        )
    elif len(names) != len(points) or len(descriptions) not in (0, len(names)):
        problems.append(
            CsvProblem(
                row,
                labels[max(names + points + descriptions)],
                f"{len(names)} '{RATING_NAME}', {len(descriptions)} '{RATING_DESCRIPTION}' and "
                f"{len(points)} '{RATING_POINTS}' columns; each rating needs one of each",
                "rating_columns_uneven",
                (
                    *_RATING_COLUMNS,
                    ("names", str(len(names))),
                    ("descriptions", str(len(descriptions))),
                    ("points", str(len(points))),
                ),
            )
        )
    if problems or rubric_name is None or criteria_name is None:
        return None, problems
    ratings = tuple(
        (name, descriptions[k] if descriptions else None, points[k]) for k, name in enumerate(names)
    )
    columns = _Columns(
        labels=labels,
        rubric_name=rubric_name,
        criteria_name=criteria_name,
        criteria_description=find(CRITERIA_DESCRIPTION),
        enable_range=find(CRITERIA_ENABLE_RANGE),
        ratings=ratings,
    )
    return columns, []


@dataclass
class _Draft:
    """One rubric as read so far, with where each of its paths came from."""

    title: str
    first_row: int
    criteria: list[dict[str, Any]]
    locations: dict[str, tuple[int, str]]


def _cell(row: Sequence[str], index: int | None) -> str:
    return row[index] if index is not None and index < len(row) else ""


def _csv_points(text: str) -> str:
    # Canvas reads "1,75" as 1.75 (its importer swaps the comma); only that exact shape is
    # taken as a decimal comma, so "1,000" is not silently read as 1.
    return text.replace(",", ".") if _DECIMAL_COMMA.match(text) else text.strip()


def _read_row(
    cells: Sequence[str], row: int, columns: _Columns, drafts: dict[str, _Draft]
) -> list[CsvProblem]:
    problems: list[CsvProblem] = []
    label = columns.label
    extra = [i for i in range(len(columns.labels), len(cells)) if cells[i].strip()]
    for index in extra:
        problems.append(
            CsvProblem(
                row,
                f"column {index + 1}",
                "has a value but no header; it was ignored",
                "value_without_header",
                (("number", str(index + 1)),),
            )
        )
    rubric_name = _cell(cells, columns.rubric_name).strip()
    if not rubric_name:
        problems.append(
            CsvProblem(
                row, label(columns.rubric_name), "a row needs a rubric name", "no_rubric_name"
            )
        )
        return problems
    enable_text = _cell(cells, columns.enable_range).strip().lower()
    if enable_text not in _TRUE_WORDS | _FALSE_WORDS:
        problems.append(
            CsvProblem(
                row,
                label(columns.enable_range),
                "must be true or false (or 1 or 0)",
                "not_true_or_false",
            )
        )
    draft = drafts.setdefault(rubric_name, _Draft(rubric_name, row, [], {}))
    index = len(draft.criteria)
    here = f"criteria[{index}]"
    levels: list[dict[str, Any]] = []
    draft.locations.update(
        {
            here: (row, label(columns.criteria_name)),
            f"{here}.title": (row, label(columns.criteria_name)),
            f"{here}.long_description": (row, label(columns.criteria_description)),
            f"{here}.levels": (row, label(columns.ratings[0][0])),
        }
    )
    for name_at, description_at, points_at in columns.ratings:
        name = _cell(cells, name_at)
        description = _cell(cells, description_at)
        points = _cell(cells, points_at)
        if not (name.strip() or description.strip() or points.strip()):
            continue  # Canvas's template has ragged rows; an empty group is no rating
        at = f"{here}.levels[{len(levels)}]"
        draft.locations.update(
            {
                at: (row, label(name_at)),
                f"{at}.title": (row, label(name_at)),
                f"{at}.description": (row, label(description_at)),
                f"{at}.points": (row, label(points_at)),
            }
        )
        levels.append(
            {
                "id": f"l{len(levels) + 1}",
                "title": name,
                "description": description,
                "points": _csv_points(points),
            }
        )
    draft.criteria.append(
        {
            "id": f"c{index + 1}",
            "title": _cell(cells, columns.criteria_name),
            "long_description": _cell(cells, columns.criteria_description),
            "use_range": enable_text in _TRUE_WORDS,
            "levels": levels,
        }
    )
    return problems


def _locate(problem: Problem, draft: _Draft) -> CsvProblem:
    path = problem.path
    while path and path not in draft.locations:
        path = re.sub(r"(\.[^.\[\]]+|\[\d+\])$", "", path)
    row, column = draft.locations.get(path, (draft.first_row, RUBRIC_NAME))
    # Speak Canvas's language to someone holding a Canvas file: its levels are "ratings".
    message = re.sub(r"\blevel(s?)\b", r"rating\1", problem.message)
    return CsvProblem(row, column, message, problem.code, problem.values)


def _parse_rows(text: str) -> tuple[list[Rubric], list[CsvProblem]]:
    text = text.removeprefix("\ufeff")
    records: list[list[str]] = []
    try:
        for cells in csv.reader(_io.StringIO(text, newline="")):
            records.append(cells)
    except csv.Error as error:
        return [], [
            CsvProblem(len(records) + 1, "", f"not a readable CSV file: {error}", "not_csv")
        ]
    numbered = [
        (row + 1, cells) for row, cells in enumerate(records) if any(c.strip() for c in cells)
    ]
    if not numbered:
        return [], [CsvProblem(1, "", "the file is empty", "file_empty")]
    header_row, header = numbered[0]
    columns, problems = _read_header(header, header_row)
    if columns is None:
        return [], problems
    drafts: dict[str, _Draft] = {}
    for row, cells in numbered[1:]:
        problems.extend(_read_row(cells, row, columns, drafts))
    if not drafts and not problems:
        problems.append(
            CsvProblem(header_row, "", "the file has a header but no criteria rows", "no_rows")
        )
    rubrics: list[Rubric] = []
    for draft in drafts.values():
        data = {"title": draft.title, "scoring_mode": "canvas", "criteria": draft.criteria}
        draft.locations["title"] = (draft.first_row, columns.label(columns.rubric_name))
        draft.locations["criteria"] = (draft.first_row, columns.label(columns.criteria_name))
        try:
            rubrics.append(parse_rubric(data))
        except ProblemsError as error:
            problems.extend(_locate(problem, draft) for problem in error.problems)
    problems.sort(key=lambda problem: problem.row)
    return rubrics, problems


def rubrics_from_canvas_csv(text: str) -> tuple[Rubric, ...]:
    """Every rubric in the file (Canvas lets one file hold several, told apart by name)."""
    rubrics, problems = _parse_rows(text)
    if problems:
        raise ImportProblems(problems)
    return tuple(rubrics)


def from_canvas_csv(text: str) -> Rubric:
    """The one rubric in a Canvas rubric CSV; raises ImportProblems listing row and column."""
    rubrics = rubrics_from_canvas_csv(text)
    if len(rubrics) > 1:
        names = ", ".join(repr(rubric.title) for rubric in rubrics)
        raise ImportProblems(
            [
                CsvProblem(
                    1,
                    RUBRIC_NAME,
                    f"the file holds {len(rubrics)} rubrics ({names}); import one at a time",
                    "several_rubrics",
                    (("count", str(len(rubrics))), ("names", names)),
                )
            ]
        )
    return rubrics[0]


def _criterion_text(description: str, long_description: str) -> str:
    return "\n\n".join(part for part in (description, long_description) if part)


def to_canvas_csv(rubric: Rubric) -> str:
    """A CSV Canvas's "Import rubric" reads back into the same criteria and ratings.

    Lossy by Canvas's design: ids, `ignore_for_scoring`, `allow_comment` and the scoring mode
    have no column, and a criterion's description and long description share one cell.
    """
    width = max(len(criterion.levels) for criterion in rubric.criteria)
    header = [*CANVAS_HEADER, *[RATING_NAME, RATING_DESCRIPTION, RATING_POINTS] * width]
    buffer = _io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for criterion in rubric.criteria:
        cells = [
            rubric.title,
            criterion.title,
            _criterion_text(criterion.description, criterion.long_description),
            "true" if criterion.use_range else "false",
        ]
        for level in criterion.levels:
            cells += [level.title, level.description, points_to_text(level.points)]
        cells += [""] * (len(header) - len(cells))
        writer.writerow(cells)
    return buffer.getvalue()
