"""Playwright driving Debian's Chromium (never a downloaded browser build).

Without /usr/bin/chromium these tests are skipped locally and fail in CI (CI=true), so CI can
never pass by silently skipping them. On failure a screenshot and the page HTML (each frame's)
are saved under $STINT_TEST_ARTIFACTS (default ./test-artifacts).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LiveServer, serve_live

CHROMIUM = os.environ.get("STINT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="module")
def live_server(
    base_config: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[LiveServer]:
    """A live server (and development LMS) per browser test module, not one per worker.

    The journeys change the LMS as a term would (a student joins the course), and the live
    tests outside tests/e2e/ count the demo course's roster: under pytest-xdist they may run
    before or after the journeys on the same worker, so they must not share a development LMS.
    """
    with serve_live(base_config, tmp_path_factory, f"live_{request.path.stem}") as server:
        yield server


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run must install Debian's chromium")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium_browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Open pages in fresh contexts (one person each); all are saved as artifacts on failure.

    ``new_page()`` uses the session's Chromium; ``new_page(browser=other)`` another one (a
    browser launched with different flags); extra keyword arguments go to ``new_context``.
    """
    opened: list[tuple[str, Any]] = []

    def open_page(label: str = "page", browser: Any = None, **context_options: Any) -> Any:
        options = {"viewport": {"width": 1280, "height": 900}, **context_options}
        context = (browser or chromium_browser).new_context(**options)
        page = context.new_page()
        page.set_default_timeout(15000)
        opened.append((label, context))
        return page

    yield open_page
    report = getattr(request.node, "rep_call", None)
    for label, context in opened:
        if report is not None and report.failed:
            for index, each in enumerate(context.pages):
                suffix = label if index == 0 else f"{label}-{index}"
                _save_artifacts(each, f"{request.node.name}-{suffix}")
        context.close()


@pytest.fixture
def page(new_page: Any) -> Any:
    return new_page()


# Where a launch lands once the session has started: a Stint page, not a step of the login
# (the platform-storage login and launch pages show a heading of their own while they work).
LANDED = re.compile(r"/(instructor|student)/")


def launch_in_frame(page: Any, launch_url: str) -> Any:
    """Open a development-LMS launch page and wait until the tool frame shows a Stint page.

    Waiting for any heading in the frame is not enough: "Signing you in…" is a heading too,
    and a test that goes on from there runs before the session cookie exists.
    """
    page.goto(launch_url)
    tool = page.frame(name="tool-frame")
    assert tool is not None, "the development LMS page has no tool frame"
    tool.wait_for_url(LANDED)
    tool.locator("h1").first.wait_for()
    return tool


def _save_artifacts(page: Any, name: str) -> None:
    folder = Path(os.environ.get("STINT_TEST_ARTIFACTS", "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    try:
        page.screenshot(path=str(folder / f"{stem}.png"), full_page=True)
        for index, frame in enumerate(page.frames):
            (folder / f"{stem}.frame{index}.html").write_text(frame.content())
    except Exception as exc:
        (folder / f"{stem}.error.txt").write_text(repr(exc))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]


# --- Accessibility: axe-core from npm (package.json), evaluated in each frame ---------------------
#
# axe's source is handed to the frame through the DevTools protocol (frame.evaluate), which a
# page's Content-Security-Policy does not govern. So the journeys run with Stint's real CSP (no
# bypass_csp) and a CSP violation in any page is caught too (see Journey in test_journeys.py).

REPO_ROOT = Path(__file__).resolve().parents[2]
AXE_SCRIPT = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
# Everything WCAG 2.1 A/AA covers, plus axe's best practices (headings, landmarks) for the report.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
# Moderate findings fail too: the last ones (heading-order under Markdown briefs, two landmarks
# named "Students" on the dashboard) were fixed, so any new one is a regression. Minor ones
# (best-practice hints) are printed at the end of the run.
BLOCKING_IMPACTS = {"moderate", "serious", "critical"}
_minor_findings: dict[tuple[str, str], set[str]] = {}


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_SCRIPT.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{AXE_SCRIPT} is missing: run `npm ci` (make install-test does)")
        pytest.skip("axe-core not installed (npm ci)")
    return AXE_SCRIPT.read_text(encoding="utf-8")


def axe_violations(frame: Any, source: str) -> list[dict[str, Any]]:
    """Run axe in one frame (not its children: each frame is checked on its own)."""
    if not frame.evaluate("() => typeof window.axe === 'object'"):
        frame.evaluate(source)
    return list(
        frame.evaluate(
            """async (tags) => {
                const result = await axe.run(document, {
                    runOnly: {type: 'tag', values: tags},
                    resultTypes: ['violations'],
                    iframes: false,
                });
                return result.violations.map(v => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ')),
                }));
            }""",
            AXE_TAGS,
        )
    )


def unlabelled_controls(frame: Any) -> list[str]:
    """Form controls with no accessible name from a label, aria-label or aria-labelledby.

    Stricter than axe on one point: a <label for=x> whose id x is also used by an earlier element
    labels that element, not the control, and axe does not always notice.
    """
    return list(
        frame.evaluate(
            """() => [...document.querySelectorAll('input, select, textarea')]
                .filter(el => !['hidden', 'submit', 'button', 'reset', 'image'].includes(el.type))
                .filter(el => !(el.labels && el.labels.length)
                              && !el.getAttribute('aria-label')
                              && !(el.getAttribute('aria-labelledby') || '').split(/\\s+/)
                                    .some(id => id && document.getElementById(id)))
                .map(el => `${el.tagName.toLowerCase()}[name=${el.name}]`)"""
        )
    )


_checked: set[tuple[str, str]] = set()

# The page's structure: which elements, classes, roles and states it has, not the words or ids.
_FINGERPRINT = """() => {
    const shapes = new Set();
    for (const el of document.body.querySelectorAll('*')) {
        shapes.add([el.tagName, el.className, el.getAttribute('role'), el.type,
                    el.getAttribute('aria-current'), el.hasAttribute('disabled')].join('|'));
    }
    return [location.pathname, [...shapes].sort().join('\\n')];
}"""


def assert_accessible(frame: Any, source: str, where: str) -> None:
    """No moderate, serious or critical axe violation and a label on every control; record
    the minor ones.

    Every kind of page is checked, each time it shows a structure not seen before on that kind
    (a new flash, badge, table or form). A page of the same kind and structure is not checked
    again: journeys pass the same screens many times, and axe takes a second on a slow machine.
    """
    path, shapes = frame.evaluate(_FINGERPRINT)
    kind = re.sub(r"/(\d+|[A-Za-z0-9_-]{20,})(?=/|$)", "/<id>", str(path))
    key = (kind, hashlib.sha256(str(shapes).encode()).hexdigest())
    if key in _checked:
        return
    violations = axe_violations(frame, source)
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    for violation in violations:
        if violation["impact"] not in BLOCKING_IMPACTS:
            finding = (str(violation["impact"]), f"{violation['id']}: {violation['help']}")
            _minor_findings.setdefault(finding, set()).add(str(path))
    unlabelled = unlabelled_controls(frame)
    problems = [
        f"{v['impact']} {v['id']} ({v['help']}) at {', '.join(v['nodes'])}" for v in blocking
    ] + [f"no label: {name}" for name in unlabelled]
    assert not problems, f"accessibility of {where} ({path}):\n  " + "\n  ".join(problems)
    _checked.add(key)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the minor axe findings: not failures, but worth fixing."""
    if not _minor_findings:
        return
    terminalreporter.section("axe-core: minor findings (not failures)")
    for (impact, rule), paths in sorted(_minor_findings.items()):
        terminalreporter.write_line(f"{impact:9} {rule}")
        for path in sorted(paths)[:6]:
            terminalreporter.write_line(f"          {path}")
