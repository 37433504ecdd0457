"""Every problem with a rubric or a set of selections, each with the path where it sits.

A rubric comes from a builder form, a JSON file or a Canvas CSV, and the person behind it
should fix everything in one pass, so nothing here stops at the first problem and nothing
raises on malformed input: validators return lists, and only the `parse_*`/`require_*`
helpers raise, with the whole list attached.

Two layers run on rubric data: the JSON Schema shipped in `rubrics/schema/` (the structure
other tools can check too) and semantic rules a schema cannot express (unique ids, the highest
level worth more than the lowest, ...). When both flag the same path, the schema's message is
kept, so a person never sees the same mistake twice.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any, Final, cast

import jsonschema

from rubrics.codec import (
    ARITHMETIC,
    POINTS_QUANTUM,
    PointsError,
    parse_points,
    points_to_text,
    rubric_to_data,
)
from rubrics.model import SCORING_MODES, Criterion, Level, Rubric, ScoringMode, Selection

SCHEMA_PATH: Final = Path(__file__).resolve().parent / "schema" / "rubric-v1.schema.json"
MAX_COMMENT_LENGTH: Final = 10_000

PathPart = str | int


Values = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong. `path` looks like `criteria[2].levels[0].points` ("" is the whole).

    `message` is English for developers (the CLI's log, a failing test); people read the
    problem worded from `code` and `values` in their language (`lti_app.services.rubrics.
    problems.problem_text`). A code of "" has no wording of its own: only code that builds
    rubrics by hand can cause it, and the message is shown as it is.
    """

    path: str
    message: str
    code: str = ""
    values: Values = ()

    def __str__(self) -> str:
        return f"{self.path or '(rubric)'}: {self.message}"


class ProblemsError(Exception):
    """Carries the full list so a caller can show all of it, never a trace."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))


class RubricInvalid(ProblemsError):  # noqa: N818 -- name fixed by the public API
    """The rubric data (or a hand-built Rubric) breaks the rules."""


class SelectionsInvalid(ProblemsError):  # noqa: N818 -- pairs with RubricInvalid
    """The selections do not fit the rubric they claim to fill."""


def format_path(parts: Sequence[PathPart]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


@dataclass(frozen=True)
class _Found:
    parts: tuple[PathPart, ...]
    message: str
    code: str = ""
    values: Values = ()


def _sort_key(found: _Found) -> tuple[tuple[int, int, str], ...]:
    return tuple((1, part, "") if isinstance(part, int) else (0, 0, part) for part in found.parts)


# --------------------------------------------------------------------------- the schema layer


@functools.cache
def load_schema() -> dict[str, Any]:
    with SCHEMA_PATH.open(encoding="utf-8") as schema_file:
        return cast(dict[str, Any], json.load(schema_file))


@functools.cache
def _validator(*, require_envelope: bool) -> Any:
    schema = load_schema()
    if not require_envelope:
        # The body definition alone: builder forms post a rubric without the file envelope.
        schema = {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": "#/$defs/rubric"}
    return jsonschema.Draft202012Validator(schema)


_TYPE_NAMES: Final = {
    "string": "text",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
    "integer": "a whole number",
}


def _schema_problems(data: Mapping[str, object], *, require_envelope: bool) -> list[_Found]:
    found: list[_Found] = []
    for error in _validator(require_envelope=require_envelope).iter_errors(data):
        parts = tuple(cast(Iterable[PathPart], error.absolute_path))
        found.extend(_translate(error, parts))
    return found


def _translate(error: Any, parts: tuple[PathPart, ...]) -> list[_Found]:
    kind = error.validator
    value = error.validator_value
    instance = error.instance
    last = parts[-1] if parts else ""
    if kind == "required":
        present = instance if isinstance(instance, Mapping) else {}
        return [
            _Found((*parts, name), "is required", "required")
            for name in value
            if name not in present
        ]
    if kind == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        extras = sorted(str(key) for key in instance if key not in known)
        return [
            _Found((*parts, key), "is not a field this format knows", "unknown_field")
            for key in extras
        ]
    if kind == "type":
        wanted = [value] if isinstance(value, str) else list(value)
        if last == "points":
            return [_Found(parts, "must be a number", "not_a_number")]
        names = " or ".join(_TYPE_NAMES.get(name, name) for name in wanted)
        return [_Found(parts, f"must be {names}", "wrong_type", (("expected", "/".join(wanted)),))]
    if kind == "pattern":
        if last == "points":
            return [_Found(parts, "must be a number", "not_a_number")]
        return [
            _Found(
                parts,
                "must start with a letter or digit and use only letters, digits, '-', '_' "
                "and '.' (at most 64 characters)",
                "bad_id",
            )
        ]
    if kind == "minItems":
        if last == "levels":
            return [_Found(parts, "a criterion needs at least two levels", "too_few_levels")]
        if last == "criteria":
            return [_Found(parts, "a rubric needs at least one criterion", "no_criteria")]
        return [
            _Found(
                parts, f"needs at least {value} entries", "too_few_items", (("limit", str(value)),)
            )
        ]
    if kind == "const" and last == "version":
        return [
            _Found(
                parts,
                f"must be {value}; this Stint reads version {value} only",
                "version",
                (("version", str(value)),),
            )
        ]
    if kind == "enum":
        options = ", ".join(str(option) for option in value)
        return [
            _Found(
                parts,
                "must be one of: " + options,
                "not_one_of",
                (("options", options),),
            )
        ]
    simple: dict[str, tuple[str, str]] = {
        "minLength": ("must not be empty", "empty"),
        "maxLength": (f"must be at most {value} characters", "too_long"),
        "minimum": ("must not be negative", "negative"),
        "maximum": (f"must be at most {value}", "too_large"),
        "const": (f"must be {json.dumps(value)}", "must_equal"),
        "maxItems": (f"may hold at most {value} entries", "too_many_items"),
    }
    if kind in simple:
        message, code = simple[kind]
        shown = json.dumps(value) if kind == "const" else str(value)
        return [_Found(parts, message, code, (("limit", shown),))]
    return [_Found(parts, str(error.message), "schema", (("detail", str(error.message)),))]


# ------------------------------------------------------------------------- the semantic layer


def _semantic_problems(data: Mapping[str, object]) -> list[_Found]:
    found: list[_Found] = []
    title = data.get("title")
    if isinstance(title, str) and not title.strip():
        found.append(_Found(("title",), "must not be blank", "blank"))
    criteria = data.get("criteria")
    if not isinstance(criteria, list):
        return found
    if not criteria:
        found.append(_Found(("criteria",), "a rubric needs at least one criterion", "no_criteria"))
    first_use: dict[str, int] = {}
    all_ignored = bool(criteria)
    for index, criterion in enumerate(criteria):
        if not isinstance(criterion, Mapping):
            continue
        here: tuple[PathPart, ...] = ("criteria", index)
        criterion_id = criterion.get("id")
        if isinstance(criterion_id, str):
            if criterion_id in first_use:
                earlier = first_use[criterion_id]
                found.append(
                    _Found(
                        (*here, "id"),
                        f"'{criterion_id}' is already the id of criteria[{earlier}]",
                        "duplicate_criterion_id",
                        (("id", criterion_id), ("earlier", str(earlier + 1))),
                    )
                )
            else:
                first_use[criterion_id] = index
        if criterion.get("ignore_for_scoring") is not True:
            all_ignored = False
        found.extend(_criterion_problems(criterion, here))
    if all_ignored:
        found.append(
            _Found(
                ("criteria",),
                "at least one criterion must count towards the score",
                "nothing_scored",
            )
        )
    return found


def _criterion_problems(
    criterion: Mapping[str, object], here: tuple[PathPart, ...]
) -> list[_Found]:
    found: list[_Found] = []
    title = criterion.get("title")
    if isinstance(title, str) and not title.strip():
        found.append(_Found((*here, "title"), "must not be blank", "blank"))
    levels = criterion.get("levels")
    if not isinstance(levels, list):
        return found
    if len(levels) < 2:
        found.append(
            _Found((*here, "levels"), "a criterion needs at least two levels", "too_few_levels")
        )
    first_use: dict[str, int] = {}
    points: list[Decimal] = []
    points_all_valid = True
    for index, level in enumerate(levels):
        if not isinstance(level, Mapping):
            points_all_valid = False
            continue
        at: tuple[PathPart, ...] = (*here, "levels", index)
        level_id = level.get("id")
        if isinstance(level_id, str):
            if level_id in first_use:
                found.append(
                    _Found(
                        (*at, "id"),
                        f"'{level_id}' is already the id of levels[{first_use[level_id]}]",
                        "duplicate_level_id",
                        (("id", level_id), ("earlier", str(first_use[level_id] + 1))),
                    )
                )
            else:
                first_use[level_id] = index
        level_title = level.get("title")
        if isinstance(level_title, str) and not level_title.strip():
            found.append(_Found((*at, "title"), "must not be blank", "blank"))
        if "points" not in level:
            points_all_valid = False
            continue
        try:
            points.append(parse_points(level["points"]))
        except PointsError as error:
            found.append(_Found((*at, "points"), str(error), error.code, error.values))
            points_all_valid = False
    if points_all_valid and len(points) >= 2:
        highest, lowest = max(points), min(points)
        if highest <= lowest:
            found.append(
                _Found(
                    (*here, "levels"),
                    "the highest level must be worth more than the lowest "
                    f"(every level is worth {points_to_text(lowest)} points)",
                    "levels_all_equal",
                    (("points", points_to_text(lowest)),),
                )
            )
        elif criterion.get("use_range") is True and len(set(points)) != len(points):
            found.append(
                _Found(
                    (*here, "levels"),
                    "with points given as a range, each level needs different points",
                    "range_needs_distinct_points",
                )
            )
    return found


# ---------------------------------------------------------------------------------- rubrics


def validate_rubric_data(
    data: Mapping[str, object], *, require_envelope: bool = False
) -> list[Problem]:
    """All problems in rubric data, in document order.

    `require_envelope` is for files: they must say `"format": "stint-rubric", "version": 1`.
    Data from a builder form may leave the envelope out, but if present it must be right.
    """
    if not isinstance(data, Mapping):
        return [Problem("", "a rubric must be a JSON object", "not_an_object")]
    schema_found = _schema_problems(data, require_envelope=require_envelope)
    flagged = {found.parts for found in schema_found}
    semantic = [found for found in _semantic_problems(data) if found.parts not in flagged]
    ordered = sorted([*schema_found, *semantic], key=_sort_key)
    return [
        Problem(format_path(found.parts), found.message, found.code, found.values)
        for found in ordered
    ]


def parse_rubric(data: Mapping[str, object], *, require_envelope: bool = False) -> Rubric:
    problems = validate_rubric_data(data, require_envelope=require_envelope)
    if problems:
        raise RubricInvalid(problems)
    criteria = cast(list[Mapping[str, Any]], data["criteria"])
    scoring_mode = cast(ScoringMode, data.get("scoring_mode", "canvas"))
    assert scoring_mode in SCORING_MODES  # guaranteed by the schema's enum
    return Rubric(
        title=cast(str, data["title"]),
        description=cast(str, data.get("description", "")),
        criteria=tuple(_build_criterion(criterion) for criterion in criteria),
        scoring_mode=scoring_mode,
        lock_zero_points=cast(bool, data.get("lock_zero_points", True)),
    )


def _build_criterion(data: Mapping[str, Any]) -> Criterion:
    return Criterion(
        id=data["id"],
        title=data["title"],
        description=data.get("description", ""),
        long_description=data.get("long_description", ""),
        levels=tuple(
            Level(
                id=level["id"],
                title=level["title"],
                description=level.get("description", ""),
                points=parse_points(level["points"]),
            )
            for level in data["levels"]
        ),
        use_range=data.get("use_range", False),
        ignore_for_scoring=data.get("ignore_for_scoring", False),
        allow_comment=data.get("allow_comment", True),
    )


@functools.lru_cache(maxsize=512)
def _cached_rubric_problems(rubric: Rubric) -> tuple[Problem, ...]:
    return tuple(_rubric_problems(rubric))


def _rubric_problems(rubric: Rubric) -> list[Problem]:
    problems = validate_rubric_data(rubric_to_data(rubric))
    flagged = {problem.path for problem in problems}
    for criterion_index, criterion in enumerate(rubric.criteria):
        for level_index, level in enumerate(getattr(criterion, "levels", ())):
            path = f"criteria[{criterion_index}].levels[{level_index}].points"
            # JSON data may hold plain numbers, a Rubric may not: floats would creep in.
            if path not in flagged and not isinstance(getattr(level, "points", None), Decimal):
                problems.append(Problem(path, "must be a Decimal"))
    return problems


def validate_rubric(rubric: Rubric) -> list[Problem]:
    """The same rules for a Rubric built in code (templates, the builder, tests).

    Cached per rubric value because scoring re-checks the rubric on every call.
    """
    try:
        return list(_cached_rubric_problems(rubric))
    except TypeError:  # a hand-built rubric holding something unhashable (a list, a dict)
        return _rubric_problems(rubric)


def require_valid_rubric(rubric: Rubric) -> None:
    problems = validate_rubric(rubric)
    if problems:
        raise RubricInvalid(problems)


# ------------------------------------------------------------------------------- selections


def level_for_points(criterion: Criterion, points: Decimal) -> Level | None:
    """The level whose band holds `points` on a range criterion, as Canvas shows it.

    Level k covers (points of the next lower level, points of k]; the lowest level covers
    only its own points. None when the points fall outside the criterion's range.
    """
    ordered = sorted(criterion.levels, key=lambda level: level.points)
    if not ordered or points < ordered[0].points:
        return None
    return next((level for level in ordered if points <= level.points), None)


def validate_selections(rubric: Rubric, selections: Sequence[Selection]) -> list[Problem]:
    """Problems with what a grader chose; paths look like `selections[1].points`.

    A selection with neither a level nor points is allowed: it is a draft (maybe only a
    comment so far) and counts as a missing criterion when scored.
    """
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, selection in enumerate(selections):
        here = f"selections[{index}]"
        if not isinstance(selection, Selection):
            problems.append(Problem(here, "must be a Selection"))
            continue
        criterion = (
            rubric.criterion(selection.criterion_id)
            if isinstance(selection.criterion_id, str)
            else None
        )
        if criterion is None:
            problems.append(
                Problem(f"{here}.criterion_id", f"no criterion '{selection.criterion_id}'")
            )
            continue
        if criterion.id in seen:
            problems.append(
                Problem(
                    f"{here}.criterion_id",
                    f"'{criterion.title}' is already filled by selections[{seen[criterion.id]}]",
                )
            )
            continue
        seen[criterion.id] = index
        with localcontext(ARITHMETIC):
            problems.extend(_selection_problems(criterion, selection, here))
    return problems


def _selection_problems(criterion: Criterion, selection: Selection, here: str) -> list[Problem]:
    problems: list[Problem] = []
    name = f"'{criterion.title}'"
    level: Level | None = None
    if selection.level_id is not None:
        level = criterion.level(selection.level_id) if isinstance(selection.level_id, str) else None
        if level is None:
            problems.append(
                Problem(f"{here}.level_id", f"{name} has no level '{selection.level_id}'")
            )
    points = selection.points
    if points is not None:
        if not isinstance(points, Decimal) or not points.is_finite():
            problems.append(Problem(f"{here}.points", "must be a finite Decimal"))
        elif not criterion.use_range:
            if selection.level_id is None:
                problems.append(
                    Problem(
                        f"{here}.level_id",
                        f"choose a level for {name}; points can be typed in only on a range "
                        "criterion",
                    )
                )
            elif level is not None and points != level.points:
                problems.append(
                    Problem(
                        f"{here}.points",
                        f"{points_to_text(points)} does not match level '{level.title}' "
                        f"({points_to_text(level.points)} points)",
                    )
                )
        elif not criterion.min_points <= points <= criterion.max_points:
            problems.append(
                Problem(
                    f"{here}.points",
                    f"must be between {points_to_text(criterion.min_points)} and "
                    f"{points_to_text(criterion.max_points)} for {name}",
                )
            )
        elif points != points.quantize(POINTS_QUANTUM):
            problems.append(Problem(f"{here}.points", "may have at most 4 decimal places"))
        elif level is not None and level_for_points(criterion, points) != level:
            problems.append(
                Problem(
                    f"{here}.points",
                    f"{points_to_text(points)} lies outside the band of level '{level.title}'",
                )
            )
    if not isinstance(selection.comment, str):
        problems.append(Problem(f"{here}.comment", "must be text"))
    elif selection.comment.strip() and not criterion.allow_comment:
        problems.append(Problem(f"{here}.comment", f"{name} does not take comments"))
    elif len(selection.comment) > MAX_COMMENT_LENGTH:
        problems.append(
            Problem(f"{here}.comment", f"must be at most {MAX_COMMENT_LENGTH} characters")
        )
    return problems


def require_valid_selections(rubric: Rubric, selections: Sequence[Selection]) -> None:
    problems = validate_selections(rubric, selections)
    if problems:
        raise SelectionsInvalid(problems)
