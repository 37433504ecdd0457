"""Reading a filled-in rubric form back into Selections: one set of rules for every grader.

The supervisor's review page and the instructor's evaluation page render the same form
(`templates/macros/rubric_form.html`), so they read it back the same way here. Field names are
``{prefix}-{criterion id}-level`` (a level id), ``-points`` (range criteria only) and
``-comment``. The rules:

* points may be written with a decimal comma ("7,5"), as many graders in Europe type them;
* on a range criterion, typed points with no level chosen select the level whose band holds
  them (`rubrics.validation.level_for_points`), as Canvas shows it;
* a comment on a criterion that does not take comments is dropped, not refused: the form
  shows no comment box there, so only a hand-made post can carry one;
* points that are not a number are reported (`FormInvalid`), never guessed or silently lost.

The form is any mapping of field name to text (Flask's ``request.form`` is one). The result is
not validated against the rubric beyond that: call `rubrics.validation.validate_selections`
before storing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Final

from rubrics.model import Criterion, Rubric, Selection
from rubrics.validation import MAX_COMMENT_LENGTH, Problem, ProblemsError, level_for_points

DEFAULT_PREFIX: Final = "rubric"


class FormInvalid(ProblemsError):  # noqa: N818 -- pairs with RubricInvalid, SelectionsInvalid
    """Something typed into the form cannot be read; ``problems`` lists every such field.

    Paths look like ``selections[2].points``, where 2 is the criterion's position in the rubric.
    """


def field_name(criterion_id: str, part: str, prefix: str = DEFAULT_PREFIX) -> str:
    """The form field for one part (``level``, ``points``, ``comment``) of a criterion."""
    return f"{prefix}-{criterion_id}-{part}"


def parse_points(text: str) -> Decimal:
    """Points as a person types them: "7.5" or "7,5". ValueError when not a finite number."""
    try:
        points = Decimal(text.strip().replace(",", "."))
    except ArithmeticError as exc:  # InvalidOperation, and any other signal trapped
        raise ValueError(text) from exc
    if not points.is_finite():
        raise ValueError(text)
    return points


def selections_from_form(
    rubric: Rubric, form: Mapping[str, str], prefix: str = DEFAULT_PREFIX
) -> list[Selection]:
    """The selections the form holds, in the rubric's order; criteria left empty are left out.

    Raises FormInvalid, listing every unreadable field, when points are not a number.
    """
    selections: list[Selection] = []
    problems: list[Problem] = []
    for index, criterion in enumerate(rubric.criteria):
        selection = _selection(criterion, form, prefix, index, problems)
        if selection is not None:
            selections.append(selection)
    if problems:
        raise FormInvalid(problems)
    return selections


def _selection(
    criterion: Criterion,
    form: Mapping[str, str],
    prefix: str,
    index: int,
    problems: list[Problem],
) -> Selection | None:
    def text(part: str) -> str:
        return (form.get(field_name(criterion.id, part, prefix)) or "").strip()

    level_id = text("level") or None
    points: Decimal | None = None
    points_text = text("points")
    if criterion.use_range and points_text:
        try:
            points = parse_points(points_text)
        except ValueError:
            problems.append(
                Problem(f"selections[{index}].points", f"'{criterion.title}': not a number")
            )
    if criterion.use_range and points is not None and level_id is None:
        level = level_for_points(criterion, points)
        level_id = level.id if level else None
    comment = text("comment")[:MAX_COMMENT_LENGTH] if criterion.allow_comment else ""
    if level_id is None and points is None and not comment:
        return None
    return Selection(criterion.id, level_id, points, comment)
