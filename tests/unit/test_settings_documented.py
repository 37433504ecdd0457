"""Every environment variable the code reads is in README's settings table and in docs/deploy.md.

The names are found by reading the code, not from a hand-kept list: a setting added without its
documentation fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READERS = re.compile(
    r"""(?:os\.environ\.get|os\.environ\[|os\.getenv|env_flag|optional_env)\(?\s*["']([A-Z][A-Z0-9_]+)["']"""
)


def variables_read_by_the_code() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "lti_app").rglob("*.py"):
        names.update(READERS.findall(path.read_text()))
    return names


def documented_in(path: Path) -> set[str]:
    return set(re.findall(r"`([A-Z][A-Z0-9_]+)`", path.read_text()))


def test_the_grep_finds_the_settings_it_must():
    found = variables_read_by_the_code()
    # Read in three different ways: os.environ.get, env_flag, optional_env.
    assert {"DATABASE_URL", "STINT_DEV_PLATFORM", "AGS_SENDING_LEASE_SECONDS"} <= found
    assert len(found) >= 30


def test_every_setting_is_in_the_readme_table():
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table))
    assert sorted(variables_read_by_the_code() - documented) == []


def test_every_setting_is_in_the_deployment_guide():
    missing = variables_read_by_the_code() - documented_in(ROOT / "docs" / "deploy.md")
    assert sorted(missing) == []
