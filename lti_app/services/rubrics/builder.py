"""The rubric builder's working copy, and how its problems and totals are shown.

The builder edits a *draft*: the rubric body of Stint's JSON format (rubric_to_data), with
points as the text a person typed. Structural buttons (add, remove, move) change the draft
and the form is shown again; only "Save" validates and stores it (`editing.create_rubric`,
`editing.save_rubric`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lti_app.models import Rubric as RubricRow
from lti_app.services.rubrics.access import RubricNotFound, definition
from rubrics.codec import rubric_to_data
from rubrics.model import Rubric
from rubrics.scoring import ScoreResult, score
from rubrics.templates import BUILTIN_TEMPLATES
from rubrics.validation import Problem, parse_rubric, validate_rubric_data

MAX_CRITERIA: Final = 100


MAX_LEVELS: Final = 20


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
        # Level names a new criterion starts with, in the instructor's language: they are
        # what supervisors will read unless the instructor changes them.
        "levels": [
            _blank_level("l1", _("Meets expectations"), "2"),
            _blank_level("l2", _("Not yet"), "0"),
        ],
    }


def blank_criterion() -> dict[str, Any]:
    """A new criterion with no id yet: the builder's script copies it and picks a free id."""
    return _blank_criterion("")


def blank_level() -> dict[str, Any]:
    """A new level with no id yet, for the builder's script as `blank_criterion`."""
    return _blank_level("")


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
    "title": _l("title"),
    "description": _l("description"),
    "long_description": _l("longer description"),
    "points": _l("points"),
    "id": _l("id"),
    "levels": _l("levels"),
    "criteria": _l("criteria"),
    "scoring_mode": _l("scoring mode"),
    "lock_zero_points": _l("lock zero points"),
    "use_range": _l("points as a range"),
    "ignore_for_scoring": _l("left out of the score"),
    "allow_comment": _l("comments"),
}


def field_id(path: str) -> str:
    """The builder form's HTML id for a problem path: criteria[1].levels[0].points ->
    criteria-1-levels-0-points (the names WTForms gives FieldList entries)."""
    return re.sub(r"\[(\d+)\]", r"-\1", path).replace(".", "-") or "rubric"


def describe_path(path: str) -> str:
    """A problem path in words: criteria[1].levels[0].points -> Criterion 2, level 1, points
    (in the reader's language; the pieces are a list, each one translated whole)."""
    if not path:
        return str(_("Rubric"))
    words: list[str] = []
    last_name = ""
    for name, index in _PATH_PART.findall(path):
        if name:
            last_name = name
            if name not in ("criteria", "levels") or path.endswith(name):
                words.append(str(_FIELD_NAMES.get(name, name.replace("_", " "))))
        elif last_name == "criteria":
            words.append(str(_("criterion %(n)s", n=int(index) + 1)))
        else:
            words.append(str(_("level %(n)s", n=int(index) + 1)))
    text = ", ".join(words)
    return text[:1].upper() + text[1:]
