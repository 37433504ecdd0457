"""docs/rubrics.md shows the real schema and examples that actually run."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from rubrics.io import SCHEMA_PATH, from_canvas_csv, loads

DOC = (Path(__file__).resolve().parents[2] / "docs" / "rubrics.md").read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC, flags=re.DOTALL)


def test_the_schema_shown_is_the_schema_shipped() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") in blocks("json")


def test_the_json_example_is_a_valid_file() -> None:
    rubric = loads(blocks("json")[0])
    assert rubric.scoring_mode == "moodle"
    assert rubric.criteria[0].levels[1].points == Decimal(20)


def test_the_canvas_csv_example_imports() -> None:
    rubric = from_canvas_csv(blocks("csv")[0])
    assert [len(criterion.levels) for criterion in rubric.criteria] == [3, 2]


def test_the_worked_example_gives_the_numbers_it_claims() -> None:
    (code,) = blocks("python")
    namespace: dict[str, object] = {}
    exec(code, namespace)
    claims = dict(re.findall(r"^(.*?)\s+# (Decimal\('[\d.]+'\))$", code, flags=re.MULTILINE))
    assert len(claims) == 2
    for expression, shown in claims.items():
        assert repr(eval(expression, namespace)) == shown
