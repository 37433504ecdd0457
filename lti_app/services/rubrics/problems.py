"""A filled-in rubric's problems, worded for the person who filled it in.

The pure ``rubrics`` package reports a problem as a path and an English sentence meant for
developers ("selections[2].points: must be between 0 and 10 for 'Teamwork'"). A supervisor
(or an instructor) reads instead one sentence in their language that names the criterion by
its title and says what to do. The path says which selection and which part of it; the
criterion's own rules (its range, whether it takes a comment) give the numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Final

from flask_babel import gettext as _

from lti_app.formatting import format_number
from rubrics.io import CsvProblem
from rubrics.model import Criterion, Rubric, Selection
from rubrics.validation import MAX_COMMENT_LENGTH, Problem

_PATH = re.compile(r"^selections\[(\d+)\]\.(\w+)$")


def worded_problems(
    rubric: Rubric, problems: Sequence[Problem], selections: Sequence[Selection] | None = None
) -> list[str]:
    """Each problem as one sentence for the reader, without repeats.

    ``selections`` is the list ``validate_selections`` checked (its paths index that list);
    without it, the paths index the rubric's criteria, as ``rubrics.form`` reports them.
    """
    worded: list[str] = []
    for problem in problems:
        sentence = _word(rubric, problem, selections)
        if sentence not in worded:
            worded.append(sentence)
    return worded


def problems_by_criterion(
    rubric: Rubric, problems: Sequence[Problem], selections: Sequence[Selection] | None = None
) -> dict[str, list[str]]:
    """The same sentences as ``worded_problems``, by the id of the criterion each is about.

    A form shows them beside that criterion's fields (and ``worded_problems`` in its summary);
    a problem that names no criterion of the rubric has no field and stays in the summary.
    """
    beside: dict[str, list[str]] = {}
    for problem in problems:
        found = _PATH.match(problem.path)
        criterion = _criterion(rubric, int(found.group(1)), selections) if found else None
        if criterion is None:
            continue
        sentence = _word(rubric, problem, selections)
        if sentence not in beside.setdefault(criterion.id, []):
            beside[criterion.id].append(sentence)
    return beside


def missing_level_text(criterion: Criterion) -> str:
    """A criterion left unrated where every criterion must be rated (the wording of a level
    that does not belong to it, so the grader reads one sentence for both)."""
    return str(_("Choose one of the levels of “%(criterion)s”.", criterion=criterion.title))


def _criterion(
    rubric: Rubric, index: int, selections: Sequence[Selection] | None
) -> Criterion | None:
    if selections is None:
        return rubric.criteria[index] if index < len(rubric.criteria) else None
    if index >= len(selections):
        return None
    return rubric.criterion(selections[index].criterion_id)


def _word(rubric: Rubric, problem: Problem, selections: Sequence[Selection] | None) -> str:
    found = _PATH.match(problem.path)
    criterion = _criterion(rubric, int(found.group(1)), selections) if found else None
    if found is None or criterion is None:
        return str(
            _("The form no longer matches this rubric. Reload the page and fill it in again.")
        )
    part = found.group(2)
    if part == "points" and criterion.use_range:
        return str(
            _(
                "Points for “%(criterion)s” must be a number from %(low)s to %(high)s.",
                criterion=criterion.title,
                low=format_number(criterion.min_points),
                high=format_number(criterion.max_points),
            )
        )
    if part in ("points", "level_id"):
        return missing_level_text(criterion)
    if part == "comment" and not criterion.allow_comment:
        return str(_("“%(criterion)s” takes no comment.", criterion=criterion.title))
    if part == "comment":
        return str(
            _(
                "The comment on “%(criterion)s” may be at most %(limit)s characters long.",
                criterion=criterion.title,
                limit=MAX_COMMENT_LENGTH,
            )
        )
    return str(_("The form no longer matches this rubric. Reload the page and fill it in again."))


# ------------------------------------------------------- a rubric's or a rubric file's problems
#
# The builder and the file import show each problem after its place ("Criterion 2, title:
# must not be blank"), so these are worded as what follows that place. One wording per code;
# a Canvas CSV calls levels "ratings", so the codes that name levels have a Canvas wording too.


def _limit(values: dict[str, str]) -> dict[str, str]:
    """A limit that is a number is written the reader's way (1 000 000 in French)."""
    try:
        return {**values, "limit": format_number(Decimal(values["limit"]))}
    except (KeyError, InvalidOperation):
        return values


_WORDING: Final[dict[str, Callable[[dict[str, str]], str]]] = {
    "required": lambda v: _("is required"),
    "unknown_field": lambda v: _("is not a field this format knows"),
    "not_a_number": lambda v: _("must be a number"),
    "wrong_type": lambda v: _("must be of the JSON type %(expected)s", expected=v["expected"]),
    "bad_id": lambda v: _(
        "must start with a letter or digit and use only letters, digits, “-”, “_” and “.” "
        "(at most 64 characters)"
    ),
    "too_few_levels": lambda v: _("a criterion needs at least two levels"),
    "no_criteria": lambda v: _("a rubric needs at least one criterion"),
    "too_few_items": lambda v: _("needs at least %(limit)s entries", limit=v["limit"]),
    "version": lambda v: _(
        "must be %(version)s; this Stint reads version %(version)s only", version=v["version"]
    ),
    "not_one_of": lambda v: _("must be one of: %(options)s", options=v["options"]),
    "empty": lambda v: _("must not be empty"),
    "too_long": lambda v: _("must be at most %(limit)s characters", limit=v["limit"]),
    "negative": lambda v: _("must not be negative"),
    "too_large": lambda v: _("must be at most %(limit)s", limit=v["limit"]),
    "too_many_places": lambda v: _(
        "may have at most %(places)s decimal places", places=v["places"]
    ),
    "must_equal": lambda v: _("must be %(limit)s", limit=v["limit"]),
    "too_many_items": lambda v: _("may hold at most %(limit)s entries", limit=v["limit"]),
    "schema": lambda v: _("is not accepted: %(detail)s", detail=v["detail"]),
    "blank": lambda v: _("must not be blank"),
    "duplicate_criterion_id": lambda v: _(
        "“%(id)s” is already the id of criterion %(earlier)s", id=v["id"], earlier=v["earlier"]
    ),
    "duplicate_level_id": lambda v: _(
        "“%(id)s” is already the id of level %(earlier)s", id=v["id"], earlier=v["earlier"]
    ),
    "nothing_scored": lambda v: _("at least one criterion must count towards the score"),
    "levels_all_equal": lambda v: _(
        "the highest level must be worth more than the lowest (every level is worth "
        "%(points)s points)",
        points=v["points"],
    ),
    "range_needs_distinct_points": lambda v: _(
        "with points given as a range, each level needs different points"
    ),
    "not_an_object": lambda v: _("a rubric must be a JSON object"),
    "not_json_at": lambda v: _(
        "is not valid JSON (line %(line)s, column %(column)s)", line=v["line"], column=v["column"]
    ),
    "not_json": lambda v: _("is not valid JSON"),
    "column_missing": lambda v: _(
        "column is missing; expected %(expected)s", expected=v["expected"]
    ),
    "no_rating_columns": lambda v: _(
        "no rating columns; each rating needs %(name)s, %(description)s and %(points_column)s",
        **v,
    ),
    "rating_columns_uneven": lambda v: _(
        "%(names)s “%(name)s”, %(descriptions)s “%(description)s” and %(points)s "
        "“%(points_column)s” columns; each rating needs one of each",
        **v,
    ),
    "value_without_header": lambda v: _("has a value but no header; it was ignored"),
    "no_rubric_name": lambda v: _("a row needs a rubric name"),
    "not_true_or_false": lambda v: _("must be true or false (or 1 or 0)"),
    "not_csv": lambda v: _("is not a readable CSV file"),
    "file_empty": lambda v: _("the file is empty"),
    "no_rows": lambda v: _("the file has a header but no criteria rows"),
    "several_rubrics": lambda v: _(
        "the file holds %(count)s rubrics (%(names)s); import one at a time", **v
    ),
}


_CANVAS_WORDING: Final[dict[str, Callable[[dict[str, str]], str]]] = {
    "too_few_levels": lambda v: _("a criterion needs at least two ratings"),
    "levels_all_equal": lambda v: _(
        "the highest rating must be worth more than the lowest (every rating is worth "
        "%(points)s points)",
        points=v["points"],
    ),
    "range_needs_distinct_points": lambda v: _(
        "with points given as a range, each rating needs different points"
    ),
}


def problem_text(problem: Problem | CsvProblem, *, canvas: bool = False) -> str:
    """What is wrong, in the reader's language, to follow the problem's place.

    A problem without a code (only a rubric built by hand in code can give one) keeps the
    package's English message."""
    wording = (_CANVAS_WORDING.get(problem.code) if canvas else None) or _WORDING.get(problem.code)
    if wording is None:
        return problem.message
    values = dict(problem.values)
    if "points" in values and problem.code == "levels_all_equal":
        values["points"] = format_number(Decimal(values["points"]))
    return str(wording(_limit(values)))
