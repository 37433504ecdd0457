"""Stylesheets use logical properties, so a right-to-left catalog needs no CSS change.

``margin-left`` or ``text-align: left`` would stay on the left in Arabic or Hebrew; the inline
forms (``margin-inline-start``, ``text-align: start``, ``inset-inline-start``) follow the
writing direction. tests/e2e/test_languages_in_browser.py checks the result in Chromium.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STYLESHEETS = sorted(
    [
        *(ROOT / "lti_app" / "static").glob("*.css"),
        *(ROOT / "lti_app" / "dev_platform").rglob("*.css"),
    ]
)
PHYSICAL = re.compile(
    r"(?<![-\w])(?:(?:margin|padding|border)-(?:left|right)[\w-]*|left|right)\s*:"
    r"|text-align\s*:\s*(?:left|right)\b"
    r"|float\s*:\s*(?:left|right)\b"
)


def test_there_are_stylesheets_to_check() -> None:
    assert len(STYLESHEETS) >= 3


@pytest.mark.parametrize("path", STYLESHEETS, ids=lambda p: p.name)
def test_no_left_or_right_in_the_stylesheets(path: Path) -> None:
    text = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)
    found = [line.strip() for line in text.splitlines() if PHYSICAL.search(line)]
    assert found == [], f"{path.name}: use logical properties (docs/translating.md): {found}"
