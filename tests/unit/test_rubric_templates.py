"""The built-in templates are valid, complete and written the same way throughout."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rubrics.io import dumps, from_canvas_csv, loads, to_canvas_csv
from rubrics.model import Rubric, Selection
from rubrics.scoring import score
from rubrics.templates import BUILTIN_TEMPLATES
from rubrics.validation import validate_rubric

EXPECTED_CRITERIA = {
    "professional-performance": ["Productivity", "Communication", "Creativity", "Reliability"],
    "human-skills": [
        "Adaptability",
        "Accountability",
        "Teamwork",
        "Problem-solving",
        "Self-discipline",
    ],
    "deliverable-quality": [
        "Meets the brief",
        "Technical execution",
        "Documentation",
        "Timeliness",
    ],
}

TEMPLATES = sorted(BUILTIN_TEMPLATES.items())


def test_the_three_templates_with_their_criteria() -> None:
    assert set(BUILTIN_TEMPLATES) == set(EXPECTED_CRITERIA)
    for slug, titles in EXPECTED_CRITERIA.items():
        actual = [criterion.title for criterion in BUILTIN_TEMPLATES[slug].criteria]
        assert len(actual) == len(titles)
        for expected, title in zip(titles, actual, strict=True):
            assert title.startswith(expected)


@pytest.mark.parametrize(("slug", "template"), TEMPLATES)
def test_each_template_is_valid(slug: str, template: Rubric) -> None:
    assert validate_rubric(template) == [], slug


@pytest.mark.parametrize(("slug", "template"), TEMPLATES)
def test_four_levels_best_first_each_with_its_own_descriptor(slug: str, template: Rubric) -> None:
    descriptors: set[str] = set()
    for criterion in template.criteria:
        assert [level.title for level in criterion.levels] == [
            "Exemplary",
            "Proficient",
            "Developing",
            "Beginning",
        ]
        points = [level.points for level in criterion.levels]
        assert points == sorted(points, reverse=True) and len(set(points)) == 4
        assert criterion.description.endswith("?"), (
            "each criterion asks the supervisor one question"
        )
        for level in criterion.levels:
            assert len(level.description) >= 20
            descriptors.add(level.description)
    assert len(descriptors) == 4 * len(template.criteria), f"{slug} repeats a descriptor"


@pytest.mark.parametrize(("slug", "template"), TEMPLATES)
def test_templates_survive_both_export_formats(slug: str, template: Rubric) -> None:
    assert loads(dumps(template)) == template
    imported = from_canvas_csv(to_canvas_csv(template))
    assert [c.title for c in imported.criteria] == [c.title for c in template.criteria]


@pytest.mark.parametrize(("slug", "template"), TEMPLATES)
def test_all_exemplary_is_full_marks(slug: str, template: Rubric) -> None:
    top = [Selection(criterion.id, "exemplary") for criterion in template.criteria]
    result = score(template, top)
    assert result.complete and result.percentage == Decimal(100)


def test_templates_cannot_be_replaced_at_runtime() -> None:
    with pytest.raises(TypeError):
        BUILTIN_TEMPLATES["human-skills"] = BUILTIN_TEMPLATES["deliverable-quality"]  # type: ignore[index]
