"""The rubric as plain, immutable data.

Frozen dataclasses with tuples inside, so a rubric can be hashed, cached, compared after a
round trip through JSON or CSV, and frozen against an evaluation without defensive copies.
Construction does not validate: a rubric built by hand should go through
`rubrics.validation.validate_rubric` (or be parsed with `parse_rubric`) before it is trusted.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

ScoringMode = Literal["canvas", "moodle"]
SCORING_MODES: tuple[ScoringMode, ...] = ("canvas", "moodle")


@dataclass(frozen=True)
class Level:
    """One achievement level (Canvas calls it a rating) of a criterion."""

    id: str
    title: str
    description: str
    points: Decimal


@dataclass(frozen=True)
class Criterion:
    """One row of the rubric.

    `use_range` is Canvas's `criterion_use_range`: the grader may give any points between the
    lowest and highest level instead of picking a level. `ignore_for_scoring` is Canvas's
    option of the same name: the criterion is assessed and commented on, but neither its
    points nor its maximum count towards the score.
    """

    id: str
    title: str
    description: str = ""
    long_description: str = ""
    levels: tuple[Level, ...] = ()
    use_range: bool = False
    ignore_for_scoring: bool = False
    allow_comment: bool = True

    @property
    def max_points(self) -> Decimal:
        return max((level.points for level in self.levels), default=Decimal(0))

    @property
    def min_points(self) -> Decimal:
        return min((level.points for level in self.levels), default=Decimal(0))

    def level(self, level_id: str) -> Level | None:
        return next((level for level in self.levels if level.id == level_id), None)


@dataclass(frozen=True)
class Rubric:
    """A whole rubric; `scoring_mode` decides how selections become a grade.

    `lock_zero_points` only matters in Moodle mode and mirrors Moodle's rubric option of the
    same name (on by default there too).
    """

    title: str
    description: str
    criteria: tuple[Criterion, ...]
    scoring_mode: ScoringMode = "canvas"
    lock_zero_points: bool = True

    def criterion(self, criterion_id: str) -> Criterion | None:
        return next((c for c in self.criteria if c.id == criterion_id), None)

    @property
    def scored_criteria(self) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if not c.ignore_for_scoring)


@dataclass(frozen=True)
class Selection:
    """What a grader chose for one criterion.

    A fixed-level criterion needs `level_id` (`points`, if given, must equal that level's
    points). A range criterion takes `points` between its lowest and highest level, a
    `level_id`, or both when they agree.
    """

    criterion_id: str
    level_id: str | None = None
    points: Decimal | None = None
    comment: str = ""
