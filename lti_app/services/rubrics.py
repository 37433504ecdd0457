"""Stored rubrics: who may see them, versions frozen by evaluations, files in and out.

A rubric row is one *version*. Versions of the same rubric share a ``lineage_id`` (the id of
version 1); exactly one of them ``is_latest``. A version that a submitted evaluation used is
``frozen``: saving changes to it makes the next version instead, so every evaluation keeps
pointing at the exact criteria and levels its supervisor saw.

Visibility, the rule every view relies on:

* a course sees every version of its own rubrics and may edit the latest one;
* a course sees the latest version of rubrics other courses *of the same platform* shared with
  the institution, and may copy (never edit) them;
* anything else does not exist for it (`RubricNotFound`, which views turn into a 404).

The definition column holds Stint's JSON format (`rubrics.io.to_json`), so what is stored is
exactly what an export produces and what an import accepts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import PurePath
from typing import Any, Final, Literal

from sqlalchemy import exists, func, or_, select, update

from lti_app.auth import Viewer
from lti_app.extensions import db
from lti_app.models import Activity, Course, Evaluation, Project
from lti_app.models import Rubric as RubricRow
from rubrics import io as rubric_io
from rubrics.codec import rubric_to_data
from rubrics.model import Rubric
from rubrics.scoring import ScoreResult, score
from rubrics.templates import BUILTIN_TEMPLATES
from rubrics.validation import Problem, RubricInvalid, parse_rubric, validate_rubric_data

FileFormat = Literal["json", "csv"]
FILE_FORMATS: Final[tuple[FileFormat, ...]] = ("json", "csv")
MAX_FILE_BYTES: Final = 1024 * 1024
MAX_CRITERIA: Final = 100
MAX_LEVELS: Final = 20


class RubricNotFound(LookupError):  # noqa: N818 -- reads as what the view answers (404)
    """No such rubric for this course: missing, private to another course, or another platform."""


class RubricReadOnly(PermissionError):  # noqa: N818 -- pairs with RubricNotFound
    """The course may look at (and copy) this rubric but it belongs to another course."""


@dataclass(frozen=True)
class FileProblem:
    """One problem in an uploaded file; ``location`` is a JSON path or "row R, column 'C'"."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class RubricFileInvalid(Exception):  # noqa: N818 -- pairs with rubrics.validation.RubricInvalid
    """The file cannot become a rubric; ``problems`` lists everything wrong with it."""

    def __init__(self, problems: Sequence[FileProblem]) -> None:
        self.problems: tuple[FileProblem, ...] = tuple(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))


# ---------------------------------------------------------------------------------- reading


def platform_of_course(course_id: int) -> int:
    course = db.session.get(Course, course_id)
    if course is None:
        raise RubricNotFound(course_id)
    return course.platform_id


def definition(row: RubricRow) -> Rubric:
    """The rubric a row stores. Rows are only written from valid rubrics, so this does not fail
    unless the database was edited by hand (then RubricInvalid says where)."""
    return rubric_io.from_json(row.definition)


def course_rubrics(course_id: int) -> list[RubricRow]:
    """The latest version of each of the course's rubrics, by title."""
    return list(
        db.session.scalars(
            select(RubricRow)
            .where(RubricRow.course_id == course_id, RubricRow.is_latest.is_(True))
            .order_by(func.lower(RubricRow.title), RubricRow.id)
        )
    )


def shared_rubrics(course_id: int) -> list[RubricRow]:
    """Rubrics other courses of the same platform shared with the institution (latest only)."""
    platform_id = platform_of_course(course_id)
    return list(
        db.session.scalars(
            select(RubricRow)
            .where(
                RubricRow.platform_id == platform_id,
                RubricRow.shared.is_(True),
                RubricRow.is_latest.is_(True),
                or_(RubricRow.course_id.is_(None), RubricRow.course_id != course_id),
            )
            .order_by(func.lower(RubricRow.title), RubricRow.id)
        )
    )


def rubric_for_course(course_id: int, rubric_id: int) -> RubricRow:
    """A rubric this course may look at, else RubricNotFound (see the module docstring)."""
    row = db.session.get(RubricRow, rubric_id)
    if row is None:
        raise RubricNotFound(rubric_id)
    if row.course_id == course_id:
        return row
    if row.shared and row.is_latest and row.platform_id == platform_of_course(course_id):
        return row
    raise RubricNotFound(rubric_id)


def editable_rubric(course_id: int, rubric_id: int) -> RubricRow:
    """The latest version of one of the course's own rubrics; shared ones are read-only."""
    row = rubric_for_course(course_id, rubric_id)
    if row.course_id != course_id:
        raise RubricReadOnly(rubric_id)
    return latest_version(row)


def latest_version(row: RubricRow) -> RubricRow:
    if row.is_latest:
        return row
    latest = db.session.scalar(
        select(RubricRow).where(
            RubricRow.lineage_id == row.lineage_id, RubricRow.is_latest.is_(True)
        )
    )
    return latest or row


def versions(row: RubricRow) -> list[RubricRow]:
    """Every version of the rubric, newest first."""
    return list(
        db.session.scalars(
            select(RubricRow)
            .where(RubricRow.lineage_id == row.lineage_id)
            .order_by(RubricRow.version.desc())
        )
    )


def is_frozen(row: RubricRow) -> bool:
    """Frozen by `freeze_rubric`, or (belt and braces) used by any submitted evaluation."""
    if row.frozen:
        return True
    return bool(
        db.session.scalar(
            select(exists().where(Evaluation.rubric_id == row.id, Evaluation.status == "submitted"))
        )
    )


def lineage_in_use(row: RubricRow) -> bool:
    """Whether any evaluation (draft or submitted) points at any version of this rubric."""
    lineage_ids = select(RubricRow.id).where(RubricRow.lineage_id == row.lineage_id)
    return bool(db.session.scalar(select(exists().where(Evaluation.rubric_id.in_(lineage_ids)))))


@dataclass(frozen=True)
class RubricSummary:
    """The numbers an instructor wants next to a rubric: how it adds up."""

    criteria: int
    scored_criteria: int
    maximum: Decimal
    minimum: Decimal


def summarise(rubric: Rubric) -> RubricSummary:
    result: ScoreResult = score(rubric, [])
    return RubricSummary(
        criteria=len(rubric.criteria),
        scored_criteria=len(rubric.scored_criteria),
        maximum=result.maximum,
        minimum=result.minimum,
    )


# ---------------------------------------------------------------------------------- writing


def _new_row(course: Course, rubric: Rubric, *, shared: bool = False) -> RubricRow:
    row = RubricRow(
        platform_id=course.platform_id,
        course_id=course.id,
        version=1,
        title=rubric.title,
        scoring_mode=rubric.scoring_mode,
        definition=rubric_io.to_json(rubric),
        shared=shared,
        frozen=False,
        is_latest=True,
    )
    db.session.add(row)
    db.session.flush()
    row.lineage_id = row.id
    return row


def create_rubric(course_id: int, rubric: Rubric) -> RubricRow:
    """Store a new rubric (version 1 of a new lineage) for the course; commits."""
    course = db.session.get(Course, course_id)
    if course is None:
        raise RubricNotFound(course_id)
    row = _new_row(course, _checked(rubric))
    db.session.commit()
    return row


def _checked(rubric: Rubric) -> Rubric:
    """Round-trip through the validator: nothing invalid ever reaches the table."""
    return parse_rubric(rubric_to_data(rubric))


@dataclass(frozen=True)
class SaveResult:
    row: RubricRow
    new_version: bool


def save_rubric(course_id: int, rubric_id: int, rubric: Rubric) -> SaveResult:
    """Save changes to one of the course's rubrics; commits.

    A frozen version is never changed: the changes become version n+1 of the same lineage,
    ``is_latest`` moves to it, and the course's activities that used version n now use n+1
    (evaluations already submitted keep pointing at n).
    """
    current = editable_rubric(course_id, rubric_id)
    rubric = _checked(rubric)
    if not is_frozen(current):
        current.title = rubric.title
        current.scoring_mode = rubric.scoring_mode
        current.definition = rubric_io.to_json(rubric)
        db.session.commit()
        return SaveResult(current, new_version=False)
    successor = RubricRow(
        platform_id=current.platform_id,
        course_id=current.course_id,
        lineage_id=current.lineage_id,
        version=current.version + 1,
        title=rubric.title,
        scoring_mode=rubric.scoring_mode,
        definition=rubric_io.to_json(rubric),
        shared=current.shared,
        frozen=False,
        is_latest=True,
    )
    current.is_latest = False
    db.session.add(successor)
    db.session.flush()
    db.session.execute(
        update(Activity)
        .where(Activity.course_id == course_id, Activity.rubric_id == current.id)
        .values(rubric_id=successor.id)
    )
    db.session.commit()
    return SaveResult(successor, new_version=True)


def copy_rubric(course_id: int, rubric_id: int) -> RubricRow:
    """Duplicate a rubric the course can see (its own, or a shared one) as a new private rubric.

    The copy starts a new lineage at version 1 and is never frozen, whatever the original was.
    """
    source = rubric_for_course(course_id, rubric_id)
    course = db.session.get(Course, course_id)
    assert course is not None  # rubric_for_course looked it up
    original = definition(source)
    title = f"Copy of {original.title}"[:200]
    row = _new_row(course, _retitled(original, title))
    db.session.commit()
    return row


def _retitled(rubric: Rubric, title: str) -> Rubric:
    data = rubric_to_data(rubric)
    data["title"] = title
    return parse_rubric(data)


def set_shared(course_id: int, rubric_id: int, shared: bool) -> RubricRow:
    """Share (or stop sharing) every version of one of the course's rubrics; commits.

    Courses that already copied it keep their copies: a copy is theirs.
    """
    row = editable_rubric(course_id, rubric_id)
    db.session.execute(
        update(RubricRow).where(RubricRow.lineage_id == row.lineage_id).values(shared=shared)
    )
    db.session.commit()
    db.session.refresh(row)
    return row


def delete_rubric(course_id: int, rubric_id: int) -> bool:
    """Delete every version of one of the course's rubrics unless an evaluation used one.

    Returns False (and deletes nothing) when evaluations point at it: they must keep their
    rubric. Activities using it are left without a rubric.
    """
    row = editable_rubric(course_id, rubric_id)
    if lineage_in_use(row):
        return False
    lineage = versions(row)
    ids = [version.id for version in lineage]
    # Explicit, not left to ON DELETE: SQLite enforces foreign keys only when asked to.
    db.session.execute(update(Activity).where(Activity.rubric_id.in_(ids)).values(rubric_id=None))
    db.session.execute(update(Project).where(Project.rubric_id.in_(ids)).values(rubric_id=None))
    for version in lineage:
        db.session.delete(version)
    db.session.commit()
    return True


def choose_for_activity(viewer: Viewer, activity: Activity, rubric_id: int | None) -> None:
    """Make one of the course's own rubrics (its latest version) the activity's rubric; commits.

    A rubric shared by another course has to be copied first, so nobody outside the course can
    change what its supervisors fill in.
    """
    if activity.course_id != viewer.course_id:
        raise RubricNotFound(activity.id)
    if rubric_id is None:
        activity.rubric_id = None
    else:
        activity.rubric_id = editable_rubric(viewer.course_id, rubric_id).id
    db.session.commit()


# ------------------------------------------------------------------- for the review feature


def freeze_rubric(rubric_id: int) -> RubricRow:
    """Mark a rubric version as used by a submitted evaluation, so it never changes again.

    Call it in the same transaction that sets an evaluation's status to "submitted" (it only
    flushes; the caller commits). Idempotent.
    """
    row = db.session.get(RubricRow, rubric_id)
    if row is None:
        raise RubricNotFound(rubric_id)
    if not row.frozen:
        row.frozen = True
        db.session.flush()
    return row


def rubric_for_evaluation(
    activity: Activity,
    evaluation: Evaluation | None = None,
    project: Project | None = None,
) -> tuple[RubricRow, Rubric] | None:
    """The rubric version an evaluation is (or will be) filled against, and its definition.

    * a submitted evaluation: exactly the version it points at, whatever happened since;
    * a draft, or no evaluation yet: the latest version of the project's own rubric if the
      catalog gave it one, else of the activity's rubric (the default), so a supervisor who
      saves a draft while the instructor edits sees the current rubric. The caller sets
      ``evaluation.rubric_id`` to the returned row's id when it saves.

    None when neither the project nor the activity has a rubric yet.
    """
    if evaluation is not None and evaluation.status == "submitted":
        row = db.session.get(RubricRow, evaluation.rubric_id)
    else:
        chosen_id = (project.rubric_id if project is not None else None) or activity.rubric_id
        chosen = db.session.get(RubricRow, chosen_id) if chosen_id is not None else None
        row = latest_version(chosen) if chosen is not None else None
    if row is None:
        return None
    return row, definition(row)


# ---------------------------------------------------------------------------- files in/out


def detect_format(filename: str, data: bytes) -> FileFormat:
    """By extension when it says, else by content (a JSON object starts with "{")."""
    suffix = PurePath(filename or "").suffix.lower()
    if suffix == ".json":
        return "json"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return "json" if head in (b"{", b"[") else "csv"


def read_rubric_files(filename: str, data: bytes) -> tuple[Rubric, ...]:
    """Every rubric in a Stint JSON file or Canvas CSV; RubricFileInvalid lists all problems."""
    if len(data) > MAX_FILE_BYTES:
        raise RubricFileInvalid(
            [FileProblem("(file)", f"is larger than {MAX_FILE_BYTES // 1024} KB")]
        )
    if not data.strip():
        raise RubricFileInvalid([FileProblem("(file)", "is empty")])
    if detect_format(filename, data) == "json":
        try:
            return (rubric_io.loads(data),)
        except RubricInvalid as error:
            raise RubricFileInvalid(
                [FileProblem(p.path or "(file)", p.message) for p in error.problems]
            ) from None
    try:
        return rubric_io.rubrics_from_canvas_csv(rubric_io.decode_csv_bytes(data))
    except rubric_io.ImportProblems as error:
        raise RubricFileInvalid(
            [
                FileProblem(
                    f"row {p.row}" + (f", column '{p.column}'" if p.column else ""), p.message
                )
                for p in error.problems
            ]
        ) from None


def read_rubric_file(filename: str, data: bytes) -> Rubric:
    """The one rubric in an uploaded file (a Canvas CSV may hold several: one at a time)."""
    found = read_rubric_files(filename, data)
    if len(found) > 1:
        names = ", ".join(repr(rubric.title) for rubric in found)
        raise RubricFileInvalid(
            [
                FileProblem(
                    "column 'Rubric Name'",
                    f"the file holds {len(found)} rubrics ({names}); import one at a time",
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


# ---------------------------------------------------------------- the builder's working copy
#
# The builder edits a *draft*: the rubric body of Stint's JSON format (rubric_to_data), with
# points as the text a person typed. Structural buttons (add, remove, move) change the draft
# and the form is shown again; only "Save" validates and stores it.


def template_draft(slug: str | None) -> dict[str, Any]:
    """A draft from a built-in template, or a small blank one to start from scratch."""
    if slug:
        template = BUILTIN_TEMPLATES.get(slug)
        if template is None:
            raise RubricNotFound(slug)
        return rubric_to_data(template)
    return {
        "title": "",
        "description": "",
        "scoring_mode": "canvas",
        "lock_zero_points": True,
        "criteria": [_blank_criterion("c1")],
    }


def draft_from_row(row: RubricRow) -> dict[str, Any]:
    return rubric_to_data(definition(row))


def _blank_level(level_id: str, title: str = "", points: str = "") -> dict[str, Any]:
    return {"id": level_id, "title": title, "description": "", "points": points}


def _blank_criterion(criterion_id: str) -> dict[str, Any]:
    return {
        "id": criterion_id,
        "title": "",
        "description": "",
        "long_description": "",
        "use_range": False,
        "ignore_for_scoring": False,
        "allow_comment": True,
        "levels": [
            _blank_level("l1", "Meets expectations", "2"),
            _blank_level("l2", "Not yet", "0"),
        ],
    }


def _fresh_id(prefix: str, taken: Sequence[Mapping[str, Any]]) -> str:
    used = {str(item.get("id")) for item in taken}
    number = len(taken) + 1
    while f"{prefix}{number}" in used:
        number += 1
    return f"{prefix}{number}"


_ACTION = re.compile(
    r"^(?P<verb>add-criterion|remove-criterion|criterion-up|criterion-down|add-level|"
    r"remove-level|level-up|level-down)(?:-(?P<i>\d+))?(?:-(?P<j>\d+))?$"
)


class UnknownAction(ValueError):  # noqa: N818 -- a 400 for a button that does not exist
    pass


def apply_builder_action(draft: dict[str, Any], action: str) -> dict[str, Any]:
    """Apply one structural button to the draft (changing it in place) and return it.

    Buttons name what they act on by position (``add-level-2``, ``level-up-2-1``). A position
    that does not exist raises UnknownAction: someone changed the page by hand.
    """
    match = _ACTION.match(action)
    if match is None:
        raise UnknownAction(action)
    verb = match["verb"]
    criteria: list[dict[str, Any]] = draft.setdefault("criteria", [])
    if verb == "add-criterion":
        if len(criteria) >= MAX_CRITERIA:
            raise UnknownAction(action)
        criteria.append(_blank_criterion(_fresh_id("c", criteria)))
        return draft
    i = _index(match["i"], len(criteria), action)
    if verb == "remove-criterion":
        del criteria[i]
        return draft
    if verb in ("criterion-up", "criterion-down"):
        j = i - 1 if verb == "criterion-up" else i + 1
        if not 0 <= j < len(criteria):
            raise UnknownAction(action)
        criteria[i], criteria[j] = criteria[j], criteria[i]
        return draft
    levels: list[dict[str, Any]] = criteria[i].setdefault("levels", [])
    if verb == "add-level":
        if len(levels) >= MAX_LEVELS:
            raise UnknownAction(action)
        levels.append(_blank_level(_fresh_id("l", levels)))
        return draft
    k = _index(match["j"], len(levels), action)
    if verb == "remove-level":
        del levels[k]
        return draft
    other = k - 1 if verb == "level-up" else k + 1
    if not 0 <= other < len(levels):
        raise UnknownAction(action)
    levels[k], levels[other] = levels[other], levels[k]
    return draft


def _index(text: str | None, length: int, action: str) -> int:
    if text is None or not 0 <= int(text) < length:
        raise UnknownAction(action)
    return int(text)


def check_draft(draft: Mapping[str, Any]) -> tuple[Rubric | None, list[Problem]]:
    """Every problem in the draft at once, or the rubric it makes."""
    problems = validate_rubric_data(draft)
    if problems:
        return None, problems
    return parse_rubric(draft), []


_PATH_PART = re.compile(r"\.?([A-Za-z_]+)|\[(\d+)\]")
_FIELD_NAMES: Final = {
    "title": "title",
    "description": "description",
    "long_description": "longer description",
    "points": "points",
    "id": "id",
    "levels": "levels",
    "criteria": "criteria",
    "scoring_mode": "scoring mode",
    "lock_zero_points": "lock zero points",
    "use_range": "points as a range",
    "ignore_for_scoring": "left out of the score",
    "allow_comment": "comments",
}


def field_id(path: str) -> str:
    """The builder form's HTML id for a problem path: criteria[1].levels[0].points ->
    criteria-1-levels-0-points (the names WTForms gives FieldList entries)."""
    return re.sub(r"\[(\d+)\]", r"-\1", path).replace(".", "-") or "rubric"


def describe_path(path: str) -> str:
    """A problem path in words: criteria[1].levels[0].points -> Criterion 2, level 1, points."""
    if not path:
        return "Rubric"
    words: list[str] = []
    last_name = ""
    for name, index in _PATH_PART.findall(path):
        if name:
            last_name = name
            if name not in ("criteria", "levels") or path.endswith(name):
                words.append(_FIELD_NAMES.get(name, name.replace("_", " ")))
        else:
            noun = "criterion" if last_name == "criteria" else "level"
            words.append(f"{noun} {int(index) + 1}")
    text = ", ".join(words)
    return text[:1].upper() + text[1:]
